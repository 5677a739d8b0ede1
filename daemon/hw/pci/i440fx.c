/* SPDX-License-Identifier: MIT */
/*
 * i440fx.c — i440FX host bridge and the PIIX3/PIIX4 functions of the `pc` machine.
 *
 * Register defaults are the values QEMU 7.2 leaves after reset; writable masks cover the
 * registers QEMU lets a guest change (for the host bridge: PAM 0x59..0x5f and SMRAM 0x72; for
 * PIIX3: the PIRQ route registers 0x60..0x63 and the rest of its device-specific space; the
 * IDE function's BAR4 and Bus Master control; the PM function's device-specific space).
 */
#include "i440fx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INTEL_VENDOR_ID    0x8086
#define QEMU_SUBSYS_VENDOR 0x1af4
#define QEMU_SUBSYS_ID     0x1100

/* i440FX (82441FX PMC) registers. */
#define I440FX_DRAMC 0x57 /* DRAM control */
#define I440FX_PAM0  0x59 /* programmable attribute map, 7 bytes */
#define I440FX_PAM_N 7
#define I440FX_SMRAM 0x72

/* PIIX3 registers (82371SB §2.2). */
#define PIIX3_IORT    0x4c
#define PIIX3_XBCS    0x4e
#define PIIX3_PIRQRC  0x60 /* PIRQA..D route control, 4 bytes, 0x80 = disabled */
#define PIIX3_TOM     0x69
#define PIIX3_MBIRQ0  0x70
#define PIIX3_MBDMA   0x76
#define PIIX3_PCSC    0x78
#define PIIX3_SMICNTL 0xa0
#define PIIX3_SMIREQ  0xa8 /* QEMU resets the low byte of SMIEN/SMIREQ area to 0x0f */

/* PIIX4 power management (82371AB §7). */
#define PIIX4_PMBA      0x40
#define PIIX4_DEVACTB   0x5c
#define PIIX4_DEVRESD   0x60
#define PIIX4_SMBBA     0x90
#define PIIX4_SMBHSTCFG 0xd2

static void simple_destroy(struct pci_device *d)
{
    free(d);
}

static const struct pci_dev_class i440fx_class = {.name = "i440FX", .destroy = simple_destroy};
static const struct pci_dev_class piix3_class = {.name = "PIIX3", .destroy = simple_destroy};
static const struct pci_dev_class piix3_ide_class = {.name = "piix3-ide",
                                                     .destroy = simple_destroy};
static const struct pci_dev_class piix4_pm_class = {.name = "PIIX4_PM", .destroy = simple_destroy};

static int new_function(const struct pci_dev_class *cls, struct pci_device **ret)
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
    pci_dev_set_subsystem(d, QEMU_SUBSYS_VENDOR, QEMU_SUBSYS_ID);
    *ret = d;
    return 0;
}

int i440fx_host_new(struct pci_device **ret)
{
    struct pci_device *d;
    int r = new_function(&i440fx_class, &d);

    if (r < 0)
        return r;
    pci_dev_set_ids(d, INTEL_VENDOR_ID, 0x1237, 0x02, 0x060000);
    /* The host bridge's device-specific space is chipset registers, not free for the guest. */
    memset(d->wmask + PCI_CONFIG_HEADER_SIZE, 0, PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    d->config[I440FX_DRAMC] = 0x10;
    d->config[I440FX_SMRAM] = 0x02;
    memset(d->wmask + I440FX_PAM0, 0xff, I440FX_PAM_N);
    d->wmask[I440FX_SMRAM] = 0x78; /* D_OPEN, D_CLS, D_LCK, G_SMRAME */
    *ret = d;
    return 0;
}

int piix3_isa_new(struct pci_device **ret)
{
    struct pci_device *d;
    int r = new_function(&piix3_class, &d);

    if (r < 0)
        return r;
    pci_dev_set_ids(d, INTEL_VENDOR_ID, 0x7000, 0x00, 0x060100);
    pci_dev_set_multifunction(d, true);
    le_set16(d->config + PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    d->config[PIIX3_IORT] = 0x4d;
    d->config[PIIX3_XBCS] = 0x03;
    memset(d->config + PIIX3_PIRQRC, 0x80, 4);
    d->config[PIIX3_TOM] = 0x02;
    d->config[PIIX3_MBIRQ0] = 0x80;
    d->config[PIIX3_MBDMA] = 0x0c;
    d->config[PIIX3_MBDMA + 1] = 0x0c;
    d->config[PIIX3_PCSC] = 0x02;
    d->config[PIIX3_SMICNTL] = 0x08;
    d->config[PIIX3_SMIREQ] = 0x0f;
    *ret = d;
    return 0;
}

int piix3_ide_new(struct pci_device **ret)
{
    struct pci_device *d;
    int r = new_function(&piix3_ide_class, &d);

    if (r < 0)
        return r;
    /* prog-if 0x80: ISA compatibility mode only, bus mastering. */
    pci_dev_set_ids(d, INTEL_VENDOR_ID, 0x7010, 0x00, 0x010180);
    le_set16(d->config + PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    r = pci_bar_register(d, 4, 16, PCI_BASE_ADDRESS_SPACE_IO, NULL, NULL);
    if (r < 0) {
        pci_dev_destroy(d);
        return r;
    }
    *ret = d;
    return 0;
}

int piix4_pm_new(struct pci_device **ret)
{
    struct pci_device *d;
    int r = new_function(&piix4_pm_class, &d);

    if (r < 0)
        return r;
    pci_dev_set_ids(d, INTEL_VENDOR_ID, 0x7113, 0x03, 0x068000);
    le_set16(d->config + PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    pci_dev_set_irq_pin(d, 1);
    d->config[PIIX4_PMBA] = 0x01; /* I/O space indicator */
    d->config[PIIX4_DEVACTB + 3] = 0x10;
    d->config[PIIX4_DEVRESD + 3] = 0x60;
    le_set32(d->config + PIIX4_SMBBA, 0xb101);
    d->config[PIIX4_SMBHSTCFG] = 0x09; /* SMBus host enabled, interrupt on IRQ9 */
    *ret = d;
    return 0;
}
