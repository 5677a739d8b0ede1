/* SPDX-License-Identifier: MIT */
/*
 * internal.h — what the files of the command layer share: the api structure, the handler
 * signature, the event ring and the metric counters. Not for the front doors (they use
 * commands.h and metrics.h).
 *
 * Handlers run with the machine's control lock held, fill *ret with a new reference on
 * success, and return 0 or -errno with `err` set. A handler may read api->call (the current
 * api_call()'s details; NULL when the command came without them, e.g. from QMP).
 */
#ifndef PCID_API_INTERNAL_H
#define PCID_API_INTERNAL_H

#include <pthread.h>
#include <stdio.h>

#include "commands.h"
#include "metrics.h"
#include "query_cache.h"

#define API_MAX_LISTENERS  16
#define API_MAX_COLLECTORS 8

/* Histogram with fixed bucket bounds (seconds). */
#define API_HIST_MAX_BUCKETS 20
struct api_histogram {
    uint64_t bucket[API_HIST_MAX_BUCKETS]; /* non-cumulative counts per bound */
    uint64_t count;
    double sum; /* seconds */
};

/* Per-command counters: results by QMP error class (0 = ok) and the latency histogram. */
struct api_cmd_metrics {
    uint64_t result[ERROR_CLASS_DEVICE_NOT_FOUND + 1];
    struct api_histogram latency;
};

struct api_metrics {
    pthread_mutex_t lock;
    struct api_cmd_metrics *cmd; /* one per table command, then one for unknown names */
    size_t n_cmd;
    uint64_t *events; /* per schema event, emitted */
    size_t n_events;
    uint64_t hot_adds, unplug_requests, unplugs, unplug_refusals, surprise_removals;
    struct api_histogram add_latency, unplug_latency;
    struct {
        api_metrics_fn fn;
        void *opaque;
    } collectors[API_MAX_COLLECTORS];
};

struct api_events {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    struct api_event_rec ring[API_EVENT_RING];
    uint64_t next; /* id of the next event */
};

struct api {
    struct machine *m;
    struct api_options opts;
    pthread_mutex_t listeners_lock;
    struct {
        api_event_fn fn;
        void *opaque;
    } listeners[API_MAX_LISTENERS];
    pthread_mutex_t stats_lock;
    struct api_stats stats;
    struct api_call *call; /* under the control lock: the running api_call()'s details */
    struct api_events events;
    struct api_metrics metrics;
    /* Under the control lock: serialized query-pci answers (one per json_dumps flags a front
     * door uses: QMP's and REST's), "info pci" serialized as human-monitor-command's value,
     * and the key buffer they are checked with. */
    struct query_cache query_pci[2];
    struct query_cache info_pci;
    struct sbuf query_key;
    char *state_dir;     /* where snapshots live; NULL: pcid runs without a state directory */
    uint64_t started_ns; /* CLOCK_MONOTONIC when the guest started running, 0 = paused */
};

/* api_virtual_ms() - QEMU's QEMU_CLOCK_VIRTUAL in ms: time the guest has run (0 while
 * paused, as QEMU started with -S). */
uint64_t api_virtual_ms(const struct api *api);

typedef int (*api_handler_fn)(struct api *api, json_t *args, json_t **ret, struct error *err);
/* A handler that writes its value serialized with json_dumps `flags` (a malloc'd string). */
typedef int (*api_text_fn)(struct api *api, json_t *args, size_t flags, char **text,
                           struct error *err);

/* device.c */
int api_cmd_device_add(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_device_del(struct api *api, json_t *args, json_t **ret, struct error *err);
/* Resolve a device_del id or QOM path the way QEMU does; NULL with `err` set. */
struct machine_dev *api_resolve_device(struct api *api, const char *id, struct error *err);

/* query.c */
int api_cmd_query_pci(struct api *api, json_t *args, json_t **ret, struct error *err);
/* human-monitor-command serialized; "info pci" from api->info_pci while the machine matches. */
int api_text_hmp(struct api *api, json_t *args, size_t flags, char **text, struct error *err);
/* query-pci serialized, from api->query_pci when the machine still matches its key. */
int api_text_query_pci(struct api *api, json_t *args, size_t flags, char **text, struct error *err);
int api_cmd_query_pci_slots(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_buses(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_caps(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_devices(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_config(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_machine(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_blockdev_add(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_blockdev_del(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_block_nodes(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_device_list_properties(struct api *api, json_t *args, json_t **ret, struct error *err);
/* Find a device by "id" or "bdf" argument (query-pci-capabilities and friends). */
struct machine_dev *api_find_by_id_or_bdf(struct api *api, json_t *args, struct error *err);

/* state.c: machine description and device-state snapshots */
int api_cmd_query_machine_description(struct api *api, json_t *args, json_t **ret,
                                      struct error *err);
int api_cmd_state_save(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_state_load(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_state_snapshots(struct api *api, json_t *args, json_t **ret, struct error *err);

/*
 * api_persist() - save the machine description if a command changed it (machine_persist);
 * on failure `err` says the change was made but not saved. Control lock held. Returns 0 or
 * -errno.
 */
int api_persist(struct api *api, struct error *err);

/* hmp.c */
int api_cmd_hmp(struct api *api, json_t *args, json_t **ret, struct error *err);

/* events.c: the ring (init/fini) and appending an emitted event (any thread). */
void api_events_init(struct api_events *ev);
void api_events_fini(struct api_events *ev);
void api_events_append(struct api *api, const char *name, json_t *event);

/* metrics.c: counters, updated off the vCPU path (commands, hotplug, events). */
int api_metrics_init(struct api_metrics *mt);
void api_metrics_fini(struct api_metrics *mt);
/* A command finished: `idx` its table index (or the table size for an unknown name). */
void api_metrics_command(struct api *api, size_t idx, enum error_class cls, uint64_t ns);
void api_metrics_event(struct api *api, const char *name);
void api_metrics_hot_add(struct api *api, uint64_t ns);
void api_metrics_unplug_request(struct api *api);
/* A device left: after `pending_ns` of waiting for the guest, or 0 when nobody asked. */
void api_metrics_unplug(struct api *api, uint64_t pending_ns);
void api_metrics_unplug_refused(struct api *api);

/*
 * api_fit() - device_add's resource check (place.c) of realized `d` for `devfn` on `bus`:
 * skipped for a cold plug and without a guest (the report says why), else
 * machine_fit_check(). A BAR that does not fit refuses the add (-EBUSY, the BAR, its size and
 * the window in `err`) unless `allow_unassigned`. On success *report is the "resources" reply
 * member. Returns 0, -EBUSY or -ENOMEM.
 */
int api_fit(struct api *api, const struct pci_bus *bus, uint8_t devfn, const struct pci_device *d,
            const char *driver, bool hotplug, bool allow_unassigned, json_t **report,
            struct error *err);

/*
 * api_prefer_own_irq() - "prefer": "own-irq": the lowest free slot of `bus` (function 0 free,
 * hot-pluggable when `hotplug`) whose PIRQ line for `d`'s INTx pin no present function outside
 * that slot drives; *devfn (the default rule's choice on entry) is replaced when one exists.
 * *report is the "placement" reply member (whether the preference applied, and why not).
 * Returns 0 or -ENOMEM.
 */
int api_prefer_own_irq(struct api *api, const struct pci_bus *bus, const struct pci_device *d,
                       bool hotplug, int *devfn, json_t **report);

#endif
