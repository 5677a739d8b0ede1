/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-regs.c — virtio-pci register behaviour (daemon/hw/virtio/virtio_pci_regs.c)
 * where the access scripts (tests/data/access/virtio-*) cannot reach: the configuration-change
 * interrupt a link change raises (virtio_net_set_link; QEMU's set_link, which pcid's monitor
 * does not have yet) over INTx and MSI-X, masked, with bus mastering off or a broken device;
 * what the status field then reads; and accesses the vCPU path never makes (qwords on the I/O
 * BAR, 3-byte pieces), split as QEMU's memory core splits them. Values are QEMU 7.2's.
 */
#include <errno.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>

#include "daemon/hw/pci/msix.h"
#include "daemon/hw/qdev.h"
#include "daemon/hw/virtio/virtio_pci.h"
#include "daemon/util/error.h"
#include "tests/unit/unit.h"

#define MAC          "02:00:00:00:00:01"
#define LEGACY_BAR   0
#define MSIX_BAR     1
#define MODERN_BAR   4
#define DEVICE_CFG   0x2000
#define ISR_CFG      0x1000
#define NET_STATUS   6 /* struct virtio_net_config.status */
#define CTRL_MASKBIT 0x1

static const struct qdev_env env = {.root_bus = true};

static void dev_free(void *p)
{
    pci_dev_destroy(p);
}

/* A virtio-net-pci with a fixed MAC and `extra` property pairs, freed after the case. */
static struct pci_device *net_new(struct unit_fix *f, const char *const *extra)
{
    const struct qdev_driver *drv = &virtio_net_pci_driver;
    struct error err = {0};
    struct pci_device *d = NULL;
    void *opts;

    assert_int_equal(qdev_opts_new(drv, &opts), 0);
    assert_int_equal(qdev_prop_set(drv, opts, "mac", MAC, &env, &err), 0);
    for (; extra && extra[0]; extra += 2)
        assert_int_equal(qdev_prop_set(drv, opts, extra[0], extra[1], &env, &err), 0);
    assert_int_equal(drv->realize(drv, opts, &env, &d, &err), 0);
    qdev_opts_free(drv, opts);
    unit_defer(f, dev_free, d);
    return d;
}

static uint64_t rd(struct pci_device *d, int bar, uint64_t off, unsigned len)
{
    return d->bars[bar].ops->read(d->bars[bar].opaque, off, len);
}

static void wr(struct pci_device *d, int bar, uint64_t off, uint64_t val, unsigned len)
{
    d->bars[bar].ops->write(d->bars[bar].opaque, off, val, len);
}

/* ---- configuration-change interrupt ---------------------------------------------------------- */

enum msix_mode { NO_MSIX, MSIX_UNMASKED, MSIX_MASKED, MSIX_FN_MASKED, MSIX_NO_VECTOR };

struct link_row {
    const char *name;
    bool driver_ok; /* DRIVER_OK set before the link goes down */
    enum msix_mode msix;
    bool master_off; /* Command.MASTER cleared after DRIVER_OK */
    bool broken;     /* a bad queue_enable first (its interrupt is read away) */
    /* expected after the link went down */
    uint8_t generation, isr;
    int intx;
    uint64_t delivered;
    uint8_t pba;
};

static const struct link_row link_rows[] = {
    {"INTx", true, NO_MSIX, false, false, 1, 3, 1, 0, 0},
    {"no interrupt before DRIVER_OK", false, NO_MSIX, false, false, 0, 0, 0, 0, 0},
    {"MSI-X vector unmasked", true, MSIX_UNMASKED, false, false, 1, 3, 0, 1, 0},
    {"MSI-X vector masked goes pending", true, MSIX_MASKED, false, false, 1, 3, 0, 0, 1},
    {"MSI-X function masked goes pending", true, MSIX_FN_MASKED, false, false, 1, 3, 0, 0, 1},
    {"MSI-X without a config vector", true, MSIX_NO_VECTOR, false, false, 1, 3, 0, 0, 0},
    {"bus mastering off drops DRIVER_OK", true, NO_MSIX, true, false, 0, 0, 0, 0, 0},
    {"broken device stays silent", true, NO_MSIX, false, true, 2, 3, 0, 0, 0},
    {"broken device, MSI-X", true, MSIX_UNMASKED, false, true, 2, 3, 0, 1, 0},
};

static void test_link(void **state)
{
    struct unit_fix *f = *state;
    const struct link_row *row = f->row;
    struct pci_device *d = net_new(f, NULL);
    uint16_t cap = d->msix->cap;

    wr(d, MODERN_BAR, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    wr(d, MODERN_BAR, VIRTIO_PCI_COMMON_GF, 1, 4); /* VIRTIO_F_VERSION_1 */
    wr(d, MODERN_BAR, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
    pci_dev_config_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    if (row->msix != NO_MSIX) {
        pci_dev_config_write(d, cap + PCI_MSIX_FLAGS + 1, row->msix == MSIX_FN_MASKED ? 0xc0 : 0x80,
                             1);
        wr(d, MODERN_BAR, VIRTIO_PCI_COMMON_MSIX, row->msix == MSIX_NO_VECTOR ? 0xffff : 0, 2);
        if (row->msix != MSIX_MASKED)
            msix_bar_write(d, MSIX_BAR, PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
    }
    if (row->driver_ok)
        wr(d, MODERN_BAR, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
    if (row->master_off)
        pci_dev_config_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    if (row->broken) {
        wr(d, MODERN_BAR, VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2);
        assert_int_equal(rd(d, MODERN_BAR, ISR_CFG, 1), 3);
    }

    assert_int_equal(virtio_net_set_link(d, false), 0);
    assert_int_equal(rd(d, MODERN_BAR, VIRTIO_PCI_COMMON_CFGGENERATION, 1), row->generation);
    assert_int_equal(d->irq_state[0], row->intx);
    assert_int_equal(d->msix->delivered, row->delivered);
    assert_int_equal(d->msix->pba[0], row->pba);
    assert_int_equal(rd(d, MODERN_BAR, ISR_CFG, 1), row->isr);
    assert_int_equal(d->irq_state[0], 0); /* the ISR read lowers INTx */
}

/* ---- the link status field ------------------------------------------------------------------- */

struct status_row {
    const char *name;
    bool up[3]; /* successive set_link calls */
    int n;
    uint16_t status;
    uint8_t generation;
};

static const struct status_row status_rows[] = {
    {"up at realize", {true}, 1, VIRTIO_NET_S_LINK_UP, 0},
    {"down", {false}, 1, 0, 1},
    {"down twice counts once", {false, false}, 2, 0, 1},
    {"down then up", {false, true}, 2, VIRTIO_NET_S_LINK_UP, 2},
};

static void test_status(void **state)
{
    struct unit_fix *f = *state;
    const struct status_row *row = f->row;
    struct pci_device *d = net_new(f, NULL);

    wr(d, MODERN_BAR, VIRTIO_PCI_COMMON_STATUS, 0x07, 1);
    for (int i = 0; i < row->n; i++)
        assert_int_equal(virtio_net_set_link(d, row->up[i]), 0);
    assert_int_equal(rd(d, MODERN_BAR, DEVICE_CFG + NET_STATUS, 2), row->status);
    assert_int_equal(rd(d, LEGACY_BAR, VIRTIO_PCI_CONFIG_OFF(false) + NET_STATUS, 2), row->status);
    assert_int_equal(rd(d, MODERN_BAR, VIRTIO_PCI_COMMON_CFGGENERATION, 1), row->generation);
}

/* Not a virtio-net device: refused, nothing touched. */
static void test_link_not_net(void **state)
{
    struct unit_fix *f = *state;
    struct pci_device *e = NULL;
    struct error err = {0};
    void *opts;

    assert_int_equal(qdev_opts_new(&e1000_driver, &opts), 0);
    assert_int_equal(e1000_driver.realize(&e1000_driver, opts, &env, &e, &err), 0);
    qdev_opts_free(&e1000_driver, opts);
    unit_defer(f, dev_free, e);
    assert_int_equal(virtio_net_set_link(e, false), -ENODEV);
}

/* ---- accesses the vCPU path never makes, split as QEMU splits them --------------------------- */

struct split_row {
    const char *name;
    int bar;
    uint64_t off;
    unsigned len;
    uint64_t val;
};

static const struct split_row split_rows[] = {
    /* host features, then guest features 0 */
    {"legacy qword at 0", LEGACY_BAR, 0, 8, 0x79bf8064},
    /* ISR 0 at 0x13, mac[0..1] at 0x14, mac[2] at 0x16 */
    {"legacy dword at 0x13", LEGACY_BAR, 0x13, 4, 0x00000200},
    /* word at 0x12: status; byte at 0x14: mac[0] */
    {"legacy 3 bytes at 0x12", LEGACY_BAR, 0x12, 3, 0x020000},
    /* mac[4..5], status, then past the 8 bytes of configuration */
    {"modern qword across the end of device config", MODERN_BAR, DEVICE_CFG + 4, 8,
     0xffffffff00010100ull},
    /* word at 2: nothing (0), byte at 4: device_feature low byte */
    {"modern 3 bytes at 2", MODERN_BAR, 2, 3, 0x240000},
    {"modern past notify reads 0", MODERN_BAR, 0x3ffc, 8, 0},
};

static void test_split(void **state)
{
    struct unit_fix *f = *state;
    const struct split_row *row = f->row;
    struct pci_device *d = net_new(f, NULL);

    assert_int_equal(rd(d, row->bar, row->off, row->len), row->val);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, link_rows, test_link);
    UNIT_ROWS_FIX(&s, status_rows, test_status);
    unit_add(&s, "link", "not a virtio-net device", test_link_not_net, NULL, unit_fix_setup,
             unit_fix_teardown);
    UNIT_ROWS_FIX(&s, split_rows, test_split);
    return unit_run(&s, "virtio-regs");
}
