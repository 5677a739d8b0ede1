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
    bus->ext_config = express;
    bus->hotpluggable = hotpluggable;
    bus->hotplug = hotpluggable ? PCI_HOTPLUG_ACPI : PCI_HOTPLUG_NONE;
    bus->hotplug_slots = hotpluggable ? 0xffffffffu : 0;
    *ret = bus;
    return 0;
}

int pci_bus_set_name(struct pci_bus *bus, const char *name)
{
    char *n = strdup(name);

    if (!n)
        return -ENOMEM;
    free(bus->name);
    bus->name = n;
    return 0;
}

void pci_bus_add_child(struct pci_bus *parent, struct pci_bus *child)
{
    child->sibling = parent->children;
    __atomic_store_n(&parent->children, child, __ATOMIC_RELEASE);
}

void pci_bus_remove_child(struct pci_bus *parent, struct pci_bus *child)
{
    for (struct pci_bus **pp = &parent->children; *pp; pp = &(*pp)->sibling) {
        if (*pp == child) {
            /* child->sibling stays: a vCPU standing on child still finds the rest. */
            __atomic_store_n(pp, child->sibling, __ATOMIC_RELEASE);
            return;
        }
    }
}

bool pci_bridge_forwards(const struct pci_device *br, unsigned num)
{
    if (le_load(br->config + PCI_BRIDGE_CONTROL, 2) & PCI_BRIDGE_CTL_BUS_RESET)
        return false; /* QEMU does not walk a bus held in reset */
    return ld8(br->config + PCI_SECONDARY_BUS) <= num &&
           num <= ld8(br->config + PCI_SUBORDINATE_BUS);
}

struct pci_bus *pci_bus_find_nr(struct pci_bus *bus, unsigned num)
{
    if (!bus)
        return NULL;
    if (pci_bus_num(bus) == num)
        return bus;
    if (bus->parent && !pci_bridge_forwards(bus->parent, num))
        return NULL;
    /* Each step goes one level down, so a tree of at most 256 levels ends the loop. */
    for (int depth = 0; bus && depth < 256; depth++) {
        struct pci_bus *sec, *next = NULL;

        for (sec = __atomic_load_n(&bus->children, __ATOMIC_ACQUIRE); sec;
             sec = __atomic_load_n(&sec->sibling, __ATOMIC_ACQUIRE)) {
            if (pci_bus_num(sec) == num)
                return sec;
            if (sec->parent && pci_bridge_forwards(sec->parent, num)) {
                next = sec;
                break;
            }
        }
        bus = next;
    }
    return NULL;
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
    return ld8(bus->parent->config + PCI_SECONDARY_BUS);
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
        if (__atomic_load_n(&bus->devices[PCI_DEVFN_OF(slot, fn)], __ATOMIC_ACQUIRE))
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
    } else if (p->hotplug && pci_bus_function0(bus, (uint8_t)devfn)) {
        /* devfn is free, so this "function 0" is another function (QEMU checks the hotplugged
         * device against pci_get_function_0) */
        p->other = pci_bus_function0(bus, (uint8_t)devfn);
        return PCI_PLACE_FN0_PRESENT;
    }
    p->devfn = devfn;

    /* The multifunction rules (QEMU's pci_init_multifunction): by slot, on any bus. */
    f0 = bus->devices[PCI_DEVFN_OF(PCI_SLOT_OF(devfn), 0)];
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

void pci_bus_eject(struct pci_bus *bus, unsigned slot)
{
    struct pci_bus *root = pci_bus_root(bus);

    if (root->ops && root->ops->eject)
        root->ops->eject(root->opaque, bus, slot);
}
