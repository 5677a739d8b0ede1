/* SPDX-License-Identifier: MIT */
#include "pci_addr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "pci.h"

int pci_devfn_parse(const char *s)
{
    unsigned int slot, fn;
    int n = 0;

    if (!s)
        return -EINVAL;
    /* QEMU's rule (set_pci_devfn): "%x.%x" or "%x", then the string must end. */
    if (sscanf(s, "%x.%x%n", &slot, &fn, &n) != 2) {
        fn = 0;
        n = 0;
        if (sscanf(s, "%x%n", &slot, &n) != 1)
            return -EINVAL;
    }
    if (s[n] != '\0' || fn > 7 || slot > 31)
        return -EINVAL;
    return (int)PCI_DEVFN_OF(slot, fn);
}

/* Parse 1..maxdig hex digits at *p; advance *p. Returns the value or -1. */
static long hexfield(const char **p, int maxdig)
{
    long v = 0;
    int n = 0;

    while (isxdigit((unsigned char)**p) && n < maxdig) {
        int c = tolower((unsigned char)**p);
        v = v * 16 + (isdigit(c) ? c - '0' : c - 'a' + 10);
        (*p)++;
        n++;
    }
    if (!n || isxdigit((unsigned char)**p))
        return -1;
    return v;
}

int pci_bdf_parse(const char *s, struct pci_bdf *out)
{
    const char *p = s;
    long a, b, slot, fn, dom = 0, bus;

    if (!s)
        return -EINVAL;
    a = hexfield(&p, 4);
    if (a < 0 || *p != ':')
        return -EINVAL;
    p++;
    b = hexfield(&p, 2);
    if (b < 0)
        return -EINVAL;
    if (*p == ':') {
        p++;
        dom = a;
        bus = b;
        slot = hexfield(&p, 2);
    } else {
        if (a > 0xff)
            return -EINVAL;
        bus = a;
        slot = b;
    }
    if (slot < 0 || slot > 0x1f || *p != '.')
        return -EINVAL;
    p++;
    fn = hexfield(&p, 1);
    if (fn < 0 || fn > 7 || *p || bus > 0xff)
        return -EINVAL;
    out->domain = (uint16_t)dom;
    out->bus = (uint8_t)bus;
    out->devfn = PCI_DEVFN_OF(slot, fn);
    return 0;
}

char *pci_bdf_format(char *buf, uint16_t domain, uint8_t bus, uint8_t devfn)
{
    snprintf(buf, PCI_BDF_STRLEN, "%04x:%02x:%02x.%x", domain, bus, PCI_SLOT_OF(devfn),
             PCI_FUNC_OF(devfn));
    return buf;
}
