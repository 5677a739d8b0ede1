/* SPDX-License-Identifier: MIT */
/*
 * qdev.c — driver registry and property parsing (QEMU 7.2 rules and messages, see qdev.h).
 */
#include "qdev.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pci/pci_addr.h"

static const struct qdev_driver *const drivers[] = {
    &e1000_driver,
    &e1000_82544gc_driver,
    &e1000_82545em_driver,
    &virtio_blk_pci_driver,
    &virtio_blk_pci_transitional_driver,
    &virtio_blk_pci_non_transitional_driver,
    &virtio_net_pci_driver,
    &virtio_net_pci_transitional_driver,
    &virtio_net_pci_non_transitional_driver,
    &pcie_root_port_driver,
    &pci_bridge_driver,
    &pcie_pci_bridge_driver,
};

/* QEMU's qdev_alias_table entries for the drivers pcid models (x86, PCI). */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"e1000-82540em", "e1000"},
    {"virtio-blk", "virtio-blk-pci"},
    {"virtio-net", "virtio-net-pci"},
};

const struct qdev_driver *qdev_driver_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
        if (streq(drivers[i]->name, name))
            return drivers[i];
    return NULL;
}

const struct qdev_driver *qdev_driver_at(size_t i)
{
    return i < ARRAY_SIZE(drivers) ? drivers[i] : NULL;
}

bool qdev_driver_is_a(const struct qdev_driver *drv, const char *type)
{
    if (!drv || !type)
        return false;
    if (streq(drv->name, type) || streq(type, "pci-device") || streq(type, "device"))
        return true;
    if (streq(type, "virtio-pci"))
        return drv->virtio;
    if (streq(type, "base-pci-bridge"))
        return drv->bridge;
    return false;
}

const char *qdev_driver_alias(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
        if (streq(aliases[i].alias, name))
            return aliases[i].name;
    return name;
}

/*
 * QEMU 7.2 type names pcid knows but does not offer as drivers, and what QEMU says of them on
 * `pc`: abstract device types (qom-list-types abstract=true), built-in chipset functions that
 * are not user-creatable, and devices of other buses (with the bus type they need).
 */
static const struct {
    const char *name;
    enum qdev_type_kind kind;
    const char *bus;
} known_types[] = {
    {"device", QDEV_TYPE_ABSTRACT, NULL},
    {"base-pci-bridge", QDEV_TYPE_ABSTRACT, NULL},
    {"e1000-base", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-device", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-ehci-usb", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-host-bridge", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-ide", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-piix3", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-qxl", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-uhci-usb", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-vga", QDEV_TYPE_ABSTRACT, NULL},
    {"pci-xhci", QDEV_TYPE_ABSTRACT, NULL},
    {"pcie-host-bridge", QDEV_TYPE_ABSTRACT, NULL},
    {"pcie-port", QDEV_TYPE_ABSTRACT, NULL},
    {"pcie-root-port-base", QDEV_TYPE_ABSTRACT, NULL},
    {"pcie-slot", QDEV_TYPE_ABSTRACT, NULL},
    {"sys-bus-device", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-scsi-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-blk-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-fs-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-gpio-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-gpu-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-i2c-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-input-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-rng-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-scsi-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-user-vsock-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"vhost-vsock-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-9p-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-balloon-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-blk-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-crypto-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-device", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-gpu-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-gpu-gl-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-gpu-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-gpu-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-input-device", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-input-hid-device", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-input-hid-pci", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-input-host-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-input-pci", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-iommu-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-keyboard-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-mem-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-mouse-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-net-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-pci", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-pmem-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-rng-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-scsi-common", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-scsi-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-serial-pci-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-serial-port", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-tablet-pci-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-vga-base", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-vga-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-vga-gl-base-type", QDEV_TYPE_ABSTRACT, NULL},
    {"i440FX", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"i440FX-pcihost", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"PIIX3", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"piix3-ide", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"piix4-ide", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"PIIX4_PM", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"mch", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"q35-pcihost", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"ICH9-LPC", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"ICH9-SMB", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"virtio-net-device", QDEV_TYPE_OTHER_BUS, "virtio-bus"},
    {"virtio-blk-device", QDEV_TYPE_OTHER_BUS, "virtio-bus"},
    {"usb-tablet", QDEV_TYPE_OTHER_BUS, "usb-bus"},
    {"usb-kbd", QDEV_TYPE_OTHER_BUS, "usb-bus"},
    {"usb-mouse", QDEV_TYPE_OTHER_BUS, "usb-bus"},
    {"usb-storage", QDEV_TYPE_OTHER_BUS, "usb-bus"},
    {"scsi-hd", QDEV_TYPE_OTHER_BUS, "SCSI"},
    {"scsi-cd", QDEV_TYPE_OTHER_BUS, "SCSI"},
    {"isa-serial", QDEV_TYPE_OTHER_BUS, "ISA"},
    {"isa-parallel", QDEV_TYPE_OTHER_BUS, "ISA"},
    {"ide-hd", QDEV_TYPE_OTHER_BUS, "IDE"},
    {"ide-cd", QDEV_TYPE_OTHER_BUS, "IDE"},
};

enum qdev_type_kind qdev_type_kind(const char *name, const char **bus)
{
    if (qdev_driver_find(name))
        return QDEV_TYPE_DRIVER;
    for (size_t i = 0; i < ARRAY_SIZE(known_types); i++) {
        if (streq(known_types[i].name, name)) {
            if (bus)
                *bus = known_types[i].bus;
            return known_types[i].kind;
        }
    }
    return QDEV_TYPE_UNKNOWN;
}

/* QOM properties every device has that cannot be set ("Property 'X.type' is not writable"). */
static const char *const readonly_props[] = {"type", "parent_bus", "hotpluggable"};

bool qdev_prop_readonly(const struct qdev_driver *drv, const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(readonly_props); i++)
        if (streq(readonly_props[i], name))
            return true;
    /* virtio-*-pci devices have their virtio device as a child property. */
    return drv->virtio && streq(name, "virtio-backend");
}

#define PCI_OPT(f) offsetof(struct pci_dev_opts, f)

/* QEMU 7.2's pci_props, in its order. */
static const struct qdev_prop pci_common_props[] = {
    {"addr", QDEV_PROP_DEVFN, PCI_OPT(addr), "-1", 0, NULL,
     "Slot and optional function number, example: 06.0 or 06"},
    {"romfile", QDEV_PROP_STR, PCI_OPT(romfile), NULL, 0, NULL, NULL},
    {"romsize", QDEV_PROP_UINT32, PCI_OPT(romsize), "4294967295", 0, NULL, NULL},
    {"rombar", QDEV_PROP_UINT32, PCI_OPT(rombar), "1", 0, NULL, NULL},
    {"multifunction", QDEV_PROP_BOOL, PCI_OPT(multifunction), "off", 0, NULL, "on/off"},
    {"x-pcie-lnksta-dllla", QDEV_PROP_BOOL, PCI_OPT(x_pcie_lnksta_dllla), "on", 0, NULL, "on/off"},
    {"x-pcie-extcap-init", QDEV_PROP_BOOL, PCI_OPT(x_pcie_extcap_init), "on", 0, NULL, "on/off"},
    {"failover_pair_id", QDEV_PROP_STR, PCI_OPT(failover_pair_id), NULL, 0, NULL, NULL},
    {"acpi-index", QDEV_PROP_UINT32, PCI_OPT(acpi_index), "0", 0, NULL, NULL},
    {0},
};

const struct qdev_prop *qdev_prop_at(const struct qdev_driver *drv, size_t i)
{
    for (size_t t = 0; t < drv->n_prop_tables; t++) {
        const struct qdev_prop *tab = drv->prop_tables[t];
        size_t n = 0;

        while (tab[n].name)
            n++;
        if (i < n)
            return &tab[i];
        i -= n;
    }
    if (i < ARRAY_SIZE(pci_common_props) - 1)
        return &pci_common_props[i];
    return NULL;
}

const struct qdev_prop *qdev_prop_find(const struct qdev_driver *drv, const char *name)
{
    const struct qdev_prop *p;

    for (size_t i = 0; (p = qdev_prop_at(drv, i)); i++)
        if (streq(p->name, name))
            return p;
    return NULL;
}

const char *qdev_prop_type_name(const struct qdev_prop *p)
{
    if (p->type_name)
        return p->type_name;
    switch (p->type) {
    case QDEV_PROP_BOOL:
    case QDEV_PROP_BIT64:
        return "bool";
    case QDEV_PROP_UINT8:
        return "uint8";
    case QDEV_PROP_UINT16:
        return "uint16";
    case QDEV_PROP_UINT32:
        return "uint32";
    case QDEV_PROP_INT32:
    case QDEV_PROP_DEVFN:
        return "int32";
    case QDEV_PROP_ONOFFAUTO:
        return "OnOffAuto";
    case QDEV_PROP_STR:
    case QDEV_PROP_MAC:
        return "str";
    case QDEV_PROP_DRIVE:
        return "str";
    case QDEV_PROP_SIZE:
        return "size";
    case QDEV_PROP_ENUM:
        return "str";
    }
    return "str";
}

int qdev_parse_bool(const char *s, bool *out)
{
    if (streq(s, "on") || streq(s, "yes") || streq(s, "true") || streq(s, "y")) {
        *out = true;
        return 0;
    }
    if (streq(s, "off") || streq(s, "no") || streq(s, "false") || streq(s, "n")) {
        *out = false;
        return 0;
    }
    return -EINVAL;
}

int qdev_parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0, pos = 0; i < 6; i++, pos += 3) {
        if (!isxdigit((unsigned char)s[pos]) || !isxdigit((unsigned char)s[pos + 1]))
            return -EINVAL;
        if (i == 5) {
            if (s[pos + 2] != '\0')
                return -EINVAL;
        } else if (s[pos + 2] != ':' && s[pos + 2] != '-') {
            return -EINVAL;
        }
        mac[i] = (uint8_t)strtol((char[]){s[pos], s[pos + 1], 0}, NULL, 16);
    }
    return 0;
}

/* QEMU's qemu_strtou64/qemu_strtoi64 with base 0: whole string, leading blanks allowed. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!*s)
        return -EINVAL;
    errno = 0;
    *out = strtoull(s, &end, 0);
    if (errno || end == s || *end)
        return -EINVAL;
    return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;

    if (!*s)
        return -EINVAL;
    errno = 0;
    *out = strtoll(s, &end, 0);
    if (errno || end == s || *end)
        return -EINVAL;
    return 0;
}

/* QEMU's qemu_strtosz: digits (base 10, or 0x hex), an optional fraction, an optional suffix
 * B, K, M, G, T, P, E (any case; powers of 1024), nothing after; below 2^64. */
static int parse_size(const char *s, uint64_t *out)
{
    static const char suffixes[] = "BKMGTPE";
    const char *p = s, *dot;
    char *end;
    unsigned long long whole;
    double frac = 0;
    unsigned shift = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '-' || !*p)
        return -EINVAL;
    errno = 0;
    whole = strtoull(p, &end, 0);
    if (errno || end == p)
        return -EINVAL;
    dot = end;
    if (*dot == '.' && !(p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))) {
        char *fend;
        frac = strtod(dot, &fend);
        if (fend == dot + 1)
            return -EINVAL;
        end = fend;
    }
    if (*end) {
        const char *k = strchr(suffixes, toupper((unsigned char)*end));

        if (!k || !*k)
            return -EINVAL;
        shift = (unsigned)(k - suffixes) * 10;
        end++;
    }
    if (*end)
        return -EINVAL;
    if (frac != 0 && !shift)
        return -EINVAL; /* a fraction needs a unit above bytes */
    if (shift && whole > (UINT64_MAX >> shift))
        return -EINVAL;
    *out = ((uint64_t)whole << shift) + (uint64_t)(frac * (double)(1ull << shift));
    return 0;
}

static const char *owner(const struct qdev_driver *drv, const struct qdev_prop *p)
{
    return p->owner ? p->owner : drv->name;
}

static int set_str(char **field, const char *value)
{
    char *s = strdup(value);

    if (!s)
        return -ENOMEM;
    free(*field);
    *field = s;
    return 0;
}

static int prop_parse(const struct qdev_driver *drv, const struct qdev_prop *p, void *opts,
                      const char *value, const struct qdev_env *env, struct error *err)
{
    char *field = (char *)opts + p->offset;
    uint64_t u;
    int64_t i;
    bool b;

    switch (p->type) {
    case QDEV_PROP_BOOL:
    case QDEV_PROP_BIT64:
        if (qdev_parse_bool(value, &b) < 0)
            return error_invalid(err, "Parameter '%s' expects 'on' or 'off'", p->name);
        if (p->type == QDEV_PROP_BOOL) {
            *(bool *)field = b;
        } else if (b) {
            *(uint64_t *)field |= 1ull << p->bit;
        } else {
            *(uint64_t *)field &= ~(1ull << p->bit);
        }
        return 0;
    case QDEV_PROP_UINT8:
    case QDEV_PROP_UINT16:
    case QDEV_PROP_UINT32: {
        static const char *const names[] = {"uint8_t", "uint16_t", "uint32_t"};
        static const uint64_t max[] = {UINT8_MAX, UINT16_MAX, UINT32_MAX};
        int k = p->type == QDEV_PROP_UINT8 ? 0 : p->type == QDEV_PROP_UINT16 ? 1 : 2;

        if (parse_u64(value, &u) < 0)
            return error_invalid(err, "Parameter '%s' expects integer", p->name);
        if (u > max[k])
            return error_invalid(err, "Parameter '%s' expects %s", p->name, names[k]);
        if (k == 0)
            *(uint8_t *)field = (uint8_t)u;
        else if (k == 1)
            *(uint16_t *)field = (uint16_t)u;
        else
            *(uint32_t *)field = (uint32_t)u;
        return 0;
    }
    case QDEV_PROP_INT32:
        if (parse_i64(value, &i) < 0)
            return error_invalid(err, "Parameter '%s' expects integer", p->name);
        if (i < INT32_MIN || i > INT32_MAX)
            return error_invalid(err, "Parameter '%s' expects int32_t", p->name);
        *(int32_t *)field = (int32_t)i;
        return 0;
    case QDEV_PROP_STR:
        return set_str((char **)field, value);
    case QDEV_PROP_MAC: {
        struct qdev_mac *m = (struct qdev_mac *)field;
        if (qdev_parse_mac(value, m->a) < 0)
            return error_invalid(err, "Property '%s.%s' doesn't take value '%s'", owner(drv, p),
                                 p->name, value);
        m->set = true;
        return 0;
    }
    case QDEV_PROP_ONOFFAUTO:
        if (streq(value, "on"))
            *(enum qdev_on_off_auto *)field = QDEV_ON;
        else if (streq(value, "off"))
            *(enum qdev_on_off_auto *)field = QDEV_OFF;
        else if (streq(value, "auto"))
            *(enum qdev_on_off_auto *)field = QDEV_AUTO;
        else
            return error_invalid(err, "Parameter '%s' does not accept value '%s'", p->name, value);
        return 0;
    case QDEV_PROP_SIZE:
        if (parse_size(value, &u) < 0)
            return error_invalid(err, "Parameter '%s' expects a non-negative number below 2^64",
                                 p->name);
        *(uint64_t *)field = u;
        return 0;
    case QDEV_PROP_ENUM:
        for (int32_t k = 0; p->choices && p->choices[k]; k++) {
            if (streq(p->choices[k], value)) {
                *(int32_t *)field = k;
                return 0;
            }
        }
        return error_invalid(err, "Parameter '%s' does not accept value '%s'", p->name, value);
    case QDEV_PROP_DEVFN: {
        int devfn = pci_devfn_parse(value);
        if (devfn < 0)
            return error_invalid(err, "Property '%s.%s' doesn't take value '%s'", owner(drv, p),
                                 p->name, value);
        *(int32_t *)field = devfn;
        return 0;
    }
    case QDEV_PROP_DRIVE: {
        const char *user = NULL;
        int r = env && env->drive_lookup ? env->drive_lookup(env->opaque, value, &user) : -ENOENT;

        /* A node in use is refused when the device attaches to it (qdev_drive_attach). */
        if (r < 0 && r != -EBUSY)
            return error_invalid(err, "Property '%s.%s' can't find value '%s'", owner(drv, p),
                                 p->name, value);
        return set_str((char **)field, value);
    }
    }
    return error_invalid(err, "Property '%s.%s' not found", drv->name, p->name);
}

int qdev_prop_set(const struct qdev_driver *drv, void *opts, const char *name, const char *value,
                  const struct qdev_env *env, struct error *err)
{
    const struct qdev_prop *p = qdev_prop_find(drv, name);

    if (!p) {
        if (qdev_prop_readonly(drv, name))
            return error_invalid(err, "Property '%s.%s' is not writable", drv->name, name);
        error_invalid(err, "Property '%s.%s' not found", drv->name, name);
        return -ENOENT;
    }
    return prop_parse(drv, p, opts, value, env, err);
}

int qdev_opts_new(const struct qdev_driver *drv, void **ret)
{
    const struct qdev_prop *p;
    void *opts = calloc(1, drv->opts_size);

    if (!opts)
        return -ENOMEM;
    for (size_t i = 0; (p = qdev_prop_at(drv, i)); i++) {
        if (!p->defval)
            continue;
        if (p->type == QDEV_PROP_DEVFN) {
            *(int32_t *)((char *)opts + p->offset) = -1; /* "pick a slot" */
            continue;
        }
        /* Defaults are ours and valid; a failure here is a table bug. */
        if (prop_parse(drv, p, opts, p->defval, NULL, NULL) < 0) {
            qdev_opts_free(drv, opts);
            return -EINVAL;
        }
    }
    /* A variant's own defaults (QEMU's instance_init), e.g. transitional virtio. */
    for (const struct qdev_default *d = drv->defaults; d && d->name; d++) {
        p = qdev_prop_find(drv, d->name);
        if (!p || prop_parse(drv, p, opts, d->value, NULL, NULL) < 0) {
            qdev_opts_free(drv, opts);
            return -EINVAL;
        }
    }
    *ret = opts;
    return 0;
}

void qdev_opts_free(const struct qdev_driver *drv, void *opts)
{
    const struct qdev_prop *p;

    if (!opts)
        return;
    for (size_t i = 0; (p = qdev_prop_at(drv, i)); i++)
        if (p->type == QDEV_PROP_STR || p->type == QDEV_PROP_DRIVE)
            free(*(char **)((char *)opts + p->offset));
    free(opts);
}

int qdev_prop_get(const struct qdev_prop *p, const void *opts, char *buf, size_t len)
{
    const char *field = (const char *)opts + p->offset;

    switch (p->type) {
    case QDEV_PROP_BOOL:
        return snprintf(buf, len, "%s", *(const bool *)field ? "on" : "off");
    case QDEV_PROP_BIT64:
        return snprintf(buf, len, "%s", (*(const uint64_t *)field >> p->bit) & 1 ? "on" : "off");
    case QDEV_PROP_UINT8:
        return snprintf(buf, len, "%u", *(const uint8_t *)field);
    case QDEV_PROP_UINT16:
        return snprintf(buf, len, "%u", *(const uint16_t *)field);
    case QDEV_PROP_UINT32:
        return snprintf(buf, len, "%u", *(const uint32_t *)field);
    case QDEV_PROP_INT32:
        return snprintf(buf, len, "%d", *(const int32_t *)field);
    case QDEV_PROP_STR:
    case QDEV_PROP_DRIVE:
        return snprintf(buf, len, "%s", *(char *const *)field ? *(char *const *)field : "");
    case QDEV_PROP_MAC: {
        const struct qdev_mac *m = (const struct qdev_mac *)field;
        return snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m->a[0], m->a[1], m->a[2],
                        m->a[3], m->a[4], m->a[5]);
    }
    case QDEV_PROP_ONOFFAUTO: {
        enum qdev_on_off_auto v = *(const enum qdev_on_off_auto *)field;
        return snprintf(buf, len, "%s", v == QDEV_ON ? "on" : v == QDEV_OFF ? "off" : "auto");
    }
    case QDEV_PROP_SIZE:
        return snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field);
    case QDEV_PROP_ENUM: {
        int32_t k = *(const int32_t *)field;
        return snprintf(buf, len, "%s", p->choices && k >= 0 ? p->choices[k] : "?");
    }
    case QDEV_PROP_DEVFN: {
        int32_t devfn = *(const int32_t *)field;
        if (devfn < 0)
            return snprintf(buf, len, "-1");
        return snprintf(buf, len, "%02x.%x", PCI_SLOT_OF(devfn), PCI_FUNC_OF(devfn));
    }
    }
    return snprintf(buf, len, "?");
}

/*
 * Option ROMs QEMU 7.2 finds in its data directory on Debian 12 (package ipxe-qemu), by name,
 * with their sizes in bytes. pcid has no ROM contents; it only needs the BAR size.
 */
static const struct {
    const char *name;
    uint32_t bytes;
} builtin_roms[] = {
    {"efi-e1000.rom", 249856},    {"efi-e1000e.rom", 249856},  {"efi-eepro100.rom", 247808},
    {"efi-ne2k_pci.rom", 245760}, {"efi-pcnet.rom", 246272},   {"efi-rtl8139.rom", 249856},
    {"efi-virtio.rom", 249344},   {"efi-vmxnet3.rom", 243712}, {"pxe-e1000.rom", 75264},
    {"pxe-e1000e.rom", 75264},    {"pxe-eepro100.rom", 75264}, {"pxe-ne2k_pci.rom", 74752},
    {"pxe-pcnet.rom", 74752},     {"pxe-rtl8139.rom", 75776},  {"pxe-virtio.rom", 75776},
    {"pxe-vmxnet3.rom", 74240},
};

static int64_t builtin_rom_bytes(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(builtin_roms); i++)
        if (streq(builtin_roms[i].name, name))
            return builtin_roms[i].bytes;
    return -1;
}

int qdev_drive_attach(const struct qdev_env *env, const char *drive, struct error *err)
{
    const char *user = NULL;
    int r = env->drive_lookup ? env->drive_lookup(env->opaque, drive, &user) : -ENOENT;

    if (r == -EBUSY)
        return error_conflict(
            err,
            "Permission conflict on node '%s': permissions 'write' are both required by block "
            "device '/machine/peripheral/%s/virtio-backend' (uses node '%s' as 'root' child) and "
            "unshared by block device '/machine/peripheral/%s/virtio-backend' (uses node '%s' as "
            "'root' child).",
            drive, user ? user : "", drive, env->id ? env->id : "", drive);
    if (r < 0)
        return error_invalid(err, "Drive '%s' not found", drive);
    return 0;
}

int pci_dev_opts_apply_rom(struct pci_device *d, const struct qdev_driver *drv,
                           const struct pci_dev_opts *o, const struct qdev_env *env,
                           struct error *err)
{
    const char *file = o->romfile ? o->romfile : drv->default_romfile;
    uint64_t bytes, size;

    if (!file || !*file)
        return 0;
    if (!o->rombar) {
        /* QEMU loads such a ROM through fw_cfg instead of a BAR: only at start. */
        if (env->hotplug)
            return error_invalid(err,
                                 "Hot-plugged device without ROM bar can't have an option ROM");
        return 0;
    }
    if (builtin_rom_bytes(file) > 0) {
        bytes = (uint64_t)builtin_rom_bytes(file);
    } else {
        /* QEMU's get_image_size(): open the file and seek to its end. */
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);

        if (fd >= 0)
            close(fd);
        if (end < 0)
            return error_invalid(err, "failed to find romfile \"%s\"", file);
        if (end == 0)
            return error_invalid(err, "romfile \"%s\" is empty", file);
        if ((uint64_t)end > 0x80000000ull)
            return error_invalid(err, "romfile \"%s\" too large (size cannot exceed 2 GiB)", file);
        bytes = (uint64_t)end;
    }
    size = pow2ceil(bytes);
    if (o->romsize != UINT32_MAX) {
        if (bytes > o->romsize)
            return error_invalid(err, "romfile \"%s\" (%u bytes) is too large for ROM size %u",
                                 file, (unsigned)bytes, o->romsize);
        size = o->romsize;
    }
    return pci_bar_register(d, PCI_ROM_SLOT, size, 0, NULL, NULL);
}
