/* SPDX-License-Identifier: MIT */
/*
 * pcie_pci_bridge.c — `pcie-pci-bridge`, QEMU 7.2's PCI Express to PCI bridge (Red Hat
 * 1b36:000e; hw/pci-bridge/pcie_pci_bridge.c): a PCIe function whose secondary bus is
 * conventional PCI, with a standard hot-plug controller.
 *
 * Layout, as QEMU builds it: SHPC capability at 0x40 (register set in a 256-byte 64-bit memory
 * BAR0), the PCI Express capability (PCI Express to PCI/PCI-X bridge, v2) at 0x48, Power
 * Management at 0x84 (version 3), MSI (1 vector, 64-bit, per-vector mask; msi=auto/on) at
 * 0x8c, AER at 0x100 (without multiple header recording). 4 KiB config space, INTA#.
 * Reset: the bridge registers and the SHPC (MSI in the generic reset).
 */
#include <stdlib.h>

#include "../qdev.h"
#include "msi.h"
#include "pci_bridge_common.h"
#include "pci_cap.h"
#include "pcie.h"
#include "pcie_aer.h"
#include "shpc.h"

#define REDHAT_VENDOR_ID    0x1b36
#define REDHAT_PCIE_PCI_ID  0x000e
#define PCIE_PCI_AER_OFFSET 0x100
#define PM_PMC_VERSION_1_2  0x3 /* PCI PM 1.2 compliant (QEMU's value) */

struct pcie_pci_opts {
    struct pci_dev_opts pci;
    enum qdev_on_off_auto msi;
};

struct pcie_pci_bridge {
    struct pci_bridge br; /* first */
    struct shpc shpc;
};

static const struct qdev_prop pcie_pci_props[] = {
    {"msi", QDEV_PROP_ONOFFAUTO, offsetof(struct pcie_pci_opts, msi), "auto", 0, NULL,
     "on/off/auto"},
    {0},
};

static struct pcie_pci_bridge *dev_of(struct pci_device *d)
{
    return container_of(d, struct pcie_pci_bridge, br.pci);
}

static void pp_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    pci_bridge_config_write(d, offset, value, len); /* MSI follows in the generic write */
    shpc_config_write(&dev_of(d)->shpc, offset, value, len);
}

static void pp_reset(struct pci_device *d)
{
    struct pcie_pci_bridge *b = dev_of(d);

    pci_bridge_reset(&b->br);
    shpc_reset(&b->shpc);
}

static void pp_destroy(struct pci_device *d)
{
    struct pcie_pci_bridge *b = dev_of(d);

    pci_bridge_fini(&b->br);
    free(b);
}

static const struct pci_dev_class pp_class = {
    .name = "pcie-pci-bridge",
    .config_write = pp_config_write,
    .reset = pp_reset,
    .destroy = pp_destroy,
};

static int pp_realize(const struct qdev_driver *drv, const void *opts, const struct qdev_env *env,
                      struct pci_device **ret, struct error *err)
{
    const struct pcie_pci_opts *o = opts;
    struct pcie_pci_bridge *b = calloc(1, sizeof(*b));
    struct pci_device *d;
    int r, pm;

    if (!b)
        return pci_bridge_internal(err, drv, "out of memory");
    d = &b->br.pci;
    if (pci_bridge_init(&b->br, &pp_class, PCIE_CONFIG_SPACE_SIZE, false) < 0) {
        if (d->config)
            pci_dev_destroy(d);
        else
            free(b);
        return pci_bridge_internal(err, drv, "out of memory");
    }
    d->name = drv->name;
    le_set16(d->config + PCI_VENDOR_ID, REDHAT_VENDOR_ID);
    le_set16(d->config + PCI_DEVICE_ID, REDHAT_PCIE_PCI_ID);
    pci_dev_set_irq_pin(d, 1);
    if (shpc_init(&b->shpc, d, b->br.sec) < 0 ||
        pcie_cap_init(d, 0, PCI_EXP_TYPE_PCI_BRIDGE, 0) < 0) {
        r = pci_bridge_internal(err, drv, "no room for capabilities");
        goto fail;
    }
    b->br.shpc = &b->shpc;
    pm = pci_cap_add(d, PCI_CAP_ID_PM, 0, PCI_PM_SIZEOF);
    if (pm < 0) {
        r = pci_bridge_internal(err, drv, "no room for power management");
        goto fail;
    }
    d->pm_cap = (uint8_t)pm;
    le_set16(d->config + pm + PCI_PM_PMC, PM_PMC_VERSION_1_2);
    pcie_cap_arifwd_init(d);
    pcie_cap_deverr_init(d);
    if (pcie_aer_init(d, PCIE_PCI_AER_OFFSET, 0, false) < 0 ||
        (o->msi != QDEV_OFF && msi_init(d, 0, 1, true, true) < 0) ||
        pci_bar_register(d, 0, SHPC_BAR_SIZE,
                         PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64,
                         &shpc_bar_ops, &b->shpc) < 0) {
        r = pci_bridge_internal(err, drv, "no room for capabilities");
        goto fail;
    }
    r = pci_dev_opts_apply_rom(d, drv, &o->pci, env, err);
    if (r < 0)
        goto fail;
    *ret = d;
    return 0;
fail:
    pci_dev_destroy(d);
    return r;
}

static const struct qdev_prop *const pp_prop_tables[] = {pcie_pci_props};

const struct qdev_driver pcie_pci_bridge_driver = {
    .name = "pcie-pci-bridge",
    .desc = "PCI Express to PCI Bridge",
    .category = "Bridge devices",
    .prop_tables = pp_prop_tables,
    .n_prop_tables = ARRAY_SIZE(pp_prop_tables),
    .opts_size = sizeof(struct pcie_pci_opts),
    .express = true,
    .bridge = true,
    .realize = pp_realize,
};
