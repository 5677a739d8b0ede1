/* SPDX-License-Identifier: MIT */
/*
 * test-resources.c — what a slot costs (daemon/machine/resources.c): INTx routes of every pin
 * of slots on the root bus and behind bridges on pc and q35 against the rules written out here
 * (PCI-to-PCI Bridge 1.2 §9.1 swizzle; QEMU's pci_slot_get_pirq for the PIIX3 and
 * ich9_lpc_map_irq with the ICH9 defaults), the chipset's PIRQ route registers; bus windows as
 * a bridge's registers and Command open them, with what BARs written by hand use; and the fit
 * check (room for exactly N BARs, first failure, prefetchable fallback, unconfigured functions
 * placed first, closed windows).
 *
 * Machines are built the way the daemon builds them (machine_new, bridges through -device
 * text); the leaves are fakes with BARs of chosen sizes, plugged with machine_add_device, and
 * the guest's part (BAR registers, bridge base/limit, Command) is written into config space.
 */
#include <errno.h>
#include <string.h>

#include "api/commands.h"
#include "daemon/machine/machine.h"
#include "daemon/machine/resources.h"
#include "tests/unit/unit.h"

/* ---- a machine with fake leaves ------------------------------------------------------------ */

#define PIRQ_ROUTE_OFF 0x80 /* PIIX3 / ICH9 route control bit 7: routing disabled */
#define KiB            0x400ULL
#define MiB            0x100000ULL

static void leaf_destroy(struct pci_device *d)
{
    free(d);
}

static const struct pci_dev_class leaf_class = {.name = "res-leaf", .destroy = leaf_destroy};

/* The driver a leaf is plugged with (never realized through qdev). */
static const struct qdev_driver leaf_driver = {.name = "res-leaf"};

struct bar_spec {
    int region; /* 0-5, PCI_ROM_SLOT */
    uint64_t size;
    uint8_t type;  /* as pci_bar_register() */
    uint64_t addr; /* written by the "guest"; 0 = left unassigned */
};

#define MAX_BARS 3

struct leaf_spec {
    const char *bus; /* the bus's name; NULL = the root bus */
    unsigned slot, fn;
    uint8_t pin;                    /* Interrupt Pin register: 0 none, 1-4 INTA-INTD */
    uint16_t cmd;                   /* Command written after the BARs */
    struct bar_spec bars[MAX_BARS]; /* size 0 ends */
};

struct rig {
    struct machine *m;
    struct api *api;
};

static void rig_free(void *p)
{
    struct rig *r = p;

    api_free(r->api);
    machine_free(r->m);
    free(r);
}

static void cfg_write(struct pci_device *d, uint32_t off, uint32_t val, unsigned len)
{
    pthread_mutex_lock(&d->lock);
    pci_dev_config_write(d, off, val, len);
    pthread_mutex_unlock(&d->lock);
}

/* A fake function with the BARs of `s`, not on a bus. */
static struct pci_device *leaf_build(const struct leaf_spec *s)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &leaf_class, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL),
                     0);
    d->name = "res-leaf";
    pci_dev_set_ids(d, 0x1af4, 0x10ff, 0, 0xff0000);
    pci_dev_set_irq_pin(d, s->pin);
    pci_dev_set_multifunction(d, true);
    for (unsigned i = 0; i < MAX_BARS && s->bars[i].size; i++)
        assert_int_equal(
            pci_bar_register(d, s->bars[i].region, s->bars[i].size, s->bars[i].type, NULL, NULL),
            0);
    return d;
}

static struct pci_bus *rig_bus(const struct rig *r, const char *name)
{
    struct pci_bus *bus = name ? machine_find_bus(r->m, name) : machine_root_bus(r->m);

    assert_non_null(bus);
    return bus;
}

/* The guest's part for leaf `s`: its BAR registers, then Command. */
static void leaf_program(struct pci_device *d, const struct leaf_spec *s)
{
    for (unsigned i = 0; i < MAX_BARS && s->bars[i].size; i++) {
        const struct bar_spec *b = &s->bars[i];
        uint32_t off = pci_bar_offset(d, b->region);

        if (!b->addr)
            continue;
        if (b->type & PCI_BASE_ADDRESS_MEM_TYPE_64 && !(b->type & PCI_BASE_ADDRESS_SPACE_IO))
            cfg_write(d, off + 4, (uint32_t)(b->addr >> 32), 4);
        cfg_write(d, off, (uint32_t)b->addr, 4);
    }
    if (s->cmd)
        cfg_write(d, PCI_COMMAND, s->cmd, 2);
}

/* A started machine of `type` with bridges (`cold`, -device text, NULL-terminated) and the
 * leaves `leaves` (n), whose registers are then written as the rows say. */
static struct rig *rig_new(struct unit_fix *f, const char *type, const char *const *cold,
                           const struct leaf_spec *leaves, size_t n)
{
    struct rig *r = calloc(1, sizeof(*r));
    struct api_options o = {0};
    struct error err = {0};

    assert_non_null(r);
    assert_int_equal(machine_new(type, &r->m, &err), 0);
    assert_int_equal(api_new(r->m, &o, &r->api), 0);
    unit_defer(f, rig_free, r);
    machine_lock(r->m);
    for (; cold && *cold; cold++)
        if (api_device_add_spec(r->api, *cold, false, &err) < 0)
            fail_msg("%s: %s", *cold, err.desc);
    for (size_t i = 0; i < n && leaves; i++) {
        struct pci_device *d = leaf_build(&leaves[i]);

        assert_int_equal(machine_add_device(r->m, rig_bus(r, leaves[i].bus),
                                            PCI_DEVFN_OF(leaves[i].slot, leaves[i].fn), d,
                                            &leaf_driver, NULL, NULL, 0, NULL),
                         0);
    }
    machine_unlock(r->m);
    api_start(r->api);
    for (size_t i = 0; i < n && leaves; i++) {
        struct pci_bus *bus = rig_bus(r, leaves[i].bus);
        struct pci_device *d = bus->devices[PCI_DEVFN_OF(leaves[i].slot, leaves[i].fn)];

        assert_non_null(d);
        leaf_program(d, &leaves[i]);
    }
    return r;
}

static void dev_free(void *p)
{
    pci_dev_destroy(p);
}

/* ---- INTx routes ---------------------------------------------------------------------------- */

/*
 * The rules, written out independently of resources.c, pc.c and q35.c:
 * - PCI-to-PCI Bridge 1.2 §9.1 (table 9-1): at each bridge, pin' = (pin + device) mod 4 where
 *   device is the slot below the bridge.
 * - pc, PIIX3 (QEMU's pci_slot_get_pirq): PIRQ = (pin + slot - 1) & 3 on the root bus; its
 *   route register is 0x60 + PIRQ.
 * - q35, ICH9 (QEMU's ich9_lpc_map_irq over the irr table ich9_cc_init/ich9_cc_update fill):
 *   slots 0-24 drive PIRQ E-H, (slot + pin) mod 4 + 4; slots 25-29 and 31 follow the D25IR-
 *   D31IR reset value 0x3210 (INTA-D -> PIRQA-D); slot 30 (the DMI-to-PCI bridge) is fixed to
 *   PIRQ E-H, pin + 4. PIRQ n drives IOAPIC input 16 + n; route registers 0x60-0x63 (A-D) and
 *   0x68-0x6b (E-H).
 */
static unsigned expect_pirq(bool q35, unsigned slot, unsigned pin)
{
    if (!q35)
        return (pin + slot - 1) & 3;
    if (slot == 30)
        return pin + 4;
    if (slot >= 25)
        return pin;
    return (slot + pin) % 4 + 4;
}

static uint32_t pirq_reg(bool q35, unsigned pirq)
{
    return !q35 || pirq < 4 ? 0x60 + pirq : 0x68 + pirq - 4;
}

#define MAX_PATH 3

struct route_row {
    const char *name;
    const char *type;
    const char *cold[3];
    const char *bus; /* where the leaf goes: NULL = root */
    /* Slots from the leaf up: path[0] the leaf's slot, then the slot of each bridge crossed,
     * the last one on the root bus. */
    unsigned path[MAX_PATH];
    unsigned bridges;
    uint8_t irq; /* programmed into the PIRQ's route register */
};

/* clang-format off */
static const struct route_row route_rows[] = {
    {"pc root slot 2", "pc", {NULL}, NULL, {2}, 0, 11},
    {"pc root slot 3", "pc", {NULL}, NULL, {3}, 0, 10},
    {"pc root slot 31", "pc", {NULL}, NULL, {31}, 0, 5},
    {"pc behind pci-bridge at 05: slot 1", "pc",
     {"pci-bridge,id=b1,chassis_nr=1,addr=05.0", NULL}, "b1", {1, 5}, 1, 9},
    {"pc behind pci-bridge at 05: slot 6", "pc",
     {"pci-bridge,id=b1,chassis_nr=1,addr=05.0", NULL}, "b1", {6, 5}, 1, 11},
    {"pc behind two pci-bridges 04 > 03: slot 2", "pc",
     {"pci-bridge,id=b1,chassis_nr=1,addr=04.0", "pci-bridge,id=b2,chassis_nr=2,bus=b1,addr=03.0",
      NULL}, "b2", {2, 3, 4}, 2, 10},
    {"pc behind two pci-bridges 07 > 01: slot 7", "pc",
     {"pci-bridge,id=b1,chassis_nr=1,addr=07.0", "pci-bridge,id=b2,chassis_nr=2,bus=b1,addr=01.0",
      NULL}, "b2", {7, 1, 7}, 2, 15},
    {"q35 root slot 2 (PIRQ E-H)", "q35", {NULL}, NULL, {2}, 0, 11},
    {"q35 root slot 24", "q35", {NULL}, NULL, {24}, 0, 10},
    {"q35 root slot 25 (D25IR)", "q35", {NULL}, NULL, {25}, 0, 5},
    {"q35 root slot 29 (D29IR)", "q35", {NULL}, NULL, {29}, 0, 9},
    {"q35 root slot 30 (D30: E-H)", "q35", {NULL}, NULL, {30}, 0, 11},
    {"q35 root slot 31 (D31IR)", "q35", {NULL}, NULL, {31}, 0, 3},
    {"q35 behind pci-bridge at 03: slot 2", "q35",
     {"pci-bridge,id=b1,chassis_nr=1,addr=03.0", NULL}, "b1", {2, 3}, 1, 10},
    {"q35 behind pci-bridge at 1e (D30): slot 3", "q35",
     {"pci-bridge,id=b1,chassis_nr=1,addr=1e.0", NULL}, "b1", {3, 30}, 1, 11},
    {"q35 behind pcie-root-port at 05", "q35",
     {"pcie-root-port,id=rp,chassis=1,slot=1,addr=05.0", NULL}, "rp", {0, 5}, 1, 11},
    {"q35 behind pcie-root-port at 1a (D26IR)", "q35",
     {"pcie-root-port,id=rp,chassis=1,slot=1,addr=1a.0", NULL}, "rp", {0, 26}, 1, 7},
    {"q35 behind two pci-bridges 06 > 05: slot 9", "q35",
     {"pci-bridge,id=b1,chassis_nr=1,addr=06.0", "pci-bridge,id=b2,chassis_nr=2,bus=b1,addr=05.0",
      NULL}, "b2", {9, 5, 6}, 2, 10},
    {"q35 root port 04 > pci-bridge: slot 3", "q35",
     {"pcie-root-port,id=rp,chassis=1,slot=1,addr=04.0",
      "pci-bridge,id=b2,chassis_nr=2,bus=rp,addr=00.0", NULL}, "b2", {3, 0, 4}, 2, 11},
};
/* clang-format on */

static void test_route(void **state)
{
    struct unit_fix *f = *state;
    const struct route_row *r = f->row;
    bool q35 = streq(r->type, "q35");
    struct leaf_spec leaf = {
        .bus = r->bus, .slot = r->path[0], .fn = q35 && r->path[0] == 31, .pin = 1};
    /* q35's 00:1f.0 and pc's 00:01.0 hold the route registers; 1f.1 is free on q35. */
    struct rig *rig = rig_new(f, r->type, r->cold, &leaf, 1);
    struct pci_bus *bus = rig_bus(rig, r->bus);
    struct pci_device *d = bus->devices[PCI_DEVFN_OF(leaf.slot, leaf.fn)];
    struct pci_device *chip =
        machine_root_bus(rig->m)->devices[q35 ? PCI_DEVFN_OF(31, 0) : PCI_DEVFN_OF(1, 0)];

    assert_non_null(chip);
    for (unsigned pin = 0; pin < 4; pin++) {
        unsigned want_pin = pin, want_slot = r->path[0];
        struct machine_intx_route rt, rd;
        unsigned pirq;

        for (unsigned b = 0; b < r->bridges; b++) {
            want_pin = (want_pin + want_slot) % 4;
            want_slot = r->path[b + 1];
        }
        pirq = expect_pirq(q35, want_slot, want_pin);

        machine_intx_route(rig->m, bus, leaf.slot, (int)pin, &rt);
        assert_int_equal(rt.pin, pin);
        assert_int_equal(rt.root_slot, want_slot);
        assert_int_equal(rt.root_pin, want_pin);
        assert_int_equal(rt.bridges, r->bridges);
        assert_int_equal(rt.link.link, pirq);
        assert_int_equal(rt.link.gsi, q35 ? (int)(16 + pirq) : -1);

        /* The same through the function's Interrupt Pin register. */
        pci_dev_set_irq_pin(d, (uint8_t)(pin + 1));
        assert_int_equal(machine_dev_intx(rig->m, d, &rd), 0);
        assert_int_equal(rd.pin, rt.pin);
        assert_int_equal(rd.root_slot, rt.root_slot);
        assert_int_equal(rd.root_pin, rt.root_pin);
        assert_int_equal(rd.bridges, rt.bridges);
        assert_int_equal(rd.link.link, rt.link.link);

        /* The route register decides the IRQ; bit 7 disables the route. */
        cfg_write(chip, pirq_reg(q35, pirq), r->irq, 1);
        machine_intx_route(rig->m, bus, leaf.slot, (int)pin, &rt);
        assert_int_equal(rt.link.irq, r->irq);
        cfg_write(chip, pirq_reg(q35, pirq), PIRQ_ROUTE_OFF | r->irq, 1);
        machine_intx_route(rig->m, bus, leaf.slot, (int)pin, &rt);
        assert_int_equal(rt.link.irq, -1);
        /* Another PIRQ's register leaves this one alone. */
        cfg_write(chip, pirq_reg(q35, pirq), r->irq, 1);
        cfg_write(chip, pirq_reg(q35, (pirq + 1) % (q35 ? 8 : 4)), PIRQ_ROUTE_OFF, 1);
        machine_intx_route(rig->m, bus, leaf.slot, (int)pin, &rt);
        assert_int_equal(rt.link.irq, r->irq);
        cfg_write(chip, pirq_reg(q35, pirq), PIRQ_ROUTE_OFF, 1);
    }
}

/* ---- machine_dev_intx: no pin ------------------------------------------------------------- */

struct nopin_row {
    const char *name;
    const char *type;
    const char *cold[2];
    const char *bus;
    unsigned slot;
    uint8_t pin;
    int ret;
};

/* clang-format off */
static const struct nopin_row nopin_rows[] = {
    {"pc root, pin 0", "pc", {NULL}, NULL, 4, 0, -ENOENT},
    {"q35 behind a root port, pin 0", "q35",
     {"pcie-root-port,id=rp,chassis=1,slot=1,addr=05.0", NULL}, "rp", 0, 0, -ENOENT},
    {"pc root, pin 4 (INTD) has a route", "pc", {NULL}, NULL, 4, 4, 0},
};
/* clang-format on */

static void test_nopin(void **state)
{
    struct unit_fix *f = *state;
    const struct nopin_row *r = f->row;
    struct leaf_spec leaf = {.bus = r->bus, .slot = r->slot, .pin = r->pin};
    struct rig *rig = rig_new(f, r->type, r->cold, &leaf, 1);
    struct pci_device *d = rig_bus(rig, r->bus)->devices[PCI_DEVFN_OF(r->slot, 0)];
    struct machine_intx_route rt;

    assert_int_equal(machine_dev_intx(rig->m, d, &rt), r->ret);
    if (r->ret == 0)
        assert_int_equal(rt.pin, r->pin - 1);
}

/* ---- bus windows ---------------------------------------------------------------------------- */

struct reg {
    uint32_t off, val;
    unsigned len; /* 0 ends */
};

#define MAX_REGS   8
#define MAX_LEAVES 5

struct win_expect {
    bool assigned, is64;
    uint64_t base, limit, used, free, largest_free, largest_base; /* checked when assigned */
};

struct windows_row {
    const char *name;
    struct reg regs[MAX_REGS]; /* written to the bridge "b" at 00:03.0 */
    struct leaf_spec leaves[MAX_LEAVES];
    struct win_expect w[MACHINE_WINS];
};

#define IO_1000                                                                                    \
    {                                                                                              \
        PCI_IO_BASE, 0x1010, 2                                                                     \
    } /* I/O base 0x1000, limit 0x1fff */
#define MEM_FE0_2M                                                                                 \
    {                                                                                              \
        PCI_MEMORY_BASE, 0xfe10fe00, 4                                                             \
    } /* memory 0xfe000000-0xfe1fffff */
/* prefetchable 64-bit 0x8_0000_0000-0x8_00ff_ffff */
#define PREF_8G_16M                                                                                \
    {PCI_PREF_MEMORY_BASE, 0x00f10001, 4}, {PCI_PREF_BASE_UPPER32, 8, 4},                          \
    {                                                                                              \
        PCI_PREF_LIMIT_UPPER32, 8, 4                                                               \
    }
#define CMD_IO                                                                                     \
    {                                                                                              \
        PCI_COMMAND, PCI_COMMAND_IO, 2                                                             \
    }
#define CMD_MEM                                                                                    \
    {                                                                                              \
        PCI_COMMAND, PCI_COMMAND_MEMORY, 2                                                         \
    }
#define CMD_BOTH                                                                                   \
    {                                                                                              \
        PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2                                        \
    }
#define M64P   (PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH)
#define IO     PCI_BASE_ADDRESS_SPACE_IO
#define MEMCMD PCI_COMMAND_MEMORY
#define IOCMD  PCI_COMMAND_IO

/* Registers left at reset (base 0, limit 0) forward [0, 0xfff] or [0, 0xfffff] once Command
 * enables the space: open, and empty. */
#define IO_RESET                                                                                   \
    {                                                                                              \
        true, false, 0, 0xfff, 0, 4 * KiB, 4 * KiB, 0                                              \
    }
#define MEM_RESET                                                                                  \
    {                                                                                              \
        true, false, 0, 0xfffff, 0, MiB, MiB, 0                                                    \
    }
#define PREF_RESET                                                                                 \
    {                                                                                              \
        true, true, 0, 0xfffff, 0, MiB, MiB, 0                                                     \
    }

/* clang-format off */
static const struct windows_row windows_rows[] = {
    {"after reset: Command off, all closed", {{0}}, {{0}},
     {{false}, {false}, {false}}},
    {"I/O window, two BARs; largest free block is aligned", {IO_1000, CMD_IO},
     {{"b", 1, 0, 1, IOCMD, {{1, 256, IO, 0x1000}}},
      {"b", 2, 0, 1, IOCMD, {{1, 32, IO, 0x1100}}}},
     {{true, false, 0x1000, 0x1fff, 288, 4096 - 288, 0x800, 0x1800}, {false}, {false}}},
    {"I/O base above limit: closed", {{PCI_IO_BASE, 0x1020, 2}, CMD_IO}, {{0}},
     {{false}, {false}, {false}}},
    {"I/O without Command I/O: closed", {IO_1000, MEM_FE0_2M, CMD_MEM}, {{0}},
     {{false}, {true, false, 0xfe000000, 0xfe1fffff, 0, 2 * MiB, 2 * MiB, 0xfe000000}, PREF_RESET}},
    {"memory: BARs under 4 KiB count 4 KiB, overlaps merge", {MEM_FE0_2M, CMD_MEM},
     {{"b", 1, 0, 1, MEMCMD, {{0, 64 * KiB, 0, 0xfe000000}}},
      {"b", 2, 0, 1, MEMCMD, {{0, 16, 0, 0xfe010000}}},
      {"b", 4, 0, 1, MEMCMD, {{0, 16, 0, 0xfe010800}}}},
     {{false}, {true, false, 0xfe000000, 0xfe1fffff, 0x11800, 2 * MiB - 0x11800, MiB, 0xfe100000},
      PREF_RESET}},
    {"memory window without Command Memory: closed", {MEM_FE0_2M, CMD_IO}, {{0}},
     {IO_RESET, {false}, {false}}},
    {"memory base above limit: closed", {{PCI_MEMORY_BASE, 0xfe00fe10, 4}, CMD_MEM}, {{0}},
     {{false}, {false}, PREF_RESET}},
    {"prefetchable 64-bit above 4 GiB", {PREF_8G_16M, CMD_MEM},
     {{"b", 1, 0, 1, MEMCMD, {{2, MiB, M64P, 0x800000000ULL}}}},
     {{false}, MEM_RESET,
      {true, true, 0x800000000ULL, 0x800ffffffULL, MiB, 15 * MiB, 8 * MiB, 0x800800000ULL}}},
    {"prefetchable BAR outside the window does not count", {PREF_8G_16M, MEM_FE0_2M, CMD_MEM},
     {{"b", 1, 0, 1, MEMCMD, {{2, MiB, M64P, 0x900000000ULL}, {0, 4 * KiB, 0, 0xfe1ff000}}}},
     {{false}, {true, false, 0xfe000000, 0xfe1fffff, 4 * KiB, 2 * MiB - 4 * KiB, MiB, 0xfe000000},
      {true, true, 0x800000000ULL, 0x800ffffffULL, 0, 16 * MiB, 16 * MiB, 0x800000000ULL}}},
    {"prefetchable base above limit: closed",
     {{PCI_PREF_MEMORY_BASE, 0x00010011, 4}, {PCI_PREF_BASE_UPPER32, 8, 4},
      {PCI_PREF_LIMIT_UPPER32, 8, 4}, CMD_MEM}, {{0}},
     {{false}, MEM_RESET, {false}}},
    {"upper 32 bits decide: limit below base", {{PCI_PREF_MEMORY_BASE, 0x00f10001, 4},
     {PCI_PREF_BASE_UPPER32, 9, 4}, {PCI_PREF_LIMIT_UPPER32, 8, 4}, CMD_BOTH}, {{0}},
     {IO_RESET, MEM_RESET, {false}}},
    {"equal largest free blocks: the lowest", {IO_1000, CMD_IO},
     {{"b", 1, 0, 1, IOCMD, {{1, 256, IO, 0x1400}}}, {"b", 2, 0, 1, IOCMD, {{1, 256, IO, 0x1c00}}}},
     {{true, false, 0x1000, 0x1fff, 512, 4096 - 512, 0x400, 0x1000}, {false}, {false}}},
    {"a BAR larger than the window counts inside only", {MEM_FE0_2M, CMD_MEM},
     {{"b", 1, 0, 1, MEMCMD, {{0, 4 * MiB, 0, 0xfe000000}}}},
     {{false}, {true, false, 0xfe000000, 0xfe1fffff, 2 * MiB, 0, 0, 0}, PREF_RESET}},
};
/* clang-format on */

static void check_window(const char *what, const struct machine_window *got,
                         const struct win_expect *want)
{
    assert_true(got->present);
    if (got->assigned != want->assigned)
        fail_msg("%s: assigned %d, want %d", what, got->assigned, want->assigned);
    if (!want->assigned)
        return;
    assert_int_equal(got->is64, want->is64);
    assert_int_equal(got->base, want->base);
    assert_int_equal(got->limit, want->limit);
    assert_int_equal(got->used, want->used);
    assert_int_equal(got->free, want->free);
    assert_int_equal(got->largest_free, want->largest_free);
    assert_int_equal(got->largest_base, want->largest_base);
}

static const char *const bridge_b[] = {"pci-bridge,id=b,chassis_nr=1,addr=03.0,shpc=off", NULL};

static size_t n_leaves(const struct leaf_spec *l)
{
    size_t n = 0;

    while (n < MAX_LEAVES && l[n].bus)
        n++;
    return n;
}

static struct pci_device *bridge_write(struct rig *rig, const struct reg *regs)
{
    struct pci_device *br = machine_root_bus(rig->m)->devices[PCI_DEVFN_OF(3, 0)];

    assert_non_null(br);
    for (unsigned i = 0; i < MAX_REGS && regs[i].len; i++)
        cfg_write(br, regs[i].off, regs[i].val, regs[i].len);
    return br;
}

static void test_windows(void **state)
{
    struct unit_fix *f = *state;
    const struct windows_row *r = f->row;
    struct rig *rig = rig_new(f, "pc", bridge_b, r->leaves, n_leaves(r->leaves));
    struct machine_window w[MACHINE_WINS];

    bridge_write(rig, r->regs);
    assert_int_equal(machine_bus_windows(rig->m, rig_bus(rig, "b"), w), 0);
    for (enum machine_win k = 0; k < MACHINE_WINS; k++)
        check_window(machine_win_name(k), &w[k], &r->w[k]);
}

/* The root bus's own windows: the chipset's; no separate prefetchable one. Bridge windows
 * below count as used there. */
static void test_root_windows(void **state)
{
    struct unit_fix *f = *state;
    static const struct reg regs[] = {MEM_FE0_2M, CMD_MEM, {0}};
    struct rig *rig = rig_new(f, "pc", bridge_b, NULL, 0);
    struct machine_window w[MACHINE_WINS];

    bridge_write(rig, regs);
    assert_int_equal(machine_bus_windows(rig->m, machine_root_bus(rig->m), w), 0);
    assert_true(w[MACHINE_WIN_MEM].assigned);
    assert_int_equal(w[MACHINE_WIN_MEM].base, 0x80000000ULL);
    assert_int_equal(w[MACHINE_WIN_MEM].limit, 0xfebfffffULL);
    assert_int_equal(w[MACHINE_WIN_MEM].used, 2 * MiB);
    assert_false(w[MACHINE_WIN_PREF].present);
    assert_true(w[MACHINE_WIN_IO].assigned);
    assert_int_equal(w[MACHINE_WIN_IO].base, 0xc000);
    assert_int_equal(w[MACHINE_WIN_IO].limit, 0xffff);
}

/* ---- fit check ------------------------------------------------------------------------------- */

struct fit_expect {
    int bar;
    enum machine_win window;
    bool fits, closed;
    uint64_t addr; /* when it fits */
};

struct fit_row {
    const char *name;
    struct reg regs[MAX_REGS];
    struct leaf_spec leaves[MAX_LEAVES];
    unsigned slot, fn; /* where the new function would go on "b" */
    struct bar_spec bars[MAX_BARS];
    unsigned n;
    struct fit_expect want[MAX_BARS];
    int first_fail;
};

#define MEM_FE0_1M                                                                                 \
    {                                                                                              \
        PCI_MEMORY_BASE, 0xfe00fe00, 4                                                             \
    } /* memory 0xfe000000-0xfe0fffff */
#define PREF_8G_1M                                                                                 \
    {PCI_PREF_MEMORY_BASE, 0x00010001, 4}, {PCI_PREF_BASE_UPPER32, 8, 4},                          \
    {                                                                                              \
        PCI_PREF_LIMIT_UPPER32, 8, 4                                                               \
    }
#define PREF_OFF                                                                                   \
    {                                                                                              \
        PCI_PREF_MEMORY_BASE, 0x00010011, 4                                                        \
    } /* base above limit */
#define Q256 (256 * KiB)
#define MW   MACHINE_WIN_MEM
#define PW   MACHINE_WIN_PREF
#define IW   MACHINE_WIN_IO
#define PLACED(s, a)                                                                               \
    {                                                                                              \
        "b", s, 0, 1, MEMCMD,                                                                      \
        {                                                                                          \
            {                                                                                      \
                0, Q256, 0, a                                                                      \
            }                                                                                      \
        }                                                                                          \
    }

/* clang-format off */
static const struct fit_row fit_rows[] = {
    /* 1 MiB of memory holds exactly four 256 KiB BARs. */
    {"room for 4: none placed", {MEM_FE0_1M, PREF_OFF, CMD_MEM}, {{0}}, 5, 0,
     {{0, Q256, 0, 0}}, 1, {{0, MW, true, false, 0xfe000000}}, -1},
    {"room for 4: three placed, the 4th fits at the end", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {PLACED(1, 0xfe000000), PLACED(2, 0xfe040000), PLACED(4, 0xfe080000)}, 5, 0,
     {{0, Q256, 0, 0}}, 1, {{0, MW, true, false, 0xfe0c0000}}, -1},
    {"room for 4: a hole in the middle is found", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {PLACED(1, 0xfe000000), PLACED(2, 0xfe080000), PLACED(4, 0xfe0c0000)}, 5, 0,
     {{0, Q256, 0, 0}}, 1, {{0, MW, true, false, 0xfe040000}}, -1},
    {"room for 4: four placed, the 5th does not fit", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {PLACED(1, 0xfe000000), PLACED(2, 0xfe040000), PLACED(4, 0xfe080000),
      PLACED(6, 0xfe0c0000)}, 5, 0,
     {{0, Q256, 0, 0}}, 1, {{0, MW, false, false, 0}}, 0},
    {"two of a size, room for one: the second BAR fails", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {PLACED(1, 0xfe000000)}, 5, 0,
     {{0, 512 * KiB, 0, 0}, {1, 512 * KiB, 0, 0}}, 2,
     {{0, MW, true, false, 0xfe080000}, {1, MW, false, false, 0}}, 1},
    {"two fail: first_fail names the first placed", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {PLACED(1, 0xfe000000)}, 5, 0,
     {{0, MiB, 0, 0}, {2, MiB, 0, 0}}, 2,
     {{0, MW, false, false, 0}, {2, MW, false, false, 0}}, 0},
    {"largest first: the big BAR fails, the small one fits", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {PLACED(1, 0xfe000000)}, 5, 0,
     {{0, 16, 0, 0}, {2, MiB, 0, 0}}, 2,
     {{0, MW, true, false, 0xfe040000}, {2, MW, false, false, 0}}, 1},
    {"prefetchable without a prefetchable window: memory", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {{0}}, 5, 0, {{2, Q256, M64P, 0}}, 1, {{2, MW, true, false, 0xfe000000}}, -1},
    {"prefetchable into its own window", {MEM_FE0_1M, PREF_8G_1M, CMD_MEM},
     {{0}}, 5, 0, {{2, Q256, M64P, 0}}, 1, {{2, PW, true, false, 0x800000000ULL}}, -1},
    {"prefetchable window full: falls back to memory", {MEM_FE0_1M, PREF_8G_1M, CMD_MEM},
     {{"b", 1, 0, 1, MEMCMD, {{2, MiB, M64P, 0x800000000ULL}}}}, 5, 0,
     {{2, Q256, M64P, 0}}, 1, {{2, MW, true, false, 0xfe000000}}, -1},
    {"an unconfigured function elsewhere takes the room first", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {{"b", 1, 0, 1, 0, {{0, MiB, 0, 0}}}}, 5, 0,
     {{0, Q256, 0, 0}}, 1, {{0, MW, false, false, 0}}, 0},
    {"a configured function (Command on) is not placed again", {MEM_FE0_1M, PREF_OFF, CMD_MEM},
     {{"b", 1, 0, 1, MEMCMD, {{0, MiB, 0, 0}}}}, 5, 0,
     {{0, Q256, 0, 0}}, 1, {{0, MW, true, false, 0xfe000000}}, -1},
    {"an unconfigured function of the same slot goes with it, largest first",
     {MEM_FE0_1M, PREF_OFF, CMD_MEM}, {{"b", 5, 1, 1, 0, {{0, 512 * KiB, 0, 0}}}}, 5, 0,
     {{0, Q256, 0, 0}}, 1, {{0, MW, true, false, 0xfe080000}}, -1},
    {"I/O fits", {IO_1000, CMD_IO}, {{0}}, 5, 0,
     {{1, 256, IO, 0}}, 1, {{1, IW, true, false, 0x1000}}, -1},
    {"I/O closed: closed", {IO_1000, MEM_FE0_1M, CMD_MEM}, {{0}}, 5, 0,
     {{1, 32, IO, 0}, {0, 16, 0, 0}}, 2,
     {{0, MW, true, false, 0xfe000000}, {1, IW, false, true, 0}}, 1},
    {"memory and prefetchable closed: the prefetchable BAR is closed",
     {MEM_FE0_1M, PREF_8G_1M, CMD_IO}, {{0}}, 5, 0,
     {{2, Q256, M64P, 0}}, 1, {{2, MW, false, true, 0}}, 0},
    {"prefetchable window closed, memory full: not fits, not closed",
     {MEM_FE0_1M, PREF_OFF, CMD_MEM}, {{"b", 1, 0, 1, MEMCMD, {{0, MiB, 0, 0xfe000000}}}}, 5, 0,
     {{2, Q256, M64P, 0}}, 1, {{2, MW, false, false, 0}}, 0},
};
/* clang-format on */

static void test_fit(void **state)
{
    struct unit_fix *f = *state;
    const struct fit_row *r = f->row;
    struct rig *rig = rig_new(f, "pc", bridge_b, r->leaves, n_leaves(r->leaves));
    struct leaf_spec s = {.slot = r->slot, .fn = r->fn, .pin = 1};
    struct pci_device *d;
    struct machine_fit fit;

    memcpy(s.bars, r->bars, sizeof(s.bars));
    d = unit_defer(f, dev_free, leaf_build(&s));
    bridge_write(rig, r->regs);
    assert_int_equal(
        machine_fit_check(rig->m, rig_bus(rig, "b"), PCI_DEVFN_OF(r->slot, r->fn), d, &fit), 0);
    assert_int_equal(fit.n, r->n);
    for (unsigned i = 0; i < r->n; i++) {
        const struct machine_fit_bar *b = &fit.bars[i];
        const struct fit_expect *w = &r->want[i];

        assert_int_equal(b->bar, w->bar);
        assert_int_equal(b->window, w->window);
        if (b->fits != w->fits || b->closed != w->closed)
            fail_msg("bar %d: fits %d closed %d, want %d %d", b->bar, b->fits, b->closed, w->fits,
                     w->closed);
        if (w->fits)
            assert_int_equal(b->addr, w->addr);
    }
    assert_int_equal(fit.first_fail, r->first_fail);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, route_rows, test_route);
    UNIT_ROWS_FIX(&s, nopin_rows, test_nopin);
    UNIT_ROWS_FIX(&s, windows_rows, test_windows);
    unit_add(&s, "root", "chipset windows", test_root_windows, NULL, unit_fix_setup,
             unit_fix_teardown);
    UNIT_ROWS_FIX(&s, fit_rows, test_fit);
    return unit_run(&s, "resources");
}
