/* SPDX-License-Identifier: MIT */
/*
 * resources.h — what a slot costs before a device goes there: the INTx route of a slot's pins
 * as the machine wires it, the address windows each bus has and how full they are, and whether
 * a device's BARs would fit them under the guest's allocation rules.
 *
 * Everything is read from the device model as the guest left it (config space: BAR registers,
 * bridge base/limit registers and Command, the chipset's PIRQ route registers), never from the
 * guest model's private bookkeeping, so it holds whoever configured the machine.
 *
 * INTx: a pin of a function behind bridges reaches the root bus swizzled at every bridge
 * (PCI-to-PCI Bridge Architecture 1.2 §9.1: pin' = (pin + device) mod 4), then the chipset
 * maps root slot and pin to a PIRQ line (pc: PIIX3 PIRQA-D, QEMU's pci_slot_get_pirq; q35:
 * ICH9 PIRQA-H, QEMU's ich9_lpc_map_irq) and the line's route register to an ISA IRQ.
 *
 * Windows: bus 0 has the chipset's ranges the firmware uses (SeaBIOS src/fw/pciinit.c: I/O
 * 0xc000-0xffff, or 0x1000 up to the chipset's low end when the firmware put BARs there; the
 * 32-bit PCI hole up to 0xfec00000, which also takes prefetchable BARs); a bridge's bus has the
 * I/O, memory and prefetchable windows its registers forward (PCI-to-PCI Bridge 1.2
 * §3.2.5.6-9), open when base <= limit and Command enables the space.
 *
 * Threads: control plane, under the control lock. Errors: -ENOMEM, -EINVAL.
 */
#ifndef PCID_MACHINE_RESOURCES_H
#define PCID_MACHINE_RESOURCES_H

#include "machine.h"

/* The route of one INTx pin from a slot to the chipset. */
struct machine_intx_route {
    int pin;            /* 0-3 (INTA-INTD) at the slot */
    unsigned root_slot; /* the root-bus slot the pin arrives through */
    int root_pin;       /* the pin there, after every bridge's swizzle */
    unsigned bridges;   /* bridges crossed */
    struct machine_intx_link link;
};

/*
 * machine_intx_route() - route pin `pin` (0-3) of slot `slot` (0-31) on `bus` to the chipset:
 * swizzled through each bridge above (PCI-to-PCI Bridge 1.2 §9.1), then the machine type's
 * PIRQ map and the current route register. Fills `out`.
 */
void machine_intx_route(const struct machine *m, const struct pci_bus *bus, unsigned slot, int pin,
                        struct machine_intx_route *out);

/*
 * machine_dev_intx() - the route of the pin function `d` declares (Interrupt Pin register,
 * PCI 3.0 §6.2.4). Returns 0 and fills `out`, or -ENOENT when the function uses no INTx pin.
 */
int machine_dev_intx(const struct machine *m, const struct pci_device *d,
                     struct machine_intx_route *out);

/* The windows a bus may have. */
enum machine_win { MACHINE_WIN_IO, MACHINE_WIN_MEM, MACHINE_WIN_PREF, MACHINE_WINS };

/* machine_win_name() - "io", "mem", "prefetch". */
const char *machine_win_name(enum machine_win w);

/* One window of a bus and its accounting (bytes). */
struct machine_window {
    bool present;  /* the bus has such a window (bus 0 has no separate prefetchable one) */
    bool assigned; /* open: forwards [base, limit] (bus 0: always, it is the chipset's) */
    bool is64;     /* a prefetchable window with 64-bit base/limit registers */
    uint64_t base, limit;
    uint64_t used;         /* bytes inside taken by BARs and bridge windows the guest assigned */
    uint64_t free;         /* size - used */
    uint64_t largest_free; /* the largest naturally aligned power-of-two block free, 0 = none */
    uint64_t largest_base; /* where that block starts */
};

/*
 * machine_bus_windows() - the windows of `bus` (indexed by enum machine_win) with what the
 * guest has assigned inside them: BAR registers (memory BARs under 4 KiB count 4 KiB, the
 * granule firmware and Linux give them) and bridge windows, merged, the windows of the bridges
 * above `bus` excepted. Returns 0 or -ENOMEM.
 */
int machine_bus_windows(const struct machine *m, const struct pci_bus *bus,
                        struct machine_window out[MACHINE_WINS]);

/* One BAR in a fit check. */
struct machine_fit_bar {
    int bar;                 /* 0-5, PCI_ROM_SLOT */
    enum machine_win kind;   /* what it asks for: io, mem (also the ROM), prefetch */
    enum machine_win window; /* where it went, or would have gone (prefetch falls back to mem) */
    bool is64;
    uint64_t size; /* bytes as placed: memory under 4 KiB counts 4 KiB */
    bool fits;
    bool closed;   /* it failed because its bus has no such window open at all */
    uint64_t addr; /* where the guest would put it, when it fits */
};

struct machine_fit {
    unsigned n;
    struct machine_fit_bar bars[PCI_NUM_REGIONS];
    int first_fail; /* index in bars of the first BAR that does not fit, -1 when all fit */
};

/*
 * machine_fit_check() - would the BARs of `d` (realized, not plugged) get addresses on `bus`
 * now? The guest's hot-add rules (Linux's, as daemon/vcpu/fw_os.c models them): largest
 * alignment first, each at the lowest free naturally aligned address of the window its bus
 * decodes for its kind; a prefetchable BAR that finds no room in a prefetchable window (or
 * where there is none) takes the memory window. Functions already on `bus` that the guest has
 * not configured yet (no BAR assigned, Command I/O and Memory off; bridges excepted) are
 * placed first, slot by slot, those of `d`'s slot (`devfn`) together with `d`. Fills `out`.
 * Returns 0 or -ENOMEM.
 */
int machine_fit_check(const struct machine *m, const struct pci_bus *bus, uint8_t devfn,
                      const struct pci_device *d, struct machine_fit *out);

#endif
