/* SPDX-License-Identifier: MIT */
/*
 * test-pci-bus.c — a PCI bus (daemon/hw/pci/pci_bus.c): QEMU 7.2's placement rules
 * (do_pci_register_device and pci_init_multifunction), attach/detach, the INTx swizzle through
 * bridges, notification forwarding to the root bus, bus numbers.
 */
#include <errno.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bus.h"
#include "tests/unit/unit.h"

#define DF(s, f) PCI_DEVFN_OF(s, f)

static const struct pci_dev_class fake_class = {.name = "fake"};

static void dev_free(void *p)
{
    pci_dev_destroy(p);
    free(p);
}

static void bus_free(void *p)
{
    pci_bus_free(p);
}

static struct pci_device *fake_new(struct unit_fix *f, uint8_t header, bool multifunction)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &fake_class, PCI_CONFIG_SPACE_SIZE, header), 0);
    unit_defer(f, dev_free, d);
    pci_dev_set_ids(d, 0x8086, 0x1234, 0, 0xff0000);
    pci_dev_set_irq_pin(d, 1);
    pci_dev_set_multifunction(d, multifunction);
    return d;
}

static struct pci_bus *bus_new(struct unit_fix *f, const char *name)
{
    struct pci_bus *bus;

    assert_int_equal(pci_bus_new(name, false, true, &bus), 0);
    unit_defer(f, bus_free, bus);
    return bus;
}

/* A fake function plugged at `devfn` (bypassing the placement rules, as a machine's board
 * setup does). Detached before it is freed. */
static void detach(void *p)
{
    pci_bus_detach(p);
}

static struct pci_device *plug_hdr(struct unit_fix *f, struct pci_bus *bus, int devfn,
                                   uint8_t header, bool mf)
{
    struct pci_device *d = fake_new(f, header, mf);

    assert_int_equal(pci_bus_attach(bus, d, (uint8_t)devfn), 0);
    unit_defer(f, detach, d);
    return d;
}

static struct pci_device *plug(struct unit_fix *f, struct pci_bus *bus, int devfn, bool mf)
{
    return plug_hdr(f, bus, devfn, PCI_HEADER_TYPE_NORMAL, mf);
}

/* ---- pci_bus_new ----------------------------------------------------------------------- */

struct new_row {
    const char *name;
    const char *bus_name;
    bool express, hotpluggable;
    uint32_t hotplug_slots;
};

/* clang-format off */
static const struct new_row new_rows[] = {
    {"pci.0, hot-pluggable", "pci.0", false, true, 0xffffffff},
    {"pcie.0, not hot-pluggable", "pcie.0", true, false, 0},
};
/* clang-format on */

static void test_new(void **state)
{
    struct unit_fix *f = *state;
    const struct new_row *r = f->row;
    char name[16];
    struct pci_bus *bus;

    snprintf(name, sizeof(name), "%s", r->bus_name);
    assert_int_equal(pci_bus_new(name, r->express, r->hotpluggable, &bus), 0);
    unit_defer(f, bus_free, bus);
    name[0] = 'X'; /* the bus keeps its own copy */
    assert_string_equal(bus->name, r->bus_name);
    assert_int_equal(bus->express, r->express);
    assert_int_equal(bus->hotpluggable, r->hotpluggable);
    assert_int_equal(bus->hotplug_slots, r->hotplug_slots);
    assert_null(bus->parent);
    assert_int_equal(bus->reserved_slots, 0);
    for (int i = 0; i < PCI_DEVFN_MAX; i++)
        assert_null(bus->devices[i]);
    assert_int_equal(pci_bus_num(bus), 0);
    assert_ptr_equal(pci_bus_root(bus), bus);
}

/* ---- placement --------------------------------------------------------------------------- */

struct extra {
    int devfn;
    bool mf;
};

struct place_row {
    const char *name;
    struct extra extra[3]; /* plugged besides 00.0 and 01.0; devfn 0 ends the list */
    uint32_t reserved;     /* slot mask */
    uint8_t devfn_min;
    bool fill;          /* plug function 0 of every free, unreserved slot but those in skip */
    uint32_t fill_skip; /* slot mask */
    int devfn;          /* requested, -1 = any */
    bool mf, hotplug;
    enum pci_place_result expect;
    int out_devfn; /* expected p.devfn, -2 = not checked */
    int other;     /* devfn of the expected p.other, -1 = NULL */
    int other_fn;
};

/* clang-format off */
#define S(n) (1u << (n))
static const struct place_row place_rows[] = {
    {"auto: lowest free slot", {{0}}, 0, 0, false, 0, -1, false, false, PCI_PLACE_OK, DF(2, 0),
     -1, -1},
    {"auto: skips an occupied function 0", {{DF(2, 0)}}, 0, 0, false, 0, -1, false, false,
     PCI_PLACE_OK, DF(3, 0), -1, -1},
    {"auto: functions > 0 not looked at (multifunction)", {{DF(2, 1)}}, 0, 0, false, 0, -1, true,
     false, PCI_PLACE_OK, DF(2, 0), -1, -1},
    {"auto: functions > 0 not looked at (single function)", {{DF(2, 1)}}, 0, 0, false, 0, -1,
     false, false, PCI_PLACE_FN0_POPULATED, DF(2, 0), DF(2, 1), 1},
    {"auto: skips a reserved slot", {{0}}, S(2), 0, false, 0, -1, false, false, PCI_PLACE_OK,
     DF(3, 0), -1, -1},
    {"auto: starts at devfn_min", {{0}}, 0, DF(4, 0), false, 0, -1, false, false, PCI_PLACE_OK,
     DF(4, 0), -1, -1},
    {"auto: full bus", {{0}}, 0, 0, true, 0, -1, false, false, PCI_PLACE_NO_FREE_SLOT, -2, -1,
     -1},
    {"auto: full but for a reserved slot", {{0}}, S(31), 0, true, S(31), -1, false, false,
     PCI_PLACE_NO_FREE_SLOT, -2, -1, -1},
    {"auto: the last slot", {{0}}, 0, 0, true, S(31), -1, false, false, PCI_PLACE_OK, DF(31, 0),
     -1, -1},
    {"auto: hot-plug picks a slot the same way", {{DF(2, 0)}}, 0, 0, false, 0, -1, false, true,
     PCI_PLACE_OK, DF(3, 0), -1, -1},
    {"explicit free slot", {{0}}, 0, 0, false, 0, DF(5, 0), false, false, PCI_PLACE_OK, DF(5, 0),
     -1, -1},
    {"explicit free slot on a full bus", {{0}}, 0, 0, true, S(7), DF(7, 0), false, false,
     PCI_PLACE_OK, DF(7, 0), -1, -1},
    {"explicit reserved slot", {{0}}, S(5), 0, false, 0, DF(5, 0), false, false,
     PCI_PLACE_RESERVED, -2, -1, -1},
    {"explicit reserved slot, function 1", {{0}}, S(5), 0, false, 0, DF(5, 1), true, false,
     PCI_PLACE_RESERVED, -2, -1, -1},
    {"explicit devfn in use names the occupant", {{0}}, 0, 0, false, 0, DF(1, 0), false, false,
     PCI_PLACE_IN_USE, -2, DF(1, 0), -1},
    {"reserved is reported before in use", {{0}}, S(0), 0, false, 0, DF(0, 0), false, false,
     PCI_PLACE_RESERVED, -2, -1, -1},
    {"devfn 256", {{0}}, 0, 0, false, 0, 256, false, false, PCI_PLACE_NO_FREE_SLOT, -2, -1, -1},
    {"hot-plug function > 0 while function 0 exists", {{DF(2, 0), true}}, 0, 0, false, 0,
     DF(2, 1), false, true, PCI_PLACE_FN0_PRESENT, -2, DF(2, 0), -1},
    {"hot-plug function > 0 next to a single function 0", {{0}}, 0, 0, false, 0, DF(1, 1), false,
     true, PCI_PLACE_FN0_PRESENT, -2, DF(1, 0), -1},
    {"in use is reported before function 0 present", {{DF(2, 0), true}, {DF(2, 1)}}, 0, 0, false,
     0, DF(2, 1), false, true, PCI_PLACE_IN_USE, -2, DF(2, 1), -1},
    {"hot-plug function > 0 without function 0", {{0}}, 0, 0, false, 0, DF(2, 1), false, true,
     PCI_PLACE_OK, DF(2, 1), -1, -1},
    {"hot-plug function 7 without function 0", {{DF(2, 1)}}, 0, 0, false, 0, DF(2, 7), false,
     true, PCI_PLACE_OK, DF(2, 7), -1, -1},
    {"cold-plug function > 0 next to a multifunction function 0", {{DF(2, 0), true}}, 0, 0,
     false, 0, DF(2, 1), false, false, PCI_PLACE_OK, DF(2, 1), -1, -1},
    {"cold-plug function > 0 next to a single function 0", {{0}}, 0, 0, false, 0, DF(1, 1), true,
     false, PCI_PLACE_FN0_SINGLE, DF(1, 1), DF(1, 0), -1},
    {"single-function 0 while function 3 exists", {{DF(2, 3)}}, 0, 0, false, 0, DF(2, 0), false,
     false, PCI_PLACE_FN0_POPULATED, DF(2, 0), DF(2, 3), 3},
    {"single-function 0 names the lowest function present", {{DF(2, 5)}, {DF(2, 2)}}, 0, 0,
     false, 0, DF(2, 0), false, false, PCI_PLACE_FN0_POPULATED, DF(2, 0), DF(2, 2), 2},
    {"multifunction 0 while function 3 exists", {{DF(2, 3)}}, 0, 0, false, 0, DF(2, 0), true,
     false, PCI_PLACE_OK, DF(2, 0), -1, -1},
    {"hot-plug multifunction 0 last", {{DF(2, 1)}, {DF(2, 2)}}, 0, 0, false, 0, DF(2, 0), true,
     true, PCI_PLACE_OK, DF(2, 0), -1, -1},
    {"hot-plug single-function 0 with functions present", {{DF(2, 1)}}, 0, 0, false, 0,
     DF(2, 0), false, true, PCI_PLACE_FN0_POPULATED, DF(2, 0), DF(2, 1), 1},
};
#undef S
/* clang-format on */

static void test_place(void **state)
{
    struct unit_fix *f = *state;
    const struct place_row *r = f->row;
    struct pci_bus *bus = bus_new(f, "pci.0");
    struct pci_device *before[PCI_DEVFN_MAX];
    struct pci_place p = {.devfn = r->devfn, .multifunction = r->mf, .hotplug = r->hotplug};
    enum pci_place_result res;

    bus->reserved_slots = r->reserved;
    bus->devfn_min = r->devfn_min;
    plug(f, bus, DF(0, 0), false); /* host bridge */
    plug(f, bus, DF(1, 0), false); /* a single-function device */
    for (size_t i = 0; i < ARRAY_SIZE(r->extra) && r->extra[i].devfn; i++)
        plug(f, bus, r->extra[i].devfn, r->extra[i].mf);
    if (r->fill) {
        for (unsigned slot = 2; slot < PCI_SLOT_MAX; slot++)
            if (!(r->fill_skip & (1u << slot)) && !(r->reserved & (1u << slot)) &&
                !bus->devices[DF(slot, 0)])
                plug(f, bus, DF(slot, 0), false);
    }
    memcpy(before, bus->devices, sizeof(before));

    res = pci_bus_place(bus, &p);
    assert_int_equal(res, r->expect);
    if (r->out_devfn != -2)
        assert_int_equal(p.devfn, r->out_devfn);
    if (r->other < 0)
        assert_null(p.other);
    else
        assert_ptr_equal(p.other, bus->devices[r->other]);
    assert_int_equal(p.other_fn, r->other_fn);
    /* Placement only looks. */
    assert_memory_equal(bus->devices, before, sizeof(before));
}

/* ---- attach / detach ------------------------------------------------------------------------ */

enum ad_op {
    AD_END = 0,
    AD_ATTACH,     /* dev, devfn, ret */
    AD_DETACH,     /* dev */
    AD_IRQ,        /* dev, pin (devfn field), level (ret field) */
    AD_AT,         /* devfn holds dev (-1 = empty) */
    AD_ON_BUS,     /* dev is on the bus (ret = 1) or not (0) */
    AD_SLOT,       /* slot (devfn field) occupied = ret */
    AD_FN0,        /* function 0 of devfn's slot is dev (-1 = none) */
    AD_LEVEL,      /* INTx level seen at the root for pin (devfn field) = ret */
    AD_FAKE_DEVFN, /* set dev->bus = bus and dev->devfn without attaching */
};

struct ad_step {
    enum ad_op op;
    int dev;
    int devfn;
    int ret;
};

struct ad_row {
    const char *name;
    struct ad_step steps[8];
};

/* clang-format off */
static const struct ad_row ad_rows[] = {
    {"attach to a free devfn", {{AD_ATTACH, 0, DF(3, 0), 0}, {AD_AT, 0, DF(3, 0)},
                                {AD_ON_BUS, 0, 0, 1}, {AD_SLOT, 0, 3, 1}, {AD_FN0, 0, DF(3, 5)}}},
    {"attach to a taken devfn: -EBUSY", {{AD_ATTACH, 0, DF(3, 0), 0},
                                         {AD_ATTACH, 1, DF(3, 0), -EBUSY},
                                         {AD_AT, 0, DF(3, 0)}, {AD_ON_BUS, 1, 0, 0}}},
    {"a function > 0 occupies its slot", {{AD_ATTACH, 0, DF(3, 1), 0}, {AD_SLOT, 0, 3, 1},
                                          {AD_FN0, -1, DF(3, 1)}, {AD_SLOT, 0, 4, 0}}},
    {"detach frees the devfn", {{AD_ATTACH, 0, DF(3, 0), 0}, {AD_DETACH, 0},
                                {AD_AT, -1, DF(3, 0)}, {AD_ON_BUS, 0, 0, 0}, {AD_SLOT, 0, 3, 0},
                                {AD_ATTACH, 1, DF(3, 0), 0}}},
    {"detach deasserts INTx", {{AD_ATTACH, 0, DF(3, 0), 0}, {AD_IRQ, 0, 1, 1},
                               {AD_LEVEL, 0, 1, 1}, {AD_DETACH, 0}, {AD_LEVEL, 0, 1, 0}}},
    {"detach twice is harmless", {{AD_ATTACH, 0, DF(3, 0), 0}, {AD_DETACH, 0}, {AD_DETACH, 0},
                                  {AD_ON_BUS, 0, 0, 0}}},
    {"detach of a never attached device", {{AD_DETACH, 0}, {AD_ON_BUS, 0, 0, 0}}},
    {"detach leaves another device at its devfn", {{AD_ATTACH, 0, DF(3, 0), 0},
                                                   {AD_FAKE_DEVFN, 1, DF(3, 0)}, {AD_DETACH, 1},
                                                   {AD_AT, 0, DF(3, 0)}, {AD_ON_BUS, 1, 0, 0}}},
};
/* clang-format on */

struct sink {
    int level[PCI_NUM_PINS];
    struct pci_device *intx_from;
    int msi_calls;
    uint64_t msi_addr;
    uint32_t msi_data;
    struct pci_device *msi_from;
    int map_calls;
};

static void sink_intx(void *opaque, struct pci_device *d, int pin, int change)
{
    struct sink *s = opaque;

    assert_in_range(pin, 0, PCI_NUM_PINS - 1);
    s->level[pin] += change;
    s->intx_from = d;
}

static void sink_msi(void *opaque, struct pci_device *d, uint64_t addr, uint32_t data)
{
    struct sink *s = opaque;

    s->msi_calls++;
    s->msi_addr = addr;
    s->msi_data = data;
    s->msi_from = d;
}

static void sink_map(void *opaque)
{
    struct sink *s = opaque;

    s->map_calls++;
}

static const struct pci_bus_ops sink_ops = {
    .map_changed = sink_map, .intx_change = sink_intx, .msi_deliver = sink_msi};

static void test_attach(void **state)
{
    struct unit_fix *f = *state;
    const struct ad_row *r = f->row;
    struct pci_bus *bus = bus_new(f, "pci.0");
    struct pci_device *dev[2];
    struct sink sink = {0};

    bus->ops = &sink_ops;
    bus->opaque = &sink;
    for (int i = 0; i < 2; i++) {
        dev[i] = fake_new(f, PCI_HEADER_TYPE_NORMAL, false);
        unit_defer(f, detach, dev[i]);
    }
    for (const struct ad_step *s = r->steps; s->op != AD_END; s++) {
        struct pci_device *d = s->dev >= 0 ? dev[s->dev] : NULL;

        switch (s->op) {
        case AD_ATTACH:
            assert_int_equal(pci_bus_attach(bus, d, (uint8_t)s->devfn), s->ret);
            if (s->ret == 0) {
                assert_ptr_equal(d->bus, bus);
                assert_int_equal(d->devfn, s->devfn);
            }
            break;
        case AD_DETACH:
            pci_bus_detach(d);
            break;
        case AD_IRQ:
            pci_dev_set_irq(d, s->devfn, s->ret);
            break;
        case AD_AT:
            assert_ptr_equal(bus->devices[s->devfn], d);
            break;
        case AD_ON_BUS:
            /* Plugged in: the bus lists it. (A detached device keeps its bus pointer for
             * vCPUs that are still inside it until the grace period ends.) */
            assert_int_equal(bus->devices[d->devfn] == d, s->ret);
            break;
        case AD_SLOT:
            assert_int_equal(pci_bus_slot_occupied(bus, (unsigned)s->devfn), s->ret);
            break;
        case AD_FN0:
            assert_ptr_equal(pci_bus_function0(bus, (uint8_t)s->devfn), d);
            break;
        case AD_LEVEL:
            assert_int_equal(sink.level[s->devfn], s->ret);
            break;
        case AD_FAKE_DEVFN:
            d->bus = bus;
            d->devfn = (uint8_t)s->devfn;
            break;
        case AD_END:
            break;
        }
    }
}

/* ---- the INTx swizzle (PCI-to-PCI Bridge 1.2 §9.1, table 9-1) -------------------------- */

struct swizzle_row {
    const char *name;
    unsigned slot;
    int pin;
    int expect;
};

/* clang-format off */
static const struct swizzle_row swizzle_rows[] = {
    {"slot 0 INTA", 0, 0, 0}, {"slot 0 INTD", 0, 3, 3}, {"slot 1 INTA", 1, 0, 1},
    {"slot 1 INTD", 1, 3, 0}, {"slot 2 INTB", 2, 1, 3}, {"slot 3 INTA", 3, 0, 3},
    {"slot 3 INTB", 3, 1, 0}, {"slot 4 INTC", 4, 2, 2}, {"slot 7 INTC", 7, 2, 1},
    {"slot 31 INTD", 31, 3, 2},
};
/* clang-format on */

static void test_swizzle(void **state)
{
    const struct swizzle_row *r = *state;

    assert_int_equal(pci_swizzle(r->slot, r->pin), r->expect);
}

/* ---- hierarchy: bus numbers, root, forwarding through bridges ------------------------------- */

struct tree_row {
    const char *name;
    int levels;              /* bridges between the root and the device's bus: 0..2 */
    unsigned bridge_slot[2]; /* slot of the bridge on the bus above it */
    uint8_t secondary[2];    /* Secondary Bus Number the guest wrote */
    unsigned dev_slot;
    int pin;
    int root_pin; /* the pin the root bus sees */
};

/* clang-format off */
static const struct tree_row tree_rows[] = {
    {"device on the root bus: no swizzle", 0, {0}, {0}, 3, 1, 1},
    {"behind one bridge, slot 3 INTA", 1, {4}, {1}, 3, 0, 3},
    {"behind one bridge, slot 0 INTC", 1, {4}, {1}, 0, 2, 2},
    {"behind one bridge, slot 5 INTD", 1, {4}, {7}, 5, 3, 0},
    {"behind two bridges", 2, {4, 2}, {1, 2}, 1, 0, 3},
    {"behind two bridges, slot 0 INTA", 2, {6, 0}, {3, 9}, 0, 0, 0},
};
/* clang-format on */

static void test_tree(void **state)
{
    struct unit_fix *f = *state;
    const struct tree_row *r = f->row;
    struct pci_bus *root = bus_new(f, "pci.0"), *bus = root;
    struct pci_device *top = NULL, *d;
    struct sink sink = {0};

    root->ops = &sink_ops;
    root->opaque = &sink;
    for (int i = 0; i < r->levels; i++) {
        struct pci_device *br =
            plug_hdr(f, bus, DF(r->bridge_slot[i], 0), PCI_HEADER_TYPE_BRIDGE, false);
        struct pci_bus *sec;

        /* Firmware programs the bus numbers. */
        pci_dev_config_write(br, PCI_SECONDARY_BUS, r->secondary[i], 1);
        sec = bus_new(f, "bridge");
        sec->parent = br;
        if (!top)
            top = br;
        bus = sec;
        assert_int_equal(pci_bus_num(bus), r->secondary[i]);
        assert_ptr_equal(pci_bus_root(bus), root);
    }
    d = plug(f, bus, DF(r->dev_slot, 0), false);

    pci_dev_set_irq(d, r->pin, 1);
    assert_int_equal(sink.level[r->root_pin], 1);
    assert_ptr_equal(sink.intx_from, top ? top : d);
    pci_dev_set_irq(d, r->pin, 0);
    assert_int_equal(sink.level[r->root_pin], 0);

    pci_bus_msi_deliver(bus, d, 0xfee00000, 0x4021);
    assert_int_equal(sink.msi_calls, 1);
    assert_ptr_equal(sink.msi_from, d); /* MSI names the function itself */
    assert_int_equal(sink.msi_addr, 0xfee00000);
    assert_int_equal(sink.msi_data, 0x4021);

    pci_bus_map_changed(bus);
    assert_int_equal(sink.map_calls, 1);
    assert_int_equal(pci_bus_num(root), 0);
}

/* Without ops nothing is forwarded and nothing crashes. */
struct noops_row {
    const char *name;
    bool with_ops_struct; /* ops present but every hook NULL */
};

/* clang-format off */
static const struct noops_row noops_rows[] = {
    {"no ops", false},
    {"ops without hooks", true},
};
/* clang-format on */

static void test_noops(void **state)
{
    struct unit_fix *f = *state;
    const struct noops_row *r = f->row;
    static const struct pci_bus_ops empty = {0};
    struct pci_bus *bus = bus_new(f, "pci.0");
    struct pci_device *d = plug(f, bus, DF(3, 0), false);

    bus->ops = r->with_ops_struct ? &empty : NULL;
    pci_dev_set_irq(d, 0, 1);
    assert_int_equal(d->irq_state[0], 1);
    pci_bus_msi_deliver(bus, d, 0xfee00000, 0);
    pci_bus_map_changed(bus);
    pci_bus_detach(d);
    assert_int_equal(d->irq_state[0], 0);
}

/* ---- behind a PCIe port: device 00.0 is every slot's function 0 ------------------------------ */

struct port_row {
    const char *name;
    int present[3]; /* devfns plugged first (cold); -1 ends */
    bool port;      /* the bus is a port's secondary bus */
    int devfn;      /* requested */
    bool hotplug;
    enum pci_place_result expect;
    int other;  /* devfn of p.other, -1 = NULL */
    int fn0_of; /* pci_bus_function0(devfn): devfn of the answer, -1 = NULL */
};

/* clang-format off */
static const struct port_row port_rows[] = {
    {"port: hot-plug 01.0 while 00.0 exists", {DF(0, 0), -1}, true, DF(1, 0), true,
     PCI_PLACE_FN0_PRESENT, DF(0, 0), DF(0, 0)},
    {"plain bus: hot-plug 01.0 while 00.0 exists", {DF(0, 0), -1}, false, DF(1, 0), true,
     PCI_PLACE_OK, -1, -1},
    {"port: hot-plug 03.2 while 00.0 exists", {DF(0, 0), -1}, true, DF(3, 2), true,
     PCI_PLACE_FN0_PRESENT, DF(0, 0), DF(0, 0)},
    {"port: hot-plug 03.0 without 00.0", {DF(3, 1), -1}, true, DF(4, 0), true, PCI_PLACE_OK, -1,
     -1},
    {"port: cold-plug 03.0 next to 00.0", {DF(0, 0), -1}, true, DF(3, 0), false, PCI_PLACE_OK,
     -1, DF(0, 0)},
    {"port: hot-plug 00.0 last", {DF(2, 0), DF(3, 1), -1}, true, DF(0, 0), true, PCI_PLACE_OK,
     -1, -1},
    {"port: the multifunction rule stays per slot", {DF(0, 0), -1}, true, DF(0, 1), false,
     PCI_PLACE_FN0_SINGLE, DF(0, 0), DF(0, 0)},
    {"port: in use before function 0", {DF(0, 0), DF(2, 0), -1}, true, DF(2, 0), true,
     PCI_PLACE_IN_USE, DF(2, 0), DF(0, 0)},
};
/* clang-format on */

static void test_port(void **state)
{
    struct unit_fix *f = *state;
    const struct port_row *r = f->row;
    struct pci_bus *bus = bus_new(f, "rp1");
    struct pci_place p = {.devfn = r->devfn, .hotplug = r->hotplug};
    struct pci_device *fn0;

    bus->port = r->port;
    bus->express = r->port;
    for (size_t i = 0; i < ARRAY_SIZE(r->present) && r->present[i] >= 0; i++)
        plug(f, bus, r->present[i], false);
    assert_int_equal(pci_bus_place(bus, &p), r->expect);
    if (r->other < 0)
        assert_null(p.other);
    else
        assert_ptr_equal(p.other, bus->devices[r->other]);
    fn0 = pci_bus_function0(bus, (uint8_t)r->devfn);
    if (r->fn0_of < 0)
        assert_null(fn0);
    else
        assert_ptr_equal(fn0, bus->devices[r->fn0_of]);
}

/* ---- bus numbers: which bus a configuration cycle reaches (QEMU's pci_find_bus_nr) ----------- */

/*
 * The tree of every row: root bus 0 with bridge A at 02.0 and bridge C at 03.0 (C plugged
 * after A, so C is the newest child); bridge B at 00.0 below A. Each bridge's Secondary and
 * Subordinate Bus Numbers come from the row; Bridge Control SBR set on the bridges in `sbr`.
 */
enum { BR_A, BR_B, BR_C, BR_N };

struct nr_row {
    const char *name;
    uint8_t sec[BR_N], sub[BR_N];
    unsigned sbr;  /* bit per bridge */
    unsigned from; /* 0 = root, else 1 + bridge whose secondary bus starts the search */
    unsigned num;
    int expect; /* -1 = NULL, 0 = root, else 1 + bridge whose secondary bus answers */
};

/* clang-format off */
static const struct nr_row nr_rows[] = {
    {"bus 0 is the root", {1, 2, 4}, {3, 2, 4}, 0, 0, 0, 0},
    {"A's secondary", {1, 2, 4}, {3, 2, 4}, 0, 0, 1, 1 + BR_A},
    {"B's secondary through A", {1, 2, 4}, {3, 2, 4}, 0, 0, 2, 1 + BR_B},
    {"C's secondary", {1, 2, 4}, {3, 2, 4}, 0, 0, 4, 1 + BR_C},
    {"inside A's range, no bus: nothing", {1, 2, 4}, {3, 2, 4}, 0, 0, 3, -1},
    {"outside every range", {1, 2, 4}, {3, 2, 4}, 0, 0, 9, -1},
    {"unprogrammed bridges: every secondary is bus 0 (the root answers)", {0, 0, 0}, {0, 0, 0},
     0, 0, 0, 0},
    {"unprogrammed bridges: nothing else reachable", {0, 0, 0}, {0, 0, 0}, 0, 0, 1, -1},
    {"subordinate below secondary: the bridge forwards nothing past its own bus",
     {1, 2, 4}, {0, 2, 4}, 0, 0, 2, -1},
    {"subordinate below secondary: its own number still matches", {1, 2, 4}, {0, 2, 4}, 0, 0, 1,
     1 + BR_A},
    {"SBR on A hides B", {1, 2, 4}, {3, 2, 4}, 1u << BR_A, 0, 2, -1},
    {"SBR on A: A's own number still matches", {1, 2, 4}, {3, 2, 4}, 1u << BR_A, 0, 1, 1 + BR_A},
    {"overlapping ranges: the newest child is descended into", {1, 2, 1}, {3, 2, 3}, 0, 0, 2, -1},
    {"same number twice: the newest child answers", {1, 2, 1}, {3, 2, 3}, 0, 0, 1, 1 + BR_C},
    {"from A's bus: its own number", {1, 2, 4}, {3, 2, 4}, 0, 1 + BR_A, 1, 1 + BR_A},
    {"from A's bus: down to B", {1, 2, 4}, {3, 2, 4}, 0, 1 + BR_A, 2, 1 + BR_B},
    {"from A's bus: C is not below it", {1, 2, 4}, {3, 2, 4}, 0, 1 + BR_A, 4, -1},
    {"from B's bus: the root is not below it", {1, 2, 4}, {3, 2, 4}, 0, 1 + BR_B, 0, -1},
    {"bus 256 reaches nothing", {1, 2, 4}, {3, 2, 4}, 0, 0, 256, -1},
};
/* clang-format on */

static void test_find_nr(void **state)
{
    struct unit_fix *f = *state;
    const struct nr_row *r = f->row;
    struct pci_bus *root = bus_new(f, "pci.0");
    struct pci_device *br[BR_N];
    struct pci_bus *sec[BR_N];
    struct pci_bus *from, *want, *got;
    static const unsigned slot[BR_N] = {2, 0, 3};

    for (int i = 0; i < BR_N; i++) {
        struct pci_bus *on = i == BR_B ? sec[BR_A] : root;

        br[i] = plug_hdr(f, on, DF(slot[i], 0), PCI_HEADER_TYPE_BRIDGE, false);
        sec[i] = bus_new(f, "sec");
        sec[i]->parent = br[i];
        pci_bus_add_child(on, sec[i]);
        br[i]->config[PCI_SECONDARY_BUS] = r->sec[i];
        br[i]->config[PCI_SUBORDINATE_BUS] = r->sub[i];
        if (r->sbr & (1u << i))
            le_store(br[i]->config + PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
    }
    from = r->from ? sec[r->from - 1] : root;
    want = r->expect < 0 ? NULL : r->expect == 0 ? root : sec[r->expect - 1];
    got = pci_bus_find_nr(from, r->num);
    assert_ptr_equal(got, want);
    for (int i = BR_N - 1; i >= 0; i--)
        pci_bus_remove_child(i == BR_B ? sec[BR_A] : root, sec[i]);
    assert_null(root->children);
    assert_null(sec[BR_A]->children);
}

/* pci_bridge_forwards(): Secondary <= num <= Subordinate, not while SBR is set. */
struct fwd_row {
    const char *name;
    uint8_t sec, sub;
    uint16_t ctl;
    unsigned num;
    bool expect;
};

/* clang-format off */
static const struct fwd_row fwd_rows[] = {
    {"secondary itself", 1, 3, 0, 1, true},
    {"subordinate itself", 1, 3, 0, 3, true},
    {"between", 1, 3, 0, 2, true},
    {"below secondary", 1, 3, 0, 0, false},
    {"above subordinate", 1, 3, 0, 4, false},
    {"subordinate < secondary", 3, 1, 0, 2, false},
    {"secondary bus reset", 1, 3, PCI_BRIDGE_CTL_BUS_RESET, 2, false},
    {"other control bits do not matter", 1, 3, PCI_BRIDGE_CTL_VGA | PCI_BRIDGE_CTL_SERR, 2,
     true},
    {"bus 255", 0, 255, 0, 255, true},
};
/* clang-format on */

static void test_forwards(void **state)
{
    struct unit_fix *f = *state;
    const struct fwd_row *r = f->row;
    struct pci_device *br = fake_new(f, PCI_HEADER_TYPE_BRIDGE, false);

    br->config[PCI_SECONDARY_BUS] = r->sec;
    br->config[PCI_SUBORDINATE_BUS] = r->sub;
    le_store(br->config + PCI_BRIDGE_CONTROL, r->ctl, 2);
    assert_int_equal(pci_bridge_forwards(br, r->num), r->expect);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, new_rows, test_new);
    UNIT_ROWS_FIX(&s, place_rows, test_place);
    UNIT_ROWS_FIX(&s, ad_rows, test_attach);
    UNIT_ROWS(&s, swizzle_rows, test_swizzle);
    UNIT_ROWS_FIX(&s, tree_rows, test_tree);
    UNIT_ROWS_FIX(&s, noops_rows, test_noops);
    UNIT_ROWS_FIX(&s, port_rows, test_port);
    UNIT_ROWS_FIX(&s, nr_rows, test_find_nr);
    UNIT_ROWS_FIX(&s, fwd_rows, test_forwards);
    return unit_run(&s, "pci-bus");
}
