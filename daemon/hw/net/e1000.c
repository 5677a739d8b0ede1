/* SPDX-License-Identifier: MIT */
/*
 * e1000.c — Intel 82540EM Gigabit Ethernet (QEMU's "e1000"): config space as QEMU 7.2 builds
 * it (8086:100e rev 3, BAR0 128 KiB MMIO, BAR1 64-byte I/O, no capabilities, efi-e1000.rom),
 * the MAC it picks, and the reset hook. Register behaviour is in e1000_regs.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../qdev.h"
#include "e1000.h"
#include "macaddr.h"

#define E1000_VENDOR_ID         0x8086
#define E1000_DEVICE_ID         0x100e /* 82540EM */
#define E1000_82544GC_DEVICE_ID 0x100c /* 82544GC copper; 82545EM copper is 0x100f */
#define E1000_REVISION          0x03
#define E1000_PHY_ID2           0x0c20 /* 82540EM, 82545EM (SDM: PHY identifier) */
#define E1000_PHY_ID2_82544     0x0c30

struct e1000_opts {
    struct pci_dev_opts pci;
    struct qdev_mac mac;
    char *netdev;
    bool autonegotiation, mitigation, extra_mac_registers, migrate_tso_props, init_vet;
    int32_t bootindex;
};

#define EO(f) offsetof(struct e1000_opts, f)

static const struct qdev_prop e1000_props[] = {
    {"mac", QDEV_PROP_MAC, EO(mac), NULL, 0, NULL, NULL},
    {"netdev", QDEV_PROP_STR, EO(netdev), NULL, 0, NULL, "ID of a netdev to use as a backend"},
    {"autonegotiation", QDEV_PROP_BOOL, EO(autonegotiation), "on", 0, NULL, "on/off"},
    {"mitigation", QDEV_PROP_BOOL, EO(mitigation), "on", 0, NULL, "on/off"},
    {"extra_mac_registers", QDEV_PROP_BOOL, EO(extra_mac_registers), "on", 0, NULL, "on/off"},
    {"migrate_tso_props", QDEV_PROP_BOOL, EO(migrate_tso_props), "on", 0, NULL, "on/off"},
    {"init-vet", QDEV_PROP_BOOL, EO(init_vet), "on", 0, NULL, "on/off"},
    {"bootindex", QDEV_PROP_INT32, EO(bootindex), "-1", 0, NULL, NULL},
    {0},
};

static void e1000_pci_reset(struct pci_device *d)
{
    e1000_regs_reset(container_of(d, struct e1000, pci));
}

static void e1000_pci_destroy(struct pci_device *d)
{
    struct e1000 *s = container_of(d, struct e1000, pci);

    e1000_regs_free(s);
    free(s);
}

/* Unplug: the NIC gives its default-MAC slot back (QEMU's qemu_del_nic). */
static void e1000_pci_unrealize(struct pci_device *d)
{
    net_macaddr_release(container_of(d, struct e1000, pci)->mac);
}

static const struct pci_dev_class e1000_class = {
    .name = "e1000",
    .reset = e1000_pci_reset,
    .unrealize = e1000_pci_unrealize,
    .destroy = e1000_pci_destroy,
    .state_version = E1000_STATE_VERSION,
    .state_save = e1000_state_save,
    .state_check = e1000_state_check,
    .state_load = e1000_state_load,
};

/* The MAC the device chose when none was given, so a machine description can pin it. */
static int e1000_effective_prop(const struct pci_device *d, const char *name, char *buf, size_t len)
{
    const uint8_t *m = container_of(d, const struct e1000, pci)->mac;

    if (!streq(name, "mac"))
        return -ENOENT;
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return 0;
}

static int e1000_realize(const struct qdev_driver *drv, const void *opts,
                         const struct qdev_env *env, struct pci_device **ret, struct error *err)
{
    const struct e1000_opts *o = opts;
    struct e1000 *s = calloc(1, sizeof(*s));
    struct pci_device *d;
    int r;

    if (!s)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");
    d = &s->pci;
    if (pci_dev_init(d, &e1000_class, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL) < 0) {
        free(s);
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");
    }
    d->name = drv->name;
    pci_dev_set_ids(d, E1000_VENDOR_ID, drv->device_id, E1000_REVISION, 0x020000);
    /* QEMU's e1000 realize sets a 16-dword cache line; a reset clears it like any other. */
    d->config[PCI_CACHE_LINE_SIZE] = 0x10;
    pci_dev_set_subsystem(d, 0x1af4, 0x1100);
    pci_dev_set_irq_pin(d, 1);

    if (o->mac.set)
        memcpy(s->mac, o->mac.a, 6);
    net_macaddr_claim(s->mac, o->mac.set);
    s->flags = (o->autonegotiation ? E1000_FLAG_AUTONEG : 0) |
               (o->mitigation ? E1000_FLAG_MIT : 0) |
               (o->extra_mac_registers ? E1000_FLAG_MAC : 0) |
               (o->migrate_tso_props ? E1000_FLAG_TSO : 0) | (o->init_vet ? E1000_FLAG_VET : 0);
    s->phy_id2 = drv->device_id == E1000_82544GC_DEVICE_ID ? E1000_PHY_ID2_82544 : E1000_PHY_ID2;
    /* QEMU builds the EEPROM at realize and resets a device before a guest can see it. */
    if (e1000_regs_init(s, drv->device_id) < 0) {
        pci_dev_destroy(d); /* unrealize gives the MAC back */
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");
    }

    r = pci_bar_register(d, 0, E1000_MMIO_SIZE, PCI_BASE_ADDRESS_SPACE_MEMORY, &e1000_mmio_ops, s);
    if (r == 0)
        r = pci_bar_register(d, 1, E1000_IO_SIZE, PCI_BASE_ADDRESS_SPACE_IO, &e1000_io_ops, s);
    if (r < 0) {
        pci_dev_destroy(d); /* unrealize gives the MAC back */
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "e1000 BARs");
    }
    r = pci_dev_opts_apply_rom(d, drv, &o->pci, env, err);
    if (r < 0) {
        pci_dev_destroy(d); /* unrealize gives the MAC back */
        return r;
    }
    *ret = d;
    return 0;
}

static const struct qdev_prop *const e1000_prop_tables[] = {e1000_props};

/* QEMU's three e1000 models differ in their PCI device ID (Intel 8254x family). */
#define E1000_DRIVER(_name, _id)                                                                   \
    {                                                                                              \
        .name = _name, .desc = "Intel Gigabit Ethernet", .category = "Network devices",            \
        .prop_tables = e1000_prop_tables, .n_prop_tables = ARRAY_SIZE(e1000_prop_tables),          \
        .opts_size = sizeof(struct e1000_opts), .default_romfile = "efi-e1000.rom",                \
        .device_id = _id, .realize = e1000_realize, .effective_prop = e1000_effective_prop,        \
    }

const struct qdev_driver e1000_driver = E1000_DRIVER("e1000", E1000_DEVICE_ID);
const struct qdev_driver e1000_82544gc_driver =
    E1000_DRIVER("e1000-82544gc", E1000_82544GC_DEVICE_ID);
const struct qdev_driver e1000_82545em_driver = E1000_DRIVER("e1000-82545em", 0x100f);
