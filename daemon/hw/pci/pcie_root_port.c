/* SPDX-License-Identifier: MIT */
/*
 * pcie_root_port.c — `pcie-root-port`, QEMU 7.2's generic PCI Express root port (Red Hat
 * 1b36:000c; hw/pci-bridge/gen_pcie_root_port.c on pcie_root_port.c).
 *
 * Layout, as QEMU builds it: Subsystem ID capability at 0x40 (1b36:0000), MSI-X (one vector,
 * exclusive 4 KiB BAR0) at 0x48, the PCI Express capability (root port, slot implemented) at
 * 0x54, AER at 0x100 (Multiple Header Recording with aer_log_max > 0), ACS at 0x148 (unless
 * disable-acs), and QEMU's resource-reserve vendor capability when any *-reserve is given
 * (x-native-hotplug=off with hotplug on implies io-reserve=4K, as QEMU 7.2).
 * 4 KiB config space, INTA#. Link 16 GT/s x32 by default (x-speed, x-width).
 *
 * Behaviour: the bridge header (pci_bridge.c), the slot (pcie.c: Slot Control writes, power,
 * events), AER and root error command (pcie_aer.c). Reset clears root control, device error
 * enables, ARI forwarding, ACS control and root error command, resets the slot by population,
 * the bridge registers, and disables every window.
 *
 * Properties and refusals are QEMU's: a chassis/slot pair may exist once ("Can't add chassis
 * slot, error -16"); aer_log_max is at most 128 ("Invalid aer_log_max 129. The max number of
 * aer log is 128"); pref32-reserve and pref64-reserve are exclusive; mem-reserve and
 * pref32-reserve stay below 4 GiB; io-reserve=0 makes the I/O window and Command I/O read-only.
 */
#include <errno.h>
#include <stdlib.h>

#include "../qdev.h"
#include "msix.h"
#include "pci_bridge_common.h"
#include "pci_cap.h"
#include "pcie.h"
#include "pcie_aer.h"

#define REDHAT_VENDOR_ID    0x1b36
#define REDHAT_RP_DEVICE_ID 0x000c
#define RP_AER_OFFSET       0x100
#define RP_ACS_OFFSET       (RP_AER_OFFSET + PCI_ERR_SIZEOF)
#define SSVID_SIZEOF        8 /* PCI-to-PCI Bridge 1.2 §3.2.5.19 style subsystem IDs */
#define SSVID_VENDOR        4
#define SSVID_DEVICE        6
#define RP_ACPI_IO_RESERVE  0x1000 /* QEMU's GEN_PCIE_ROOT_PORT_ACPI_IO_RES */

struct rp_opts {
    struct pci_dev_opts pci;
    bool migrate_msix;
    struct pci_reserve_opts res;
    int32_t speed, width; /* indexes into the choices below */
    bool pcp, disable_acs, hotplug, native_hotplug;
    uint8_t chassis, port;
    uint16_t slot, aer_log_max;
};

struct pcie_root_port {
    struct pcie_slot s; /* first */
};

static const char *const speed_names[] = {"2_5", "5", "8", "16", NULL};
static const char *const width_names[] = {"1", "2", "4", "8", "12", "16", "32", NULL};
static const uint8_t width_lanes[] = {1, 2, 4, 8, 12, 16, 32};

#define RO(f) offsetof(struct rp_opts, f)

/* QEMU 7.2's pcie-root-port properties (device-list-properties). */
static const struct qdev_prop rp_props[] = {
    {"x-migrate-msix", QDEV_PROP_BOOL, RO(migrate_msix), "on"},
    PCI_RESERVE_PROPS(struct rp_opts, res),
    {"x-speed", QDEV_PROP_ENUM, RO(speed), "16", 0, NULL, "2_5/5/8/16", speed_names,
     "PCIELinkSpeed"},
    {"x-width", QDEV_PROP_ENUM, RO(width), "32", 0, NULL, "1/2/4/8/12/16/32", width_names,
     "PCIELinkWidth"},
    {"power_controller_present", QDEV_PROP_BOOL, RO(pcp), "on", 0, NULL, "on/off"},
    {"disable-acs", QDEV_PROP_BOOL, RO(disable_acs), "off"},
    {"chassis", QDEV_PROP_UINT8, RO(chassis), "0"},
    {"slot", QDEV_PROP_UINT16, RO(slot), "0"},
    {"hotplug", QDEV_PROP_BOOL, RO(hotplug), "on"},
    {"x-native-hotplug", QDEV_PROP_BOOL, RO(native_hotplug), "on"},
    {"port", QDEV_PROP_UINT8, RO(port), "0"},
    {"aer_log_max", QDEV_PROP_UINT16, RO(aer_log_max), "8"},
    {0},
};

static struct pcie_root_port *rp_of(struct pci_device *d)
{
    return container_of(d, struct pcie_root_port, s.br.pci);
}

static void rp_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    struct pcie_root_port *rp = rp_of(d);
    uint32_t root_cmd = pcie_aer_root_cmd(d);
    uint16_t ctl = (uint16_t)le_load(d->config + d->exp_cap + PCI_EXP_SLTCTL, 2);
    uint16_t sta = (uint16_t)le_load(d->config + d->exp_cap + PCI_EXP_SLTSTA, 2);

    pci_bridge_config_write(d, offset, value, len);
    pcie_slot_write_config(&rp->s, ctl, sta, offset, value, len);
    pcie_aer_write_config(d, offset, value, len);
    pcie_aer_root_write_config(d, root_cmd);
}

/* QEMU's rp_aer_vector_update: the generic port signals AER on vector 0. */
static void aer_vector_update(struct pci_device *d)
{
    uint8_t *c = d->config + d->aer_cap + PCI_ERR_ROOT_STATUS;

    le_store(c, le_load(c, 4) & ~(uint32_t)PCI_ERR_ROOT_AER_IRQ, 4);
}

static void rp_reset(struct pci_device *d)
{
    struct pcie_root_port *rp = rp_of(d);

    aer_vector_update(d);
    pcie_cap_root_reset(d);
    pcie_cap_deverr_reset(d);
    pcie_slot_reset(&rp->s);
    pcie_cap_arifwd_reset(d);
    pcie_acs_reset(d);
    pcie_aer_root_reset(d);
    pci_bridge_reset(&rp->s.br);
    pci_bridge_disable_base_limit(&rp->s.br);
}

static void rp_destroy(struct pci_device *d)
{
    struct pcie_root_port *rp = rp_of(d);

    pci_bridge_fini(&rp->s.br);
    free(rp);
}

static const struct pci_dev_class rp_class = {
    .name = "pcie-root-port",
    .config_write = rp_config_write,
    .reset = rp_reset,
    .destroy = rp_destroy,
};

static int internal(struct error *err, const char *what)
{
    return pci_bridge_internal(err, &pcie_root_port_driver, what);
}

static int rp_realize(const struct qdev_driver *drv, const void *opts, const struct qdev_env *env,
                      struct pci_device **ret, struct error *err)
{
    const struct rp_opts *o = opts;
    struct pcie_root_port *rp = calloc(1, sizeof(*rp));
    struct pci_reserve_opts res;
    struct pcie_slot *s;
    struct pci_device *d;
    int r, ssvid;

    if (!rp)
        return internal(err, "out of memory");
    s = &rp->s;
    d = &s->br.pci;
    if (pci_bridge_init(&s->br, &rp_class, PCIE_CONFIG_SPACE_SIZE, true) < 0) {
        if (d->config)
            pci_dev_destroy(d);
        else
            free(rp);
        return internal(err, "out of memory");
    }
    d->name = drv->name;
    s->br.slot = s;
    s->chassis = o->chassis;
    s->slot = o->slot;
    s->port = o->port;
    s->speed = (enum pcie_link_speed)(o->speed + 1);
    s->width = width_lanes[o->width];
    s->hotplug = o->hotplug;
    s->native_hotplug = o->native_hotplug || env->hotplug;
    s->pcp = o->pcp;
    le_set16(d->config + PCI_VENDOR_ID, REDHAT_VENDOR_ID);
    le_set16(d->config + PCI_DEVICE_ID, REDHAT_RP_DEVICE_ID);
    pci_dev_set_irq_pin(d, 1);
    /* QEMU's pcie_port_init_reg: 66 MHz and fast back-to-back do not apply to PCIe, and
     * some Bridge Control bits are hardwired to 0. */
    le_set16(d->config + PCI_STATUS, 0);
    le_set16(d->config + PCI_SEC_STATUS, 0);
    le_set16(d->wmask + PCI_BRIDGE_CONTROL,
             le_get16(d->wmask + PCI_BRIDGE_CONTROL) &
                 (uint16_t) ~(PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_FAST_BACK |
                              PCI_BRIDGE_CTL_DISCARD | PCI_BRIDGE_CTL_SEC_DISCARD |
                              PCI_BRIDGE_CTL_DISCARD_STATUS | PCI_BRIDGE_CTL_DISCARD_SERR));

    ssvid = pci_cap_add(d, PCI_CAP_ID_SSVID, 0, SSVID_SIZEOF);
    if (ssvid < 0) {
        r = internal(err, "no room for capabilities");
        goto fail;
    }
    le_set16(d->config + ssvid + SSVID_VENDOR, REDHAT_VENDOR_ID);
    le_set16(d->config + ssvid + SSVID_DEVICE, 0);
    if (msix_init_exclusive_bar(d, 1, 0) < 0 ||
        pcie_cap_init(d, 0, PCI_EXP_TYPE_ROOT_PORT, o->port) < 0) {
        r = internal(err, "no room for capabilities");
        goto fail;
    }
    pcie_slot_fill_link(s);
    pcie_cap_arifwd_init(d);
    pcie_cap_deverr_init(d);
    pcie_slot_init(s);
    pcie_cap_root_init(d);
    if (env->pcie_slot_taken && env->pcie_slot_taken(env->opaque, o->chassis, o->slot)) {
        r = error_invalid(err, "Can't add chassis slot, error %d", -EBUSY);
        goto fail;
    }
    if (o->aer_log_max > PCIE_AER_LOG_MAX_LIMIT) {
        r = error_invalid(err, "Invalid aer_log_max %u. The max number of aer log is %d",
                          o->aer_log_max, PCIE_AER_LOG_MAX_LIMIT);
        goto fail;
    }
    if (pcie_aer_init(d, RP_AER_OFFSET, o->aer_log_max, true) < 0) {
        r = internal(err, "no room for AER");
        goto fail;
    }
    pcie_aer_root_init(d);
    aer_vector_update(d);
    if (!o->disable_acs && pcie_acs_init(d, RP_ACS_OFFSET, true) < 0) {
        r = internal(err, "no room for ACS");
        goto fail;
    }
    /* QEMU 7.2 (gen_rp_realize): a port whose hot-plug is left to ACPI (x-native-hotplug=off)
     * asks firmware for a 4 KiB I/O window unless io-reserve says otherwise. */
    res = o->res;
    if (o->hotplug && !o->native_hotplug && res.io == PCI_RESERVE_UNSET)
        res.io = RP_ACPI_IO_RESERVE;
    r = pci_reserve_cap_init(d, &res, drv, err);
    if (r < 0)
        goto fail;
    if (!res.io) {
        le_set16(d->wmask + PCI_COMMAND, le_get16(d->wmask + PCI_COMMAND) & ~PCI_COMMAND_IO);
        d->wmask[PCI_IO_BASE] = 0;
        d->wmask[PCI_IO_LIMIT] = 0;
    }
    r = pci_dev_opts_apply_rom(d, drv, &o->pci, env, err);
    if (r < 0)
        goto fail;
    /* The state a device has before its first reset: as QEMU realizes it. */
    pcie_port_sync_link(d);
    *ret = d;
    return 0;
fail:
    pci_dev_destroy(d);
    return r;
}

static const struct qdev_prop *const rp_prop_tables[] = {rp_props};

const struct qdev_driver pcie_root_port_driver = {
    .name = "pcie-root-port",
    .desc = "PCI Express Root Port",
    .category = "Bridge devices",
    .prop_tables = rp_prop_tables,
    .n_prop_tables = ARRAY_SIZE(rp_prop_tables),
    .opts_size = sizeof(struct rp_opts),
    .express = true,
    .bridge = true,
    .realize = rp_realize,
};
