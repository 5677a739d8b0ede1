/* SPDX-License-Identifier: MIT */
/*
 * commands.h — the command layer both front doors (QMP monitor, REST) call: commands are
 * defined once, by name, with QMP's argument rules and error classes.
 *
 * api_execute() validates arguments against the command's schema (missing, unexpected, wrong
 * type — QEMU's messages), takes the control lock, runs the handler against the machine, saves
 * the machine description if the command changed it (machine_persist(), still under the lock:
 * on disk before the reply; a failed save fails the command with "the change was made but not
 * saved"), and returns the QMP `return` value or fills `err`. It is safe from any thread (QMP runs
 * it on the control thread, REST on libmicrohttpd's threads). Handlers never wait for a vCPU.
 *
 * Events (RESET, DEVICE_DELETED, DEVICE_UNPLUG_GUEST_ERROR, PCI_DEVICE_ADDED) are built here
 * as QMP event objects and handed to every registered listener; a listener must only queue them
 * (it may be called under the control lock, from any thread) and deliver them after the reply
 * of the request that caused them. Every event is also kept, with an id, in a bounded ring
 * (API_EVENT_RING) that REST event streams read and resume from (api_events_*).
 *
 * Commands and their arguments come from api/schema/qmp-schema.json (schema.h); the handlers
 * from the table in commands.c. Adding a command = one schema entry + one table row.
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
#include "../daemon/hw/pci/pci_addr.h"
#include "../daemon/util/error.h"
#include "text.h"

#define PCID_VERSION_MAJOR 0
#define PCID_VERSION_MINOR 1
#define PCID_VERSION_MICRO 0
#define PCID_VERSION       "0.1.0"

struct api;

/* Receives each event object {"event", "data", "timestamp"}; must not block. */
typedef void (*api_event_fn)(void *opaque, json_t *event);

/* A device was added or removed: what the daemon's log says of it (daemon/log.h). */
struct api_device_note {
    bool added;         /* false: removed (the description was saved without it, and its
                         * DEVICE_DELETED is being emitted) */
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
 * api_device_add_spec() - device_add from QEMU -device text "driver,key=value,..." (HMP and
 * --device). `hotplug` false for cold-plug before the machine starts. Call with the control
 * lock held. Returns 0 or -errno with `err` set.
 */
int api_device_add_spec(struct api *api, const char *spec, bool hotplug, struct error *err);

/*
 * api_device_add_props() - device_add from `n` text name/value pairs, as QEMU's device_add sees
 * them ("driver", "id", "bus", "addr" and the properties); the machine restore uses it. Only
 * the first `n_recorded` (1..n) are kept as the properties the user gave (query-pci-devices,
 * the machine description); the rest pin values the user left to pcid (an address, a MAC).
 * Call with the control lock held. Returns 0 or -errno with `err` set.
 */
int api_device_add_props(struct api *api, const struct machine_prop *props, size_t n,
                         size_t n_recorded, bool hotplug, struct error *err);

/*
 * api_set_state_dir() - where state-save and state-load keep snapshots (`dir`/snapshots);
 * NULL (the default) makes them refuse: pcid runs without a state directory. Copied. Before
 * the front doors open. Returns 0 or -ENOMEM.
 */
int api_set_state_dir(struct api *api, const char *dir);

/*
 * api_blockdev_add_spec() - blockdev-add from QEMU -blockdev text
 * "driver=null-co,node-name=NAME[,size=SIZE][,read-zeroes=on]" (SIZE may end in K, M, G, T).
 */
int api_blockdev_add_spec(struct api *api, const char *spec, struct error *err);

/* api_start() - the cold-plug phase is over: later device_add calls are hot-plugs. */
void api_start(struct api *api);

/* Emit a QMP event to every listener: `data` is stolen (may be NULL). */
void api_emit_event(struct api *api, const char *name, json_t *data);

/* Counters: commands run and failed since start. Any thread. */
struct api_stats {
    unsigned long long commands, failures;
};
void api_get_stats(struct api *api, struct api_stats *out);

/*
 * What a front door may ask of one command beyond QMP (REST uses it), and what it learns.
 * Zero-initialise; every field is optional.
 */
struct api_call {
    /* in: refuse with -ESTALE (nothing runs) unless precondition(opaque, generation) holds
     * for the machine's generation at the time the command would run (REST If-Match). */
    bool (*precondition)(void *opaque, uint64_t generation);
    void *precondition_opaque;
    /* in: device_add only: check and place the device, change nothing. */
    bool dry_run;
    /* out, filled under the control lock: */
    uint64_t generation;      /* the machine's topology generation after the command */
    uint64_t event_seq;       /* id of the newest event before the command ran */
    char bdf[PCI_BDF_STRLEN]; /* device_add: where the function went (or would go) */
    char path[256];           /* device_del: the QOM path of the device removed */
    /* in: api_call_text() may answer with a shared text instead of *text (query-pci from its
     * cache): the caller can send it without a copy. */
    bool want_shared;
    /* out: that text (one reference, dropped with api_text_unref()), *text then NULL; NULL
     * when the answer is in *text. */
    struct api_text *shared;
};

/*
 * api_call() - api_execute() with `call` (may be NULL): the precondition is checked and the
 * outputs filled while the control lock is held, so what they say is what the command saw.
 * Commands that normally run without the lock take it when `call` is given.
 * Returns 0, -ESTALE when the precondition failed (`err` says why; nothing ran, nothing was
 * saved), or api_execute()'s errors. A dry run changes nothing the description records, so
 * nothing is saved for it either.
 */
int api_call(struct api *api, const char *name, json_t *args, struct api_call *call, json_t **ret,
             struct error *err);

/*
 * api_call_text() - api_call() whose value comes back serialized: *text is a malloc'd,
 * NUL-terminated string, exactly json_dumps(value, flags) (JSON_* flags of jansson; add
 * JSON_ENCODE_ANY for commands whose value is not an object or array). Commands that can write
 * their answer directly (query-pci, from a cache checked against the machine) skip building
 * the value. With call->want_shared, such a command may instead hand its answer in
 * call->shared (*text then stays NULL). Returns what api_call() returns (-ENOMEM also when
 * serializing fails); *text and call->shared are NULL on error.
 */
int api_call_text(struct api *api, const char *name, json_t *args, struct api_call *call,
                  size_t flags, char **text, struct error *err);

/*
 * api_schema_check() - every command of the table has a schema entry and every schema command
 * a handler, and a command is test-only (registered with api_options.debug_commands only) in
 * the table exactly when its schema entry says so ("if": "PCID_DEBUG_COMMANDS"). Returns 0, or
 * -EINVAL after writing what is wrong to `why` (len bytes).
 */
int api_schema_check(char *why, size_t len);

/* The name of the i-th command of the table (sorted), or NULL past the end. */
const char *api_command_at(size_t i);

/*
 * api_command_listed() - whether the i-th command of the table exists for `api`: always, but a
 * test-only one only with api_options.debug_commands (query-commands, query-qmp-schema and
 * /metrics list exactly these). Any thread.
 */
bool api_command_listed(const struct api *api, size_t i);

/* ---- events (events.c) ---- */

#define API_EVENT_RING 1024 /* events kept for resuming streams (REST Last-Event-ID) */

/* One event of the ring, copied out: malloc'd strings, freed by api_event_rec_clear(). */
struct api_event_rec {
    uint64_t id; /* 1, 2, ... in emission order; restart at 1 with pcid */
    char *name;  /* "DEVICE_DELETED" */
    char *json;  /* the QMP event object, compact JSON */
    char *path;  /* data.path, or NULL */
};
void api_event_rec_clear(struct api_event_rec *r);

/* api_events_last_id() - id of the newest event (0 before the first). Any thread. */
uint64_t api_events_last_id(struct api *api);

/*
 * api_events_since() - copy up to `max` events with id > `after`, oldest first, into `out`.
 * *lost is set when events after `after` are no longer in the ring (more than API_EVENT_RING
 * newer ones came since) or `after` is beyond the newest id (ids of an earlier pcid);
 * *oldest receives the oldest id still held (0 when empty). Returns the count, or -ENOMEM.
 */
int api_events_since(struct api *api, uint64_t after, struct api_event_rec *out, int max,
                     bool *lost, uint64_t *oldest);

/*
 * api_events_wait() - block until an event newer than `after` exists, *cancel is non-zero
 * (read atomically; may be NULL), or CLOCK_MONOTONIC reaches `deadline_ns`. Returns true when
 * a newer event exists. Never call it holding the control lock.
 */
bool api_events_wait(struct api *api, uint64_t after, uint64_t deadline_ns, const int *cancel);

/* api_events_kick() - wake every api_events_wait() to look at its *cancel again: set the
 * flag first, then kick. */
void api_events_kick(struct api *api);

/*
 * api_qmp_envelope() - check a QMP request object as QEMU's qmp_dispatch does, for both front
 * doors (the QMP socket and POST /v1/qmp): `req` must be an object whose members are only
 * "execute" (a string, required), "arguments" (an object) and "id" (anything), and no string
 * in it may hold a NUL character (JSON "\u0000": C strings would cut it short). On success
 * *name and *args (NULL when absent) are borrowed from `req`. Returns 0, or -EINVAL with `err`
 * set to QEMU's message ("QMP input member 'x' is unexpected", ...).
 */
int api_qmp_envelope(json_t *req, const char **name, json_t **args, struct error *err);

#endif
