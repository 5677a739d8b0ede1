/* SPDX-License-Identifier: MIT */
/*
 * firmware.h — the guest model's firmware and OS resource management: PCI enumeration and
 * resource assignment by SeaBIOS 1.16's rules (src/fw/pciinit.c), performed on a vCPU through
 * configuration cycles at 0xCF8/0xCFC, exactly as a guest does them, never by calling the
 * device model.
 *
 * Boot (firmware_run), SeaBIOS's order: probe the configuration mechanism; number buses;
 * probe functions (function 0 of each slot, functions 1-7 only behind a multi-function
 * header); identify the chipset by the host bridge's IDs (00:00.0); size every BAR by
 * writing all-ones (the ROM BAR by writing its address mask, enable clear) and restore it;
 * give memory BARs under 4 KiB 4 KiB; keep each kind (I/O, memory, prefetchable memory) sorted
 * by alignment then size, largest first, stable in bus/device/BAR order; place I/O from 0xC000
 * (from 0x1000 when it needs 16 KiB or more); in the 32-bit window (i440FX: 0x80000000 to
 * 0xFEC00000) put the kind with the smaller alignment at the very top (prefetchable when they
 * tie) and the other just below it, each base aligned down to its largest alignment; move
 * 64-bit BARs above 4 GiB (at 4 GiB, 1 GiB aligned) only when the 32-bit window is too small;
 * write each BAR in that order. The ROM BAR keeps its address with the enable bit clear (the
 * state SeaBIOS leaves after copying the ROM). Then per function: the interrupt line from the
 * PIRQ routing (links A-D to IRQ 10, 10, 11, 11; link = (pin - 1 + slot - 1) mod 4 on bus 0),
 * the chipset quirks (PIIX3 PIRQ route registers 0x60-0x63 and ELCR; PIIX IDE decode enable;
 * PIIX4 PM: SCI on IRQ 9, PM base 0x600, SMBus base 0x700), and Command |= I/O, Memory, SERR.
 *
 * Hot-add (firmware_assign_slot), Linux's way: size the new functions' BARs with decoding off,
 * place each (largest alignment first) at the lowest free aligned address of its window, never
 * over a range already assigned, take the interrupt line from the chipset's PIRQ route
 * register, enable decoding and bus mastering.
 *
 * Bridges (secondary buses) are not configured yet: functions behind them are not probed.
 *
 * Threads: everything runs on the vCPU passed in; `struct fw_platform` belongs to it.
 */
#ifndef PCID_VCPU_FIRMWARE_H
#define PCID_VCPU_FIRMWARE_H

#include <stdint.h>
#include <stdio.h>

#include "vcpu.h"

enum fw_kind { FW_IO, FW_MEM, FW_PREFMEM, FW_KINDS };

/* An address range the guest has assigned to a BAR (its resource tree). */
struct fw_res {
    uint8_t bus, devfn, bar; /* bar: 0..5, 6 = expansion ROM */
    uint8_t kind;            /* enum fw_kind */
    uint64_t base, size;
};

/* What the firmware found and set up, for the OS model that runs after it. */
struct fw_platform {
    const struct fw_chipset *chipset; /* NULL until firmware_run found one */
    uint16_t host_vendor, host_device;
    int pirq_devfn;              /* function holding the PIRQ route registers, or -1 */
    uint64_t io_start, io_end;   /* I/O space for PCI BARs [start, end) */
    uint64_t mem_start, mem_end; /* 32-bit memory window [start, end) */
    unsigned functions;          /* functions found at boot */
    struct fw_res *res;          /* every assigned BAR */
    unsigned n_res, cap_res;
    FILE *log; /* SeaBIOS-style debug log, or NULL */
};

/* fw_platform_clear() - forget everything assigned (the log stream is kept). */
void fw_platform_clear(struct fw_platform *p);

/*
 * firmware_run() - enumerate and configure every function on bus 0, as SeaBIOS does at boot.
 * Clears `p` first. Returns the number of functions found, -ENODEV (no configuration
 * mechanism, or a host bridge it does not know), -ENOSPC (the BARs do not fit the windows;
 * those left over are unassigned).
 */
int firmware_run(struct vcpu *v, struct fw_platform *p);

/*
 * firmware_assign_slot() - configure the functions of a hot-added slot as an OS does (above).
 * Functions already configured (their BARs still hold what `p` recorded) are left alone;
 * others recorded in `p` are forgotten and configured anew. Returns the number of functions
 * configured, or
 * -ENOSPC when a BAR did not fit (it stays unassigned, as Linux leaves it).
 */
int firmware_assign_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot);

/*
 * firmware_release_slot() - before an eject: turn off bus mastering and decoding of the
 * slot's functions and drop their ranges from `p`. Returns the functions released.
 */
int firmware_release_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot);

/*
 * fw_cfg_read()/fw_cfg_write() - a configuration cycle through mechanism #1 on `v`: latch the
 * address at 0xCF8, access 0xCFC + (offset & 3) with `len` (1, 2, 4) bytes, then put back the
 * latch value found (so an access-socket client sharing the vCPU is not disturbed). Offsets
 * 0..0xFF (PCI Local Bus 3.0 §3.2.2.3.2).
 */
uint32_t fw_cfg_read(struct vcpu *v, uint8_t bus, uint8_t devfn, uint8_t off, unsigned len);
void fw_cfg_write(struct vcpu *v, uint8_t bus, uint8_t devfn, uint8_t off, uint32_t val,
                  unsigned len);

#endif
