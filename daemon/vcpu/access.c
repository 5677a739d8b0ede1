/* SPDX-License-Identifier: MIT */
/*
 * access.c — a vCPU's port and memory accesses, dispatched on the published topology.
 *
 * MMCONFIG (ECAM, PCIe 4.0 §7.2.2), as QEMU's pcie_mmcfg_data_read/write decode it: inside the
 * chipset's window (it takes precedence over BARs), address bits 27:20 select the bus, 19:12
 * the device and function, 11:0 the register. An access of up to 4 bytes goes to that one
 * function at any alignment; an 8-byte access is two 4-byte ones. A function answers through
 * its configuration size, cut to 256 bytes unless every bus up to the root is PCI Express;
 * beyond it reads all-ones and writes are dropped, and part of an access past the end reads as
 * zero bytes. A function whose slot has no power, or that is not exposed, is absent.
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

/* The function at bus/devfn as the guest may see it, or NULL; *limit receives how much of its
 * config space a cycle reaches. */
static struct pci_device *cfg_target(struct vcpu *v, const struct topology *t, uint8_t busnum,
                                     uint8_t devfn, uint32_t *limit)
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
    if (!d)
        return NULL;
    if (d->hotplugged && !pci_bus_function0(bus, devfn))
        return NULL; /* not exposed until its function 0 arrives */
    if (!pci_dev_powered(d))
        return NULL; /* the slot's power is off */
    *limit =
        bus->ext_config ? d->config_size : MIN(d->config_size, (uint32_t)PCI_CONFIG_SPACE_SIZE);
    return d;
}

/* Config read of `len` bytes at `reg` (any alignment), clipped to `limit`. */
static uint32_t cfg_read(struct pci_device *d, uint32_t limit, uint32_t reg, unsigned len)
{
    if (!d || reg >= limit)
        return (uint32_t)ones(len);
    if (reg + len > limit)
        len = limit - reg;
    return pci_dev_config_read(d, reg, len);
}

static void cfg_write(struct pci_device *d, uint32_t limit, uint32_t reg, uint32_t value,
                      unsigned len)
{
    if (!d || reg >= limit)
        return;
    if (reg + len > limit)
        len = limit - reg;
    pthread_mutex_lock(&d->lock);
    pci_dev_config_write(d, reg, value, len);
    pthread_mutex_unlock(&d->lock);
}

uint32_t vcpu_cfg_read(struct vcpu *v, uint8_t bus, uint8_t devfn, uint16_t offset, unsigned len)
{
    const struct topology *t = topo_get(v->vs);
    uint32_t limit = 0;
    struct pci_device *d = cfg_target(v, t, bus, devfn, &limit);

    STAT_INC(v, cfg_reads);
    return cfg_read(d, limit, offset, len);
}

void vcpu_cfg_write(struct vcpu *v, uint8_t bus, uint8_t devfn, uint16_t offset, uint32_t value,
                    unsigned len)
{
    const struct topology *t = topo_get(v->vs);
    uint32_t limit = 0;
    struct pci_device *d = cfg_target(v, t, bus, devfn, &limit);

    STAT_INC(v, cfg_writes);
    cfg_write(d, limit, offset, value, len);
}

/* ---- MMCONFIG ---- */

#define ECAM_BUS(off)   ((uint8_t)((off) >> 20))
#define ECAM_DEVFN(off) ((uint8_t)((off) >> 12))
#define ECAM_REG(off)   ((uint32_t)(off)&0xfff)

static uint64_t ecam_read(struct vcpu *v, const struct topology *t, uint64_t off, unsigned len)
{
    uint32_t limit = 0;
    struct pci_device *d;

    if (len == 8) /* QEMU's region serves at most 4 bytes: two accesses */
        return ecam_read(v, t, off, 4) | ecam_read(v, t, off + 4, 4) << 32;
    STAT_INC(v, cfg_reads);
    d = cfg_target(v, t, ECAM_BUS(off), ECAM_DEVFN(off), &limit);
    return cfg_read(d, limit, ECAM_REG(off), len);
}

static void ecam_write(struct vcpu *v, const struct topology *t, uint64_t off, uint64_t value,
                       unsigned len)
{
    uint32_t limit = 0;
    struct pci_device *d;

    if (len == 8) {
        ecam_write(v, t, off, value & 0xffffffffu, 4);
        ecam_write(v, t, off + 4, value >> 32, 4);
        return;
    }
    STAT_INC(v, cfg_writes);
    d = cfg_target(v, t, ECAM_BUS(off), ECAM_DEVFN(off), &limit);
    cfg_write(d, limit, ECAM_REG(off), (uint32_t)value, len);
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
    val = r->ops->read(r->opaque, addr - r->origin, len);
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
    r->ops->write(r->opaque, addr - r->origin, value, len);
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
            uint32_t limit = 0;
            struct pci_device *d =
                cfg_target(v, t, (uint8_t)(v->cf8 >> 16), (uint8_t)(v->cf8 >> 8), &limit);

            STAT_INC(v, cfg_reads);
            val = cfg_read(d, limit, ((v->cf8 & 0xff) | off) & 0xff, n);
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

        uint32_t limit = 0;
        struct pci_device *d;

        if (!(v->cf8 & CONF1_ENABLE))
            return;
        STAT_INC(v, cfg_writes);
        d = cfg_target(v, t, (uint8_t)(v->cf8 >> 16), (uint8_t)(v->cf8 >> 8), &limit);
        cfg_write(d, limit, ((v->cf8 & 0xff) | off) & 0xff, (uint32_t)(value & ones(n)), n);
        return;
    }
    space_write(v, t, true, port, value, len);
}

uint64_t vcpu_read(struct vcpu *v, uint64_t addr, unsigned len)
{
    const struct topology *t = topo_get(v->vs);
    uint64_t base, size;

    STAT_INC(v, mmio_reads);
    if (len != 1 && len != 2 && len != 4 && len != 8)
        return 0;
    if (topo_ecam(v->vs, t, &base, &size) && addr - base < size)
        return ecam_read(v, t, addr - base, len);
    return space_read(v, t, false, addr, len, 0);
}

void vcpu_write(struct vcpu *v, uint64_t addr, uint64_t value, unsigned len)
{
    const struct topology *t = topo_get(v->vs);
    uint64_t base, size;

    STAT_INC(v, mmio_writes);
    if (len != 1 && len != 2 && len != 4 && len != 8)
        return;
    if (topo_ecam(v->vs, t, &base, &size) && addr - base < size) {
        ecam_write(v, t, addr - base, value, len);
        return;
    }
    space_write(v, t, false, addr, value, len);
}
