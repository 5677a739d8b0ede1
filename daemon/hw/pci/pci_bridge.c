/* SPDX-License-Identifier: MIT */
/*
 * pci_bridge.c — the type 1 header of bridges and ports, their windows and secondary bus
 * reset (PCI-to-PCI Bridge Architecture 1.2 §3.2; QEMU 7.2's pci_bridge.c). See pci_bridge.h.
 */
#include "pci_bridge.h"

#include <errno.h>

#define VGA_MEM_BASE   0xa0000 /* PCI-to-PCI Bridge 1.2 §4.5.1: VGA frame buffer */
#define VGA_MEM_LAST   0xbffff
#define VGA_IO_LO_BASE 0x3b0 /* §4.5.1: 3B0h-3BBh */
#define VGA_IO_LO_LAST 0x3bb
#define VGA_IO_HI_BASE 0x3c0 /* 3C0h-3DFh */
#define VGA_IO_HI_LAST 0x3df

int pci_bridge_init(struct pci_bridge *br, const struct pci_dev_class *cls, uint32_t config_size,
                    bool express)
{
    struct pci_device *d = &br->pci;
    int r = pci_dev_init(d, cls, config_size, PCI_HEADER_TYPE_BRIDGE);

    if (r < 0)
        return r;
    d->bridge = br;
    le_set16(d->config + PCI_STATUS, PCI_STATUS_66MHZ | PCI_STATUS_FAST_BACK);
    le_set16(d->config + PCI_SEC_STATUS, PCI_STATUS_66MHZ | PCI_STATUS_FAST_BACK);
    d->config[PCI_CLASS_PROG] = 0;
    le_set16(d->config + PCI_CLASS_DEVICE, PCI_CLASS_BRIDGE_PCI);
    /* The bus gets its name when the machine plugs the bridge (its id, or "pci.N"). */
    r = pci_bus_new("", express, false, &br->sec);
    if (r < 0)
        return r; /* the caller destroys the device (pci_dev_destroy) */
    br->sec->parent = d;
    return 0;
}

void pci_bridge_fini(struct pci_bridge *br)
{
    if (!br)
        return;
    pci_bus_free(br->sec);
    br->sec = NULL;
}

void pci_bridge_reset(struct pci_bridge *br)
{
    uint8_t *c = br->pci.config;

    st8(c + PCI_PRIMARY_BUS, 0);
    st8(c + PCI_SECONDARY_BUS, 0);
    st8(c + PCI_SUBORDINATE_BUS, 0);
    st8(c + PCI_SEC_LATENCY_TIMER, 0);
    st8(c + PCI_IO_BASE, ld8(c + PCI_IO_BASE) & (uint8_t)~PCI_IO_RANGE_MASK);
    st8(c + PCI_IO_LIMIT, ld8(c + PCI_IO_LIMIT) & (uint8_t)~PCI_IO_RANGE_MASK);
    le_store(c + PCI_MEMORY_BASE,
             le_load(c + PCI_MEMORY_BASE, 2) & (uint16_t)~PCI_MEMORY_RANGE_MASK, 2);
    le_store(c + PCI_MEMORY_LIMIT,
             le_load(c + PCI_MEMORY_LIMIT, 2) & (uint16_t)~PCI_MEMORY_RANGE_MASK, 2);
    le_store(c + PCI_PREF_MEMORY_BASE,
             le_load(c + PCI_PREF_MEMORY_BASE, 2) & (uint16_t)~PCI_PREF_RANGE_MASK, 2);
    le_store(c + PCI_PREF_MEMORY_LIMIT,
             le_load(c + PCI_PREF_MEMORY_LIMIT, 2) & (uint16_t)~PCI_PREF_RANGE_MASK, 2);
    le_store(c + PCI_PREF_BASE_UPPER32, 0, 4);
    le_store(c + PCI_PREF_LIMIT_UPPER32, 0, 4);
    le_store(c + PCI_BRIDGE_CONTROL, 0, 2);
    pci_bus_map_changed(br->pci.bus ? br->pci.bus : br->sec);
}

void pci_bridge_disable_base_limit(struct pci_bridge *br)
{
    uint8_t *c = br->pci.config;

    st8(c + PCI_IO_BASE, ld8(c + PCI_IO_BASE) | (PCI_IO_RANGE_MASK & 0xff));
    st8(c + PCI_IO_LIMIT, ld8(c + PCI_IO_LIMIT) & (uint8_t)~PCI_IO_RANGE_MASK);
    le_store(c + PCI_MEMORY_BASE,
             le_load(c + PCI_MEMORY_BASE, 2) | (PCI_MEMORY_RANGE_MASK & 0xffff), 2);
    le_store(c + PCI_MEMORY_LIMIT,
             le_load(c + PCI_MEMORY_LIMIT, 2) & (uint16_t)~PCI_MEMORY_RANGE_MASK, 2);
    le_store(c + PCI_PREF_MEMORY_BASE,
             le_load(c + PCI_PREF_MEMORY_BASE, 2) | (PCI_PREF_RANGE_MASK & 0xffff), 2);
    le_store(c + PCI_PREF_MEMORY_LIMIT,
             le_load(c + PCI_PREF_MEMORY_LIMIT, 2) & (uint16_t)~PCI_PREF_RANGE_MASK, 2);
    le_store(c + PCI_PREF_BASE_UPPER32, 0, 4);
    le_store(c + PCI_PREF_LIMIT_UPPER32, 0, 4);
}

void pci_bus_reset_below(struct pci_bus *bus)
{
    for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        struct pci_device *d = __atomic_load_n(&bus->devices[devfn], __ATOMIC_ACQUIRE);

        if (!d)
            continue;
        pthread_mutex_lock(&d->lock);
        pci_dev_reset(d);
        pthread_mutex_unlock(&d->lock);
        if (d->bridge)
            pci_bus_reset_below(d->bridge->sec);
    }
}

void pci_bridge_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    uint16_t oldctl = (uint16_t)le_load(d->config + PCI_BRIDGE_CONTROL, 2);
    uint16_t newctl;

    pci_default_config_write(d, offset, value, len);

    /* Windows, decoding, VGA forwarding and the bus numbers all shape what the guest
     * reaches: the address map and the bus routing are rebuilt together. */
    if (ranges_overlap(offset, len, PCI_COMMAND, 2) ||
        ranges_overlap(offset, len, PCI_PRIMARY_BUS, 3) ||
        ranges_overlap(offset, len, PCI_IO_BASE, 2) ||
        ranges_overlap(offset, len, PCI_MEMORY_BASE, 20) ||
        ranges_overlap(offset, len, PCI_BRIDGE_CONTROL, 2)) {
        if (d->bus)
            pci_bus_map_changed(d->bus);
    }

    newctl = (uint16_t)le_load(d->config + PCI_BRIDGE_CONTROL, 2);
    if (~oldctl & newctl & PCI_BRIDGE_CTL_BUS_RESET)
        pci_bus_reset_below(d->bridge->sec); /* hot reset on the 0 -> 1 edge */
}

void pci_bridge_window(const uint8_t *cfg, enum pci_bridge_window w, uint64_t *base,
                       uint64_t *limit)
{
    uint64_t b, l;
    uint16_t bw, lw;

    switch (w) {
    case PCI_BRIDGE_WINDOW_IO:
        b = (uint64_t)(cfg[PCI_IO_BASE] & PCI_IO_RANGE_MASK) << 8;
        l = (uint64_t)(cfg[PCI_IO_LIMIT] & PCI_IO_RANGE_MASK) << 8;
        if (cfg[PCI_IO_BASE] & PCI_IO_RANGE_TYPE_32)
            b |= (uint64_t)le_get16(cfg + PCI_IO_BASE_UPPER16) << 16;
        if (cfg[PCI_IO_LIMIT] & PCI_IO_RANGE_TYPE_32)
            l |= (uint64_t)le_get16(cfg + PCI_IO_LIMIT_UPPER16) << 16;
        *base = b;
        *limit = l | 0xfff;
        return;
    case PCI_BRIDGE_WINDOW_MEM:
        *base = (uint64_t)(le_get16(cfg + PCI_MEMORY_BASE) & PCI_MEMORY_RANGE_MASK) << 16;
        *limit =
            (uint64_t)(le_get16(cfg + PCI_MEMORY_LIMIT) & PCI_MEMORY_RANGE_MASK) << 16 | 0xfffff;
        return;
    case PCI_BRIDGE_WINDOW_PREF:
        bw = le_get16(cfg + PCI_PREF_MEMORY_BASE);
        lw = le_get16(cfg + PCI_PREF_MEMORY_LIMIT);
        b = (uint64_t)(bw & PCI_PREF_RANGE_MASK) << 16;
        l = (uint64_t)(lw & PCI_PREF_RANGE_MASK) << 16;
        if (bw & PCI_PREF_RANGE_TYPE_64)
            b |= (uint64_t)le_get32(cfg + PCI_PREF_BASE_UPPER32) << 32;
        if (lw & PCI_PREF_RANGE_TYPE_64)
            l |= (uint64_t)le_get32(cfg + PCI_PREF_LIMIT_UPPER32) << 32;
        *base = b;
        *limit = l | 0xfffff;
        return;
    }
}

unsigned pci_bridge_ranges(const struct pci_device *br, bool io, struct pci_range *out)
{
    uint8_t cfg[PCI_CONFIG_HEADER_SIZE];
    uint16_t cmd, ctl;
    unsigned n = 0;
    uint64_t b, l;

    pci_dev_config_copy(br, cfg, 0, sizeof(cfg));
    cmd = le_get16(cfg + PCI_COMMAND);
    ctl = le_get16(cfg + PCI_BRIDGE_CONTROL);
    if (io) {
        if (!(cmd & PCI_COMMAND_IO))
            return 0;
        pci_bridge_window(cfg, PCI_BRIDGE_WINDOW_IO, &b, &l);
        if (b <= l)
            out[n++] = (struct pci_range){b, l};
        if (ctl & PCI_BRIDGE_CTL_VGA) {
            out[n++] = (struct pci_range){VGA_IO_LO_BASE, VGA_IO_LO_LAST};
            out[n++] = (struct pci_range){VGA_IO_HI_BASE, VGA_IO_HI_LAST};
        }
        return n;
    }
    if (!(cmd & PCI_COMMAND_MEMORY))
        return 0;
    pci_bridge_window(cfg, PCI_BRIDGE_WINDOW_MEM, &b, &l);
    if (b <= l)
        out[n++] = (struct pci_range){b, l};
    pci_bridge_window(cfg, PCI_BRIDGE_WINDOW_PREF, &b, &l);
    if (b <= l)
        out[n++] = (struct pci_range){b, l};
    if (ctl & PCI_BRIDGE_CTL_VGA)
        out[n++] = (struct pci_range){VGA_MEM_BASE, VGA_MEM_LAST};
    return n;
}

bool pci_bridge_forwards_addr(const struct pci_device *br, bool io, uint64_t addr)
{
    struct pci_range r[PCI_BRIDGE_RANGES_MAX];
    unsigned n = pci_bridge_ranges(br, io, r);

    for (unsigned i = 0; i < n; i++)
        if (addr >= r[i].lo && addr <= r[i].hi)
            return true;
    return false;
}
