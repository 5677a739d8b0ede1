/* SPDX-License-Identifier: MIT */
/*
 * pci_bridge_common.h — what the bridge and port models (pcie-root-port, pci-bridge) share at
 * the qdev level: QEMU's resource-reserve properties and vendor capability
 * (hw/pci/pci_bridge.c pci_bridge_qemu_reserve_cap_init), and an error helper.
 *
 * The capability (Red Hat vendor-specific type 1, 32 bytes) tells firmware how much bus, I/O
 * and memory space to keep for the bridge; it exists only when a property was given.
 *
 * Threads: control plane (realize). Errors: -EINVAL with QEMU's messages.
 */
#ifndef PCID_HW_PCI_BRIDGE_COMMON_H
#define PCID_HW_PCI_BRIDGE_COMMON_H

#include "../qdev.h"
#include "pci.h"

#define PCI_RESERVE_UNSET UINT64_MAX /* a *-reserve property left at its default */

struct pci_reserve_opts {
    uint32_t bus;
    uint64_t io, mem, pref32, pref64;
};

/* The five property rows, for a model's table (`type` is its options structure). */
#define PCI_RESERVE_PROPS(type, member)                                                            \
    {"bus-reserve", QDEV_PROP_UINT32, offsetof(type, member.bus), "4294967295"},                   \
        {"io-reserve", QDEV_PROP_SIZE, offsetof(type, member.io), "18446744073709551615"},         \
        {"mem-reserve", QDEV_PROP_SIZE, offsetof(type, member.mem), "18446744073709551615"},       \
        {"pref32-reserve", QDEV_PROP_SIZE, offsetof(type, member.pref32), "18446744073709551615"}, \
    {                                                                                              \
        "pref64-reserve", QDEV_PROP_SIZE, offsetof(type, member.pref64), "18446744073709551615"    \
    }

/*
 * pci_reserve_cap_init() - QEMU's checks ("PCI resource reserve cap: PREF32 and PREF64
 * conflict", "... mem-reserve must be less than 4G", "... pref32-reserve  must be less than
 * 4G"), then the capability at first fit when any value is set. Returns 0 or -errno with `err`.
 */
int pci_reserve_cap_init(struct pci_device *d, const struct pci_reserve_opts *o,
                         const struct qdev_driver *drv, struct error *err);

/* pci_bridge_internal() - an internal error naming the driver ("pci-bridge: what"). */
int pci_bridge_internal(struct error *err, const struct qdev_driver *drv, const char *what);

#endif
