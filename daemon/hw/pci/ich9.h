/* SPDX-License-Identifier: MIT */
/*
 * ich9.h — the ICH9 functions of the q35 machine at 00:1f, as QEMU 7.2 presents them before
 * firmware runs: LPC bridge 00:1f.0 (8086:2918, hw/isa/lpc_ich9.c), AHCI 00:1f.2 (8086:2922,
 * hw/ide/ich.c), SMBus 00:1f.3 (8086:2930, hw/i2c/smbus_ich9.c). Each has the multifunction
 * bit and QEMU's subsystem 1af4:1100.
 *
 * What pcid models behind them: the LPC's PIRQ route registers (0x60-0x63 PIRQA-D, 0x68-0x6b
 * PIRQE-H; bit 7 disables a route) that the machine's INTx routing reads; the write masks and
 * locks QEMU has (PMBASE byte 0x40 takes QEMU's mask 0x87, GEN_PMCON_1 SMI_LOCK sticks once
 * set). The ACPI PM block, the chipset configuration registers (RCBA), the AHCI and SMBus
 * registers behind their BARs are not modelled: their BARs decode and read zeroes.
 *
 * Threads: constructors on the control plane. Errors: -ENOMEM.
 */
#ifndef PCID_HW_PCI_ICH9_H
#define PCID_HW_PCI_ICH9_H

#include "pci.h"

#define ICH9_LPC_PIRQA_ROUT 0x60 /* PIRQA-D route control (ICH9 datasheet §13.1.15) */
#define ICH9_LPC_PIRQE_ROUT 0x68 /* PIRQE-H */
#define ICH9_LPC_PIRQ_OFF   0x80 /* IRQEN: the route is disabled */
#define ICH9_LPC_NB_PIRQS   8

/*
 * ich9_lpc_new() / ich9_ahci_new() / ich9_smb_new() - the function with QEMU 7.2's config
 * space before firmware (256 bytes; AHCI with its SATA and MSI capabilities, index/data I/O
 * BAR4 and ABAR BAR5; SMBus with its I/O BAR4), not on a bus. The machine plugs them at
 * 00:1f.0/.2/.3. Returns 0 and *ret, or -ENOMEM.
 */
int ich9_lpc_new(struct pci_device **ret);
int ich9_ahci_new(struct pci_device **ret);
int ich9_smb_new(struct pci_device **ret);

/*
 * ich9_lpc_pirq_irq() - the ISA IRQ PIRQ `pirq` (0..7, A..H) is routed to now, or -1 when the
 * route is disabled or names no ISA IRQ. Reads the live register; any thread.
 */
int ich9_lpc_pirq_irq(const struct pci_device *lpc, unsigned pirq);

#endif
