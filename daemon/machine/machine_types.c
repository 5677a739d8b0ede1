/* SPDX-License-Identifier: MIT */
/*
 * machine_types.c — the machine types pcid offers, their versions, and the compat properties
 * each version keeps (QEMU's versioned machine types and hw_compat arrays).
 *
 * Versioning rule (QEMU's): a machine type version fixes the guest ABI. When a release changes
 * a device default the guest can see, the new default goes into the device model and the old
 * one into the compat array of the last version that had it; every older version applies the
 * arrays of every newer release. `pc` and `q35` are aliases of the newest version, `pc` the
 * default.
 *
 *   pcid 1.1 — virtio-pci devices are transitional (legacy I/O BAR and modern capabilities;
 *              modern-only behind a PCIe port), as QEMU >= 2.7.
 *   pcid 1.0 — virtio-pci devices are legacy-only (QEMU's hw_compat_2_6: disable-modern=on,
 *              disable-legacy=off), on any bus.
 */
#include <stdio.h>

#include "machine_internal.h"

/* What 1.1 changed, kept by 1.0 and older. */
static const struct machine_compat_prop hw_compat_1_0[] = {
    {"virtio-pci", "disable-modern", "on"},
    {"virtio-pci", "disable-legacy", "off"},
    {0},
};

const struct machine_compat_prop *const machine_compat_1_0[] = {hw_compat_1_0, NULL};
const struct machine_compat_prop *const machine_compat_none[] = {NULL};

extern const struct machine_type machine_pc_1_1, machine_pc_1_0;
extern const struct machine_type machine_q35_1_1, machine_q35_1_0;

/* Newest first within a family, as QEMU lists them. */
static const struct machine_type *const machine_types[] = {
    &machine_pc_1_1,
    &machine_pc_1_0,
    &machine_q35_1_1,
    &machine_q35_1_0,
};

const struct machine_type *machine_type_at(size_t i)
{
    return i < ARRAY_SIZE(machine_types) ? machine_types[i] : NULL;
}

const struct machine_type *machine_type_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(machine_types); i++) {
        const struct machine_type *t = machine_types[i];

        if (!name ? t->is_default : streq(t->name, name) || streq(t->alias, name))
            return t;
    }
    return NULL;
}

const struct machine_type *machine_type_version(const struct machine_type *t, const char *version)
{
    for (size_t i = 0; t && version && i < ARRAY_SIZE(machine_types); i++)
        if (streq(machine_types[i]->family, t->family) && streq(machine_types[i]->version, version))
            return machine_types[i];
    return NULL;
}

void machine_type_versions(const struct machine_type *t, char *buf, size_t size)
{
    size_t n = 0;

    if (size)
        buf[0] = 0;
    for (size_t i = 0; i < ARRAY_SIZE(machine_types) && n < size; i++) {
        if (!streq(machine_types[i]->family, t->family))
            continue;
        n +=
            (size_t)snprintf(buf + n, size - n, "%s'%s'", n ? ", " : "", machine_types[i]->version);
    }
}

const struct machine_compat_prop *machine_compat_at(const struct machine_type *t, size_t i)
{
    for (size_t a = 0; t->compat && t->compat[a]; a++) {
        size_t n = 0;

        while (t->compat[a][n].driver)
            n++;
        if (i < n)
            return &t->compat[a][i];
        i -= n;
    }
    return NULL;
}
