/* SPDX-License-Identifier: MIT */
/*
 * i440fx.h — the built-in functions of the `pc` machine, as QEMU 7.2 presents them before
 * firmware runs: the i440FX host bridge (00:00.0), PIIX3 ISA bridge (00:01.0), PIIX3 IDE
 * (00:01.1) and PIIX4 power management (00:01.3).
 *
 * Each constructor returns a device with its config space, masks and BARs set, not yet on a
 * bus, with no id and not hot-pluggable. Returns 0 and *ret, or -ENOMEM. Control plane only.
 * Sources: Intel 82441FX PMC datasheet §3.2, 82371SB PIIX3 datasheet §2.2, 82371AB PIIX4
 * datasheet §3 and §7; default values as QEMU 7.2 resets them.
 */
#ifndef PCID_HW_PCI_I440FX_H
#define PCID_HW_PCI_I440FX_H

#include "pci.h"

int i440fx_host_new(struct pci_device **ret);
int piix3_isa_new(struct pci_device **ret);
int piix3_ide_new(struct pci_device **ret);
int piix4_pm_new(struct pci_device **ret);

#endif
