/* SPDX-License-Identifier: MIT */
/*
 * test-api-metrics.c — the command layer's metrics (api/metrics.c): each line of the
 * exposition that commands, hot-plugs and events move, histogram buckets (cumulative, +Inf
 * equal to the count), label escaping, and collectors.
 */
#include <errno.h>
#include <string.h>

#include "api/commands.h"
#include "api/metrics.h"
#include "tests/unit/unit.h"

struct env {
    struct machine *m;
    struct api *api;
    char *text;
};

static void env_free(void *p)
{
    struct env *e = p;

    free(e->text);
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

static void run(struct env *e, const char *cmd, const char *args_json)
{
    json_t *args = args_json ? json_loads(args_json, 0, NULL) : NULL, *ret = NULL;
    struct error err = {0};

    api_execute(e->api, cmd, args, &ret, &err);
    json_decref(args);
    json_decref(ret);
}

static void render(struct env *e)
{
    free(e->text);
    e->text = api_metrics_render(e->api);
    assert_non_null(e->text);
}

/* The exposition has `line` as a whole line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

struct line_row {
    const char *name;
    const char *line;
};

/* After the script in test_lines. */
/* clang-format off */
static const struct line_row line_rows[] = {
    {"ok count", "pcid_commands_total{command=\"device_add\",result=\"ok\"} 1"},
    {"error by class", "pcid_commands_total{command=\"device_add\",result=\"GenericError\"} 1"},
    {"DeviceNotFound", "pcid_commands_total{command=\"device_del\",result=\"DeviceNotFound\"} 1"},
    {"unknown command", "pcid_commands_total{command=\"(unknown)\",result=\"CommandNotFound\"} 1"},
    {"untouched command at 0", "pcid_commands_total{command=\"query-pci\",result=\"ok\"} 0"},
    {"latency count", "pcid_command_duration_seconds_count{command=\"device_add\"} 2"},
    {"+Inf bucket", "pcid_command_duration_seconds_bucket{command=\"device_add\",le=\"+Inf\"} 2"},
    {"hot add", "pcid_hotplug_total{op=\"add\"} 1"},
    {"unplug request", "pcid_hotplug_total{op=\"unplug-request\"} 1"},
    {"unplug done", "pcid_hotplug_total{op=\"unplug\"} 1"},
    {"no refusal", "pcid_hotplug_total{op=\"unplug-refused\"} 0"},
    {"unplug duration", "pcid_hotplug_unplug_duration_seconds_count 1"},
    {"events", "pcid_events_total{event=\"DEVICE_DELETED\"} 1"},
    {"events reset", "pcid_events_total{event=\"RESET\"} 1"},
    {"bus gauge", "pcid_bus_functions{bus=\"pci.0\"} 4"},
    {"generation", "pcid_machine_generation 3"},
    {"ring", "pcid_event_ring_newest_id 3"},
    {"family", "# TYPE pcid_command_duration_seconds histogram"},
    {"collector", "# TYPE test_gauge gauge"},
    {"collector sample", "test_gauge{v=\"a\\\\b\\\"c\\nd\"} 1"},
};
/* clang-format on */

static void collector(void *opaque, FILE *out)
{
    (void)opaque;
    api_metrics_family(out, "test_gauge", "gauge", "A collector's family.");
    fputs("test_gauge{v=\"", out);
    api_metrics_label(out, "a\\b\"c\nd");
    fputs("\"} 1\n", out);
}

static void test_lines(void **state)
{
    struct unit_fix *f = *state;
    const struct line_row *r = f->row;
    struct env *e = env_new(f);

    assert_int_equal(api_metrics_add_collector(e->api, collector, NULL), 0);
    run(e, "device_add", "{\"driver\": \"e1000\", \"id\": \"a\"}");
    run(e, "device_add", "{\"driver\": \"e1000\", \"id\": \"a\"}");
    run(e, "device_del", "{\"id\": \"nosuch\"}");
    run(e, "no-such-command", NULL);
    run(e, "device_del", "{\"id\": \"a\"}");
    run(e, "system_reset", NULL);
    render(e);
    if (!has_line(e->text, r->line))
        fail_msg("missing line: %s", r->line);
}

static void test_buckets_cumulative(void **state)
{
    struct unit_fix *f = *state;
    struct env *e = env_new(f);
    unsigned long long prev = 0, v;
    const char *p;
    int buckets = 0;

    for (int i = 0; i < 50; i++)
        run(e, "query-pci", NULL);
    render(e);
    for (p = e->text;
         (p = strstr(p, "pcid_command_duration_seconds_bucket{command=\"query-pci\",")); p++) {
        assert_int_equal(sscanf(strchr(p, '}') + 1, " %llu", &v), 1);
        assert_true(v >= prev);
        prev = v;
        buckets++;
    }
    assert_int_equal(prev, 50);
    assert_true(buckets >= 10);
    /* Exactly one HELP per family. */
    assert_non_null(strstr(e->text, "# HELP pcid_commands_total "));
    assert_null(
        strstr(strstr(e->text, "# HELP pcid_commands_total ") + 1, "# HELP pcid_commands_total "));
}

static void test_collector_limit(void **state)
{
    struct unit_fix *f = *state;
    struct env *e = env_new(f);

    for (int i = 0; i < 8; i++)
        assert_int_equal(api_metrics_add_collector(e->api, collector, NULL), 0);
    assert_int_equal(api_metrics_add_collector(e->api, collector, NULL), -ENOSPC);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"once"}};

    UNIT_ROWS_FIX(&s, line_rows, test_lines);
    UNIT_ROWS_FIX(&s, one, test_buckets_cumulative);
    UNIT_ROWS_FIX(&s, one, test_collector_limit);
    return unit_run(&s, "api-metrics");
}
