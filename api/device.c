/* SPDX-License-Identifier: MIT */
/*
 * device.c — device_add and device_del, checked in QEMU 7.2's order with its messages:
 *   id well-formed → driver given → driver known, concrete, pluggable, on a PCI bus → bus
 *   found → bus hot-pluggable → id unique → each property, in the order given → acpi-index and
 *   romsize → placement on the bus → the model's own checks.
 * Arguments are text as QEMU's device_add sees them: JSON numbers become their digits, booleans
 * "on"/"off"; null, arrays and objects are ignored; an id that is not a string is no id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/hw/pci/pci_addr.h"
#include "../daemon/hw/pci/pci_bridge.h"
#include "../daemon/hw/pci/pcie.h"
#include "../daemon/util/opts.h"
#include "internal.h"
#include "metrics.h"

#define ACPI_INDEX_MAX (16 * 1024 - 1) /* systemd's onboard index limit, as QEMU */

struct text_args {
    struct machine_prop *v;
    size_t n;
    size_t n_recorded; /* the first n_recorded are kept as given; 0 = all (see below) */
};

static void text_args_free(struct text_args *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].value);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static int text_args_push(struct text_args *t, const char *name, const char *value)
{
    struct machine_prop *v = realloc(t->v, (t->n + 1) * sizeof(*v));

    if (!v)
        return -ENOMEM;
    t->v = v;
    v[t->n].name = strdup(name);
    v[t->n].value = strdup(value);
    if (!v[t->n].name || !v[t->n].value) {
        free(v[t->n].name);
        free(v[t->n].value);
        return -ENOMEM;
    }
    t->n++;
    return 0;
}

static const char *text_args_get(const struct text_args *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (streq(t->v[i].name, name))
            return t->v[i].value;
    return NULL;
}

/* Remove argument `name` and return its value (malloc'd), NULL when absent. */
static char *text_args_take(struct text_args *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        char *v;

        if (!streq(t->v[i].name, name))
            continue;
        v = t->v[i].value;
        free(t->v[i].name);
        memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
        t->n--;
        if (t->n_recorded > i)
            t->n_recorded--;
        return v;
    }
    return NULL;
}

/* pcid's placement arguments of device_add (not driver properties): in, and the reply's
 * members they produce. */
struct add_ext {
    bool allow_unassigned; /* "allow-unassigned": add even when a BAR cannot get an address */
    bool prefer_own_irq;   /* "prefer": "own-irq" */
    bool asked;            /* either was given: a QMP reply carries the members */
    json_t *resources;     /* out: the fit report */
    json_t *placement;     /* out: what "prefer" did */
};

static int add_ext_parse(struct text_args *t, struct add_ext *x, struct error *err)
{
    char *allow = text_args_take(t, "allow-unassigned"), *prefer = text_args_take(t, "prefer");
    int r = 0;

    if (allow) {
        x->asked = true;
        if (qdev_parse_bool(allow, &x->allow_unassigned) < 0)
            r = error_invalid(err, "Parameter 'allow-unassigned' expects a boolean");
    }
    if (prefer && r == 0) {
        x->asked = true;
        if (!streq(prefer, "own-irq"))
            r = error_invalid(err,
                              "Parameter 'prefer' does not accept value '%s' (known: "
                              "own-irq)",
                              prefer);
        else if (text_args_get(t, "addr"))
            r = error_invalid(err, "Parameter 'prefer' applies only without 'addr'");
        else
            x->prefer_own_irq = true;
    }
    free(allow);
    free(prefer);
    return r;
}

/* QEMU's qemu_opts_from_qdict(): JSON values to option text. As in QEMU (the battery in
 * tests/data/qemu), null, a list or an object is dropped and an id that is not a string gives
 * no id; POST /v1/devices refuses those before they get here (daemon/rest/routes.c). */
static int json_to_text(json_t *args, struct text_args *t, bool *has_id)
{
    const char *key;
    json_t *v;
    char buf[64];

    *has_id = false;
    if (!args)
        return 0;
    json_object_foreach(args, key, v)
    {
        const char *text = NULL;

        if (streq(key, "id")) {
            if (!json_is_string(v))
                continue; /* not a string: the device gets no id */
            *has_id = true;
        }
        switch (json_typeof(v)) {
        case JSON_STRING:
            text = json_string_value(v);
            break;
        case JSON_INTEGER:
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            text = buf;
            break;
        case JSON_REAL:
            snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
            text = buf;
            break;
        case JSON_TRUE:
            text = "on";
            break;
        case JSON_FALSE:
            text = "off";
            break;
        default:
            continue;
        }
        if (text_args_push(t, key, text) < 0)
            return -ENOMEM;
    }
    return 0;
}

/*
 * QEMU sets a device's properties by walking a QDict, whose order is that of its hash buckets
 * (tdb_hash of the key modulo 512), not the order given. With two bad properties QEMU reports
 * the one in the lower bucket, so pcid applies them in the same order. Ties keep the order
 * given (QEMU's dict is cloned once, which reverses each bucket twice).
 */
#define QDICT_BUCKET_MAX 512

static unsigned qdict_bucket(const char *key)
{
    uint32_t v = (uint32_t)(0x238F13AFu * strlen(key));

    for (unsigned i = 0; key[i]; i++)
        v += (uint32_t)(unsigned char)key[i] << (i * 5 % 24);
    return (1103515243u * v + 12345u) % QDICT_BUCKET_MAX;
}

static void qdict_order(const struct text_args *t, size_t *order)
{
    for (size_t i = 0; i < t->n; i++)
        order[i] = i;
    for (size_t i = 1; i < t->n; i++) { /* insertion sort: stable, n is small */
        size_t cur = order[i], j = i;
        unsigned b = qdict_bucket(t->v[cur].name);

        while (j > 0 && qdict_bucket(t->v[order[j - 1]].name) > b) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = cur;
    }
}

static int drive_lookup(void *opaque, const char *name, const char **user)
{
    struct api *api = opaque;
    struct backend *b = backend_find(&api->m->backends, name);

    if (!b)
        return -ENOENT;
    if (b->user) {
        *user = b->user;
        return -EBUSY;
    }
    return 0;
}

static int placement_error(enum pci_place_result r, const struct pci_place *p, const char *drv,
                           struct error *err)
{
    int slot = PCI_SLOT_OF(p->devfn), fn = PCI_FUNC_OF(p->devfn);

    switch (r) {
    case PCI_PLACE_OK:
        return 0;
    case PCI_PLACE_NO_FREE_SLOT:
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_CONFLICT,
                          "PCI: no slot/function available for %s, all in use or reserved", drv);
    case PCI_PLACE_RESERVED:
        return error_conflict(err, "PCI: slot %d function %d not available for %s, reserved", slot,
                              fn, drv);
    case PCI_PLACE_IN_USE:
        /* glibc prints a NULL %s as "(null)", which is what QEMU shows for built-ins. */
        return error_conflict(
            err, "PCI: slot %d function %d not available for %s, in use by %s,id=%s", slot, fn, drv,
            p->other->name, p->other->id ? p->other->id : "(null)");
    case PCI_PLACE_FN0_PRESENT:
        return error_conflict(
            err,
            "PCI: slot %d function 0 already occupied by %s, new func %s cannot be exposed to guest.",
            PCI_SLOT_OF(p->other->devfn), p->other->name, drv);
    case PCI_PLACE_FN0_SINGLE:
        return error_conflict(
            err, "PCI: single function device can't be populated in function %x.%x", slot, fn);
    case PCI_PLACE_FN0_POPULATED:
        return error_conflict(
            err, "PCI: %x.0 indicates single function, but %x.%x is already populated.", slot, slot,
            p->other_fn);
    }
    return error_invalid(err, "PCI: placement failed");
}

/* QEMU's pcie_chassis_find_slot: is there a PCIe slot (root port) with this chassis/slot? */
static bool pcie_slot_taken(void *opaque, uint8_t chassis, uint16_t slot)
{
    struct api *api = opaque;

    for (struct machine_dev *md = api->m->devices; md; md = md->next) {
        const struct pci_bridge *br = md->pci->bridge;

        if (br && br->slot && br->slot->chassis == chassis && br->slot->slot == slot)
            return true;
    }
    return false;
}

/* The machine version's compat properties for this driver, as QEMU applies its globals: after
 * the driver's defaults, before the user's properties; a property the driver lacks is skipped. */
static int apply_compat(struct machine *m, const struct qdev_driver *drv, void *opts,
                        const struct qdev_env *env, struct error *err)
{
    const struct machine_compat_prop *c;

    for (size_t i = 0; (c = machine_compat_at(m->type, i)); i++) {
        int r;

        if (!qdev_driver_is_a(drv, c->driver) || !qdev_prop_find(drv, c->property))
            continue;
        r = qdev_prop_set(drv, opts, c->property, c->value, env, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool acpi_index_used(struct machine *m, uint32_t idx)
{
    for (struct machine_dev *md = m->devices; md; md = md->next)
        if (md->drv && ((struct pci_dev_opts *)md->opts)->acpi_index == idx)
            return true;
    return false;
}

/*
 * The whole of device_add on text arguments. On success (not dry-run) the device is on the
 * machine and *out (if not NULL) points at it; with dry_run *devfn_out/bus_out tell where it
 * would go.
 */
static int device_add_text(struct api *api, struct text_args *t, bool has_id, bool hotplug,
                           bool dry_run, struct add_ext *ext, struct machine_dev **out,
                           struct pci_bus **bus_out, int *devfn_out, struct error *err)
{
    struct machine *m = api->m;
    const char *id = has_id ? text_args_get(t, "id") : NULL;
    const char *driver =
        text_args_get(t, "driver") ? qdev_driver_alias(text_args_get(t, "driver")) : NULL;
    const char *busname = text_args_get(t, "bus");
    const struct qdev_driver *drv;
    const char *other_bus = NULL;
    struct pci_bus *bus;
    struct qdev_env env = {.drive_lookup = drive_lookup,
                           .opaque = api,
                           .hotplug = hotplug,
                           .pcie_slot_taken = pcie_slot_taken};
    struct pci_place place = {0};
    struct pci_device *d = NULL;
    enum pci_place_result pr;
    struct pci_dev_opts *po;
    void *opts = NULL;
    const char *drive = NULL;
    int r;

    if (id && !id_wellformed(id))
        return error_invalid(err, "Parameter 'id' expects an identifier");
    if (!driver)
        return error_invalid(err, "Parameter 'driver' is missing");
    r = add_ext_parse(t, ext, err);
    if (r < 0)
        return r;

    switch (qdev_type_kind(driver, &other_bus)) {
    case QDEV_TYPE_DRIVER:
        break;
    case QDEV_TYPE_ABSTRACT:
        return error_invalid(err, "Parameter 'driver' expects a non-abstract device type");
    case QDEV_TYPE_NOT_PLUGGABLE:
        return error_invalid(err, "Parameter 'driver' expects a pluggable device type");
    case QDEV_TYPE_OTHER_BUS: {
        const struct machine_foreign_bus *fb;

        if (busname) {
            if (machine_find_bus(m, busname))
                return error_invalid(err, "Device '%s' can't go on PCI bus", driver);
            fb = machine_find_foreign_bus(m, busname);
            if (!fb)
                return error_invalid(err, "Bus '%s' not found", busname);
        } else {
            fb = machine_find_foreign_bus_type(m, other_bus);
            if (!fb)
                return error_invalid(err, "No '%s' bus found for device '%s'", other_bus, driver);
        }
        /* The machine has such a bus, but none of its buses but PCI take hot-plug. */
        return error_invalid(err, "Bus '%s' does not support hotplugging", fb->name);
    }
    case QDEV_TYPE_UNKNOWN:
    default:
        return error_invalid(err, "'%s' is not a valid device model name", driver);
    }
    drv = qdev_driver_find(driver);

    if (busname) {
        const struct machine_foreign_bus *fb;

        bus = machine_find_bus(m, busname);
        if (!bus) {
            fb = machine_find_foreign_bus(m, busname);
            if (fb)
                return error_invalid(err, "Device '%s' can't go on %s bus", driver, fb->type);
            return error_invalid(err, "Bus '%s' not found", busname);
        }
    } else {
        bus = machine_root_bus(m);
    }
    if (hotplug && !bus->hotpluggable)
        return error_invalid(err, "Bus '%s' does not support hotplugging", bus->name);
    if (id && machine_find_device(m, id))
        return error_conflict(err, "Duplicate device ID '%s'", id);

    env.express_bus = bus->express;
    env.root_bus = bus->parent == NULL;
    env.id = id;

    r = qdev_opts_new(drv, &opts);
    if (r < 0)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");
    r = apply_compat(m, drv, opts, &env, err);
    if (r < 0)
        goto fail;
    {
        size_t order[t->n ? t->n : 1];

        qdict_order(t, order);
        for (size_t k = 0; k < t->n; k++) {
            const struct machine_prop *a = &t->v[order[k]];

            if (streq(a->name, "driver") || streq(a->name, "id") || streq(a->name, "bus"))
                continue;
            r = qdev_prop_set(drv, opts, a->name, a->value, &env, err);
            if (r < 0)
                goto fail;
        }
    }
    po = opts;

    /* QEMU checks these before it looks at the bus (pci_qdev_realize). */
    if (po->acpi_index > ACPI_INDEX_MAX) {
        r = error_invalid(err, "acpi-index should be less or equal to %u", ACPI_INDEX_MAX);
        goto fail;
    }
    if (po->acpi_index && acpi_index_used(m, po->acpi_index)) {
        r = error_conflict(err, "a PCI device with acpi-index = %u already exist", po->acpi_index);
        goto fail;
    }
    if (po->romsize != UINT32_MAX && !is_power_of_2(po->romsize)) {
        r = error_invalid(err, "ROM size %u is not a power of two", po->romsize);
        goto fail;
    }
    if (m->n_devices >= machine_device_limit(m)) {
        api_metrics_reject(API_REJECT_DEVICES);
        r = error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_LIMIT,
                       "Device limit reached (%u functions per machine)", machine_device_limit(m));
        goto fail;
    }

    place.devfn = po->addr;
    place.multifunction = po->multifunction;
    place.hotplug = hotplug;
    pr = pci_bus_place(bus, &place);
    if (pr != PCI_PLACE_OK) {
        r = placement_error(pr, &place, drv->name, err);
        goto fail;
    }

    r = drv->realize(drv, opts, &env, &d, err);
    if (r < 0)
        goto fail;
    pci_dev_set_multifunction(d, po->multifunction);
    /* QEMU's PCIDevice compat bits, whatever the model. */
    if (!po->x_pcie_extcap_init)
        pcie_cap_extcap_init_off(d);
    d->no_lnksta_dllla = !po->x_pcie_lnksta_dllla;
    d->hotpluggable = true;
    if (ext->prefer_own_irq) {
        r = api_prefer_own_irq(api, bus, d, hotplug, &place.devfn, &ext->placement);
        if (r < 0)
            goto fail;
    }
    /* The bus's hotplug controller has its say once the device exists (QEMU's plug handler). */
    if (hotplug) {
        r = machine_plug_check(m, bus, (uint8_t)place.devfn, err);
        if (r < 0)
            goto fail;
    }

    /* Would the guest find room for its BARs? (pcid's; QEMU does not ask.) */
    r = api_fit(api, bus, (uint8_t)place.devfn, d, drv->name, hotplug, ext->allow_unassigned,
                &ext->resources, err);
    if (r < 0)
        goto fail;

    if (dry_run) {
        pci_dev_destroy(d);
        qdev_opts_free(drv, opts);
        if (bus_out)
            *bus_out = bus;
        if (devfn_out)
            *devfn_out = place.devfn;
        return 0;
    }

    if (id) {
        d->id = strdup(id);
        if (!d->id) {
            r = -ENOMEM;
            goto fail;
        }
    }
    {
        const struct qdev_prop *dp = qdev_prop_find(drv, "drive");
        if (dp && dp->type == QDEV_PROP_DRIVE)
            drive = *(char **)((char *)opts + dp->offset);
    }
    r = machine_add_device(m, bus, (uint8_t)place.devfn, d, drv, opts, t->v,
                           t->n_recorded ? t->n_recorded : t->n, drive);
    if (r < 0) {
        if (r == -ENOSPC && m->n_devices < machine_device_limit(m)) {
            api_metrics_reject(API_REJECT_BUSES);
            error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_LIMIT,
                       "Bus limit reached (%u buses per machine)", machine_bus_limit(m));
        } else if (r == -ENOSPC) {
            api_metrics_reject(API_REJECT_DEVICES);
            error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_LIMIT,
                       "Device limit reached (%u functions per machine)", machine_device_limit(m));
        }
        goto fail;
    }
    if (out)
        *out = machine_find_pci(m, d);
    return 0;

fail:
    if (d)
        pci_dev_destroy(d);
    qdev_opts_free(drv, opts);
    return r;
}

/*
 * device_add. With api->call (REST): call->dry_run checks and places without changing the
 * machine, and call->bdf receives the function's address either way.
 */
int api_cmd_device_add(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    struct api_call *call = api->call;
    bool dry_run = call && call->dry_run, hotplug = api->m->started;
    struct text_args t = {0};
    struct machine_dev *md = NULL;
    struct pci_bus *bus = NULL;
    uint64_t t0 = monotonic_ns();
    int devfn = -1;
    bool has_id;
    struct add_ext ext = {0};
    int r = json_to_text(args, &t, &has_id);

    if (r == 0)
        r = device_add_text(api, &t, has_id, hotplug, dry_run, &ext, &md, &bus, &devfn, err);
    text_args_free(&t);
    if (r < 0) {
        json_decref(ext.resources);
        json_decref(ext.placement);
        return r;
    }
    if (call && dry_run)
        pci_bdf_format(call->bdf, 0, pci_bus_num(bus), (uint8_t)devfn);
    else if (call && md)
        machine_dev_bdf(md, call->bdf);
    if (hotplug && !dry_run)
        api_metrics_hot_add(api, monotonic_ns() - t0);
    *ret = json_object();
    /* QEMU's reply is {}: pcid's members only when REST asks or its arguments were used. */
    if (call || ext.asked) {
        if (ext.resources)
            json_object_set(*ret, "resources", ext.resources);
        if (ext.placement)
            json_object_set(*ret, "placement", ext.placement);
    }
    json_decref(ext.resources);
    json_decref(ext.placement);
    return 0;
}

int api_device_add_props(struct api *api, const struct machine_prop *props, size_t n,
                         size_t n_recorded, bool hotplug, struct error *err)
{
    struct text_args t = {.n_recorded = n_recorded};
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i++)
        r = text_args_push(&t, props[i].name, props[i].value);
    if (r == 0) {
        struct add_ext ext = {0};

        r = device_add_text(api, &t, text_args_get(&t, "id") != NULL, hotplug, false, &ext, NULL,
                            NULL, NULL, err);
        json_decref(ext.resources);
        json_decref(ext.placement);
    }
    text_args_free(&t);
    return r;
}

static int push_opt(void *opaque, const char *key, const char *value)
{
    return text_args_push(opaque, key, value);
}

int api_device_add_spec(struct api *api, const char *spec, bool hotplug, struct error *err)
{
    struct text_args t = {0};
    uint64_t t0 = monotonic_ns();
    int r = opts_parse(spec, "driver", push_opt, &t);

    if (r == 0) {
        struct add_ext ext = {0};

        r = device_add_text(api, &t, text_args_get(&t, "id") != NULL, hotplug, false, &ext, NULL,
                            NULL, NULL, err);
        json_decref(ext.resources);
        json_decref(ext.placement);
    }
    text_args_free(&t);
    if (r == 0 && hotplug)
        api_metrics_hot_add(api, monotonic_ns() - t0);
    return r;
}

/* Containers of QEMU's QOM tree that a device_del path may name: not devices. */
static const char *const qom_containers[] = {
    "/", "/machine", "/machine/peripheral", "/machine/peripheral-anon", "/machine/unattached",
};

struct machine_dev *api_resolve_device(struct api *api, const char *id, struct error *err)
{
    struct machine *m = api->m;
    char *path = NULL;
    size_t len;

    if (id[0] != '/') {
        if (asprintf(&path, "/machine/peripheral/%s", id) < 0)
            return NULL;
    } else {
        path = strdup(id);
        if (!path)
            return NULL;
    }
    /* QOM ignores empty path components: "/machine/peripheral/" is the container. */
    len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = 0;

    for (size_t i = 0; i < ARRAY_SIZE(qom_containers); i++) {
        if (streq(path, qom_containers[i])) {
            free(path);
            error_invalid(err, "%s is not a hotpluggable device", id);
            return NULL;
        }
    }
    for (struct machine_dev *md = m->devices; md; md = md->next) {
        size_t n = md->path ? strlen(md->path) : 0;

        if (md->path && streq(md->path, path)) {
            free(path);
            return md;
        }
        /* A virtio device's internal virtio-backend child is a device on a virtio bus. */
        if (md->virtio_backend && n && strncmp(path, md->path, n) == 0 &&
            streq(path + n, "/virtio-backend")) {
            free(path);
            error_invalid(err, "Bus 'virtio-bus' does not support hotplugging");
            return NULL;
        }
    }
    free(path);
    error_setf(err, ERROR_CLASS_DEVICE_NOT_FOUND, ERROR_KIND_INVALID, "Device '%s' not found", id);
    return NULL;
}

int api_cmd_device_del(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    struct machine_dev *md = api_resolve_device(api, id, err);
    int r;

    (void)ret;
    if (!md)
        return -ENOENT;
    /* QEMU's order: qmp_device_del's pending check, then qdev_unplug's bus and device. A
     * request pending on SHPC does not count (QEMU 7.2's SHPC never marks one); one on ACPI or
     * a native PCIe slot counts until it expires, which takes a running guest. */
    if (md->pci->unplug_pending && md->pci->bus && md->pci->bus->hotplug != PCI_HOTPLUG_SHPC &&
        (!md->pci->unplug_expires_ms || md->pci->unplug_expires_ms > api_virtual_ms(api)))
        return error_conflict(err, "Device %s is already in the process of unplug", id);
    if (md->pci->bus && !md->pci->bus->hotpluggable)
        return error_invalid(err, "Bus '%s' does not support hotplugging", md->pci->bus->name);
    if (!md->pci->hotpluggable)
        return error_invalid(err, "Device '%s' does not support hotplugging", md->pci->name);
    /* A request: the guest acknowledges it through the hotplug controller, or a reset
     * completes it; some controllers remove a device the guest cannot see at once (md is
     * gone when r is 1, so the path a waiting caller needs is taken first). */
    if (api->call)
        snprintf(api->call->path, sizeof(api->call->path), "%s", md->path);
    r = machine_unplug_request(api->m, md, err);
    if (r < 0)
        return r;
    api_metrics_unplug_request(api);
    if (r == 0) {
        /* QEMU 7.2.22: pcie_cap_slot_unplug_request_cb lets a request expire 5 s later (a
         * guest that never answered the button can be asked again); the stable ACPI fix
         * ("allow repeating hot-unplug requests") at once. Paused, the clock reads 0 (never). */
        uint64_t now = api_virtual_ms(api);

        md->pci->unplug_expires_ms = md->pci->bus->hotplug == PCI_HOTPLUG_PCIE   ? now + 5000
                                     : md->pci->bus->hotplug == PCI_HOTPLUG_ACPI ? now
                                                                                 : 0;
    }
    return 0;
}
