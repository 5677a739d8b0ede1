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

/* QEMU's PCI class description for `class_id` (base<<8|sub), or NULL (hw/pci table). */
const char *marshal_class_desc(uint16_t class_id);

/* query-pci: [{bus, devices: [PciDeviceInfo...]}] for each root bus. */
json_t *marshal_query_pci(const struct machine *m);

/* One PciDeviceInfo. */
json_t *marshal_pci_device(const struct machine *m, const struct pci_device *d);

/* query-pci-slots: one entry per bus with per-slot state. */
json_t *marshal_pci_slots(const struct machine *m, const struct pci_bus *only);

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
