/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h — device-state snapshots: every PCI function's guest-visible state in a versioned
 * binary file (docs/state.md has the byte layout), saved and loaded whole.
 *
 * Per function: its address and driver, the capabilities present (id, offset, allocated size),
 * config space, irq_state, the MSI-X table and PBA, and the model's register state (struct
 * pci_dev_class state hooks, each with its own format version). Records and sections carry
 * their length, so a reader can skip what it does not need; a CRC-32 covers the file.
 *
 * Loading is all or nothing. Everything is validated first, against the file and against the
 * machine, and the load is refused — nothing changed — for: a file that is not a snapshot, is
 * truncated or fails its checksum; a newer format version (file, MSI-X or a model's register
 * state); another machine type; a function missing from the machine, at another address, of
 * another driver, or a machine function the snapshot lacks; a capability the device does not
 * have (or one it has that the snapshot lacks); config bytes that differ where cmask says they
 * must match and the guest cannot write them (QEMU's "Bad config data" rule,
 * get_pci_config_device in hw/pci/pci.c); an irq_state other than 0/1; register state a model
 * rejects. Every refusal names the device and the offset. Then, under the control lock, each
 * function is updated under its own lock (vCPUs never wait for the control lock): INTx lowered,
 * config space written, the capability allocation map and masks restored from the loaded
 * layout, MSI-X and model state loaded, BARs remapped; then INTx raised as saved and the
 * topology republished.
 *
 * Limits: SNAPSHOT_MAX_SIZE bytes per file, SNAPSHOT_MAX_CAPS capabilities per function.
 * Threads: control plane with the control lock held (machine_lock()).
 * Errors: -errno with `err` set (INVALID: bad or newer file; CONFLICT: the file does not fit
 * this machine; LIMIT: too large; NOT_FOUND: no such snapshot; INTERNAL: I/O).
 */
#ifndef PCID_STATE_SNAPSHOT_H
#define PCID_STATE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "../machine/machine.h"
#include "../util/sbuf.h"

#define SNAPSHOT_MAGIC       "PCIDSNAP"
#define SNAPSHOT_VERSION     1
#define SNAPSHOT_HEADER_SIZE 32
#define SNAPSHOT_MAX_SIZE    (64u << 20) /* bytes of one snapshot file */
#define SNAPSHOT_MAX_CAPS    64          /* capabilities recorded per function */

/* Header fields: offsets in the file (docs/state.md). */
#define SNAPSHOT_HDR_MAGIC   0  /* 8 bytes, SNAPSHOT_MAGIC */
#define SNAPSHOT_HDR_VERSION 8  /* u32 format version */
#define SNAPSHOT_HDR_SIZE    12 /* u32 header size, SNAPSHOT_HEADER_SIZE */
#define SNAPSHOT_HDR_RECORDS 16 /* u32 records, the machine record included */
#define SNAPSHOT_HDR_CRC     20 /* u32 CRC-32 of everything after the header */
#define SNAPSHOT_HDR_FILELEN 24 /* u64 bytes of the file */

/* Record types and device sections (docs/state.md). */
enum { SNAPSHOT_REC_MACHINE = 1, SNAPSHOT_REC_DEVICE = 2 };
enum {
    SNAPSHOT_SEC_IDENT = 1, /* u8 bus, u8 devfn, u16 0, str driver, str id */
    SNAPSHOT_SEC_CAPS,      /* u16 n, n x {u16 id, u16 offset, u16 size, u8 ext, u8 version} */
    SNAPSHOT_SEC_CONFIG,    /* config space, 256 or 4096 bytes */
    SNAPSHOT_SEC_IRQ,       /* u8 irq_state[4] */
    SNAPSHOT_SEC_MSIX,      /* u32 version, msix_state_save() */
    SNAPSHOT_SEC_MODEL,     /* u32 version, the class's state_save() */
};

/*
 * snapshot_encode() - the snapshot of every function of `m` into `out` (appended to; the caller
 * frees it with sbuf_free()). *n_devices receives the function count.
 * Returns 0, or -ENOMEM / -ENOSPC (larger than SNAPSHOT_MAX_SIZE, or a function with more than
 * SNAPSHOT_MAX_CAPS capabilities) with `err` set.
 */
int snapshot_encode(struct machine *m, struct sbuf *out, unsigned *n_devices, struct error *err);

/*
 * snapshot_apply() - validate `len` bytes at `data` as a snapshot of `m` (everything listed
 * above), then load it. *n_devices receives the function count. Returns 0, or -errno with
 * `err` set and nothing changed.
 */
int snapshot_apply(struct machine *m, const uint8_t *data, size_t len, unsigned *n_devices,
                   struct error *err);

/* What a save or load touched. */
struct snapshot_info {
    uint64_t size; /* bytes of the file */
    unsigned devices;
};

/*
 * snapshot_save() / snapshot_load() - the file `state_dir`/snapshots/`name` (a name
 * store_name_check() accepts): written atomically, or read (at most SNAPSHOT_MAX_SIZE) and
 * applied. Messages start with "snapshot 'NAME': ". Fills *info on success.
 */
int snapshot_save(struct machine *m, const char *state_dir, const char *name,
                  struct snapshot_info *info, struct error *err);
int snapshot_load(struct machine *m, const char *state_dir, const char *name,
                  struct snapshot_info *info, struct error *err);

#endif
