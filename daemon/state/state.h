/* SPDX-License-Identifier: MIT */
/*
 * state.h — addresses that survive restarts: pcid's start-up against its state directory, and
 * keeping machine.json and backends.json current while it runs.
 *
 * At start (before any socket opens):
 *   state_open()    finds the state directory (store.h), creates it, and reads and validates
 *                   machine.json and backends.json — or the --machine-description FILE — without
 *                   changing anything. A corrupt description, a newer format version, an unknown
 *                   machine type or driver is an error naming the file and the problem (pcid
 *                   exits 78); the file is never overwritten or deleted then.
 *   state_restore() creates what was saved: the backends of backends.json, then the devices of
 *                   the description, each at its address with its properties, as cold-plugged
 *                   devices (a restart is a reset of the machine). --blockdev adds nodes not
 *                   already saved; --device seeds a fresh machine only: an existing description
 *                   wins, and ignored seeds are logged (log.h). The configuration file's
 *                   devices and blockdevs arrive here as the same seeds.
 *   state_attach()  from then on every change is saved: the first save writes the files that
 *                   differ from what is on disk, later ones run before a changing command
 *                   returns and before DEVICE_DELETED goes out (machine_persist). It also tells
 *                   the command layer where snapshots live.
 * With --no-state there is no directory: nothing is read or written, and snapshots refuse.
 *
 * Threads: main thread at start; the save hook runs under the control lock on whichever
 * thread holds it. Errors: -errno with `err` set; pcid exits 78 on a state_open/state_restore
 * error, 1 on a state_attach one (the directory cannot be written).
 */
#ifndef PCID_STATE_STATE_H
#define PCID_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "../../api/commands.h"

struct state_config {
    const char *dir;         /* --state-dir, or NULL */
    bool none;               /* --no-state */
    const char *description; /* --machine-description FILE, or NULL */
    const char *machine;     /* --machine, or NULL for the default type */
};

struct state;

/* state_open() - see above. Returns 0 and *ret, or -errno with `err` set. */
int state_open(const struct state_config *cfg, struct state **ret, struct error *err);

/* The machine type to build: the description's if there is one, else cfg->machine. */
const char *state_machine_type(const struct state *st);

/*
 * state_restore() - see above. `blockdevs` and `devices` are the --blockdev and --device specs
 * (QEMU -blockdev / -device syntax), or the configuration file's, which config.c merged there.
 * Returns 0, or -errno with `err` naming the file and entry, or the option, that failed.
 */
int state_restore(struct state *st, struct api *api, char *const *blockdevs, size_t n_blockdevs,
                  char *const *devices, size_t n_devices, struct error *err);

/* state_attach() - see above. Returns 0 or -errno with `err` set. */
int state_attach(struct state *st, struct api *api, struct error *err);

/* state_free() - detach from the machine and free, once every other thread has stopped (it
 * takes no lock). NULL is fine. */
void state_free(struct state *st);

#endif
