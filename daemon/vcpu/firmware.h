/* SPDX-License-Identifier: MIT */
/*
 * firmware.h — the guest model's firmware and OS resource management: PCI enumeration and
 * resource assignment by SeaBIOS 1.16's rules (src/fw/pciinit.c), performed on a vCPU through
 * configuration cycles (mechanism #1 at 0xCF8/0xCFC, ECAM once the firmware enabled it),
 * exactly as a guest does them, never by calling the device model.
 *
 * Boot (firmware_run, firmware.c), SeaBIOS's order:
 *   1. probe the configuration mechanism;
 *   2. number the buses depth first (pci_bios_init_bus_rec): every bridge of a bus first gets
 *      secondary 255 / subordinate 0, then each in slot order gets primary = this bus,
 *      secondary = the next number, subordinate 255 while the buses below are numbered, then
 *      the last number used below it (or secondary + QEMU's bus reservation when its
 *      resource-reserve capability asks for more);
 *   3. probe every bus up to the highest secondary number (function 0 of each slot, 1-7 only
 *      behind a multi-function header), remembering each function's bridge;
 *   4. identify the chipset by its host bridge: i440FX (32-bit window 0x80000000-0xfec00000)
 *      or the Q35 MCH (PCIEXBAR written to put ECAM at 0xb0000000, 256 MiB, then used for
 *      every later cycle; window 0xc0000000-0xfec00000; I/O may use 0x1000-0xffff);
 *   5. size every BAR (all-ones, restored; the ROM by its address mask; memory BARs under
 *      4 KiB take 4 KiB) into the list of its bus — the bus of its bridge, or the root;
 *      then bottom-up, from the highest bus number to 1, each bridge asks its parent for a
 *      window per kind it decodes (I/O probed by writing 0xff to I/O Base, prefetchable the
 *      same way): the sum of what is below, aligned to the larger of the kind's minimum
 *      (PCI_BRIDGE_IO_MIN 4 KiB, PCI_BRIDGE_MEM_MIN 2 MiB) and the largest alignment below; an
 *      empty bus of a hot-pluggable bridge (a PCIe root/downstream port with a slot, or a
 *      bridge with SHPC) still gets the minimum, except I/O behind a PCIe port; QEMU's
 *      resource-reserve capability (Red Hat vendor capability type 1 on 1b36:000c/0001) asks
 *      for more. A prefetchable window is 64-bit when the bridge decodes 64-bit and every
 *      entry below is 64-bit;
 *   6. place bus 0's lists: I/O from 0xC000 (from 0x1000 when it needs 16 KiB or more), each
 *      memory kind in the 32-bit window as SeaBIOS pci_bios_init_root_regions_mem (the kind
 *      with the smaller alignment at the top); when that does not fit, move the root's 64-bit
 *      entries above 4 GiB (1 GiB aligned) and try again; then bus by bus, kind by kind, in
 *      list order, each entry at the next address of its list: a BAR is written, a bridge
 *      window becomes the base of its bus's list and is written as I/O Base/Limit (+upper
 *      16), Memory Base/Limit, Prefetchable Base/Limit (+upper 32) — an empty window reads
 *      base > limit;
 *   7. per function, in probe order: the interrupt line from the PIRQ routing (links A-D to IRQ
 *      10, 10, 11, 11; the link of a function behind bridges adds every device number on the
 *      way up, as the bridges swizzle INTx; i440FX: (pin - 1 + slot - 1 + ...) mod 4; Q35:
 *      (pin - 1 + slot + ...) mod 4 for root slots 0-24, (pin - 1 + ...) mod 4 above), the
 *      chipset quirks (PIIX3 PIRQ route registers and ELCR; IDE decode enable; PIIX4 PM: SCI on
 *      IRQ 9, PM base 0x600, SMBus base 0x700; ICH9 LPC: PIRQA-H routes, ELCR, PMBASE 0x600,
 *      ACPI enable, RCBA 0xfed1c000; ICH9 SMBus base 0x700 and host enable), then Command |=
 *      I/O, Memory, SERR, and SERR forwarding in a bridge's Bridge Control.
 * The ROM BAR keeps its address with the enable bit clear (SeaBIOS's state after it copied
 * the ROM).
 *
 * Hot-add (firmware_assign_slot, fw_os.c), Linux's way: size the new functions' BARs with
 * decoding off and place each (largest alignment first) at the lowest free aligned address of
 * the window its bus decodes — the root window on bus 0, the bridge's I/O, memory or
 * prefetchable window (falling back to memory for a prefetchable BAR when the bridge has no
 * prefetchable window) — never over a BAR or window already assigned; take the interrupt line
 * from the chipset's PIRQ route register of the swizzled link; enable decoding and bus
 * mastering. A hot-added bridge gets the next free bus number inside its parent's range and
 * windows sized as the firmware sizes them, then what is behind it is configured the same way.
 *
 * Threads: everything runs on the vCPU passed in; `struct fw_platform` belongs to it.
 */
#ifndef PCID_VCPU_FIRMWARE_H
#define PCID_VCPU_FIRMWARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vcpu.h"

enum fw_kind { FW_IO, FW_MEM, FW_PREFMEM, FW_KINDS };

#define FW_BAR_WINDOW 7 /* fw_res.bar of a bridge window (its kind says which) */
#define FW_BUSES      256

/* An address range the guest has assigned to a BAR or a bridge window (its resource tree). */
struct fw_res {
    uint8_t bus, devfn, bar; /* bar: 0..5, 6 = expansion ROM, FW_BAR_WINDOW */
    uint8_t kind;            /* enum fw_kind */
    uint64_t base, size;
};

/* A bus the guest has numbered. */
struct fw_bus {
    bool present;
    uint8_t parent;      /* the bus of the bridge that leads here (bus > 0) */
    uint8_t devfn;       /* that bridge's function */
    uint8_t subordinate; /* the highest bus number behind it */
    bool booted;         /* numbered by the firmware (not by a hot-add) */
};

/* What the firmware found and set up, for the OS model that runs after it. */
struct fw_platform {
    const struct fw_chipset *chipset; /* NULL until firmware_run found one */
    uint16_t host_vendor, host_device;
    int pirq_devfn;              /* bus-0 function holding the PIRQ route registers, or -1 */
    uint64_t mmcfg;              /* ECAM base once the firmware enabled it, else 0 */
    uint64_t io_start, io_end;   /* I/O space for PCI BARs on bus 0 [start, end) */
    uint64_t mem_start, mem_end; /* 32-bit memory window [start, end) */
    unsigned functions;          /* functions found at boot */
    struct fw_bus buses[FW_BUSES];
    struct fw_res *res; /* every assigned BAR and bridge window */
    unsigned n_res, cap_res;
    FILE *log; /* SeaBIOS-style debug log, or NULL */
};

/* fw_platform_clear() - forget everything assigned (the log stream is kept). */
void fw_platform_clear(struct fw_platform *p);

/*
 * firmware_run() - enumerate and configure every bus and function, as SeaBIOS does at boot.
 * Clears `p` first. Returns the number of functions found, -ENODEV (no configuration
 * mechanism, or a host bridge it does not know), -ENOSPC (the BARs do not fit the windows;
 * nothing is placed, as SeaBIOS panics there), -ENOMEM.
 */
int firmware_run(struct vcpu *v, struct fw_platform *p);

/*
 * firmware_assign_slot() - configure the functions of a hot-added slot on a bus the guest has
 * numbered, as an OS does (above). Functions already configured (their BARs still hold what
 * `p` recorded) are left alone; others recorded in `p` are forgotten and configured anew.
 * Returns the number of functions configured, -ENODEV (no chipset, unknown bus), -ENOSPC when
 * a BAR or window did not fit (it stays unassigned, as Linux leaves it), -ENOMEM.
 */
int firmware_assign_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot);

/*
 * firmware_release_slot() - before an eject: turn off bus mastering and decoding of the
 * slot's functions (and of everything behind a bridge among them), drop their ranges and
 * the buses behind them from `p`. Returns the functions released.
 */
int firmware_release_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot);

/*
 * fw_cfg_read()/fw_cfg_write() - a configuration cycle on `v`: through ECAM when the firmware
 * enabled it (p->mmcfg), else through mechanism #1 (latch the address at 0xCF8, access 0xCFC +
 * (offset & 3), then put back the latch value found, so an access-socket client sharing the
 * vCPU is not disturbed). `len` 1, 2 or 4; `off` 0..0xfff (mechanism #1 reaches 0..0xff only:
 * beyond it reads all-ones and writes nothing). PCI Local Bus 3.0 §3.2.2.3.2, PCIe 4.0 §7.2.2.
 */
uint32_t fw_cfg_read(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                     uint16_t off, unsigned len);
void fw_cfg_write(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                  uint16_t off, uint32_t val, unsigned len);

/*
 * fw_intx_line() - the interrupt line an OS gives INTx pin `pin` (1-4) of bus/devfn: the PIRQ
 * link of the swizzled pin read from the chipset's route register (what QEMU's ACPI link
 * devices report), 0xff when the link is disabled or unknown.
 */
uint8_t fw_intx_line(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                     uint8_t pin);

#endif
