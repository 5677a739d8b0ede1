/* SPDX-License-Identifier: MIT */
/*
 * pc.c — the `pc` machine: i440FX + PIIX3, as QEMU 7.2's `-M pc -nodefaults`.
 *
 * Root bus pci.0 with ACPI PCI hotplug (every slot accepts hot-plug; slots 0 and 1 hold the
 * built-in functions): 00:00.0 i440FX host bridge, 00:01.0 PIIX3 ISA bridge (multifunction),
 * 00:01.1 PIIX3 IDE, 00:01.3 PIIX4 PM (ACPI, SMBus, and the hotplug controller's GPE).
 */
#include "../hw/pci/i440fx.h"
#include "machine.h"

/* Non-PCI buses of QEMU's pc, newest first: QEMU's search for a bus of a type finds the most
 * recently created one (ide.1 before ide.0). */
static const struct machine_foreign_bus pc_foreign_buses[] = {
    {"isa.0", "ISA"},
    {"ide.1", "IDE"},
    {"ide.0", "IDE"},
    {0},
};

static int pc_init(struct machine *m)
{
    static int (*const ctor[])(struct pci_device **) = {i440fx_host_new, piix3_isa_new,
                                                        piix3_ide_new, piix4_pm_new};
    static const uint8_t devfn[] = {PCI_DEVFN_OF(0, 0), PCI_DEVFN_OF(1, 0), PCI_DEVFN_OF(1, 1),
                                    PCI_DEVFN_OF(1, 3)};

    for (size_t i = 0; i < ARRAY_SIZE(ctor); i++) {
        struct pci_device *d;
        int r = ctor[i](&d);

        if (r < 0)
            return r;
        r = machine_add_builtin(m, d, devfn[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

const struct machine_type machine_pc = {
    .name = "pc",
    .desc = "Standard PC (i440FX + PIIX, 1996)",
    .is_default = true,
    .root_bus = "pci.0",
    .root_express = false,
    .root_hotpluggable = true,
    .foreign_buses = pc_foreign_buses,
    .init = pc_init,
};
