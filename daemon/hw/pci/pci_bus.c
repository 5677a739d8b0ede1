/* SPDX-License-Identifier: MIT */
#include "pci_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pci_bus_new(const char *name, bool express, bool hotpluggable, struct pci_bus **ret)
{
    struct pci_bus *bus = calloc(1, sizeof(*bus));

    if (!bus)
        return -ENOMEM;
    bus->name = strdup(name);
    if (!bus->name) {
        free(bus);
        return -ENOMEM;
    }
    bus->express = express;
    bus->hotpluggable = hotpluggable;
    bus->hotplug_slots = hotpluggable ? 0xffffffffu : 0;
    *ret = bus;
    return 0;
}

void pci_bus_free(struct pci_bus *bus)
{
    if (!bus)
        return;
    free(bus->name);
    free(bus);
}

uint8_t pci_bus_num(const struct pci_bus *bus)
{
    if (!bus->parent)
        return 0;
    return bus->parent->config[PCI_SECONDARY_BUS];
}

struct pci_bus *pci_bus_root(struct pci_bus *bus)
{
    while (bus->parent && bus->parent->bus)
        bus = bus->parent->bus;
    return bus;
}

bool pci_bus_slot_occupied(const struct pci_bus *bus, unsigned slot)
{
    for (unsigned fn = 0; fn < PCI_FUNC_MAX; fn++)
        if (bus->devices[PCI_DEVFN_OF(slot, fn)])
            return true;
    return false;
}

static bool reserved(const struct pci_bus *bus, int devfn)
{
    return bus->reserved_slots & (1u << PCI_SLOT_OF(devfn));
}

enum pci_place_result pci_bus_place(const struct pci_bus *bus, struct pci_place *p)
{
    int devfn = p->devfn;
    struct pci_device *f0;

    p->other = NULL;
    p->other_fn = -1;

    if (devfn < 0) {
        for (devfn = bus->devfn_min; devfn < PCI_DEVFN_MAX; devfn += PCI_FUNC_MAX)
            if (!bus->devices[devfn] && !reserved(bus, devfn))
                break;
        if (devfn >= PCI_DEVFN_MAX)
            return PCI_PLACE_NO_FREE_SLOT;
    } else if (devfn >= PCI_DEVFN_MAX) {
        return PCI_PLACE_NO_FREE_SLOT;
    } else if (reserved(bus, devfn)) {
        return PCI_PLACE_RESERVED;
    } else if (bus->devices[devfn]) {
        p->other = bus->devices[devfn];
        return PCI_PLACE_IN_USE;
    } else if (p->hotplug && PCI_FUNC_OF(devfn) && pci_bus_function0(bus, (uint8_t)devfn)) {
        p->other = pci_bus_function0(bus, (uint8_t)devfn);
        return PCI_PLACE_FN0_PRESENT;
    }
    p->devfn = devfn;

    /* The multifunction rules (QEMU's pci_init_multifunction). */
    f0 = pci_bus_function0(bus, (uint8_t)devfn);
    if (PCI_FUNC_OF(devfn)) {
        if (f0 && !f0->multifunction) {
            p->other = f0;
            return PCI_PLACE_FN0_SINGLE;
        }
        return PCI_PLACE_OK;
    }
    if (p->multifunction)
        return PCI_PLACE_OK;
    for (int fn = 1; fn < PCI_FUNC_MAX; fn++) {
        struct pci_device *o = bus->devices[PCI_DEVFN_OF(PCI_SLOT_OF(devfn), fn)];
        if (o) {
            p->other = o;
            p->other_fn = fn;
            return PCI_PLACE_FN0_POPULATED;
        }
    }
    return PCI_PLACE_OK;
}

int pci_bus_attach(struct pci_bus *bus, struct pci_device *d, uint8_t devfn)
{
    if (bus->devices[devfn])
        return -EBUSY;
    d->bus = bus;
    d->devfn = devfn;
    /* Publish: a vCPU that loads the pointer sees the device fully built. */
    __atomic_store_n(&bus->devices[devfn], d, __ATOMIC_RELEASE);
    return 0;
}

void pci_bus_detach(struct pci_device *d)
{
    struct pci_bus *bus = d->bus;

    if (!bus)
        return;
    for (int pin = 0; pin < PCI_NUM_PINS; pin++)
        pci_dev_set_irq(d, pin, 0);
    if (bus->devices[d->devfn] == d)
        __atomic_store_n(&bus->devices[d->devfn], NULL, __ATOMIC_RELEASE);
    /* d->bus stays: a vCPU may still be inside the device until the grace period ends. */
}

void pci_bus_map_changed(struct pci_bus *bus)
{
    struct pci_bus *root = pci_bus_root(bus);

    if (root->ops && root->ops->map_changed)
        root->ops->map_changed(root->opaque);
}

void pci_bus_intx_change(struct pci_bus *bus, struct pci_device *d, int pin, int change)
{
    /* Walk up through bridges, swizzling the pin at each (PCI-to-PCI Bridge 1.2 §9.1). */
    while (bus->parent && bus->parent->bus) {
        pin = pci_swizzle(PCI_SLOT_OF(d->devfn), pin);
        d = bus->parent;
        bus = d->bus;
    }
    if (bus->ops && bus->ops->intx_change)
        bus->ops->intx_change(bus->opaque, d, pin, change);
}

void pci_bus_msi_deliver(struct pci_bus *bus, struct pci_device *d, uint64_t addr, uint32_t data)
{
    struct pci_bus *root = pci_bus_root(bus);

    if (root->ops && root->ops->msi_deliver)
        root->ops->msi_deliver(root->opaque, d, addr, data);
}
