/* SPDX-License-Identifier: MIT */
/*
 * metrics.h — pcid's metrics in Prometheus' text exposition format (version 0.0.4), served at
 * GET /metrics.
 *
 * The command layer counts what passes through it: commands by name and result (ok or the QMP
 * error class), command latency histograms, hot-plugs and unplugs with their durations, events
 * by name; at scrape time it adds the machine's gauges (functions per bus, generation). Other
 * layers register collectors that write their own families when scraped: the vCPU layer sums
 * its per-vCPU access counters there, so nothing is added to the guest access path.
 *
 * Adding a metric: write its family (api_metrics_family()) and samples in a collector, or in
 * api_metrics_render() for the command layer's own. A new command or event is counted
 * automatically (by its name in the schema).
 *
 * Threads: api_metrics_render() from any thread (takes the control lock briefly for the
 * machine's gauges; never call it holding that lock); collectors run on the scraping thread.
 */
#ifndef PCID_API_METRICS_H
#define PCID_API_METRICS_H

#include <stdio.h>

struct api;

/* A limit whose rejections are counted in pcid_limit_rejections_total{limit=NAME}. */
enum api_reject {
    API_REJECT_QMP_CLIENTS,          /* "qmp-clients": a QMP connection closed at accept */
    API_REJECT_QMP_VALUE_BYTES,      /* "qmp-value-bytes": a QMP value over the size limit */
    API_REJECT_QMP_NESTING,          /* "qmp-nesting": a QMP value nested too deep */
    API_REJECT_QMP_OUTPUT_BYTES,     /* "qmp-output-bytes": a QMP client dropped, output full */
    API_REJECT_QMP_VALUE_SECONDS,    /* "qmp-value-seconds": a QMP client dropped, value too slow */
    API_REJECT_REST_BODY_BYTES,      /* "rest-body-bytes": a REST body refused with 413 */
    API_REJECT_DEVICES,              /* "devices": device_add past MACHINE_MAX_DEVICES */
    API_REJECT_BUSES,                /* "buses": a bridge past MACHINE_MAX_BUSES */
    API_REJECT_REST_CLIENTS,         /* "rest-clients": a REST connection closed at accept */
    API_REJECT_REST_REQUEST_SECONDS, /* "rest-request-seconds": a REST request too slow */
    API_REJECT_REST_IDLE_SECONDS,    /* "rest-idle-seconds": a REST connection idle too long */
    API_REJECT_COUNT
};

/* api_metrics_reject() - count one rejection by limit `r`. Any thread (a relaxed atomic). */
void api_metrics_reject(enum api_reject r);

/* api_metrics_rejections() - the rejections counted for `r` so far (0 for a bad `r`). */
unsigned long long api_metrics_rejections(enum api_reject r);

/* Writes one or more complete metric families to `out`. */
typedef void (*api_metrics_fn)(void *opaque, FILE *out);

/*
 * api_metrics_add_collector() - call fn(opaque, out) on every scrape. Register before any
 * server runs. Returns 0 or -ENOSPC (API_MAX_COLLECTORS, 8).
 */
int api_metrics_add_collector(struct api *api, api_metrics_fn fn, void *opaque);

/* api_metrics_render() - the whole exposition as a malloc'd string, or NULL (no memory). */
char *api_metrics_render(struct api *api);

/* api_metrics_family() - "# HELP name help" and "# TYPE name type" lines. */
void api_metrics_family(FILE *out, const char *name, const char *type, const char *help);

/*
 * api_metrics_label() - write `value` as the body of a quoted Prometheus label value
 * (backslash, double quote and newline escaped).
 */
void api_metrics_label(FILE *out, const char *value);

#endif
