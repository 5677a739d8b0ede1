/* SPDX-License-Identifier: MIT */
/*
 * msi.h — the MSI capability (PCI 3.0 §6.8.1) as QEMU 7.2's hw/pci/msi.c models it.
 *
 * Layout: Message Control (Multiple Message Capable in QMASK, Enable and Multiple Message
 * Enable writable), Message Address (low dword, 4-byte aligned; high dword with 64-bit),
 * Message Data (16 bits), then with per-vector masking the Mask Bits (one writable bit per
 * vector) and the read-only Pending Bits. The capability is 10, 14, 20 or 24 bytes.
 *
 * Writes (msi_config_write, QEMU's msi_write_config): while MSI is enabled a write deasserts
 * INTx, clamps Multiple Message Enable to what QMASK allows, drops pending bits of vectors past
 * the enabled count, and sends the pending vectors that are no longer masked.
 *
 * Delivery (msi_notify): enabled and not masked → the message goes to the bus's MSI sink
 * (data with the vector number in its low bits); masked → its pending bit is set.
 *
 * Threads: everything here runs with the device lock held (or before the device is
 * published). Errors: -EINVAL for a bad vector count, -ENOSPC/-EBUSY when the capability does
 * not fit (pci_cap_add).
 */
#ifndef PCID_HW_PCI_MSI_H
#define PCID_HW_PCI_MSI_H

#include "pci.h"

#define PCI_MSI_VECTORS_MAX 32

/*
 * msi_init() - add the MSI capability at `offset` (0 = first fit) for `nvectors` (a power of
 * two, 1..32), with 64-bit addresses and/or per-vector masking. Sets d->msi_cap.
 * Returns the capability offset, or -EINVAL / -ENOSPC / -EBUSY.
 */
int msi_init(struct pci_device *d, uint8_t offset, unsigned nvectors, bool msi64bit,
             bool per_vector_mask);

/* msi_present() - the function has an MSI capability. */
static inline bool msi_present(const struct pci_device *d)
{
    return d->msi_cap != 0;
}

/* msi_enabled() - MSI Enable is set in Message Control. Any thread (one byte load). */
bool msi_enabled(const struct pci_device *d);

/*
 * msi_config_write() - after the generic masked write of [offset, offset+len): QEMU's
 * msi_write_config. No-op when the write does not touch the capability.
 */
void msi_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);

/* msi_reset() - clear Enable and Multiple Message Enable, the address, data, mask and pending
 * registers (QEMU's msi_reset). */
void msi_reset(struct pci_device *d);

/*
 * msi_notify() - signal `vector` (below the enabled count). Returns 1 when sent, 0 when left
 * pending (masked), -ENODEV when MSI is not enabled, -EINVAL for a vector out of range.
 */
int msi_notify(struct pci_device *d, unsigned vector);

#endif
