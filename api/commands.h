/* SPDX-License-Identifier: MIT */
/*
 * commands.h — the command layer both front doors (QMP monitor, REST) call: commands are
 * defined once, by name, with QMP's argument rules and error classes.
 *
 * api_execute() validates arguments against the command's schema (missing, unexpected, wrong
 * type — QEMU's messages), takes the control lock, runs the handler against the machine, and
 * returns the QMP `return` value or fills `err`. It is safe from any thread (QMP runs it on the
 * control thread, REST on libmicrohttpd's threads). Handlers never wait for a vCPU.
 *
 * Events (RESET, DEVICE_DELETED, PCI_DEVICE_ADDED) are built here as QMP event objects and
 * handed to every registered listener; a listener must only queue them (it may be called under
 * the control lock, from any thread) and deliver them after the reply of the request that
 * caused them.
 *
 * Errors: api_execute() returns 0, or -errno with `err` set (class and text as QEMU 7.2 gives
 * them: CommandNotFound for unknown commands, DeviceNotFound for unknown device ids,
 * GenericError otherwise).
 */
#ifndef PCID_API_COMMANDS_H
#define PCID_API_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>

#include "../daemon/machine/machine.h"
#include "../daemon/util/error.h"

#define PCID_VERSION_MAJOR 0
#define PCID_VERSION_MINOR 1
#define PCID_VERSION_MICRO 0
#define PCID_VERSION       "0.1.0"

struct api;

/* Receives each event object {"event", "data", "timestamp"}; must not block. */
typedef void (*api_event_fn)(void *opaque, json_t *event);

/* A device was added or removed: what the daemon's log says of it (daemon/log.h). */
struct api_device_note {
    bool added;         /* false: removed (its DEVICE_DELETED is being emitted) */
    bool hotplug;       /* after machine start (false: cold-plugged) */
    const char *id;     /* the user's id, or NULL */
    const char *bdf;    /* "0000:00:03.0" */
    const char *driver; /* "virtio-net-pci" */
};

/* Called under the control lock, on any thread; must not block or call the api. */
typedef void (*api_device_note_fn)(void *opaque, const struct api_device_note *note);

struct api_options {
    bool guest_running; /* a guest model runs: query-status says "running" */
    /* Test-only commands (x-debug-hang): without this they do not exist (CommandNotFound,
     * absent from query-commands). The daemon sets it from $PCID_DEBUG_COMMANDS=1. */
    bool debug_commands;
    api_device_note_fn device_note; /* optional */
    void *device_note_opaque;
};

/*
 * api_new() - a command layer over machine `m` (not owned). Hooks the machine's events.
 * Returns 0 and *ret, or -ENOMEM.
 */
int api_new(struct machine *m, const struct api_options *opts, struct api **ret);
void api_free(struct api *api);

struct machine *api_machine(struct api *api);

/*
 * api_add_listener() - register an event listener; returns a handle >= 0 for
 * api_remove_listener(), or -ENOSPC. Thread-safe.
 */
int api_add_listener(struct api *api, api_event_fn fn, void *opaque);
void api_remove_listener(struct api *api, int handle);

/*
 * api_execute() - run command `name` with `args` (a JSON object, or NULL for none).
 * On success *ret holds a new reference to the `return` value (an empty object for commands
 * without one). The caller owns *ret.
 */
int api_execute(struct api *api, const char *name, json_t *args, json_t **ret, struct error *err);

/* True when `name` is a command (for QMP's CommandNotFound check before arguments); test-only
 * commands are not counted. */
bool api_has_command(const char *name);

/*
 * api_device_add_full() - device_add with the details REST needs: on success *bdf receives the
 * new function's "0000:BB:SS.F" and *id its id (or NULL). `dry_run` checks everything and
 * computes the address without changing the machine.
 */
int api_device_add_full(struct api *api, json_t *args, bool dry_run, char bdf[13], json_t **ret,
                        struct error *err);

/*
 * api_device_add_spec() - device_add from QEMU -device text "driver,key=value,..." (HMP and
 * --device). `hotplug` false for cold-plug before the machine starts. Call with the control
 * lock held. Returns 0 or -errno with `err` set.
 */
int api_device_add_spec(struct api *api, const char *spec, bool hotplug, struct error *err);

/*
 * api_blockdev_add_spec() - blockdev-add from QEMU -blockdev text
 * "driver=null-co,node-name=NAME[,size=SIZE][,read-zeroes=on]" (SIZE may end in K, M, G, T).
 */
int api_blockdev_add_spec(struct api *api, const char *spec, struct error *err);

/* api_start() - the cold-plug phase is over: later device_add calls are hot-plugs. */
void api_start(struct api *api);

/* Emit a QMP event to every listener: `data` is stolen (may be NULL). */
void api_emit_event(struct api *api, const char *name, json_t *data);

/* Counters for /metrics: commands run and failed since start. */
struct api_stats {
    unsigned long long commands, failures;
};
void api_get_stats(struct api *api, struct api_stats *out);

#endif
