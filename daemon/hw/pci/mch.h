/* SPDX-License-Identifier: MIT */
/*
 * mch.h — the q35 host bridge, Intel 82G33/P35 MCH at 00:00.0 (8086:29c0), as QEMU 7.2's
 * hw/pci-host/q35.c presents it before firmware runs.
 *
 * Registers with behaviour:
 *  - PCIEXBAR (0x60, 64 bits; Intel 82G33 datasheet §5.1.14): bit 0 enables the MMCONFIG
 *    (ECAM) window, bits 2:1 give its length (256, 128, 64 MiB; 3 is reserved and changes
 *    nothing), bits 35:26 its address, masked by the length. Reset: 0xb0000000, disabled. Each
 *    write reports the window to the platform (struct mch_ecam_ops);
 *  - SMRAM (0x9d) and ESMRAMC (0x9e): setting D_LCK clears D_OPEN and leaves only D_CLS
 *    writable until reset;
 *  - EXT_TSEG_MBYTES (0x50, 16 bits): a write of 0xffff (query) reads back 16 (MiB);
 *  - F_SMBASE (0x9c): a write of 0xff (query) reads back 1 (SMRAM at SMBASE in RAM) and leaves
 *    only the lock bit writable; otherwise the reset state discards what is written.
 * Every other byte from 0x40 up is plain read/write, as in QEMU. 256-byte config space.
 *
 * Threads: the constructor on the control plane; the write hook runs under the device lock on
 * a vCPU and calls ecam_changed there (it must not block). Errors: -ENOMEM.
 */
#ifndef PCID_HW_PCI_MCH_H
#define PCID_HW_PCI_MCH_H

#include "pci.h"

#define MCH_PCIEXBAR         0x60
#define MCH_PCIEXBAR_DEFAULT 0xb0000000ull
#define MCH_ECAM_SIZE_MAX    (256ull << 20)

/* Where the MMCONFIG window goes: called at reset and after each PCIEXBAR write. */
struct mch_ecam_ops {
    void (*ecam_changed)(void *opaque, bool enabled, uint64_t base, uint64_t size);
    void *opaque;
};

/* mch_new() - the MCH function, not on a bus. Returns 0 and *ret, or -ENOMEM. */
int mch_new(const struct mch_ecam_ops *ops, struct pci_device **ret);

/*
 * mch_ecam_decode() - the window a PCIEXBAR value asks for (QEMU's mch_update_pciexbar):
 * returns false for the reserved length (the window stays as it was), else fills *enabled,
 * *base (address bits masked by the length) and *size.
 */
bool mch_ecam_decode(uint64_t pciexbar, bool *enabled, uint64_t *base, uint64_t *size);

#endif
