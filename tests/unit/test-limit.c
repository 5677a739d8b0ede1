/* SPDX-License-Identifier: MIT */
/*
 * test-limit.c — the runtime limits (daemon/limit.c): names, defaults equal to the front doors'
 * constants, range ends accepted, one past either end refused with the value unchanged.
 */
#include <errno.h>
#include <string.h>

#include "daemon/limit.h"
#include "daemon/machine/machine.h"
#include "daemon/monitor/qmp.h"
#include "daemon/rest/rest.h"
#include "tests/unit/unit.h"

struct limit_row {
    const char *name;
    enum limit_id id;
    uint64_t def, min, max;
};

/* clang-format off */
static const struct limit_row limit_rows[] = {
    {"qmp-clients", LIMIT_QMP_CLIENTS, QMP_MAX_CLIENTS, 1, 1024},
    {"qmp-value-bytes", LIMIT_QMP_VALUE_BYTES, QMP_MAX_VALUE, 4096, 64 << 20},
    {"qmp-output-bytes", LIMIT_QMP_OUTPUT_BYTES, QMP_MAX_OUTPUT, 64 << 10, 256 << 20},
    {"qmp-value-seconds", LIMIT_QMP_VALUE_SECONDS, QMP_VALUE_SECONDS, 1, 3600},
    {"rest-body-bytes", LIMIT_REST_BODY_BYTES, REST_MAX_BODY, 4096, 64 << 20},
    {"rest-clients", LIMIT_REST_CLIENTS, REST_MAX_CONNECTIONS, 1, 1024},
    {"rest-request-seconds", LIMIT_REST_REQUEST_SECONDS, REST_REQUEST_TIMEOUT_S, 1, 3600},
    {"rest-idle-seconds", LIMIT_REST_IDLE_SECONDS, REST_IDLE_TIMEOUT_S, 1, 3600},
    {"devices", LIMIT_DEVICES, MACHINE_MAX_DEVICES, 1, 8192},
    {"buses", LIMIT_BUSES, MACHINE_MAX_BUSES, 1, 256},
};
/* clang-format on */

static void test_limit(void **state)
{
    const struct limit_row *r = *state;
    const struct limit_def *d = limit_def(r->id);

    assert_non_null(d);
    assert_string_equal(d->name, r->name);
    assert_int_equal(limit_find(r->name), r->id);
    assert_int_equal(d->def, r->def);
    assert_int_equal(d->min, r->min);
    assert_int_equal(d->max, r->max);
    assert_int_equal(limit_get(r->id), r->def); /* before any set */
    assert_int_equal(limit_set(r->id, r->min), 0);
    assert_int_equal(limit_get(r->id), r->min);
    assert_int_equal(limit_set(r->id, r->max), 0);
    assert_int_equal(limit_get(r->id), r->max);
    assert_int_equal(limit_set(r->id, r->min - 1), -ERANGE);
    assert_int_equal(limit_set(r->id, r->max + 1), -ERANGE);
    assert_int_equal(limit_get(r->id), r->max);
    assert_int_equal(limit_set(r->id, r->def), 0);
}

static void test_unknown(void **state)
{
    (void)state;
    assert_int_equal(limit_find("qmp-client"), -ENOENT);
    assert_int_equal(limit_find(""), -ENOENT);
    assert_null(limit_def(LIMIT_COUNT));
    assert_int_equal(limit_set(LIMIT_COUNT, 1), -EINVAL);
    assert_int_equal(limit_get(LIMIT_COUNT), 0);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } unknown_rows[] = {{"unknown names and ids"}};

    UNIT_ROWS(&s, limit_rows, test_limit);
    UNIT_ROWS(&s, unknown_rows, test_unknown);
    return unit_run(&s, "limit");
}
