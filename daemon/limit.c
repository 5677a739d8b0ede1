/* SPDX-License-Identifier: MIT */
#include "limit.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "machine/machine.h"
#include "monitor/qmp.h"
#include "rest/rest.h"
#include "util/util.h"

#define KiB 1024ULL
#define MiB (1024ULL * 1024)

static const struct limit_def defs[LIMIT_COUNT] = {
    [LIMIT_QMP_CLIENTS] = {"qmp-clients", QMP_MAX_CLIENTS, 1, 1024},
    [LIMIT_QMP_VALUE_BYTES] = {"qmp-value-bytes", QMP_MAX_VALUE, 4 * KiB, 64 * MiB},
    [LIMIT_QMP_OUTPUT_BYTES] = {"qmp-output-bytes", QMP_MAX_OUTPUT, 64 * KiB, 256 * MiB},
    [LIMIT_QMP_VALUE_SECONDS] = {"qmp-value-seconds", QMP_VALUE_SECONDS, 1, 3600},
    [LIMIT_REST_BODY_BYTES] = {"rest-body-bytes", REST_MAX_BODY, 4 * KiB, 64 * MiB},
    [LIMIT_REST_CLIENTS] = {"rest-clients", REST_MAX_CONNECTIONS, 1, REST_MAX_CONNECTIONS_CAP},
    [LIMIT_REST_REQUEST_SECONDS] = {"rest-request-seconds", REST_REQUEST_TIMEOUT_S, 1, 3600},
    [LIMIT_REST_IDLE_SECONDS] = {"rest-idle-seconds", REST_IDLE_TIMEOUT_S, 1, 3600},
    [LIMIT_DEVICES] = {"devices", MACHINE_MAX_DEVICES, 1, MACHINE_MAX_DEVICES},
    [LIMIT_BUSES] = {"buses", MACHINE_MAX_BUSES, 1, MACHINE_MAX_BUSES},
};

/* 0 until set: the default (every minimum is at least 1). */
static _Atomic uint64_t values[LIMIT_COUNT];

const struct limit_def *limit_def(enum limit_id id)
{
    return (unsigned)id < LIMIT_COUNT ? &defs[id] : NULL;
}

int limit_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(defs); i++)
        if (strcmp(defs[i].name, name) == 0)
            return (int)i;
    return -ENOENT;
}

uint64_t limit_get(enum limit_id id)
{
    if ((unsigned)id >= LIMIT_COUNT)
        return 0;
    uint64_t v = atomic_load_explicit(&values[id], memory_order_relaxed);

    return v ? v : defs[id].def;
}

int limit_set(enum limit_id id, uint64_t value)
{
    if ((unsigned)id >= LIMIT_COUNT)
        return -EINVAL;
    if (value < defs[id].min || value > defs[id].max)
        return -ERANGE;
    atomic_store_explicit(&values[id], value, memory_order_relaxed);
    return 0;
}
