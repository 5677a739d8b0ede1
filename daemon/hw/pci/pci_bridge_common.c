/* SPDX-License-Identifier: MIT */
/*
 * pci_bridge_common.c — the resource-reserve capability of QEMU's bridges and ports. See
 * pci_bridge_common.h.
 */
#include "pci_bridge_common.h"

#include "pci_cap.h"

#define RESERVE_CAP_LEN  32 /* QEMU's PCIBridgeQemuCap */
#define RESERVE_CAP_TYPE 1  /* REDHAT_PCI_CAP_RESOURCE_RESERVE */
#define RESERVE_BUS      4
#define RESERVE_IO       8
#define RESERVE_MEM      16
#define RESERVE_PREF32   20
#define RESERVE_PREF64   24
#define GIB              (1ull << 30)

int pci_bridge_internal(struct error *err, const struct qdev_driver *drv, const char *what)
{
    return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "%s: %s", drv->name, what);
}

int pci_reserve_cap_init(struct pci_device *d, const struct pci_reserve_opts *o,
                         const struct qdev_driver *drv, struct error *err)
{
    uint8_t *c;
    int off;

    if (o->pref32 != PCI_RESERVE_UNSET && o->pref64 != PCI_RESERVE_UNSET)
        return error_invalid(err, "PCI resource reserve cap: PREF32 and PREF64 conflict");
    if (o->mem != PCI_RESERVE_UNSET && o->mem >= 4 * GIB)
        return error_invalid(err, "PCI resource reserve cap: mem-reserve must be less than 4G");
    if (o->pref32 != PCI_RESERVE_UNSET && o->pref32 >= 4 * GIB)
        return error_invalid(err, "PCI resource reserve cap: pref32-reserve  must be less than 4G");
    if (o->bus == UINT32_MAX && o->io == PCI_RESERVE_UNSET && o->mem == PCI_RESERVE_UNSET &&
        o->pref32 == PCI_RESERVE_UNSET && o->pref64 == PCI_RESERVE_UNSET)
        return 0;
    off = pci_cap_add(d, PCI_CAP_ID_VNDR, 0, RESERVE_CAP_LEN);
    if (off < 0)
        return pci_bridge_internal(err, drv, "no room for the resource reserve capability");
    c = d->config + off;
    c[PCI_CAP_FLAGS] = RESERVE_CAP_LEN;
    c[PCI_CAP_FLAGS + 1] = RESERVE_CAP_TYPE;
    le_set32(c + RESERVE_BUS, o->bus);
    le_set64(c + RESERVE_IO, o->io);
    le_set32(c + RESERVE_MEM, (uint32_t)o->mem);
    le_set32(c + RESERVE_PREF32, (uint32_t)o->pref32);
    le_set64(c + RESERVE_PREF64, o->pref64);
    return 0;
}
