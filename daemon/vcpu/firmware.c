/* SPDX-License-Identifier: MIT */
/*
 * firmware.c — SeaBIOS-style PCI enumeration and resource assignment, and the OS side of
 * hot-add, done with configuration cycles on a vCPU. See firmware.h for the rules.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "firmware.h"

#define CONF1_ADDR   0xcf8
#define CONF1_DATA   0xcfc
#define CONF1_ENABLE 0x80000000u

#define DEVICE_MEM_MIN    0x1000ULL /* SeaBIOS PCI_DEVICE_MEM_MIN */
#define CLASS_STORAGE_IDE 0x0101    /* PCI Code and ID Assignment 1.11 §1.2 */
#define IO_TRADITIONAL    0xc000ULL /* SeaBIOS: the classic PCI I/O area 0xc000-0xffff */
#define IO_LOW            0x1000ULL /* and the larger one below it */
#define IO_END            0x10000ULL
#define MEM64_START       0x100000000ULL
#define MEM64_ALIGN       (1ULL << 30) /* SeaBIOS aligns the 64-bit window to 1 GiB */
#define MAX_FUNCTIONS     256          /* bus 0 */

#define ALIGN_UP(x, a)   (((x) + (a)-1) & ~((a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((a)-1))

/* A chipset the firmware knows, identified by its host bridge. */
struct fw_chipset {
    const char *name;
    uint16_t vendor, device;
    uint64_t mem_start, mem_end; /* 32-bit PCI window (guest RAM below 2 GiB) */
    uint64_t io_low_end;         /* I/O below this is free for PCI when 0xc000 is too small */
    uint8_t pirq[4];             /* IRQ of PIRQ links A-D */
    uint16_t pm_base;            /* ACPI PM I/O base the firmware programs */
};

static const struct fw_chipset chipsets[] = {
    /* QEMU i440FX/PIIX: 0xa000-0xafff holds the hotplug controllers (SeaBIOS pciinit.c). */
    {"i440fx", 0x8086, 0x1237, 0x80000000ULL, 0xfec00000ULL, 0xa000, {10, 10, 11, 11}, 0x600},
};

static const char *const kind_name[FW_KINDS] = {"io", "mem", "prefmem"};

/* ---- configuration cycles ---- */

static uint32_t conf1_addr(uint8_t bus, uint8_t devfn, uint8_t off)
{
    return CONF1_ENABLE | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (off & 0xfc);
}

uint32_t fw_cfg_read(struct vcpu *v, uint8_t bus, uint8_t devfn, uint8_t off, unsigned len)
{
    uint32_t saved = (uint32_t)vcpu_in(v, CONF1_ADDR, 4);
    uint32_t val;

    vcpu_out(v, CONF1_ADDR, conf1_addr(bus, devfn, off), 4);
    val = (uint32_t)vcpu_in(v, (uint16_t)(CONF1_DATA + (off & 3)), len);
    vcpu_out(v, CONF1_ADDR, saved, 4);
    return val;
}

void fw_cfg_write(struct vcpu *v, uint8_t bus, uint8_t devfn, uint8_t off, uint32_t val,
                  unsigned len)
{
    uint32_t saved = (uint32_t)vcpu_in(v, CONF1_ADDR, 4);

    vcpu_out(v, CONF1_ADDR, conf1_addr(bus, devfn, off), 4);
    vcpu_out(v, (uint16_t)(CONF1_DATA + (off & 3)), val, len);
    vcpu_out(v, CONF1_ADDR, saved, 4);
}

/* Read-modify-write of a 16-bit register (SeaBIOS pci_config_maskw). */
static void cfg_maskw(struct vcpu *v, uint8_t bus, uint8_t devfn, uint8_t off, uint16_t clear,
                      uint16_t set)
{
    uint16_t val = (uint16_t)fw_cfg_read(v, bus, devfn, off, 2);

    fw_cfg_write(v, bus, devfn, off, (uint16_t)((val & ~clear) | set), 2);
}

static void fw_log(const struct fw_platform *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fw_log(const struct fw_platform *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->log)
        return;
    va_start(ap, fmt);
    vfprintf(p->log, fmt, ap);
    va_end(ap);
}

/* ---- the resource list ---- */

void fw_platform_clear(struct fw_platform *p)
{
    FILE *log = p->log;

    free(p->res);
    *p = (struct fw_platform){.pirq_devfn = -1, .log = log};
}

static int res_add(struct fw_platform *p, const struct fw_res *r)
{
    if (p->n_res == p->cap_res) {
        unsigned cap = p->cap_res ? p->cap_res * 2 : 32;
        struct fw_res *n = realloc(p->res, cap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        p->res = n;
        p->cap_res = cap;
    }
    p->res[p->n_res++] = *r;
    return 0;
}

/* ---- probing ---- */

struct fw_fn {
    uint8_t bus, devfn, header;
    uint16_t vendor, device, class;
};

static bool fn_present(struct vcpu *v, uint8_t bus, uint8_t devfn, struct fw_fn *out)
{
    uint32_t id = fw_cfg_read(v, bus, devfn, PCI_VENDOR_ID, 4);
    uint16_t vendor = (uint16_t)id;

    if (vendor == 0xffff || vendor == 0x0000)
        return false;
    *out = (struct fw_fn){
        .bus = bus,
        .devfn = devfn,
        .vendor = vendor,
        .device = (uint16_t)(id >> 16),
        .class = (uint16_t)fw_cfg_read(v, bus, devfn, PCI_CLASS_DEVICE, 2),
        .header = (uint8_t)fw_cfg_read(v, bus, devfn, PCI_HEADER_TYPE, 1),
    };
    return true;
}

/*
 * Functions of one slot, SeaBIOS's pci_next() walk: function 0, then 1-7 only when function 0
 * has the multi-function bit. Returns how many were stored in `out` (at most 8).
 */
static unsigned probe_slot(struct vcpu *v, uint8_t bus, unsigned slot, struct fw_fn *out)
{
    unsigned n = 0;

    if (!fn_present(v, bus, PCI_DEVFN_OF(slot, 0), &out[0]))
        return 0;
    n = 1;
    if (!(out[0].header & PCI_HEADER_TYPE_MULTI_FUNCTION))
        return n;
    for (unsigned fn = 1; fn < PCI_FUNC_MAX; fn++)
        if (fn_present(v, bus, PCI_DEVFN_OF(slot, fn), &out[n]))
            n++;
    return n;
}

/* ---- BAR sizing (SeaBIOS pci_bios_get_bar) ---- */

struct fw_bar {
    uint8_t bar, kind;
    bool is64;
    uint64_t size;
};

static uint8_t bar_offset(const struct fw_fn *f, unsigned bar)
{
    if (bar == PCI_ROM_SLOT)
        return (f->header & 0x7f) == PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
    return (uint8_t)(PCI_BASE_ADDRESS_0 + 4 * bar);
}

/* Size BAR `bar` of `f`, restoring its value. Returns false when it is not implemented. */
static bool size_bar(struct vcpu *v, const struct fw_fn *f, unsigned bar, struct fw_bar *out)
{
    uint8_t ofs = bar_offset(f, bar);
    uint32_t old = fw_cfg_read(v, f->bus, f->devfn, ofs, 4);
    uint64_t mask, val, size;

    *out = (struct fw_bar){.bar = (uint8_t)bar, .kind = FW_MEM};
    if (bar == PCI_ROM_SLOT) {
        mask = PCI_ROM_ADDRESS_MASK & 0xffffffffu;
        fw_cfg_write(v, f->bus, f->devfn, ofs, (uint32_t)mask, 4);
    } else {
        if (old & PCI_BASE_ADDRESS_SPACE_IO) {
            mask = PCI_BASE_ADDRESS_IO_MASK & 0xffffffffu;
            out->kind = FW_IO;
        } else {
            mask = PCI_BASE_ADDRESS_MEM_MASK & 0xffffffffu;
            out->kind = (old & PCI_BASE_ADDRESS_MEM_PREFETCH) ? FW_PREFMEM : FW_MEM;
        }
        fw_cfg_write(v, f->bus, f->devfn, ofs, 0xffffffffu, 4);
    }
    val = fw_cfg_read(v, f->bus, f->devfn, ofs, 4);
    fw_cfg_write(v, f->bus, f->devfn, ofs, old, 4);
    out->is64 =
        bar != PCI_ROM_SLOT && (old & (PCI_BASE_ADDRESS_SPACE | PCI_BASE_ADDRESS_MEM_TYPE_MASK)) ==
                                   PCI_BASE_ADDRESS_MEM_TYPE_64;
    if (out->is64 && bar < PCI_NUM_BARS - 1) {
        uint32_t hold = fw_cfg_read(v, f->bus, f->devfn, (uint8_t)(ofs + 4), 4);
        uint64_t high;

        fw_cfg_write(v, f->bus, f->devfn, (uint8_t)(ofs + 4), 0xffffffffu, 4);
        high = fw_cfg_read(v, f->bus, f->devfn, (uint8_t)(ofs + 4), 4);
        fw_cfg_write(v, f->bus, f->devfn, (uint8_t)(ofs + 4), hold, 4);
        val |= high << 32;
        mask |= 0xffffffff00000000ULL;
        size = ~(val & mask) + 1;
    } else {
        out->is64 = false;
        size = (~(val & mask) + 1) & 0xffffffffULL;
    }
    out->size = size;
    return size != 0;
}

static void set_bar_addr(struct vcpu *v, const struct fw_fn *f, unsigned bar, uint64_t addr,
                         bool is64)
{
    uint8_t ofs = bar_offset(f, bar);

    fw_cfg_write(v, f->bus, f->devfn, ofs, (uint32_t)addr, 4);
    if (is64)
        fw_cfg_write(v, f->bus, f->devfn, (uint8_t)(ofs + 4), (uint32_t)(addr >> 32), 4);
}

/* ---- regions: sorted lists of BARs to place (SeaBIOS pci_region) ---- */

struct fw_entry {
    const struct fw_fn *fn;
    uint8_t bar, kind;
    bool is64;
    uint64_t size, align;
};

struct fw_region {
    struct fw_entry *e;
    unsigned n, cap;
    uint64_t base;
};

/* Insert keeping largest alignment, then largest size, first; stable for equal keys. */
static int region_insert(struct fw_region *r, const struct fw_entry *e)
{
    unsigned i;

    if (r->n == r->cap) {
        unsigned cap = r->cap ? r->cap * 2 : 16;
        struct fw_entry *n = realloc(r->e, cap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        r->e = n;
        r->cap = cap;
    }
    for (i = 0; i < r->n; i++)
        if (r->e[i].align < e->align || (r->e[i].align == e->align && r->e[i].size < e->size))
            break;
    memmove(&r->e[i + 1], &r->e[i], (r->n - i) * sizeof(*r->e));
    r->e[i] = *e;
    r->n++;
    return 0;
}

static uint64_t region_sum(const struct fw_region *r)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < r->n; i++)
        sum += r->e[i].size;
    return sum;
}

static uint64_t region_align(const struct fw_region *r)
{
    return r->n ? r->e[0].align : 1; /* the first entry has the largest alignment */
}

/* Move the 64-bit entries of `from` to the end of `to`, keeping their order. */
static int region_migrate64(struct fw_region *from, struct fw_region *to)
{
    unsigned keep = 0;

    for (unsigned i = 0; i < from->n; i++) {
        if (!from->e[i].is64) {
            from->e[keep++] = from->e[i];
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
        to->e[to->n++] = from->e[i];
    }
    from->n = keep;
    return 0;
}

/* SeaBIOS pci_bios_init_root_regions_mem: place the two 32-bit memory kinds at the top. */
static bool place_mem32(struct fw_region *mem, struct fw_region *pref, uint64_t start, uint64_t end)
{
    struct fw_region *top = pref, *below = mem;
    uint64_t sum;

    if (region_align(mem) < region_align(pref)) {
        top = mem; /* the smaller alignment sits at the unaligned top */
        below = pref;
    }
    sum = region_sum(top);
    if (sum > end)
        return false;
    top->base = ALIGN_DOWN(end - sum, region_align(top));
    sum = region_sum(below);
    if (sum > top->base)
        return false;
    below->base = ALIGN_DOWN(top->base - sum, region_align(below));
    return below->base >= start && below->base <= end;
}

static int map_region(struct vcpu *v, struct fw_platform *p, struct fw_region *r)
{
    for (unsigned i = 0; i < r->n; i++) {
        const struct fw_entry *e = &r->e[i];
        uint64_t addr = r->base;
        int err;

        r->base += e->size;
        fw_log(p, "PCI: map device bdf=%02x:%02x.%x  bar %u, addr %08llx, size %08llx [%s]\n",
               e->fn->bus, PCI_SLOT_OF(e->fn->devfn), PCI_FUNC_OF(e->fn->devfn), e->bar,
               (unsigned long long)addr, (unsigned long long)e->size, kind_name[e->kind]);
        set_bar_addr(v, e->fn, e->bar, addr, e->is64);
        err = res_add(p, &(struct fw_res){.bus = e->fn->bus,
                                          .devfn = e->fn->devfn,
                                          .bar = e->bar,
                                          .kind = e->kind,
                                          .base = addr,
                                          .size = e->size});
        if (err < 0)
            return err;
    }
    return 0;
}

/* ---- per-function setup (SeaBIOS pci_bios_init_device and its device table) ---- */

static uint8_t pirq_irq(const struct fw_chipset *cs, uint8_t bus, uint8_t devfn, uint8_t pin)
{
    (void)bus; /* bus 0 only: no bridge swizzle yet */
    return cs->pirq[(pin - 1 + PCI_SLOT_OF(devfn) - 1) & 3];
}

static void piix_isa_setup(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f)
{
    uint8_t elcr[2] = {0, 0};

    for (unsigned i = 0; i < 4; i++) {
        uint8_t irq = p->chipset->pirq[i];

        elcr[irq >> 3] |= (uint8_t)(1u << (irq & 7));                   /* level triggered */
        fw_cfg_write(v, f->bus, f->devfn, (uint8_t)(0x60 + i), irq, 1); /* PIRQRC[A:D] */
    }
    vcpu_out(v, 0x4d0, elcr[0], 1); /* ELCR1/2 */
    vcpu_out(v, 0x4d1, elcr[1], 1);
    p->pirq_devfn = f->devfn;
    fw_log(p, "PIIX3/PIIX4 init: elcr=%02x %02x\n", elcr[0], elcr[1]);
}

static void piix_ide_setup(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f)
{
    (void)p;
    fw_cfg_write(v, f->bus, f->devfn, 0x40, 0x8000, 2); /* IDETIM primary: decode enable */
    fw_cfg_write(v, f->bus, f->devfn, 0x42, 0x8000, 2); /* secondary */
}

static void piix4_pm_setup(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f)
{
    uint16_t base = p->chipset->pm_base;

    fw_cfg_write(v, f->bus, f->devfn, PCI_INTERRUPT_LINE, 9, 1); /* the SCI is wired to IRQ 9 */
    fw_cfg_write(v, f->bus, f->devfn, 0x40, base | 1u, 4);       /* PMBA */
    fw_cfg_write(v, f->bus, f->devfn, 0x80, 0x01, 1);            /* PMREGMISC: PM I/O on */
    fw_cfg_write(v, f->bus, f->devfn, 0x90, (base + 0x100u) | 1u, 4); /* SMBBA */
    fw_cfg_write(v, f->bus, f->devfn, 0xd2, 0x09, 1);                 /* SMBHSTCFG: SMBus I/O on */
}

struct fw_quirk {
    uint16_t vendor, device, class; /* 0xffff = any */
    void (*setup)(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f);
};

static const struct fw_quirk quirks[] = {
    {0x8086, 0x7000, 0xffff, piix_isa_setup},            /* PIIX3 ISA bridge */
    {0x8086, 0x7110, 0xffff, piix_isa_setup},            /* PIIX4 ISA bridge */
    {0x8086, 0x7010, CLASS_STORAGE_IDE, piix_ide_setup}, /* PIIX3 IDE */
    {0x8086, 0x7111, CLASS_STORAGE_IDE, piix_ide_setup}, /* PIIX4 IDE */
    {0x8086, 0x7113, 0xffff, piix4_pm_setup},            /* PIIX4 ACPI PM */
};

static void init_function(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f)
{
    uint8_t pin = (uint8_t)fw_cfg_read(v, f->bus, f->devfn, PCI_INTERRUPT_PIN, 1);

    fw_log(p, "PCI: init bdf=%02x:%02x.%x id=%04x:%04x\n", f->bus, PCI_SLOT_OF(f->devfn),
           PCI_FUNC_OF(f->devfn), f->vendor, f->device);
    if (pin >= 1 && pin <= 4)
        fw_cfg_write(v, f->bus, f->devfn, PCI_INTERRUPT_LINE,
                     pirq_irq(p->chipset, f->bus, f->devfn, pin), 1);
    for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
        const struct fw_quirk *q = &quirks[i];

        if ((q->vendor == 0xffff || q->vendor == f->vendor) &&
            (q->device == 0xffff || q->device == f->device) &&
            (q->class == 0xffff || q->class == f->class)) {
            q->setup(v, p, f);
            break;
        }
    }
    cfg_maskw(v, f->bus, f->devfn, PCI_COMMAND, 0,
              PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_SERR);
    if ((f->header & 0x7f) == PCI_HEADER_TYPE_BRIDGE)
        cfg_maskw(v, f->bus, f->devfn, PCI_BRIDGE_CONTROL, 0, PCI_BRIDGE_CTL_SERR);
}

/* ---- boot ---- */

static void regions_free(struct fw_region *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(r[i].e);
}

/* Collect the BARs of `f` into `r` (SeaBIOS pci_bios_check_devices, root bus). */
static int collect_bars(struct vcpu *v, const struct fw_fn *f, struct fw_region *r)
{
    bool bridge = (f->header & 0x7f) == PCI_HEADER_TYPE_BRIDGE;

    for (unsigned i = 0; i < PCI_NUM_REGIONS; i++) {
        struct fw_bar b;
        int err;

        if (bridge && i >= 2 && i < PCI_ROM_SLOT)
            continue; /* a type 1 header has two BARs */
        if (!size_bar(v, f, i, &b))
            continue;
        if (b.kind != FW_IO && b.size < DEVICE_MEM_MIN)
            b.size = DEVICE_MEM_MIN;
        err = region_insert(&r[b.kind], &(struct fw_entry){.fn = f,
                                                           .bar = b.bar,
                                                           .kind = b.kind,
                                                           .is64 = b.is64,
                                                           .size = b.size,
                                                           .align = b.size});
        if (err < 0)
            return err;
        if (b.is64)
            i++;
    }
    return 0;
}

int firmware_run(struct vcpu *v, struct fw_platform *p)
{
    struct fw_fn *fns;
    struct fw_region r[FW_KINDS] = {0}, r64[2] = {0};
    unsigned n = 0;
    uint64_t sum;
    int ret;

    fw_platform_clear(p);
    /* SeaBIOS pci_probe_host: mechanism #1 answers when the enable bit reads back. */
    vcpu_out(v, CONF1_ADDR, CONF1_ENABLE, 4);
    if (vcpu_in(v, CONF1_ADDR, 4) != CONF1_ENABLE) {
        fw_log(p, "Detected non-PCI system\n");
        return -ENODEV;
    }
    fns = calloc(MAX_FUNCTIONS, sizeof(*fns));
    if (!fns)
        return -ENOMEM;
    fw_log(p, "=== PCI bus & bridge init ===\n");
    fw_log(p, "PCI: pci_bios_init_bus_rec bus = 0x0\n");
    fw_log(p, "=== PCI device probing ===\n");
    for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++)
        n += probe_slot(v, 0, slot, &fns[n]);
    fw_log(p, "Found %u PCI devices (max PCI bus is 00)\n", n);
    p->functions = n;

    ret = -ENODEV;
    for (size_t i = 0; n && i < sizeof(chipsets) / sizeof(chipsets[0]); i++)
        if (fns[0].devfn == 0 && fns[0].vendor == chipsets[i].vendor &&
            fns[0].device == chipsets[i].device)
            p->chipset = &chipsets[i];
    if (!p->chipset) {
        fw_log(p, "PCI: unknown host bridge\n");
        goto out;
    }
    p->host_vendor = fns[0].vendor;
    p->host_device = fns[0].device;
    p->mem_start = p->chipset->mem_start;
    p->mem_end = p->chipset->mem_end;

    fw_log(p, "=== PCI new allocation pass #1 ===\n");
    fw_log(p, "PCI: check devices\n");
    for (unsigned i = 0; i < n; i++) {
        ret = collect_bars(v, &fns[i], r);
        if (ret < 0)
            goto out;
    }

    fw_log(p, "=== PCI new allocation pass #2 ===\n");
    ret = -ENOSPC;
    sum = region_sum(&r[FW_IO]);
    if (sum < 0x4000)
        r[FW_IO].base = IO_TRADITIONAL;
    else if (sum < p->chipset->io_low_end - IO_LOW)
        r[FW_IO].base = IO_LOW;
    else {
        fw_log(p, "PCI: out of I/O address space\n");
        goto out;
    }
    p->io_start = r[FW_IO].base;
    p->io_end = r[FW_IO].base == IO_TRADITIONAL ? IO_END : p->chipset->io_low_end;
    fw_log(p, "PCI: IO: %4llx - %4llx\n", (unsigned long long)r[FW_IO].base,
           (unsigned long long)(r[FW_IO].base + sum - 1));
    fw_log(p, "PCI: 32: %016llx - %016llx\n", (unsigned long long)p->mem_start,
           (unsigned long long)p->mem_end);
    if (!place_mem32(&r[FW_MEM], &r[FW_PREFMEM], p->mem_start, p->mem_end)) {
        uint64_t sum_mem, sum_pref;

        /* Too small: 64-bit BARs go above 4 GiB, memory then prefetchable, 1 GiB aligned. */
        if (region_migrate64(&r[FW_MEM], &r64[0]) < 0 ||
            region_migrate64(&r[FW_PREFMEM], &r64[1]) < 0 ||
            !place_mem32(&r[FW_MEM], &r[FW_PREFMEM], p->mem_start, p->mem_end)) {
            fw_log(p, "PCI: out of 32bit address space\n");
            goto out;
        }
        sum_mem = region_sum(&r64[0]);
        sum_pref = region_sum(&r64[1]);
        r64[0].base = ALIGN_UP(ALIGN_UP(MEM64_START, region_align(&r64[0])), MEM64_ALIGN);
        r64[1].base = ALIGN_UP(ALIGN_UP(r64[0].base + sum_mem, region_align(&r64[1])), MEM64_ALIGN);
        fw_log(p, "PCI: 64: %016llx - %016llx\n", (unsigned long long)r64[0].base,
               (unsigned long long)(r64[1].base + sum_pref));
    }
    for (unsigned k = 0; k < FW_KINDS; k++)
        if ((ret = map_region(v, p, &r[k])) < 0)
            goto out;
    for (unsigned k = 0; k < 2; k++)
        if ((ret = map_region(v, p, &r64[k])) < 0)
            goto out;

    for (unsigned i = 0; i < n; i++)
        init_function(v, p, &fns[i]);
    ret = (int)n;
out:
    regions_free(r, FW_KINDS);
    regions_free(r64, 2);
    free(fns);
    return ret;
}

/* ---- OS hot-add and removal ---- */

static bool res_overlaps(const struct fw_platform *p, unsigned kind, uint64_t base, uint64_t size)
{
    bool io = kind == FW_IO;

    for (unsigned i = 0; i < p->n_res; i++) {
        const struct fw_res *r = &p->res[i];

        if ((r->kind == FW_IO) != io)
            continue;
        if (base < r->base + r->size && r->base < base + size)
            return true;
    }
    return false;
}

/* The lowest `align`ed address in [start, end) where `size` bytes overlap nothing assigned. */
static bool find_free(const struct fw_platform *p, unsigned kind, uint64_t start, uint64_t end,
                      uint64_t size, uint64_t align, uint64_t *out)
{
    uint64_t a = ALIGN_UP(start, align);

    while (a + size <= end && a + size > a) {
        uint64_t next = 0;

        if (!res_overlaps(p, kind, a, size)) {
            *out = a;
            return true;
        }
        /* Jump past the lowest range that overlaps. */
        for (unsigned i = 0; i < p->n_res; i++) {
            const struct fw_res *r = &p->res[i];

            if ((r->kind == FW_IO) == (kind == FW_IO) && a < r->base + r->size &&
                r->base < a + size && r->base + r->size > next)
                next = r->base + r->size;
        }
        a = ALIGN_UP(next, align);
    }
    return false;
}

static void res_drop(struct fw_platform *p, uint8_t bus, uint8_t devfn)
{
    unsigned keep = 0;

    for (unsigned i = 0; i < p->n_res; i++)
        if (p->res[i].bus != bus || p->res[i].devfn != devfn)
            p->res[keep++] = p->res[i];
    p->n_res = keep;
}

/*
 * Whether `f` is the function the guest configured earlier: it has ranges recorded and its
 * BARs still hold them. A function removed and replaced behind the guest's back (an eject
 * written by someone else, then a hot-add) reads back reset BARs: its stale ranges are dropped.
 */
static bool fn_configured(struct vcpu *v, struct fw_platform *p, const struct fw_fn *f)
{
    bool known = false;

    for (unsigned i = 0; i < p->n_res; i++) {
        const struct fw_res *r = &p->res[i];
        uint32_t val, want;

        if (r->bus != f->bus || r->devfn != f->devfn)
            continue;
        known = true;
        val = fw_cfg_read(v, f->bus, f->devfn, bar_offset(f, r->bar), 4);
        want = (uint32_t)r->base;
        if (r->bar == PCI_ROM_SLOT ? (val & PCI_ROM_ADDRESS_MASK) != want
            : r->kind == FW_IO     ? (val & PCI_BASE_ADDRESS_IO_MASK) != want
                                   : (val & PCI_BASE_ADDRESS_MEM_MASK) != want) {
            res_drop(p, f->bus, f->devfn);
            return false;
        }
    }
    return known;
}

int firmware_assign_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot)
{
    struct fw_fn fns[PCI_FUNC_MAX];
    unsigned n, done = 0;
    int ret = 0;

    if (!p->chipset)
        return -ENODEV;
    n = probe_slot(v, bus, slot, fns);
    for (unsigned i = 0; i < n; i++) {
        const struct fw_fn *f = &fns[i];
        struct fw_region r[FW_KINDS] = {0}, all = {0};
        uint16_t cmd = PCI_COMMAND_MASTER;
        uint8_t pin;

        if (fn_configured(v, p, f))
            continue;
        /* Size with decoding off, as Linux does for a device that is not yet enabled. */
        cfg_maskw(v, bus, f->devfn, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 0);
        if (collect_bars(v, f, r) < 0) {
            regions_free(r, FW_KINDS);
            return -ENOMEM;
        }
        for (unsigned k = 0; k < FW_KINDS; k++)
            for (unsigned j = 0; j < r[k].n; j++)
                if (region_insert(&all, &r[k].e[j]) < 0) {
                    regions_free(r, FW_KINDS);
                    free(all.e);
                    return -ENOMEM;
                }
        regions_free(r, FW_KINDS);
        for (unsigned j = 0; j < all.n; j++) {
            const struct fw_entry *e = &all.e[j];
            uint64_t start = e->kind == FW_IO ? p->io_start : p->mem_start;
            uint64_t end = e->kind == FW_IO ? p->io_end : p->mem_end;
            uint64_t addr;

            if (!find_free(p, e->kind, start, end, e->size, e->align, &addr)) {
                ret = -ENOSPC;
                continue;
            }
            set_bar_addr(v, f, e->bar, addr, e->is64);
            if (res_add(p, &(struct fw_res){.bus = bus,
                                            .devfn = f->devfn,
                                            .bar = e->bar,
                                            .kind = e->kind,
                                            .base = addr,
                                            .size = e->size}) < 0) {
                free(all.e);
                return -ENOMEM;
            }
            if (e->bar != PCI_ROM_SLOT)
                cmd |= e->kind == FW_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
        }
        free(all.e);
        pin = (uint8_t)fw_cfg_read(v, bus, f->devfn, PCI_INTERRUPT_PIN, 1);
        if (pin >= 1 && pin <= 4 && p->pirq_devfn >= 0) {
            /* The ACPI link device's _CRS reads the PIIX3 route register of the link. */
            unsigned link = (pin - 1 + slot - 1) & 3;
            uint8_t route =
                (uint8_t)fw_cfg_read(v, 0, (uint8_t)p->pirq_devfn, (uint8_t)(0x60 + link), 1);

            fw_cfg_write(v, bus, f->devfn, PCI_INTERRUPT_LINE,
                         (route & 0x80) ? 0xff : (route & 0x0f), 1);
        }
        cfg_maskw(v, bus, f->devfn, PCI_COMMAND, 0, cmd);
        fw_log(p, "hotplug: configured %02x:%02x.%x id=%04x:%04x\n", bus, slot,
               PCI_FUNC_OF(f->devfn), f->vendor, f->device);
        done++;
    }
    return ret < 0 ? ret : (int)done;
}

int firmware_release_slot(struct vcpu *v, struct fw_platform *p, uint8_t bus, unsigned slot)
{
    unsigned keep = 0, released = 0;
    uint8_t seen[PCI_FUNC_MAX] = {0};

    for (unsigned i = 0; i < p->n_res; i++) {
        const struct fw_res *r = &p->res[i];

        if (r->bus != bus || PCI_SLOT_OF(r->devfn) != slot) {
            p->res[keep++] = *r;
            continue;
        }
        if (!seen[PCI_FUNC_OF(r->devfn)]) {
            seen[PCI_FUNC_OF(r->devfn)] = 1;
            released++;
            /* The driver's remove: no more DMA or decoding (pci_disable_device). */
            cfg_maskw(v, bus, r->devfn, PCI_COMMAND,
                      PCI_COMMAND_MASTER | PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 0);
        }
    }
    p->n_res = keep;
    return (int)released;
}
