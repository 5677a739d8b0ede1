/* SPDX-License-Identifier: MIT */
#include "machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../hw/pci/pci_addr.h"
#include "../hw/pci/pci_bridge.h"
#include "../hw/pci/pcie.h"
#include "machine_internal.h"

int machine_new(const char *type, struct machine **ret, struct error *err)
{
    const struct machine_type *t = machine_type_find(type);
    struct machine *m;
    struct pci_bus *root;
    int r;

    if (!t)
        return error_invalid(err, "unsupported machine type \"%s\"", type ? type : "");
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->type = t;
    m->acpi_bridge_hotplug = true; /* QEMU 7.2's default on pc and q35 */
    pthread_mutex_init(&m->lock, NULL);
    r = pci_bus_new(t->root_bus, t->root_express, t->root_hotpluggable, &root);
    if (r < 0) {
        machine_free(m);
        return r;
    }
    m->buses[m->n_buses++] = root;
    r = t->init(m);
    if (r < 0) {
        machine_free(m);
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                          "cannot build machine %s: %s", t->name, strerror(-r));
    }
    *ret = m;
    return 0;
}

static void mdev_free(struct machine_dev *md)
{
    if (!md)
        return;
    if (md->drv)
        qdev_opts_free(md->drv, md->opts);
    for (size_t i = 0; i < md->n_props; i++) {
        free(md->props[i].name);
        free(md->props[i].value);
    }
    free(md->props);
    free(md->path);
    free(md->drive);
    pci_dev_destroy(md->pci);
    free(md);
}

void machine_free(struct machine *m)
{
    if (!m)
        return;
    /* Detach everything first, while every bus (a bridge's bus goes with the bridge) still
     * exists: a detach lowers the function's INTx, which the chipset routes through its own
     * (built-in) functions, so none may be freed before all are detached. */
    for (struct machine_dev *md = m->devices; md; md = md->next)
        pci_bus_detach(md->pci);
    while (m->devices) {
        struct machine_dev *md = m->devices;
        m->devices = md->next;
        mdev_free(md);
    }
    if (m->type && m->type->fini)
        m->type->fini(m);
    /* Secondary buses belonged to their bridges; the root bus is the machine's. */
    pci_bus_free(m->buses[0]);
    backend_list_clear(&m->backends);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

struct pci_bus *machine_find_bus(const struct machine *m, const char *name)
{
    for (unsigned i = 0; i < m->n_buses; i++)
        if (streq(m->buses[i]->name, name))
            return m->buses[i];
    return NULL;
}

const struct machine_foreign_bus *machine_find_foreign_bus(const struct machine *m,
                                                           const char *name)
{
    for (const struct machine_foreign_bus *f = m->type->foreign_buses; f && f->name; f++)
        if (streq(f->name, name))
            return f;
    return NULL;
}

const struct machine_foreign_bus *machine_find_foreign_bus_type(const struct machine *m,
                                                                const char *type)
{
    for (const struct machine_foreign_bus *f = m->type->foreign_buses; f && f->name; f++)
        if (streq(f->type, type))
            return f;
    return NULL;
}

/* FNV-1a of an id, as a by_id bucket. */
static unsigned id_bucket(const char *id)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h & (MACHINE_ID_BUCKETS - 1);
}

/* Hash `md` by its id (none: nothing), at the end of its chain like `devices`. */
static void id_link(struct machine *m, struct machine_dev *md)
{
    struct machine_dev **pp;

    if (!md->pci || !md->pci->id)
        return;
    for (pp = &m->by_id[id_bucket(md->pci->id)]; *pp; pp = &(*pp)->id_next)
        ;
    md->id_next = NULL;
    *pp = md;
}

static void id_unlink(struct machine *m, struct machine_dev *md)
{
    if (!md->pci || !md->pci->id)
        return;
    for (struct machine_dev **pp = &m->by_id[id_bucket(md->pci->id)]; *pp; pp = &(*pp)->id_next) {
        if (*pp == md) {
            *pp = md->id_next;
            md->id_next = NULL;
            return;
        }
    }
}

struct machine_dev *machine_find_device(const struct machine *m, const char *id)
{
    if (!id)
        return NULL;
    for (struct machine_dev *md = m->by_id[id_bucket(id)]; md; md = md->id_next)
        if (streq(md->pci->id, id))
            return md;
    return NULL;
}

struct machine_dev *machine_find_pci(const struct machine *m, const struct pci_device *d)
{
    for (struct machine_dev *md = m->devices; md; md = md->next)
        if (md->pci == d)
            return md;
    return NULL;
}

struct machine_dev *machine_find_bdf(const struct machine *m, uint8_t bus, uint8_t devfn)
{
    struct pci_bus *b = pci_bus_find_nr(machine_root_bus(m), bus);

    if (!b || !b->devices[devfn])
        return NULL;
    return machine_find_pci(m, b->devices[devfn]);
}

static unsigned dfs(struct pci_bus *bus, struct pci_bus **out, unsigned n)
{
    if (n >= MACHINE_MAX_BUSES)
        return n;
    out[n++] = bus;
    for (struct pci_bus *c = bus->children; c; c = c->sibling)
        n = dfs(c, out, n);
    return n;
}

unsigned machine_buses_dfs(const struct machine *m, struct pci_bus **out)
{
    return dfs(machine_root_bus(m), out, 0);
}

char *machine_dev_bdf(const struct machine_dev *md, char buf[PCI_BDF_STRLEN])
{
    return pci_bdf_format(buf, 0, pci_bus_num(md->pci->bus), md->pci->devfn);
}

static void append(struct machine *m, struct machine_dev *md)
{
    struct machine_dev **tail;

    for (tail = &m->devices; *tail; tail = &(*tail)->next)
        ;
    *tail = md;
    m->n_devices++;
    id_link(m, md);
}

int machine_add_builtin(struct machine *m, struct pci_device *d, uint8_t devfn)
{
    struct machine_dev *md = calloc(1, sizeof(*md));
    int r;

    if (!md) {
        pci_dev_destroy(d);
        return -ENOMEM;
    }
    md->pci = d;
    r = pci_bus_attach(machine_root_bus(m), d, devfn);
    if (r < 0) {
        mdev_free(md);
        return r;
    }
    append(m, md);
    return 0;
}

/* Tell the platform the topology changed: at once, or (an addition inside a batch) at the
 * batch's end. */
static void topology_publish(struct machine *m, bool now)
{
    if (!m->plat || !m->plat->topology_changed)
        return;
    if (m->topo_batch && !now) {
        m->topo_pending = true;
        return;
    }
    m->topo_pending = false;
    m->plat->topology_changed(m->plat_opaque);
}

void machine_topology_batch_begin(struct machine *m)
{
    m->topo_batch++;
}

void machine_topology_batch_end(struct machine *m)
{
    if (m->topo_batch && --m->topo_batch == 0 && m->topo_pending)
        topology_publish(m, true);
}

int machine_add_device(struct machine *m, struct pci_bus *bus, uint8_t devfn, struct pci_device *d,
                       const struct qdev_driver *drv, void *opts, const struct machine_prop *props,
                       size_t n, const char *drive)
{
    struct machine_dev *md;
    char bdf[PCI_BDF_STRLEN];
    int r;

    if (m->n_devices >= machine_device_limit(m) ||
        (d->bridge && m->n_buses >= machine_bus_limit(m)))
        return -ENOSPC;
    md = calloc(1, sizeof(*md));
    if (!md)
        return -ENOMEM;
    md->pci = d;
    md->drv = drv;
    md->opts = opts;
    md->virtio_backend = drv->virtio;
    md->props = calloc(n ? n : 1, sizeof(*md->props));
    if (!md->props)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        md->props[i].name = strdup(props[i].name);
        md->props[i].value = strdup(props[i].value);
        md->n_props++;
        if (!md->props[i].name || !md->props[i].value)
            goto nomem;
    }
    if (d->id)
        r = asprintf(&md->path, "/machine/peripheral/%s", d->id);
    else
        r = asprintf(&md->path, "/machine/peripheral-anon/device[%u]", m->anon_index++);
    if (r < 0) {
        md->path = NULL;
        goto nomem;
    }
    if (drive) {
        md->drive = strdup(drive);
        if (!md->drive || backend_claim(&m->backends, drive, d->id) < 0)
            goto nomem;
    }
    if (d->bridge) {
        r = machine_bridge_bus_name(m, d);
        if (r < 0) {
            if (md->drive)
                backend_release(&m->backends, md->drive);
            goto nomem;
        }
    }
    d->hotplugged = m->started;
    r = pci_bus_attach(bus, d, devfn);
    if (r < 0) {
        if (md->drive)
            backend_release(&m->backends, md->drive);
        md->pci = NULL;
        md->opts = NULL;
        mdev_free(md);
        return r;
    }
    append(m, md);
    if (d->bridge)
        machine_bridge_bus_add(m, d);
    machine_port_link_changed(bus, devfn);
    m->generation++;
    m->config_gen++;
    topology_publish(m, false);
    /* QEMU resets a hot-plugged device once it is realized and plugged: its own reset
     * (dc->reset), not the bus's generic PCI reset, which only a system reset does. QEMU's
     * guest cannot run in between (the BQL); pcid's runs on its own vCPU, so the reset comes
     * before the hotplug controller tells the guest, lest it undo the guest's configuration.
     * Neither step looks at what the other changes (the device vs its parent's controller). */
    if (d->hotplugged && d->cls && d->cls->reset) {
        pthread_mutex_lock(&d->lock);
        d->cls->reset(d);
        pthread_mutex_unlock(&d->lock);
    }
    machine_hotplug_plugged(m, d);
    machine_dev_bdf(md, bdf);
    if (m->events.device_added)
        m->events.device_added(m->events.opaque, d->id, bdf);
    if (m->events.device_note)
        m->events.device_note(m->events.opaque, &(struct machine_dev_note){.added = true,
                                                                           .hotplug = m->started,
                                                                           .id = d->id,
                                                                           .bdf = bdf,
                                                                           .driver = drv->name});
    return 0;

nomem:
    md->pci = NULL; /* the caller still owns d and opts on failure */
    md->opts = NULL;
    md->drv = NULL;
    mdev_free(md);
    return -ENOMEM;
}

static void unlink_dev(struct machine *m, struct machine_dev *md)
{
    for (struct machine_dev **pp = &m->devices; *pp; pp = &(*pp)->next) {
        if (*pp == md) {
            *pp = md->next;
            m->n_devices--;
            id_unlink(m, md);
            return;
        }
    }
}

static void mdev_free_cb(void *arg)
{
    mdev_free(arg);
}

/* What a removal leaves to report once the description no longer has the device. */
struct removed {
    char *id, *path;
    bool virtio_backend;
    uint64_t pending_ns; /* since its removal was requested; 0: nobody asked */
    char bdf[PCI_BDF_STRLEN];
    const char *driver; /* static: a driver's or a built-in type's name */
    bool hotplug;
};

/* Removals not yet reported, in the order they happened. */
struct removals {
    struct removed *v;
    size_t n, cap;
};

static void report_removed(struct machine *m, struct removed *r);

/* Keep `r` to report after the description is saved; without memory, report it at once (the
 * order against the save is lost, never the event). */
static void removals_push(struct machine *m, struct removals *rs, struct removed *r)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 8;
        struct removed *v = reallocarray(rs->v, cap, sizeof(*v));

        if (!v) {
            report_removed(m, r);
            return;
        }
        rs->v = v;
        rs->cap = cap;
    }
    rs->v[rs->n++] = *r;
}

static void remove_one(struct machine *m, struct machine_dev *md, struct removed *out)
{
    uint64_t requested = md->unplug_requested_ns;
    struct pci_bus *bus = md->pci->bus;

    *out =
        (struct removed){.path = md->path,
                         .id = md->pci->id ? strdup(md->pci->id) : NULL,
                         .virtio_backend = md->virtio_backend,
                         .pending_ns = requested ? MAX(monotonic_ns() - requested, (uint64_t)1) : 0,
                         .driver = md->drv ? md->drv->name : md->pci->name,
                         .hotplug = m->started};
    machine_dev_bdf(md, out->bdf);
    unlink_dev(m, md);
    if (md->pci->bridge)
        machine_bridge_bus_remove(m, md->pci);
    pci_bus_detach(md->pci);
    machine_port_link_changed(bus, md->pci->devfn);
    pci_dev_unrealize(md->pci);
    if (md->drive)
        backend_release(&m->backends, md->drive);
    md->path = NULL;
    m->generation++;
    m->config_gen++;
    /* vCPUs may still be inside the device: publish the topology without it, then free it
     * after a grace period. */
    topology_publish(m, true);
    if (m->plat && m->plat->defer_free)
        m->plat->defer_free(m->plat_opaque, mdev_free_cb, md);
    else
        mdev_free(md);
}

static void report_removed(struct machine *m, struct removed *r)
{
    if (m->events.device_removed)
        m->events.device_removed(m->events.opaque, r->pending_ns);
    if (r->virtio_backend && r->path && m->events.device_deleted) {
        char *child = NULL;

        if (asprintf(&child, "%s/virtio-backend", r->path) >= 0) {
            m->events.device_deleted(m->events.opaque, NULL, child);
            free(child);
        }
    }
    if (m->events.device_note)
        m->events.device_note(m->events.opaque, &(struct machine_dev_note){.hotplug = r->hotplug,
                                                                           .id = r->id,
                                                                           .bdf = r->bdf,
                                                                           .driver = r->driver});
    if (m->events.device_deleted && r->path)
        m->events.device_deleted(m->events.opaque, r->id, r->path);
    free(r->id);
    free(r->path);
}

/* Remove `md` and, for a bridge, everything below it first: each bus's devices newest first
 * (QEMU unparents a bus's children from the head of its list, the newest), depth first. What
 * goes is added to `rs` in that order. */
static void remove_tree(struct machine *m, struct machine_dev *md, struct removals *rs)
{
    struct removed r;

    if (md->pci->bridge) {
        struct pci_bus *sec = md->pci->bridge->sec;
        struct machine_dev *child;

        /* The newest device of `sec` is the last one in the machine's list. */
        do {
            child = NULL;
            for (struct machine_dev *c = m->devices; c; c = c->next)
                if (c->pci->bus == sec)
                    child = c;
            if (child)
                remove_tree(m, child, rs);
        } while (child);
    }
    remove_one(m, md, &r);
    removals_push(m, rs, &r);
}

/* The description drops what went before anyone hears it is gone. */
static void removals_finish(struct machine *m, struct removals *rs)
{
    machine_persist(m, NULL);
    for (size_t i = 0; i < rs->n; i++)
        report_removed(m, &rs->v[i]);
    free(rs->v);
}

void machine_remove_function(struct machine *m, struct machine_dev *md)
{
    struct removals rs = {0};

    remove_tree(m, md, &rs);
    removals_finish(m, &rs);
}

void machine_eject_slot(struct machine *m, struct pci_bus *bus, unsigned slot)
{
    struct machine_dev *list[PCI_FUNC_MAX];
    struct removals rs = {0};
    unsigned n = 0;

    /* Every function of the slot, newest first (QEMU walks its bus's child list, which keeps
     * the most recently added device at the head). */
    for (struct machine_dev *md = m->devices; md; md = md->next)
        if (md->pci->bus == bus && PCI_SLOT_OF(md->pci->devfn) == slot && n < PCI_FUNC_MAX)
            list[n++] = md;

    while (n--)
        remove_tree(m, list[n], &rs);
    __atomic_fetch_and(&bus->ejecting, ~(1u << slot), __ATOMIC_RELEASE);
    if (m->type->hotplug_slot_gone)
        m->type->hotplug_slot_gone(m, bus, slot);
    removals_finish(m, &rs);
}

int machine_persist(struct machine *m, struct error *err)
{
    if (!m->persist.sync)
        return 0;
    return m->persist.sync(m->persist.opaque, m, err);
}

void machine_complete_ejects(struct machine *m)
{
    struct pci_bus *buses[MACHINE_MAX_BUSES];
    unsigned n = machine_buses_dfs(m, buses);

    /* An eject may take a bridge and the buses below it along; those come later in the walk,
     * so the entries up to b stay valid. */
    for (unsigned b = 0; b < n; b++) {
        uint32_t mask = __atomic_load_n(&buses[b]->ejecting, __ATOMIC_ACQUIRE);

        for (unsigned slot = 0; mask && slot < PCI_SLOT_MAX; slot++) {
            if (!(mask & (1u << slot)))
                continue;
            machine_eject_slot(m, buses[b], slot);
            n = machine_buses_dfs(m, buses);
        }
    }
}

void machine_unplug_complete(struct machine *m, struct machine_dev *md)
{
    machine_eject_slot(m, md->pci->bus, PCI_SLOT_OF(md->pci->devfn));
}

static bool slot_pending(const struct pci_bus *bus, unsigned slot)
{
    for (unsigned fn = 0; fn < PCI_FUNC_MAX; fn++) {
        const struct pci_device *d = bus->devices[PCI_DEVFN_OF(slot, fn)];
        if (d && d->unplug_pending)
            return true;
    }
    return false;
}

void machine_reset(struct machine *m)
{
    struct machine_dev *md;
    struct pci_bus *buses[MACHINE_MAX_BUSES];
    unsigned n = machine_buses_dfs(m, buses);

    /* Finish pending removals first: ACPI PCI hotplug ejects them at reset, bus by bus in its
     * walk order, slot by slot in ascending order; a slot goes whole. (SHPC and native PCIe
     * slots keep theirs: the guest decides.) */
    for (unsigned b = 0; b < n; b++) {
        if (buses[b]->hotplug != PCI_HOTPLUG_ACPI)
            continue;
        for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++) {
            if (slot_pending(buses[b], slot)) {
                machine_eject_slot(m, buses[b], slot);
                /* Only buses below the slot went: those before and at b keep their places. */
                n = machine_buses_dfs(m, buses);
            }
        }
    }
    for (md = m->devices; md; md = md->next) {
        pthread_mutex_lock(&md->pci->lock);
        pci_dev_reset(md->pci);
        pthread_mutex_unlock(&md->pci->lock);
    }
    if (m->type->reset)
        m->type->reset(m);
    if (m->plat && m->plat->reset)
        m->plat->reset(m->plat_opaque);
}

static unsigned limit_devices = MACHINE_MAX_DEVICES, limit_buses = MACHINE_MAX_BUSES;

int machine_set_limits(unsigned devices, unsigned buses)
{
    if (!devices || devices > MACHINE_MAX_DEVICES || !buses || buses > MACHINE_MAX_BUSES)
        return -ERANGE;
    __atomic_store_n(&limit_devices, devices, __ATOMIC_RELAXED);
    __atomic_store_n(&limit_buses, buses, __ATOMIC_RELAXED);
    return 0;
}

unsigned machine_device_limit(const struct machine *m)
{
    return m->started ? __atomic_load_n(&limit_devices, __ATOMIC_RELAXED) : MACHINE_MAX_DEVICES;
}

unsigned machine_bus_limit(const struct machine *m)
{
    return m->started ? __atomic_load_n(&limit_buses, __ATOMIC_RELAXED) : MACHINE_MAX_BUSES;
}

void machine_start(struct machine *m)
{
    for (struct machine_dev *md = m->devices; md; md = md->next) {
        pthread_mutex_lock(&md->pci->lock);
        pci_dev_reset(md->pci);
        pthread_mutex_unlock(&md->pci->lock);
    }
    m->started = true;
}

void machine_set_platform(struct machine *m, const struct machine_platform *plat, void *opaque)
{
    m->plat = plat;
    m->plat_opaque = opaque;
}

int machine_add_io(struct machine *m, uint16_t base, uint16_t len, const struct pci_region_ops *ops,
                   void *opaque)
{
    if (m->n_io >= MACHINE_MAX_IO)
        return -ENOSPC;
    m->io[m->n_io++] = (struct machine_io){.base = base, .len = len, .ops = ops, .opaque = opaque};
    return 0;
}

void machine_ecam_set(struct machine *m, bool enabled, uint64_t base, uint64_t size)
{
    unsigned log2 = 0;

    while (log2 < 63 && (1ull << log2) < size)
        log2++;
    __atomic_store_n(&m->ecam, (base & ~((1ull << 26) - 1)) | (uint64_t)log2 << 1 | enabled,
                     __ATOMIC_RELEASE);
}

void machine_irq_set(struct machine *m, unsigned gsi, int level)
{
    if (m->plat && m->plat->irq_set)
        m->plat->irq_set(m->plat_opaque, gsi, level);
}

void machine_unplug_refused(struct machine *m, struct pci_bus *bus, unsigned slot)
{
    bool any = false;

    for (struct machine_dev *md = m->devices; md; md = md->next) {
        struct pci_device *d = md->pci;

        if (d->bus != bus || PCI_SLOT_OF(d->devfn) != slot || !d->unplug_pending)
            continue;
        d->unplug_pending = false;
        md->unplug_requested_ns = 0;
        any = true;
        if (m->events.unplug_refused && md->path)
            m->events.unplug_refused(m->events.opaque, d->id, md->path);
    }
    if (!any)
        return;
    m->generation++;
    /* The controller drops the request, so a later device_del raises a fresh one. */
    if (m->type->hotplug_slot_gone)
        m->type->hotplug_slot_gone(m, bus, slot);
}
