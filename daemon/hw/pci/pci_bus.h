/* SPDX-License-Identifier: MIT */
/*
 * pci_bus.h — a PCI bus: 256 device/function numbers, reserved slots, hotplug capability, the
 * bridge above it, and the placement rules QEMU applies when a function is plugged.
 *
 * Ownership: a bus does not own its devices; the machine does (machine/). A root bus belongs to
 * its host bridge, a secondary bus to the bridge device above it.
 *
 * Threads: mutated only by the control plane under the control lock; vCPU threads read it
 * through the published topology (vcpu/).
 *
 * Placement (QEMU 7.2 do_pci_register_device and pci_init_multifunction):
 *  - no address: the lowest slot whose function 0 is free and not reserved (other functions
 *    are not looked at);
 *  - a reserved slot, or an occupied devfn, is refused naming the occupant;
 *  - a hot-plugged function is refused while its "function 0" exists: function 0 comes last.
 *    Behind a PCIe root or downstream port the link reaches device 0 only, so there device
 *    00.0 is the function 0 of every slot (QEMU's pci_get_function_0);
 *  - a function > 0 next to a function 0 without multifunction is refused;
 *  - a function 0 without multifunction is refused while other functions are present.
 */
#ifndef PCID_HW_PCI_BUS_H
#define PCID_HW_PCI_BUS_H

#include "pci.h"

/* Who answers hot-plug on a bus (what QEMU 7.2 sets as the bus's hotplug handler). */
enum pci_hotplug {
    PCI_HOTPLUG_NONE = 0, /* "Bus '%s' does not support hotplugging" */
    PCI_HOTPLUG_ACPI,     /* ACPI PCI hotplug (pc's pci.0, cold-plugged bridges and ports) */
    PCI_HOTPLUG_SHPC,     /* the bridge's standard hot-plug controller (slots 1-31) */
    PCI_HOTPLUG_PCIE,     /* the port's native PCIe slot */
};

/* Upward notifications of a root bus; secondary buses forward to their root. */
struct pci_bus_ops {
    /* A BAR, Command register or bridge window changed: the address map must be rebuilt. */
    void (*map_changed)(void *opaque);
    /* INTx `pin` (0..3, after swizzling to the root bus) of `d` changed level by `change`. */
    void (*intx_change)(void *opaque, struct pci_device *d, int pin, int change);
    /* `d` wrote an MSI/MSI-X message: `data` to `addr`. */
    void (*msi_deliver)(void *opaque, struct pci_device *d, uint64_t addr, uint32_t data);
    /* A hotplug controller on a vCPU asks for every function of `slot` of `bus` to be removed
     * (the guest turned the slot off). Must only post to the control plane. */
    void (*eject)(void *opaque, struct pci_bus *bus, unsigned slot);
};

struct pci_bus {
    char *name;                                /* "pci.0", "pcie.0" or the bridge's id */
    struct pci_device *devices[PCI_DEVFN_MAX]; /* by devfn; NULL = empty */
    struct pci_device *parent;                 /* bridge above, NULL for a root bus */
    uint32_t reserved_slots;                   /* slot mask no device may take */
    const char *reserved_reason[PCI_SLOT_MAX]; /* why, for query-pci-slots */
    uint32_t hotplug_slots;                    /* slots that accept hot-plug */
    bool hotpluggable;                         /* the bus has a hotplug controller */
    enum pci_hotplug hotplug;                  /* which one (hotpluggable == hotplug != NONE) */
    bool express;                              /* PCI Express bus: 4 KiB config space */
    bool port;                                 /* below a PCIe root/downstream port */
    /* Configuration cycles reach past 0xff: this bus and every bus above it are PCI Express
     * (QEMU's pci_adjust_config_limit). Set when the bus joins the machine. */
    bool ext_config;
    uint8_t devfn_min;
    /* Secondary buses of the bridges on this bus, newest first (QEMU's bus->child list, the
     * order pci_find_bus_nr walks). Changed by the control plane only; read by vCPUs under
     * RCU (a removed bus is freed after a grace period). */
    struct pci_bus *children, *sibling;
    /* Slots a guest has ejected whose removal the control plane has not finished yet (atomic
     * bit mask): config cycles and address decoding already ignore them, as QEMU, which
     * removes the device inside the guest's write. */
    uint32_t ejecting;
    const struct pci_bus_ops *ops; /* root bus only */
    void *opaque;
};

/*
 * pci_bus_new() - a bus named `name` (copied). Every slot hot-pluggable only if `hotpluggable`.
 * Returns 0 and *ret, or -ENOMEM.
 */
int pci_bus_new(const char *name, bool express, bool hotpluggable, struct pci_bus **ret);

/* pci_bus_free() - free the bus (not its devices). NULL is fine. */
void pci_bus_free(struct pci_bus *bus);

/* pci_bus_set_name() - rename (copies `name`). Control plane, before the bus is visible by
 * name. Returns 0 or -ENOMEM. */
int pci_bus_set_name(struct pci_bus *bus, const char *name);

/*
 * pci_bus_add_child() / pci_bus_remove_child() - link a bridge's secondary bus `child` under
 * `parent` (at the head: newest first) or unlink it. Control plane under the control lock;
 * vCPUs walking the list see the old or the new list, both valid.
 */
void pci_bus_add_child(struct pci_bus *parent, struct pci_bus *child);
void pci_bus_remove_child(struct pci_bus *parent, struct pci_bus *child);

/*
 * pci_bridge_forwards() - QEMU's pci_secondary_bus_in_range: bridge `br` forwards
 * configuration cycles for bus `num` (Secondary <= num <= Subordinate and Bridge Control's
 * Secondary Bus Reset clear). PCI-to-PCI Bridge 1.2 §3.2.5.3-5. Any thread (register loads).
 */
bool pci_bridge_forwards(const struct pci_device *br, unsigned num);

/*
 * pci_bus_find_nr() - the bus a configuration cycle for bus number `num` reaches from `bus`
 * (QEMU's pci_find_bus_nr): `bus` itself if its number is `num`; nothing if `bus` is a
 * secondary bus whose bridge does not forward `num`; else down the child buses, newest first:
 * one numbered `num` is the answer, one whose bridge forwards `num` is descended into (and
 * only that one). NULL when nothing answers. Any thread under RCU; depth bounded by 256.
 */
struct pci_bus *pci_bus_find_nr(struct pci_bus *bus, unsigned num);

/* Bus number: 0 for a root bus, else the Secondary Bus Number of the bridge above (as the
 * guest has programmed it; 0 until then). Any thread. */
uint8_t pci_bus_num(const struct pci_bus *bus);

/* The root bus above `bus` (itself for a root bus). */
struct pci_bus *pci_bus_root(struct pci_bus *bus);

/* The "function 0" that exposes `devfn` (QEMU's pci_get_function_0): device 00.0 behind a
 * PCIe port, else function 0 of the same slot. NULL if absent. Any thread. */
static inline struct pci_device *pci_bus_function0(const struct pci_bus *bus, uint8_t devfn)
{
    return __atomic_load_n(&bus->devices[bus->port ? 0 : PCI_DEVFN_OF(PCI_SLOT_OF(devfn), 0)],
                           __ATOMIC_ACQUIRE);
}

/* True when any function of slot `slot` is present. */
bool pci_bus_slot_occupied(const struct pci_bus *bus, unsigned slot);

enum pci_place_result {
    PCI_PLACE_OK = 0,
    PCI_PLACE_NO_FREE_SLOT,  /* no address given and no free function 0 */
    PCI_PLACE_RESERVED,      /* slot reserved */
    PCI_PLACE_IN_USE,        /* devfn taken by `other` */
    PCI_PLACE_FN0_PRESENT,   /* hot-plug of a function > 0 while function 0 (`other`) exists */
    PCI_PLACE_FN0_SINGLE,    /* function > 0 next to a single-function function 0 */
    PCI_PLACE_FN0_POPULATED, /* single-function function 0 while function `other_fn` exists */
};

/* A placement request and its outcome. */
struct pci_place {
    int devfn;                /* in: wanted devfn or -1 for "lowest free slot"; out: the devfn */
    bool multifunction;       /* the new function has multifunction=on */
    bool hotplug;             /* added after start (QEMU's dev->hotplugged) */
    struct pci_device *other; /* out: the function in the way */
    int other_fn;             /* out: for PCI_PLACE_FN0_POPULATED */
};

/*
 * pci_bus_place() - apply the placement rules above without changing the bus.
 * Returns the result; on PCI_PLACE_OK p->devfn is where the function goes.
 */
enum pci_place_result pci_bus_place(const struct pci_bus *bus, struct pci_place *p);

/*
 * pci_bus_attach() - plug `d` at `devfn` (already checked by pci_bus_place()).
 * Sets d->bus and d->devfn. Returns 0 or -EBUSY if the devfn is taken.
 */
int pci_bus_attach(struct pci_bus *bus, struct pci_device *d, uint8_t devfn);

/* pci_bus_detach() - unplug `d` from its bus; its INTx lines are deasserted first. d->bus still
 * names the bus afterwards: a vCPU may be inside the device until the grace period ends. */
void pci_bus_detach(struct pci_device *d);

/* Notifications from devices, forwarded to the root bus's ops (no-ops without ops). */
void pci_bus_map_changed(struct pci_bus *bus);
void pci_bus_intx_change(struct pci_bus *bus, struct pci_device *d, int pin, int change);
void pci_bus_msi_deliver(struct pci_bus *bus, struct pci_device *d, uint64_t addr, uint32_t data);
/* pci_bus_eject() - the guest removed slot `slot` of `bus` (any thread; see ops->eject). */
void pci_bus_eject(struct pci_bus *bus, unsigned slot);

/*
 * pci_swizzle() - the INTx pin a function's `pin` (0..3) appears on at the bridge above, for a
 * function in slot `slot` (PCI-to-PCI Bridge 1.2 §9.1, table 9-1): (pin + slot) mod 4.
 */
static inline int pci_swizzle(unsigned slot, int pin)
{
    return (int)((pin + slot) % PCI_NUM_PINS);
}

#endif
