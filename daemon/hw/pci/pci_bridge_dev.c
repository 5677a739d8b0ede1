/* SPDX-License-Identifier: MIT */
/*
 * pci_bridge_dev.c — `pci-bridge`, QEMU 7.2's standard PCI-to-PCI bridge (Red Hat 1b36:0001;
 * hw/pci-bridge/pci_bridge_dev.c).
 *
 * Layout, as QEMU builds it: with shpc=on (default) the SHPC capability at 0x40 and its
 * register set in a 256-byte 64-bit memory BAR0, INTA#; the Slot Identification capability
 * (first in chassis, chassis number `chassis_nr`, writable) next; with SHPC and msi=auto/on an
 * MSI capability (1 vector, 64-bit, per-vector mask); QEMU's resource-reserve capability when a
 * *-reserve property is given. 256-byte config space.
 *
 * Refusals (QEMU's messages): chassis_nr 0 — "Bridge chassis not specified. Each bridge is
 * required to be assigned a unique chassis id > 0."
 */
#include <errno.h>
#include <stdlib.h>

#include "../qdev.h"
#include "msi.h"
#include "pci_bridge.h"
#include "pci_bridge_common.h"
#include "pci_cap.h"
#include "shpc.h"

#define REDHAT_VENDOR_ID     0x1b36
#define REDHAT_BRIDGE_DEV_ID 0x0001
#define SLOTID_CAP_LEN       4    /* PCI-to-PCI Bridge 1.2 §13.1 */
#define SLOTID_ESR_FIC       0x20 /* First In Chassis */

struct bridge_opts {
    struct pci_dev_opts pci;
    uint8_t chassis_nr;
    enum qdev_on_off_auto msi;
    bool shpc;
    struct pci_reserve_opts res;
};

struct pci_bridge_dev {
    struct pci_bridge br; /* first */
    struct shpc shpc;
};

#define BO(f) offsetof(struct bridge_opts, f)

/* QEMU 7.2's pci-bridge properties (device-list-properties). */
static const struct qdev_prop bridge_props[] = {
    {"chassis_nr", QDEV_PROP_UINT8, BO(chassis_nr), "0"},
    {"msi", QDEV_PROP_ONOFFAUTO, BO(msi), "auto", 0, NULL, "on/off/auto"},
    {"shpc", QDEV_PROP_BOOL, BO(shpc), "on", 0, NULL, "on/off"},
    PCI_RESERVE_PROPS(struct bridge_opts, res),
    {0},
};

static struct pci_bridge_dev *dev_of(struct pci_device *d)
{
    return container_of(d, struct pci_bridge_dev, br.pci);
}

static void bridge_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    struct pci_bridge_dev *b = dev_of(d);

    pci_bridge_config_write(d, offset, value, len); /* MSI follows in the generic write */
    if (b->br.shpc)
        shpc_config_write(b->br.shpc, offset, value, len);
}

static void bridge_reset(struct pci_device *d)
{
    struct pci_bridge_dev *b = dev_of(d);

    pci_bridge_reset(&b->br);
    if (b->br.shpc)
        shpc_reset(b->br.shpc);
}

static void bridge_destroy(struct pci_device *d)
{
    struct pci_bridge_dev *b = dev_of(d);

    pci_bridge_fini(&b->br);
    free(b);
}

static const struct pci_dev_class bridge_class = {
    .name = "pci-bridge",
    .config_write = bridge_config_write,
    .reset = bridge_reset,
    .destroy = bridge_destroy,
};

static int bridge_realize(const struct qdev_driver *drv, const void *opts,
                          const struct qdev_env *env, struct pci_device **ret, struct error *err)
{
    const struct bridge_opts *o = opts;
    struct pci_bridge_dev *b = calloc(1, sizeof(*b));
    struct pci_device *d;
    int r, cap;

    if (!b)
        return pci_bridge_internal(err, drv, "out of memory");
    d = &b->br.pci;
    if (pci_bridge_init(&b->br, &bridge_class, PCI_CONFIG_SPACE_SIZE, false) < 0) {
        if (d->config)
            pci_dev_destroy(d);
        else
            free(b);
        return pci_bridge_internal(err, drv, "out of memory");
    }
    d->name = drv->name;
    le_set16(d->config + PCI_VENDOR_ID, REDHAT_VENDOR_ID);
    le_set16(d->config + PCI_DEVICE_ID, REDHAT_BRIDGE_DEV_ID);
    if (o->shpc) {
        pci_dev_set_irq_pin(d, 1);
        if (shpc_init(&b->shpc, d, b->br.sec) < 0) {
            r = pci_bridge_internal(err, drv, "no room for SHPC");
            goto fail;
        }
        b->br.shpc = &b->shpc;
    }
    if (!o->chassis_nr) {
        r = error_invalid(err, "Bridge chassis not specified. Each bridge is required to be "
                               "assigned a unique chassis id > 0.");
        goto fail;
    }
    cap = pci_cap_add(d, PCI_CAP_ID_SLOTID, 0, SLOTID_CAP_LEN);
    if (cap < 0) {
        r = pci_bridge_internal(err, drv, "no room for the slot ID capability");
        goto fail;
    }
    d->config[cap + PCI_SID_ESR] = SLOTID_ESR_FIC; /* each bridge its own chassis */
    d->config[cap + PCI_SID_CHASSIS_NR] = o->chassis_nr;
    d->wmask[cap + PCI_SID_CHASSIS_NR] = 0xff; /* non-volatile: a reset keeps it */
    /* MSI serves the SHPC's interrupt: none without it (QEMU forces msi=off then). */
    if (o->shpc && o->msi != QDEV_OFF && msi_init(d, 0, 1, true, true) < 0) {
        r = pci_bridge_internal(err, drv, "no room for MSI");
        goto fail;
    }
    if (o->shpc && pci_bar_register(d, 0, SHPC_BAR_SIZE,
                                    PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64,
                                    &shpc_bar_ops, &b->shpc) < 0) {
        r = pci_bridge_internal(err, drv, "SHPC BAR");
        goto fail;
    }
    r = pci_reserve_cap_init(d, &o->res, drv, err);
    if (r == 0)
        r = pci_dev_opts_apply_rom(d, drv, &o->pci, env, err);
    if (r < 0)
        goto fail;
    *ret = d;
    return 0;
fail:
    pci_dev_destroy(d);
    return r;
}

static const struct qdev_prop *const bridge_prop_tables[] = {bridge_props};

const struct qdev_driver pci_bridge_driver = {
    .name = "pci-bridge",
    .desc = "Standard PCI Bridge",
    .category = "Bridge devices",
    .prop_tables = bridge_prop_tables,
    .n_prop_tables = ARRAY_SIZE(bridge_prop_tables),
    .opts_size = sizeof(struct bridge_opts),
    .bridge = true,
    .realize = bridge_realize,
};
