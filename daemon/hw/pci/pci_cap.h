/* SPDX-License-Identifier: MIT */
/*
 * pci_cap.h — the capability list of a function (PCI 3.0 §6.7) and, for PCIe functions, the
 * extended capability list (PCIe 4.0 §7.6).
 *
 * Policy: a capability is allocated in `used` (rounded up to 4 bytes), linked at the head of
 * the list (as QEMU does, so the pointer at 0x34 names the newest), and its body is read-only
 * (wmask 0) and checked on load (cmask 0xff) unless the model opens bytes afterwards. Adding
 * the first capability sets Status.CAP_LIST; deleting the last clears it.
 *
 * Walks that read the list from config space are bounded and check alignment, because the
 * list lives in guest-visible bytes (house style rule 6).
 *
 * Threads: control plane or under the device lock; reads (find/walk) are safe lock-free on a
 * device whose capability layout no longer changes.
 */
#ifndef PCID_HW_PCI_CAP_H
#define PCID_HW_PCI_CAP_H

#include "pci.h"

/* First byte a capability may use (after the predefined header) and the end of the space. */
#define PCI_CAP_SPACE_START PCI_CONFIG_HEADER_SIZE
#define PCI_EXT_CAP_START   0x100

/* At most this many entries are followed in a walk: (256 - 64) / 4 for the standard list. */
#define PCI_CAP_WALK_MAX     48
#define PCI_EXT_CAP_WALK_MAX ((PCIE_CONFIG_SPACE_SIZE - PCI_EXT_CAP_START) / 4)

/*
 * pci_cap_add() - add a capability with id `cap_id` and `size` bytes (>= 2).
 * @offset: 0 = first fit in 0x40..0xFF (QEMU's pci_find_space), else an explicit offset
 *          (>= 0x40, dword aligned) that must not overlap an existing capability.
 * Writes the ID and next pointer, links it at the head of the list.
 * Returns the offset (> 0), -EINVAL (bad size/offset), -ENOSPC (no room), -EBUSY (overlap).
 */
int pci_cap_add(struct pci_device *d, uint8_t cap_id, uint8_t offset, uint8_t size);

/*
 * pci_cap_del() - unlink capability `cap_id` of `size` bytes; its bytes become free and
 * writable again (wmask 0xff, w1cmask and cmask 0). Returns 0, or -ENOENT.
 */
int pci_cap_del(struct pci_device *d, uint8_t cap_id, uint8_t size);

/*
 * pci_cap_find() - offset of the first capability with `cap_id`, 0 if none.
 * @prev: if not NULL, receives the offset of the byte that points at it (0x34 or a next field).
 */
uint8_t pci_cap_find(const struct pci_device *d, uint8_t cap_id, uint8_t *prev);

/*
 * pci_cap_reserve() - mark [offset, offset+size) (rounded up to a dword) as used without
 * linking anything: after a snapshot load restored a layout, so later additions do not land on
 * it. `offset` must be dword aligned and >= 0x40. Returns 0 or -EINVAL.
 */
int pci_cap_reserve(struct pci_device *d, uint16_t offset, uint16_t size);

/* One entry of a walk. */
struct pci_cap_entry {
    uint16_t offset;
    uint16_t id;     /* capability ID (standard) or extended capability ID */
    uint8_t version; /* extended capabilities only */
    bool extended;
};

/*
 * pci_cap_walk() - list the standard capabilities (then the extended ones of a PCIe function)
 * in list order into `out` (at most `max`). Stops at a null pointer, a pointer into the header
 * or out of range, a misaligned pointer, a revisit, or the walk bound.
 * Returns the number of entries, or -ELOOP if the list was malformed (entries before the
 * fault are still returned in `out` and counted in *n_out when n_out is not NULL).
 */
int pci_cap_walk(const struct pci_device *d, struct pci_cap_entry *out, int max, int *n_out);

/*
 * pci_ext_cap_add() - add a PCIe extended capability at `offset` (>= 0x100, dword aligned) of
 * `size` bytes with `cap_id` and `version`, linked at the end of the extended list (offset
 * 0x100 first, as PCIe requires the list to start there). Body read-only, checked on load.
 * Returns the offset, -EINVAL (not PCIe, bad offset/size), -EBUSY (overlap).
 */
int pci_ext_cap_add(struct pci_device *d, uint16_t cap_id, uint8_t version, uint16_t offset,
                    uint16_t size);

/* pci_ext_cap_find() - offset of the first extended capability `cap_id`, 0 if none. */
uint16_t pci_ext_cap_find(const struct pci_device *d, uint16_t cap_id);

/* One capability with the bytes allocated to it: the layout a snapshot records. */
struct pci_cap_span {
    uint16_t offset;
    uint16_t id;     /* capability ID, or extended capability ID */
    uint16_t size;   /* bytes allocated in `used` from offset: the capability's size rounded
                        up to a dword (PCI 3.0 §6.7), up to the next capability */
    uint8_t version; /* extended capabilities only */
    bool extended;
};

/* Room for every entry a bounded walk can return. */
#define PCI_CAP_LAYOUT_MAX (PCI_CAP_WALK_MAX + PCI_EXT_CAP_WALK_MAX)

/*
 * pci_cap_layout() - the capabilities of `d` in list order (standard, then extended) with
 * their allocated sizes, into `out` (at most `max`). A capability's size is the run of used
 * bytes from its offset, stopping at the next capability, a free byte, or the end of its list's
 * space (0x100, or the config size for extended ones).
 * Returns the number of entries, or -ELOOP for a malformed list (pci_cap_walk()).
 * Control plane with d->lock held (the walk reads Status, which vCPUs write).
 */
int pci_cap_layout(const struct pci_device *d, struct pci_cap_span *out, int max);

/*
 * pci_cap_restore_layout() - after a snapshot load wrote config space: make `used` describe
 * exactly the `n` capabilities in `caps` (QEMU's pci_reserve_capability after a load). Bytes a
 * loaded capability claims that were free become used with a read-only, checked body (as
 * pci_cap_add() leaves it); bytes that were used and no loaded capability claims become free
 * and writable (as pci_cap_del() leaves them); bytes used before and after keep their masks,
 * which the model set. Entries below 0x40 or past the config space are ignored.
 * Caller holds d->lock.
 */
void pci_cap_restore_layout(struct pci_device *d, const struct pci_cap_span *caps, int n);

#endif
