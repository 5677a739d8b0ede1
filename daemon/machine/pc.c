/* SPDX-License-Identifier: MIT */
/*
 * pc.c — the `pc` machine: i440FX + PIIX3, as QEMU 7.2's `-M pc -nodefaults`.
 *
 * Root bus pci.0 with ACPI PCI hotplug (every slot accepts hot-plug; slots 0 and 1 hold the
 * built-in functions): 00:00.0 i440FX host bridge, 00:01.0 PIIX3 ISA bridge (multifunction),
 * 00:01.1 PIIX3 IDE, 00:01.3 PIIX4 PM (ACPI, SMBus, and the hotplug controller's GPE).
 *
 * Interrupts: a function's INTx pin goes to PIRQ link (slot - 1 + pin) mod 4 (QEMU's
 * pci_slot_get_pirq for the i440FX), and the link to the IRQ its PIIX3 route control register
 * (0x60 + link) names, unless bit 7 disables it. The SCI of the hotplug controller is IRQ 9.
 */
#include <errno.h>
#include <stdlib.h>

#include "../hw/pci/acpi_pcihp.h"
#include "../hw/pci/i440fx.h"
#include "machine_internal.h"

#define PIIX3_PIRQRC   0x60
#define PIIX3_PIRQ_OFF 0x80 /* route control: routing disabled */
#define PC_PIRQ_LINKS  4

struct pc {
    struct machine *m;
    struct acpi_pcihp hp;
    struct pci_device *piix3;
    int pirq_count[PC_PIRQ_LINKS]; /* asserted INTx per link */
};

/* Non-PCI buses of QEMU's pc, newest first: QEMU's search for a bus of a type finds the most
 * recently created one (ide.1 before ide.0). */
static const struct machine_foreign_bus pc_foreign_buses[] = {
    {"isa.0", "ISA"},
    {"ide.1", "IDE"},
    {"ide.0", "IDE"},
    {0},
};

static int pirq_link(const struct pci_device *d, int pin)
{
    return (int)((PCI_SLOT_OF(d->devfn) + PC_PIRQ_LINKS - 1 + (unsigned)pin) % PC_PIRQ_LINKS);
}

/* The IRQ a PIRQ link is routed to now, or -1. */
static int pirq_irq(struct pc *pc, int link)
{
    uint8_t rc = ld8(pc->piix3->config + PIIX3_PIRQRC + link);

    return (rc & PIIX3_PIRQ_OFF) || rc >= 16 ? -1 : rc;
}

static void pc_intx_route(const struct machine *m, unsigned slot, int pin,
                          struct machine_intx_link *out)
{
    struct pc *pc = m->priv;
    int link = (int)((slot + PC_PIRQ_LINKS - 1 + (unsigned)pin) % PC_PIRQ_LINKS);

    *out = (struct machine_intx_link){.link = (unsigned)link, .irq = pirq_irq(pc, link), .gsi = -1};
}

static void pc_intx_change(void *opaque, struct pci_device *d, int pin, int change)
{
    struct pc *pc = opaque;
    int link = pirq_link(d, pin), irq = pirq_irq(pc, link);
    int before = __atomic_fetch_add(&pc->pirq_count[link], change, __ATOMIC_ACQ_REL);
    int after = before + change;

    if (irq >= 0 && (before == 0) != (after == 0))
        machine_irq_set(pc->m, (unsigned)irq, after != 0);
}

static void pc_map_changed(void *opaque)
{
    struct pc *pc = opaque;

    if (pc->m->plat && pc->m->plat->map_changed)
        pc->m->plat->map_changed(pc->m->plat_opaque);
}

static void pc_msi(void *opaque, struct pci_device *d, uint64_t addr, uint32_t data)
{
    struct pc *pc = opaque;

    (void)d;
    if (pc->m->plat && pc->m->plat->msi)
        pc->m->plat->msi(pc->m->plat_opaque, addr, data);
}

static void pc_bus_eject(void *opaque, struct pci_bus *bus, unsigned slot)
{
    struct pc *pc = opaque;

    if (pc->m->plat && pc->m->plat->eject)
        pc->m->plat->eject(pc->m->plat_opaque, bus, slot);
}

static const struct pci_bus_ops pc_bus_ops = {
    .map_changed = pc_map_changed,
    .intx_change = pc_intx_change,
    .msi_deliver = pc_msi,
    .eject = pc_bus_eject,
};

static void hp_eject(void *opaque, unsigned slot)
{
    struct pc *pc = opaque;

    pc_bus_eject(pc, machine_root_bus(pc->m), slot);
}

static void hp_sci(void *opaque, int level)
{
    struct pc *pc = opaque;

    machine_irq_set(pc->m, ACPI_SCI_IRQ, level);
}

static const struct acpi_pcihp_ops pc_hp_ops = {.eject = hp_eject, .sci = hp_sci};

static int pc_init(struct machine *m)
{
    static int (*const ctor[])(struct pci_device **) = {i440fx_host_new, piix3_isa_new,
                                                        piix3_ide_new, piix4_pm_new};
    static const uint8_t devfn[] = {PCI_DEVFN_OF(0, 0), PCI_DEVFN_OF(1, 0), PCI_DEVFN_OF(1, 1),
                                    PCI_DEVFN_OF(1, 3)};
    struct pc *pc = calloc(1, sizeof(*pc));
    struct pci_bus *root = machine_root_bus(m);

    if (!pc)
        return -ENOMEM;
    pc->m = m;
    m->priv = pc;
    for (size_t i = 0; i < ARRAY_SIZE(ctor); i++) {
        struct pci_device *d;
        int r = ctor[i](&d);

        if (r < 0)
            return r;
        if (i == 1)
            pc->piix3 = d;
        r = machine_add_builtin(m, d, devfn[i]);
        if (r < 0)
            return r;
    }
    root->ops = &pc_bus_ops;
    root->opaque = pc;
    /* Slots 0 and 1 hold the chipset; QEMU reports the rest removable (0xfffffffc). */
    acpi_pcihp_init(&pc->hp, ~0x3u, &pc_hp_ops, pc);
    if (machine_add_io(m, ACPI_PCIHP_BASE, ACPI_PCIHP_LEN, &acpi_pcihp_io_ops, &pc->hp) < 0 ||
        machine_add_io(m, ACPI_GPE0_BASE, ACPI_GPE0_LEN, &acpi_gpe_io_ops, &pc->hp) < 0)
        return -ENOSPC;
    return 0;
}

static void pc_fini(struct machine *m)
{
    free(m->priv);
    m->priv = NULL;
}

static void pc_hotplug_plug(struct machine *m, struct pci_device *d)
{
    struct pc *pc = m->priv;

    if (d->bus == machine_root_bus(m))
        acpi_pcihp_plug(&pc->hp, PCI_SLOT_OF(d->devfn));
}

static void pc_hotplug_unplug_request(struct machine *m, struct pci_device *d)
{
    struct pc *pc = m->priv;

    if (d->bus == machine_root_bus(m))
        acpi_pcihp_unplug_request(&pc->hp, PCI_SLOT_OF(d->devfn));
}

static void pc_hotplug_slot_gone(struct machine *m, struct pci_bus *bus, unsigned slot)
{
    struct pc *pc = m->priv;

    if (bus == machine_root_bus(m))
        acpi_pcihp_slot_gone(&pc->hp, slot);
}

static void pc_reset(struct machine *m)
{
    struct pc *pc = m->priv;

    acpi_pcihp_reset(&pc->hp);
}

/* The versions differ only in the compat properties they apply (machine_types.c). */
#define PC_MACHINE(_name, _alias, _version, _default, _compat)                                     \
    {                                                                                              \
        .name = _name, .alias = _alias, .desc = "Standard PC (i440FX + PIIX, 1996)",               \
        .family = "pc", .version = _version, .is_default = _default, .compat = _compat,            \
        .root_bus = "pci.0", .root_express = false, .root_hotpluggable = true,                     \
        .foreign_buses = pc_foreign_buses, .conf1 = true, .init = pc_init, .fini = pc_fini,        \
        .hotplug_plug = pc_hotplug_plug, .hotplug_unplug_request = pc_hotplug_unplug_request,      \
        .hotplug_slot_gone = pc_hotplug_slot_gone, .reset = pc_reset, .intx_route = pc_intx_route, \
        .pirq_links = PC_PIRQ_LINKS, .pci_hole_base = 0x80000000ULL, .io_low_end = 0xa000,         \
    }

const struct machine_type machine_pc_1_1 =
    PC_MACHINE("pcid-pc-1.1", "pc", "1.1", true, machine_compat_none);
const struct machine_type machine_pc_1_0 =
    PC_MACHINE("pcid-pc-1.0", NULL, "1.0", false, machine_compat_1_0);
