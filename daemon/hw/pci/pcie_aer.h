/* SPDX-License-Identifier: MIT */
/*
 * pcie_aer.h — the Advanced Error Reporting extended capability (PCIe 4.0 §7.8.4) as QEMU
 * 7.2's hw/pci/pcie_aer.c presents it to a guest that injects no errors: default severities
 * and masks, the writable controls, the write-1-to-clear status registers, the root port's
 * Root Error Command/Status, and what a write does (the first-error pointer and header log are
 * cleared, a root port's INTx follows Root Error Command against Root Error Status).
 *
 * pcid has no error injection: the status registers only change by guest writes.
 *
 * Threads: init before the device is published; the write hooks under the device lock.
 * Errors: -EINVAL (offset, not PCIe), -EBUSY (overlap).
 */
#ifndef PCID_HW_PCIE_AER_H
#define PCID_HW_PCIE_AER_H

#include "pci.h"

/*
 * pcie_aer_init() - add AER (version 2, 0x48 bytes) at `offset`. `log_max` > 0 advertises
 * Multiple Header Recording (QEMU's aer_log_max); `bridge_port` for root, upstream and
 * downstream ports (SERR Enable in Bridge Control, Received System Error write-1-to-clear).
 * Sets d->aer_cap. Returns the offset or -errno.
 */
int pcie_aer_init(struct pci_device *d, uint16_t offset, unsigned log_max, bool bridge_port);

/* QEMU's PCIE_AER_LOG_MAX_LIMIT: the most aer_log_max a port accepts. */
#define PCIE_AER_LOG_MAX_LIMIT 128

/* pcie_aer_root_init() - a root port's Root Error Command (writable enables) and Root Error
 * Status (write-1-to-clear). pcie_aer_root_reset() clears Root Error Command. */
void pcie_aer_root_init(struct pci_device *d);
void pcie_aer_root_reset(struct pci_device *d);

/* pcie_aer_write_config() - after any config write: with no error recorded, the first error
 * pointer and the header and prefix logs are cleared (QEMU's pcie_aer_clear_error). */
void pcie_aer_write_config(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);

/*
 * pcie_aer_root_write_config() - after any config write of a root port: without MSI/MSI-X the
 * port's INTx follows (Root Error Command & the enables Root Error Status asks for); with them
 * a message is sent on a false -> true transition. `root_cmd_prev` is Root Error Command before
 * the write (QEMU's pcie_aer_root_write_config).
 */
void pcie_aer_root_write_config(struct pci_device *d, uint32_t root_cmd_prev);

/* Root Error Command of `d` now (for the caller to pass as root_cmd_prev). */
uint32_t pcie_aer_root_cmd(const struct pci_device *d);

#endif
