/* SPDX-License-Identifier: MIT */
/*
 * test-pcie.c — the PCI Express capability and the slot of a root port (daemon/hw/pci/pcie.c,
 * pcie_root_port.c) against PCIe 4.0 §7.5.3 and QEMU 7.2's pcie.c: Slot Capabilities from the
 * port's properties, link capabilities per speed and width, the slot after reset by
 * population, Slot Control writes (command completion, interlock, power to the functions below,
 * the hot-plug interrupt over INTx, turning a populated slot off), Slot Status
 * write-1-to-clear with QEMU's raw-value quirk, unplug requests, and the link a port mirrors
 * from device 0 below it.
 */
#include <errno.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bridge.h"
#include "daemon/hw/pci/pci_bus.h"
#include "daemon/hw/pci/pcie.h"
#include "daemon/hw/qdev.h"
#include "daemon/util/error.h"
#include "tests/unit/unit.h"

#define EXP 0x54 /* QEMU's pcie-root-port puts the PCI Express capability here */

static const struct qdev_env env = {0};

/* What the root bus sees. */
struct sink {
    int level[PCI_NUM_PINS];
    int raises; /* INTA assertions */
    int ejects;
    unsigned eject_slot;
    struct pci_bus *eject_bus;
};

static void sink_intx(void *opaque, struct pci_device *d, int pin, int change)
{
    struct sink *s = opaque;

    (void)d;
    s->level[pin] += change;
    if (pin == 0 && change > 0)
        s->raises++;
}

static void sink_eject(void *opaque, struct pci_bus *bus, unsigned slot)
{
    struct sink *s = opaque;

    s->ejects++;
    s->eject_bus = bus;
    s->eject_slot = slot;
}

static const struct pci_bus_ops sink_ops = {.intx_change = sink_intx, .eject = sink_eject};

static const struct pci_dev_class leaf_class = {.name = "leaf"};

struct fix {
    struct pci_bus *root;
    struct pci_device *port;
    struct pcie_slot *slot;
    struct sink sink;
};

static void detach(void *p)
{
    pci_bus_detach(p);
}

static void dev_destroy(void *p)
{
    pci_dev_destroy(p);
}

static void leaf_free(void *p)
{
    pci_dev_destroy(p);
    free(p);
}

static void bus_free(void *p)
{
    pci_bus_free(p);
}

/* A pcie-root-port with `props` ("name", "value", ..., NULL) at 00:04.0 of a root bus,
 * realized as hot-plugged when `hot`. */
static struct fix *fix_new_env(struct unit_fix *f, const char *const *props, bool hot)
{
    const struct qdev_env realize_env = {.hotplug = hot};
    struct fix *x = calloc(1, sizeof(*x));
    const struct qdev_driver *drv = &pcie_root_port_driver;
    struct error err = {0};
    void *opts;

    assert_non_null(x);
    unit_defer(f, free, x);
    assert_int_equal(pci_bus_new("pcie.0", true, false, &x->root), 0);
    unit_defer(f, bus_free, x->root);
    x->root->ops = &sink_ops;
    x->root->opaque = &x->sink;
    assert_int_equal(qdev_opts_new(drv, &opts), 0);
    for (; props && props[0]; props += 2)
        assert_int_equal(qdev_prop_set(drv, opts, props[0], props[1], &env, &err), 0);
    assert_int_equal(drv->realize(drv, opts, &realize_env, &x->port, &err), 0);
    qdev_opts_free(drv, opts);
    unit_defer(f, dev_destroy, x->port);
    assert_int_equal(pci_bus_attach(x->root, x->port, PCI_DEVFN_OF(4, 0)), 0);
    unit_defer(f, detach, x->port);
    x->slot = x->port->bridge->slot;
    assert_non_null(x->slot);
    assert_int_equal(x->port->exp_cap, EXP);
    x->port->bridge->sec->port = true;
    x->port->bridge->sec->express = true;
    /* Firmware gives the port its bus numbers. */
    pthread_mutex_lock(&x->port->lock);
    pci_dev_config_write(x->port, PCI_SECONDARY_BUS, 0x0101, 2);
    pthread_mutex_unlock(&x->port->lock);
    return x;
}

static struct fix *fix_new(struct unit_fix *f, const char *const *props)
{
    return fix_new_env(f, props, false);
}

/* A PCIe endpoint at `devfn` below the port, link status `lnksta`. */
static struct pci_device *leaf_new(struct unit_fix *f, struct fix *x, uint8_t devfn,
                                   uint16_t lnksta)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &leaf_class, PCIE_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL),
                     0);
    unit_defer(f, leaf_free, d);
    pci_dev_set_ids(d, 0x1af4, 0x1041, 1, 0x020000);
    assert_true(pcie_endpoint_cap_init(d, 0, false) > 0);
    le_store(d->config + d->exp_cap + PCI_EXP_LNKSTA, lnksta, 2);
    assert_int_equal(pci_bus_attach(x->port->bridge->sec, d, devfn), 0);
    unit_defer(f, detach, d);
    return d;
}

static uint32_t rd(struct pci_device *d, uint32_t off, unsigned len)
{
    return pci_dev_config_read(d, off, len);
}

static void wr(struct pci_device *d, uint32_t off, uint32_t val, unsigned len)
{
    pthread_mutex_lock(&d->lock);
    pci_dev_config_write(d, off, val, len);
    pthread_mutex_unlock(&d->lock);
}

static void reset(struct pci_device *d)
{
    pthread_mutex_lock(&d->lock);
    pci_dev_reset(d);
    pthread_mutex_unlock(&d->lock);
}

/* ---- capabilities from the properties ----------------------------------------------------------
 */

struct cap_row {
    const char *name;
    const char *props[7];
    bool hot;     /* the port is hot-plugged */
    uint16_t reg; /* inside the PCIe capability */
    unsigned len;
    uint32_t mask, expect; /* (value & mask) == expect */
};

#define SLTCAP_ALL                                                                                 \
    (PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP | PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_PIP |           \
     PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC | PCI_EXP_SLTCAP_EIP)
#define LNK_SPEED_WIDTH (PCI_EXP_LNKCAP_SLS | PCI_EXP_LNKCAP_MLW)

/* clang-format off */
static const struct cap_row cap_rows[] = {
    {"root port, version 2, slot implemented", {NULL}, false, PCI_EXP_FLAGS, 2, 0x01ff, 0x0142},
    {"defaults: every slot feature", {NULL}, false, PCI_EXP_SLTCAP, 4, SLTCAP_ALL, SLTCAP_ALL},
    {"physical slot number", {"chassis", "1", "slot", "5", NULL}, false, PCI_EXP_SLTCAP, 4,
     PCI_EXP_SLTCAP_PSN, 5u << 19},
    {"hotplug=off: not hot-plug capable or surprise", {"hotplug", "off", NULL}, false, PCI_EXP_SLTCAP,
     4, SLTCAP_ALL, SLTCAP_ALL & ~(PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC)},
    {"x-native-hotplug=off, cold: hot-plug bits hidden (ACPI answers)",
     {"x-native-hotplug", "off", NULL}, false, PCI_EXP_SLTCAP, 4, SLTCAP_ALL,
     SLTCAP_ALL & ~(PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC)},
    {"x-native-hotplug=off on a hot-plugged port: shown", {"x-native-hotplug", "off", NULL},
     true, PCI_EXP_SLTCAP, 4, SLTCAP_ALL, SLTCAP_ALL},
    {"hotplug=off on a hot-plugged port: hidden", {"hotplug", "off", NULL}, true,
     PCI_EXP_SLTCAP, 4, SLTCAP_ALL, SLTCAP_ALL & ~(PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC)},
    {"no power controller", {"power_controller_present", "off", NULL}, false, PCI_EXP_SLTCAP, 4,
     PCI_EXP_SLTCAP_PCP, 0},
    {"port number", {"port", "7", NULL}, false, PCI_EXP_LNKCAP, 4, PCI_EXP_LNKCAP_PN, 7u << 24},
    {"default link 16 GT/s x32", {NULL}, false, PCI_EXP_LNKCAP, 4, LNK_SPEED_WIDTH, 4 | 32 << 4},
    {"16 GT/s: bandwidth notification, DLL active reporting", {NULL}, false, PCI_EXP_LNKCAP, 4,
     PCI_EXP_LNKCAP_LBNC | PCI_EXP_LNKCAP_DLLLARC, PCI_EXP_LNKCAP_LBNC | PCI_EXP_LNKCAP_DLLLARC},
    {"16 GT/s: supported speeds vector", {NULL}, false, PCI_EXP_LNKCAP2, 4, 0xfe, 0x1e},
    {"16 GT/s: target link speed", {NULL}, false, PCI_EXP_LNKCTL2, 2, 0xf, 4},
    {"2.5 GT/s x1: none of it", {"x-speed", "2_5", "x-width", "1", NULL}, false, PCI_EXP_LNKCAP, 4,
     LNK_SPEED_WIDTH | PCI_EXP_LNKCAP_LBNC | PCI_EXP_LNKCAP_DLLLARC, 1 | 1 << 4},
    {"2.5 GT/s x4: bandwidth notification only", {"x-speed", "2_5", "x-width", "4", NULL}, false,
     PCI_EXP_LNKCAP, 4, PCI_EXP_LNKCAP_LBNC | PCI_EXP_LNKCAP_DLLLARC, PCI_EXP_LNKCAP_LBNC},
    {"2.5 GT/s: no speeds vector (QEMU leaves it 0)", {"x-speed", "2_5", NULL}, false, PCI_EXP_LNKCAP2,
     4, 0xfe, 0},
    {"8 GT/s: speeds up to 8", {"x-speed", "8", NULL}, false, PCI_EXP_LNKCAP2, 4, 0xfe, 0x0e},
    {"link status mirrors the empty port's maximum", {"x-speed", "8", "x-width", "4", NULL}, false,
     PCI_EXP_LNKSTA, 2, PCI_EXP_LNKSTA_CLS | PCI_EXP_LNKSTA_NLW, 3 | 4 << 4},
};
/* clang-format on */

static void test_caps(void **state)
{
    struct unit_fix *f = *state;
    const struct cap_row *r = f->row;
    struct fix *x = fix_new_env(f, r->props, r->hot);

    assert_int_equal(rd(x->port, EXP + r->reg, r->len) & r->mask, r->expect);
}

/* ---- Slot Control / Slot Status scripts -------------------------------------------------------
 */

enum slot_op {
    S_END = 0,
    S_LEAF,       /* a leaf at devfn (a) */
    S_RESET,      /* reset the port */
    S_CTL,        /* write Slot Control = a */
    S_STA,        /* write Slot Status = a (2 bytes) */
    S_STA32,      /* write the dword Slot Control | Slot Status << 16 = a */
    S_GETCTL,     /* Slot Control == a */
    S_GETSTA,     /* Slot Status & b == a */
    S_POWERED,    /* leaf (first one) powered == a */
    S_INTX,       /* INTA at the root == a */
    S_RAISES,     /* INTA assertions so far == a */
    S_EJECTS,     /* eject requests so far == a (slot b) */
    S_DLLLA,      /* Link Status DLL Link Active == a */
    S_PLUG_EVENT, /* hot-plug device 0 (a leaf at 00.0 arrives: presence changed, button) */
};

struct slot_step {
    enum slot_op op;
    uint32_t a, b;
};

struct slot_row {
    const char *name;
    struct slot_step steps[14];
};

#define CC   PCI_EXP_SLTSTA_CC
#define PDC  PCI_EXP_SLTSTA_PDC
#define ABP  PCI_EXP_SLTSTA_ABP
#define PDS  PCI_EXP_SLTSTA_PDS
#define EIS  PCI_EXP_SLTSTA_EIS
#define EVTS (CC | PDC | ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_MRLSC | PCI_EXP_SLTSTA_DLLSC)
#define HPIE PCI_EXP_SLTCTL_HPIE
#define CCIE PCI_EXP_SLTCTL_CCIE
#define PON  PCI_EXP_SLTCTL_PWR_IND_ON
#define POFF PCI_EXP_SLTCTL_PWR_IND_OFF
#define AOFF PCI_EXP_SLTCTL_ATTN_IND_OFF
#define PCC  PCI_EXP_SLTCTL_PCC
#define EIC  PCI_EXP_SLTCTL_EIC
#define L0   PCI_DEVFN_OF(0, 0)
#define L3   PCI_DEVFN_OF(3, 0)

/* clang-format off */
static const struct slot_row slot_rows[] = {
    {"reset, empty: power off, indicators off", {{S_RESET}, {S_GETCTL, PCC | POFF | AOFF},
                                                  {S_GETSTA, 0, 0xffff}}},
    {"reset with device 0: powered, power indicator on", {{S_LEAF, L0}, {S_RESET},
                                                           {S_GETCTL, PON | AOFF},
                                                           {S_POWERED, 1}}},
    {"a function at 03.0 alone stays unpowered", {{S_LEAF, L3}, {S_RESET},
                                                  {S_GETCTL, PCC | POFF | AOFF},
                                                  {S_POWERED, 0}}},
    {"power on: functions powered, command completed", {{S_LEAF, L3}, {S_RESET},
                                                         {S_CTL, PON | AOFF}, {S_POWERED, 1},
                                                         {S_GETSTA, CC, EVTS}}},
    {"power off again takes the power", {{S_LEAF, L3}, {S_RESET}, {S_CTL, PON | AOFF},
                                         {S_CTL, PCC | POFF | AOFF}, {S_POWERED, 0}}},
    {"command completed is write-1-to-clear", {{S_RESET}, {S_CTL, POFF | AOFF | PCC},
                                               {S_GETSTA, CC, CC}, {S_STA, CC},
                                               {S_GETSTA, 0, CC}}},
    {"writing 0 keeps the event", {{S_RESET}, {S_CTL, POFF | AOFF | PCC}, {S_STA, 0},
                                   {S_GETSTA, CC, CC}}},
    /* QEMU compares the raw written value with the events set before the write: a 1 for an
     * event that was not set undoes the whole write. */
    {"clearing with a bit for an unset event is undone", {{S_RESET},
                                                          {S_CTL, POFF | AOFF | PCC},
                                                          {S_STA, CC | PDC},
                                                          {S_GETSTA, CC, CC | PDC}}},
    {"the dword write of control and status compares the raw value too",
     {{S_RESET}, {S_CTL, POFF | AOFF | PCC}, {S_STA32, (uint32_t)CC << 16 | POFF | AOFF | PCC},
      {S_GETSTA, CC, CC}}},
    {"interlock control toggles the interlock status", {{S_RESET}, {S_CTL, EIC | POFF | AOFF | PCC},
                                                        {S_GETSTA, EIS, EIS},
                                                        {S_GETCTL, POFF | AOFF | PCC},
                                                        {S_CTL, EIC | POFF | AOFF | PCC},
                                                        {S_GETSTA, 0, EIS}}},
    /* QEMU 7.2: the root port's AER root-command hook sets INTx to 0 after every config
     * write, so the command-completed interrupt is raised and at once lowered. */
    {"HPIE + CCIE: command completion raises INTx (then AER's hook lowers it)",
     {{S_RESET}, {S_CTL, HPIE | CCIE | POFF | AOFF | PCC}, {S_RAISES, 1}, {S_INTX, 0}}},
    {"an event while enabled raises INTx and it stays up", {{S_RESET},
                                                            {S_CTL, HPIE | CCIE | PCI_EXP_SLTCTL_PDCE | POFF | AOFF | PCC},
                                                            {S_STA, CC}, {S_PLUG_EVENT},
                                                            {S_RAISES, 2}, {S_INTX, 1}}},
    {"presence change without PDCE: no interrupt", {{S_RESET},
                                                     {S_CTL, HPIE | CCIE | POFF | AOFF | PCC},
                                                     {S_STA, CC}, {S_PLUG_EVENT},
                                                     {S_RAISES, 1}, {S_GETSTA, PDC, PDC}}},
    {"no HPIE: no interrupt", {{S_RESET}, {S_CTL, CCIE | POFF | AOFF | PCC}, {S_RAISES, 0}}},
    {"no CCIE: command completion does not interrupt", {{S_RESET},
                                                        {S_CTL, HPIE | POFF | AOFF | PCC},
                                                        {S_RAISES, 0}, {S_GETSTA, CC, CC}}},
    {"turning a populated slot off ejects its devices", {{S_LEAF, L0}, {S_RESET},
                                                         {S_GETSTA, PDS, PDS},
                                                         {S_CTL, PCC | POFF | AOFF},
                                                         {S_EJECTS, 1, 0}}},
    {"after plug, off ejects and reports presence change", {{S_LEAF, L0}, {S_RESET},
                                                            {S_STA, 0xffff},
                                                            {S_CTL, PCC | POFF | AOFF},
                                                            {S_EJECTS, 1, 0},
                                                            {S_GETSTA, PDC, PDS | PDC},
                                                            {S_DLLLA, 0}}},
    {"an empty slot turned off ejects nothing", {{S_RESET}, {S_CTL, PON | AOFF},
                                                 {S_CTL, PCC | POFF | AOFF}, {S_EJECTS, 0}}},
};
/* clang-format on */

static void test_slot(void **state)
{
    struct unit_fix *f = *state;
    const struct slot_row *r = f->row;
    struct fix *x = fix_new(f, NULL);
    struct pci_device *leaf = NULL;
    bool plugged = false;

    for (const struct slot_step *s = r->steps; s->op != S_END; s++) {
        switch (s->op) {
        case S_LEAF: {
            struct pci_device *d = leaf_new(f, x, (uint8_t)s->a, 0x0011);

            if (!leaf)
                leaf = d;
            break;
        }
        case S_RESET:
            reset(x->port);
            /* What the machine does for a cold-plugged device 0: present, link up. */
            if (!plugged && x->port->bridge->sec->devices[0]) {
                pthread_mutex_lock(&x->port->lock);
                pcie_slot_plug(x->slot, x->port->bridge->sec->devices[0], false);
                pthread_mutex_unlock(&x->port->lock);
                plugged = true;
            }
            break;
        case S_CTL:
            wr(x->port, EXP + PCI_EXP_SLTCTL, s->a, 2);
            break;
        case S_STA:
            wr(x->port, EXP + PCI_EXP_SLTSTA, s->a, 2);
            break;
        case S_STA32:
            wr(x->port, EXP + PCI_EXP_SLTCTL, s->a, 4);
            break;
        case S_GETCTL:
            assert_int_equal(rd(x->port, EXP + PCI_EXP_SLTCTL, 2), s->a);
            break;
        case S_GETSTA:
            assert_int_equal(rd(x->port, EXP + PCI_EXP_SLTSTA, 2) & s->b, s->a);
            break;
        case S_POWERED:
            assert_non_null(leaf);
            assert_int_equal(pci_dev_powered(leaf), s->a);
            break;
        case S_INTX:
            assert_int_equal(x->sink.level[0], s->a);
            break;
        case S_RAISES:
            assert_int_equal(x->sink.raises, s->a);
            break;
        case S_PLUG_EVENT: {
            struct pci_device *d = leaf_new(f, x, L0, 0x0011);

            pthread_mutex_lock(&x->port->lock);
            pcie_slot_plug(x->slot, d, true);
            pthread_mutex_unlock(&x->port->lock);
            break;
        }
        case S_EJECTS:
            assert_int_equal(x->sink.ejects, s->a);
            if (s->a) {
                assert_ptr_equal(x->sink.eject_bus, x->port->bridge->sec);
                assert_int_equal(x->sink.eject_slot, s->b);
            }
            break;
        case S_DLLLA:
            assert_int_equal(!!(rd(x->port, EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA), s->a);
            break;
        case S_END:
            break;
        }
    }
}

/* ---- unplug requests (QEMU's pcie_cap_slot_unplug_request_cb) ----------------------------------
 */

struct unplug_row {
    const char *name;
    uint16_t ctl;  /* Slot Control written first (after reset with device 0) */
    uint8_t devfn; /* the function asked for */
    bool fn0;      /* device 00.0 present */
    enum pcie_unplug expect;
    uint16_t sta_mask, sta; /* Slot Status afterwards */
};

/* clang-format off */
static const struct unplug_row unplug_rows[] = {
    {"powered slot: attention button", PON | AOFF, L0, true, PCIE_UNPLUG_PENDING, ABP, ABP},
    {"indicator blinking: busy", PCI_EXP_SLTCTL_PWR_IND_BLINK | AOFF, L0, true, PCIE_UNPLUG_BUSY,
     ABP, 0},
    {"slot off: removed now, presence gone", PCC | POFF | AOFF, L0, true, PCIE_UNPLUG_SLOT,
     PDS | PDC | ABP, PDC},
    {"power off but indicator on: attention button", PCC | PON | AOFF, L0, true,
     PCIE_UNPLUG_PENDING, ABP, ABP},
    {"a function without device 0: removed alone", PON | AOFF, L3, false, PCIE_UNPLUG_FUNCTION,
     ABP, 0},
    {"a function next to device 0: the slot's turn", PON | AOFF, L3, true, PCIE_UNPLUG_PENDING,
     ABP, ABP},
};
/* clang-format on */

static void test_unplug(void **state)
{
    struct unit_fix *f = *state;
    const struct unplug_row *r = f->row;
    struct fix *x = fix_new(f, NULL);
    struct pci_device *d;
    enum pcie_unplug got;

    if (r->fn0)
        leaf_new(f, x, L0, 0x0011);
    d = r->devfn ? leaf_new(f, x, r->devfn, 0x0011) : x->port->bridge->sec->devices[0];
    reset(x->port);
    pthread_mutex_lock(&x->port->lock);
    pcie_slot_plug(x->slot, d, false);
    pthread_mutex_unlock(&x->port->lock);
    wr(x->port, EXP + PCI_EXP_SLTCTL, r->ctl, 2);
    wr(x->port, EXP + PCI_EXP_SLTSTA, 0xffff, 2); /* start without events */
    pthread_mutex_lock(&x->port->lock);
    got = pcie_slot_unplug_request(x->slot, d);
    pthread_mutex_unlock(&x->port->lock);
    assert_int_equal(got, r->expect);
    assert_int_equal(rd(x->port, EXP + PCI_EXP_SLTSTA, 2) & r->sta_mask, r->sta);
}

/* ---- the port's link follows device 0 (QEMU's pcie_sync_bridge_lnk) ------------------------- */

struct link_row {
    const char *name;
    const char *speed, *width; /* the port's */
    int leaf;                  /* devfn of the leaf, -1 = none */
    uint16_t leaf_lnksta;      /* speed | width << 4 */
    uint16_t expect;           /* the port's speed | width << 4 */
};

/* clang-format off */
static const struct link_row link_rows[] = {
    {"empty: the port's maximum", "8", "16", -1, 0, 3 | 16 << 4},
    {"device 0 narrower and slower: its link", "16", "32", L0, 1 | 1 << 4, 1 | 1 << 4},
    {"device 0 faster than the port: capped", "2_5", "1", L0, 3 | 1 << 4, 1 | 1 << 4},
    {"device 0 wider than the port: capped", "8", "4", L0, 2 | 8 << 4, 2 | 4 << 4},
    {"device 0 reporting nothing: x1 2.5 GT/s", "16", "32", L0, 0, 1 | 1 << 4},
    {"only a device at 03.0: the port's maximum", "5", "2", L3, 1 | 1 << 4, 2 | 2 << 4},
};
/* clang-format on */

static void test_link(void **state)
{
    struct unit_fix *f = *state;
    const struct link_row *r = f->row;
    const char *props[] = {"x-speed", r->speed, "x-width", r->width, NULL};
    struct fix *x = fix_new(f, props);

    if (r->leaf >= 0)
        leaf_new(f, x, (uint8_t)r->leaf, r->leaf_lnksta);
    pthread_mutex_lock(&x->port->lock);
    pcie_port_sync_link(x->port);
    pthread_mutex_unlock(&x->port->lock);
    assert_int_equal(rd(x->port, EXP + PCI_EXP_LNKSTA, 2) &
                         (PCI_EXP_LNKSTA_CLS | PCI_EXP_LNKSTA_NLW),
                     r->expect);
}

/* ---- the resource-reserve capability ACPI hot-plug asks for (QEMU 7.2's gen_rp_realize) ---- */

struct reserve_row {
    const char *name;
    const char *props[5];
    bool hot;
    uint8_t cap_ptr;  /* 0x34: the newest capability */
    uint32_t io_lo;   /* io reserve, low dword (at 0x98 when the capability is at 0x90) */
    bool io_writable; /* Command I/O writable */
};

/* clang-format off */
static const struct reserve_row reserve_rows[] = {
    {"native hot-plug: no capability", {NULL}, false, 0x54, 0, true},
    {"x-native-hotplug=off: 4 KiB I/O reserved", {"x-native-hotplug", "off", NULL}, false, 0x90,
     0x1000, true},
    {"the same when the port is hot-plugged", {"x-native-hotplug", "off", NULL}, true, 0x90,
     0x1000, true},
    {"hotplug=off: nothing to reserve for", {"x-native-hotplug", "off", "hotplug", "off", NULL},
     false, 0x54, 0, true},
    {"io-reserve=0 wins: no I/O window at all",
     {"x-native-hotplug", "off", "io-reserve", "0", NULL}, false, 0x90, 0, false},
};
/* clang-format on */

static void test_reserve(void **state)
{
    struct unit_fix *f = *state;
    const struct reserve_row *r = f->row;
    struct fix *x = fix_new_env(f, r->props, r->hot);

    assert_int_equal(rd(x->port, PCI_CAPABILITY_LIST, 1), r->cap_ptr);
    if (r->cap_ptr == 0x90) {
        assert_int_equal(rd(x->port, 0x90, 4), 0x01205409); /* vendor, next 0x54, len 0x20 */
        assert_int_equal(rd(x->port, 0x98, 4), r->io_lo);
    }
    wr(x->port, PCI_COMMAND, PCI_COMMAND_IO, 2);
    assert_int_equal(rd(x->port, PCI_COMMAND, 2), r->io_writable ? PCI_COMMAND_IO : 0);
}

/* ---- Data Link Layer Link Active on plug (QEMU: the function's flag or the port's DLLLARC) -- */

struct dllla_row {
    const char *name;
    const char *speed; /* the port's x-speed: above 2.5 GT/s it reports DLL Active */
    bool no_dllla;     /* the function has x-pcie-lnksta-dllla=off */
    bool expect;
};

/* clang-format off */
static const struct dllla_row dllla_rows[] = {
    {"default", "16", false, true},
    {"x-pcie-lnksta-dllla=off, port reports DLL Active", "16", true, true},
    {"x-pcie-lnksta-dllla=off, 2.5 GT/s port", "2_5", true, false},
    {"2.5 GT/s port, flag on", "2_5", false, true},
};
/* clang-format on */

static void test_dllla(void **state)
{
    struct unit_fix *f = *state;
    const struct dllla_row *r = f->row;
    const char *props[] = {"x-speed", r->speed, NULL};
    struct fix *x = fix_new_env(f, props, true);
    struct pci_device *d = leaf_new(f, x, L0, 0x0011);

    d->no_lnksta_dllla = r->no_dllla;
    reset(x->port);
    assert_int_equal(rd(x->port, EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA, 0);
    pthread_mutex_lock(&x->port->lock);
    pcie_slot_plug(x->slot, d, true);
    pthread_mutex_unlock(&x->port->lock);
    assert_int_equal(!!(rd(x->port, EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA), r->expect);
    assert_int_equal(rd(x->port, EXP + PCI_EXP_SLTSTA, 2) & PCI_EXP_SLTSTA_PDS, PCI_EXP_SLTSTA_PDS);
}

/* ---- refused properties (QEMU 7.2's messages, checked against qemu-system-x86_64)
 * ---------------------------------------------------------------------------- */

struct bad_row {
    const char *name;
    const char *prop, *value;
    const char *msg;
};

/* clang-format off */
static const struct bad_row bad_rows[] = {
    {"x-speed out of its enum", "x-speed", "32",
     "Parameter 'x-speed' does not accept value '32'"},
    {"x-width out of its enum", "x-width", "3",
     "Parameter 'x-width' does not accept value '3'"},
    {"chassis above 255", "chassis", "256",
     "Parameter 'chassis' expects uint8_t"},
};
/* clang-format on */

static void test_bad(void **state)
{
    struct unit_fix *f = *state;
    const struct bad_row *r = f->row;
    const struct qdev_driver *drv = &pcie_root_port_driver;
    struct error err = {0};
    void *opts;
    int ret;

    (void)f;
    assert_int_equal(qdev_opts_new(drv, &opts), 0);
    ret = qdev_prop_set(drv, opts, r->prop, r->value, &env, &err);
    qdev_opts_free(drv, opts);
    assert_int_equal(ret, -EINVAL);
    assert_string_equal(err.desc, r->msg);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, cap_rows, test_caps);
    UNIT_ROWS_FIX(&s, slot_rows, test_slot);
    UNIT_ROWS_FIX(&s, unplug_rows, test_unplug);
    UNIT_ROWS_FIX(&s, link_rows, test_link);
    UNIT_ROWS_FIX(&s, reserve_rows, test_reserve);
    UNIT_ROWS_FIX(&s, dllla_rows, test_dllla);
    UNIT_ROWS_FIX(&s, bad_rows, test_bad);
    return unit_run(&s, "pcie");
}
