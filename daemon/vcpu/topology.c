/* SPDX-License-Identifier: MIT */
/*
 * topology.c — the published view of the machine that vCPUs dispatch on: buses by number and
 * a flat, sorted table of the port and memory ranges that decode now (every BAR that is mapped,
 * plus the chipset's port blocks). Built by the control plane under the control lock; read by
 * vCPUs under RCU. While the map version has moved on since a snapshot was built, vCPUs use
 * the slow path below, which reads the live devices, so they never wait for a rebuild.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

struct topology *topo_build(struct vcpus *vs)
{
    struct machine *m = vs->m;
    struct topology *t = calloc(1, sizeof(*t));
    struct range_vec io = {0}, mem = {0};

    if (!t)
        return NULL;
    /* Read the version first: a change during the scan makes this snapshot stale at once. */
    t->version = __atomic_load_n(&vs->map_version, __ATOMIC_ACQUIRE);
    t->conf1 = m->type->conf1;
    t->buses = calloc(m->n_buses ? m->n_buses : 1, sizeof(*t->buses));
    if (!t->buses)
        goto fail;
    t->n_buses = m->n_buses;
    for (unsigned b = 0; b < m->n_buses; b++) {
        struct pci_bus *bus = m->buses[b];

        t->buses[b] = bus;
        if (!t->bus_by_num[pci_bus_num(bus)])
            t->bus_by_num[pci_bus_num(bus)] = bus;
        for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
            struct pci_device *d = bus->devices[devfn];

            if (!d)
                continue;
            for (int r = 0; r < PCI_NUM_REGIONS; r++) {
                uint64_t addr = pci_bar_addr(d, r);
                struct topo_range tr;

                if (!d->bars[r].size || addr == PCI_BAR_UNMAPPED)
                    continue;
                tr = (struct topo_range){.base = addr,
                                         .last = addr + d->bars[r].size - 1,
                                         .ops = d->bars[r].ops,
                                         .opaque = d->bars[r].opaque,
                                         .dev = d,
                                         .region = r};
                if (push((d->bars[r].type & PCI_BASE_ADDRESS_SPACE_IO) ? &io : &mem, &tr) < 0)
                    goto fail;
            }
        }
    }
    for (unsigned i = 0; i < m->n_io; i++) {
        struct topo_range tr = {.base = m->io[i].base,
                                .last = (uint64_t)m->io[i].base + m->io[i].len - 1,
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

/* Bus number of `bus` as the guest has programmed it now. */
static uint8_t live_bus_num(const struct pci_bus *bus)
{
    if (!bus->parent)
        return 0;
    return ld8(bus->parent->config + PCI_SECONDARY_BUS);
}

struct pci_bus *topo_bus(struct vcpus *vs, const struct topology *t, uint8_t num, bool *slow)
{
    if (topo_fresh(vs, t)) {
        *slow = false;
        return t->bus_by_num[num];
    }
    *slow = true;
    for (unsigned b = 0; b < t->n_buses; b++)
        if (live_bus_num(t->buses[b]) == num)
            return t->buses[b];
    return NULL;
}

bool topo_slow_find(const struct topology *t, bool io, uint64_t addr, struct topo_range *out)
{
    if (io) {
        for (unsigned i = 0; i < t->n_chipset; i++) {
            const struct machine_io *c = &t->chipset[i];
            if (addr >= c->base && addr < (uint64_t)c->base + c->len) {
                *out = (struct topo_range){.base = c->base,
                                           .last = (uint64_t)c->base + c->len - 1,
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
                if (addr >= base && addr - base < d->bars[r].size) {
                    *out = (struct topo_range){.base = base,
                                               .last = base + d->bars[r].size - 1,
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
