/* SPDX-License-Identifier: MIT */
/*
 * machine_internal.h — what the files of the machine layer share (machine.c, hotplug.c,
 * machine_types.c). Not for use outside daemon/machine/. Everything under the control lock.
 */
#ifndef PCID_MACHINE_INTERNAL_H
#define PCID_MACHINE_INTERNAL_H

#include "machine.h"

/* Compat arrays a machine type version applies (machine_types.c). */
extern const struct machine_compat_prop *const machine_compat_1_0[];
extern const struct machine_compat_prop *const machine_compat_none[];

/* Name a bridge's secondary bus before the bridge is plugged: its id, else QEMU's automatic
 * "pci.N" (conventional bus) or "pcie.N" (a port's bus). Returns 0 or -ENOMEM. */
int machine_bridge_bus_name(struct machine *m, struct pci_device *bridge);

/* The plugged bridge's secondary bus joins the machine: hotplug controller chosen (ACPI for a
 * cold-plugged bridge, else the bridge's SHPC or PCIe slot), linked under the bridge's bus. */
void machine_bridge_bus_add(struct machine *m, struct pci_device *bridge);

/* The bridge leaves: its bus leaves the machine's list and its parent's child list (the bus is
 * freed with the bridge, after the grace period). */
void machine_bridge_bus_remove(struct machine *m, struct pci_device *bridge);

/* A function came or went at `devfn` of `bus`: a PCIe port above mirrors device 0's link. */
void machine_port_link_changed(struct pci_bus *bus, uint8_t devfn);

/* A hot-plugged function is on its bus: tell the bus's hotplug controller. */
void machine_hotplug_plugged(struct machine *m, struct pci_device *d);

#endif
