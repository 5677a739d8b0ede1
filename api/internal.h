/* SPDX-License-Identifier: MIT */
/*
 * internal.h — what the files of the command layer share: the api structure and the handler
 * signature. Not for the front doors (they use commands.h).
 *
 * Handlers run with the machine's control lock held, fill *ret with a new reference on
 * success, and return 0 or -errno with `err` set.
 */
#ifndef PCID_API_INTERNAL_H
#define PCID_API_INTERNAL_H

#include <pthread.h>

#include "commands.h"

#define API_MAX_LISTENERS 16

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
    uint64_t started_ns; /* CLOCK_MONOTONIC when the guest started running, 0 = paused */
};

/* api_virtual_ms() - QEMU's QEMU_CLOCK_VIRTUAL in ms: time the guest has run (0 while
 * paused, as QEMU started with -S). */
uint64_t api_virtual_ms(const struct api *api);

typedef int (*api_handler_fn)(struct api *api, json_t *args, json_t **ret, struct error *err);

/* device.c */
int api_cmd_device_add(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_device_del(struct api *api, json_t *args, json_t **ret, struct error *err);
/* Resolve a device_del id or QOM path the way QEMU does; NULL with `err` set. */
struct machine_dev *api_resolve_device(struct api *api, const char *id, struct error *err);

/* query.c */
int api_cmd_query_pci(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_slots(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_caps(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_devices(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_pci_config(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_blockdev_add(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_blockdev_del(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_query_block_nodes(struct api *api, json_t *args, json_t **ret, struct error *err);
int api_cmd_device_list_properties(struct api *api, json_t *args, json_t **ret, struct error *err);
/* Find a device by "id" or "bdf" argument (query-pci-capabilities and friends). */
struct machine_dev *api_find_by_id_or_bdf(struct api *api, json_t *args, struct error *err);

/* hmp.c */
int api_cmd_hmp(struct api *api, json_t *args, json_t **ret, struct error *err);

#endif
