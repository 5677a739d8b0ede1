/* SPDX-License-Identifier: MIT */
/*
 * hotplug.c — the buses behind bridges and the hotplug controllers that answer for them, as
 * QEMU 7.2 arranges them on pc and q35:
 *   - a bridge or port cold-plugged with the machine: ACPI PCI hotplug (every slot; device_del
 *     waits for the guest's eject, a reset completes it), except a root port with hotplug=off
 *     — unless acpi-pci-hotplug-with-bridge-support is off (machine_set_global), when it keeps
 *     its own controller as a hot-plugged one does;
 *   - a hot-plugged pcie-root-port: its native PCIe slot; a hot-plugged pci-bridge (shpc=on) or
 *     pcie-pci-bridge: its SHPC (slots 1-31); a hot-plugged pci-bridge with shpc=off: none.
 * Devices cold-plugged behind a native slot or an SHPC are announced to it as present (QEMU
 * calls the plug handlers for them too); behind ACPI they are not.
 * The machine type's own controller (pc's ACPI on pci.0) is called for ACPI buses as well; it
 * acts on the buses it knows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hw/pci/pci_bridge.h"
#include "../hw/pci/pcie.h"
#include "../hw/pci/shpc.h"
#include "machine_internal.h"

int machine_bridge_bus_name(struct machine *m, struct pci_device *bridge)
{
    struct pci_bus *sec = bridge->bridge->sec;
    char name[32];

    if (bridge->id && *bridge->id)
        return pci_bus_set_name(sec, bridge->id);
    /* QEMU numbers buses without a name per bus type, from 0, whatever the root is called. */
    if (sec->express)
        snprintf(name, sizeof(name), "pcie.%u", m->auto_bus_pcie++);
    else
        snprintf(name, sizeof(name), "pci.%u", m->auto_bus_pci++);
    return pci_bus_set_name(sec, name);
}

void machine_bridge_bus_add(struct machine *m, struct pci_device *bridge)
{
    struct pci_bridge *br = bridge->bridge;
    struct pci_bus *sec = br->sec;
    enum pci_hotplug hp = PCI_HOTPLUG_NONE;

    if (br->slot && !br->slot->hotplug)
        hp = PCI_HOTPLUG_NONE;
    else if (!bridge->hotplugged && m->acpi_bridge_hotplug)
        hp = PCI_HOTPLUG_ACPI;
    else if (br->slot)
        hp = PCI_HOTPLUG_PCIE;
    else if (br->shpc)
        hp = PCI_HOTPLUG_SHPC;
    sec->hotplug = hp;
    sec->hotpluggable = hp != PCI_HOTPLUG_NONE;
    sec->hotplug_slots = hp == PCI_HOTPLUG_NONE   ? 0
                         : hp == PCI_HOTPLUG_SHPC ? 0xfffffffeu /* SHPC slots 1-31 */
                                                  : 0xffffffffu;
    sec->port = br->slot != NULL;
    sec->ext_config = sec->express && bridge->bus->ext_config;
    m->buses[m->n_buses++] = sec;
    pci_bus_add_child(bridge->bus, sec);
}

void machine_bridge_bus_remove(struct machine *m, struct pci_device *bridge)
{
    struct pci_bus *sec = bridge->bridge->sec;

    for (unsigned i = 0; i < m->n_buses; i++) {
        if (m->buses[i] == sec) {
            memmove(&m->buses[i], &m->buses[i + 1], (m->n_buses - i - 1) * sizeof(m->buses[0]));
            m->n_buses--;
            break;
        }
    }
    if (bridge->bus)
        pci_bus_remove_child(bridge->bus, sec);
}

void machine_port_link_changed(struct pci_bus *bus, uint8_t devfn)
{
    struct pci_device *port = bus ? bus->parent : NULL;

    if (devfn || !port || !port->bridge || !port->bridge->slot)
        return;
    pthread_mutex_lock(&port->lock);
    pcie_port_sync_link(port);
    pthread_mutex_unlock(&port->lock);
}

void machine_hotplug_plugged(struct machine *m, struct pci_device *d)
{
    struct pci_bus *bus = d->bus;
    struct pci_device *up = bus->parent;

    switch (bus->hotplug) {
    case PCI_HOTPLUG_ACPI:
        if (!d->hotplugged)
            break; /* present at boot: no event (QEMU's acpi_pcihp_device_plug_cb) */
        /* QEMU's ACPI hotplug powers a PCIe slot before it tells the guest. */
        if (up && up->bridge && up->bridge->slot) {
            pthread_mutex_lock(&up->lock);
            pcie_slot_enable_power(up->bridge->slot);
            pthread_mutex_unlock(&up->lock);
        }
        if (m->type->hotplug_plug)
            m->type->hotplug_plug(m, d);
        break;
    case PCI_HOTPLUG_PCIE:
        pthread_mutex_lock(&up->lock);
        pcie_slot_plug(up->bridge->slot, d, d->hotplugged);
        pthread_mutex_unlock(&up->lock);
        break;
    case PCI_HOTPLUG_SHPC:
        pthread_mutex_lock(&up->lock);
        shpc_plug(up->bridge->shpc, d->devfn, d->hotplugged);
        pthread_mutex_unlock(&up->lock);
        break;
    case PCI_HOTPLUG_NONE:
        break;
    }
}

int machine_plug_check(struct machine *m, struct pci_bus *bus, uint8_t devfn, struct error *err)
{
    char msg[160];

    (void)m;
    if (bus->hotplug == PCI_HOTPLUG_SHPC &&
        shpc_check_slot(bus->parent->bridge->shpc, devfn, msg, sizeof(msg)) < 0)
        return error_invalid(err, "%s", msg);
    return 0;
}

/* Every slot of `bus`, for a PCIe slot that lost power with its devices. */
static void eject_bus(struct machine *m, struct pci_bus *bus)
{
    for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++)
        if (pci_bus_slot_occupied(bus, slot))
            machine_eject_slot(m, bus, slot);
}

static int busy(struct error *err)
{
    return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_CONFLICT,
                      "Hot-unplug failed: guest is busy (power indicator blinking)");
}

int machine_unplug_request(struct machine *m, struct machine_dev *md, struct error *err)
{
    struct pci_device *d = md->pci;
    struct pci_bus *bus = d->bus;
    struct pci_device *up = bus->parent;
    enum pcie_unplug pr;
    enum shpc_unplug sr;

    switch (bus->hotplug) {
    case PCI_HOTPLUG_PCIE:
        pthread_mutex_lock(&up->lock);
        pr = pcie_slot_unplug_request(up->bridge->slot, d);
        pthread_mutex_unlock(&up->lock);
        if (pr == PCIE_UNPLUG_BUSY)
            return busy(err);
        md->unplug_requested_ns = monotonic_ns();
        if (pr == PCIE_UNPLUG_FUNCTION) {
            machine_remove_function(m, md);
            return 1;
        }
        if (pr == PCIE_UNPLUG_SLOT) {
            eject_bus(m, bus);
            return 1;
        }
        break;
    case PCI_HOTPLUG_SHPC:
        pthread_mutex_lock(&up->lock);
        sr = shpc_unplug_request(up->bridge->shpc, d->devfn);
        pthread_mutex_unlock(&up->lock);
        md->unplug_requested_ns = monotonic_ns();
        if (sr == SHPC_UNPLUG_NOW) {
            machine_eject_slot(m, bus, PCI_SLOT_OF(d->devfn));
            return 1;
        }
        break;
    case PCI_HOTPLUG_ACPI:
    case PCI_HOTPLUG_NONE:
        break;
    }
    if (bus->hotplug == PCI_HOTPLUG_ACPI || bus->hotplug == PCI_HOTPLUG_NONE)
        md->unplug_requested_ns = monotonic_ns();
    d->unplug_pending = true;
    m->generation++;
    if (bus->hotplug == PCI_HOTPLUG_ACPI && m->type->hotplug_unplug_request)
        m->type->hotplug_unplug_request(m, d);
    return 0;
}

/* QEMU's qapi_bool_parse. */
static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true", "y"}, *const no[] = {"off", "no",
                                                                                "false", "n"};

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (streq(v, yes[i]) || streq(v, no[i])) {
            *out = streq(v, yes[i]);
            return 0;
        }
    }
    return -EINVAL;
}

int machine_set_global(struct machine *m, const char *spec, struct error *err)
{
    static const char prop[] = "acpi-pci-hotplug-with-bridge-support";
    const char *dot = strchr(spec, '.'), *eq = dot ? strchr(dot, '=') : NULL;
    size_t dlen = dot ? (size_t)(dot - spec) : 0, plen = eq ? (size_t)(eq - dot - 1) : 0;
    bool ich9, piix4, val;

    if (!dot || !eq || !dlen || !plen)
        return error_invalid(err, "--global takes DRIVER.PROPERTY=VALUE, not '%s'", spec);
    ich9 = dlen == 8 && !strncmp(spec, "ICH9-LPC", dlen);
    piix4 = dlen == 8 && !strncmp(spec, "PIIX4_PM", dlen);
    if (!ich9 && !piix4)
        return error_invalid(err,
                             "global %.*s.%.*s: pcid sets globals of ICH9-LPC and PIIX4_PM only",
                             (int)dlen, spec, (int)plen, dot + 1);
    if (plen != sizeof(prop) - 1 || strncmp(dot + 1, prop, plen) != 0)
        return error_invalid(err, "can't apply global %s: Property '%.*s.%.*s' not found", spec,
                             (int)dlen, spec, (int)plen, dot + 1);
    if (parse_bool(eq + 1, &val) < 0)
        return error_invalid(err, "can't apply global %s: Parameter '%s' expects 'on' or 'off'",
                             spec, prop);
    if (ich9 != streq(m->type->family, "q35"))
        return 1; /* that chipset function is not in this machine */
    m->acpi_bridge_hotplug = val;
    return 0;
}
