/* SPDX-License-Identifier: MIT */
/*
 * msix.h — MSI-X (PCI 3.0 §6.8.2): the capability, the vector table and the pending bit array.
 *
 * Layout: the capability is 12 bytes (Message Control, Table offset/BIR, PBA offset/BIR); in
 * Message Control only Function Mask and MSI-X Enable are writable. Each table entry is 16
 * bytes (address low, high, data, vector control); the PBA has one bit per vector.
 *
 * Delivery: msix_notify() on a vector sends its message through the bus's interrupt sink when
 * MSI-X is enabled and neither the function nor the vector is masked; otherwise it sets the
 * vector's pending bit, and unmasking later sends it and clears the bit (§6.8.2.9).
 *
 * Threads: table/PBA accesses and msix_notify() run under the device lock.
 */
#ifndef PCID_HW_PCI_MSIX_H
#define PCID_HW_PCI_MSIX_H

#include "pci.h"

#define PCI_MSIX_CAP_SIZE         12
#define PCI_MSIX_ENTRY_SIZE_BYTES 16
#define PCI_MSIX_MAX_VECTORS      2048 /* Table Size is 11 bits, N-1 encoded */
/* QEMU's exclusive MSI-X BAR: 4 KiB, table at 0, PBA at 2 KiB while they fit. */
#define MSIX_EXCLUSIVE_BAR_SIZE       4096
#define MSIX_EXCLUSIVE_BAR_PBA_OFFSET 2048

struct msix {
    uint16_t cap; /* offset of the capability in config space */
    uint16_t nvectors;
    int table_bar, pba_bar;
    uint32_t table_offset, pba_offset; /* within their BARs */
    uint8_t *table;                    /* nvectors * 16 bytes */
    uint8_t *pba;                      /* (nvectors + 63) / 64 * 8 bytes */
    bool enabled, masked;              /* cached Message Control bits */
    uint64_t delivered;                /* messages sent */
};

/*
 * msix_init() - add the MSI-X capability at `cap_offset` (0 = first fit) for `nvectors`
 * (1..2048) with the table at `table_offset` in BAR `table_bar` and the PBA at `pba_offset`
 * in BAR `pba_bar`. The BARs are registered by the caller. Every vector starts masked.
 * Returns the capability offset, -EINVAL (vector count), -ENOSPC/-EBUSY (no room), -ENOMEM.
 */
int msix_init(struct pci_device *d, uint16_t nvectors, int table_bar, uint32_t table_offset,
              int pba_bar, uint32_t pba_offset, uint8_t cap_offset);

/*
 * msix_init_exclusive_bar() - QEMU's layout: one 32-bit memory BAR `bar` holding the table at
 * 0 and the PBA at 2 KiB (or right after a larger table), sized to a power of two >= 4 KiB,
 * capability at first fit. Registers the BAR. Returns as msix_init().
 */
int msix_init_exclusive_bar(struct pci_device *d, uint16_t nvectors, int bar);

/* msix_free() - release the table and PBA. NULL is fine. */
void msix_free(struct msix *m);

/* msix_reset() - clear Enable and Function Mask, zero the table with every vector masked, clear
 * the PBA. */
void msix_reset(struct pci_device *d);

/* Called by the config write path after a write that may touch Message Control. */
void msix_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);

/* BAR accesses; `offset` is relative to the BAR. Reads outside table and PBA return 0. */
uint64_t msix_bar_read(struct pci_device *d, int bar, uint64_t offset, unsigned len);
void msix_bar_write(struct pci_device *d, int bar, uint64_t offset, uint64_t value, unsigned len);

/* True when `offset` of BAR `bar` falls in the table or the PBA. */
bool msix_bar_claims(const struct pci_device *d, int bar, uint64_t offset, unsigned len);

/*
 * msix_notify() - signal vector `vector`. Returns 1 when the message was delivered, 0 when it
 * was left pending (masked), -EINVAL for a vector out of range, -ENODEV when MSI-X is
 * disabled (the caller falls back to INTx).
 */
int msix_notify(struct pci_device *d, uint16_t vector);

/* msix_clear_pending() - clear the pending bit of `vector` (QEMU's msix_clr_pending, e.g. when
 * the vector's last user goes away). Out-of-range vectors are ignored. Under the device lock. */
void msix_clear_pending(struct pci_device *d, uint16_t vector);

/*
 * Device-state snapshots: the vector table and the PBA (QEMU's msix_save/msix_load). Format
 * MSIX_STATE_VERSION: u16 vector count, the table (count * 16 bytes), the PBA
 * ((count + 63) / 64 * 8 bytes), little-endian as the guest reads them.
 *
 * msix_state_save() appends that to `out`; caller holds d->lock.
 * msix_state_check() validates `len` bytes at `p` of format `version` for `d`: the version is
 * known, the vector count is the device's, the length adds up, each Vector Control holds only
 * the Mask bit, no pending bit is set past the last vector. Returns 0, or -EINVAL with `err`
 * naming the byte offset within the section. Changes nothing.
 * msix_state_load() applies what msix_state_check() accepted, after config space (Message
 * Control) was loaded: the cached Enable/Function Mask bits follow it, and a pending vector no
 * longer masked is delivered (QEMU's msix_load). Caller holds d->lock.
 */
#define MSIX_STATE_VERSION 1
void msix_state_save(const struct pci_device *d, struct sbuf *out);
int msix_state_check(const struct pci_device *d, const uint8_t *p, size_t len, uint32_t version,
                     struct error *err);
void msix_state_load(struct pci_device *d, const uint8_t *p, size_t len, uint32_t version);

static inline bool msix_enabled(const struct pci_device *d)
{
    return d->msix && d->msix->enabled;
}

#endif
