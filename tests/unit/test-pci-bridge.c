/* SPDX-License-Identifier: MIT */
/*
 * test-pci-bridge.c — the type 1 header (daemon/hw/pci/pci_bridge.c): PCI-to-PCI Bridge 1.2
 * §3.2 as QEMU 7.2's pci_bridge.c presents it. Window decoding from raw register bytes (I/O
 * 16/32-bit, memory, prefetchable 32/64-bit, base above limit), what a bridge forwards (Command
 * decode enables, VGA ranges), write masks of the header, reset and the PCIe ports' disabled
 * windows, map notifications, and Secondary Bus Reset (edge, every function below, through
 * bridges). Bus-number routing is tested with the bus (test-pci-bus.c).
 */
#include <errno.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bridge.h"
#include "daemon/hw/pci/pci_bus.h"
#include "tests/unit/unit.h"

/* ---- fakes: a bridge model with the generic type 1 behaviour, a leaf counting resets -------- */

static int resets; /* leaf resets seen by the case running now */

static void leaf_reset(struct pci_device *d)
{
    (void)d;
    resets++;
}

static const struct pci_dev_class leaf_class = {.name = "leaf", .reset = leaf_reset};

static void bridge_reset(struct pci_device *d)
{
    pci_bridge_reset(d->bridge);
}

static const struct pci_dev_class bridge_class = {
    .name = "fake-bridge", .config_write = pci_bridge_config_write, .reset = bridge_reset};

struct map_sink {
    int calls;
};

static void sink_map(void *opaque)
{
    ((struct map_sink *)opaque)->calls++;
}

static const struct pci_bus_ops sink_ops = {.map_changed = sink_map};

static void detach(void *p)
{
    pci_bus_detach(p);
}

static void bridge_free(void *p)
{
    struct pci_bridge *br = p;

    pci_bridge_fini(br);
    pci_dev_destroy(&br->pci);
    free(br);
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

static struct pci_bridge *bridge_new(struct unit_fix *f, struct pci_bus *bus, unsigned slot)
{
    struct pci_bridge *br = calloc(1, sizeof(*br));

    assert_non_null(br);
    assert_int_equal(pci_bridge_init(br, &bridge_class, PCI_CONFIG_SPACE_SIZE, false), 0);
    unit_defer(f, bridge_free, br);
    pci_dev_set_ids(&br->pci, 0x1b36, 0x0001, 0, 0x060400);
    assert_ptr_equal(br->sec->parent, &br->pci);
    if (bus) {
        assert_int_equal(pci_bus_attach(bus, &br->pci, PCI_DEVFN_OF(slot, 0)), 0);
        unit_defer(f, detach, &br->pci);
    }
    return br;
}

static struct pci_device *leaf_new(struct unit_fix *f, struct pci_bus *bus, unsigned slot)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &leaf_class, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL),
                     0);
    unit_defer(f, leaf_free, d);
    pci_dev_set_ids(d, 0x8086, 0x100e, 0, 0x020000);
    assert_int_equal(pci_bus_attach(bus, d, PCI_DEVFN_OF(slot, 0)), 0);
    unit_defer(f, detach, d);
    return d;
}

static struct pci_bus *root_new(struct unit_fix *f, struct map_sink *sink)
{
    struct pci_bus *bus;

    assert_int_equal(pci_bus_new("pci.0", false, false, &bus), 0);
    unit_defer(f, bus_free, bus);
    bus->ops = &sink_ops;
    bus->opaque = sink;
    return bus;
}

static void wr(struct pci_device *d, uint32_t off, uint32_t val, unsigned len)
{
    pthread_mutex_lock(&d->lock);
    pci_dev_config_write(d, off, val, len);
    pthread_mutex_unlock(&d->lock);
}

static uint32_t rd(struct pci_device *d, uint32_t off, unsigned len)
{
    return pci_dev_config_read(d, off, len);
}

/* ---- pci_bridge_window: the registers' meaning (§3.2.5.6-9) ---------------------------------- */

struct reg {
    uint8_t off;
    uint32_t val;
    unsigned len;
};

struct window_row {
    const char *name;
    enum pci_bridge_window w;
    struct reg regs[4]; /* raw bytes; len 0 ends */
    uint64_t base, limit;
};

#define IOW   PCI_BRIDGE_WINDOW_IO
#define MEMW  PCI_BRIDGE_WINDOW_MEM
#define PREFW PCI_BRIDGE_WINDOW_PREF

/* clang-format off */
static const struct window_row window_rows[] = {
    {"I/O all zero: one 4 KiB window at 0", IOW, {{0}}, 0, 0xfff},
    {"I/O 16-bit 0x1000-0x2fff", IOW, {{PCI_IO_BASE, 0x10, 1}, {PCI_IO_LIMIT, 0x20, 1}}, 0x1000,
     0x2fff},
    {"I/O 16-bit ignores the upper registers", IOW,
     {{PCI_IO_BASE, 0x10, 1}, {PCI_IO_LIMIT, 0x20, 1}, {PCI_IO_BASE_UPPER16, 0xffffffff, 4}},
     0x1000, 0x2fff},
    {"I/O 32-bit uses the upper registers", IOW,
     {{PCI_IO_BASE, 0x11, 1}, {PCI_IO_LIMIT, 0x21, 1}, {PCI_IO_BASE_UPPER16, 0x00030002, 4}},
     0x21000, 0x32fff},
    {"I/O low nibble is not address", IOW, {{PCI_IO_BASE, 0x1e, 1}, {PCI_IO_LIMIT, 0x1e, 1}},
     0x1000, 0x1fff},
    {"I/O disabled: base above limit", IOW, {{PCI_IO_BASE, 0xf0, 1}, {PCI_IO_LIMIT, 0x00, 1}},
     0xf000, 0xfff},
    {"memory 0xfe000000-0xfe2fffff", MEMW,
     {{PCI_MEMORY_BASE, 0xfe00, 2}, {PCI_MEMORY_LIMIT, 0xfe20, 2}}, 0xfe000000, 0xfe2fffff},
    {"memory low nibble is not address", MEMW,
     {{PCI_MEMORY_BASE, 0xfe0f, 2}, {PCI_MEMORY_LIMIT, 0xfe0f, 2}}, 0xfe000000, 0xfe0fffff},
    {"memory disabled: 0xfff0 / 0", MEMW, {{PCI_MEMORY_BASE, 0xfff0, 2}}, 0xfff00000, 0xfffff},
    {"prefetchable 32-bit ignores the upper dwords", PREFW,
     {{PCI_PREF_MEMORY_BASE, 0xc000, 2}, {PCI_PREF_MEMORY_LIMIT, 0xc010, 2},
      {PCI_PREF_BASE_UPPER32, 1, 4}, {PCI_PREF_LIMIT_UPPER32, 1, 4}}, 0xc0000000, 0xc01fffff},
    {"prefetchable 64-bit", PREFW,
     {{PCI_PREF_MEMORY_BASE, 0x0001, 2}, {PCI_PREF_MEMORY_LIMIT, 0x0011, 2},
      {PCI_PREF_BASE_UPPER32, 0x8, 4}, {PCI_PREF_LIMIT_UPPER32, 0x8, 4}}, 0x800000000,
     0x8001fffff},
    {"prefetchable 64-bit above 4 GiB base, low limit: disabled", PREFW,
     {{PCI_PREF_MEMORY_BASE, 0x0001, 2}, {PCI_PREF_MEMORY_LIMIT, 0xfff1, 2},
      {PCI_PREF_BASE_UPPER32, 0x1, 4}}, 0x100000000, 0xffffffff},
};
/* clang-format on */

static void test_window(void **state)
{
    const struct window_row *r = *state;
    uint8_t cfg[PCI_CONFIG_HEADER_SIZE] = {0};
    uint64_t base = 1, limit = 1;

    for (const struct reg *g = r->regs; g < r->regs + ARRAY_SIZE(r->regs) && g->len; g++)
        le_store(cfg + g->off, g->val, g->len);
    pci_bridge_window(cfg, r->w, &base, &limit);
    assert_int_equal(base, r->base);
    assert_int_equal(limit, r->limit);
}

/* ---- forwarding: windows gated by Command, VGA ranges gated by Bridge Control ---------------- */

struct fwd_row {
    const char *name;
    uint16_t cmd, ctl;
    bool io;
    uint64_t addr;
    bool expect;
    unsigned nranges; /* pci_bridge_ranges() for the same direction */
};

#define W_IO  PCI_COMMAND_IO
#define W_MEM PCI_COMMAND_MEMORY
#define VGA   PCI_BRIDGE_CTL_VGA

/* The bridge of every row: I/O 0x1000-0x1fff, memory 0xfe000000-0xfe0fffff, prefetchable
 * 0xc0000000-0xc00fffff. */
/* clang-format off */
static const struct fwd_row fwd_rows[] = {
    {"I/O inside, I/O decode on", W_IO, 0, true, 0x1800, true, 1},
    {"I/O inside, decode off", W_MEM, 0, true, 0x1800, false, 0},
    {"I/O limit is inclusive", W_IO, 0, true, 0x1fff, true, 1},
    {"I/O just past the limit", W_IO, 0, true, 0x2000, false, 1},
    {"I/O just below the base", W_IO, 0, true, 0xfff, false, 1},
    {"memory inside", W_MEM, 0, false, 0xfe080000, true, 2},
    {"memory inside, decode off", W_IO, 0, false, 0xfe080000, false, 0},
    {"prefetchable inside", W_MEM, 0, false, 0xc0000000, true, 2},
    {"between windows", W_MEM, 0, false, 0xd0000000, false, 2},
    {"VGA memory without VGA enable", W_MEM, 0, false, 0xa0000, false, 2},
    {"VGA memory with VGA enable", W_MEM, VGA, false, 0xbffff, true, 3},
    {"VGA memory needs Memory decode", W_IO, VGA, false, 0xa0000, false, 0},
    {"VGA I/O 0x3b0", W_IO, VGA, true, 0x3b0, true, 3},
    {"VGA I/O 0x3bb", W_IO, VGA, true, 0x3bb, true, 3},
    {"VGA I/O hole 0x3bc", W_IO, VGA, true, 0x3bc, false, 3},
    {"VGA I/O 0x3df", W_IO, VGA, true, 0x3df, true, 3},
    {"VGA I/O 0x3e0", W_IO, VGA, true, 0x3e0, false, 3},
    {"VGA I/O needs I/O decode", W_MEM, VGA, true, 0x3c0, false, 0},
};
/* clang-format on */

static void test_forward(void **state)
{
    struct unit_fix *f = *state;
    const struct fwd_row *r = f->row;
    struct pci_bridge *br = bridge_new(f, NULL, 0);
    struct pci_range ranges[PCI_BRIDGE_RANGES_MAX];

    wr(&br->pci, PCI_IO_BASE, 0x10, 1);
    wr(&br->pci, PCI_IO_LIMIT, 0x10, 1);
    wr(&br->pci, PCI_MEMORY_BASE, 0xfe00fe00, 4);
    wr(&br->pci, PCI_PREF_MEMORY_BASE, 0xc000c000, 4);
    wr(&br->pci, PCI_COMMAND, r->cmd, 2);
    wr(&br->pci, PCI_BRIDGE_CONTROL, r->ctl, 2);
    assert_int_equal(pci_bridge_forwards_addr(&br->pci, r->io, r->addr), r->expect);
    assert_int_equal(pci_bridge_ranges(&br->pci, r->io, ranges), r->nranges);
}

/* ---- the header: what init sets, what a guest may write -------------------------------------- */

struct hdr_row {
    const char *name;
    uint8_t off;
    unsigned len;
    uint32_t write; /* written (all ones unless said) */
    uint32_t expect;
};

/* clang-format off */
static const struct hdr_row hdr_rows[] = {
    {"header type 1", PCI_HEADER_TYPE, 1, 0xff, PCI_HEADER_TYPE_BRIDGE},
    {"class 0x0604", PCI_CLASS_DEVICE, 2, 0xffff, PCI_CLASS_BRIDGE_PCI},
    {"status 66MHz | fast back-to-back", PCI_STATUS, 2, 0, PCI_STATUS_66MHZ | PCI_STATUS_FAST_BACK},
    {"secondary status the same", PCI_SEC_STATUS, 2, 0,
     PCI_STATUS_66MHZ | PCI_STATUS_FAST_BACK},
    {"primary bus writable", PCI_PRIMARY_BUS, 1, 0xff, 0xff},
    {"secondary bus writable", PCI_SECONDARY_BUS, 1, 0xff, 0xff},
    {"subordinate bus writable", PCI_SUBORDINATE_BUS, 1, 0xff, 0xff},
    {"secondary latency writable", PCI_SEC_LATENCY_TIMER, 1, 0xff, 0xff},
    {"I/O base: address nibble only, 16-bit type", PCI_IO_BASE, 1, 0xff, 0xf0},
    {"I/O limit: address nibble only", PCI_IO_LIMIT, 1, 0xff, 0xf0},
    {"memory base: 1 MiB granular", PCI_MEMORY_BASE, 2, 0xffff, 0xfff0},
    {"memory limit", PCI_MEMORY_LIMIT, 2, 0xffff, 0xfff0},
    {"prefetchable base: 64-bit type kept", PCI_PREF_MEMORY_BASE, 2, 0xffff, 0xfff1},
    {"prefetchable limit", PCI_PREF_MEMORY_LIMIT, 2, 0xffff, 0xfff1},
    {"prefetchable base upper 32", PCI_PREF_BASE_UPPER32, 4, 0xffffffff, 0xffffffff},
    {"prefetchable limit upper 32", PCI_PREF_LIMIT_UPPER32, 4, 0xffffffff, 0xffffffff},
    {"bridge control: QEMU's writable bits", PCI_BRIDGE_CONTROL, 2, 0xffff, 0x0bff},
    {"vendor read-only", PCI_VENDOR_ID, 2, 0, 0x1b36},
};
/* clang-format on */

static void test_header(void **state)
{
    struct unit_fix *f = *state;
    const struct hdr_row *r = f->row;
    struct pci_bridge *br = bridge_new(f, NULL, 0);

    if (r->write)
        wr(&br->pci, r->off, r->write, r->len);
    assert_int_equal(rd(&br->pci, r->off, r->len), r->expect);
}

/* ---- reset, PCIe disabled windows ------------------------------------------------------------ */

struct reset_row {
    const char *name;
    bool disable; /* then pci_bridge_disable_base_limit */
    uint8_t off;
    unsigned len;
    uint32_t expect;
};

/* Every row first programs the header with all ones, then resets. */
/* clang-format off */
static const struct reset_row reset_rows[] = {
    {"bus numbers cleared", false, PCI_PRIMARY_BUS, 4, 0},
    {"I/O base: type bits kept", false, PCI_IO_BASE, 2, 0},
    {"memory windows cleared", false, PCI_MEMORY_BASE, 4, 0},
    {"prefetchable: type bits kept", false, PCI_PREF_MEMORY_BASE, 4, 0x00010001},
    {"prefetchable upper halves cleared", false, PCI_PREF_BASE_UPPER32, 4, 0},
    {"bridge control cleared", false, PCI_BRIDGE_CONTROL, 2, 0},
    {"PCIe: I/O base above limit", true, PCI_IO_BASE, 2, 0x00f0},
    {"PCIe: memory base above limit", true, PCI_MEMORY_BASE, 4, 0x0000fff0},
    {"PCIe: prefetchable base above limit", true, PCI_PREF_MEMORY_BASE, 4, 0x0001fff1},
    {"PCIe: upper halves 0", true, PCI_PREF_LIMIT_UPPER32, 4, 0},
};
/* clang-format on */

static void test_reset(void **state)
{
    struct unit_fix *f = *state;
    const struct reset_row *r = f->row;
    struct pci_bridge *br = bridge_new(f, NULL, 0);
    uint64_t base, limit;

    for (uint32_t off = PCI_PRIMARY_BUS; off < PCI_CAPABILITY_LIST; off += 4)
        wr(&br->pci, off, 0xffffffff, 4);
    wr(&br->pci, PCI_BRIDGE_CONTROL, 0xffff & ~PCI_BRIDGE_CTL_BUS_RESET, 2);
    pthread_mutex_lock(&br->pci.lock);
    pci_dev_reset(&br->pci);
    if (r->disable)
        pci_bridge_disable_base_limit(br);
    pthread_mutex_unlock(&br->pci.lock);
    assert_int_equal(rd(&br->pci, r->off, r->len), r->expect);
    if (r->disable) {
        /* Disabled means forwarding nothing: every window's base is above its limit. */
        for (int w = PCI_BRIDGE_WINDOW_IO; w <= PCI_BRIDGE_WINDOW_PREF; w++) {
            pci_bridge_window(br->pci.config, (enum pci_bridge_window)w, &base, &limit);
            assert_true(base > limit);
        }
    }
}

/* ---- map notifications --------------------------------------------------------------------------
 */

struct notify_row {
    const char *name;
    uint8_t off;
    unsigned len;
    uint32_t val;
    int calls;
};

/* clang-format off */
static const struct notify_row notify_rows[] = {
    {"Command", PCI_COMMAND, 2, PCI_COMMAND_MEMORY, 1},
    {"secondary bus number", PCI_SECONDARY_BUS, 1, 1, 1},
    {"subordinate bus number", PCI_SUBORDINATE_BUS, 1, 1, 1},
    {"I/O window", PCI_IO_BASE, 1, 0x10, 1},
    {"memory window", PCI_MEMORY_LIMIT, 2, 0xfe00, 1},
    {"prefetchable upper", PCI_PREF_LIMIT_UPPER32, 4, 1, 1},
    {"bridge control", PCI_BRIDGE_CONTROL, 2, PCI_BRIDGE_CTL_VGA, 1},
    {"cache line size: nothing", PCI_CACHE_LINE_SIZE, 1, 0x10, 0},
    {"secondary latency: nothing", PCI_SEC_LATENCY_TIMER, 1, 0x10, 0},
    {"I/O upper 16 (in QEMU's range even for a 16-bit decoder)", PCI_IO_BASE_UPPER16, 4, 1, 1},
    {"interrupt line: nothing", PCI_INTERRUPT_LINE, 1, 5, 0},
};
/* clang-format on */

static void test_notify(void **state)
{
    struct unit_fix *f = *state;
    const struct notify_row *r = f->row;
    struct map_sink sink = {0};
    struct pci_bus *root = root_new(f, &sink);
    struct pci_bridge *br = bridge_new(f, root, 3);

    wr(&br->pci, r->off, r->val, r->len);
    assert_int_equal(sink.calls, r->calls);
}

/* ---- Secondary Bus Reset ----------------------------------------------------------------------
 */

struct sbr_row {
    const char *name;
    uint16_t before, after; /* Bridge Control before and written */
    bool nested;            /* a second bridge below with its own leaf */
    int resets;             /* leaf resets */
};

#define SBR PCI_BRIDGE_CTL_BUS_RESET

/* clang-format off */
static const struct sbr_row sbr_rows[] = {
    {"0 -> 1 resets the function below", 0, SBR, false, 1},
    {"0 -> 1 reaches through a bridge below", 0, SBR, true, 2},
    {"1 -> 1 is no edge", SBR, SBR, false, 0},
    {"1 -> 0 resets nothing", SBR, 0, false, 0},
    {"other bits: nothing", 0, PCI_BRIDGE_CTL_SERR | PCI_BRIDGE_CTL_PARITY, false, 0},
};
/* clang-format on */

static void test_sbr(void **state)
{
    struct unit_fix *f = *state;
    const struct sbr_row *r = f->row;
    struct map_sink sink = {0};
    struct pci_bus *root = root_new(f, &sink);
    struct pci_bridge *br = bridge_new(f, root, 3);
    struct pci_device *leaf = leaf_new(f, br->sec, 0);

    if (r->nested) {
        struct pci_bridge *br2 = bridge_new(f, br->sec, 4);

        leaf_new(f, br2->sec, 2);
        wr(&br2->pci, PCI_SECONDARY_BUS, 2, 1);
    }
    wr(&br->pci, PCI_BRIDGE_CONTROL, r->before, 2);
    /* The reset is the function's: its registers go back, too. */
    wr(leaf, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    resets = 0;
    wr(&br->pci, PCI_BRIDGE_CONTROL, r->after, 2);
    assert_int_equal(resets, r->resets);
    assert_int_equal(rd(leaf, PCI_COMMAND, 2), r->resets ? 0 : PCI_COMMAND_MEMORY);
    /* The bridge itself is not reset: its control register keeps what was written. */
    assert_int_equal(rd(&br->pci, PCI_BRIDGE_CONTROL, 2), r->after);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS(&s, window_rows, test_window);
    UNIT_ROWS_FIX(&s, fwd_rows, test_forward);
    UNIT_ROWS_FIX(&s, hdr_rows, test_header);
    UNIT_ROWS_FIX(&s, reset_rows, test_reset);
    UNIT_ROWS_FIX(&s, notify_rows, test_notify);
    UNIT_ROWS_FIX(&s, sbr_rows, test_sbr);
    return unit_run(&s, "pci-bridge");
}
