/* SPDX-License-Identifier: MIT */
/*
 * pcie_aer.c — Advanced Error Reporting (PCIe 4.0 §7.8.4) with QEMU 7.2's defaults and masks,
 * for a guest that injects no errors. See pcie_aer.h.
 */
#include "pcie_aer.h"

#include "msi.h"
#include "msix.h"
#include "pci_cap.h"
#include "pcie.h"

/* QEMU's hw/pci/pcie_regs.h sets (PCIe 4.0 §7.8.4.2-7). */
#define UNC_SUPPORTED        0x03fff030u /* DLP, SDN, poisoned TLP ... TLP prefix blocked */
#define UNC_SEVERITY_DEFAULT 0x00462030u /* DLP, SDN, FCP, RX overflow, malformed, internal */
#define COR_SUPPORTED        0x0000f1c1u
#define COR_MASK_DEFAULT     0x0000e000u /* advisory non-fatal, internal, header log overflow */
#define ERR_CAP_MHRC         0x00000200u /* Multiple Header Recording Capable */
#define ERR_CAP_MHRE         0x00000400u
#define ERR_CAP_TLP          0x00000800u /* TLP Prefix Log Present */
#define ERR_CAP_FEP_MASK     0x0000001fu
#define ERR_HEADER_LOG_SIZE  16
#define ERR_TLP_PREFIX_LOG   0x38
#define ERR_TLP_PREFIX_SIZE  16 /* QEMU clears it, though its capability ends at 0x48 */
#define ROOT_CMD_EN_MASK     0x7u
#define ROOT_STATUS_REPORT   0x7fu

int pcie_aer_init(struct pci_device *d, uint16_t offset, unsigned log_max, bool bridge_port)
{
    int r = pci_ext_cap_add(d, PCI_EXT_CAP_ID_ERR, PCI_ERR_VER, offset, PCI_ERR_SIZEOF);
    uint8_t *c = d->config + offset;

    if (r < 0)
        return r;
    d->aer_cap = offset;
    le_set32(d->w1cmask + offset + PCI_ERR_UNCOR_STATUS, UNC_SUPPORTED);
    le_set32(c + PCI_ERR_UNCOR_SEVER, UNC_SEVERITY_DEFAULT);
    le_set32(d->wmask + offset + PCI_ERR_UNCOR_SEVER, UNC_SUPPORTED);
    le_set32(d->w1cmask + offset + PCI_ERR_COR_STATUS, COR_SUPPORTED);
    le_set32(c + PCI_ERR_COR_MASK, COR_MASK_DEFAULT);
    le_set32(d->wmask + offset + PCI_ERR_COR_MASK, COR_SUPPORTED);
    if (log_max) {
        le_set32(c + PCI_ERR_CAP, PCI_ERR_CAP_ECRC_GENC | PCI_ERR_CAP_ECRC_CHKC | ERR_CAP_MHRC);
        le_set32(d->wmask + offset + PCI_ERR_CAP,
                 PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE | ERR_CAP_MHRE);
    } else {
        le_set32(c + PCI_ERR_CAP, PCI_ERR_CAP_ECRC_GENC | PCI_ERR_CAP_ECRC_CHKC);
        le_set32(d->wmask + offset + PCI_ERR_CAP, PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE);
    }
    if (bridge_port) {
        le_set16(d->wmask + PCI_BRIDGE_CONTROL,
                 le_get16(d->wmask + PCI_BRIDGE_CONTROL) | PCI_BRIDGE_CTL_SERR);
        le_set16(d->w1cmask + PCI_STATUS,
                 le_get16(d->w1cmask + PCI_STATUS) | PCI_STATUS_SIG_SYSTEM_ERROR);
    }
    return r;
}

void pcie_aer_root_init(struct pci_device *d)
{
    uint16_t pos = d->aer_cap;

    le_set32(d->wmask + pos + PCI_ERR_ROOT_COMMAND, ROOT_CMD_EN_MASK);
    le_set32(d->w1cmask + pos + PCI_ERR_ROOT_STATUS, ROOT_STATUS_REPORT);
    /* The interrupt message number changes by device-specific means: not checked on load. */
    le_set32(d->cmask + pos + PCI_ERR_ROOT_STATUS, ~(uint32_t)PCI_ERR_ROOT_AER_IRQ);
}

void pcie_aer_root_reset(struct pci_device *d)
{
    if (d->aer_cap)
        le_store(d->config + d->aer_cap + PCI_ERR_ROOT_COMMAND, 0, 4);
}

uint32_t pcie_aer_root_cmd(const struct pci_device *d)
{
    return d->aer_cap ? (uint32_t)le_load(d->config + d->aer_cap + PCI_ERR_ROOT_COMMAND, 4) : 0;
}

void pcie_aer_write_config(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    uint8_t *c;
    uint32_t cap;

    (void)offset, (void)value, (void)len;
    if (!d->aer_cap)
        return;
    /* No error was ever recorded, so the first error's status bit reads clear: QEMU then
     * clears the log (first error pointer, TLP prefix flag, header and prefix logs). */
    c = d->config + d->aer_cap;
    cap = (uint32_t)le_load(c + PCI_ERR_CAP, 4);
    if (le_load(c + PCI_ERR_UNCOR_STATUS, 4) & (1u << PCI_ERR_CAP_FEP(cap)))
        return;
    le_store(c + PCI_ERR_CAP, cap & ~(ERR_CAP_FEP_MASK | ERR_CAP_TLP), 4);
    for (unsigned i = 0; i < ERR_HEADER_LOG_SIZE; i += 4)
        le_store(c + PCI_ERR_HEADER_LOG + i, 0, 4);
    for (unsigned i = 0;
         i < ERR_TLP_PREFIX_SIZE && d->aer_cap + ERR_TLP_PREFIX_LOG + i + 4 <= d->config_size;
         i += 4)
        le_store(c + ERR_TLP_PREFIX_LOG + i, 0, 4);
}

/* The Root Error Command enables that the Root Error Status asks for (QEMU's
 * pcie_aer_status_to_cmd). */
static uint32_t status_to_cmd(uint32_t status)
{
    uint32_t cmd = 0;

    if (status & PCI_ERR_ROOT_COR_RCV)
        cmd |= PCI_ERR_ROOT_CMD_COR_EN;
    if (status & PCI_ERR_ROOT_NONFATAL_RCV)
        cmd |= PCI_ERR_ROOT_CMD_NONFATAL_EN;
    if (status & PCI_ERR_ROOT_FATAL_RCV)
        cmd |= PCI_ERR_ROOT_CMD_FATAL_EN;
    return cmd;
}

void pcie_aer_root_write_config(struct pci_device *d, uint32_t root_cmd_prev)
{
    uint8_t *c = d->config + d->aer_cap;
    uint32_t status = (uint32_t)le_load(c + PCI_ERR_ROOT_STATUS, 4);
    uint32_t enabled = status_to_cmd(status);
    uint32_t cmd = (uint32_t)le_load(c + PCI_ERR_ROOT_COMMAND, 4);

    if (!msix_enabled(d) && !msi_enabled(d)) {
        /* QEMU drives the port's INTx from here on every config write. */
        if (d->config[PCI_INTERRUPT_PIN])
            pci_dev_set_irq(d, d->config[PCI_INTERRUPT_PIN] - 1, !!(cmd & enabled));
        return;
    }
    if ((root_cmd_prev & enabled) || !(cmd & enabled))
        return; /* a message only on a false -> true transition */
    msix_notify(d, (uint16_t)(status >> 27));
}
