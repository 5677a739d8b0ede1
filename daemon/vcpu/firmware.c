/* SPDX-License-Identifier: MIT */
/*
 * firmware.c — SeaBIOS 1.16's PCI setup (src/fw/pciinit.c pci_setup and what it calls), done
 * with configuration cycles on a vCPU. See firmware.h for the rules; each step below names
 * the SeaBIOS function it follows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_internal.h"

#define CONF1_ADDR   0xcf8
#define CONF1_ENABLE 0x80000000u

#define IO_TRADITIONAL 0xc000ULL /* the classic PCI I/O area 0xc000-0xffff */
#define IO_LOW         0x1000ULL /* and the larger one below it */
#define IO_END         0x10000ULL
#define MEM64_START    0x100000000ULL /* 4 GiB (no RAM above it here) */
#define MEM64_ALIGN    (1ULL << 30)   /* SeaBIOS aligns the 64-bit window to 1 GiB */
#define ACPI_PM_BASE   0x600          /* SeaBIOS acpi_pm_base on QEMU (etc/table-loader) */
#define MAX_DEPTH      FW_BUSES       /* bridges nested deeper than bus numbers exist */

#define CLASS_STORAGE_IDE 0x0101 /* PCI Code and ID Assignment 1.11 */
#define CLASS_SERIAL_USB  0x0c03
#define CLASS_DISPLAY_VGA 0x0300

/* Q35 MCH and ICH9 registers SeaBIOS programs (src/fw/dev-q35.h). */
#define Q35_PCIEXBAR      0x60
#define Q35_PCIEXBAR_ADDR 0xb0000000ULL
#define Q35_PCIEXBAR_SIZE (256ULL << 20)
#define Q35_PCIEXBAREN    1u
#define ICH9_PMBASE       0x40
#define ICH9_ACPI_CTRL    0x44
#define ICH9_ACPI_EN      0x80
#define ICH9_PIRQA_ROUT   0x60
#define ICH9_PIRQE_ROUT   0x68
#define ICH9_RCBA         0xf0
#define ICH9_RCBA_ADDR    0xfed1c000u
#define ICH9_SMB_BASE     0x20
#define ICH9_SMB_HOSTC    0x40
#define Q35_SLOT_D24      24 /* slots above it use links A-D unrotated (SeaBIOS) */
#define ELCR1             0x4d0
#define ELCR2             0x4d1

/* A chipset the firmware knows, identified by its host bridge (SeaBIOS pci_platform_tbl). */
struct fw_chipset {
    const char *name;
    uint16_t vendor, device;
    uint64_t mem_start, mem_end; /* 32-bit PCI window (guest RAM below 2 GiB) */
    uint64_t io_low_end;         /* SeaBIOS pci_io_low_end */
    bool mch;                    /* Q35: PCIEXBAR/ECAM, mch_pci_slot_get_irq */
};

static const struct fw_chipset chipsets[] = {
    /* i440fx_mem_addr_setup: 0xa000-0xafff holds QEMU's hotplug controllers. */
    {"i440fx", 0x8086, 0x1237, 0x80000000ULL, 0xfec00000ULL, 0xa000, false},
    /* mch_mem_addr_setup: above ECAM; PM base below 0x1000, so I/O may reach 0xffff. */
    {"q35", 0x8086, 0x29c0, Q35_PCIEXBAR_ADDR + Q35_PCIEXBAR_SIZE, 0xfec00000ULL, IO_END, true},
};

static const uint8_t pci_irqs[4] = {10, 10, 11, 11}; /* IRQ of PIRQ links A-D (SeaBIOS) */
static const char *const kind_name[FW_KINDS] = {"io", "mem", "prefmem"};

/* Per bus number: what its bridge needs and where it goes (SeaBIOS struct pci_bus). */
struct fw_busres {
    struct fw_region r[FW_KINDS];
    int dev; /* the bridge whose secondary bus this is, or -1 */
};

struct boot {
    struct vcpu *v;
    struct fw_platform *p;
    struct fw_fn *fns; /* probe order: bus by bus, devfn ascending */
    unsigned n, cap;
    unsigned max_bus; /* SeaBIOS MaxPCIBus */
    struct fw_busres *busses;
};

static uint32_t rd(struct boot *b, const struct fw_fn *f, uint16_t off, unsigned len)
{
    return fw_cfg_read(b->v, b->p, f->bus, f->devfn, off, len);
}

static void wr(struct boot *b, const struct fw_fn *f, uint16_t off, uint32_t val, unsigned len)
{
    fw_cfg_write(b->v, b->p, f->bus, f->devfn, off, val, len);
}

/* ---- bus numbers (pci_bios_init_bus_rec) ---- */

static void init_bus_rec(struct boot *b, uint8_t bus, uint8_t *pci_bus, unsigned depth)
{
    struct fw_fn f;
    int devfn;

    fw_log(b->p, "PCI: pci_bios_init_bus_rec bus = 0x%x\n", bus);
    if (depth >= MAX_DEPTH)
        return; /* only a bus numbering that loops gets here */
    /* Prevent accidental access to unintended devices. */
    for (devfn = fw_next_fn(b->v, b->p, bus, -1); devfn >= 0;
         devfn = fw_next_fn(b->v, b->p, bus, devfn)) {
        if (fw_fn_read(b->v, b->p, bus, (uint8_t)devfn, &f) && f.class == FW_CLASS_BRIDGE) {
            wr(b, &f, PCI_SECONDARY_BUS, 255, 1);
            wr(b, &f, PCI_SUBORDINATE_BUS, 0, 1);
        }
    }
    for (devfn = fw_next_fn(b->v, b->p, bus, -1); devfn >= 0;
         devfn = fw_next_fn(b->v, b->p, bus, devfn)) {
        uint8_t pribus, secbus, subbus;

        if (!fw_fn_read(b->v, b->p, bus, (uint8_t)devfn, &f) || f.class != FW_CLASS_BRIDGE)
            continue;
        fw_log(b->p, "PCI: pci_bios_init_bus_rec bdf = 0x%x\n", (unsigned)bus << 8 | f.devfn);
        pribus = (uint8_t)rd(b, &f, PCI_PRIMARY_BUS, 1);
        if (pribus != bus) {
            fw_log(b->p, "PCI: primary bus = 0x%x -> 0x%x\n", pribus, bus);
            wr(b, &f, PCI_PRIMARY_BUS, bus, 1);
        } else {
            fw_log(b->p, "PCI: primary bus = 0x%x\n", pribus);
        }
        secbus = (uint8_t)rd(b, &f, PCI_SECONDARY_BUS, 1);
        (*pci_bus)++;
        if (*pci_bus != secbus) {
            fw_log(b->p, "PCI: secondary bus = 0x%x -> 0x%x\n", secbus, *pci_bus);
            secbus = *pci_bus;
            wr(b, &f, PCI_SECONDARY_BUS, secbus, 1);
        } else {
            fw_log(b->p, "PCI: secondary bus = 0x%x\n", secbus);
        }
        /* All buses below reachable while they are numbered; the real value after. */
        subbus = (uint8_t)rd(b, &f, PCI_SUBORDINATE_BUS, 1);
        wr(b, &f, PCI_SUBORDINATE_BUS, 255, 1);
        init_bus_rec(b, secbus, pci_bus, depth + 1);
        if (subbus != *pci_bus) {
            uint8_t res_bus = *pci_bus, cap = fw_reserve_cap(b->v, b->p, &f, true);

            if (cap) {
                uint32_t tmp = rd(b, &f, cap + FW_RES_RESERVE_BUS, 4);

                if (tmp != 0xffffffffu) {
                    res_bus = (uint8_t)tmp;
                    if ((uint8_t)(res_bus + secbus) < secbus ||
                        (uint8_t)(res_bus + secbus) < res_bus) {
                        fw_log(b->p, "PCI: bus_reserve value %d is invalid\n", res_bus);
                        res_bus = 0;
                    }
                    if (secbus + res_bus > *pci_bus) {
                        fw_log(b->p, "PCI: QEMU resource reserve cap: bus = %u\n", res_bus);
                        res_bus = (uint8_t)(secbus + res_bus);
                    }
                }
            }
            fw_log(b->p, "PCI: subordinate bus = 0x%x -> 0x%x\n", subbus, res_bus);
            subbus = res_bus;
            *pci_bus = res_bus;
        } else {
            fw_log(b->p, "PCI: subordinate bus = 0x%x\n", subbus);
        }
        wr(b, &f, PCI_SUBORDINATE_BUS, subbus, 1);
    }
}

/* ---- probing (pci_probe_devices) ---- */

static int probe_devices(struct boot *b)
{
    int busdevs[FW_BUSES];
    int bus = -1;

    for (unsigned i = 0; i < FW_BUSES; i++)
        busdevs[i] = -1;
    b->max_bus = 0;
    while (bus < 0xff && bus < (int)b->max_bus) {
        bus++;
        for (int devfn = fw_next_fn(b->v, b->p, (uint8_t)bus, -1); devfn >= 0;
             devfn = fw_next_fn(b->v, b->p, (uint8_t)bus, devfn)) {
            struct fw_fn *f;

            if (b->n == b->cap) {
                unsigned cap = b->cap ? b->cap * 2 : 64;
                struct fw_fn *nf = realloc(b->fns, cap * sizeof(*nf));

                if (!nf)
                    return -ENOMEM;
                b->fns = nf;
                b->cap = cap;
            }
            f = &b->fns[b->n];
            if (!fw_fn_read(b->v, b->p, (uint8_t)bus, (uint8_t)devfn, f))
                continue; /* gone between the two reads */
            f->parent = busdevs[bus];
            if ((f->header & 0x7f) == PCI_HEADER_TYPE_BRIDGE ||
                (f->header & 0x7f) == PCI_HEADER_TYPE_CARDBUS) {
                if (f->secondary > bus && busdevs[f->secondary] < 0)
                    busdevs[f->secondary] = (int)b->n;
                if (f->secondary > b->max_bus)
                    b->max_bus = f->secondary;
            }
            b->n++;
        }
    }
    fw_log(b->p, "Found %u PCI devices (max PCI bus is %02x)\n", b->n, b->max_bus);
    return 0;
}

/* ---- platform (pci_bios_init_platform) ---- */

static void mch_mmconfig_setup(struct boot *b, const struct fw_fn *f)
{
    wr(b, f, Q35_PCIEXBAR, 0, 4);
    wr(b, f, Q35_PCIEXBAR + 4, (uint32_t)(Q35_PCIEXBAR_ADDR >> 32), 4);
    wr(b, f, Q35_PCIEXBAR, (uint32_t)Q35_PCIEXBAR_ADDR | Q35_PCIEXBAREN, 4);
    fw_log(b->p, "PCIe: using q35 mmconfig at 0x%llx\n", (unsigned long long)Q35_PCIEXBAR_ADDR);
    b->p->mmcfg = Q35_PCIEXBAR_ADDR; /* every later cycle goes through ECAM */
}

static bool init_platform(struct boot *b)
{
    for (unsigned i = 0; i < b->n && !b->p->chipset; i++) {
        const struct fw_fn *f = &b->fns[i];

        for (size_t c = 0; c < sizeof(chipsets) / sizeof(chipsets[0]); c++) {
            if (f->vendor != chipsets[c].vendor || f->device != chipsets[c].device)
                continue;
            b->p->chipset = &chipsets[c];
            b->p->host_vendor = f->vendor;
            b->p->host_device = f->device;
            b->p->mem_start = chipsets[c].mem_start;
            b->p->mem_end = chipsets[c].mem_end;
            if (chipsets[c].mch)
                mch_mmconfig_setup(b, f);
            break;
        }
    }
    return b->p->chipset != NULL;
}

/* ---- sizing (pci_bios_check_devices) ---- */

static struct fw_busres *bus_of(struct boot *b, uint8_t bus)
{
    /* Resources of every root bus go in busses[0]. */
    return b->busses[bus].dev >= 0 ? &b->busses[bus] : &b->busses[0];
}

/* pci_bios_bridge_region_is64 */
static bool bridge_region_is64(struct boot *b, const struct fw_region *r, const struct fw_fn *f,
                               unsigned kind)
{
    uint32_t pmem;

    if (kind != FW_PREFMEM)
        return false;
    pmem = rd(b, f, PCI_PREF_MEMORY_BASE, 4);
    if (!pmem) {
        wr(b, f, PCI_PREF_MEMORY_BASE, 0xfff0fff0u, 4);
        pmem = rd(b, f, PCI_PREF_MEMORY_BASE, 4);
        wr(b, f, PCI_PREF_MEMORY_BASE, 0, 4);
    }
    if ((pmem & PCI_PREF_RANGE_TYPE_MASK) != PCI_PREF_RANGE_TYPE_64)
        return false;
    for (unsigned i = 0; i < r->n; i++)
        if (!r->e[i].is64)
            return false;
    return true;
}

static int check_devices(struct boot *b)
{
    fw_log(b->p, "PCI: check devices\n");
    /* What every function needs, on the list of its bus. */
    for (unsigned i = 0; i < b->n; i++) {
        const struct fw_fn *f = &b->fns[i];
        struct fw_busres *bus;

        if (f->class == FW_CLASS_BRIDGE)
            b->busses[f->secondary].dev = (int)i;
        bus = bus_of(b, f->bus);
        for (unsigned bar = 0; bar < PCI_NUM_REGIONS; bar++) {
            struct fw_bar sz;

            if (f->class == FW_CLASS_BRIDGE && bar >= 2 && bar < PCI_ROM_SLOT)
                continue; /* a type 1 header has two BARs */
            if (!fw_size_bar(b->v, b->p, f, bar, &sz))
                continue;
            if (sz.kind != FW_IO && sz.size < FW_DEVICE_MEM_MIN)
                sz.size = FW_DEVICE_MEM_MIN;
            if (fw_region_insert(&bus->r[sz.kind], &(struct fw_entry){.fn = (int)i,
                                                                      .bar = (int)bar,
                                                                      .kind = sz.kind,
                                                                      .is64 = sz.is64,
                                                                      .size = sz.size,
                                                                      .align = sz.size}) < 0)
                return -ENOMEM;
            if (sz.is64)
                bar++;
        }
    }
    /* Bottom up: each bridge asks its parent bus for windows. */
    for (unsigned sec = b->max_bus; sec > 0; sec--) {
        struct fw_busres *s = &b->busses[sec], *parent;
        const struct fw_fn *f;
        uint8_t pcie_cap, qemu_cap;
        enum fw_hotplug hp;

        if (s->dev < 0)
            continue;
        f = &b->fns[s->dev];
        parent = bus_of(b, f->bus);
        pcie_cap = fw_find_cap(b->v, b->p, f->bus, f->devfn, PCI_CAP_ID_EXP, 0);
        qemu_cap = fw_reserve_cap(b->v, b->p, f, true);
        hp = fw_bridge_hotplug(b->v, b->p, f, pcie_cap);
        for (unsigned kind = 0; kind < FW_KINDS; kind++) {
            uint64_t align = kind == FW_IO ? FW_BRIDGE_IO_MIN : FW_BRIDGE_MEM_MIN, size, sum;
            bool optional = hp == FW_HOTPLUG_PCIE && pcie_cap && kind == FW_IO;

            if (!fw_bridge_has_region(b->v, b->p, f, kind))
                continue;
            size = fw_reserve_size(b->v, b->p, f, qemu_cap, kind, true);
            if (fw_region_align(&s->r[kind]) > align)
                align = fw_region_align(&s->r[kind]);
            sum = fw_region_sum(&s->r[kind]);
            if (!sum && hp != FW_HOTPLUG_NONE && !optional)
                sum = align; /* room for hot-plug */
            if (size > sum) {
                fw_log(b->p, "PCI: QEMU resource reserve cap: size %08llx type %s\n",
                       (unsigned long long)size, kind_name[kind]);
                if (kind != FW_IO)
                    size = ALIGN_UP(size, align);
            } else {
                size = ALIGN_UP(sum, align);
            }
            if (fw_region_insert(&parent->r[kind], &(struct fw_entry){.fn = s->dev,
                                                                      .bar = -1,
                                                                      .kind = (uint8_t)kind,
                                                                      .is64 = bridge_region_is64(
                                                                          b, &s->r[kind], f, kind),
                                                                      .size = size,
                                                                      .align = align}) < 0)
                return -ENOMEM;
            fw_log(b->p, "PCI: secondary bus %u size %08llx type %s\n", sec,
                   (unsigned long long)size, kind_name[kind]);
        }
    }
    return 0;
}

/* ---- placing (pci_bios_map_devices) ---- */

/* pci_bios_init_root_regions_mem: the kind with the smaller alignment at the top. */
static bool root_regions_mem(struct boot *b)
{
    struct fw_region *r_end = &b->busses[0].r[FW_PREFMEM], *r_start = &b->busses[0].r[FW_MEM];

    if (fw_region_align(r_start) < fw_region_align(r_end)) {
        r_end = r_start;
        r_start = &b->busses[0].r[FW_PREFMEM];
    }
    r_end->base = ALIGN_DOWN(b->p->mem_end - fw_region_sum(r_end), fw_region_align(r_end));
    r_start->base = ALIGN_DOWN(r_end->base - fw_region_sum(r_start), fw_region_align(r_start));
    return r_start->base >= b->p->mem_start && r_start->base <= b->p->mem_end;
}

/* pci_region_migrate_64bit_entries: keep the order, USB controllers stay below 4 GiB. */
static int migrate64(struct boot *b, struct fw_region *from, struct fw_region *to)
{
    unsigned keep = 0;

    for (unsigned i = 0; i < from->n; i++) {
        const struct fw_entry *e = &from->e[i];

        if (!e->is64 || b->fns[e->fn].class == CLASS_SERIAL_USB) {
            from->e[keep++] = *e;
            continue;
        }
        if (to->n == to->cap) {
            unsigned cap = to->cap ? to->cap * 2 : 16;
            struct fw_entry *n = realloc(to->e, cap * sizeof(*n));

            if (!n)
                return -ENOMEM;
            to->e = n;
            to->cap = cap;
        }
        to->e[to->n++] = *e;
    }
    from->n = keep;
    return 0;
}

/* pci_region_map_one_entry */
static int map_one(struct boot *b, const struct fw_entry *e, uint64_t addr)
{
    const struct fw_fn *f = &b->fns[e->fn];
    uint64_t limit = addr + e->size - 1;

    if (e->bar >= 0) {
        fw_log(b->p, "PCI: map device bdf=%02x:%02x.%x  bar %d, addr %08llx, size %08llx [%s]\n",
               f->bus, PCI_SLOT_OF(f->devfn), PCI_FUNC_OF(f->devfn), e->bar,
               (unsigned long long)addr, (unsigned long long)e->size, kind_name[e->kind]);
        fw_set_bar(b->v, b->p, f, (unsigned)e->bar, addr, e->is64);
    } else if (e->kind == FW_IO) {
        wr(b, f, PCI_IO_BASE, (uint8_t)(addr >> 8), 1);
        wr(b, f, PCI_IO_BASE_UPPER16, 0, 2);
        wr(b, f, PCI_IO_LIMIT, (uint8_t)(limit >> 8), 1);
        wr(b, f, PCI_IO_LIMIT_UPPER16, 0, 2);
    } else if (e->kind == FW_MEM) {
        wr(b, f, PCI_MEMORY_BASE, (uint16_t)(addr >> 16), 2);
        wr(b, f, PCI_MEMORY_LIMIT, (uint16_t)(limit >> 16), 2);
    } else {
        wr(b, f, PCI_PREF_MEMORY_BASE, (uint16_t)(addr >> 16), 2);
        wr(b, f, PCI_PREF_MEMORY_LIMIT, (uint16_t)(limit >> 16), 2);
        wr(b, f, PCI_PREF_BASE_UPPER32, (uint32_t)(addr >> 32), 4);
        wr(b, f, PCI_PREF_LIMIT_UPPER32, (uint32_t)(limit >> 32), 4);
    }
    if (!e->size)
        return 0; /* an empty window: base above limit, nothing decoded */
    return fw_res_add(b->p, &(struct fw_res){.bus = f->bus,
                                             .devfn = f->devfn,
                                             .bar = e->bar >= 0 ? (uint8_t)e->bar : FW_BAR_WINDOW,
                                             .kind = e->kind,
                                             .base = addr,
                                             .size = e->size});
}

/* pci_region_map_entries: each entry at the next address; a window becomes its bus's base. */
static int map_entries(struct boot *b, struct fw_region *r)
{
    for (unsigned i = 0; i < r->n; i++) {
        const struct fw_entry *e = &r->e[i];
        uint64_t addr = r->base;
        int err;

        r->base += e->size;
        if (e->bar < 0)
            b->busses[b->fns[e->fn].secondary].r[e->kind].base = addr;
        if ((err = map_one(b, e, addr)) < 0)
            return err;
    }
    r->n = 0;
    return 0;
}

static int map_devices(struct boot *b)
{
    struct fw_platform *p = b->p;
    struct fw_region *io = &b->busses[0].r[FW_IO], r64[2] = {0};
    uint64_t sum = fw_region_sum(io);
    int err = 0;

    if (sum < 0x4000)
        io->base = IO_TRADITIONAL;
    else if (sum < p->chipset->io_low_end - IO_LOW)
        io->base = IO_LOW;
    else {
        fw_log(p, "PCI: out of I/O address space\n");
        return -ENOSPC;
    }
    p->io_start = io->base;
    p->io_end = io->base == IO_TRADITIONAL ? IO_END : p->chipset->io_low_end;
    fw_log(p, "PCI: IO: %4llx - %4llx\n", (unsigned long long)io->base,
           (unsigned long long)(io->base + sum - 1));
    fw_log(p, "PCI: 32: %016llx - %016llx\n", (unsigned long long)p->mem_start,
           (unsigned long long)p->mem_end);
    if (!root_regions_mem(b)) {
        uint64_t end;

        if ((err = migrate64(b, &b->busses[0].r[FW_MEM], &r64[0])) < 0 ||
            (err = migrate64(b, &b->busses[0].r[FW_PREFMEM], &r64[1])) < 0)
            goto out;
        if (!root_regions_mem(b)) {
            fw_log(p, "PCI: out of 32bit address space\n");
            err = -ENOSPC;
            goto out;
        }
        r64[0].base = ALIGN_UP(ALIGN_UP(MEM64_START, fw_region_align(&r64[0])), MEM64_ALIGN);
        r64[1].base = ALIGN_UP(r64[0].base + fw_region_sum(&r64[0]), fw_region_align(&r64[1]));
        r64[1].base = ALIGN_UP(r64[1].base, MEM64_ALIGN);
        end = ALIGN_UP(r64[1].base + fw_region_sum(&r64[1]), MEM64_ALIGN);
        fw_log(p, "PCI: 64: %016llx - %016llx\n", (unsigned long long)r64[0].base,
               (unsigned long long)end);
        if ((err = map_entries(b, &r64[0])) < 0 || (err = map_entries(b, &r64[1])) < 0)
            goto out;
    }
    for (unsigned bus = 0; bus <= b->max_bus; bus++)
        for (unsigned kind = 0; kind < FW_KINDS; kind++)
            if ((err = map_entries(b, &b->busses[bus].r[kind])) < 0)
                goto out;
out:
    fw_regions_free(r64, 2);
    return err;
}

/* ---- per-function setup (pci_bios_init_device and its device table) ---- */

/* piix_pci_slot_get_irq / mch_pci_slot_get_irq: the swizzled link's IRQ. */
static uint8_t slot_get_irq(struct boot *b, const struct fw_fn *f, uint8_t pin)
{
    unsigned addend = 0;

    while (f->parent >= 0) {
        addend += PCI_SLOT_OF(f->devfn);
        f = &b->fns[f->parent];
    }
    if (!b->p->chipset->mch)
        return pci_irqs[(pin - 1 + addend + PCI_SLOT_OF(f->devfn) - 1) & 3];
    if (PCI_SLOT_OF(f->devfn) <= Q35_SLOT_D24)
        return pci_irqs[(pin - 1 + addend + PCI_SLOT_OF(f->devfn)) & 3];
    return pci_irqs[(pin - 1 + addend) & 3];
}

static void elcr_setup(struct boot *b, uint8_t elcr[2])
{
    elcr[0] = elcr[1] = 0;
    for (unsigned i = 0; i < 4; i++)
        elcr[pci_irqs[i] >> 3] |= (uint8_t)(1u << (pci_irqs[i] & 7)); /* level triggered */
    vcpu_out(b->v, ELCR1, elcr[0], 1);
    vcpu_out(b->v, ELCR2, elcr[1], 1);
}

static void piix_isa_setup(struct boot *b, const struct fw_fn *f)
{
    uint8_t elcr[2];

    for (unsigned i = 0; i < 4; i++)
        wr(b, f, 0x60 + i, pci_irqs[i], 1); /* PIRQRC[A:D] */
    elcr_setup(b, elcr);
    b->p->pirq_devfn = f->bus == 0 ? f->devfn : -1;
    fw_log(b->p, "PIIX3/PIIX4 init: elcr=%02x %02x\n", elcr[0], elcr[1]);
}

static void mch_isa_setup(struct boot *b, const struct fw_fn *f)
{
    uint8_t elcr[2];

    for (unsigned i = 0; i < 4; i++) {
        wr(b, f, ICH9_PIRQA_ROUT + i, pci_irqs[i], 1);
        wr(b, f, ICH9_PIRQE_ROUT + i, pci_irqs[i], 1);
    }
    elcr_setup(b, elcr);
    fw_log(b->p, "Q35 LPC init: elcr=%02x %02x\n", elcr[0], elcr[1]);
    b->p->pirq_devfn = f->bus == 0 ? f->devfn : -1;
    wr(b, f, ICH9_PMBASE, ACPI_PM_BASE | 1u, 4); /* PMBASE, resource type I/O */
    wr(b, f, ICH9_ACPI_CTRL, ICH9_ACPI_EN, 1);   /* ACPI on, SCI on IRQ 9 */
    wr(b, f, ICH9_RCBA, ICH9_RCBA_ADDR | 1u, 4); /* root complex register block */
    fw_log(b->p, "Using pmtimer, ioport 0x%x\n", ACPI_PM_BASE + 8);
}

static void piix_ide_setup(struct boot *b, const struct fw_fn *f)
{
    wr(b, f, 0x40, 0x8000, 2); /* IDETIM primary: decode enable */
    wr(b, f, 0x42, 0x8000, 2); /* secondary */
}

static void storage_ide_setup(struct boot *b, const struct fw_fn *f)
{
    /* Legacy ISA compatibility ports (SeaBIOS PORT_ATA*). */
    fw_set_bar(b->v, b->p, f, 0, 0x1f0, false);
    fw_set_bar(b->v, b->p, f, 1, 0x3f4, false);
    fw_set_bar(b->v, b->p, f, 2, 0x170, false);
    fw_set_bar(b->v, b->p, f, 3, 0x374, false);
}

static void piix4_pm_setup(struct boot *b, const struct fw_fn *f)
{
    wr(b, f, PCI_INTERRUPT_LINE, 9, 1);              /* the SCI is wired to IRQ 9 */
    wr(b, f, 0x40, ACPI_PM_BASE | 1u, 4);            /* PMBA */
    wr(b, f, 0x80, 0x01, 1);                         /* PMREGMISC: PM I/O on */
    wr(b, f, 0x90, (ACPI_PM_BASE + 0x100u) | 1u, 4); /* SMBBA */
    wr(b, f, 0xd2, 0x09, 1);                         /* SMBHSTCFG: SMBus I/O on */
    fw_log(b->p, "Using pmtimer, ioport 0x%x\n", ACPI_PM_BASE + 8);
}

static void ich9_smbus_setup(struct boot *b, const struct fw_fn *f)
{
    wr(b, f, ICH9_SMB_BASE, (ACPI_PM_BASE + 0x100u) | PCI_BASE_ADDRESS_SPACE_IO, 4);
    wr(b, f, ICH9_SMB_HOSTC, 1, 1); /* host enable */
}

struct fw_quirk {
    uint16_t vendor, device; /* 0xffff = any */
    uint16_t class;          /* checked when has_class */
    bool has_class;
    void (*setup)(struct boot *b, const struct fw_fn *f);
};

/* SeaBIOS pci_device_tbl, in its order (the first match applies). */
static const struct fw_quirk quirks[] = {
    {0x8086, 0x7000, 0, false, piix_isa_setup},                   /* PIIX3 ISA bridge */
    {0x8086, 0x7110, 0, false, piix_isa_setup},                   /* PIIX4 ISA bridge */
    {0x8086, 0x2918, 0, false, mch_isa_setup},                    /* ICH9 LPC */
    {0x8086, 0x7010, CLASS_STORAGE_IDE, true, piix_ide_setup},    /* PIIX3 IDE */
    {0x8086, 0x7111, CLASS_STORAGE_IDE, true, piix_ide_setup},    /* PIIX4 IDE */
    {0xffff, 0xffff, CLASS_STORAGE_IDE, true, storage_ide_setup}, /* any IDE */
    {0x8086, 0x7113, 0, false, piix4_pm_setup},                   /* PIIX4 ACPI PM */
    {0x8086, 0x2930, 0, false, ich9_smbus_setup},                 /* ICH9 SMBus */
};

static void init_device(struct boot *b, const struct fw_fn *f)
{
    uint8_t pin = (uint8_t)rd(b, f, PCI_INTERRUPT_PIN, 1);

    fw_log(b->p, "PCI: init bdf=%02x:%02x.%x id=%04x:%04x\n", f->bus, PCI_SLOT_OF(f->devfn),
           PCI_FUNC_OF(f->devfn), f->vendor, f->device);
    if (pin)
        wr(b, f, PCI_INTERRUPT_LINE, slot_get_irq(b, f, pin), 1);
    for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
        const struct fw_quirk *q = &quirks[i];

        if ((q->vendor == 0xffff || q->vendor == f->vendor) &&
            (q->device == 0xffff || q->device == f->device) &&
            (!q->has_class || q->class == f->class)) {
            q->setup(b, f);
            break;
        }
    }
    fw_cfg_maskw(b->v, b->p, f->bus, f->devfn, PCI_COMMAND, 0,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_SERR);
    if (f->header & PCI_HEADER_TYPE_BRIDGE) /* SERR# forwarding (SeaBIOS tests bit 0) */
        fw_cfg_maskw(b->v, b->p, f->bus, f->devfn, PCI_BRIDGE_CONTROL, 0, PCI_BRIDGE_CTL_SERR);
}

/* What the OS needs later: the buses as numbered. */
static void record_buses(struct boot *b)
{
    struct fw_platform *p = b->p;

    p->buses[0] =
        (struct fw_bus){.present = true, .subordinate = (uint8_t)b->max_bus, .booted = true};
    for (unsigned i = 0; i < b->n; i++) {
        const struct fw_fn *f = &b->fns[i];
        uint8_t sec = f->secondary;

        if (f->class != FW_CLASS_BRIDGE || !sec || sec <= f->bus || p->buses[sec].present)
            continue;
        p->buses[sec] = (struct fw_bus){
            .present = true,
            .parent = f->bus,
            .devfn = f->devfn,
            .subordinate = (uint8_t)rd(b, f, PCI_SUBORDINATE_BUS, 1),
            .booted = true,
        };
    }
}

int firmware_run(struct vcpu *v, struct fw_platform *p)
{
    struct boot b = {.v = v, .p = p};
    uint8_t pci_bus = 0;
    bool vga = false;
    int ret;

    fw_platform_clear(p);
    fw_log(p, "=== PCI bus & bridge init ===\n");
    /* SeaBIOS pci_probe_host: mechanism #1 answers when the enable bit reads back. */
    vcpu_out(v, CONF1_ADDR, CONF1_ENABLE, 4);
    if (vcpu_in(v, CONF1_ADDR, 4) != CONF1_ENABLE) {
        fw_log(p, "Detected non-PCI system\n");
        return -ENODEV;
    }
    init_bus_rec(&b, 0, &pci_bus, 0);
    fw_log(p, "=== PCI device probing ===\n");
    if ((ret = probe_devices(&b)) < 0)
        goto out;
    p->functions = b.n;
    ret = -ENODEV;
    if (!init_platform(&b)) {
        fw_log(p, "PCI: unknown host bridge\n");
        goto out;
    }
    fw_log(p, "=== PCI new allocation pass #1 ===\n");
    ret = -ENOMEM;
    b.busses = calloc(b.max_bus + 1, sizeof(*b.busses));
    if (!b.busses)
        goto out;
    for (unsigned i = 0; i <= b.max_bus; i++)
        b.busses[i].dev = -1;
    if ((ret = check_devices(&b)) < 0)
        goto out;
    fw_log(p, "=== PCI new allocation pass #2 ===\n");
    if ((ret = map_devices(&b)) < 0)
        goto out;
    for (unsigned i = 0; i < b.n; i++) {
        init_device(&b, &b.fns[i]);
        vga |= b.fns[i].class == CLASS_DISPLAY_VGA;
    }
    if (!vga)
        fw_log(p, "PCI: No VGA devices found\n");
    record_buses(&b);
    ret = (int)b.n;
out:
    if (b.busses)
        for (unsigned i = 0; i <= b.max_bus; i++)
            fw_regions_free(b.busses[i].r, FW_KINDS);
    free(b.busses);
    free(b.fns);
    return ret;
}
