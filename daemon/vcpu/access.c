/* SPDX-License-Identifier: MIT */
/*
 * access.c — a vCPU's port and memory accesses, dispatched on the published topology.
 *
 * Configuration mechanism #1 (PCI 3.0 §3.2.2.3.2), as QEMU's i440FX decodes it: CONFIG_ADDRESS
 * at 0xCF8 latches only on a 32-bit write and reads back only with a 32-bit read (other sizes
 * read 0); CONFIG_DATA is the 4-byte window 0xCFC-0xCFF, where the register is the latched
 * offset OR'd with the window offset, accesses need not be aligned, and the part of an access
 * that runs past 0xCFF reads as unassigned. With the enable bit clear, or no function at the
 * address, reads return all-ones. A hot-plugged function other than 0 is not exposed while its
 * slot has no function 0 (QEMU's rule: function 0 comes last).
 *
 * Unassigned ports read all-ones and unassigned memory reads 0, as in QEMU; writes to either
 * are dropped. A BAR's register handlers run under its device's lock; chipset blocks manage
 * their own (atomic) state. A plain configuration read takes no lock.
 */
#include <stdlib.h>

#include "vcpu_internal.h"

#define CONF1_ADDR   0xcf8
#define CONF1_DATA   0xcfc
#define CONF1_ENABLE 0x80000000u

static uint64_t ones(unsigned len)
{
    return len >= 8 ? ~0ull : (1ull << (8 * len)) - 1;
}

/* The function at bus/devfn as the guest may see it, or NULL. */
static struct pci_device *cfg_target(struct vcpu *v, const struct topology *t, uint8_t busnum,
                                     uint8_t devfn)
{
    bool slow;
    struct pci_bus *bus = topo_bus(v->vs, t, busnum, &slow);
    struct pci_device *d;

    if (slow)
        STAT_INC(v, slow_path);
    if (!bus)
        return NULL;
    if (__atomic_load_n(&bus->ejecting, __ATOMIC_ACQUIRE) & (1u << PCI_SLOT_OF(devfn)))
        return NULL; /* ejected by the guest, removal under way */
    d = __atomic_load_n(&bus->devices[devfn], __ATOMIC_ACQUIRE);
    if (d && PCI_FUNC_OF(devfn) && d->hotplugged &&
        !__atomic_load_n(&bus->devices[devfn & ~7u], __ATOMIC_ACQUIRE))
        return NULL; /* not exposed until function 0 arrives */
    return d;
}

/* Config read of `len` bytes at `reg` (any alignment), clipped to the config space. */
static uint32_t cfg_read(struct pci_device *d, uint32_t reg, unsigned len)
{
    if (!d || reg >= d->config_size)
        return (uint32_t)ones(len);
    if (reg + len > d->config_size)
        len = d->config_size - reg;
    return pci_dev_config_read(d, reg, len);
}

static void cfg_write(struct pci_device *d, uint32_t reg, uint32_t value, unsigned len)
{
    if (!d || reg >= d->config_size)
        return;
    if (reg + len > d->config_size)
        len = d->config_size - reg;
    pthread_mutex_lock(&d->lock);
    pci_dev_config_write(d, reg, value, len);
    pthread_mutex_unlock(&d->lock);
}

uint32_t vcpu_cfg_read(struct vcpu *v, uint8_t bus, uint8_t devfn, uint16_t offset, unsigned len)
{
    const struct topology *t = topo_get(v->vs);

    STAT_INC(v, cfg_reads);
    return cfg_read(cfg_target(v, t, bus, devfn), offset, len);
}

void vcpu_cfg_write(struct vcpu *v, uint8_t bus, uint8_t devfn, uint16_t offset, uint32_t value,
                    unsigned len)
{
    const struct topology *t = topo_get(v->vs);

    STAT_INC(v, cfg_writes);
    cfg_write(cfg_target(v, t, bus, devfn), offset, value, len);
}

/* The range decoding `addr`: fast table when fresh, else the live devices. */
static bool lookup(struct vcpu *v, const struct topology *t, bool io, uint64_t addr,
                   struct topo_range *out)
{
    const struct topo_range *r;

    if (topo_fresh(v->vs, t)) {
        r = io ? topo_find(t->io, t->n_io, addr) : topo_find(t->mem, t->n_mem, addr);
        if (!r)
            return false;
        *out = *r;
        return true;
    }
    STAT_INC(v, slow_path);
    return topo_slow_find(t, io, addr, out);
}

static uint64_t range_read(const struct topo_range *r, uint64_t addr, unsigned len)
{
    uint64_t val;

    if (!r->ops || !r->ops->read)
        return 0; /* a region whose registers pcid does not model reads as zeroes */
    if (r->dev)
        pthread_mutex_lock(&r->dev->lock);
    val = r->ops->read(r->opaque, addr - r->base, len);
    if (r->dev)
        pthread_mutex_unlock(&r->dev->lock);
    return val;
}

static void range_write(const struct topo_range *r, uint64_t addr, uint64_t value, unsigned len)
{
    if (!r->ops || !r->ops->write)
        return;
    if (r->dev)
        pthread_mutex_lock(&r->dev->lock);
    r->ops->write(r->opaque, addr - r->base, value, len);
    if (r->dev)
        pthread_mutex_unlock(&r->dev->lock);
}

/* Read len bytes at addr, splitting where a range ends; `fill` for what nothing decodes. */
static uint64_t space_read(struct vcpu *v, const struct topology *t, bool io, uint64_t addr,
                           unsigned len, uint64_t fill)
{
    uint64_t val = 0;
    unsigned done = 0;

    while (done < len) {
        struct topo_range r;
        uint64_t a = addr + done;
        unsigned n = len - done;

        if (lookup(v, t, io, a, &r)) {
            if (a + n - 1 > r.last)
                n = (unsigned)(r.last - a + 1);
            val |= (range_read(&r, a, n) & ones(n)) << (8 * done);
        } else {
            STAT_INC(v, unassigned);
            n = 1;
            val |= (fill & 0xff) << (8 * done);
        }
        done += n;
    }
    return val;
}

static void space_write(struct vcpu *v, const struct topology *t, bool io, uint64_t addr,
                        uint64_t value, unsigned len)
{
    unsigned done = 0;

    while (done < len) {
        struct topo_range r;
        uint64_t a = addr + done;
        unsigned n = len - done;

        if (lookup(v, t, io, a, &r)) {
            if (a + n - 1 > r.last)
                n = (unsigned)(r.last - a + 1);
            range_write(&r, a, (value >> (8 * done)) & ones(n), n);
        } else {
            STAT_INC(v, unassigned);
            n = 1;
        }
        done += n;
    }
}

uint64_t vcpu_in(struct vcpu *v, uint16_t port, unsigned len)
{
    const struct topology *t = topo_get(v->vs);

    STAT_INC(v, pio_reads);
    if (len != 1 && len != 2 && len != 4)
        return ones(len);
    if (t->conf1 && port >= CONF1_ADDR && port < CONF1_ADDR + 4)
        return port == CONF1_ADDR && len == 4 ? v->cf8 : 0;
    if (t->conf1 && port >= CONF1_DATA && port < CONF1_DATA + 4) {
        unsigned off = port - CONF1_DATA, n = MIN(len, 4 - off);
        uint64_t val;

        if (!(v->cf8 & CONF1_ENABLE)) {
            val = ones(n);
        } else {
            STAT_INC(v, cfg_reads);
            val = cfg_read(cfg_target(v, t, (uint8_t)(v->cf8 >> 16), (uint8_t)(v->cf8 >> 8)),
                           ((v->cf8 & 0xff) | off) & 0xff, n);
        }
        if (n < len) /* past the window: unassigned ports */
            val |= (ones(len) >> (8 * n)) << (8 * n);
        return val & ones(len);
    }
    return space_read(v, t, true, port, len, ~0ull);
}

void vcpu_out(struct vcpu *v, uint16_t port, uint64_t value, unsigned len)
{
    const struct topology *t = topo_get(v->vs);

    STAT_INC(v, pio_writes);
    if (len != 1 && len != 2 && len != 4)
        return;
    if (t->conf1 && port >= CONF1_ADDR && port < CONF1_ADDR + 4) {
        if (port == CONF1_ADDR && len == 4)
            v->cf8 = (uint32_t)value;
        return;
    }
    if (t->conf1 && port >= CONF1_DATA && port < CONF1_DATA + 4) {
        unsigned off = port - CONF1_DATA, n = MIN(len, 4 - off);

        if (!(v->cf8 & CONF1_ENABLE))
            return;
        STAT_INC(v, cfg_writes);
        cfg_write(cfg_target(v, t, (uint8_t)(v->cf8 >> 16), (uint8_t)(v->cf8 >> 8)),
                  ((v->cf8 & 0xff) | off) & 0xff, (uint32_t)(value & ones(n)), n);
        return;
    }
    space_write(v, t, true, port, value, len);
}

uint64_t vcpu_read(struct vcpu *v, uint64_t addr, unsigned len)
{
    const struct topology *t = topo_get(v->vs);

    STAT_INC(v, mmio_reads);
    if (len != 1 && len != 2 && len != 4 && len != 8)
        return 0;
    return space_read(v, t, false, addr, len, 0);
}

void vcpu_write(struct vcpu *v, uint64_t addr, uint64_t value, unsigned len)
{
    const struct topology *t = topo_get(v->vs);

    STAT_INC(v, mmio_writes);
    if (len != 1 && len != 2 && len != 4 && len != 8)
        return;
    space_write(v, t, false, addr, value, len);
}
