/* SPDX-License-Identifier: MIT */
/*
 * test-msix.c — MSI-X (daemon/hw/pci/msix.c, PCI 3.0 §6.8.2): QEMU's exclusive-BAR geometry,
 * the capability's writable bits, table and PBA accesses through the BAR, and delivery
 * (pending while masked, sent on unmask).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "daemon/hw/pci/msix.h"
#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bus.h"
#include "daemon/hw/pci/pci_cap.h"
#include "daemon/util/error.h"
#include "daemon/util/sbuf.h"
#include "tests/unit/unit.h"

#define MSIX_BAR 1

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

static struct pci_device *dev_new(struct unit_fix *f)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &fake_class, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL),
                     0);
    unit_defer(f, dev_free, d);
    pci_dev_set_ids(d, 0x1af4, 0x1000, 0x01, 0x020000);
    return d;
}

/* A function with 4 vectors in BAR1, as virtio-net-pci has. */
static struct pci_device *dev_msix4(struct unit_fix *f)
{
    struct pci_device *d = dev_new(f);

    assert_int_equal(msix_init_exclusive_bar(d, 4, MSIX_BAR), 0x40);
    return d;
}

/* ---- msix_init_exclusive_bar: geometry ------------------------------------------------------ */

struct geo_row {
    const char *name;
    unsigned nvectors;
    int bar;
    int pre_bar; /* a BAR registered first, -1 = none */
    int ret;
    uint64_t bar_size;
    uint32_t pba_off;
};

/* clang-format off */
static const struct geo_row geo_rows[] = {
    {"4 vectors: 4 KiB, PBA at 2 KiB", 4, 1, -1, 0x40, 0x1000, 0x800},
    {"1 vector", 1, 1, -1, 0x40, 0x1000, 0x800},
    {"128 vectors fill the lower half", 128, 1, -1, 0x40, 0x1000, 0x800},
    {"129 vectors move the PBA up", 129, 1, -1, 0x40, 0x1000, 0x810},
    /* QEMU 7.2's msix_init_exclusive_bar(): the BAR grows only when PBA offset + PBA size
     * (3200 + 32) exceeds 4096, so 200 vectors still fit in 4 KiB. */
    {"200 vectors: PBA at 3200, BAR stays 4 KiB", 200, 1, -1, 0x40, 0x1000, 3200},
    {"254 vectors: PBA ends at exactly 4 KiB", 254, 1, -1, 0x40, 0x1000, 4064},
    {"255 vectors grow the BAR to 8 KiB", 255, 1, -1, 0x40, 0x2000, 4080},
    {"1024 vectors: 32 KiB", 1024, 1, -1, 0x40, 0x8000, 0x4000},
    {"2048 vectors: 64 KiB", 2048, 1, -1, 0x40, 0x10000, 0x8000},
    {"BAR5", 4, 5, -1, 0x40, 0x1000, 0x800},
    {"0 vectors: -EINVAL", 0, 1, -1, -EINVAL, 0, 0},
    {"2049 vectors: -EINVAL", 2049, 1, -1, -EINVAL, 0, 0},
    {"BAR 6: -EINVAL", 4, 6, -1, -EINVAL, 0, 0},
    {"BAR taken: -EBUSY, capability rolled back", 4, 1, 1, -EBUSY, 0, 0},
    {"BAR is the upper half of a 64-bit BAR0: -EBUSY", 4, 1, 0, -EBUSY, 0, 0},
};
/* clang-format on */

static void test_geometry(void **state)
{
    struct unit_fix *f = *state;
    const struct geo_row *r = f->row;
    struct pci_device *d = dev_new(f);
    int cap;

    if (r->pre_bar >= 0)
        assert_int_equal(
            pci_bar_register(d, r->pre_bar, 0x1000, PCI_BASE_ADDRESS_MEM_TYPE_64, NULL, NULL), 0);
    cap = msix_init_exclusive_bar(d, (uint16_t)r->nvectors, r->bar);
    assert_int_equal(cap, r->ret);
    if (cap < 0) {
        /* Nothing left behind. */
        assert_null(d->msix);
        assert_int_equal(d->config[PCI_CAPABILITY_LIST], 0);
        assert_int_equal(d->config[PCI_STATUS] & PCI_STATUS_CAP_LIST, 0);
        for (unsigned i = PCI_CAP_SPACE_START; i < PCI_CONFIG_SPACE_SIZE; i++) {
            assert_int_equal(d->used[i], 0);
            assert_int_equal(d->wmask[i], 0xff);
        }
        return;
    }
    assert_non_null(d->msix);
    assert_int_equal(d->msix->nvectors, r->nvectors);
    assert_int_equal(d->bars[r->bar].size, r->bar_size);
    assert_int_equal(d->bars[r->bar].type, PCI_BASE_ADDRESS_SPACE_MEMORY);
    assert_non_null(d->bars[r->bar].ops);
    assert_int_equal(pci_cap_find(d, PCI_CAP_ID_MSIX, NULL), cap);
    assert_int_equal(pci_dev_config_read(d, cap + PCI_MSIX_FLAGS, 2), r->nvectors - 1);
    assert_int_equal(pci_dev_config_read(d, cap + PCI_MSIX_TABLE, 4), 0 | (uint32_t)r->bar);
    assert_int_equal(pci_dev_config_read(d, cap + PCI_MSIX_PBA, 4), r->pba_off | (uint32_t)r->bar);
    /* Sizing the BAR reads its size back. */
    pci_dev_config_write(d, pci_bar_offset(d, r->bar), 0xffffffff, 4);
    assert_int_equal(pci_dev_config_read(d, pci_bar_offset(d, r->bar), 4),
                     (uint32_t) ~(r->bar_size - 1));
    assert_true(msix_bar_claims(d, r->bar, 0, 4));
    assert_true(msix_bar_claims(d, r->bar, r->pba_off, 1));
    assert_false(msix_enabled(d));
}

/* A second MSI-X capability is refused. */
struct twice_row {
    const char *name;
    int bar;
};

/* clang-format off */
static const struct twice_row twice_rows[] = {
    {"same BAR", MSIX_BAR},
    {"another BAR", 2},
};
/* clang-format on */

static void test_twice(void **state)
{
    struct unit_fix *f = *state;
    const struct twice_row *r = f->row;
    struct pci_device *d = dev_msix4(f);

    assert_int_equal(msix_init_exclusive_bar(d, 4, r->bar), -EBUSY);
    assert_int_equal(d->msix->nvectors, 4);
    assert_int_equal(d->bars[2].size, 0);
}

/* ---- the capability's registers ------------------------------------------------------------ */

struct ctl_row {
    const char *name;
    uint32_t off; /* relative to the capability */
    unsigned len;
    uint32_t val;
    uint32_t rd_off;
    unsigned rd_len;
    uint32_t expect;
    bool enabled, masked;
};

/* clang-format off */
static const struct ctl_row ctl_rows[] = {
    {"Message Control all-ones: only Enable|Mask", 2, 2, 0xffff, 2, 2, 0xc003, true, true},
    {"Table Size read-only", 2, 2, 0x07ff, 2, 2, 0x0003, false, false},
    {"Enable alone", 2, 2, 0x8000, 2, 2, 0x8003, true, false},
    {"Function Mask alone", 2, 2, 0x4000, 2, 2, 0x4003, false, true},
    {"upper byte write", 3, 1, 0xff, 2, 2, 0xc003, true, true},
    {"lower byte write changes nothing", 2, 1, 0xff, 2, 2, 0x0003, false, false},
    {"dword over the header", 0, 4, 0xffffffff, 0, 4, 0xc0030011, true, true},
    {"Table offset/BIR read-only", 4, 4, 0xffffffff, 4, 4, 0x00000001, false, false},
    {"PBA offset/BIR read-only", 8, 4, 0x00000000, 8, 4, 0x00000801, false, false},
};
/* clang-format on */

static void test_control(void **state)
{
    struct unit_fix *f = *state;
    const struct ctl_row *r = f->row;
    struct pci_device *d = dev_msix4(f);

    assert_int_equal(d->wmask[0x40 + PCI_MSIX_FLAGS], 0x00);
    assert_int_equal(d->wmask[0x40 + PCI_MSIX_FLAGS + 1], 0xc0);
    pci_dev_config_write(d, 0x40 + r->off, r->val, r->len);
    assert_int_equal(pci_dev_config_read(d, 0x40 + r->rd_off, r->rd_len), r->expect);
    assert_int_equal(d->msix->enabled, r->enabled);
    assert_int_equal(d->msix->masked, r->masked);
    assert_int_equal(msix_enabled(d), r->enabled);
}

/* ---- table and PBA through the BAR --------------------------------------------------------- */

enum bar_op { B_END = 0, B_WRITE, B_READ, B_OPS_WRITE, B_OPS_READ };

struct bar_step {
    enum bar_op op;
    int bar;
    uint64_t off;
    unsigned len;
    uint64_t val; /* written, or expected */
};

struct table_row {
    const char *name;
    struct bar_step steps[4];
};

/* clang-format off */
#define W(o, l, v)     {B_WRITE, MSIX_BAR, o, l, v}
#define R(o, l, v)     {B_READ, MSIX_BAR, o, l, v}
#define WB(b, o, l, v) {B_WRITE, b, o, l, v}
#define RB(b, o, l, v) {B_READ, b, o, l, v}
static const struct table_row table_rows[] = {
    {"entry 0 starts masked", {R(12, 4, 1)}},
    {"entry 3 starts masked", {R(0x3c, 4, 1)}},
    {"entry starts with zero address and data", {R(0, 8, 0), R(8, 4, 0)}},
    {"address low dword", {W(0, 4, 0xfee00000), R(0, 4, 0xfee00000)}},
    {"address qword", {W(0, 8, 0x00000001fee01000ull), R(0, 8, 0x00000001fee01000ull),
                       R(4, 4, 1)}},
    {"data dword", {W(8, 4, 0x4021), R(8, 4, 0x4021)}},
    {"vector control keeps all 32 bits (QEMU)", {W(12, 4, 0xffffffff), R(12, 4, 0xffffffff),
                                                 W(12, 4, 0), R(12, 4, 0)}},
    {"byte write ignored", {W(12, 4, 0), W(13, 1, 0xff), R(12, 4, 0)}},
    {"byte write into the address ignored", {W(1, 1, 0xab), R(0, 4, 0)}},
    {"byte and word reads read 0", {R(12, 1, 0), R(12, 2, 0), R(12, 4, 1)}},
    {"unaligned dword: read 0, write ignored", {W(0, 4, 0xfee00000), R(2, 4, 0),
                                                W(2, 4, 0x12345678), R(0, 4, 0xfee00000)}},
    {"qword at a dword boundary: two dwords", {W(4, 8, ~0ull), R(0, 8, 0xffffffff00000000ull),
                                               R(8, 4, 0xffffffff)}},
    {"qword at a word boundary: only its aligned dword", {W(2, 8, ~0ull),
                                                          R(0, 8, 0xffffffff00000000ull),
                                                          R(8, 4, 0), R(2, 8, 0x0000ffffffff0000ull)}},
    {"qword over data and control", {W(8, 8, 0xffffffff00004021ull),
                                     R(8, 8, 0xffffffff00004021ull)}},
    {"entries are independent", {W(0x20, 4, 0x11111111), R(0x10, 4, 0), R(0x30, 4, 0),
                                 R(0x20, 4, 0x11111111)}},
    {"PBA read-only", {W(0x800, 8, ~0ull), R(0x800, 8, 0)}},
    {"between table and PBA: reads 0, write ignored", {W(0x400, 4, 0xffffffff),
                                                       R(0x400, 4, 0)}},
    {"past the PBA reads 0", {R(0x808, 4, 0), R(0xffc, 4, 0)}},
    {"beyond the BAR reads 0", {R(0x1000, 4, 0)}},
    {"last entry's qword, then past the table", {W(0x38, 8, ~0ull), R(0x3c, 4, 0xffffffff),
                                                 R(0x40, 4, 0)}},
    {"another BAR neither reads nor writes", {WB(0, 0, 4, 0xfee00000), RB(0, 0, 4, 0),
                                              R(0, 4, 0)}},
    {"length 0 and 9 read 0", {R(12, 0, 0), R(12, 9, 0)}},
    {"length 9 write ignored", {W(0, 9, 0xffffffff), R(0, 4, 0)}},
    {"through the BAR's ops", {{B_OPS_WRITE, MSIX_BAR, 0, 4, 0xfee00000},
                               {B_OPS_READ, MSIX_BAR, 0, 4, 0xfee00000},
                               {B_OPS_READ, MSIX_BAR, 12, 4, 1}}},
};
#undef W
#undef R
#undef WB
#undef RB
/* clang-format on */

static void test_table(void **state)
{
    struct unit_fix *f = *state;
    const struct table_row *r = f->row;
    struct pci_device *d = dev_msix4(f);
    const struct pci_region_ops *ops = d->bars[MSIX_BAR].ops;
    void *opaque = d->bars[MSIX_BAR].opaque;

    for (const struct bar_step *s = r->steps; s->op != B_END; s++) {
        switch (s->op) {
        case B_WRITE:
            msix_bar_write(d, s->bar, s->off, s->val, s->len);
            break;
        case B_READ:
            assert_int_equal(msix_bar_read(d, s->bar, s->off, s->len), s->val);
            break;
        case B_OPS_WRITE:
            ops->write(opaque, s->off, s->val, s->len);
            break;
        case B_OPS_READ:
            assert_int_equal(ops->read(opaque, s->off, s->len), s->val);
            break;
        case B_END:
            break;
        }
    }
}

struct claims_row {
    const char *name;
    int bar;
    uint64_t off;
    unsigned len;
    bool expect;
};

/* clang-format off */
static const struct claims_row claims_rows[] = {
    {"table start", MSIX_BAR, 0, 4, true},
    {"last table dword", MSIX_BAR, 0x3c, 4, true},
    {"straddling the table end", MSIX_BAR, 0x3e, 4, true},
    {"just after the table", MSIX_BAR, 0x40, 4, false},
    {"PBA", MSIX_BAR, 0x800, 8, true},
    {"straddling into the PBA", MSIX_BAR, 0x7fc, 8, true},
    {"just after the PBA", MSIX_BAR, 0x808, 4, false},
    {"another BAR", 0, 0, 4, false},
};
/* clang-format on */

static void test_claims(void **state)
{
    struct unit_fix *f = *state;
    const struct claims_row *r = f->row;
    struct pci_device *d = dev_msix4(f);

    assert_int_equal(msix_bar_claims(d, r->bar, r->off, r->len), r->expect);
}

/* ---- delivery ----------------------------------------------------------------------------- */

struct msi_sink {
    int calls;
    uint64_t addr;
    uint32_t data;
    struct pci_device *from;
};

static void sink_msi(void *opaque, struct pci_device *d, uint64_t addr, uint32_t data)
{
    struct msi_sink *s = opaque;

    s->calls++;
    s->addr = addr;
    s->data = data;
    s->from = d;
}

static const struct pci_bus_ops sink_ops = {.msi_deliver = sink_msi};

enum n_op { N_END = 0, N_CTL, N_PROG, N_UNMASK, N_MASK, N_NOTIFY, N_RESET };

struct n_step {
    enum n_op op;
    int a;   /* N_CTL: Message Control value; others: vector */
    int ret; /* N_NOTIFY */
};

struct notify_row {
    const char *name;
    struct n_step steps[8];
    uint64_t delivered;
    uint8_t pending; /* PBA bits of vectors 0..3 */
    int last;        /* vector whose message arrived last, -1 = none */
};

/* clang-format off */
#define CTL(v)        {N_CTL, v, 0}
#define ENABLE        CTL(0x8000)
#define ENABLE_MASKED CTL(0xc000)
#define DISABLE       CTL(0x0000)
#define PROG(v)       {N_PROG, v, 0}
#define UNMASK(v)     {N_UNMASK, v, 0}
#define MASK(v)       {N_MASK, v, 0}
#define NOTIFY(v, r)  {N_NOTIFY, v, r}
#define RESET         {N_RESET, 0, 0}
static const struct notify_row notify_rows[] = {
    {"disabled: -ENODEV, nothing pending", {NOTIFY(0, -ENODEV)}, 0, 0x0, -1},
    {"disabled with the vector unmasked: -ENODEV", {PROG(0), UNMASK(0), NOTIFY(0, -ENODEV)}, 0,
     0x0, -1},
    {"enabled, vector masked: pending", {ENABLE, NOTIFY(0, 0)}, 0, 0x1, -1},
    {"enabled and unmasked: delivered", {PROG(1), ENABLE, UNMASK(1), NOTIFY(1, 1)}, 1, 0x0, 1},
    {"pending delivered on unmask", {PROG(2), ENABLE, NOTIFY(2, 0), UNMASK(2)}, 1, 0x0, 2},
    {"function mask holds, clearing it delivers",
     {PROG(0), ENABLE_MASKED, UNMASK(0), NOTIFY(0, 0), ENABLE}, 1, 0x0, 0},
    {"function mask holds while set", {ENABLE_MASKED, UNMASK(0), NOTIFY(0, 0)}, 0, 0x1, -1},
    {"two notifies while masked deliver once",
     {PROG(0), ENABLE, NOTIFY(0, 0), NOTIFY(0, 0), UNMASK(0)}, 1, 0x0, 0},
    {"masked again: later notify pending",
     {PROG(0), ENABLE, UNMASK(0), NOTIFY(0, 1), MASK(0), NOTIFY(0, 0)}, 1, 0x1, 0},
    {"only the unmasked vector is delivered",
     {PROG(3), ENABLE, NOTIFY(0, 0), NOTIFY(3, 0), UNMASK(3)}, 1, 0x1, 3},
    {"vector out of range: -EINVAL", {ENABLE, NOTIFY(4, -EINVAL)}, 0, 0x0, -1},
    {"pending kept while disabled", {ENABLE, NOTIFY(0, 0), DISABLE, UNMASK(0)}, 0, 0x1, -1},
    {"enabling delivers what is pending and unmasked",
     {PROG(0), ENABLE, NOTIFY(0, 0), DISABLE, UNMASK(0), ENABLE}, 1, 0x0, 0},
    {"reset: disabled, masked, nothing pending",
     {ENABLE, UNMASK(0), NOTIFY(1, 0), RESET, NOTIFY(0, -ENODEV)}, 0, 0x0, -1},
    {"reset: entries masked again", {ENABLE, UNMASK(0), RESET, ENABLE, NOTIFY(0, 0)}, 0, 0x1,
     -1},
};
#undef CTL
#undef ENABLE
#undef ENABLE_MASKED
#undef DISABLE
#undef PROG
#undef UNMASK
#undef MASK
#undef NOTIFY
#undef RESET
/* clang-format on */

static void test_notify(void **state)
{
    struct unit_fix *f = *state;
    const struct notify_row *r = f->row;
    struct pci_device *d = dev_msix4(f);
    struct msi_sink sink = {0};
    struct pci_bus *bus;

    assert_int_equal(pci_bus_new("pci.0", false, true, &bus), 0);
    unit_defer(f, bus_free, bus);
    bus->ops = &sink_ops;
    bus->opaque = &sink;
    assert_int_equal(pci_bus_attach(bus, d, PCI_DEVFN_OF(3, 0)), 0);

    for (const struct n_step *s = r->steps; s->op != N_END; s++) {
        uint64_t entry = 16u * (unsigned)s->a;

        switch (s->op) {
        case N_CTL:
            pci_dev_config_write(d, 0x40 + PCI_MSIX_FLAGS, (uint32_t)s->a, 2);
            break;
        case N_PROG:
            msix_bar_write(d, MSIX_BAR, entry, 0xfee00000u + 0x1000u * (unsigned)s->a, 8);
            msix_bar_write(d, MSIX_BAR, entry + 8, 0x4000u + (unsigned)s->a, 4);
            break;
        case N_UNMASK:
            msix_bar_write(d, MSIX_BAR, entry + 12, 0, 4);
            break;
        case N_MASK:
            msix_bar_write(d, MSIX_BAR, entry + 12, 1, 4);
            break;
        case N_NOTIFY:
            assert_int_equal(msix_notify(d, (uint16_t)s->a), s->ret);
            break;
        case N_RESET:
            pci_dev_reset(d);
            break;
        case N_END:
            break;
        }
    }
    assert_int_equal(d->msix->delivered, r->delivered);
    assert_int_equal(sink.calls, (int)r->delivered);
    assert_int_equal(msix_bar_read(d, MSIX_BAR, 0x800, 4), r->pending);
    if (r->last >= 0) {
        assert_ptr_equal(sink.from, d);
        assert_int_equal(sink.addr, 0xfee00000u + 0x1000u * (unsigned)r->last);
        assert_int_equal(sink.data, 0x4000u + (unsigned)r->last);
    }
}

/* ---- snapshots: msix_state_save / _check / _load --------------------------------------- */

struct state_row {
    const char *name;
    size_t at; /* byte of the saved state to set (SIZE_MAX: none) */
    uint8_t val;
    long len; /* length change */
    uint32_t version;
    const char *want; /* NULL: accepted */
};

/* 4 vectors: u16 count, 64 bytes of table, 8 bytes of PBA. */
/* clang-format off */
static const struct state_row state_rows[] = {
    {"as saved", SIZE_MAX, 0, 0, 1, NULL},
    {"vector count", 0, 5, 0, 1, "MSI-X state at byte 0: 5 vectors, the device has 4"},
    {"short", SIZE_MAX, 0, -1, 1, "MSI-X state is 73 bytes, 74 expected for 4 vectors"},
    {"long", SIZE_MAX, 0, 1, 1, "MSI-X state is 75 bytes, 74 expected"},
    {"reserved control bits", 2 + 16 + 12, 0x81, 0, 1,
     "MSI-X state at byte 30: vector 1 control 0x00000081 has bits other than Mask set"},
    {"reserved control byte", 2 + 15, 0x01, 0, 1, "vector 0 control 0x01000001"},
    {"pending past the last vector", 2 + 64, 0x10, 0, 1,
     "MSI-X state at byte 66: pending bit 4 is past vector 3"},
    {"newer version", SIZE_MAX, 0, 0, 2, "MSI-X state format version 2 is not supported (1..1)"},
    {"version 0", SIZE_MAX, 0, 0, 0, "MSI-X state format version 0 is not supported"},
};
/* clang-format on */

static void test_state(void **state)
{
    struct unit_fix *f = *state;
    const struct state_row *row = f->row;
    struct pci_device *a = dev_msix4(f), *b = dev_msix4(f);
    struct sbuf sa = {0}, sb = {0};
    struct error err = {0};
    size_t len;

    /* Vector 2 programmed and unmasked, vector 3 pending (masked). */
    msix_bar_write(a, MSIX_BAR, 2 * 16, 0xfee01000, 4);
    msix_bar_write(a, MSIX_BAR, 2 * 16 + 8, 0x4042, 4);
    msix_bar_write(a, MSIX_BAR, 2 * 16 + 12, 0, 4);
    a->msix->pba[0] = 0x08;
    msix_state_save(a, &sa);
    assert_true(sbuf_ok(&sa));
    assert_int_equal(sa.len, 2 + 4 * 16 + 8);
    if (row->at != SIZE_MAX)
        sa.p[row->at] = row->val;
    len = (size_t)((long)sa.len + row->len);
    sbuf_put(&sa, "\0", 1); /* room for "long" */
    if (!row->want) {
        assert_int_equal(msix_state_check(b, sa.p, len, row->version, &err), 0);
        msix_state_load(b, sa.p, len, row->version);
        msix_state_save(b, &sb);
        assert_int_equal(sb.len, len);
        assert_memory_equal(sb.p, sa.p, len);
        assert_int_equal(msix_bar_read(b, MSIX_BAR, 2 * 16 + 8, 4), 0x4042);
    } else {
        uint8_t table[64], pba[8];

        memcpy(table, b->msix->table, sizeof(table));
        memcpy(pba, b->msix->pba, sizeof(pba));
        assert_int_equal(msix_state_check(b, sa.p, len, row->version, &err), -EINVAL);
        if (!strstr(err.desc, row->want))
            fail_msg("got \"%s\", want \"%s\"", err.desc, row->want);
        assert_memory_equal(table, b->msix->table, sizeof(table));
        assert_memory_equal(pba, b->msix->pba, sizeof(pba));
    }
    sbuf_free(&sa);
    sbuf_free(&sb);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, geo_rows, test_geometry);
    UNIT_ROWS_FIX(&s, twice_rows, test_twice);
    UNIT_ROWS_FIX(&s, ctl_rows, test_control);
    UNIT_ROWS_FIX(&s, table_rows, test_table);
    UNIT_ROWS_FIX(&s, claims_rows, test_claims);
    UNIT_ROWS_FIX(&s, notify_rows, test_notify);
    UNIT_ROWS_FIX(&s, state_rows, test_state);
    return unit_run(&s, "msix");
}
