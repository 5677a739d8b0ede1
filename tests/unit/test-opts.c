/* SPDX-License-Identifier: MIT */
/*
 * test-opts.c — QEMU's option syntax (daemon/util/opts.c): implied key, ",," escapes, flags
 * ("foo" = on, "nofoo" = off), values holding '=', empty specs, and the callback's error
 * stopping the parse.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/util/opts.h"
#include "tests/unit/unit.h"

#define MAX_PAIRS 8

struct recorder {
    char *pairs[MAX_PAIRS]; /* "key=value" */
    int n;
    int fail_at; /* call index that returns fail_ret, -1 = never */
    int fail_ret;
};

static int record(void *opaque, const char *key, const char *value)
{
    struct recorder *rec = opaque;
    int idx = rec->n;

    assert_non_null(key);
    assert_non_null(value);
    assert_true(rec->n < MAX_PAIRS);
    assert_true(asprintf(&rec->pairs[rec->n], "%s=%s", key, value) >= 0);
    rec->n++;
    return idx == rec->fail_at ? rec->fail_ret : 0;
}

static void recorder_free(void *p)
{
    struct recorder *rec = p;

    for (int i = 0; i < rec->n; i++)
        free(rec->pairs[i]);
    free(rec);
}

struct opts_row {
    const char *name;
    const char *spec;
    const char *implied;
    int fail_at, fail_ret;
    int ret;
    const char *pairs[MAX_PAIRS]; /* expected calls in order, NULL ends */
};

/* clang-format off */
static const struct opts_row opts_rows[] = {
    {"implied key", "e1000,id=n1", "driver", -1, 0, 0, {"driver=e1000", "id=n1"}},
    {"implied key given explicitly", "driver=e1000,id=n1", "driver", -1, 0, 0,
     {"driver=e1000", "id=n1"}},
    {"implied key only applies first", "id=n1,e1000", "driver", -1, 0, 0, {"id=n1", "e1000=on"}},
    {"implied key alone", "virtio-net-pci", "driver", -1, 0, 0, {"driver=virtio-net-pci"}},
    {"implied value is not a flag", "nofoo", "driver", -1, 0, 0, {"driver=nofoo"}},
    {"without an implied key the first is a flag", "e1000,id=n1", NULL, -1, 0, 0,
     {"e1000=on", "id=n1"}},
    {"many keys in order", "a=1,b=2,c=3", NULL, -1, 0, 0, {"a=1", "b=2", "c=3"}},
    {",, is a literal comma", "id=a,,b,romfile=x", NULL, -1, 0, 0, {"id=a,b", "romfile=x"}},
    {",, at the end of a value", "id=a,,", NULL, -1, 0, 0, {"id=a,"}},
    {",,, then a key", "a=1,,,b=2", NULL, -1, 0, 0, {"a=1,", "b=2"}},
    {",,,, is two commas", "a=x,,,,y", NULL, -1, 0, 0, {"a=x,,y"}},
    {",, in the implied value", "a,,b,id=x", "driver", -1, 0, 0, {"driver=a,b", "id=x"}},
    {",, after a key that looks implied", "a=1,,b", "driver", -1, 0, 0, {"a=1,b"}},
    {"flag means on", "e1000,multifunction", "driver", -1, 0, 0,
     {"driver=e1000", "multifunction=on"}},
    {"no-prefixed flag means off", "e1000,nomultifunction", "driver", -1, 0, 0,
     {"driver=e1000", "multifunction=off"}},
    {"no alone is a flag named no", "e1000,no", "driver", -1, 0, 0, {"driver=e1000", "no=on"}},
    {"no= is a key named no", "no=1", NULL, -1, 0, 0, {"no=1"}},
    {"value holding =", "id=a=b", NULL, -1, 0, 0, {"id=a=b"}},
    {"value holding == and a comma", "x==,,=", NULL, -1, 0, 0, {"x==,="}},
    {"empty value", "id=", NULL, -1, 0, 0, {"id="}},
    {"empty value then a key", "id=,a=1", NULL, -1, 0, 0, {"id=", "a=1"}},
    {"blanks are kept", "id= a b ", NULL, -1, 0, 0, {"id= a b "}},
    {"trailing comma ignored", "a=1,", NULL, -1, 0, 0, {"a=1"}},
    {"empty spec", "", "driver", -1, 0, 0, {NULL}},
    {"empty spec without an implied key", "", NULL, -1, 0, 0, {NULL}},
    {"callback error stops the parse", "a=1,b=2,c=3", NULL, 1, -EPERM, -EPERM, {"a=1", "b=2"}},
    {"callback error on the first", "e1000,id=x", "driver", 0, -EINVAL, -EINVAL,
     {"driver=e1000"}},
    {"callback error on the last", "a=1,b=2", NULL, 1, -ENOENT, -ENOENT, {"a=1", "b=2"}},
};
/* clang-format on */

static void test_opts(void **state)
{
    struct unit_fix *f = *state;
    const struct opts_row *r = f->row;
    struct recorder *rec = calloc(1, sizeof(*rec));
    int n = 0;

    assert_non_null(rec);
    unit_defer(f, recorder_free, rec);
    rec->fail_at = r->fail_at;
    rec->fail_ret = r->fail_ret;
    assert_int_equal(opts_parse(r->spec, r->implied, record, rec), r->ret);
    while (n < MAX_PAIRS && r->pairs[n])
        n++;
    for (int i = 0; i < rec->n && i < n; i++)
        assert_string_equal(rec->pairs[i], r->pairs[i]);
    assert_int_equal(rec->n, n);
}

static void test_null_spec(void **state)
{
    struct unit_fix *f = *state;
    struct recorder *rec = calloc(1, sizeof(*rec));

    assert_non_null(rec);
    unit_defer(f, recorder_free, rec);
    rec->fail_at = -1;
    assert_int_equal(opts_parse(NULL, "driver", record, rec), 0);
    assert_int_equal(rec->n, 0);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } null_rows[] = {{"NULL spec calls nothing"}};

    UNIT_ROWS_FIX(&s, opts_rows, test_opts);
    UNIT_ROWS_FIX(&s, null_rows, test_null_spec);
    return unit_run(&s, "opts");
}
