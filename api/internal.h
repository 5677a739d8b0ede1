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
    char *state_dir; /* where snapshots live; NULL: pcid runs without a state directory */
};

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

#endif
