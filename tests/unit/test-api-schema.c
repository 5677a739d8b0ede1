/* SPDX-License-Identifier: MIT */
/*
 * test-api-schema.c — the command layer against its schema (api/commands.c, api/schema.h):
 * every handler has a schema entry and the reverse; a test-only command (x-debug-hang) exists,
 * is listed by query-commands, query-qmp-schema and /metrics exactly when the api has
 * debug_commands, and is CommandNotFound otherwise; arguments are checked as the schema says
 * (missing, unexpected, wrong JSON kind, enum value) with QEMU's messages, in schema order, and
 * nothing runs on a refusal; api_call()'s precondition, dry run and outputs.
 */
#include <errno.h>
#include <string.h>

#include "api/commands.h"
#include "api/metrics.h"
#include "api/schema.h"
#include "tests/unit/unit.h"

struct env {
    struct machine *m;
    struct api *api;
};

static void env_free(void *p)
{
    struct env *e = p;

    api_free(e->api);
    machine_free(e->m);
    free(e);
}

static struct env *env_new(struct unit_fix *f)
{
    struct env *e = calloc(1, sizeof(*e));
    struct error err = {0};

    assert_non_null(e);
    assert_int_equal(machine_new("pc", &e->m, &err), 0);
    assert_int_equal(api_new(e->m, NULL, &e->api), 0);
    api_start(e->api);
    return unit_defer(f, env_free, e);
}

static void test_table_matches_schema(void **state)
{
    char why[512];

    (void)state;
    assert_int_equal(api_schema_check(why, sizeof(why)), 0);
    assert_string_equal(why, "");
    for (size_t i = 0; api_command_at(i); i++) {
        const struct api_schema_command *sc = api_schema_command_find(api_command_at(i));

        assert_non_null(sc);
        /* A test-only command ("if" in the schema) is not a command for QMP's early check. */
        assert_true(api_has_command(api_command_at(i)) == !sc->debug);
        if (i)
            assert_true(strcmp(api_command_at(i - 1), api_command_at(i)) < 0); /* sorted */
    }
    assert_null(api_schema_command_find("no-such-command"));
    assert_true(api_schema_has_event("DEVICE_UNPLUG_GUEST_ERROR"));
    assert_false(api_schema_has_event("NOPE"));
    /* device_add is free-form ("gen": false); every other command has a table. */
    assert_null(api_schema_command_find("device_add")->args);
    assert_non_null(api_schema_command_find("device_del")->args);
}

/* The commands an introspection lists, in order. */
static json_t *introspected_commands(const char *text)
{
    json_error_t jerr;
    json_t *s = json_loads(text, 0, &jerr), *names = json_array(), *e;
    size_t i;

    assert_non_null(s);
    json_array_foreach(s, i, e)
    {
        const char *meta = json_string_value(json_object_get(e, "meta-type"));

        assert_non_null(meta);
        if (streq(meta, "command"))
            json_array_append(names, json_object_get(e, "name"));
    }
    json_decref(s);
    return names;
}

static void test_introspection_parses(void **state)
{
    json_t *plain = introspected_commands(api_schema_introspection);
    json_t *debug = introspected_commands(api_schema_introspection_debug);
    size_t i, rows = 0, test_only = 0;
    json_t *e;

    (void)state;
    json_array_foreach(plain, i, e)
    {
        const struct api_schema_command *sc = api_schema_command_find(json_string_value(e));

        assert_non_null(sc);
        assert_false(sc->debug);
        assert_true(api_has_command(json_string_value(e)));
    }
    json_array_foreach(debug, i, e) assert_non_null(api_schema_command_find(json_string_value(e)));
    while (api_command_at(rows))
        test_only += api_schema_command_find(api_command_at(rows++))->debug;
    assert_true(test_only > 0); /* x-debug-hang */
    assert_int_equal(json_array_size(plain), rows - test_only);
    assert_int_equal(json_array_size(debug), rows);
    json_decref(plain);
    json_decref(debug);
}

/* What a daemon with and without $PCID_DEBUG_COMMANDS=1 says of its test-only commands. */
struct debug_row {
    const char *name;
    bool debug_commands;
};

static const struct debug_row debug_rows[] = {{"off", false}, {"on", true}};

static bool listed(json_t *list, const char *key, const char *name)
{
    size_t i;
    json_t *e;

    json_array_foreach(list, i, e)
    {
        const char *n = json_string_value(json_object_get(e, key));

        if (n && streq(n, name) &&
            (!json_object_get(e, "meta-type") ||
             streq(json_string_value(json_object_get(e, "meta-type")), "command")))
            return true;
    }
    return false;
}

static void test_debug_commands(void **state)
{
    struct unit_fix *f = *state;
    const struct debug_row *r = f->row;
    struct env *e = calloc(1, sizeof(*e));
    json_t *cmds = NULL, *schema = NULL, *ret = NULL, *plain;
    struct error err = {0};
    char *metrics;
    size_t i;
    json_t *c;

    assert_non_null(e);
    unit_defer(f, env_free, e);
    assert_int_equal(machine_new("pc", &e->m, &err), 0);
    assert_int_equal(
        api_new(e->m, &(struct api_options){.debug_commands = r->debug_commands}, &e->api), 0);
    api_start(e->api);
    assert_int_equal(api_execute(e->api, "query-commands", NULL, &cmds, &err), 0);
    assert_int_equal(api_execute(e->api, "query-qmp-schema", NULL, &schema, &err), 0);
    /* query-commands and query-qmp-schema list the same commands, test-only ones when on. */
    assert_true(listed(cmds, "name", "x-debug-hang") == r->debug_commands);
    json_array_foreach(cmds, i, c)
        assert_true(listed(schema, "name", json_string_value(json_object_get(c, "name"))));
    plain = introspected_commands(api_schema_introspection);
    assert_int_equal(json_array_size(plain) + (r->debug_commands ? 1 : 0), json_array_size(cmds));
    json_decref(plain);
    metrics = api_metrics_render(e->api);
    assert_non_null(metrics);
    assert_true((strstr(metrics, "command=\"x-debug-hang\"") != NULL) == r->debug_commands);
    free(metrics);
    if (!r->debug_commands) { /* off: not there at all, as for QMP's CommandNotFound */
        assert_int_equal(api_execute(e->api, "x-debug-hang", NULL, &ret, &err), -EINVAL);
        assert_int_equal(err.cls, ERROR_CLASS_COMMAND_NOT_FOUND);
        assert_string_equal(err.desc, "The command x-debug-hang has not been found");
        assert_null(ret);
    }
    json_decref(cmds);
    json_decref(schema);
}

struct arg_row {
    const char *name;
    const char *cmd;
    const char *args; /* JSON */
    int ret;
    const char *desc; /* expected error text, NULL on success */
};

/* clang-format off */
static const struct arg_row arg_rows[] = {
    {"missing required", "device_del", "{}", -EINVAL, "Parameter 'id' is missing"},
    {"wrong kind string", "device_del", "{\"id\": 1}", -EINVAL,
     "Invalid parameter type for 'id', expected: string"},
    {"wrong kind integer", "human-monitor-command",
     "{\"command-line\": \"info pci\", \"cpu-index\": \"0\"}", -EINVAL,
     "Invalid parameter type for 'cpu-index', expected: integer"},
    {"wrong kind boolean", "query-named-block-nodes", "{\"flat\": 1}", -EINVAL,
     "Invalid parameter type for 'flat', expected: boolean"},
    {"unexpected", "query-pci", "{\"x\": 1}", -EINVAL, "Parameter 'x' is unexpected"},
    {"missing before unexpected", "device-list-properties", "{\"x\": 1}", -EINVAL,
     "Parameter 'typename' is missing"},
    {"enum value", "blockdev-add", "{\"driver\": \"qcow2\", \"node-name\": \"a\"}", -EINVAL,
     "Parameter 'driver' does not accept value 'qcow2'"},
    {"union member type", "blockdev-add",
     "{\"driver\": \"null-co\", \"node-name\": \"a\", \"size\": \"1\"}", -EINVAL,
     "Invalid parameter type for 'size', expected: integer"},
    {"union members accepted", "blockdev-add",
     "{\"driver\": \"null-co\", \"node-name\": \"a\", \"size\": 4096, \"read-zeroes\": true}", 0,
     NULL},
    {"arguments not an object", "query-pci", "[]", -EINVAL,
     "QMP input member 'arguments' must be an object"},
    {"free-form device_add", "device_add", "{\"driver\": \"e1000\", \"mac\": \"52:54:00:12:34:56\"}",
     0, NULL},
    {"unknown command", "nope", "{}", -EINVAL, "The command nope has not been found"},
};
/* clang-format on */

static void test_args(void **state)
{
    struct unit_fix *f = *state;
    const struct arg_row *r = f->row;
    struct env *e = env_new(f);
    json_t *args = json_loads(r->args, JSON_DECODE_ANY, NULL), *ret = NULL;
    struct error err = {0};
    uint64_t gen = e->m->generation;
    int rc;

    assert_non_null(args);
    rc = api_execute(e->api, r->cmd, args, &ret, &err);
    json_decref(args);
    assert_int_equal(rc, r->ret);
    if (r->desc) {
        assert_string_equal(err.desc, r->desc);
        assert_null(ret);
        assert_int_equal(e->m->generation, gen); /* nothing ran */
    } else {
        assert_non_null(ret);
    }
    json_decref(ret);
}

static bool only_generation(void *opaque, uint64_t generation)
{
    return generation == *(uint64_t *)opaque;
}

static void test_call(void **state)
{
    struct unit_fix *f = *state;
    struct env *e = env_new(f);
    json_t *args = json_pack("{s:s,s:s}", "driver", "e1000", "id", "n1"), *ret = NULL;
    uint64_t want = e->m->generation + 5;
    struct api_call call = {.precondition = only_generation, .precondition_opaque = &want};
    struct error err = {0};

    /* A failed precondition: -ESTALE, nothing added, the current generation reported. */
    assert_int_equal(api_call(e->api, "device_add", args, &call, &ret, &err), -ESTALE);
    assert_null(ret);
    assert_null(machine_find_device(e->m, "n1"));
    assert_int_equal(call.generation, e->m->generation);
    /* A dry run: the address, no change. */
    want = e->m->generation;
    call = (struct api_call){
        .precondition = only_generation, .precondition_opaque = &want, .dry_run = true};
    assert_int_equal(api_call(e->api, "device_add", args, &call, &ret, &err), 0);
    json_decref(ret);
    assert_string_equal(call.bdf, "0000:00:02.0");
    assert_null(machine_find_device(e->m, "n1"));
    assert_int_equal(call.generation, want);
    /* The real thing. */
    call = (struct api_call){0};
    assert_int_equal(api_call(e->api, "device_add", args, &call, &ret, &err), 0);
    json_decref(ret);
    assert_string_equal(call.bdf, "0000:00:02.0");
    assert_non_null(machine_find_device(e->m, "n1"));
    assert_int_equal(call.generation, want + 1);
    assert_int_equal(call.event_seq, 0); /* no event before it */
    json_decref(args);
    /* device_del reports the path it asked the guest to remove. */
    args = json_pack("{s:s}", "id", "n1");
    call = (struct api_call){0};
    assert_int_equal(api_call(e->api, "device_del", args, &call, &ret, &err), 0);
    json_decref(ret);
    json_decref(args);
    assert_string_equal(call.path, "/machine/peripheral/n1");
    assert_int_equal(call.event_seq, 1); /* PCI_DEVICE_ADDED came before */
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"once"}};

    UNIT_ROWS(&s, one, test_table_matches_schema);
    UNIT_ROWS(&s, one, test_introspection_parses);
    UNIT_ROWS_FIX(&s, debug_rows, test_debug_commands);
    UNIT_ROWS_FIX(&s, arg_rows, test_args);
    UNIT_ROWS_FIX(&s, one, test_call);
    return unit_run(&s, "api-schema");
}
