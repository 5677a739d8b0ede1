/* SPDX-License-Identifier: MIT */
/*
 * topology.c — the published view of the machine that vCPUs dispatch on: where a configuration
 * cycle for each bus number goes (QEMU's pci_find_bus_nr over the bus numbers the guest
 * programmed), a flat, sorted table of the port and memory ranges that decode now (every BAR
 * that is mapped, clipped to the windows of the bridges above it, plus the chipset's port
 * blocks), and the chipset's MMIO range (the MMCONFIG window). Built by the control plane under
 * the control lock; read by vCPUs under RCU. While the map version has moved on since a
 * snapshot was built, vCPUs use the slow path below, which reads the live devices and bridge
 * registers, so they never wait for a rebuild.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../hw/pci/pci_bridge.h"
#include "vcpu_internal.h"

struct range_vec {
    struct topo_range *v;
    unsigned n, cap;
};

static int push(struct range_vec *rv, const struct topo_range *r)
{
    if (rv->n == rv->cap) {
        unsigned cap = rv->cap ? rv->cap * 2 : 32;
        struct topo_range *v = realloc(rv->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        rv->v = v;
        rv->cap = cap;
    }
    rv->v[rv->n++] = *r;
    return 0;
}

static int cmp_range(const void *a, const void *b)
{
    const struct topo_range *x = a, *y = b;

    return x->base < y->base ? -1 : x->base > y->base;
}

void topo_free(struct topology *t)
{
    if (!t)
        return;
    free(t->io);
    free(t->mem);
    free(t->buses);
    free(t);
}

/* At most this many disjoint intervals of address space reach a bus (windows intersected
 * down from the root); more are dropped (a guest would need very odd windows). */
#define VIS_MAX 16

/* The addresses of one space that reach `bus` from the root: [0, max] at the root, then each
 * bridge's forwarding ranges intersected with what reaches its own bus. */
static unsigned bus_visible(const struct pci_bus *bus, bool io, struct pci_range *out)
{
    struct pci_range up[VIS_MAX], win[PCI_BRIDGE_RANGES_MAX];
    unsigned n_up, n_win, n = 0;

    if (!bus->parent) {
        out[0] = (struct pci_range){0, UINT64_MAX}; /* the root bus sees everything */
        return 1;
    }
    if (!bus->parent->bus)
        return 0; /* a bridge no longer plugged forwards nothing */
    n_up = bus_visible(bus->parent->bus, io, up);
    n_win = pci_bridge_ranges(bus->parent, io, win);
    for (unsigned i = 0; i < n_up; i++) {
        for (unsigned k = 0; k < n_win && n < VIS_MAX; k++) {
            uint64_t lo = MAX(up[i].lo, win[k].lo), hi = MIN(up[i].hi, win[k].hi);

            if (lo <= hi)
                out[n++] = (struct pci_range){lo, hi};
        }
    }
    return n;
}

/* Push BAR `r` of `d`, clipped to the intervals that reach its bus. */
static int push_bar(struct range_vec *rv, struct pci_device *d, int r, uint64_t addr,
                    const struct pci_range *vis, unsigned n_vis)
{
    uint64_t last = addr + d->bars[r].size - 1;

    for (unsigned i = 0; i < n_vis; i++) {
        uint64_t lo = MAX(addr, vis[i].lo), hi = MIN(last, vis[i].hi);
        struct topo_range tr = {.base = lo,
                                .last = hi,
                                .origin = addr,
                                .ops = d->bars[r].ops,
                                .opaque = d->bars[r].opaque,
                                .dev = d,
                                .region = r};

        if (lo <= hi && push(rv, &tr) < 0)
            return -ENOMEM;
    }
    return 0;
}

struct topology *topo_build(struct vcpus *vs)
{
    struct machine *m = vs->m;
    struct topology *t = calloc(1, sizeof(*t));
    struct range_vec io = {0}, mem = {0};
    uint64_t ecam;

    if (!t)
        return NULL;
    /* Read the version first: a change during the scan makes this snapshot stale at once. */
    t->version = __atomic_load_n(&vs->map_version, __ATOMIC_ACQUIRE);
    t->conf1 = m->type->conf1;
    t->root = machine_root_bus(m);
    t->ecam_live = &m->ecam;
    ecam = __atomic_load_n(&m->ecam, __ATOMIC_ACQUIRE);
    if (machine_ecam_decode(ecam, &t->ecam_base, &t->ecam_size) == false)
        t->ecam_size = 0;
    t->buses = calloc(m->n_buses ? m->n_buses : 1, sizeof(*t->buses));
    if (!t->buses)
        goto fail;
    t->n_buses = m->n_buses;
    {
        /*
         * pci_bus_find_nr() returns only a bus whose number is `num`, so only the numbers some
         * bus has now need the walk (the rest stay NULL): without firmware every bridge's
         * secondary bus is 0 and 255 walks become one. A number changed meanwhile bumps the
         * map version read above, which makes this snapshot stale anyway.
         */
        bool numbered[256] = {[0] = true};

        for (unsigned b = 0; b < m->n_buses; b++)
            numbered[pci_bus_num(m->buses[b])] = true;
        for (unsigned num = 0; num < 256; num++)
            if (numbered[num])
                t->bus_by_num[num] = pci_bus_find_nr(t->root, num);
    }
    for (unsigned b = 0; b < m->n_buses; b++) {
        struct pci_bus *bus = m->buses[b];
        struct pci_range vis_io[VIS_MAX], vis_mem[VIS_MAX];
        unsigned n_io = bus_visible(bus, true, vis_io), n_mem = bus_visible(bus, false, vis_mem);

        t->buses[b] = bus;
        for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
            struct pci_device *d = bus->devices[devfn];

            if (!d)
                continue;
            for (int r = 0; r < PCI_NUM_REGIONS; r++) {
                uint64_t addr = pci_bar_addr(d, r);
                bool is_io = d->bars[r].type & PCI_BASE_ADDRESS_SPACE_IO;

                if (!d->bars[r].size || addr == PCI_BAR_UNMAPPED)
                    continue;
                if (push_bar(is_io ? &io : &mem, d, r, addr, is_io ? vis_io : vis_mem,
                             is_io ? n_io : n_mem) < 0)
                    goto fail;
            }
        }
    }
    for (unsigned i = 0; i < m->n_io; i++) {
        struct topo_range tr = {.base = m->io[i].base,
                                .last = (uint64_t)m->io[i].base + m->io[i].len - 1,
                                .origin = m->io[i].base,
                                .ops = m->io[i].ops,
                                .opaque = m->io[i].opaque,
                                .region = -1};

        t->chipset[t->n_chipset++] = m->io[i];
        if (push(&io, &tr) < 0)
            goto fail;
    }
    if (io.n)
        qsort(io.v, io.n, sizeof(*io.v), cmp_range);
    if (mem.n) /* qsort's base must not be NULL, even for no elements */
        qsort(mem.v, mem.n, sizeof(*mem.v), cmp_range);
    t->io = io.v;
    t->n_io = io.n;
    t->mem = mem.v;
    t->n_mem = mem.n;
    return t;
fail:
    free(io.v);
    free(mem.v);
    topo_free(t);
    return NULL;
}

const struct topo_range *topo_find(const struct topo_range *r, unsigned n, uint64_t addr)
{
    unsigned lo = 0, hi = n;

    /* The last range starting at or below addr; overlapping BARs: the lowest base wins. */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (r[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || addr > r[lo - 1].last)
        return NULL;
    return &r[lo - 1];
}

struct pci_bus *topo_bus(struct vcpus *vs, const struct topology *t, uint8_t num, bool *slow)
{
    if (topo_fresh(vs, t)) {
        *slow = false;
        return t->bus_by_num[num];
    }
    *slow = true;
    return pci_bus_find_nr(t->root, num); /* the live tree: buses are freed after RCU */
}

/* The live bridges above `bus` all forward `addr` (slow path). */
static bool reaches(const struct pci_bus *bus, bool io, uint64_t addr)
{
    for (int depth = 0; bus->parent && depth < 256; depth++) {
        if (!bus->parent->bus || !pci_bridge_forwards_addr(bus->parent, io, addr))
            return false;
        bus = bus->parent->bus;
    }
    return true;
}

bool topo_slow_find(const struct topology *t, bool io, uint64_t addr, struct topo_range *out)
{
    if (io) {
        for (unsigned i = 0; i < t->n_chipset; i++) {
            const struct machine_io *c = &t->chipset[i];
            if (addr >= c->base && addr < (uint64_t)c->base + c->len) {
                *out = (struct topo_range){.base = c->base,
                                           .last = (uint64_t)c->base + c->len - 1,
                                           .origin = c->base,
                                           .ops = c->ops,
                                           .opaque = c->opaque,
                                           .region = -1};
                return true;
            }
        }
    }
    for (unsigned b = 0; b < t->n_buses; b++) {
        for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
            struct pci_device *d = __atomic_load_n(&t->buses[b]->devices[devfn], __ATOMIC_ACQUIRE);

            if (!d || (__atomic_load_n(&t->buses[b]->ejecting, __ATOMIC_ACQUIRE) &
                       (1u << PCI_SLOT_OF(devfn))))
                continue;
            for (int r = 0; r < PCI_NUM_REGIONS; r++) {
                uint64_t base = pci_bar_addr(d, r);

                if (!d->bars[r].size || base == PCI_BAR_UNMAPPED ||
                    !!(d->bars[r].type & PCI_BASE_ADDRESS_SPACE_IO) != io)
                    continue;
                if (addr >= base && addr - base < d->bars[r].size &&
                    reaches(t->buses[b], io, addr)) {
                    *out = (struct topo_range){.base = base,
                                               .last = base + d->bars[r].size - 1,
                                               .origin = base,
                                               .ops = d->bars[r].ops,
                                               .opaque = d->bars[r].opaque,
                                               .dev = d,
                                               .region = r};
                    return true;
                }
            }
        }
    }
    return false;
}
