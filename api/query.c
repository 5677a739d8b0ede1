/* SPDX-License-Identifier: MIT */
/*
 * query.c — read-only commands over the PCI topology, block backends and driver properties.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/hw/pci/pci_addr.h"
#include "../daemon/util/opts.h"
#include "internal.h"
#include "marshal.h"

int api_cmd_query_pci(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    (void)args;
    (void)err;
    *ret = marshal_query_pci(api->m);
    return *ret ? 0 : -ENOMEM;
}

/* The slot of api->query_pci for `flags`: the one made with them, else an empty one, else the
 * last (front doors use two sets of flags, so the slots settle). */
static struct query_cache *query_pci_slot(struct api *api, size_t flags)
{
    for (size_t i = 0; i < ARRAY_SIZE(api->query_pci); i++)
        if (api->query_pci[i].text && api->query_pci[i].flags == flags)
            return &api->query_pci[i];
    for (size_t i = 0; i < ARRAY_SIZE(api->query_pci); i++)
        if (!api->query_pci[i].text)
            return &api->query_pci[i];
    return &api->query_pci[ARRAY_SIZE(api->query_pci) - 1];
}

int api_text_query_pci(struct api *api, json_t *args, size_t flags, char **text, struct error *err)
{
    struct query_cache *c = query_pci_slot(api, flags);
    struct api_call *call = api->call;
    struct sbuf after = {0};
    struct api_text *made;
    json_t *v;
    char *t;

    (void)args;
    (void)err;
    made = query_cache_lookup(c, api->m, flags);
    if (made) {
        api_text_ref(made);
    } else {
        query_cache_key(api->m, &api->query_key); /* failing: the answer is not kept */
        v = marshal_query_pci(api->m);
        t = v ? json_dumps(v, flags) : NULL;
        json_decref(v);
        made = t ? api_text_new(t, strlen(t)) : NULL;
        free(t);
        if (!made)
            return -ENOMEM;
        /* vCPUs write config space without the control lock: keep the answer only if nothing
         * it was made from moved while it was made. */
        if (sbuf_ok(&api->query_key) && query_cache_key(api->m, &after) == 0 &&
            after.len == api->query_key.len && !memcmp(after.p, api->query_key.p, after.len))
            query_cache_put(c, &api->query_key, flags, api_text_ref(made));
        sbuf_free(&after);
    }
    /* A front door that sends a shared text takes the reference: no copy under the lock. */
    if (call && call->want_shared) {
        call->shared = made;
        return 0;
    }
    *text = strdup(made->s);
    api_text_unref(made);
    return *text ? 0 : -ENOMEM;
}

int api_cmd_query_pci_slots(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const char *name = json_string_value(json_object_get(args, "bus"));
    struct pci_bus *bus = NULL;

    if (name) {
        bus = machine_find_bus(api->m, name);
        if (!bus)
            return error_invalid(err, "Bus '%s' not found", name);
    }
    *ret = marshal_pci_slots(api->m, bus);
    return *ret ? 0 : -ENOMEM;
}

int api_cmd_query_pci_buses(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const struct machine *m = api->m;
    json_t *list = json_array();

    (void)args;
    (void)err;
    for (unsigned i = 0; list && i < m->n_buses; i++) {
        const struct pci_bus *bus = m->buses[i];
        json_t *o = json_pack("{s:i,s:s,s:b,s:o}", "bus", pci_bus_num(bus), "bus-id", bus->name,
                              "express", bus->express, "windows", marshal_bus_windows(m, bus));

        if (o && bus->parent) {
            char bdf[PCI_BDF_STRLEN];
            json_t *p = json_pack(
                "{s:s,s:s}", "driver", bus->parent->name, "bdf",
                pci_bdf_format(bdf, 0, pci_bus_num(bus->parent->bus), bus->parent->devfn));

            json_object_set_new(p, "id",
                                bus->parent->id ? json_string(bus->parent->id) : json_null());
            json_object_set_new(o, "bridge", p);
        }
        json_array_append_new(list, o);
    }
    *ret = list;
    return list ? 0 : -ENOMEM;
}

struct machine_dev *api_find_by_id_or_bdf(struct api *api, json_t *args, struct error *err)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    const char *bdf = json_string_value(json_object_get(args, "bdf"));
    struct machine_dev *md = NULL;

    if (!id && !bdf) {
        error_invalid(err, "Parameter 'id' or 'bdf' is missing");
        return NULL;
    }
    if (id) {
        md = machine_find_device(api->m, id);
        if (!md) {
            error_setf(err, ERROR_CLASS_DEVICE_NOT_FOUND, ERROR_KIND_INVALID,
                       "Device '%s' not found", id);
            return NULL;
        }
    }
    if (bdf) {
        struct pci_bdf b;
        struct machine_dev *by_bdf;

        if (pci_bdf_parse(bdf, &b) < 0 || b.domain != 0) {
            error_invalid(err, "Parameter 'bdf' expects a PCI address such as 0000:00:03.0");
            return NULL;
        }
        by_bdf = machine_find_bdf(api->m, b.bus, b.devfn);
        if (!by_bdf) {
            error_setf(err, ERROR_CLASS_DEVICE_NOT_FOUND, ERROR_KIND_INVALID,
                       "Device '%s' not found", bdf);
            return NULL;
        }
        if (md && md != by_bdf) {
            error_invalid(err, "Device '%s' is not at %s", id, bdf);
            return NULL;
        }
        md = by_bdf;
    }
    return md;
}

int api_cmd_query_pci_caps(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    struct machine_dev *md = api_find_by_id_or_bdf(api, args, err);

    if (!md)
        return -ENOENT;
    *ret = marshal_pci_capabilities(md->pci);
    return *ret ? 0 : -ENOMEM;
}

int api_cmd_query_pci_config(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    struct machine_dev *md = api_find_by_id_or_bdf(api, args, err);
    char bdf[PCI_BDF_STRLEN];
    char *hex, *text;

    if (!md)
        return -ENOENT;
    hex = malloc(md->pci->config_size * 2 + 1);
    if (!hex)
        return -ENOMEM;
    uint8_t cfg[PCIE_CONFIG_SPACE_SIZE];
    pci_dev_config_copy(md->pci, cfg, 0, md->pci->config_size); /* no side effects */
    for (uint32_t i = 0; i < md->pci->config_size; i++)
        sprintf(hex + 2 * i, "%02x", cfg[i]);
    text = marshal_config_text(api->m, md);
    *ret = json_pack("{s:s,s:i,s:s,s:s}", "bdf", machine_dev_bdf(md, bdf), "size",
                     md->pci->config_size, "data", hex, "lspci", text ? text : "");
    free(hex);
    free(text);
    return *ret ? 0 : -ENOMEM;
}

int api_cmd_query_pci_devices(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    json_t *list;

    if (args && (json_object_get(args, "id") || json_object_get(args, "bdf"))) {
        struct machine_dev *md = api_find_by_id_or_bdf(api, args, err);
        if (!md)
            return -ENOENT;
        *ret = json_pack("[o]", marshal_device_summary(api->m, md));
        return *ret ? 0 : -ENOMEM;
    }
    list = json_array();
    for (unsigned b = 0; b < api->m->n_buses; b++) {
        const struct pci_bus *bus = api->m->buses[b];
        for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
            struct machine_dev *md;
            if (!bus->devices[devfn])
                continue;
            md = machine_find_pci(api->m, bus->devices[devfn]);
            if (md)
                json_array_append_new(list, marshal_device_summary(api->m, md));
        }
    }
    *ret = list;
    return 0;
}

int api_cmd_query_pci_machine(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const struct machine *m = api->m;
    json_t *buses = json_array(), *o;

    (void)args;
    (void)err;
    for (unsigned b = 0; b < m->n_buses; b++) {
        const struct pci_bus *bus = m->buses[b];
        unsigned n = 0;
        char bdf[PCI_BDF_STRLEN];
        json_t *parent = json_null();

        for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++)
            n += bus->devices[devfn] != NULL;
        if (bus->parent) /* the bridge above: its id, else its address */
            parent =
                json_string(bus->parent->id ? bus->parent->id
                                            : pci_bdf_format(bdf, 0, pci_bus_num(bus->parent->bus),
                                                             bus->parent->devfn));
        json_array_append_new(
            buses, json_pack("{s:s,s:i,s:b,s:b,s:o,s:i,s:i}", "name", bus->name, "number",
                             pci_bus_num(bus), "express", bus->express, "hotpluggable",
                             bus->hotpluggable, "parent", parent, "slots",
                             bus->parent && bus->express ? 1 : PCI_SLOT_MAX, "functions", n));
    }
    o = json_pack("{s:s,s:s,s:I,s:i,s:o}", "type", m->type->name, "version", PCID_VERSION,
                  "generation", (json_int_t)m->generation, "functions", m->n_devices, "buses",
                  buses);
    if (o && m->type->alias)
        json_object_set_new(o, "alias", json_string(m->type->alias));
    *ret = o;
    return o ? 0 : -ENOMEM;
}

int api_cmd_blockdev_add(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    json_t *size = json_object_get(args, "size");
    json_t *lat = json_object_get(args, "latency-ns");

    int r;

    (void)ret;
    if (size && json_integer_value(size) < 0)
        return error_invalid(err, "Parameter 'size' expects uint64");
    if (lat && json_integer_value(lat) < 0)
        return error_invalid(err, "Parameter 'latency-ns' expects uint64");
    r = backend_add(&api->m->backends, json_string_value(json_object_get(args, "driver")),
                    json_string_value(json_object_get(args, "node-name")),
                    size ? (uint64_t)json_integer_value(size) : 0,
                    json_is_true(json_object_get(args, "read-zeroes")),
                    lat ? (uint64_t)json_integer_value(lat) : 0, err);
    if (r == 0)
        api->m->config_gen++; /* the host side of the description changed */
    return r;
}

int api_cmd_blockdev_del(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    int r;

    (void)ret;
    r = backend_del(&api->m->backends, json_string_value(json_object_get(args, "node-name")), err);
    if (r == 0)
        api->m->config_gen++;
    return r;
}

int api_cmd_query_block_nodes(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    json_t *list = json_array();

    (void)args;
    (void)err;
    for (struct backend *b = api->m->backends.head; b; b = b->next) {
        json_t *o =
            json_pack("{s:s,s:s,s:b,s:b,s:s,s:i,s:{s:s,s:s,s:I}}", "node-name", b->node_name, "drv",
                      b->driver, "ro", 0, "encrypted", 0, "file", "null-co://",
                      "backing_file_depth", 0, "image", "filename", "null-co://", "format",
                      b->driver, "virtual-size", (json_int_t)b->size);
        /* The rest of what QEMU 7.2 always reports: no throttling, default cache mode. */
        static const char *const zero[] = {"bps",     "bps_rd",  "bps_wr",         "iops",
                                           "iops_rd", "iops_wr", "write_threshold"};

        for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
            json_object_set_new(o, zero[i], json_integer(0));
        json_object_set_new(o, "detect_zeroes", json_string("off"));
        json_object_set_new(o, "cache",
                            json_pack("{s:b,s:b,s:b}", "writeback", 1, "direct", 0, "no-flush", 0));
        json_object_set_new(o, "users", b->user ? json_pack("[s]", b->user) : json_array());
        json_array_append_new(list, o);
    }
    *ret = list;
    return 0;
}

int api_cmd_device_list_properties(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const char *name = json_string_value(json_object_get(args, "typename"));
    const struct qdev_driver *drv = qdev_driver_find(name);
    const struct qdev_prop *p;
    json_t *list;

    (void)api;
    if (!drv) {
        if (qdev_type_kind(name, NULL) == QDEV_TYPE_ABSTRACT)
            return error_invalid(err, "Parameter 'typename' expects a non-abstract device type");
        return error_setf(err, ERROR_CLASS_DEVICE_NOT_FOUND, ERROR_KIND_INVALID,
                          "Device '%s' not found", name);
    }
    list = json_array();
    for (size_t i = 0; (p = qdev_prop_at(drv, i)); i++) {
        json_t *o = json_pack("{s:s,s:s}", "name", p->name, "type", qdev_prop_type_name(p));
        if (p->desc)
            json_object_set_new(o, "description", json_string(p->desc));
        json_array_append_new(list, o);
    }
    *ret = list;
    return 0;
}

/* QEMU's size syntax: a number with an optional binary suffix (K, M, G, T). */
static int parse_size(const char *s, json_int_t *out)
{
    char *end;
    unsigned long long v;
    int shift = 0;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -EINVAL;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    case 't':
    case 'T':
        shift = 40;
        end++;
        break;
    case 0:
        break;
    default:
        return -EINVAL;
    }
    if (*end || v > (unsigned long long)(INT64_MAX >> shift))
        return -EINVAL;
    *out = (json_int_t)(v << shift);
    return 0;
}

struct spec_ctx {
    json_t *obj;
    struct error *err;
};

static int blockdev_opt(void *opaque, const char *key, const char *value)
{
    struct spec_ctx *c = opaque;
    json_int_t n;
    bool b;

    if (streq(key, "size") || streq(key, "latency-ns")) {
        if (parse_size(value, &n) < 0)
            return error_invalid(c->err, "Parameter '%s' expects a non-negative number below 2^63",
                                 key);
        return json_object_set_new(c->obj, key, json_integer(n));
    }
    if (streq(key, "read-zeroes")) {
        if (qdev_parse_bool(value, &b) < 0)
            return error_invalid(c->err, "Parameter '%s' expects 'on' or 'off'", key);
        return json_object_set_new(c->obj, key, json_boolean(b));
    }
    return json_object_set_new(c->obj, key, json_string(value));
}

int api_blockdev_add_spec(struct api *api, const char *spec, struct error *err)
{
    struct spec_ctx c = {json_object(), err};
    json_t *ret = NULL;
    int r = opts_parse(spec, NULL, blockdev_opt, &c);

    if (r == 0)
        r = api_execute(api, "blockdev-add", c.obj, &ret, err);
    json_decref(c.obj);
    json_decref(ret);
    return r;
}
