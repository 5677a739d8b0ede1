/* SPDX-License-Identifier: MIT */
/*
 * fw_os.c — the OS side of hot-add and removal (Linux's way of placing what the firmware did
 * not see), with configuration cycles on a vCPU. See firmware.h.
 *
 * The guest's resource tree is `p->res`: every BAR and bridge window assigned so far. A new BAR
 * goes into the window its bus decodes, read from the bridge's registers (Linux's
 * pci_read_bridge_bases), at the lowest aligned address that overlaps nothing assigned except
 * the windows of the bridges above it (which contain it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_internal.h"

#define MAX_DEPTH FW_BUSES

/* QEMU's INTx routing as the ACPI tables describe it (hw/i386: PIIX3 links, ICH9 PIRQ A-H). */
#define PIIX_PIRQ_ROUT 0x60
#define ICH9_PIRQA     0x60
#define ICH9_PIRQE     0x68
#define Q35_SLOT_D25   25
#define Q35_SLOT_D30   30

static bool space_io(unsigned kind)
{
    return kind == FW_IO;
}

/* Whether bus `anc` is `bus` or above it. */
static bool bus_above(const struct fw_platform *p, uint8_t anc, uint8_t bus)
{
    for (unsigned i = 0; i < MAX_DEPTH; i++) {
        if (bus == anc)
            return true;
        if (!bus || !p->buses[bus].present)
            return false;
        bus = p->buses[bus].parent;
    }
    return false;
}

/* Whether resource `r` is a window of a bridge that leads to `bus` (it contains bus's windows). */
static bool window_above(const struct fw_platform *p, const struct fw_res *r, uint8_t bus)
{
    if (r->bar != FW_BAR_WINDOW)
        return false;
    for (unsigned b = 1; b < FW_BUSES; b++)
        if (p->buses[b].present && p->buses[b].parent == r->bus && p->buses[b].devfn == r->devfn)
            return bus_above(p, (uint8_t)b, bus);
    return false;
}

/* The lowest range [a, a+size) at `align` inside [start, end) that overlaps nothing assigned
 * in the same address space, windows of the bridges above `bus` excepted. */
static bool find_free(const struct fw_platform *p, uint8_t bus, unsigned kind, uint64_t start,
                      uint64_t end, uint64_t size, uint64_t align, uint64_t *out)
{
    uint64_t a = ALIGN_UP(start, align);

    while (a >= start && a + size <= end && a + size > a) {
        uint64_t next = 0;

        for (unsigned i = 0; i < p->n_res; i++) {
            const struct fw_res *r = &p->res[i];

            if (space_io(r->kind) != space_io(kind) || window_above(p, r, bus))
                continue;
            if (a < r->base + r->size && r->base < a + size && r->base + r->size > next)
                next = r->base + r->size;
        }
        if (!next) {
            *out = a;
            return true;
        }
        a = ALIGN_UP(next, align); /* past the highest range in the way */
    }
    return false;
}

/* The window [start, end) bus `bus` decodes for `kind`: the firmware's root ranges on bus 0,
 * else its bridge's base/limit registers. False when closed. */
static bool bus_window(struct vcpu *v, const struct fw_platform *p, uint8_t bus, unsigned kind,
                       uint64_t *start, uint64_t *end)
{
    const struct fw_bus *b = &p->buses[bus];
    uint64_t base, limit;

    if (!bus) {
        *start = space_io(kind) ? p->io_start : p->mem_start;
        *end = space_io(kind) ? p->io_end : p->mem_end;
        return *start < *end;
    }
    if (kind == FW_IO) {
        uint32_t lo = fw_cfg_read(v, p, b->parent, b->devfn, PCI_IO_BASE, 2);
        uint32_t hi = fw_cfg_read(v, p, b->parent, b->devfn, PCI_IO_BASE_UPPER16, 4);

        base = (uint64_t)(lo & 0xf0) << 8 | (uint64_t)(hi & 0xffff) << 16;
        limit = (uint64_t)(lo & 0xf000) | 0xfff | (uint64_t)(hi >> 16) << 16;
    } else if (kind == FW_MEM) {
        uint32_t w = fw_cfg_read(v, p, b->parent, b->devfn, PCI_MEMORY_BASE, 4);

        base = (uint64_t)(w & 0xfff0) << 16;
        limit = (uint64_t)(w >> 16 & 0xfff0) << 16 | 0xfffff;
    } else {
        uint32_t w = fw_cfg_read(v, p, b->parent, b->devfn, PCI_PREF_MEMORY_BASE, 4);

        base = (uint64_t)(w & 0xfff0) << 16;
        limit = (uint64_t)(w >> 16 & 0xfff0) << 16 | 0xfffff;
        if ((w & PCI_PREF_RANGE_TYPE_MASK) == PCI_PREF_RANGE_TYPE_64) {
            base |= (uint64_t)fw_cfg_read(v, p, b->parent, b->devfn, PCI_PREF_BASE_UPPER32, 4)
                    << 32;
            limit |= (uint64_t)fw_cfg_read(v, p, b->parent, b->devfn, PCI_PREF_LIMIT_UPPER32, 4)
                     << 32;
        }
    }
    if (base > limit)
        return false;
    *start = base;
    *end = limit + 1;
    return true;
}

/* Where a BAR or window of `kind` goes on `bus`: its own window, a prefetchable one in the
 * memory window when the bridge has none (Linux's fallback). */
static bool place(struct vcpu *v, const struct fw_platform *p, uint8_t bus, unsigned kind,
                  uint64_t size, uint64_t align, uint64_t *out)
{
    uint64_t start, end;

    if (bus_window(v, p, bus, kind, &start, &end) &&
        find_free(p, bus, kind, start, end, size, align, out))
        return true;
    return kind == FW_PREFMEM && bus_window(v, p, bus, FW_MEM, &start, &end) &&
           find_free(p, bus, FW_MEM, start, end, size, align, out);
}

uint8_t fw_intx_line(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                     uint8_t pin)
{
    unsigned pin0 = (unsigned)pin - 1, slot, reg;
    uint8_t route;

    if (!p->chipset || p->pirq_devfn < 0 || pin < 1 || pin > 4)
        return 0xff;
    /* Each bridge on the way up swizzles the pin by the device number below it. */
    for (unsigned i = 0; bus && i < MAX_DEPTH; i++) {
        if (!p->buses[bus].present)
            return 0xff;
        pin0 += PCI_SLOT_OF(devfn);
        devfn = p->buses[bus].devfn;
        bus = p->buses[bus].parent;
    }
    pin0 &= 3;
    slot = PCI_SLOT_OF(devfn);
    if (p->host_device == 0x29c0) { /* ICH9: QEMU's ich9_lpc_map_irq, PIRQ A-H */
        unsigned pirq = slot == Q35_SLOT_D30   ? pin0 + 4
                        : slot >= Q35_SLOT_D25 ? pin0
                                               : (slot + pin0) % 4 + 4;

        reg = pirq < 4 ? ICH9_PIRQA + pirq : ICH9_PIRQE + pirq - 4;
    } else { /* PIIX3: link (pin + slot - 1) mod 4 */
        reg = PIIX_PIRQ_ROUT + ((pin0 + slot - 1) & 3);
    }
    route = (uint8_t)fw_cfg_read(v, p, 0, (uint8_t)p->pirq_devfn, (uint16_t)reg, 1);
    return (route & 0x80) ? 0xff : (route & 0x0f);
}

/*
 * Whether `f` is the function the guest configured earlier: it has ranges recorded and its
 * BARs still hold them (a bridge: the bus it was given is still its secondary). A function
 * removed and replaced behind the guest's back (an eject written by someone else, then a
 * hot-add) reads back reset registers: its stale ranges are dropped.
 */
static bool fn_configured(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f)
{
    bool known = false;

    for (unsigned b = 1; b < FW_BUSES; b++) {
        if (!p->buses[b].present || p->buses[b].parent != f->bus || p->buses[b].devfn != f->devfn)
            continue;
        if (f->secondary != b)
            return false;
        known = true;
    }
    for (unsigned i = 0; i < p->n_res; i++) {
        const struct fw_res *r = &p->res[i];
        uint32_t val, want;

        if (r->bus != f->bus || r->devfn != f->devfn || r->bar == FW_BAR_WINDOW)
            continue;
        known = true;
        val = fw_cfg_read(v, p, f->bus, f->devfn, fw_bar_offset(f, r->bar), 4);
        want = (uint32_t)r->base;
        if (r->bar == PCI_ROM_SLOT ? (val & PCI_ROM_ADDRESS_MASK) != want
            : r->kind == FW_IO     ? (val & PCI_BASE_ADDRESS_IO_MASK) != want
                                   : (val & PCI_BASE_ADDRESS_MEM_MASK) != want) {
            fw_res_drop(p, f->bus, f->devfn, -1);
            return false;
        }
    }
    return known;
}

/* Size the BARs of `f` (decoding off) into one list, largest alignment first. */
static int collect_bars(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f,
                        struct fw_region *all)
{
    bool bridge = f->class == FW_CLASS_BRIDGE;

    for (unsigned i = 0; i < PCI_NUM_REGIONS; i++) {
        struct fw_bar b;

        if (bridge && i >= 2 && i < PCI_ROM_SLOT)
            continue;
        if (!fw_size_bar(v, p, f, i, &b))
            continue;
        if (b.kind != FW_IO && b.size < FW_DEVICE_MEM_MIN)
            b.size = FW_DEVICE_MEM_MIN;
        if (fw_region_insert(all, &(struct fw_entry){.fn = -1,
                                                     .bar = (int)b.bar,
                                                     .kind = b.kind,
                                                     .is64 = b.is64,
                                                     .size = b.size,
                                                     .align = b.size}) < 0)
            return -ENOMEM;
        if (b.is64)
            i++;
    }
    return 0;
}

/* Place the BARs of `f`; *cmd gets the Command bits to enable. Returns 0 or -errno (-ENOSPC:
 * some BAR stays unassigned, the others are placed). */
static int assign_bars(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f, uint16_t *cmd)
{
    struct fw_region all = {0};
    int ret, err = 0;

    *cmd = 0;
    ret = collect_bars(v, p, f, &all);
    for (unsigned j = 0; ret >= 0 && j < all.n; j++) {
        const struct fw_entry *e = &all.e[j];
        uint64_t addr;

        if (!place(v, p, f->bus, e->kind, e->size, e->align, &addr)) {
            fw_log(p, "hotplug: %02x:%02x.%x bar %d: no space for %llx [%s]\n", f->bus,
                   PCI_SLOT_OF(f->devfn), PCI_FUNC_OF(f->devfn), e->bar,
                   (unsigned long long)e->size, e->kind == FW_IO ? "io" : "mem");
            err = -ENOSPC;
            continue;
        }
        fw_set_bar(v, p, f, (unsigned)e->bar, addr, e->is64);
        ret = fw_res_add(p, &(struct fw_res){.bus = f->bus,
                                             .devfn = f->devfn,
                                             .bar = (uint8_t)e->bar,
                                             .kind = e->kind,
                                             .base = addr,
                                             .size = e->size});
        if (e->bar != PCI_ROM_SLOT)
            *cmd |= space_io(e->kind) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
    }
    free(all.e);
    return ret < 0 ? ret : err;
}

static int configure_fn(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f,
                        unsigned depth);

/* A bus number for a bridge new on `bus`: the lowest in bus's range that no other bus uses. */
static int free_bus_number(const struct fw_platform *p, uint8_t bus)
{
    unsigned last = bus ? p->buses[bus].subordinate : FW_BUSES - 1;

    for (unsigned n = bus + 1u; n <= last; n++) {
        bool used = false;

        for (unsigned b = 1; b < FW_BUSES && !used; b++)
            used = p->buses[b].present && !bus_above(p, (uint8_t)b, bus) && b <= n &&
                   n <= p->buses[b].subordinate;
        if (!used)
            return (int)n;
    }
    return -ENOSPC;
}

/* Close every window of a bridge (base above limit), as before it is sized. */
static void close_windows(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f)
{
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_IO_BASE, 0x00f0, 2);
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_IO_BASE_UPPER16, 0, 4);
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_MEMORY_BASE, 0x0000fff0, 4);
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_PREF_MEMORY_BASE, 0x0000fff0, 4);
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_PREF_BASE_UPPER32, 0, 4);
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_PREF_LIMIT_UPPER32, 0, 4);
}

/* What the functions already on `sec` need of `kind`: sum and largest alignment. */
static int bus_needs(struct vcpu *v, const struct fw_platform *p, uint8_t sec, unsigned kind,
                     uint64_t *sum, uint64_t *align)
{
    *sum = 0;
    *align = 1;
    for (int devfn = fw_next_fn(v, p, sec, -1); devfn >= 0; devfn = fw_next_fn(v, p, sec, devfn)) {
        struct fw_region all = {0};
        struct fw_fn f;

        if (!fw_fn_read(v, p, sec, (uint8_t)devfn, &f))
            continue;
        if (collect_bars(v, p, &f, &all) < 0) {
            free(all.e);
            return -ENOMEM;
        }
        for (unsigned j = 0; j < all.n; j++) {
            if (all.e[j].kind != kind)
                continue;
            *sum += all.e[j].size;
            if (all.e[j].align > *align)
                *align = all.e[j].align;
        }
        free(all.e);
    }
    return 0;
}

/* Size and place the windows of a bridge new on its bus, by the firmware's rule (sum below,
 * the kind's minimum, room for hot-plug on a hot-pluggable bus, QEMU's reservation). */
static int assign_windows(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f, uint8_t sec)
{
    uint8_t pcie_cap = fw_find_cap(v, p, f->bus, f->devfn, PCI_CAP_ID_EXP, 0);
    uint8_t qemu_cap = fw_reserve_cap(v, p, f, false);
    enum fw_hotplug hp = fw_bridge_hotplug(v, p, f, pcie_cap);
    int ret = 0;

    for (unsigned kind = 0; kind < FW_KINDS; kind++) {
        uint64_t align = kind == FW_IO ? FW_BRIDGE_IO_MIN : FW_BRIDGE_MEM_MIN, need, need_align;
        uint64_t size, addr, limit;
        bool optional = hp == FW_HOTPLUG_PCIE && pcie_cap && kind == FW_IO;
        int err;

        if (!fw_bridge_has_region(v, p, f, kind))
            continue;
        if ((err = bus_needs(v, p, sec, kind, &need, &need_align)) < 0)
            return err;
        size = fw_reserve_size(v, p, f, qemu_cap, kind, false);
        if (need_align > align)
            align = need_align;
        if (!need && hp != FW_HOTPLUG_NONE && !optional)
            need = align;
        size = size > need ? ALIGN_UP(size, kind == FW_IO ? 1 : align) : ALIGN_UP(need, align);
        if (!size)
            continue;
        if (!place(v, p, f->bus, kind, size, align, &addr)) {
            fw_log(p, "hotplug: bridge %02x:%02x.%x: no space for a %llx %s window\n", f->bus,
                   PCI_SLOT_OF(f->devfn), PCI_FUNC_OF(f->devfn), (unsigned long long)size,
                   kind == FW_IO    ? "io"
                   : kind == FW_MEM ? "mem"
                                    : "prefmem");
            ret = -ENOSPC;
            continue;
        }
        limit = addr + size - 1;
        if (kind == FW_IO) {
            fw_cfg_write(v, p, f->bus, f->devfn, PCI_IO_BASE, (uint8_t)(addr >> 8), 1);
            fw_cfg_write(v, p, f->bus, f->devfn, PCI_IO_LIMIT, (uint8_t)(limit >> 8), 1);
        } else {
            uint16_t reg = kind == FW_MEM ? PCI_MEMORY_BASE : PCI_PREF_MEMORY_BASE;

            fw_cfg_write(v, p, f->bus, f->devfn, reg, (uint16_t)(addr >> 16), 2);
            fw_cfg_write(v, p, f->bus, f->devfn, reg + 2, (uint16_t)(limit >> 16), 2);
            if (kind == FW_PREFMEM) {
                fw_cfg_write(v, p, f->bus, f->devfn, PCI_PREF_BASE_UPPER32, (uint32_t)(addr >> 32),
                             4);
                fw_cfg_write(v, p, f->bus, f->devfn, PCI_PREF_LIMIT_UPPER32,
                             (uint32_t)(limit >> 32), 4);
            }
        }
        err = fw_res_add(p, &(struct fw_res){.bus = f->bus,
                                             .devfn = f->devfn,
                                             .bar = FW_BAR_WINDOW,
                                             .kind = (uint8_t)kind,
                                             .base = addr,
                                             .size = size});
        if (err < 0)
            return err;
    }
    return ret;
}

/* A bridge new on its bus (Linux pci_hp_add_bridge + pci_assign_unassigned_bridge_resources):
 * a bus number, windows, then what is already behind it. */
static int configure_bridge(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f,
                            unsigned depth)
{
    int n = free_bus_number(p, f->bus), ret, r;
    uint8_t sec;

    if (n < 0) {
        fw_log(p, "hotplug: %02x:%02x.%x: no bus number available for the bridge\n", f->bus,
               PCI_SLOT_OF(f->devfn), PCI_FUNC_OF(f->devfn));
        return n;
    }
    sec = (uint8_t)n;
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_PRIMARY_BUS, f->bus, 1);
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_SECONDARY_BUS, sec, 1);
    fw_cfg_write(v, p, f->bus, f->devfn, PCI_SUBORDINATE_BUS, sec, 1);
    p->buses[sec] =
        (struct fw_bus){.present = true, .parent = f->bus, .devfn = f->devfn, .subordinate = sec};
    close_windows(v, p, f);
    ret = assign_windows(v, p, f, sec);
    fw_cfg_maskw(v, p, f->bus, f->devfn, PCI_COMMAND, 0,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR);
    fw_cfg_maskw(v, p, f->bus, f->devfn, PCI_BRIDGE_CONTROL, 0, PCI_BRIDGE_CTL_SERR);
    for (int devfn = fw_next_fn(v, p, sec, -1); devfn >= 0; devfn = fw_next_fn(v, p, sec, devfn)) {
        struct fw_fn child;

        if (fw_fn_read(v, p, sec, (uint8_t)devfn, &child) &&
            (r = configure_fn(v, p, &child, depth + 1)) < 0 && ret >= 0)
            ret = r;
    }
    return ret;
}

/* Configure one function new to the guest. Returns 0 or -errno (it is configured as far as
 * it fits). */
static int configure_fn(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f,
                        unsigned depth)
{
    uint16_t cmd;
    uint8_t pin;
    int ret;

    if (depth >= MAX_DEPTH)
        return -ELOOP;
    /* Size with decoding off, as Linux does for a device that is not yet enabled. */
    fw_cfg_maskw(v, p, f->bus, f->devfn, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 0);
    ret = assign_bars(v, p, f, &cmd);
    if (ret == -ENOMEM)
        return ret;
    pin = (uint8_t)fw_cfg_read(v, p, f->bus, f->devfn, PCI_INTERRUPT_PIN, 1);
    if (pin >= 1 && pin <= 4)
        fw_cfg_write(v, p, f->bus, f->devfn, PCI_INTERRUPT_LINE,
                     fw_intx_line(v, p, f->bus, f->devfn, pin), 1);
    fw_cfg_maskw(v, p, f->bus, f->devfn, PCI_COMMAND, 0, cmd | PCI_COMMAND_MASTER);
    fw_log(p, "hotplug: configured %02x:%02x.%x id=%04x:%04x\n", f->bus, PCI_SLOT_OF(f->devfn),
           PCI_FUNC_OF(f->devfn), f->vendor, f->device);
    if (f->class == FW_CLASS_BRIDGE && (f->header & 0x7f) == PCI_HEADER_TYPE_BRIDGE) {
        int r = configure_bridge(v, p, f, depth);

        if (r < 0 && ret >= 0)
            ret = r;
    }
    return ret;
}

/* Forget what the guest had recorded for bus/devfn and behind it (the function was replaced
 * behind the guest's back: there is nothing left to turn off). */
static void forget_fn(struct fw_platform *p, uint8_t bus, uint8_t devfn, unsigned depth)
{
    if (depth >= MAX_DEPTH)
        return;
    for (unsigned b = 1; b < FW_BUSES; b++) {
        if (!p->buses[b].present || p->buses[b].parent != bus || p->buses[b].devfn != devfn ||
            b == bus)
            continue;
        p->buses[b].present = false;
        for (unsigned d = 0; d < PCI_DEVFN_MAX; d++)
            forget_fn(p, (uint8_t)b, (uint8_t)d, depth + 1);
        p->buses[b] = (struct fw_bus){0};
    }
    fw_res_drop(p, bus, devfn, -1);
}

int firmware_assign_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot)
{
    unsigned done = 0;
    int ret = 0;

    if (!p->chipset || !p->buses[bus].present || slot >= PCI_SLOT_MAX)
        return -ENODEV;
    for (int devfn = fw_next_fn(v, p, bus, PCI_DEVFN_OF(slot, 0) - 1);
         devfn >= 0 && PCI_SLOT_OF(devfn) == slot; devfn = fw_next_fn(v, p, bus, devfn)) {
        struct fw_fn f;
        int r;

        if (!fw_fn_read(v, p, bus, (uint8_t)devfn, &f) || fn_configured(v, p, &f))
            continue;
        forget_fn(p, bus, f.devfn, 0);
        r = configure_fn(v, p, &f, 0);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            ret = r;
        done++;
    }
    return ret < 0 ? ret : (int)done;
}

/* Forget bus `sec` and everything behind it, turning decoding and mastering off. */
static unsigned release_bus(struct vcpu *v, struct fw_platform *p, uint8_t sec, unsigned depth)
{
    unsigned released = 0;

    if (depth >= MAX_DEPTH)
        return 0;
    for (unsigned b = 1; b < FW_BUSES; b++)
        if (p->buses[b].present && p->buses[b].parent == sec && b != sec)
            released += release_bus(v, p, (uint8_t)b, depth + 1);
    for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++)
        released += (unsigned)firmware_release_slot(v, p, sec, slot);
    if (sec)
        p->buses[sec] = (struct fw_bus){0};
    return released;
}

int firmware_release_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot)
{
    uint8_t seen[PCI_FUNC_MAX] = {0};
    unsigned released = 0;

    /* Bridges first: what is behind them goes before them. */
    for (unsigned b = 1; b < FW_BUSES; b++) {
        if (p->buses[b].present && p->buses[b].parent == bus && b != bus &&
            PCI_SLOT_OF(p->buses[b].devfn) == slot) {
            released += release_bus(v, p, (uint8_t)b, 1);
            p->buses[b] = (struct fw_bus){0};
        }
    }
    for (unsigned i = 0; i < p->n_res; i++) {
        const struct fw_res *r = &p->res[i];

        if (r->bus != bus || PCI_SLOT_OF(r->devfn) != slot || seen[PCI_FUNC_OF(r->devfn)])
            continue;
        seen[PCI_FUNC_OF(r->devfn)] = 1;
        released++;
        /* The driver's remove: no more DMA or decoding (pci_disable_device). */
        fw_cfg_maskw(v, p, bus, r->devfn, PCI_COMMAND,
                     PCI_COMMAND_MASTER | PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 0);
    }
    for (unsigned fn = 0; fn < PCI_FUNC_MAX; fn++)
        if (seen[fn])
            fw_res_drop(p, bus, PCI_DEVFN_OF(slot, fn), -1);
    return (int)released;
}
