/* SPDX-License-Identifier: MIT */
/*
 * ich9.c — the ICH9 LPC, AHCI and SMBus functions of q35 (QEMU 7.2's values). See ich9.h.
 */
#include "ich9.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msi.h"
#include "pci_cap.h"

#define INTEL_VENDOR_ID    0x8086
#define QEMU_SUBSYS_VENDOR 0x1af4
#define QEMU_SUBSYS_ID     0x1100
#define ICH9_REVISION      0x02

/* LPC (ICH9 datasheet §13.1). */
#define ICH9_LPC_DEVICE_ID      0x2918
#define ICH9_LPC_PMBASE         0x40
#define ICH9_LPC_PMBASE_DEFAULT 0x1 /* resource type: I/O */
#define ICH9_LPC_PMBASE_MASK    0xff80
/* QEMU sets this byte's mask to ACPI_CTRL's bits (ACPI_EN | SCI_IRQ_SEL) by mistake. */
#define ICH9_LPC_PMBASE_LO_MASK       0x87
#define ICH9_LPC_ACPI_CTRL            0x44
#define ICH9_LPC_GEN_PMCON_1          0xa0
#define ICH9_LPC_GEN_PMCON_1_SMI_LOCK 0x10
#define ICH9_LPC_RCBA                 0xf0

/* AHCI (ICH9 §14.1; QEMU's hw/ide/ich.c). */
#define ICH9_AHCI_DEVICE_ID  0x2922
#define ICH9_AHCI_CLASS      0x010601 /* SATA, AHCI 1.0 */
#define ICH9_AHCI_IDP_BAR    4
#define ICH9_AHCI_IDP_SIZE   32
#define ICH9_AHCI_ABAR       5
#define ICH9_AHCI_ABAR_SIZE  4096
#define ICH9_AHCI_MSI_OFFSET 0x80
#define ICH9_AHCI_MAP        0x90 /* address map: AHCI mode */
#define ICH9_AHCI_MAP_SMS    0x40
#define ICH9_SATA_CAP        0xa8
#define ICH9_SATA_CAP_SIZE   8
#define ICH9_SATA_CAP_REV    0x10                                 /* revision 1.0 */
#define ICH9_SATA_CAP_BAR    ((ICH9_AHCI_IDP_BAR + 4) | (4 << 4)) /* BAR4 (+4), index at 4 / 2^4 */

/* SMBus (ICH9 §17.1). */
#define ICH9_SMB_DEVICE_ID 0x2930
#define ICH9_SMB_CLASS     0x0c0500
#define ICH9_SMB_BAR       4
#define ICH9_SMB_SIZE      64
#define ICH9_SMB_HOSTC     0x40
#define ICH9_SMB_SSRESET   0x08 /* self-clearing: always reads 0 */

static void simple_destroy(struct pci_device *d)
{
    free(d);
}

static void lpc_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    pci_default_config_write(d, offset, value, len);
    /* QEMU's ich9_lpc_pmcon_update: SMI_LOCK, once set, cannot be cleared. */
    if (ranges_overlap(offset, len, ICH9_LPC_GEN_PMCON_1, 8) &&
        (ld8(d->config + ICH9_LPC_GEN_PMCON_1) & ICH9_LPC_GEN_PMCON_1_SMI_LOCK))
        d->wmask[ICH9_LPC_GEN_PMCON_1] &= (uint8_t)~ICH9_LPC_GEN_PMCON_1_SMI_LOCK;
}

static void lpc_reset(struct pci_device *d)
{
    for (unsigned i = 0; i < 4; i++) {
        st8(d->config + ICH9_LPC_PIRQA_ROUT + i, ICH9_LPC_PIRQ_OFF);
        st8(d->config + ICH9_LPC_PIRQE_ROUT + i, ICH9_LPC_PIRQ_OFF);
    }
    le_store(d->config + ICH9_LPC_PMBASE, ICH9_LPC_PMBASE_DEFAULT, 4);
    st8(d->config + ICH9_LPC_ACPI_CTRL, 0);
    le_store(d->config + ICH9_LPC_RCBA, 0, 4);
}

static const struct pci_dev_class lpc_class = {.name = "ICH9-LPC",
                                               .config_write = lpc_config_write,
                                               .reset = lpc_reset,
                                               .destroy = simple_destroy};
static const struct pci_dev_class ahci_class = {.name = "ich9-ahci", .destroy = simple_destroy};

static void smb_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    pci_default_config_write(d, offset, value, len);
    if (ranges_overlap(offset, len, ICH9_SMB_HOSTC, 1))
        st8(d->config + ICH9_SMB_HOSTC, ld8(d->config + ICH9_SMB_HOSTC) & ~ICH9_SMB_SSRESET);
}

static const struct pci_dev_class smb_class = {
    .name = "ICH9-SMB", .config_write = smb_config_write, .destroy = simple_destroy};

static int new_function(const struct pci_dev_class *cls, uint16_t device, uint32_t class_code,
                        struct pci_device **ret)
{
    struct pci_device *d = calloc(1, sizeof(*d));
    int r;

    if (!d)
        return -ENOMEM;
    r = pci_dev_init(d, cls, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL);
    if (r < 0) {
        free(d);
        return r;
    }
    d->read_hook_start = d->read_hook_end = 0;
    pci_dev_set_ids(d, INTEL_VENDOR_ID, device, ICH9_REVISION, class_code);
    pci_dev_set_subsystem(d, QEMU_SUBSYS_VENDOR, QEMU_SUBSYS_ID);
    pci_dev_set_multifunction(d, true); /* QEMU creates the 00:1f functions multifunction */
    *ret = d;
    return 0;
}

int ich9_lpc_new(struct pci_device **ret)
{
    struct pci_device *d;
    int r = new_function(&lpc_class, ICH9_LPC_DEVICE_ID, 0x060100, &d);

    if (r < 0)
        return r;
    le_set32(d->wmask + ICH9_LPC_PMBASE, ICH9_LPC_PMBASE_MASK);
    d->wmask[ICH9_LPC_PMBASE] = ICH9_LPC_PMBASE_LO_MASK;
    lpc_reset(d);
    *ret = d;
    return 0;
}

int ich9_ahci_new(struct pci_device **ret)
{
    struct pci_device *d;
    int cap, r = new_function(&ahci_class, ICH9_AHCI_DEVICE_ID, ICH9_AHCI_CLASS, &d);

    if (r < 0)
        return r;
    pci_dev_set_irq_pin(d, 1);
    d->config[ICH9_AHCI_MAP] = ICH9_AHCI_MAP_SMS;
    cap = pci_cap_add(d, PCI_CAP_ID_SATA, ICH9_SATA_CAP, ICH9_SATA_CAP_SIZE);
    if (cap < 0 || msi_init(d, ICH9_AHCI_MSI_OFFSET, 1, true, false) < 0 ||
        pci_bar_register(d, ICH9_AHCI_IDP_BAR, ICH9_AHCI_IDP_SIZE, PCI_BASE_ADDRESS_SPACE_IO, NULL,
                         NULL) < 0 ||
        pci_bar_register(d, ICH9_AHCI_ABAR, ICH9_AHCI_ABAR_SIZE, PCI_BASE_ADDRESS_SPACE_MEMORY,
                         NULL, NULL) < 0) {
        pci_dev_destroy(d);
        return -ENOMEM;
    }
    d->config[cap + 2] = ICH9_SATA_CAP_REV;
    le_set32(d->config + cap + 4, ICH9_SATA_CAP_BAR);
    *ret = d;
    return 0;
}

int ich9_smb_new(struct pci_device **ret)
{
    struct pci_device *d;
    int r = new_function(&smb_class, ICH9_SMB_DEVICE_ID, ICH9_SMB_CLASS, &d);

    if (r < 0)
        return r;
    pci_dev_set_irq_pin(d, 1);
    if (pci_bar_register(d, ICH9_SMB_BAR, ICH9_SMB_SIZE, PCI_BASE_ADDRESS_SPACE_IO, NULL, NULL) <
        0) {
        pci_dev_destroy(d);
        return -ENOMEM;
    }
    *ret = d;
    return 0;
}

int ich9_lpc_pirq_irq(const struct pci_device *lpc, unsigned pirq)
{
    uint8_t rc;

    if (pirq >= ICH9_LPC_NB_PIRQS)
        return -1;
    rc =
        ld8(lpc->config + (pirq < 4 ? ICH9_LPC_PIRQA_ROUT + pirq : ICH9_LPC_PIRQE_ROUT + pirq - 4));
    return (rc & ICH9_LPC_PIRQ_OFF) ? -1 : (rc & 0x0f);
}
