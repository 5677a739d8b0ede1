/* SPDX-License-Identifier: MIT */
/*
 * description.c — build and parse the machine description documents (see description.h).
 */
#include "description.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hw/pci/pci_addr.h"

char *description_addr(char buf[8], uint8_t devfn)
{
    snprintf(buf, 8, "%02x.%x", PCI_SLOT_OF(devfn), PCI_FUNC_OF(devfn));
    return buf;
}

/* Members a device entry carries itself, never as properties. */
static bool entry_member(const char *name)
{
    return streq(name, "driver") || streq(name, "id");
}

/* ... and never as pinned values: the entry's bus and addr pin the placement. */
static bool placement(const char *name)
{
    return streq(name, "bus") || streq(name, "addr");
}

/* A JSON string of `s`; bytes that are not UTF-8 (possible in -device text) become '?'. */
static json_t *text_value(const char *s)
{
    json_t *v = json_string(s);
    char *copy;

    if (v)
        return v;
    copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

static json_t *device_entry(const struct machine_dev *md)
{
    const struct qdev_driver *drv = md->drv;
    const struct qdev_prop *p;
    json_t *o, *props, *pins = NULL;
    char addr[8], buf[128];

    o = json_pack("{s:s}", "driver", drv->name);
    props = json_object();
    pins = json_object();
    if (!o || !props || !pins)
        goto fail;
    if (md->pci->id && json_object_set_new(o, "id", json_string(md->pci->id)) < 0)
        goto fail;
    if (json_object_set_new(o, "bus", json_string(md->pci->bus->name)) < 0 ||
        json_object_set_new(o, "addr", json_string(description_addr(addr, md->pci->devfn))) < 0)
        goto fail;
    for (size_t i = 0; i < md->n_props; i++) {
        if (entry_member(md->props[i].name))
            continue;
        if (json_object_set_new(props, md->props[i].name, text_value(md->props[i].value)) < 0)
            goto fail;
    }
    /* What the model chose and a guest can see: pinned, so a restart does not choose again. */
    for (size_t i = 0; drv->effective_prop && (p = qdev_prop_at(drv, i)); i++) {
        if (json_object_get(props, p->name) || entry_member(p->name) || placement(p->name) ||
            drv->effective_prop(md->pci, p->name, buf, sizeof(buf)) < 0)
            continue;
        if (json_object_set_new(pins, p->name, json_string(buf)) < 0)
            goto fail;
    }
    if (json_object_set(o, "properties", props) < 0 || json_object_set(o, "pinned", pins) < 0)
        goto fail;
    json_decref(props);
    json_decref(pins);
    return o;

fail:
    json_decref(pins);
    json_decref(props);
    json_decref(o);
    return NULL;
}

json_t *description_build(const struct machine *m)
{
    json_t *doc, *devs = json_array();

    doc = json_pack("{s:s,s:i,s:{s:s,s:s}}", "format", DESCRIPTION_FORMAT, "version",
                    DESCRIPTION_VERSION, "machine", "type", m->type->name, "version",
                    m->type->version ? m->type->version : "");
    if (!doc || !devs)
        goto fail;
    for (const struct machine_dev *md = m->devices; md; md = md->next) {
        json_t *e;

        if (!md->drv)
            continue; /* built in: the machine type creates it */
        e = device_entry(md);
        if (!e || json_array_append_new(devs, e) < 0)
            goto fail;
    }
    if (json_object_set_new(doc, "devices", devs) < 0) {
        devs = NULL;
        goto fail;
    }
    return doc;

fail:
    json_decref(devs);
    json_decref(doc);
    return NULL;
}

json_t *description_build_backends(const struct machine *m)
{
    json_t *doc, *list = json_array();

    doc = json_pack("{s:s,s:i}", "format", BACKENDS_FORMAT, "version", BACKENDS_VERSION);
    if (!doc || !list)
        goto fail;
    for (const struct backend *b = m->backends.head; b; b = b->next) {
        json_t *o = json_pack("{s:s,s:s,s:I,s:b,s:I}", "node-name", b->node_name, "driver",
                              b->driver, "size", (json_int_t)b->size, "read-zeroes", b->read_zeroes,
                              "latency-ns", (json_int_t)b->latency_ns);

        if (!o || json_array_append_new(list, o) < 0)
            goto fail;
    }
    if (json_object_set_new(doc, "backends", list) < 0) {
        list = NULL;
        goto fail;
    }
    return doc;

fail:
    json_decref(list);
    json_decref(doc);
    return NULL;
}

/* ---- parsing ------------------------------------------------------------------------------- */

static int corrupt(struct error *err, const char *what, const char *fmt, ...) _printf_(3, 4);

static int corrupt(struct error *err, const char *what, const char *fmt, ...)
{
    char text[ERROR_DESC_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return error_invalid(err, "not a valid %s: %s", what, text);
}

/* Load JSON and check the header members every state document has. */
static int load_doc(const char *text, size_t len, const char *format, json_int_t version,
                    const char *what, json_t **ret, struct error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *v;
    const char *f;

    if (!doc)
        return corrupt(err, what, "JSON error at line %d column %d: %s", jerr.line, jerr.column,
                       jerr.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return corrupt(err, what, "the document is not a JSON object");
    }
    f = json_string_value(json_object_get(doc, "format"));
    if (!streq(f, format)) {
        int r = corrupt(err, what, "\"format\" is %s%s%s, expected \"%s\"", f ? "\"" : "",
                        f ? f : "missing", f ? "\"" : "", format);

        json_decref(doc);
        return r;
    }
    v = json_object_get(doc, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        json_decref(doc);
        return corrupt(err, what, "\"version\" must be an integer >= 1");
    }
    if (json_integer_value(v) > version) {
        error_invalid(err,
                      "format version %" JSON_INTEGER_FORMAT
                      " is newer than this pcid supports (%" JSON_INTEGER_FORMAT ")",
                      json_integer_value(v), version);
        json_decref(doc);
        return -EINVAL;
    }
    *ret = doc;
    return 0;
}

/* Refuse members of `o` not in `allowed` (NULL-terminated). */
static int only_members(json_t *o, const char *const *allowed, const char *where, const char *what,
                        struct error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v)
    {
        bool ok = false;

        for (const char *const *a = allowed; *a && !ok; a++)
            ok = streq(*a, key);
        if (!ok)
            return corrupt(err, what, "%s: unexpected member \"%s\"", where, key);
    }
    return 0;
}

static char *dup_or_null(const char *s, int *r)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *r = -ENOMEM;
    return d;
}

/* A {"name": "text", ...} member into name/value pairs; `reserved` names are refused. */
static int parse_props(json_t *obj, const char *where, const char *member,
                       bool (*reserved)(const char *), struct machine_prop **ret, size_t *n,
                       struct error *err)
{
    static const char what[] = "machine description";
    const char *key;
    json_t *v;

    if (obj && !json_is_object(obj))
        return corrupt(err, what, "%s.%s must be an object", where, member);
    *ret = calloc(obj ? json_object_size(obj) + 1 : 1, sizeof(**ret));
    if (!*ret)
        return -ENOMEM;
    json_object_foreach(obj, key, v)
    {
        struct machine_prop *p = &(*ret)[*n];

        if (!json_is_string(v))
            return corrupt(err, what, "%s.%s.%s must be a string", where, member, key);
        if (reserved(key))
            return corrupt(err, what, "%s.%s.%s belongs in the device entry", where, member, key);
        p->name = strdup(key);
        p->value = strdup(json_string_value(v));
        (*n)++;
        if (!p->name || !p->value)
            return -ENOMEM;
    }
    return 0;
}

static bool pin_reserved(const char *name)
{
    return entry_member(name) || placement(name);
}

static const char *prop_value(const struct description_dev *dev, const char *name)
{
    for (size_t i = 0; i < dev->n_props; i++)
        if (streq(dev->props[i].name, name))
            return dev->props[i].value;
    return NULL;
}

static int parse_device(json_t *o, size_t i, struct description_dev *dev, struct error *err)
{
    static const char *const members[] = {"driver",     "id",     "bus", "addr",
                                          "properties", "pinned", NULL};
    static const char what[] = "machine description";
    char where[32];
    const char *drv, *id, *bus, *addr, *given;
    int r = 0;

    snprintf(where, sizeof(where), "devices[%zu]", i);
    if (!json_is_object(o))
        return corrupt(err, what, "%s is not an object", where);
    r = only_members(o, members, where, what, err);
    if (r < 0)
        return r;
    drv = json_string_value(json_object_get(o, "driver"));
    id = json_string_value(json_object_get(o, "id"));
    bus = json_string_value(json_object_get(o, "bus"));
    addr = json_string_value(json_object_get(o, "addr"));
    if (!drv)
        return corrupt(err, what, "%s.driver must be a string", where);
    if (json_object_get(o, "id") && (!id || !id_wellformed(id)))
        return corrupt(err, what, "%s.id must be an identifier", where);
    if (!bus)
        return corrupt(err, what, "%s.bus must be a string", where);
    if (!addr || pci_devfn_parse(addr) < 0)
        return corrupt(err, what, "%s.addr must be an address such as \"03.0\"", where);
    dev->drv = qdev_driver_find(drv);
    if (!dev->drv)
        return error_invalid(err, "%s%s%s%s: unknown driver '%s'", where, id ? " ('" : "",
                             id ? id : "", id ? "')" : "", drv);
    dev->devfn = pci_devfn_parse(addr);
    dev->id = dup_or_null(id, &r);
    dev->bus = dup_or_null(bus, &r);
    if (r < 0)
        return r;
    r = parse_props(json_object_get(o, "properties"), where, "properties", entry_member,
                    &dev->props, &dev->n_props, err);
    if (r == 0)
        r = parse_props(json_object_get(o, "pinned"), where, "pinned", pin_reserved, &dev->pins,
                        &dev->n_pins, err);
    if (r < 0)
        return r;
    /* A placement the user gave must be where the device is. */
    given = prop_value(dev, "addr");
    if (given && pci_devfn_parse(given) != dev->devfn)
        return corrupt(err, what, "%s.properties.addr '%s' is not %s.addr '%s'", where, given,
                       where, addr);
    given = prop_value(dev, "bus");
    if (given && !streq(given, bus))
        return corrupt(err, what, "%s.properties.bus '%s' is not %s.bus '%s'", where, given, where,
                       bus);
    return 0;
}

int description_parse(const char *text, size_t len, struct description **ret, struct error *err)
{
    static const char *const members[] = {"format", "version", "machine", "devices", NULL};
    static const char *const mmembers[] = {"type", "version", NULL};
    static const char what[] = "machine description";
    struct description *d;
    json_t *doc, *mach, *devs;
    const char *type, *version;
    int r = load_doc(text, len, DESCRIPTION_FORMAT, DESCRIPTION_VERSION, what, &doc, err);

    if (r < 0)
        return r;
    d = calloc(1, sizeof(*d));
    if (!d) {
        json_decref(doc);
        return -ENOMEM;
    }
    r = only_members(doc, members, "the document", what, err);
    mach = json_object_get(doc, "machine");
    devs = json_object_get(doc, "devices");
    if (r == 0 && !json_is_object(mach))
        r = corrupt(err, what, "\"machine\" must be an object");
    if (r == 0)
        r = only_members(mach, mmembers, "machine", what, err);
    type = json_string_value(json_object_get(mach, "type"));
    version = json_string_value(json_object_get(mach, "version"));
    if (r == 0 && (!type || !version))
        r = corrupt(err, what, "machine.type and machine.version must be strings");
    if (r == 0 && !(d->type = machine_type_find(type)))
        r = error_invalid(err, "unknown machine type '%s'", type);
    if (r == 0 && !machine_type_version(d->type, version)) {
        char have[64];

        machine_type_versions(d->type, have, sizeof(have));
        r = error_invalid(err,
                          "machine type '%s' version '%s' is not supported (this pcid has "
                          "version %s)",
                          type, version, have);
    }
    if (r == 0)
        d->type = machine_type_version(d->type, version);
    if (r == 0 && !json_is_array(devs))
        r = corrupt(err, what, "\"devices\" must be an array");
    if (r == 0 && json_array_size(devs) > MACHINE_MAX_DEVICES)
        r = corrupt(err, what, "%zu devices, more than a machine holds (%d)", json_array_size(devs),
                    MACHINE_MAX_DEVICES);
    if (r == 0) {
        d->devs = calloc(json_array_size(devs) + 1, sizeof(*d->devs));
        if (!d->devs)
            r = -ENOMEM;
    }
    for (size_t i = 0; r == 0 && i < json_array_size(devs); i++) {
        r = parse_device(json_array_get(devs, i), i, &d->devs[i], err);
        d->n = i + 1; /* freed with the rest, even half-parsed */
    }
    json_decref(doc);
    if (r < 0) {
        description_free(d);
        return r;
    }
    *ret = d;
    return 0;
}

void description_free(struct description *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        struct description_dev *dev = &d->devs[i];

        for (size_t k = 0; k < dev->n_props; k++) {
            free(dev->props[k].name);
            free(dev->props[k].value);
        }
        for (size_t k = 0; k < dev->n_pins; k++) {
            free(dev->pins[k].name);
            free(dev->pins[k].value);
        }
        free(dev->props);
        free(dev->pins);
        free(dev->id);
        free(dev->bus);
    }
    free(d->devs);
    free(d);
}

int description_parse_backends(const char *text, size_t len, json_t **ret, struct error *err)
{
    static const char *const members[] = {"format", "version", "backends", NULL};
    static const char *const bmembers[] = {"node-name",   "driver",     "size",
                                           "read-zeroes", "latency-ns", NULL};
    static const char what[] = "backend description";
    json_t *doc, *list;
    size_t i;
    json_t *b;
    int r = load_doc(text, len, BACKENDS_FORMAT, BACKENDS_VERSION, what, &doc, err);

    if (r < 0)
        return r;
    r = only_members(doc, members, "the document", what, err);
    list = json_object_get(doc, "backends");
    if (r == 0 && !json_is_array(list))
        r = corrupt(err, what, "\"backends\" must be an array");
    if (r == 0 && json_array_size(list) > BACKEND_MAX)
        r = corrupt(err, what, "%zu backends, more than %d", json_array_size(list), BACKEND_MAX);
    json_array_foreach(list, i, b)
    {
        char where[32];
        json_t *v;

        if (r < 0)
            break;
        snprintf(where, sizeof(where), "backends[%zu]", i);
        if (!json_is_object(b)) {
            r = corrupt(err, what, "%s is not an object", where);
            break;
        }
        r = only_members(b, bmembers, where, what, err);
        if (r == 0 && (!json_is_string(json_object_get(b, "node-name")) ||
                       !json_is_string(json_object_get(b, "driver"))))
            r = corrupt(err, what, "%s: node-name and driver must be strings", where);
        if (r == 0 && (v = json_object_get(b, "size")) && !json_is_integer(v))
            r = corrupt(err, what, "%s.size must be an integer", where);
        if (r == 0 && (v = json_object_get(b, "latency-ns")) && !json_is_integer(v))
            r = corrupt(err, what, "%s.latency-ns must be an integer", where);
        if (r == 0 && (v = json_object_get(b, "read-zeroes")) && !json_is_boolean(v))
            r = corrupt(err, what, "%s.read-zeroes must be a boolean", where);
    }
    if (r < 0) {
        json_decref(doc);
        return r;
    }
    *ret = json_incref(list);
    json_decref(doc);
    return 0;
}
