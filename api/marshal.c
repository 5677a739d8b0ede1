/* SPDX-License-Identifier: MIT */
/*
 * marshal.c — machine state to JSON (QEMU 7.2's query-pci schema; pcid's slot and capability
 * lists) and to lspci text.
 */
#include "marshal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/hw/pci/pci_addr.h"
#include "../daemon/hw/pci/pci_bridge.h"
#include "../daemon/hw/pci/pci_info.h"

const char *marshal_class_desc(uint16_t class_id)
{
    return pci_class_desc(class_id);
}

static json_t *regions(const struct pci_device *d)
{
    json_t *list = json_array();

    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        const struct pci_bar *b = &d->bars[i];
        json_t *r;

        if (!b->size)
            continue;
        r = json_object();
        json_object_set_new(r, "bar", json_integer(i));
        if (b->type & PCI_BASE_ADDRESS_SPACE_IO) {
            json_object_set_new(r, "type", json_string("io"));
        } else {
            json_object_set_new(r, "type", json_string("memory"));
            json_object_set_new(r, "prefetch",
                                json_boolean(b->type & PCI_BASE_ADDRESS_MEM_PREFETCH));
            json_object_set_new(r, "mem_type_64",
                                json_boolean(b->type & PCI_BASE_ADDRESS_MEM_TYPE_64));
        }
        /* QEMU reports an unmapped BAR as -1 (its PCI_BAR_UNMAPPED read as int64). */
        json_object_set_new(r, "address", json_integer((json_int_t)pci_bar_addr(d, i)));
        json_object_set_new(r, "size", json_integer((json_int_t)b->size));
        json_array_append_new(list, r);
    }
    return list;
}

static json_t *bus_devices(const struct machine *m, const struct pci_bus *bus, unsigned depth);

/* QEMU nests a bridge's devices without a bound; a guest can make a bus its own descendant
 * (a bridge whose secondary number is its own bus's), so pcid stops at this depth. */
#define QUERY_PCI_DEPTH_MAX 32

static json_t *bridge_info(const struct machine *m, const struct pci_device *d, const uint8_t *c,
                           unsigned depth)
{
    uint64_t io_base, io_limit, mem_base, mem_limit, pf_base, pf_limit;
    json_t *bus, *info;

    pci_bridge_window(c, PCI_BRIDGE_WINDOW_IO, &io_base, &io_limit);
    pci_bridge_window(c, PCI_BRIDGE_WINDOW_MEM, &mem_base, &mem_limit);
    pci_bridge_window(c, PCI_BRIDGE_WINDOW_PREF, &pf_base, &pf_limit);
    bus = json_pack("{s:I,s:I,s:I,s:{s:I,s:I},s:{s:I,s:I},s:{s:I,s:I}}", "number",
                    (json_int_t)c[PCI_PRIMARY_BUS], "secondary", (json_int_t)c[PCI_SECONDARY_BUS],
                    "subordinate", (json_int_t)c[PCI_SUBORDINATE_BUS], "io_range", "base",
                    (json_int_t)io_base, "limit", (json_int_t)io_limit, "memory_range", "base",
                    (json_int_t)mem_base, "limit", (json_int_t)mem_limit, "prefetchable_range",
                    "base", (json_int_t)pf_base, "limit", (json_int_t)pf_limit);
    info = json_pack("{s:o}", "bus", bus);
    /* QEMU's qmp_query_pci_bridge: the devices the secondary number reaches from the bridge's
     * own bus (nothing while the number is 0). */
    if (c[PCI_SECONDARY_BUS] && depth < QUERY_PCI_DEPTH_MAX) {
        struct pci_bus *child = pci_bus_find_nr(d->bus, c[PCI_SECONDARY_BUS]);

        if (child)
            json_object_set_new(info, "devices", bus_devices(m, child, depth + 1));
    }
    return info;
}

static json_t *pci_device_info(const struct machine *m, const struct pci_device *d, unsigned depth);

json_t *marshal_pci_device(const struct machine *m, const struct pci_device *d)
{
    return pci_device_info(m, d, 0);
}

static json_t *pci_device_info(const struct machine *m, const struct pci_device *d, unsigned depth)
{
    uint8_t c[PCI_CONFIG_HEADER_SIZE]; /* the header, read safely against guest writes */
    uint16_t class_id = pci_dev_class_id(d);
    const char *desc = pci_class_desc(class_id);
    json_t *o, *cls, *id;

    pci_dev_config_copy(d, c, 0, sizeof(c));
    cls = json_pack("{s:i}", "class", class_id);
    if (desc)
        json_object_set_new(cls, "desc", json_string(desc));
    id = json_pack("{s:i,s:i}", "device", pci_dev_device_id(d), "vendor", pci_dev_vendor_id(d));
    if ((c[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
        json_object_set_new(id, "subsystem", json_integer(le_get16(c + PCI_SUBSYSTEM_ID)));
        json_object_set_new(id, "subsystem-vendor",
                            json_integer(le_get16(c + PCI_SUBSYSTEM_VENDOR_ID)));
    }
    o = json_pack("{s:i,s:i,s:i,s:o,s:o,s:o,s:s,s:i}", "bus", pci_bus_num(d->bus), "slot",
                  PCI_SLOT_OF(d->devfn), "function", PCI_FUNC_OF(d->devfn), "class_info", cls, "id",
                  id, "regions", regions(d), "qdev_id", d->id ? d->id : "", "irq_pin",
                  c[PCI_INTERRUPT_PIN]);
    if (c[PCI_INTERRUPT_PIN])
        json_object_set_new(o, "irq", json_integer(c[PCI_INTERRUPT_LINE]));
    if (pci_dev_is_bridge(d))
        json_object_set_new(o, "pci_bridge", bridge_info(m, d, c, depth));
    return o;
}

static json_t *bus_devices(const struct machine *m, const struct pci_bus *bus, unsigned depth)
{
    json_t *list = json_array();

    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++)
        if (bus->devices[devfn])
            json_array_append_new(list, pci_device_info(m, bus->devices[devfn], depth));
    return list;
}

json_t *marshal_query_pci(const struct machine *m)
{
    json_t *list = json_array();

    for (unsigned i = 0; i < m->n_buses; i++) {
        const struct pci_bus *bus = m->buses[i];

        if (bus->parent)
            continue; /* secondary buses appear under their bridge */
        json_array_append_new(list, json_pack("{s:i,s:o}", "bus", pci_bus_num(bus), "devices",
                                              bus_devices(m, bus, 0)));
    }
    return list;
}

static char *occupant_text(const struct pci_device *d)
{
    char *s = NULL;

    if (asprintf(&s, "%s,id=%s", d->name, d->id ? d->id : "(null)") < 0)
        return NULL;
    return s;
}

static json_t *slot_entry(const struct machine *m, const struct pci_bus *bus, unsigned slot,
                          const struct marshal_intx_users *users)
{
    json_t *o = json_pack("{s:i}", "slot", slot);
    json_t *fns = json_array();
    bool builtin = false, any = false, pending = false;
    bool hp = bus->hotpluggable && (bus->hotplug_slots & (1u << slot));
    const struct pci_device *f0 = bus->devices[PCI_DEVFN_OF(slot, 0)];
    const struct pci_device *first = NULL;
    const char *state;
    char *reason = NULL;

    for (unsigned fn = 0; fn < PCI_FUNC_MAX; fn++) {
        const struct pci_device *d = bus->devices[PCI_DEVFN_OF(slot, fn)];
        const struct machine_dev *md;
        json_t *f;

        if (!d)
            continue;
        md = machine_find_pci(m, d);
        any = true;
        if (!first)
            first = d;
        builtin |= !d->hotpluggable;
        pending |= d->unplug_pending;
        f = json_pack("{s:i,s:s,s:b}", "function", fn, "driver", d->name, "builtin",
                      !d->hotpluggable);
        json_object_set_new(f, "id", d->id ? json_string(d->id) : json_null());
        if (md) {
            char bdf[PCI_BDF_STRLEN];
            json_object_set_new(f, "bdf",
                                json_string(pci_bdf_format(bdf, 0, pci_bus_num(bus), d->devfn)));
        }
        if (d->unplug_pending)
            json_object_set_new(f, "pending-unplug", json_true());
        json_array_append_new(fns, f);
    }

    if (builtin) {
        state = "builtin";
        if (asprintf(&reason, "built-in function of the %s machine: %s", m->type->family,
                     first->name) < 0)
            reason = NULL;
    } else if (any) {
        char *occ = occupant_text(f0 ? f0 : first);
        int r;

        state = "occupied";
        if (f0)
            r = asprintf(&reason, "in use by %s%s", occ ? occ : "?",
                         pending ? " (unplug pending)" : "");
        else
            r = asprintf(&reason,
                         "functions present without function 0 (%s): add function 0 last, with "
                         "multifunction=on",
                         occ ? occ : "?");
        if (r < 0)
            reason = NULL;
        free(occ);
    } else if (bus->reserved_slots & (1u << slot)) {
        state = "reserved";
        reason = strdup(bus->reserved_reason[slot] ? bus->reserved_reason[slot] : "reserved");
    } else {
        int r = 0;

        state = "free";
        if (!hp && bus->hotplug == PCI_HOTPLUG_SHPC)
            r = asprintf(&reason,
                         "the standard hot-plug controller of bus '%s' serves slots 1-31 "
                         "(\"Unsupported PCI slot 0 for standard hotplug controller\")",
                         bus->name);
        else if (!hp)
            r = asprintf(&reason, "bus '%s' does not support hotplugging", bus->name);
        if (r < 0)
            reason = NULL;
    }

    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "hotpluggable", json_boolean(hp && !builtin));
    json_object_set_new(o, "functions", fns);
    json_object_set_new(o, "intx", marshal_intx_routes(m, bus, slot, users));
    if (reason)
        json_object_set_new(o, "reason", json_string(reason));
    /* QEMU accepts any address below a PCIe port, but only device 0 is its link partner. */
    if (bus->port && slot)
        json_object_set_new(
            o, "note",
            json_string("below a PCI Express port the guest sees device 0 only: a hot-plugged "
                        "function here stays hidden while 00.0 is empty, and guests scan device "
                        "0 alone"));
    free(reason);
    return o;
}

static const char *hotplug_name(enum pci_hotplug hp)
{
    switch (hp) {
    case PCI_HOTPLUG_ACPI:
        return "acpi";
    case PCI_HOTPLUG_SHPC:
        return "shpc";
    case PCI_HOTPLUG_PCIE:
        return "pcie";
    case PCI_HOTPLUG_NONE:
        break;
    }
    return "none";
}

json_t *marshal_pci_slots(const struct machine *m, const struct pci_bus *only)
{
    json_t *list = json_array();
    struct marshal_intx_users users;

    if (marshal_intx_users(m, &users) < 0) {
        json_decref(list);
        return NULL;
    }
    for (unsigned i = 0; i < m->n_buses; i++) {
        const struct pci_bus *bus = m->buses[i];
        json_t *slots = json_array();
        unsigned nslots = PCI_SLOT_MAX;
        json_t *o;

        if (only && bus != only) {
            json_decref(slots);
            continue;
        }
        for (unsigned s = 0; s < nslots; s++)
            json_array_append_new(slots, slot_entry(m, bus, s, &users));
        o = json_pack("{s:i,s:s,s:b,s:s,s:b,s:b,s:o}", "bus", pci_bus_num(bus), "bus-id", bus->name,
                      "hotpluggable", bus->hotpluggable, "hotplug", hotplug_name(bus->hotplug),
                      "express", bus->express,
                      /* a configuration cycle for the bus's number reaches it */
                      "reachable", pci_bus_find_nr(machine_root_bus(m), pci_bus_num(bus)) == bus,
                      "slots", slots);
        if (bus->parent) {
            char bdf[PCI_BDF_STRLEN];
            json_t *p = json_pack(
                "{s:s,s:s}", "driver", bus->parent->name, "bdf",
                pci_bdf_format(bdf, 0, pci_bus_num(bus->parent->bus), bus->parent->devfn));
            json_object_set_new(p, "id",
                                bus->parent->id ? json_string(bus->parent->id) : json_null());
            json_object_set_new(o, "bridge", p);
        }
        json_object_set_new(o, "windows", marshal_bus_windows(m, bus));
        if (!bus->hotpluggable) {
            char *why = NULL;
            if (asprintf(&why, "Bus '%s' does not support hotplugging", bus->name) >= 0)
                json_object_set_new(o, "reason", json_string(why));
            free(why);
        }
        json_array_append_new(list, o);
    }
    marshal_intx_users_free(&users);
    return list;
}

json_t *marshal_pci_capabilities(const struct pci_device *d)
{
    struct pci_cap_entry caps[PCI_CAP_WALK_MAX + PCI_EXT_CAP_WALK_MAX];
    json_t *list = json_array();
    int n = 0;

    pci_cap_walk(d, caps, (int)ARRAY_SIZE(caps), &n);
    for (int i = 0; i < n; i++) {
        struct pci_cap_field f[PCI_CAP_FIELDS_MAX];
        int nf = pci_cap_decode(d, &caps[i], f, PCI_CAP_FIELDS_MAX);
        json_t *fields = json_object();
        json_t *o;

        for (int k = 0; k < nf; k++) {
            json_t *v = f[k].kind == PCI_FIELD_BOOL  ? json_boolean(f[k].u)
                        : f[k].kind == PCI_FIELD_STR ? json_string(f[k].s)
                                                     : json_integer((json_int_t)f[k].u);
            json_object_set_new(fields, f[k].name, v);
        }
        o = json_pack("{s:i,s:s,s:i,s:i,s:b,s:o}", "cap-id", caps[i].id, "name",
                      pci_cap_name(caps[i].id, caps[i].extended), "offset", caps[i].offset, "size",
                      pci_cap_size(d, &caps[i]), "extended", caps[i].extended, "fields", fields);
        if (caps[i].extended)
            json_object_set_new(o, "version", json_integer(caps[i].version));
        json_array_append_new(list, o);
    }
    return list;
}

json_t *marshal_device_summary(const struct machine *m, const struct machine_dev *md)
{
    const struct pci_device *d = md->pci;
    char bdf[PCI_BDF_STRLEN];
    json_t *o, *props = json_object();

    (void)m;
    for (size_t i = 0; i < md->n_props; i++) {
        if (streq(md->props[i].name, "driver") || streq(md->props[i].name, "id") ||
            streq(md->props[i].name, "bus"))
            continue;
        json_object_set_new(props, md->props[i].name, json_string(md->props[i].value));
    }
    o = json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:b,s:b,s:b,s:s,s:o}", "bdf",
                  pci_bdf_format(bdf, 0, pci_bus_num(d->bus), d->devfn), "driver", d->name, "bus",
                  d->bus->name, "bus-number", pci_bus_num(d->bus), "slot", PCI_SLOT_OF(d->devfn),
                  "function", PCI_FUNC_OF(d->devfn), "hotpluggable", d->hotpluggable,
                  "multifunction", d->multifunction, "pending-unplug", d->unplug_pending, "path",
                  md->path ? md->path : "", "properties", props);
    json_object_set_new(o, "id", d->id ? json_string(d->id) : json_null());
    return o;
}

char *marshal_config_text(const struct machine *m, const struct machine_dev *md)
{
    const struct pci_device *d = md->pci;
    const char *desc = pci_class_desc(pci_dev_class_id(d));
    size_t cap = 64 + (size_t)d->config_size / 16 * 56;
    char *buf = malloc(cap), *p = buf;

    (void)m;
    if (!buf)
        return NULL;
    p += snprintf(p, cap, "%02x:%02x.%x %s: Device %04x:%04x\n", pci_bus_num(d->bus),
                  PCI_SLOT_OF(d->devfn), PCI_FUNC_OF(d->devfn), desc ? desc : "Class",
                  pci_dev_vendor_id(d), pci_dev_device_id(d));
    /* The monitor's view has no side effects (a guest read of virtio's PCI-cfg window runs
     * it): raw bytes, as the device holds them. */
    uint8_t cfg[PCIE_CONFIG_SPACE_SIZE];
    pci_dev_config_copy(d, cfg, 0, d->config_size);
    for (uint32_t i = 0; i < d->config_size; i++) {
        if (!(i & 15))
            p += sprintf(p, "%02x:", i);
        p += sprintf(p, " %02x", cfg[i]);
        if ((i & 15) == 15)
            *p++ = '\n';
    }
    *p++ = '\n';
    *p = 0;
    return buf;
}
