/* SPDX-License-Identifier: MIT */
/*
 * description.h — the machine description: what a restart needs to rebuild the same machine,
 * as two JSON documents kept apart (docs/state.md has the format):
 *   guest side, machine.json: machine type and version, and every user-created device with its
 *     driver, id, bus and address, the properties the user gave (as given), and the values the
 *     model chose that a guest can see ("pinned": a NIC's MAC), so the device comes back
 *     identical and reports the same properties;
 *   host side, backends.json: the block backends (node name, driver, size, ...).
 * Built-in functions are not listed: the machine type creates them.
 *
 * Parsing validates everything a restore needs before anything is applied: the format name and
 * version (a newer version is refused), the machine type and version, every driver name, every
 * field's type, addresses, and that no unexpected member is present. Property values are
 * checked when the devices are created (device_add's own rules).
 *
 * Threads: build under the control lock; parse anywhere. Errors: -EINVAL (or -ENOMEM) with
 * `err` set to a sentence naming the element ("devices[2].addr: ..."); the caller prefixes the
 * file name.
 */
#ifndef PCID_STATE_DESCRIPTION_H
#define PCID_STATE_DESCRIPTION_H

#include <jansson.h>
#include <stddef.h>

#include "../machine/machine.h"

#define DESCRIPTION_FORMAT   "pcid-machine"
#define DESCRIPTION_VERSION  1
#define BACKENDS_FORMAT      "pcid-backends"
#define BACKENDS_VERSION     1
#define DESCRIPTION_MAX_SIZE (16u << 20) /* bytes of machine.json or backends.json */

/* description_build() - the guest side of `m` (machine.json's document). NULL: out of memory. */
json_t *description_build(const struct machine *m);

/* description_build_backends() - the host side of `m` (backends.json's document). */
json_t *description_build_backends(const struct machine *m);

/* One device of a parsed description. */
struct description_dev {
    const struct qdev_driver *drv;
    char *id;                   /* NULL: no id */
    char *bus;                  /* where it is: "pci.0" */
    int devfn;                  /* where it is */
    struct machine_prop *props; /* as the user gave them (bus, addr included if given) */
    size_t n_props;
    struct machine_prop *pins; /* values the model chose (a MAC) */
    size_t n_pins;
};

struct description {
    const struct machine_type *type;
    struct description_dev *devs;
    size_t n;
};

/*
 * description_parse() - parse and validate a machine.json document of `len` bytes.
 * Returns 0 and *ret (free with description_free()), or -EINVAL/-ENOMEM with `err` set.
 */
int description_parse(const char *text, size_t len, struct description **ret, struct error *err);

/* description_free() - free a parsed description. NULL is fine. */
void description_free(struct description *d);

/*
 * description_parse_backends() - parse and validate a backends.json document. *ret receives
 * an array of blockdev-add argument objects, in order. Returns 0, or -EINVAL/-ENOMEM with
 * `err` set.
 */
int description_parse_backends(const char *text, size_t len, json_t **ret, struct error *err);

/* The devfn as an `addr` property value: "SS.F" in hex (buf of 8 bytes). Returns buf. */
char *description_addr(char buf[8], uint8_t devfn);

#endif
