/* SPDX-License-Identifier: MIT */
/*
 * resources.c — INTx routes, bus windows and BAR fit, read from the device model (see
 * resources.h for the rules and their sources).
 */
#include <errno.h>
#include <stdlib.h>

#include "../hw/pci/pci_bridge.h"
#include "../util/util.h"
#include "resources.h"

#define IO_TRADITIONAL 0xc000ULL     /* SeaBIOS's I/O area on bus 0 ... */
#define IO_LOW         0x1000ULL     /* ... or from here when the BARs need 16 KiB or more */
#define IO_END         0x10000ULL    /* x86 port space */
#define PCI_HOLE_END   0xfec00000ULL /* the IOAPIC: end of the 32-bit PCI window */
#define MEM_GRANULE    0x1000ULL     /* SeaBIOS PCI_DEVICE_MEM_MIN, Linux's page for a BAR */

/* An assigned range in I/O or memory space. */
struct span {
    uint64_t lo, hi; /* [lo, hi) */
};

struct spans {
    struct span *v;
    size_t n, cap;
};

static int spans_add(struct spans *s, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct span *nv = realloc(s->v, cap * sizeof(*nv));

        if (!nv)
            return -ENOMEM;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = (struct span){lo, hi};
    return 0;
}

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* ---- INTx ---- */

void machine_intx_route(const struct machine *m, const struct pci_bus *bus, unsigned slot, int pin,
                        struct machine_intx_route *out)
{
    unsigned depth = 0;

    *out = (struct machine_intx_route){.pin = pin};
    /* PCI-to-PCI Bridge 1.2 §9.1: each bridge maps its secondary's pin by the device number. */
    while (bus->parent && bus->parent->bus && depth < MACHINE_MAX_BUSES) {
        pin = pci_swizzle(slot, pin);
        slot = PCI_SLOT_OF(bus->parent->devfn);
        bus = bus->parent->bus;
        depth++;
    }
    out->root_slot = slot;
    out->root_pin = pin;
    out->bridges = depth;
    out->link = (struct machine_intx_link){.irq = -1, .gsi = -1};
    if (m->type->intx_route)
        m->type->intx_route(m, slot, pin, &out->link);
}

int machine_dev_intx(const struct machine *m, const struct pci_device *d,
                     struct machine_intx_route *out)
{
    int pin = pci_dev_irq_pin(d);

    if (pin < 0 || !d->bus)
        return -ENOENT;
    machine_intx_route(m, d->bus, PCI_SLOT_OF(d->devfn), pin, out);
    return 0;
}

/* ---- windows ---- */

const char *machine_win_name(enum machine_win w)
{
    static const char *const names[MACHINE_WINS] = {"io", "mem", "prefetch"};

    return (unsigned)w < MACHINE_WINS ? names[w] : "?";
}

static bool is_io(enum machine_win w)
{
    return w == MACHINE_WIN_IO;
}

/* The address a BAR register holds (0: not assigned), whatever Command says: a guest that
 * placed a BAR owns its range even while decoding is off (the ROM keeps its address with the
 * enable bit clear after firmware). */
static uint64_t bar_assigned(const struct pci_device *d, int r)
{
    uint32_t off = pci_bar_offset(d, r);
    uint32_t lo = (uint32_t)le_load(d->config + off, 4);
    uint64_t a;

    if (r == PCI_ROM_SLOT)
        return lo & PCI_ROM_ADDRESS_MASK;
    if (d->bars[r].type & PCI_BASE_ADDRESS_SPACE_IO)
        return lo & PCI_BASE_ADDRESS_IO_MASK;
    a = lo & PCI_BASE_ADDRESS_MEM_MASK;
    if (d->bars[r].type & PCI_BASE_ADDRESS_MEM_TYPE_64)
        a |= le_load(d->config + off + 4, 4) << 32;
    return a;
}

static enum machine_win bar_kind(const struct pci_device *d, int r)
{
    if (r == PCI_ROM_SLOT)
        return MACHINE_WIN_MEM;
    if (d->bars[r].type & PCI_BASE_ADDRESS_SPACE_IO)
        return MACHINE_WIN_IO;
    return (d->bars[r].type & PCI_BASE_ADDRESS_MEM_PREFETCH) ? MACHINE_WIN_PREF : MACHINE_WIN_MEM;
}

static uint64_t bar_size(const struct pci_device *d, int r)
{
    uint64_t size = d->bars[r].size;

    return bar_kind(d, r) != MACHINE_WIN_IO && size < MEM_GRANULE ? MEM_GRANULE : size;
}

/* A bridge's window `w` as its registers and Command forward it now. */
static bool bridge_window(const struct pci_device *br, enum machine_win w, uint64_t *base,
                          uint64_t *limit, bool *is64)
{
    static const enum pci_bridge_window map[MACHINE_WINS] = {
        PCI_BRIDGE_WINDOW_IO, PCI_BRIDGE_WINDOW_MEM, PCI_BRIDGE_WINDOW_PREF};
    uint8_t cfg[PCI_CONFIG_HEADER_SIZE];
    uint16_t cmd;

    /* A vCPU may be writing the registers: decode one copy of the header. */
    pci_dev_config_copy(br, cfg, 0, sizeof(cfg));
    cmd = le_get16(cfg + PCI_COMMAND);
    pci_bridge_window(cfg, map[w], base, limit);
    *is64 = w == MACHINE_WIN_PREF &&
            (cfg[PCI_PREF_MEMORY_BASE] & PCI_PREF_RANGE_TYPE_MASK) == PCI_PREF_RANGE_TYPE_64;
    if (*base > *limit)
        return false;
    return is_io(w) ? (cmd & PCI_COMMAND_IO) : (cmd & PCI_COMMAND_MEMORY);
}

/* Whether `br` is the bridge of `bus` or of a bus above it. */
static bool bridge_above(const struct pci_device *br, const struct pci_bus *bus)
{
    for (unsigned depth = 0; bus && bus->parent && depth < MACHINE_MAX_BUSES; depth++) {
        if (bus->parent == br)
            return true;
        bus = bus->parent->bus;
    }
    return false;
}

/* Every range assigned in the space of `w` (I/O or memory), bridge windows of `bus`'s own
 * bridges excepted. */
static int collect_used(const struct machine *m, const struct pci_bus *bus, bool io,
                        struct spans *out)
{
    for (const struct machine_dev *md = m->devices; md; md = md->next) {
        const struct pci_device *d = md->pci;
        int r = 0;

        for (int i = 0; i < PCI_NUM_REGIONS; i++) {
            uint64_t a;

            if (!d->bars[i].size || is_io(bar_kind(d, i)) != io)
                continue;
            a = bar_assigned(d, i);
            if (a && (r = spans_add(out, a, a + bar_size(d, i))) < 0)
                return r;
        }
        if (!d->bridge || bridge_above(d, bus))
            continue;
        for (enum machine_win w = 0; w < MACHINE_WINS; w++) {
            uint64_t base, limit;
            bool is64;

            if (is_io(w) == io && bridge_window(d, w, &base, &limit, &is64) &&
                (r = spans_add(out, base, limit + 1)) < 0)
                return r;
        }
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), span_cmp);
    return 0;
}

/* The window `w` of `bus`: the chipset's on the root bus, else its bridge's. */
static void bus_window(const struct machine *m, const struct pci_bus *bus, enum machine_win w,
                       const struct spans *io_used, struct machine_window *out)
{
    *out = (struct machine_window){0};
    if (bus->parent) {
        out->present = true;
        out->assigned = bridge_window(bus->parent, w, &out->base, &out->limit, &out->is64);
        return;
    }
    if (w == MACHINE_WIN_PREF)
        return; /* the 32-bit hole takes prefetchable BARs too */
    out->present = out->assigned = true;
    if (w == MACHINE_WIN_MEM) {
        out->base = m->type->pci_hole_base;
        out->limit = PCI_HOLE_END - 1;
        return;
    }
    out->base = IO_TRADITIONAL;
    out->limit = IO_END - 1;
    /* SeaBIOS moves bus 0's I/O down to 0x1000 when it needs 16 KiB or more. */
    for (size_t i = 0; io_used && i < io_used->n; i++)
        if (io_used->v[i].lo >= IO_LOW && io_used->v[i].lo < IO_TRADITIONAL) {
            out->base = IO_LOW;
            out->limit = m->type->io_low_end - 1;
            break;
        }
}

/* Used bytes, and the largest naturally aligned free block, of [base, limit] given the sorted
 * ranges in `used`. */
static void account(struct machine_window *w, const struct spans *used)
{
    uint64_t end = w->limit + 1, at = w->base, taken = 0;

    w->largest_free = w->largest_base = 0;
    for (size_t i = 0; i <= used->n; i++) {
        uint64_t lo = i < used->n ? used->v[i].lo : end, hi = i < used->n ? used->v[i].hi : end;

        if (lo > end)
            lo = end;
        if (hi > end)
            hi = end;
        if (hi <= at)
            continue;
        if (lo > at) { /* a gap [at, lo) */
            for (int k = 63; k >= 0; k--) {
                uint64_t sz = 1ULL << k, a = (at + sz - 1) & ~(sz - 1);

                if (sz <= w->largest_free)
                    break;
                if (a >= at && a + sz > a && a + sz <= lo) {
                    w->largest_free = sz;
                    w->largest_base = a;
                    break;
                }
            }
        }
        taken += hi - (lo > at ? lo : at);
        at = hi;
    }
    w->used = taken;
    w->free = end - w->base - taken;
}

int machine_bus_windows(const struct machine *m, const struct pci_bus *bus,
                        struct machine_window out[MACHINE_WINS])
{
    struct spans io = {0}, mem = {0};
    int r = collect_used(m, bus, true, &io);

    if (r == 0)
        r = collect_used(m, bus, false, &mem);
    for (enum machine_win w = 0; r == 0 && w < MACHINE_WINS; w++) {
        bus_window(m, bus, w, &io, &out[w]);
        if (out[w].assigned)
            account(&out[w], is_io(w) ? &io : &mem);
    }
    free(io.v);
    free(mem.v);
    return r;
}

/* ---- fit ---- */

/* The lowest [a, a + size) at natural alignment inside the window that overlaps nothing in
 * `used` (fw_os.c find_free). */
static bool find_free(const struct machine_window *w, const struct spans *used, uint64_t size,
                      uint64_t *out)
{
    uint64_t a = (w->base + size - 1) & ~(size - 1);

    while (a >= w->base && a + size > a && a + size - 1 <= w->limit) {
        uint64_t next = 0;

        for (size_t i = 0; i < used->n; i++)
            if (a < used->v[i].hi && used->v[i].lo < a + size && used->v[i].hi > next)
                next = used->v[i].hi;
        if (!next) {
            *out = a;
            return true;
        }
        a = (next + size - 1) & ~(size - 1);
    }
    return false;
}

struct fit_ctx {
    struct machine_window win[MACHINE_WINS];
    struct spans io, mem;
};

static int place_bar(struct fit_ctx *c, struct machine_fit_bar *b)
{
    enum machine_win order[2] = {b->kind, MACHINE_WIN_MEM};
    unsigned tries = b->kind == MACHINE_WIN_PREF ? 2 : 1;

    b->window = b->kind == MACHINE_WIN_PREF && !c->win[MACHINE_WIN_PREF].assigned ? MACHINE_WIN_MEM
                                                                                  : b->kind;
    b->closed = !c->win[b->window].assigned;
    for (unsigned t = 0; t < tries; t++) {
        struct machine_window *w = &c->win[order[t]];
        struct spans *s = is_io(order[t]) ? &c->io : &c->mem;

        if (!w->assigned || !find_free(w, s, b->size, &b->addr))
            continue;
        b->fits = true;
        b->window = order[t];
        if (spans_add(s, b->addr, b->addr + b->size) < 0)
            return -ENOMEM;
        qsort(s->v, s->n, sizeof(*s->v), span_cmp);
        return 0;
    }
    return 0;
}

static unsigned collect_bars(const struct pci_device *d, struct machine_fit_bar *out)
{
    unsigned n = 0;

    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        if (!d->bars[i].size)
            continue;
        out[n++] = (struct machine_fit_bar){
            .bar = i,
            .kind = bar_kind(d, i),
            .is64 = i != PCI_ROM_SLOT && (d->bars[i].type & PCI_BASE_ADDRESS_MEM_TYPE_64) &&
                    !(d->bars[i].type & PCI_BASE_ADDRESS_SPACE_IO),
            .size = bar_size(d, i),
        };
    }
    return n;
}

/* A function the guest has not configured yet: it will take its BARs before a later one. */
static bool unconfigured(const struct pci_device *d)
{
    uint16_t cmd = (uint16_t)le_load(d->config + PCI_COMMAND, 2);

    if (d->bridge || (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
        return false;
    for (int i = 0; i < PCI_NUM_REGIONS; i++)
        if (d->bars[i].size && bar_assigned(d, i))
            return false;
    return true;
}

/* Place the BARs of every unconfigured function of `slot` on `bus` (and `extra`, if any);
 * the results of `extra` go to `out`. */
static int place_slot(struct fit_ctx *c, const struct pci_bus *bus, unsigned slot,
                      const struct pci_device *extra, struct machine_fit *out)
{
    struct machine_fit_bar bars[PCI_FUNC_MAX * PCI_NUM_REGIONS + PCI_NUM_REGIONS];
    const struct pci_device *owner[PCI_FUNC_MAX * PCI_NUM_REGIONS + PCI_NUM_REGIONS];
    unsigned n = 0;
    int r = 0;

    for (unsigned fn = 0; fn < PCI_FUNC_MAX; fn++) {
        const struct pci_device *d = bus->devices[PCI_DEVFN_OF(slot, fn)];
        unsigned k;

        if (!d || d == extra || !unconfigured(d))
            continue;
        k = collect_bars(d, bars + n);
        for (unsigned j = 0; j < k; j++)
            owner[n + j] = d;
        n += k;
    }
    if (extra) {
        unsigned k = collect_bars(extra, bars + n);

        for (unsigned j = 0; j < k; j++)
            owner[n + j] = extra;
        n += k;
    }
    /* Largest first over the whole slot, as the guest sorts what it sized. */
    for (unsigned i = 1; i < n; i++) {
        struct machine_fit_bar x = bars[i];
        const struct pci_device *o = owner[i];
        unsigned j = i;

        for (; j > 0 && bars[j - 1].size < x.size; j--) {
            bars[j] = bars[j - 1];
            owner[j] = owner[j - 1];
        }
        bars[j] = x;
        owner[j] = o;
    }
    for (unsigned i = 0; i < n && r == 0; i++) {
        r = place_bar(c, &bars[i]);
        if (owner[i] == extra && out && out->n < PCI_NUM_REGIONS)
            out->bars[out->n++] = bars[i];
    }
    return r;
}

int machine_fit_check(const struct machine *m, const struct pci_bus *bus, uint8_t devfn,
                      const struct pci_device *d, struct machine_fit *out)
{
    struct fit_ctx c = {0};
    unsigned own = PCI_SLOT_OF(devfn);
    int r = collect_used(m, bus, true, &c.io);

    *out = (struct machine_fit){.first_fail = -1};
    if (r == 0)
        r = collect_used(m, bus, false, &c.mem);
    for (enum machine_win w = 0; r == 0 && w < MACHINE_WINS; w++)
        bus_window(m, bus, w, &c.io, &c.win[w]);
    for (unsigned s = 0; r == 0 && s < PCI_SLOT_MAX; s++)
        if (s != own)
            r = place_slot(&c, bus, s, NULL, NULL);
    if (r == 0)
        r = place_slot(&c, bus, own, d, out);
    if (r == 0) {
        /* Report in BAR order; the first failure is the largest BAR that did not fit. */
        struct machine_fit_bar failed = {0};
        bool any = false;

        for (unsigned i = 0; i < out->n; i++)
            if (!out->bars[i].fits && !any) {
                failed = out->bars[i];
                any = true;
            }
        for (unsigned i = 1; i < out->n; i++) {
            struct machine_fit_bar x = out->bars[i];
            unsigned j = i;

            for (; j > 0 && out->bars[j - 1].bar > x.bar; j--)
                out->bars[j] = out->bars[j - 1];
            out->bars[j] = x;
        }
        for (unsigned i = 0; any && i < out->n; i++)
            if (out->bars[i].bar == failed.bar)
                out->first_fail = (int)i;
    }
    free(c.io.v);
    free(c.mem.v);
    return r;
}
