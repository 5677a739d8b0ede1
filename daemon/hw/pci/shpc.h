/* SPDX-License-Identifier: MIT */
/*
 * shpc.h — the Standard Hot-Plug Controller (PCI Standard Hot-Plug Controller and Subsystem
 * Specification 1.0) of pci-bridge and pcie-pci-bridge, as QEMU 7.2's hw/pci/shpc.c models it:
 * a working register set of 0x24 + 4 * 31 bytes, reached through the bridge's memory BAR0 and
 * through the SHPC capability's DWORD Select / DWORD Data pair in config space.
 *
 * Slots: SHPC slot index i is PCI device i + 1 of the secondary bus (device 0 is not hot-
 * pluggable: "Unsupported PCI slot 0 for standard hotplug controller. Valid slots are between 1
 * and 31."). Reset derives each slot's state, power LED and presence from whether its function 0
 * is there. Slot commands (code 0x00-0x3f with a target) set state and LEDs at once; disabling a
 * slot whose power LED is off removes its devices; 0x40-0x47 set the bus speed (33 MHz only),
 * 0x48/0x49 power/enable every slot; anything else is an invalid command. Each command sets
 * Command Detected in the SERR/INT register; the interrupt (MSI vector 0 when enabled, else
 * INTA#) follows the unmasked slot events and Command Detected.
 *
 * QEMU quirk kept on purpose: a write to the capability's DWORD Data register is forwarded
 * to the register set with the value found in the *register set* at the capability's own
 * offset + 4 (not the value written); pcid does the same, so guests see what QEMU shows.
 *
 * Threads: everything under the bridge's lock (BAR and config writes come from vCPUs with it
 * held); init on the control plane. Errors: -ENOMEM, -ENOSPC/-EBUSY (capability space).
 */
#ifndef PCID_HW_PCI_SHPC_H
#define PCID_HW_PCI_SHPC_H

#include "pci.h"
#include "pci_bus.h"

#define SHPC_MAX_SLOTS 31
#define SHPC_CAP_SIZE  8                           /* the config space capability */
#define SHPC_SIZEOF    (0x24 + 4 * SHPC_MAX_SLOTS) /* the working register set */
#define SHPC_BAR_SIZE  256                         /* QEMU's shpc_bar_size: pow2(SHPC_SIZEOF) */

struct shpc {
    struct pci_device *d; /* the bridge */
    struct pci_bus *sec;
    uint8_t cap; /* offset of the capability */
    unsigned nslots;
    bool msi_requested;
    uint8_t config[SHPC_SIZEOF];
    uint8_t wmask[SHPC_SIZEOF];
    uint8_t w1cmask[SHPC_SIZEOF];
};

/*
 * shpc_init() - add the SHPC capability (first fit) to `d` for its secondary bus `sec`, and
 * reset the register set. The caller registers BAR0 (SHPC_BAR_SIZE bytes, shpc_bar_ops,
 * opaque = the struct shpc). Returns 0 or -errno.
 */
int shpc_init(struct shpc *s, struct pci_device *d, struct pci_bus *sec);

/* shpc_reset() - QEMU's shpc_reset: registers from the secondary bus's population. */
void shpc_reset(struct shpc *s);

/* shpc_config_write() - after a config write of the bridge: the DWORD Data forwarding above,
 * then DWORD Data shows the selected dword. */
void shpc_config_write(struct shpc *s, uint32_t offset, uint32_t value, unsigned len);

/* BAR0 accesses; `offset` is relative to the BAR; beyond the register set reads 0. */
extern const struct pci_region_ops shpc_bar_ops;

/*
 * shpc_check_slot() - the device `d` was placed at `devfn` below the bridge: 0, or -EINVAL
 * with QEMU's message in `msg` (at least 96 bytes) when the slot has no SHPC index.
 */
int shpc_check_slot(const struct shpc *s, uint8_t devfn, char *msg, size_t msglen);

/* shpc_plug() - a device arrived in its slot (QEMU's shpc_device_plug_cb). */
void shpc_plug(struct shpc *s, uint8_t devfn, bool hotplugged);

/* What an unplug request asks of the caller. */
enum shpc_unplug {
    SHPC_UNPLUG_PENDING, /* attention button pressed: the guest decides */
    SHPC_UNPLUG_NOW,     /* slot disabled and its power LED off: the caller removes the slot
                            now (its registers already read empty, MRL open) */
};

/* shpc_unplug_request() - QEMU 7.2's shpc_device_unplug_request_cb for the device at devfn. */
enum shpc_unplug shpc_unplug_request(struct shpc *s, uint8_t devfn);

#endif
