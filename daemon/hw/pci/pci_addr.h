/* SPDX-License-Identifier: MIT */
/*
 * pci_addr.h — PCI addresses as users write them.
 *
 * Two forms:
 *  - a device's `addr` property, as QEMU reads it: "SLOT" or "SLOT.FN" in hex, an optional 0x
 *    prefix and leading blanks allowed, slot 0..0x1f, function 0..7, nothing after ("5",
 *    "06.0", "0x07", "1f", "0x3.1"). A JSON integer reaches this parser as its decimal digits,
 *    which are then read as hex (QEMU converts device_add arguments to strings first), so 9 is
 *    slot 9, 16 is slot 0x16 and 31 is refused.
 *  - a BDF, as lspci prints it: "[DOMAIN:]BUS:SLOT.FN" in hex ("0000:00:03.0", "00:03.0").
 * Pure functions, any thread.
 */
#ifndef PCID_HW_PCI_ADDR_H
#define PCID_HW_PCI_ADDR_H

#include <stdint.h>

/*
 * pci_devfn_parse() - parse an `addr` property value.
 * Returns the devfn (0..255), or -EINVAL.
 */
int pci_devfn_parse(const char *s);

/* A BDF: PCI domain (segment), bus number, devfn. */
struct pci_bdf {
    uint16_t domain;
    uint8_t bus;
    uint8_t devfn;
};

/*
 * pci_bdf_parse() - parse "[DDDD:]BB:SS.F" (hex, exactly these field widths or shorter).
 * Returns 0 and fills *out, or -EINVAL.
 */
int pci_bdf_parse(const char *s, struct pci_bdf *out);

/* Length of the buffer pci_bdf_format() needs: "0000:00:00.0" plus NUL. */
#define PCI_BDF_STRLEN 13

/* pci_bdf_format() - "DDDD:BB:SS.F" into buf (PCI_BDF_STRLEN bytes). Returns buf. */
char *pci_bdf_format(char *buf, uint16_t domain, uint8_t bus, uint8_t devfn);

#endif
