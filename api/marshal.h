/* SPDX-License-Identifier: MIT */
/*
 * marshal.h — core objects to JSON in the shapes QMP and REST return: PciInfo / PciDeviceInfo
 * (query-pci, QEMU's schema), slot lists (query-pci-slots), capability lists
 * (query-pci-capabilities), and the lspci -x text of a config space.
 *
 * Every function returns a new reference (or a malloc'd string), NULL on allocation failure.
 * Call under the control lock.
 */
#ifndef PCID_API_MARSHAL_H
#define PCID_API_MARSHAL_H

#include <jansson.h>

#include "../daemon/machine/machine.h"
#include "../daemon/machine/resources.h"

/* QEMU's PCI class description for `class_id` (base<<8|sub), or NULL (hw/pci table). */
const char *marshal_class_desc(uint16_t class_id);

/* query-pci: [{bus, devices: [PciDeviceInfo...]}] for each root bus. */
json_t *marshal_query_pci(const struct machine *m);

/* One PciDeviceInfo. */
json_t *marshal_pci_device(const struct machine *m, const struct pci_device *d);

/* query-pci-slots: one entry per bus with per-slot state. */
json_t *marshal_pci_slots(const struct machine *m, const struct pci_bus *only);

/* The functions that use an INTx pin, with the route of that pin (marshal_res.c). */
struct marshal_intx_users {
    struct {
        const struct pci_device *d;
        struct machine_intx_route route;
    } * v;
    size_t n;
};

/* marshal_intx_users() - collect them (free with marshal_intx_users_free). 0 or -ENOMEM. */
int marshal_intx_users(const struct machine *m, struct marshal_intx_users *out);
void marshal_intx_users_free(struct marshal_intx_users *u);

/* marshal_intx_sharers() - how many of `u` outside slot `slot` of `bus` drive PIRQ `link`. */
unsigned marshal_intx_sharers(const struct marshal_intx_users *u, const struct pci_bus *bus,
                              unsigned slot, unsigned link);

/* "INTA".."INTD" for pin 0-3; "PIRQA".. for a link index (buf of 8 bytes). */
const char *marshal_pin_name(int pin);
void marshal_pirq_name(unsigned link, char buf[8]);

/*
 * marshal_intx_routes() - the route of each pin INTA-INTD of slot `slot` of `bus`:
 * [{pin, root-slot, root-pin, bridges, pirq, irq (null: route disabled), gsi (null: none),
 * shared-with: [{bdf, id, driver, pin}]}]; `u` (may be NULL) names the other functions on
 * the same PIRQ line.
 */
json_t *marshal_intx_routes(const struct machine *m, const struct pci_bus *bus, unsigned slot,
                            const struct marshal_intx_users *u);

/*
 * marshal_bus_windows() - the windows of `bus`: [{type io|mem|prefetch, assigned, 64bit
 * (prefetch), and when assigned base, limit, size, used, free, largest-free,
 * largest-free-base}], in bytes.
 */
json_t *marshal_bus_windows(const struct machine *m, const struct pci_bus *bus);

/* query-pci-capabilities: [{cap-id, name, offset, size, extended, fields}]. */
json_t *marshal_pci_capabilities(const struct pci_device *d);

/* A REST device summary: {id, bdf, driver, bus, slot, function, pending-unplug, ...}. */
json_t *marshal_device_summary(const struct machine *m, const struct machine_dev *md);

/*
 * marshal_config_text() - the device's config space as `lspci -xxx` prints it (`-xxxx` for a
 * 4 KiB space): a header line "BB:SS.F <class>: Device VVVV:DDDD", then "OO: xx xx ..." rows.
 * `lspci -F` reads it back. Returns a malloc'd string.
 */
char *marshal_config_text(const struct machine *m, const struct machine_dev *md);

#endif
