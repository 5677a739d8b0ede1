/* SPDX-License-Identifier: MIT */
/*
 * acpi_pcihp.h — the `pc` machine's ACPI PCI hotplug controller and its GPE block, as QEMU
 * documents them (docs/specs/acpi_pci_hotplug.rst) and QEMU 7.2 behaves:
 *
 *   0xae00  up        4-byte, read: slots with a device-check pending; reading clears it
 *   0xae04  down      4-byte, read: slots with an eject request pending
 *   0xae08  eject     4-byte, write: eject the slots whose bits are set; read: features (0)
 *   0xae0c  removable 4-byte, read: slots that accept hot-plug (0xfffffffc: all but 0 and 1)
 *   0xae10  bus select 4-byte, read/write (bus 0 only on `pc`)
 *   0xafe0  GPE0 status, 2 bytes, write-1-to-clear; bit 1 = PCI hotplug event
 *   0xafe2  GPE0 enable, 2 bytes
 * Accesses of another size to the hotplug registers read 0 and write nothing (QEMU's). The SCI
 * (IRQ 9) is asserted while status & enable is non-zero.
 *
 * Threads: register state is atomic; vCPUs access it lock-free and the control plane sets
 * events without taking a lock a vCPU could wait for. The eject callback runs on the vCPU that
 * wrote the register and must only post a message.
 */
#ifndef PCID_HW_PCI_ACPI_PCIHP_H
#define PCID_HW_PCI_ACPI_PCIHP_H

#include <stdint.h>

#include "pci.h"

#define ACPI_PCIHP_BASE      0xae00
#define ACPI_PCIHP_LEN       0x14
#define ACPI_PCIHP_UP        0x00
#define ACPI_PCIHP_DOWN      0x04
#define ACPI_PCIHP_EJECT     0x08
#define ACPI_PCIHP_RMV       0x0c
#define ACPI_PCIHP_SEL       0x10
#define ACPI_GPE0_BASE       0xafe0
#define ACPI_GPE0_LEN        4
#define ACPI_GPE_PCI_HOTPLUG 0x02 /* GPE0 status/enable bit 1 */
#define ACPI_SCI_IRQ         9

struct acpi_pcihp_ops {
    /* The guest ejected `slot` (bus 0): finish the removal (post it; do not block). */
    void (*eject)(void *opaque, unsigned slot);
    /* The SCI line changed level. */
    void (*sci)(void *opaque, int level);
};

struct acpi_pcihp {
    uint32_t up, down;  /* atomics, bit per slot */
    uint32_t removable; /* constant: slots that accept hot-plug */
    uint32_t bus_sel;
    uint16_t gpe_sts, gpe_en;
    int sci_level;
    const struct acpi_pcihp_ops *ops;
    void *opaque;
};

/* acpi_pcihp_init() - registers at reset; `removable` is the hot-pluggable slot mask. */
void acpi_pcihp_init(struct acpi_pcihp *hp, uint32_t removable, const struct acpi_pcihp_ops *ops,
                     void *opaque);

/* Control plane: a device was hot-added to `slot` (device check) / its removal was requested. */
void acpi_pcihp_plug(struct acpi_pcihp *hp, unsigned slot);
void acpi_pcihp_unplug_request(struct acpi_pcihp *hp, unsigned slot);

/* Control plane: the slot is gone (ejected or reset): clear its pending bits. */
void acpi_pcihp_slot_gone(struct acpi_pcihp *hp, unsigned slot);

/* System reset: pending bits and GPE registers back to 0, SCI deasserted. */
void acpi_pcihp_reset(struct acpi_pcihp *hp);

/* The two register blocks as port I/O handlers (offsets relative to their bases). */
extern const struct pci_region_ops acpi_pcihp_io_ops; /* 0xae00, ACPI_PCIHP_LEN bytes */
extern const struct pci_region_ops acpi_gpe_io_ops;   /* 0xafe0, ACPI_GPE0_LEN bytes */

#endif
