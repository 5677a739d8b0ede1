/* SPDX-License-Identifier: MIT */
/*
 * pci_bridge.h — the type 1 header shared by every PCI-to-PCI bridge and PCIe port
 * (PCI-to-PCI Bridge Architecture 1.2 §3.2), as QEMU 7.2's hw/pci/pci_bridge.c presents it:
 * primary/secondary/subordinate bus numbers, the I/O, memory and prefetchable windows, the
 * bridge control register, and the secondary bus the bridge owns.
 *
 * What a bridge changes in the machine:
 *  - bus numbers: configuration cycles reach the secondary bus only through its number
 *    (pci_bus_find_nr); a write to 0x18-0x1a or Bridge Control republishes the address map;
 *  - windows: a BAR behind the bridge decodes only where a window (and Command I/O or Memory)
 *    of every bridge above it forwards the address (pci_bridge_forwards_addr);
 *  - Bridge Control Secondary Bus Reset, 0 -> 1: every function below is reset;
 *  - reset: bus numbers, windows and Bridge Control cleared (QEMU's pci_bridge_reset); a PCIe
 *    port then sets every window's base above its limit (pci_bridge_disable_base_limit).
 *
 * Ownership: a model embeds `struct pci_bridge` first in its structure; pci_bridge_init()
 * creates the secondary bus, which the bridge owns and frees (pci_bridge_fini) with itself.
 * The machine names the bus and links it into the tree when the bridge is plugged.
 *
 * Threads: init/fini on the control plane; pci_bridge_config_write() with the bridge's lock
 * held (vCPU); the window and bus-number readers are lock-free on any thread.
 * Errors: -ENOMEM.
 */
#ifndef PCID_HW_PCI_BRIDGE_H
#define PCID_HW_PCI_BRIDGE_H

#include "pci.h"
#include "pci_bus.h"

#define PCI_CLASS_BRIDGE_PCI 0x0604 /* PCI Code and ID Assignment 1.11 §1.7: PCI-to-PCI bridge */

struct pcie_slot;
struct shpc;

struct pci_bridge {
    struct pci_device pci; /* first: a bridge is a PCI function */
    struct pci_bus *sec;   /* the secondary bus (owned) */
    /* The hot-plug controllers the model has, for the machine (NULL = none). */
    struct pcie_slot *slot; /* a PCIe root/downstream port's slot (pcie.h) */
    struct shpc *shpc;      /* a standard hot-plug controller (shpc.h) */
};

static inline struct pci_bridge *pci_bridge_of(struct pci_device *d)
{
    return d ? d->bridge : NULL;
}

/*
 * pci_bridge_init() - build the type 1 header of `br` (zeroed, embedded in its model):
 * pci_dev_init with a bridge header, class 0x0604, Status and Secondary Status 66MHz and
 * Fast Back-to-Back (QEMU's pci_bridge_initfn), the bridge write masks, and an unnamed
 * secondary bus (`express` for a PCIe port's bus). Returns 0 or -ENOMEM / -EINVAL; after a
 * failure with d->config set the caller frees with pci_dev_destroy() (the model's destroy hook
 * calls pci_bridge_fini).
 */
int pci_bridge_init(struct pci_bridge *br, const struct pci_dev_class *cls, uint32_t config_size,
                    bool express);

/* pci_bridge_fini() - free the secondary bus (its devices belong to the machine). */
void pci_bridge_fini(struct pci_bridge *br);

/*
 * pci_bridge_reset() - QEMU's pci_bridge_reset: bus numbers and secondary latency 0, window
 * base/limit address bits cleared (type bits kept), upper 32 bits 0, Bridge Control 0.
 * Caller holds the lock.
 */
void pci_bridge_reset(struct pci_bridge *br);

/* pci_bridge_disable_base_limit() - every window's base above its limit (I/O base 0xf0,
 * memory bases 0xfff0, limits 0, upper halves 0): what PCIe ports do at reset. */
void pci_bridge_disable_base_limit(struct pci_bridge *br);

/*
 * pci_bridge_config_write() - the generic masked write, then the bridge's side effects: a
 * changed window, Command, bus number or Bridge Control republishes the address map; Secondary
 * Bus Reset going 0 -> 1 resets every function below. Caller holds the bridge's lock; the
 * functions below are reset under their own locks (parent before child).
 */
void pci_bridge_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);

/*
 * pci_bus_reset_below() - reset every function on `bus` and, through bridges, every bus below
 * it (QEMU's bus_cold_reset), each under its own lock. Caller must not hold those locks.
 */
void pci_bus_reset_below(struct pci_bus *bus);

/* The three windows of a bridge (PCI-to-PCI Bridge 1.2 §3.2.5.6-9). */
enum pci_bridge_window {
    PCI_BRIDGE_WINDOW_IO,
    PCI_BRIDGE_WINDOW_MEM,
    PCI_BRIDGE_WINDOW_PREF,
};

/*
 * pci_bridge_window() - base and limit of a window as the registers say (QEMU's
 * pci_bridge_get_base/limit): I/O 4 KiB granular (32-bit when the type bits say so), memory
 * 1 MiB granular, prefetchable 64-bit when its type bits say so. `cfg` is the first 64 bytes of
 * the bridge's config space. A window whose base is above its limit forwards nothing.
 */
void pci_bridge_window(const uint8_t *cfg, enum pci_bridge_window w, uint64_t *base,
                       uint64_t *limit);

/*
 * pci_bridge_forwards_addr() - the bridge passes a memory (`io` false) or I/O access at `addr`
 * from its primary to its secondary side now: inside an enabled window (Command I/O or Memory)
 * or, with Bridge Control VGA, in the VGA ranges (0xa0000-0xbffff; 0x3b0-0x3bb, 0x3c0-0x3df).
 * Reads live registers; any thread.
 */
bool pci_bridge_forwards_addr(const struct pci_device *br, bool io, uint64_t addr);

/* One address interval [lo, hi]. */
struct pci_range {
    uint64_t lo, hi;
};

#define PCI_BRIDGE_RANGES_MAX 3

/*
 * pci_bridge_ranges() - the intervals pci_bridge_forwards_addr() accepts, for the address map
 * builder: up to PCI_BRIDGE_RANGES_MAX, unsorted, possibly overlapping. Returns the count.
 */
unsigned pci_bridge_ranges(const struct pci_device *br, bool io, struct pci_range *out);

#endif
