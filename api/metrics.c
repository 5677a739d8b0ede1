/* SPDX-License-Identifier: MIT */
/*
 * metrics.c — the command layer's counters and the Prometheus text exposition (metrics.h).
 * Counters are updated under their own mutex by the control plane only (commands, machine
 * events); nothing here runs on a vCPU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "schema.h"

/* Upper bounds (seconds) of the command latency buckets; +Inf is implied. */
static const double cmd_bounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                    0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                    0.5,     1,      2.5,     5,      10};
/* Upper bounds (seconds) of the hot-unplug wait buckets (request to removal). */
static const double unplug_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                       0.5,   1,     2.5,  5,     10,   30,  60};

_Static_assert(ARRAY_SIZE(cmd_bounds) <= API_HIST_MAX_BUCKETS, "cmd_bounds");
_Static_assert(ARRAY_SIZE(unplug_bounds) <= API_HIST_MAX_BUCKETS, "unplug_bounds");

static const char *const result_names[] = {"ok", "GenericError", "CommandNotFound",
                                           "DeviceNotFound"};

int api_metrics_init(struct api_metrics *mt)
{
    size_t n = 0;

    while (api_command_at(n))
        n++;
    pthread_mutex_init(&mt->lock, NULL);
    mt->n_cmd = n + 1;
    mt->cmd = calloc(mt->n_cmd, sizeof(*mt->cmd));
    for (n = 0; api_schema_events[n]; n++)
        ;
    mt->n_events = n;
    mt->events = calloc(n ? n : 1, sizeof(*mt->events));
    return mt->cmd && mt->events ? 0 : -ENOMEM;
}

void api_metrics_fini(struct api_metrics *mt)
{
    free(mt->cmd);
    free(mt->events);
    pthread_mutex_destroy(&mt->lock);
}

static void observe(struct api_histogram *h, const double *bounds, size_t n, double v)
{
    size_t i = 0;

    while (i < n && v > bounds[i])
        i++;
    if (i < n)
        h->bucket[i]++;
    h->count++;
    h->sum += v;
}

void api_metrics_command(struct api *api, size_t idx, enum error_class cls, uint64_t ns)
{
    struct api_metrics *mt = &api->metrics;

    if (idx >= mt->n_cmd || !mt->cmd || (size_t)cls >= ARRAY_SIZE(result_names))
        return;
    pthread_mutex_lock(&mt->lock);
    mt->cmd[idx].result[cls]++;
    observe(&mt->cmd[idx].latency, cmd_bounds, ARRAY_SIZE(cmd_bounds), (double)ns / 1e9);
    pthread_mutex_unlock(&mt->lock);
}

void api_metrics_event(struct api *api, const char *name)
{
    struct api_metrics *mt = &api->metrics;

    for (size_t i = 0; i < mt->n_events; i++) {
        if (streq(api_schema_events[i], name)) {
            pthread_mutex_lock(&mt->lock);
            mt->events[i]++;
            pthread_mutex_unlock(&mt->lock);
            return;
        }
    }
}

void api_metrics_hot_add(struct api *api, uint64_t ns)
{
    pthread_mutex_lock(&api->metrics.lock);
    api->metrics.hot_adds++;
    observe(&api->metrics.add_latency, cmd_bounds, ARRAY_SIZE(cmd_bounds), (double)ns / 1e9);
    pthread_mutex_unlock(&api->metrics.lock);
}

void api_metrics_unplug_request(struct api *api)
{
    pthread_mutex_lock(&api->metrics.lock);
    api->metrics.unplug_requests++;
    pthread_mutex_unlock(&api->metrics.lock);
}

void api_metrics_unplug(struct api *api, uint64_t pending_ns)
{
    pthread_mutex_lock(&api->metrics.lock);
    if (pending_ns) {
        api->metrics.unplugs++;
        observe(&api->metrics.unplug_latency, unplug_bounds, ARRAY_SIZE(unplug_bounds),
                (double)pending_ns / 1e9);
    } else {
        api->metrics.surprise_removals++;
    }
    pthread_mutex_unlock(&api->metrics.lock);
}

void api_metrics_unplug_refused(struct api *api)
{
    pthread_mutex_lock(&api->metrics.lock);
    api->metrics.unplug_refusals++;
    pthread_mutex_unlock(&api->metrics.lock);
}

int api_metrics_add_collector(struct api *api, api_metrics_fn fn, void *opaque)
{
    for (size_t i = 0; i < API_MAX_COLLECTORS; i++) {
        if (!api->metrics.collectors[i].fn) {
            api->metrics.collectors[i].fn = fn;
            api->metrics.collectors[i].opaque = opaque;
            return 0;
        }
    }
    return -ENOSPC;
}

void api_metrics_family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void api_metrics_label(FILE *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', out);
        if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
}

/* One histogram's _bucket/_sum/_count lines; `labels` is "" or `key="value",`. */
static void write_histogram(FILE *out, const char *name, const char *labels,
                            const struct api_histogram *h, const double *bounds, size_t n)
{
    uint64_t cum = 0;
    size_t len = strlen(labels);

    for (size_t i = 0; i < n; i++) {
        cum += h->bucket[i];
        fprintf(out, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, bounds[i],
                (unsigned long long)cum);
    }
    fprintf(out, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, (unsigned long long)h->count);
    /* _sum and _count carry the same labels without the trailing comma. */
    fprintf(out, "%s_sum%s%.*s%s %.9g\n", name, len ? "{" : "", len ? (int)len - 1 : 0, labels,
            len ? "}" : "", h->sum);
    fprintf(out, "%s_count%s%.*s%s %llu\n", name, len ? "{" : "", len ? (int)len - 1 : 0, labels,
            len ? "}" : "", (unsigned long long)h->count);
}

/* Row i of the command table, or the last row (n_cmd - 1) for names that are no command. */
static bool row_listed(const struct api *api, const struct api_metrics *mt, size_t i)
{
    return i + 1 == mt->n_cmd || api_command_listed(api, i);
}

static void write_commands(FILE *out, const struct api *api, const struct api_metrics *mt)
{
    char labels[160];

    api_metrics_family(out, "pcid_commands_total", "counter",
                       "Commands run (QMP, REST, HMP lines count as human-monitor-command), by "
                       "name and result: ok or the QMP error class.");
    for (size_t i = 0; i < mt->n_cmd; i++) {
        const char *name = i + 1 < mt->n_cmd ? api_command_at(i) : "(unknown)";

        if (!row_listed(api, mt, i))
            continue;
        for (size_t k = 0; k < ARRAY_SIZE(result_names); k++)
            fprintf(out, "pcid_commands_total{command=\"%s\",result=\"%s\"} %llu\n", name,
                    result_names[k], (unsigned long long)mt->cmd[i].result[k]);
    }
    api_metrics_family(out, "pcid_command_duration_seconds", "histogram",
                       "Time from a command's arrival in the command layer to its result, "
                       "waiting for the control lock included.");
    for (size_t i = 0; i < mt->n_cmd; i++) {
        if (!row_listed(api, mt, i))
            continue;
        snprintf(labels, sizeof(labels), "command=\"%s\",",
                 i + 1 < mt->n_cmd ? api_command_at(i) : "(unknown)");
        write_histogram(out, "pcid_command_duration_seconds", labels, &mt->cmd[i].latency,
                        cmd_bounds, ARRAY_SIZE(cmd_bounds));
    }
}

static const char *const reject_names[API_REJECT_COUNT] = {
    [API_REJECT_QMP_CLIENTS] = "qmp-clients",
    [API_REJECT_QMP_VALUE_BYTES] = "qmp-value-bytes",
    [API_REJECT_QMP_NESTING] = "qmp-nesting",
    [API_REJECT_QMP_OUTPUT_BYTES] = "qmp-output-bytes",
    [API_REJECT_QMP_VALUE_SECONDS] = "qmp-value-seconds",
    [API_REJECT_REST_BODY_BYTES] = "rest-body-bytes",
    [API_REJECT_DEVICES] = "devices",
    [API_REJECT_BUSES] = "buses",
    [API_REJECT_REST_CLIENTS] = "rest-clients",
    [API_REJECT_REST_REQUEST_SECONDS] = "rest-request-seconds",
    [API_REJECT_REST_IDLE_SECONDS] = "rest-idle-seconds",
};
static unsigned long long rejections[API_REJECT_COUNT]; /* process-wide, relaxed atomics */

void api_metrics_reject(enum api_reject r)
{
    if ((unsigned)r < API_REJECT_COUNT)
        __atomic_fetch_add(&rejections[r], 1, __ATOMIC_RELAXED);
}

unsigned long long api_metrics_rejections(enum api_reject r)
{
    return (unsigned)r < API_REJECT_COUNT ? __atomic_load_n(&rejections[r], __ATOMIC_RELAXED) : 0;
}

static void write_rejections(FILE *out)
{
    api_metrics_family(out, "pcid_limit_rejections_total", "counter",
                       "Requests, values, connections or devices refused by a limit (docs/pcid.8 "
                       "LIMITS), by limit.");
    for (size_t i = 0; i < API_REJECT_COUNT; i++)
        fprintf(out, "pcid_limit_rejections_total{limit=\"%s\"} %llu\n", reject_names[i],
                api_metrics_rejections(i));
}

static void write_hotplug(FILE *out, const struct api_metrics *mt)
{
    api_metrics_family(out, "pcid_hotplug_total", "counter",
                       "Hot-plug operations: add (device added after start), unplug-request "
                       "(device_del accepted), unplug (removal completed after a request), "
                       "unplug-refused (the guest refused), surprise-removal (removed without a "
                       "request).");
    fprintf(out, "pcid_hotplug_total{op=\"add\"} %llu\n", (unsigned long long)mt->hot_adds);
    fprintf(out, "pcid_hotplug_total{op=\"unplug-request\"} %llu\n",
            (unsigned long long)mt->unplug_requests);
    fprintf(out, "pcid_hotplug_total{op=\"unplug\"} %llu\n", (unsigned long long)mt->unplugs);
    fprintf(out, "pcid_hotplug_total{op=\"unplug-refused\"} %llu\n",
            (unsigned long long)mt->unplug_refusals);
    fprintf(out, "pcid_hotplug_total{op=\"surprise-removal\"} %llu\n",
            (unsigned long long)mt->surprise_removals);
    api_metrics_family(out, "pcid_hotplug_add_duration_seconds", "histogram",
                       "Time a hot-add took in pcid: checks, realize, attach, topology publish.");
    write_histogram(out, "pcid_hotplug_add_duration_seconds", "", &mt->add_latency, cmd_bounds,
                    ARRAY_SIZE(cmd_bounds));
    api_metrics_family(out, "pcid_hotplug_unplug_duration_seconds", "histogram",
                       "Time from an accepted device_del to the removal (the guest's eject, or "
                       "a reset).");
    write_histogram(out, "pcid_hotplug_unplug_duration_seconds", "", &mt->unplug_latency,
                    unplug_bounds, ARRAY_SIZE(unplug_bounds));
    api_metrics_family(out, "pcid_events_total", "counter", "Events emitted, by name.");
    for (size_t i = 0; i < mt->n_events; i++)
        fprintf(out, "pcid_events_total{event=\"%s\"} %llu\n", api_schema_events[i],
                (unsigned long long)mt->events[i]);
}

/* The machine's gauges, read under the control lock. */
static void write_machine(FILE *out, struct api *api)
{
    struct machine *m = api->m;

    machine_lock(m);
    api_metrics_family(out, "pcid_bus_functions", "gauge", "PCI functions on each bus.");
    for (unsigned b = 0; b < m->n_buses; b++) {
        const struct pci_bus *bus = m->buses[b];
        unsigned n = 0;

        for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++)
            n += bus->devices[devfn] != NULL;
        fputs("pcid_bus_functions{bus=\"", out);
        api_metrics_label(out, bus->name);
        fprintf(out, "\"} %u\n", n);
    }
    api_metrics_family(out, "pcid_machine_generation", "gauge",
                       "The topology generation (REST ETag): bumped by every add, removal, "
                       "unplug request or refusal.");
    fprintf(out, "pcid_machine_generation %llu\n", (unsigned long long)m->generation);
    machine_unlock(m);
    api_metrics_family(out, "pcid_event_ring_newest_id", "gauge",
                       "Id of the newest event (the REST event stream's ids).");
    fprintf(out, "pcid_event_ring_newest_id %llu\n", (unsigned long long)api_events_last_id(api));
}

char *api_metrics_render(struct api *api)
{
    struct api_metrics *mt = &api->metrics;
    struct api_metrics snap = {.n_cmd = mt->n_cmd, .n_events = mt->n_events};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    if (!out)
        return NULL;
    /* Copy under the lock, format without it. */
    snap.cmd = calloc(mt->n_cmd, sizeof(*snap.cmd));
    snap.events = calloc(mt->n_events ? mt->n_events : 1, sizeof(*snap.events));
    if (snap.cmd && snap.events) {
        pthread_mutex_lock(&mt->lock);
        memcpy(snap.cmd, mt->cmd, mt->n_cmd * sizeof(*snap.cmd));
        memcpy(snap.events, mt->events, mt->n_events * sizeof(*snap.events));
        snap.hot_adds = mt->hot_adds;
        snap.unplug_requests = mt->unplug_requests;
        snap.unplugs = mt->unplugs;
        snap.unplug_refusals = mt->unplug_refusals;
        snap.surprise_removals = mt->surprise_removals;
        snap.add_latency = mt->add_latency;
        snap.unplug_latency = mt->unplug_latency;
        pthread_mutex_unlock(&mt->lock);
        write_commands(out, api, &snap);
        write_hotplug(out, &snap);
        write_rejections(out);
        write_machine(out, api);
        for (size_t i = 0; i < API_MAX_COLLECTORS; i++)
            if (mt->collectors[i].fn)
                mt->collectors[i].fn(mt->collectors[i].opaque, out);
    }
    free(snap.cmd);
    free(snap.events);
    if (fclose(out) != 0 || !snap.cmd || !snap.events) {
        free(buf);
        return NULL;
    }
    return buf;
}
