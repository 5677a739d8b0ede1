/* SPDX-License-Identifier: MIT */
/*
 * pci_info.h — reading a function's config space for people: class names, capability names,
 * sizes and decoded fields. Pure reads of config space; safe wherever a config read is.
 */
#ifndef PCID_HW_PCI_INFO_H
#define PCID_HW_PCI_INFO_H

#include "pci.h"
#include "pci_cap.h"

/* QEMU's description of a class ("Ethernet controller") for base<<8|sub, or NULL. */
const char *pci_class_desc(uint16_t class_id);

/* lspci's name of a capability ("MSI-X", "Vendor Specific", "Express", "Advanced Error
 * Reporting"...), "Unknown" if pcid does not know it. */
const char *pci_cap_name(uint16_t id, bool extended);

/* Bytes the capability at `e` occupies, from its ID and its own length/flag fields. */
unsigned pci_cap_size(const struct pci_device *d, const struct pci_cap_entry *e);

/* One decoded field of a capability. */
struct pci_cap_field {
    const char *name;
    enum { PCI_FIELD_UINT, PCI_FIELD_BOOL, PCI_FIELD_STR } kind;
    uint64_t u;
    const char *s;
};

#define PCI_CAP_FIELDS_MAX 24

/*
 * pci_cap_decode() - the fields of capability `e` worth showing (MSI-X table size and BIRs,
 * virtio structure type/BAR/offset/length, PM version, Express type, ...). Returns the number
 * written to `out` (at most `max`); 0 for capabilities without a decoder.
 */
int pci_cap_decode(const struct pci_device *d, const struct pci_cap_entry *e,
                   struct pci_cap_field *out, int max);

#endif
