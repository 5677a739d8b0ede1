/* SPDX-License-Identifier: MIT */
/*
 * pci.h — one PCI function: its configuration space, BARs and interrupt pins.
 *
 * Purpose: the guest-visible half of a PCI function, modelled as QEMU's PCI core does: five
 * per-byte arrays over the configuration space (config, wmask, w1cmask, cmask, used) and one
 * mask-driven write routine; side effects (BAR mapping, Command register, capabilities) follow
 * from the written range (house style rule 4).
 *
 * Ownership: a device model allocates its own structure with `struct pci_device` embedded and
 * calls pci_dev_init(); pci_dev_destroy() releases what pci_dev_init() allocated and then calls
 * the class's destroy hook. A device belongs to at most one bus (pci_bus.h).
 *
 * Threads: pci_dev_config_read() of a plain register needs no lock (a vCPU may call it under
 * RCU); pci_dev_config_write() and everything that changes state must hold `lock` (vCPU) or
 * the control lock with the device unpublished (control plane, before the device is visible).
 *
 * Errors: -EINVAL for out-of-range offsets or sizes, -ENOSPC when a capability does not fit,
 * -EBUSY when it overlaps another. Guest accesses never fail: out-of-range reads return
 * all-ones and out-of-range writes are dropped (house style rule 2).
 *
 * Sources: PCI Local Bus Specification 3.0 §6 (configuration space), PCI Express Base 4.0 §7.
 */
#ifndef PCID_HW_PCI_H
#define PCID_HW_PCI_H

#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../util/util.h"

#define PCI_CONFIG_SPACE_SIZE          256  /* PCI 3.0 §6.1: type 0/1 space */
#define PCIE_CONFIG_SPACE_SIZE         4096 /* PCIe 4.0 §7.2.2: extended space */
#define PCI_CONFIG_HEADER_SIZE         0x40 /* PCI 3.0 §6.1: predefined header */
#define PCI_NUM_BARS                   6
#define PCI_ROM_SLOT                   6 /* region index of the expansion ROM BAR */
#define PCI_NUM_REGIONS                7
#define PCI_NUM_PINS                   4 /* INTA#..INTD# */
#define PCI_SLOT_MAX                   32
#define PCI_FUNC_MAX                   8
#define PCI_DEVFN_MAX                  256
#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80 /* PCI 3.0 §6.2.1: bit 7 of Header Type */

#define PCI_DEVFN_OF(slot, fn) ((uint8_t)(((slot)&0x1f) << 3 | ((fn)&0x07)))
#define PCI_SLOT_OF(devfn)     (((devfn) >> 3) & 0x1f)
#define PCI_FUNC_OF(devfn)     ((devfn)&0x07)

/* Bridge Control bits linux/pci_regs.h does not name (PCI-to-PCI Bridge 1.2 §3.2.5.18). */
#ifndef PCI_BRIDGE_CTL_VGA_16BIT
#define PCI_BRIDGE_CTL_VGA_16BIT 0x10
#endif
#ifndef PCI_BRIDGE_CTL_DISCARD
#define PCI_BRIDGE_CTL_DISCARD 0x100 /* primary discard timer */
#endif
#ifndef PCI_BRIDGE_CTL_SEC_DISCARD
#define PCI_BRIDGE_CTL_SEC_DISCARD 0x200 /* secondary discard timer */
#endif
#ifndef PCI_BRIDGE_CTL_DISCARD_STATUS
#define PCI_BRIDGE_CTL_DISCARD_STATUS 0x400
#endif
#ifndef PCI_BRIDGE_CTL_DISCARD_SERR
#define PCI_BRIDGE_CTL_DISCARD_SERR 0x800
#endif

/* A BAR whose decoder is off or whose address is invalid (QEMU's PCI_BAR_UNMAPPED). */
#define PCI_BAR_UNMAPPED UINT64_MAX

struct pci_bus;
struct pci_device;
struct pci_bridge;
struct msix;
struct sbuf;
struct error;

/* Guest accesses to a BAR's contents; offsets are relative to the BAR's start. */
struct pci_region_ops {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned len);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned len);
};

/* One base address register (PCI 3.0 §6.2.5.1) or the expansion ROM BAR (§6.2.5.2). */
struct pci_bar {
    uint64_t size; /* bytes, a power of two; 0 = not implemented */
    uint8_t type;  /* PCI_BASE_ADDRESS_SPACE_IO, or memory with MEM_TYPE_64 / MEM_PREFETCH */
    uint64_t addr; /* decoded address, or PCI_BAR_UNMAPPED */
    const struct pci_region_ops *ops;
    void *opaque;
};

/* What a device model adds to the generic behaviour. Every hook is optional. */
struct pci_dev_class {
    /* QEMU's type name, used in messages: "virtio-net-pci", "i440FX", "PIIX3". */
    const char *name;
    /* Replaces the default read for this device; must fall back to pci_default_config_read. */
    uint32_t (*config_read)(struct pci_device *d, uint32_t offset, unsigned len);
    /* Replaces the default write; must call pci_default_config_write for the masked update. */
    void (*config_write)(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);
    /* Device-specific part of a reset (the generic part is done by pci_dev_reset). */
    void (*reset)(struct pci_device *d);
    /* The device leaves the machine (unplug), before the grace period that ends in destroy:
     * give back what is shared with others, as QEMU's unrealize does. Control lock held. */
    void (*unrealize)(struct pci_device *d);
    /* Frees the model's structure that embeds the pci_device. */
    void (*destroy)(struct pci_device *d);

    /*
     * Device-state snapshots (daemon/state/snapshot.c). A model with register state beyond
     * config space, irq_state and MSI-X sets the three hooks and state_version, the format
     * version of what state_save writes (>= 1; bump it when the layout changes).
     * state_save: append the register state to `out`. Caller holds d->lock.
     * state_check: would `len` bytes at `p`, written by state_save in format `version`
     *   (1..state_version), load into `d`? Changes nothing. Returns 0, or -EINVAL with `err`
     *   naming the byte offset in the register state and the field. Control lock held.
     * state_load: apply what state_check accepted. Caller holds d->lock; cannot fail; drives
     *   no interrupt (the snapshot's irq_state is applied afterwards).
     */
    uint32_t state_version;
    void (*state_save)(struct pci_device *d, struct sbuf *out);
    int (*state_check)(const struct pci_device *d, const uint8_t *p, size_t len, uint32_t version,
                       struct error *err);
    void (*state_load)(struct pci_device *d, const uint8_t *p, size_t len, uint32_t version);
};

struct pci_device {
    /* Guest-visible state: per-byte arrays of config_size bytes each. */
    uint8_t *config;  /* the registers as the guest reads them */
    uint8_t *wmask;   /* bits a guest write may change */
    uint8_t *w1cmask; /* bits a guest write of 1 clears (write-1-to-clear) */
    uint8_t *cmask;   /* bits a loaded snapshot must match (QEMU's "Bad config data" rule) */
    uint8_t *used;    /* bytes allocated to a capability; 0 = free */
    uint32_t config_size;
    /* Offsets [start, end) where the class's config_read hook must see reads (reads elsewhere
     * take the lock-free default path). pci_dev_init sets the whole space; a model narrows it
     * once at realize, before the device is published. */
    uint16_t read_hook_start, read_hook_end;
    struct pci_bar bars[PCI_NUM_REGIONS];
    uint8_t irq_state[PCI_NUM_PINS]; /* level of INTA#..INTD#, 0 or 1 */
    struct msix *msix;               /* MSI-X state, NULL without the capability */
    uint8_t msi_cap;                 /* offset of the MSI capability, 0 = none (msi.h) */
    uint8_t exp_cap;                 /* offset of the PCI Express capability, 0 = none */
    uint8_t pm_cap;                  /* offset of the Power Management capability, 0 = none */
    uint16_t aer_cap, acs_cap;       /* extended capabilities (pcie.h), 0 = none */
    /* A type 1 function's bridge state (pci_bridge.h): NULL for type 0 functions. */
    struct pci_bridge *bridge;
    /* Power removed by the slot above (PCIe Slot Control, QEMU's has_power false): config
     * cycles read all-ones, writes are dropped, BARs do not decode. Atomic. */
    bool powered_off;
    /* x-pcie-lnksta-dllla=off (QEMU's QEMU_PCIE_LNKSTA_DLLLA cleared): a native slot this
     * function is plugged into sets Data Link Layer Link Active only if the port reports it. */
    bool no_lnksta_dllla;

    /* Topology. */
    struct pci_bus *bus;
    uint8_t devfn;

    /* Identity and management. */
    const struct pci_dev_class *cls;
    const char *name;    /* QEMU type name shown in messages ("virtio-net-pci", "PIIX3") */
    char *id;            /* the user's id (qdev id); NULL for built-in functions */
    bool multifunction;  /* the user asked for multifunction=on (header type bit 7) */
    bool hotpluggable;   /* may be removed with device_del */
    bool hotplugged;     /* added after machine start */
    bool unrealized;     /* cls->unrealize has run */
    bool unplug_pending; /* device_del was requested and the guest has not ejected yet */
    /* QEMU's pending_deleted_expires_ms: from this time on the virtual clock (ms) a repeated
     * device_del is taken again; 0 = never (api/device.c). */
    uint64_t unplug_expires_ms;

    /* Guards register state with side effects; plain config reads need none. */
    pthread_mutex_t lock;
};

/*
 * pci_dev_init() - allocate the configuration space arrays and set the generic masks.
 * @d: the device, zeroed, embedded in its model's structure
 * @cls: the model's class (must outlive the device)
 * @config_size: PCI_CONFIG_SPACE_SIZE or PCIE_CONFIG_SPACE_SIZE
 * @header_type: PCI_HEADER_TYPE_NORMAL or PCI_HEADER_TYPE_BRIDGE
 * Sets the QEMU defaults: Command bits IO|MEMORY|MASTER|SERR|INTX_DISABLE writable, Cache Line
 * Size and Interrupt Line writable, everything past the header writable until a capability
 * claims it; Status error bits write-1-to-clear; IDs, class and header type checked (cmask).
 * Returns 0, or -ENOMEM / -EINVAL (bad size).
 */
int pci_dev_init(struct pci_device *d, const struct pci_dev_class *cls, uint32_t config_size,
                 uint8_t header_type);

/*
 * pci_dev_unrealize() - the device leaves the machine: run cls->unrealize once (later calls do
 * nothing). Control plane.
 */
void pci_dev_unrealize(struct pci_device *d);

/* pci_dev_destroy() - unrealize if not yet done, free the arrays and MSI-X state, then call
 * cls->destroy. NULL is fine. */
void pci_dev_destroy(struct pci_device *d);

/* Identification registers (PCI 3.0 §6.2.1); class is base<<16 | sub<<8 | prog-if. */
void pci_dev_set_ids(struct pci_device *d, uint16_t vendor, uint16_t device, uint8_t revision,
                     uint32_t class_code);
void pci_dev_set_subsystem(struct pci_device *d, uint16_t subsys_vendor, uint16_t subsys_id);
/* Interrupt Pin register: 0 = none, 1..4 = INTA#..INTD#. */
void pci_dev_set_irq_pin(struct pci_device *d, uint8_t pin);

/*
 * pci_dev_irq_pin() - the INTx pin `d` declares in its Interrupt Pin register (PCI 3.0 §6.2.4),
 * 0-3 for INTA-INTD, or -1 when it uses none. Safe against a concurrent config write.
 */
int pci_dev_irq_pin(const struct pci_device *d);
/* Sets or clears the multifunction bit (bit 7) of the Header Type register. */
void pci_dev_set_multifunction(struct pci_device *d, bool on);

static inline uint16_t pci_dev_vendor_id(const struct pci_device *d)
{
    return le_get16(d->config + PCI_VENDOR_ID);
}
static inline uint16_t pci_dev_device_id(const struct pci_device *d)
{
    return le_get16(d->config + PCI_DEVICE_ID);
}
/* Base class and subclass (the upper 16 bits of the class code). */
static inline uint16_t pci_dev_class_id(const struct pci_device *d)
{
    return le_get16(d->config + PCI_CLASS_DEVICE);
}
static inline bool pci_dev_is_bridge(const struct pci_device *d)
{
    return (d->config[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE;
}
static inline bool pci_dev_is_express(const struct pci_device *d)
{
    return d->config_size == PCIE_CONFIG_SPACE_SIZE;
}
/* The slot's power is on (see powered_off). Any thread. */
static inline bool pci_dev_powered(const struct pci_device *d)
{
    return !__atomic_load_n(&d->powered_off, __ATOMIC_ACQUIRE);
}

/*
 * pci_dev_set_power() - QEMU's pci_set_power: give or take the function's power. Taking it
 * resets the function (pci_dev_reset) and unmaps its BARs; giving it back maps them again by
 * the registers. Caller holds d->lock. Returns true when the address map changed.
 */
bool pci_dev_set_power(struct pci_device *d, bool on);

/*
 * pci_dev_config_read() - a guest (or monitor) configuration read.
 * @offset: byte offset in configuration space; @len: 1 to 4 bytes, any alignment (QEMU serves
 * unaligned configuration accesses; PCI 3.0 §3.2.2.3.2 leaves them to the host bridge).
 * Returns the value, little-endian as the guest sees it; all-ones if the access runs outside
 * the configuration space.
 * Lock-free for plain registers; a model hook may take the device lock. Inline: this is the hot
 * path of every configuration cycle.
 */
static inline uint32_t pci_dev_config_read(struct pci_device *d, uint32_t offset, unsigned len)
{
    if (len < 1 || len > 4 || offset >= d->config_size || offset + len > d->config_size)
        return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
    if (d->cls && d->cls->config_read && offset < d->read_hook_end &&
        offset + len > d->read_hook_start)
        return d->cls->config_read(d, offset, len);
    return (uint32_t)le_load(d->config + offset, len);
}

/*
 * pci_dev_config_write() - a guest configuration write, through the model's hook if any.
 * @offset, @len: as for reads; writes outside the configuration space are dropped.
 * Caller holds d->lock.
 */
void pci_dev_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);

/* The generic read and write, for models that override and fall back (QEMU's defaults). */
uint32_t pci_default_config_read(struct pci_device *d, uint32_t offset, unsigned len);
void pci_default_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);

/*
 * pci_dev_reset() - PCI reset (RST#) of one function: writable Command/Status bits cleared,
 * Cache Line Size and Interrupt Line zeroed, BARs back to their type bits, INTx deasserted,
 * MSI and MSI-X reset, then the model's reset hook. Caller holds d->lock or owns the device
 * alone.
 */
void pci_dev_reset(struct pci_device *d);

/*
 * pci_bar_register() - declare BAR `region` (0..5, or PCI_ROM_SLOT).
 * @size: a power of two; I/O BARs at least 4 bytes, memory BARs at least 16.
 * @type: PCI_BASE_ADDRESS_SPACE_IO, or 0 / PCI_BASE_ADDRESS_MEM_TYPE_64 possibly with
 *        PCI_BASE_ADDRESS_MEM_PREFETCH; the ROM slot takes 0.
 * The BAR's writable mask becomes ~(size - 1) (plus the ROM enable bit), so writing all-ones
 * reads back the size mask (PCI 3.0 §6.2.5.1). A 64-bit BAR also claims region + 1.
 * Returns 0, or -EINVAL for a bad region, size or type, -EBUSY if the slot is taken.
 */
int pci_bar_register(struct pci_device *d, int region, uint64_t size, uint8_t type,
                     const struct pci_region_ops *ops, void *opaque);

/*
 * pci_bar_address() - the address BAR `region` decodes now, from its register and the
 * Command register, or PCI_BAR_UNMAPPED (decoder off, address 0, wraps, or beyond 4 GiB for a
 * 32-bit BAR; the ROM also needs its enable bit). QEMU's pci_bar_address rules.
 */
uint64_t pci_bar_address(const struct pci_device *d, int region);

/* The address BAR `region` decodes now (kept by pci_dev_update_mappings), read from any thread.
 */
static inline uint64_t pci_bar_addr(const struct pci_device *d, int region)
{
    return __atomic_load_n(&d->bars[region].addr, __ATOMIC_RELAXED);
}

/*
 * pci_dev_config_copy() - copy `len` bytes of config space from `offset` into `out`, safely
 * against concurrent guest writes (each byte read atomically; a multi-byte register written at
 * the same moment may be seen half old, half new, as on hardware). Any thread.
 */
void pci_dev_config_copy(const struct pci_device *d, uint8_t *out, uint32_t offset, uint32_t len);

/* Offset in configuration space of the register of BAR `region` (0x10.., ROM 0x30 or 0x38). */
uint32_t pci_bar_offset(const struct pci_device *d, int region);

/*
 * pci_dev_update_mappings() - recompute every BAR's decoded address after a write to a BAR or
 * the Command register. Returns true when any address changed (the caller republishes the
 * address map).
 */
bool pci_dev_update_mappings(struct pci_device *d);

/*
 * pci_dev_set_irq() - drive INTx pin `pin` (0..3) to `level` (0/1). Updates irq_state and the
 * Interrupt Status bit; delivery is masked while Command.INTX_DISABLE is set. Caller holds
 * d->lock.
 */
void pci_dev_set_irq(struct pci_device *d, int pin, int level);

#endif
