/* SPDX-License-Identifier: MIT */
/*
 * fw_pci.c — the pieces of PCI the guest model's firmware and OS share: configuration cycles
 * (mechanism #1 or ECAM), probing, BAR sizing, sorted region lists, the resource list and the
 * log. See fw_internal.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fw_internal.h"

#define CONF1_ADDR   0xcf8
#define CONF1_DATA   0xcfc
#define CONF1_ENABLE 0x80000000u
#define CAP_WALK_MAX 48 /* capabilities a 256-byte header can hold */

/* ---- configuration cycles ---- */

static uint32_t conf1_addr(uint8_t bus, uint8_t devfn, uint16_t off)
{
    return CONF1_ENABLE | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (off & 0xfc);
}

static uint64_t ecam_addr(const struct fw_platform *p, uint8_t bus, uint8_t devfn, uint16_t off)
{
    return p->mmcfg + ((uint64_t)bus << 20 | (uint64_t)devfn << 12 | (off & 0xfff));
}

uint32_t fw_cfg_read(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                     uint16_t off, unsigned len)
{
    uint32_t saved, val;

    if (p->mmcfg)
        return (uint32_t)vcpu_read(v, ecam_addr(p, bus, devfn, off), len);
    if (off > 0xff)
        return len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
    saved = (uint32_t)vcpu_in(v, CONF1_ADDR, 4);
    vcpu_out(v, CONF1_ADDR, conf1_addr(bus, devfn, off), 4);
    val = (uint32_t)vcpu_in(v, (uint16_t)(CONF1_DATA + (off & 3)), len);
    vcpu_out(v, CONF1_ADDR, saved, 4);
    return val;
}

void fw_cfg_write(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                  uint16_t off, uint32_t val, unsigned len)
{
    uint32_t saved;

    if (p->mmcfg) {
        vcpu_write(v, ecam_addr(p, bus, devfn, off), val, len);
        return;
    }
    if (off > 0xff)
        return;
    saved = (uint32_t)vcpu_in(v, CONF1_ADDR, 4);
    vcpu_out(v, CONF1_ADDR, conf1_addr(bus, devfn, off), 4);
    vcpu_out(v, (uint16_t)(CONF1_DATA + (off & 3)), val, len);
    vcpu_out(v, CONF1_ADDR, saved, 4);
}

void fw_cfg_maskw(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                  uint16_t off, uint16_t clear, uint16_t set)
{
    uint16_t val = (uint16_t)fw_cfg_read(v, p, bus, devfn, off, 2);

    fw_cfg_write(v, p, bus, devfn, off, (uint16_t)((val & ~clear) | set), 2);
}

void fw_log(const struct fw_platform *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->log)
        return;
    va_start(ap, fmt);
    vfprintf(p->log, fmt, ap);
    va_end(ap);
}

uint8_t fw_find_cap(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                    uint8_t id, uint8_t cap)
{
    if (!(fw_cfg_read(v, p, bus, devfn, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
        return 0;
    cap = (uint8_t)fw_cfg_read(v, p, bus, devfn,
                               cap ? cap + PCI_CAP_LIST_NEXT : PCI_CAPABILITY_LIST, 1);
    /* Bounded and aligned: a guest-visible list may loop or point into the header. */
    for (unsigned i = 0; cap >= PCI_STD_HEADER_SIZEOF && i < CAP_WALK_MAX; i++) {
        cap &= 0xfc;
        if (fw_cfg_read(v, p, bus, devfn, cap + PCI_CAP_LIST_ID, 1) == id)
            return cap;
        cap = (uint8_t)fw_cfg_read(v, p, bus, devfn, cap + PCI_CAP_LIST_NEXT, 1);
    }
    return 0;
}

/* ---- the resource list ---- */

void fw_platform_clear(struct fw_platform *p)
{
    FILE *log = p->log;

    free(p->res);
    *p = (struct fw_platform){.pirq_devfn = -1, .log = log};
}

int fw_res_add(struct fw_platform *p, const struct fw_res *r)
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

void fw_res_drop(struct fw_platform *p, uint8_t bus, uint8_t devfn, int bar)
{
    unsigned keep = 0;

    for (unsigned i = 0; i < p->n_res; i++) {
        const struct fw_res *r = &p->res[i];

        if (r->bus != bus || r->devfn != devfn || (bar >= 0 && r->bar != bar))
            p->res[keep++] = *r;
    }
    p->n_res = keep;
}

/* ---- probing ---- */

bool fw_fn_read(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                struct fw_fn *out)
{
    uint32_t id = fw_cfg_read(v, p, bus, devfn, PCI_VENDOR_ID, 4);
    uint16_t vendor = (uint16_t)id;

    if (vendor == 0xffff || vendor == 0x0000)
        return false;
    *out = (struct fw_fn){
        .bus = bus,
        .devfn = devfn,
        .vendor = vendor,
        .device = (uint16_t)(id >> 16),
        .class = (uint16_t)(fw_cfg_read(v, p, bus, devfn, PCI_CLASS_REVISION, 4) >> 16),
        .header = (uint8_t)fw_cfg_read(v, p, bus, devfn, PCI_HEADER_TYPE, 1),
        .parent = -1,
    };
    if ((out->header & 0x7f) == PCI_HEADER_TYPE_BRIDGE ||
        (out->header & 0x7f) == PCI_HEADER_TYPE_CARDBUS)
        out->secondary = (uint8_t)fw_cfg_read(v, p, bus, devfn, PCI_SECONDARY_BUS, 1);
    return true;
}

int fw_next_fn(struct vcpu *v, const struct fw_platform *p, uint8_t bus, int prev)
{
    int devfn = prev;

    if (devfn >= 0 && PCI_FUNC_OF(devfn) == 0 &&
        !(fw_cfg_read(v, p, bus, (uint8_t)devfn, PCI_HEADER_TYPE, 1) &
          PCI_HEADER_TYPE_MULTI_FUNCTION))
        devfn += PCI_FUNC_MAX; /* not multi-function: the next slot */
    else
        devfn += 1;
    while (devfn < PCI_DEVFN_MAX) {
        uint16_t vendor = (uint16_t)fw_cfg_read(v, p, bus, (uint8_t)devfn, PCI_VENDOR_ID, 2);

        if (vendor != 0x0000 && vendor != 0xffff)
            return devfn;
        devfn += PCI_FUNC_OF(devfn) == 0 ? PCI_FUNC_MAX : 1;
    }
    return -1;
}

/* ---- BARs (SeaBIOS pci_bios_get_bar, pci_set_io_region_addr) ---- */

uint8_t fw_bar_offset(const struct fw_fn *f, unsigned bar)
{
    if (bar == PCI_ROM_SLOT)
        return fw_fn_is_bridge_header(f) ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
    return (uint8_t)(PCI_BASE_ADDRESS_0 + 4 * bar);
}

bool fw_size_bar(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f, unsigned bar,
                 struct fw_bar *out)
{
    uint8_t ofs = fw_bar_offset(f, bar);
    uint32_t old = fw_cfg_read(v, p, f->bus, f->devfn, ofs, 4);
    uint64_t mask, val, size;
    bool is64 = false;

    *out = (struct fw_bar){.bar = (uint8_t)bar, .kind = FW_MEM};
    if (bar == PCI_ROM_SLOT) {
        mask = PCI_ROM_ADDRESS_MASK & 0xffffffffu;
        fw_cfg_write(v, p, f->bus, f->devfn, ofs, (uint32_t)mask, 4);
    } else {
        if (old & PCI_BASE_ADDRESS_SPACE_IO) {
            mask = PCI_BASE_ADDRESS_IO_MASK & 0xffffffffu;
            out->kind = FW_IO;
        } else {
            mask = PCI_BASE_ADDRESS_MEM_MASK & 0xffffffffu;
            out->kind = (old & PCI_BASE_ADDRESS_MEM_PREFETCH) ? FW_PREFMEM : FW_MEM;
            is64 = (old & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
        }
        fw_cfg_write(v, p, f->bus, f->devfn, ofs, 0xffffffffu, 4);
    }
    val = fw_cfg_read(v, p, f->bus, f->devfn, ofs, 4);
    fw_cfg_write(v, p, f->bus, f->devfn, ofs, old, 4);
    if (is64 && bar < PCI_NUM_BARS - 1) {
        uint32_t hold = fw_cfg_read(v, p, f->bus, f->devfn, (uint8_t)(ofs + 4), 4);
        uint64_t high;

        fw_cfg_write(v, p, f->bus, f->devfn, (uint8_t)(ofs + 4), 0xffffffffu, 4);
        high = fw_cfg_read(v, p, f->bus, f->devfn, (uint8_t)(ofs + 4), 4);
        fw_cfg_write(v, p, f->bus, f->devfn, (uint8_t)(ofs + 4), hold, 4);
        val |= high << 32;
        mask |= 0xffffffff00000000ULL;
        size = ~(val & mask) + 1;
    } else {
        is64 = false;
        size = (~(val & mask) + 1) & 0xffffffffULL;
    }
    out->is64 = is64;
    out->size = size;
    return size != 0;
}

void fw_set_bar(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f, unsigned bar,
                uint64_t addr, bool is64)
{
    uint8_t ofs = fw_bar_offset(f, bar);

    fw_cfg_write(v, p, f->bus, f->devfn, ofs, (uint32_t)addr, 4);
    if (is64)
        fw_cfg_write(v, p, f->bus, f->devfn, (uint8_t)(ofs + 4), (uint32_t)(addr >> 32), 4);
}

/* ---- regions (SeaBIOS pci_region) ---- */

int fw_region_insert(struct fw_region *r, const struct fw_entry *e)
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

uint64_t fw_region_sum(const struct fw_region *r)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < r->n; i++)
        sum += r->e[i].size;
    return sum;
}

uint64_t fw_region_align(const struct fw_region *r)
{
    return r->n ? r->e[0].align : 1;
}

void fw_regions_free(struct fw_region *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        free(r[i].e);
        r[i] = (struct fw_region){0};
    }
}

/* ---- bridges: what SeaBIOS asks of them when it sizes windows ---- */

static uint32_t frd(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f,
                    uint16_t off, unsigned len)
{
    return fw_cfg_read(v, p, f->bus, f->devfn, off, len);
}

uint8_t fw_reserve_cap(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f, bool log)
{
    uint8_t cap = 0;

    if (f->vendor != FW_REDHAT_VENDOR_ID)
        return 0;
    if (f->device != FW_REDHAT_ROOT_PORT && f->device != FW_REDHAT_BRIDGE) {
        if (log)
            fw_log(p, "PCI: QEMU resource reserve cap device ID doesn't match.\n");
        return 0;
    }
    do
        cap = fw_find_cap(v, p, f->bus, f->devfn, PCI_CAP_ID_VNDR, cap);
    while (cap && frd(v, p, f, cap + FW_RES_RESERVE_TYPE, 1) != FW_RES_RESERVE_CAP_TYPE);
    if (!cap) {
        if (log)
            fw_log(p, "PCI: QEMU resource reserve cap not found\n");
        return 0;
    }
    if (frd(v, p, f, cap + PCI_CAP_FLAGS, 1) < FW_RES_RESERVE_SIZEOF) {
        if (log)
            fw_log(p, "PCI: QEMU resource reserve cap length %u is invalid\n",
                   frd(v, p, f, cap + PCI_CAP_FLAGS, 1));
        return 0;
    }
    return cap;
}

enum fw_hotplug fw_bridge_hotplug(struct vcpu *v, const struct fw_platform *p,
                                  const struct fw_fn *f, uint8_t pcie_cap)
{
    if (pcie_cap) {
        uint16_t flags = (uint16_t)frd(v, p, f, pcie_cap + PCI_EXP_FLAGS, 2);
        uint8_t type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;

        if (type != PCI_EXP_TYPE_PCI_BRIDGE)
            return (type == PCI_EXP_TYPE_DOWNSTREAM || type == PCI_EXP_TYPE_ROOT_PORT) &&
                           (flags & PCI_EXP_FLAGS_SLOT)
                       ? FW_HOTPLUG_PCIE
                       : FW_HOTPLUG_NONE;
    }
    return fw_find_cap(v, p, f->bus, f->devfn, PCI_CAP_ID_SHPC, 0) ? FW_HOTPLUG_SHPC
                                                                   : FW_HOTPLUG_NONE;
}

bool fw_bridge_has_region(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f,
                          unsigned kind)
{
    uint8_t base;

    if (kind == FW_MEM)
        return true; /* mandatory */
    base = kind == FW_IO ? PCI_IO_BASE : PCI_PREF_MEMORY_BASE;
    fw_cfg_write(v, p, f->bus, f->devfn, base, 0xff, 1);
    return frd(v, p, f, base, 1) != 0;
}

uint64_t fw_reserve_size(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f,
                         uint8_t cap, unsigned kind, bool log)
{
    uint64_t s64;
    uint32_t s32;

    if (!cap)
        return 0;
    switch (kind) {
    case FW_IO:
        s64 = frd(v, p, f, cap + FW_RES_RESERVE_IO, 4) |
              (uint64_t)frd(v, p, f, cap + FW_RES_RESERVE_IO + 4, 4) << 32;
        return s64 != UINT64_MAX ? s64 : 0;
    case FW_MEM:
        s32 = frd(v, p, f, cap + FW_RES_RESERVE_MEM, 4);
        return s32 != UINT32_MAX ? s32 : 0;
    default:
        s32 = frd(v, p, f, cap + FW_RES_RESERVE_PREF32, 4);
        s64 = frd(v, p, f, cap + FW_RES_RESERVE_PREF64, 4) |
              (uint64_t)frd(v, p, f, cap + FW_RES_RESERVE_PREF64 + 4, 4) << 32;
        if (s32 != UINT32_MAX && s64 == UINT64_MAX)
            return s32;
        if (s32 == UINT32_MAX && s64 != UINT64_MAX)
            return s64;
        if (s32 != UINT32_MAX && s64 != UINT64_MAX && log)
            fw_log(p, "PCI: resource reserve cap PREF32 and PREF64 conflict\n");
        return 0;
    }
}
