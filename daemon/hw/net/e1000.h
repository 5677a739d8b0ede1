/* SPDX-License-Identifier: MIT */
/*
 * e1000.h — the 82540EM model's state, shared by its config-space half (e1000.c) and its
 * register half (e1000_regs.c).
 *
 * Guest view (Intel 8254x Software Developer's Manual, "SDM"; behaviour as QEMU 7.2's
 * hw/net/e1000.c): BAR0 is the 128 KiB register file (SDM §13), BAR1 the 64-byte I/O window
 * (IOADDR/IODATA, SDM §13), which QEMU leaves unimplemented (reads 0, writes dropped), and
 * INTA# follows ICR & IMS. The EEPROM image is built once at realize; a reset (PCI RST# or
 * system reset) reloads the register defaults, the PHY registers and RAL0/RAH0 from the MAC.
 *
 * Ownership: struct e1000 embeds the pci_device first; e1000.c allocates and frees it.
 *
 * Threads: e1000_mmio_ops / e1000_io_ops run on a vCPU thread with pci.lock held, never
 * block and never fail (house style rule 2); the first write to the packet buffer allocates
 * it there (64 KiB; without memory the write is dropped). e1000_regs_init() runs on the control
 * plane before the device is visible; e1000_regs_reset() under pci.lock (the reset hook).
 *
 * Time: QEMU's model arms virtual-clock timers (interrupt mitigation, autonegotiation). pcid
 * runs no guest code, so no virtual time passes — as in QEMU started with -S, where the access
 * scripts are recorded: an armed timer never expires (see e1000_regs.c).
 */
#ifndef PCID_HW_NET_E1000_H
#define PCID_HW_NET_E1000_H

#include "../pci/pci.h"

#define E1000_MMIO_SIZE    0x20000 /* BAR0 */
#define E1000_IO_SIZE      0x40    /* BAR1 */
#define E1000_EEPROM_WORDS 64      /* 82540EM: 64 x 16-bit Microwire EEPROM (SDM ch. 5) */
#define E1000_PHY_REGS     0x20
/* Registers at offsets 0x00000-0x0FFFF; the packet buffer memory above is kept apart. */
#define E1000_MAC_REGS 0x4000
#define E1000_PBM_REGS 0x4000 /* PBM, offsets 0x10000-0x1FFFF */

/* QEMU's compat_flags: the property bits that gate parts of the model. */
#define E1000_FLAG_AUTONEG (1u << 0) /* "autonegotiation" */
#define E1000_FLAG_MIT     (1u << 1) /* "mitigation": ITR/RDTR/RADV/TADV and the window */
#define E1000_FLAG_MAC     (1u << 2) /* "extra_mac_registers" */
#define E1000_FLAG_TSO     (1u << 3) /* "migrate_tso_props" (migration only) */
#define E1000_FLAG_VET     (1u << 4) /* "init-vet": VET reads 0x8100 after reset */

struct e1000 {
    struct pci_device pci;

    /* Fixed at realize. */
    uint8_t mac[6];
    uint32_t flags;   /* E1000_FLAG_* */
    uint16_t phy_id2; /* PHY identifier 2: 0xc20 (82540EM, 82545EM) or 0xc30 (82544GC) */
    uint16_t eeprom[E1000_EEPROM_WORDS];

    /* Register state, guarded by pci.lock. mac_reg is E1000_MAC_REGS words indexed by offset
     * / 4, an anonymous mapping of its own: the pages of registers nobody wrote stay unbacked
     * (most of the 64 KiB), which keeps a device small and its hot-add free of page clearing. */
    uint32_t *mac_reg;
    uint32_t *pbm; /* packet buffer memory, allocated on first write */
    uint16_t phy[E1000_PHY_REGS];
    struct {
        uint32_t val_in; /* bits shifted in from the guest (opcode, address) */
        uint16_t bitnum_in, bitnum_out;
        bool reading;      /* a READ opcode was shifted in: DO carries data */
        uint32_t old_eecd; /* SK, CS, DI, FWE, REQ as last written */
    } eecd;
    /* mac_reg may differ from what a reset leaves: set by the BAR0 handlers and a state load,
     * cleared by a reset. A reset of an untouched device skips clearing mac_reg, so it does
     * not fault in pages that hold only zeroes. */
    bool regs_touched;
    bool mit_timer_on;  /* interrupt mitigation window open (QEMU's mit_timer armed) */
    bool mit_irq_level; /* INTA# as the model drives it */
};

/* BAR0 and BAR1 handlers; opaque is the struct e1000. */
extern const struct pci_region_ops e1000_mmio_ops;
extern const struct pci_region_ops e1000_io_ops;

/*
 * e1000_regs_init() - build the EEPROM image (QEMU's e1000_eeprom_template: words 0-2 the MAC,
 * 11 and 13 the PCI device ID, 0x3f the checksum that makes the 64 words sum to 0xBABA, SDM
 * ch. 5), map the register file and load the register defaults. `mac`, `flags` and `phy_id2`
 * must be set. Control plane, device not yet visible. Returns 0, or -ENOMEM when the register
 * file (64 KiB of address space) cannot be mapped; e1000_regs_free() is safe either way.
 */
int e1000_regs_init(struct e1000 *s, uint16_t device_id);

/*
 * e1000_regs_reset() - QEMU's e1000 reset: register and PHY defaults, RAL0/RAH0 = MAC with
 * Address Valid, VET = 0x8100 with init-vet, mitigation window closed. The EEPROM image and
 * the EECD shift state survive (QEMU keeps them). INTA# is left to the PCI core. Caller holds
 * pci.lock or owns the device alone.
 */
void e1000_regs_reset(struct e1000 *s);

/* e1000_regs_free() - release what the register half allocated (register file, packet
 * buffer). After the device's RCU grace period (its destroy hook). */
void e1000_regs_free(struct e1000 *s);

/*
 * Device-state snapshots (pci_dev_class hooks, e1000_state.c): the register file (sparse: the
 * non-zero registers), the PHY registers, the EEPROM shift state, the mitigation window and
 * INTA# as the model drives it, and the packet buffer when it exists. Format
 * E1000_STATE_VERSION, documented in docs/state.md. Threads and errors as struct pci_dev_class
 * says. The EEPROM image is not saved: it follows from the MAC and device ID at realize.
 */
#define E1000_STATE_VERSION 1
void e1000_state_save(struct pci_device *d, struct sbuf *out);
int e1000_state_check(const struct pci_device *d, const uint8_t *p, size_t len, uint32_t version,
                      struct error *err);
void e1000_state_load(struct pci_device *d, const uint8_t *p, size_t len, uint32_t version);

#endif
