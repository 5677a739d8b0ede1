/* SPDX-License-Identifier: MIT */
/*
 * test-pci-cap.c — capability lists (daemon/hw/pci/pci_cap.c): QEMU's first-fit allocation
 * with 4-byte rounding, head insertion, read-only bodies, explicit offsets (overlap, range),
 * deletion, reservation, find, bounded walks over guest-corrupted lists, and the PCIe extended
 * list.
 */
#include <errno.h>
#include <string.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_cap.h"
#include "tests/unit/unit.h"

#define VNDR PCI_CAP_ID_VNDR /* 0x09 */
#define MSIX PCI_CAP_ID_MSIX /* 0x11 */
#define PM   PCI_CAP_ID_PM   /* 0x01 */
#define MSI  PCI_CAP_ID_MSI  /* 0x05 */
#define AER  PCI_EXT_CAP_ID_ERR
#define DSN  PCI_EXT_CAP_ID_DSN

static const struct pci_dev_class fake_class = {.name = "fake"};

static void dev_free(void *p)
{
    pci_dev_destroy(p);
    free(p);
}

static struct pci_device *dev_new(struct unit_fix *f, uint32_t size)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &fake_class, size, PCI_HEADER_TYPE_NORMAL), 0);
    unit_defer(f, dev_free, d);
    pci_dev_set_ids(d, 0x1af4, 0x1000, 0x01, 0x020000);
    return d;
}

/* ---- scripts: add, delete, reserve, extended add/find ------------------------------------- */

enum cap_op { OP_END = 0, OP_ADD, OP_DEL, OP_RESERVE, OP_XADD, OP_XFIND };

struct cap_step {
    enum cap_op op;
    uint16_t id;
    uint16_t off;
    uint16_t size;
    int ret;
    uint8_t ver;
};

/* clang-format off */
#define ADD(id, off, size, ret)       {OP_ADD, id, off, size, ret, 0}
#define DEL(id, size, ret)            {OP_DEL, id, 0, size, ret, 0}
#define RES(off, size, ret)           {OP_RESERVE, 0, off, size, ret, 0}
#define XADD(id, ver, off, size, ret) {OP_XADD, id, off, size, ret, ver}
#define XFIND(id, ret)                {OP_XFIND, id, 0, 0, ret, 0}
/* clang-format on */

struct script_row {
    const char *name;
    uint32_t size;
    struct cap_step steps[10];
    uint16_t chain[8];           /* offsets pci_cap_walk() lists afterwards, 0-terminated */
    uint16_t free_off, free_len; /* a range that must be free and writable afterwards */
    const char *known_bug;
};

static void run_script(struct unit_fix *f, const struct script_row *r)
{
    struct pci_device *d = dev_new(f, r->size);
    uint8_t *snap = unit_defer(f, free, malloc(3 * (size_t)r->size));
    struct pci_cap_entry out[16];
    int n = 0, n_out = -1;

    if (r->known_bug) {
        print_message("KNOWN BUG: %s\n", r->known_bug);
        skip();
    }
    for (const struct cap_step *s = r->steps; s->op != OP_END; s++) {
        int ret = 0;

        memcpy(snap, d->config, r->size);
        memcpy(snap + r->size, d->wmask, r->size);
        memcpy(snap + 2 * r->size, d->used, r->size);
        switch (s->op) {
        case OP_ADD:
            ret = pci_cap_add(d, (uint8_t)s->id, (uint8_t)s->off, (uint8_t)s->size);
            break;
        case OP_DEL:
            ret = pci_cap_del(d, (uint8_t)s->id, (uint8_t)s->size);
            break;
        case OP_RESERVE:
            ret = pci_cap_reserve(d, s->off, s->size);
            break;
        case OP_XADD:
            ret = pci_ext_cap_add(d, s->id, s->ver, s->off, s->size);
            break;
        case OP_XFIND:
            ret = pci_ext_cap_find(d, s->id);
            break;
        case OP_END:
            break;
        }
        if (ret != s->ret)
            fail_msg("step %d (op %d id %#x off %#x size %u): returned %d, expected %d",
                     (int)(s - r->steps), s->op, s->id, s->off, s->size, ret, s->ret);
        if (ret < 0) {
            /* A refusal writes nothing. */
            assert_memory_equal(d->config, snap, r->size);
            assert_memory_equal(d->wmask, snap + r->size, r->size);
            assert_memory_equal(d->used, snap + 2 * r->size, r->size);
        }
    }

    while (n < (int)ARRAY_SIZE(r->chain) && r->chain[n])
        n++;
    assert_int_equal(pci_cap_walk(d, out, ARRAY_SIZE(out), &n_out), n);
    assert_int_equal(n_out, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(out[i].offset, r->chain[i]);
    /* The head pointer and Status.CAP_LIST follow the standard list. */
    if (n && r->chain[0] < PCI_EXT_CAP_START) {
        assert_int_equal(d->config[PCI_CAPABILITY_LIST], r->chain[0]);
        assert_int_equal(d->config[PCI_STATUS] & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
    } else {
        assert_int_equal(d->config[PCI_CAPABILITY_LIST], 0);
        assert_int_equal(d->config[PCI_STATUS] & PCI_STATUS_CAP_LIST, 0);
    }
    for (uint32_t i = r->free_off; i < (uint32_t)r->free_off + r->free_len; i++) {
        assert_int_equal(d->used[i], 0);
        assert_int_equal(d->wmask[i], 0xff);
        assert_int_equal(d->cmask[i], 0);
        assert_int_equal(d->w1cmask[i], 0);
    }
}

static void test_script(void **state)
{
    struct unit_fix *f = *state;

    run_script(f, f->row);
}

/* clang-format off */
static const struct script_row alloc_rows[] = {
    {"first fit at 0x40", 256, {ADD(VNDR, 0, 16, 0x40)}, {0x40}, 0x50, 0xb0},
    {"second after the first, linked at the head", 256,
     {ADD(VNDR, 0, 16, 0x40), ADD(MSI, 0, 16, 0x50)}, {0x50, 0x40}, 0x60, 0xa0},
    {"size rounded up to 4", 256, {ADD(VNDR, 0, 10, 0x40), ADD(MSI, 0, 4, 0x4c)}, {0x4c, 0x40},
     0x50, 0xb0},
    {"size 2 takes 4", 256, {ADD(VNDR, 0, 2, 0x40), ADD(VNDR, 0, 2, 0x44)}, {0x44, 0x40}, 0x48},
    {"QEMU virtio layout", 256,
     {ADD(VNDR, 0, 16, 0x40), ADD(VNDR, 0, 16, 0x50), ADD(VNDR, 0, 16, 0x60),
      ADD(VNDR, 0, 20, 0x70), ADD(VNDR, 0, 20, 0x84), ADD(MSIX, 0, 12, 0x98)},
     {0x98, 0x84, 0x70, 0x60, 0x50, 0x40}, 0xa4, 0x5c},
    {"explicit offset, then first fit below it", 256,
     {ADD(MSI, 0x80, 10, 0x80), ADD(VNDR, 0, 16, 0x40)}, {0x40, 0x80}, 0x50, 0x30},
    {"first fit skips a hole too small", 256, {ADD(MSI, 0x48, 8, 0x48), ADD(VNDR, 0, 16, 0x50)},
     {0x50, 0x48}, 0x40, 8},
    {"first fit fills a hole exactly", 256, {ADD(MSI, 0x48, 8, 0x48), ADD(VNDR, 0, 8, 0x40)},
     {0x40, 0x48}, 0x50, 0xb0},
    {"overlap the body: -EBUSY", 256,
     {ADD(VNDR, 0x40, 16, 0x40), ADD(MSI, 0x4c, 8, -EBUSY), ADD(MSI, 0x50, 8, 0x50)},
     {0x50, 0x40}},
    {"overlap the rounding padding: -EBUSY", 256,
     {ADD(VNDR, 0x40, 10, 0x40), ADD(MSI, 0x48, 4, -EBUSY), ADD(MSI, 0x4c, 4, 0x4c)},
     {0x4c, 0x40}},
    {"overlap the start of a capability: -EBUSY", 256,
     {ADD(VNDR, 0x50, 16, 0x50), ADD(MSI, 0x4c, 8, -EBUSY), ADD(MSI, 0x48, 8, 0x48)},
     {0x48, 0x50}},
    {"same offset twice: -EBUSY", 256, {ADD(VNDR, 0x60, 4, 0x60), ADD(MSI, 0x60, 4, -EBUSY)},
     {0x60}},
    {"misaligned offset: -EINVAL", 256, {ADD(VNDR, 0x42, 4, -EINVAL)}, {0}, 0x40, 0xc0},
    {"offset 0x3c below 0x40: -EINVAL", 256, {ADD(VNDR, 0x3c, 4, -EINVAL)}, {0}, 0x40, 0xc0},
    {"offset 0x10 in the header: -EINVAL", 256, {ADD(VNDR, 0x10, 4, -EINVAL)}, {0}},
    {"past 0x100: -EINVAL", 256, {ADD(MSIX, 0xf8, 12, -EINVAL)}, {0}, 0x40, 0xc0},
    {"ending exactly at 0x100", 256, {ADD(MSIX, 0xf4, 12, 0xf4)}, {0xf4}, 0x40, 0xb4},
    {"size 0: -EINVAL", 256, {ADD(VNDR, 0, 0, -EINVAL), ADD(VNDR, 0x40, 0, -EINVAL)}, {0}},
    {"size 1: -EINVAL", 256, {ADD(VNDR, 0, 1, -EINVAL)}, {0}},
    {"whole space, then no room: -ENOSPC", 256,
     {ADD(VNDR, 0, 192, 0x40), ADD(MSI, 0, 2, -ENOSPC)}, {0x40}},
    {"fragmented, no room: -ENOSPC", 256,
     {ADD(VNDR, 0, 100, 0x40), ADD(MSI, 0, 100, -ENOSPC), ADD(MSI, 0, 92, 0xa4)},
     {0xa4, 0x40}},
    {"larger than the space: -ENOSPC", 256, {ADD(VNDR, 0, 255, -ENOSPC)}, {0}},
    {"express: first fit stays below 0x100", 4096,
     {ADD(VNDR, 0, 192, 0x40), ADD(MSI, 0, 4, -ENOSPC)}, {0x40}, 0x100, 0x100},
    {"express: explicit offset past 0x100: -EINVAL", 4096, {ADD(VNDR, 0xfc, 8, -EINVAL)}, {0}},
    {"reserve, then first fit after it", 256, {RES(0x40, 16, 0), ADD(VNDR, 0, 16, 0x50)},
     {0x50}, 0x60, 0xa0},
    {"reserve, then explicit on it: -EBUSY", 256, {RES(0x40, 16, 0), ADD(VNDR, 0x4c, 4, -EBUSY)},
     {0}},
    {"reserve below 0x40: -EINVAL", 256, {RES(0x3c, 8, -EINVAL)}, {0}, 0x40, 0xc0},
    {"reserve size 0: -EINVAL", 256, {RES(0x40, 0, -EINVAL)}, {0}, 0x40, 0xc0},
    {"reserve past 256: -EINVAL", 256, {RES(0xf0, 0x20, -EINVAL)}, {0}, 0x40, 0xc0},
    {"express: reserve past 0x100", 4096, {RES(0xf0, 0x20, 0), ADD(VNDR, 0, 16, 0x40)}, {0x40}},
    {"express: reserve past 4 KiB: -EINVAL", 4096, {RES(0xff0, 0x20, -EINVAL)}, {0}},
    /* A reservation is rounded up to a dword, so first fit stays aligned (PCI 3.0 §6.7). */
    {"reserve odd size, first fit stays dword aligned", 256,
     {RES(0x40, 5, 0), ADD(VNDR, 0, 4, 0x48)}, {0x48}},
    {"reserve misaligned offset: -EINVAL", 256, {RES(0x81, 4, -EINVAL)}, {0}, 0x40, 0xc0},
};

static const struct script_row del_rows[] = {
    /* The base list: 0x5c (MSI-X, 12) -> 0x4c (MSI, 16) -> 0x40 (vendor, 10). */
#define BASE ADD(VNDR, 0, 10, 0x40), ADD(MSI, 0, 16, 0x4c), ADD(MSIX, 0, 12, 0x5c)
    {"base list", 256, {BASE}, {0x5c, 0x4c, 0x40}, 0x68, 0x98},
    {"delete the newest relinks 0x34", 256, {BASE, DEL(MSIX, 12, 0)}, {0x4c, 0x40}, 0x5c, 0xa4},
    {"delete the middle relinks its predecessor", 256, {BASE, DEL(MSI, 16, 0)}, {0x5c, 0x40},
     0x4c, 16},
    {"delete the oldest frees its padding", 256, {BASE, DEL(VNDR, 10, 0)}, {0x5c, 0x4c}, 0x40,
     12},
    {"delete all clears CAP_LIST", 256,
     {BASE, DEL(MSI, 16, 0), DEL(VNDR, 10, 0), DEL(MSIX, 12, 0)}, {0}, 0x40, 0xc0},
    {"delete twice: -ENOENT", 256, {BASE, DEL(MSI, 16, 0), DEL(MSI, 16, -ENOENT)},
     {0x5c, 0x40}, 0x4c, 16},
    {"delete absent: -ENOENT", 256, {BASE, DEL(PM, 8, -ENOENT)}, {0x5c, 0x4c, 0x40}, 0x68},
    {"delete from an empty list: -ENOENT", 256, {DEL(PM, 8, -ENOENT)}, {0}, 0x40, 0xc0},
    {"freed space is reused by first fit", 256, {BASE, DEL(MSI, 16, 0), ADD(PM, 0, 8, 0x4c)},
     {0x4c, 0x5c, 0x40}, 0x54, 8},
    {"re-add after delete all sets CAP_LIST again", 256,
     {ADD(PM, 0, 8, 0x40), DEL(PM, 8, 0), ADD(PM, 0, 8, 0x40)}, {0x40}, 0x48, 0xb8},
#undef BASE
};

static const struct script_row ext_rows[] = {
    {"AER at 0x100", 4096, {XADD(AER, 2, 0x100, 0x48, 0x100), XFIND(AER, 0x100)}, {0x100},
     0x148, 0x100},
    {"chain of two", 4096,
     {XADD(AER, 2, 0x100, 0x48, 0x100), XADD(DSN, 1, 0x148, 12, 0x148), XFIND(DSN, 0x148),
      XFIND(AER, 0x100)},
     {0x100, 0x148}, 0x154, 0x100},
    {"linked at the tail, not by offset", 4096,
     {XADD(AER, 2, 0x100, 0x48, 0x100), XADD(DSN, 1, 0x200, 12, 0x200),
      XADD(PCI_EXT_CAP_ID_VNDR, 1, 0x148, 24, 0x148)},
     {0x100, 0x200, 0x148}},
    {"standard and extended lists together", 4096,
     {ADD(MSIX, 0, 12, 0x40), XADD(AER, 2, 0x100, 0x48, 0x100)}, {0x40, 0x100}},
    {"find absent", 4096, {XADD(AER, 2, 0x100, 0x48, 0x100), XFIND(DSN, 0)}, {0x100}},
    {"find on an empty list", 4096, {XFIND(AER, 0)}, {0}},
    {"256-byte function: -EINVAL", 256, {XADD(AER, 2, 0x100, 0x48, -EINVAL), XFIND(AER, 0)},
     {0}},
    {"below 0x100: -EINVAL", 4096, {XADD(AER, 2, 0xfc, 8, -EINVAL)}, {0}},
    {"misaligned: -EINVAL", 4096,
     {XADD(AER, 2, 0x100, 0x48, 0x100), XADD(DSN, 1, 0x14a, 12, -EINVAL)}, {0x100}},
    {"size 2: -EINVAL", 4096, {XADD(AER, 2, 0x100, 2, -EINVAL)}, {0}},
    {"past 4 KiB: -EINVAL", 4096,
     {XADD(AER, 2, 0x100, 0x48, 0x100), XADD(DSN, 1, 0xffc, 8, -EINVAL)}, {0x100}},
    {"ending exactly at 4 KiB", 4096,
     {XADD(AER, 2, 0x100, 0x48, 0x100), XADD(DSN, 1, 0xff4, 12, 0xff4)}, {0x100, 0xff4}},
    {"first not at 0x100: -EINVAL", 4096, {XADD(AER, 2, 0x200, 0x48, -EINVAL)}, {0}},
    {"overlap: -EBUSY", 4096,
     {XADD(AER, 2, 0x100, 0x48, 0x100), XADD(DSN, 1, 0x140, 12, -EBUSY)}, {0x100}},
};
/* clang-format on */

/* ---- layout after two additions --------------------------------------------------------- */

struct layout_row {
    const char *name;
    uint32_t off;
    uint8_t config, wmask, cmask, used;
};

/* Vendor capability of 10 bytes at 0x40 (used to 0x4b), MSI-X of 12 at 0x4c. */
/* clang-format off */
static const struct layout_row layout_rows[] = {
    {"0x34 names the newest", 0x34, 0x4c, 0x00, 0xff, 0x00},
    {"Status.CAP_LIST set", 0x06, 0x10, 0x00, 0x10, 0x00},
    {"newest ID", 0x4c, MSIX, 0x00, 0xff, 0xff},
    {"newest links to the older", 0x4d, 0x40, 0x00, 0xff, 0xff},
    {"older ID", 0x40, VNDR, 0x00, 0xff, 0xff},
    {"older ends the list", 0x41, 0x00, 0x00, 0xff, 0xff},
    {"body read-only and checked", 0x42, 0x00, 0x00, 0xff, 0xff},
    {"last body byte", 0x49, 0x00, 0x00, 0xff, 0xff},
    {"padding: used but writable", 0x4a, 0x00, 0xff, 0x00, 0xff},
    {"padding end", 0x4b, 0x00, 0xff, 0x00, 0xff},
    {"last byte of the newest", 0x57, 0x00, 0x00, 0xff, 0xff},
    {"first free byte", 0x58, 0x00, 0xff, 0x00, 0x00},
};
/* clang-format on */

static struct pci_device *two_caps(struct unit_fix *f)
{
    struct pci_device *d = dev_new(f, PCI_CONFIG_SPACE_SIZE);

    assert_int_equal(pci_cap_add(d, VNDR, 0, 10), 0x40);
    assert_int_equal(pci_cap_add(d, MSIX, 0, 12), 0x4c);
    return d;
}

static void test_layout(void **state)
{
    struct unit_fix *f = *state;
    const struct layout_row *r = f->row;
    struct pci_device *d = two_caps(f);

    assert_int_equal(d->config[r->off], r->config);
    assert_int_equal(d->wmask[r->off], r->wmask);
    assert_int_equal(d->cmask[r->off], r->cmask);
    assert_int_equal(d->used[r->off], r->used);
}

struct guest_row {
    const char *name;
    uint32_t off;
    unsigned len;
    uint32_t val;
    uint32_t rd_off;
    unsigned rd_len;
    uint32_t expect;
};

/* clang-format off */
static const struct guest_row guest_rows[] = {
    {"ID read-only", 0x40, 1, 0xff, 0x40, 1, VNDR},
    {"next pointer read-only", 0x4d, 1, 0x00, 0x4d, 1, 0x40},
    {"dword over a capability header", 0x4c, 4, 0xffffffff, 0x4c, 4, 0x00004011},
    {"dword straddling body and padding", 0x48, 4, 0xffffffff, 0x48, 4, 0xffff0000},
    {"word in the body", 0x44, 2, 0xffff, 0x44, 2, 0x0000},
    {"0x34 read-only", 0x34, 1, 0x40, 0x34, 1, 0x4c},
    {"Status.CAP_LIST read-only", 0x06, 2, 0x0000, 0x06, 2, 0x0010},
    {"free space after the list writable", 0x58, 4, 0x12345678, 0x58, 4, 0x12345678},
};
/* clang-format on */

static void test_guest(void **state)
{
    struct unit_fix *f = *state;
    const struct guest_row *r = f->row;
    struct pci_device *d = two_caps(f);

    pci_dev_config_write(d, r->off, r->val, r->len);
    assert_int_equal(pci_dev_config_read(d, r->rd_off, r->rd_len), r->expect);
}

/* ---- pci_cap_find ----------------------------------------------------------------------- */

struct poke {
    uint16_t off; /* 0 = none */
    uint8_t val;
};

struct find_row {
    const char *name;
    uint8_t id;
    struct poke poke[2];
    bool null_prev;
    uint8_t expect;
    uint8_t prev; /* expected *prev; 0xee = untouched */
};

/* The list: 0x60 (vendor) -> 0x50 (MSI) -> 0x40 (vendor). */
/* clang-format off */
static const struct find_row find_rows[] = {
    {"first of two with the same ID", VNDR, {{0}}, false, 0x60, 0x34},
    {"one in the middle", MSI, {{0}}, false, 0x50, 0x61},
    {"absent", MSIX, {{0}}, false, 0x00, 0xee},
    {"without prev", MSI, {{0}}, true, 0x50, 0xee},
    {"CAP_LIST clear hides the list", VNDR, {{PCI_STATUS, 0x00}}, false, 0x00, 0xee},
    {"reserved low pointer bits masked (PCI 3.0 §6.7)", MSI, {{0x61, 0x52}}, false, 0x50, 0x61},
    {"loop terminates", MSIX, {{0x51, 0x60}}, false, 0x00, 0xee},
    {"self loop terminates", MSIX, {{0x61, 0x60}}, false, 0x00, 0xee},
    {"pointer into the header ends the search", MSI, {{0x61, 0x10}}, false, 0x00, 0xee},
    {"0x34 into the header", VNDR, {{0x34, 0x20}}, false, 0x00, 0xee},
};
/* clang-format on */

static void test_find(void **state)
{
    struct unit_fix *f = *state;
    const struct find_row *r = f->row;
    struct pci_device *d = dev_new(f, PCI_CONFIG_SPACE_SIZE);
    uint8_t prev = 0xee;

    assert_int_equal(pci_cap_add(d, VNDR, 0, 16), 0x40);
    assert_int_equal(pci_cap_add(d, MSI, 0, 16), 0x50);
    assert_int_equal(pci_cap_add(d, VNDR, 0, 16), 0x60);
    for (size_t i = 0; i < ARRAY_SIZE(r->poke); i++)
        if (r->poke[i].off)
            d->config[r->poke[i].off] = r->poke[i].val;
    assert_int_equal(pci_cap_find(d, r->id, r->null_prev ? NULL : &prev), r->expect);
    assert_int_equal(prev, r->prev);
}

/* ---- pci_cap_walk over well-formed and corrupted lists -------------------------------------- */

struct walk_row {
    const char *name;
    uint32_t size;
    bool std_caps; /* 0x5c (MSI-X) -> 0x4c (MSI) -> 0x40 (vendor) */
    bool ext_caps; /* 0x100 (AER v2) -> 0x148 (DSN v1), PCIe only */
    struct {
        uint16_t off; /* 0 = none */
        uint32_t val;
        unsigned len;
    } poke[3];
    int max;
    int ret;
    int n_out;
    uint16_t offsets[6];
};

/* clang-format off */
static const struct walk_row walk_rows[] = {
    {"well-formed", 256, true, false, {{0}}, 16, 3, 3, {0x5c, 0x4c, 0x40}},
    {"max 2 truncates", 256, true, false, {{0}}, 2, 2, 2, {0x5c, 0x4c}},
    {"max 0", 256, true, false, {{0}}, 0, 0, 0, {0}},
    {"empty", 256, false, false, {{0}}, 16, 0, 0, {0}},
    {"CAP_LIST clear: nothing walked", 256, true, false, {{PCI_STATUS, 0, 1}}, 16, 0, 0, {0}},
    {"self loop", 256, true, false, {{0x4d, 0x4c, 1}}, 16, -ELOOP, 2, {0x5c, 0x4c}},
    {"loop back to the head", 256, true, false, {{0x41, 0x5c, 1}}, 16, -ELOOP, 3,
     {0x5c, 0x4c, 0x40}},
    {"pointer into the header", 256, true, false, {{0x4d, 0x10, 1}}, 16, -ELOOP, 2,
     {0x5c, 0x4c}},
    {"misaligned pointer", 256, true, false, {{0x4d, 0x41, 1}}, 16, -ELOOP, 2, {0x5c, 0x4c}},
    {"misaligned head", 256, true, false, {{0x34, 0x5d, 1}}, 16, -ELOOP, 0, {0}},
    {"head into the header", 256, true, false, {{0x34, 0x3c, 1}}, 16, -ELOOP, 0, {0}},
    {"loop after max entries still reported", 256, true, false, {{0x41, 0x5c, 1}}, 1, -ELOOP, 1,
     {0x5c}},
    {"last dword 0xfc is a valid entry", 256, true, false,
     {{0x41, 0xfc, 1}, {0xfc, VNDR, 1}, {0xfd, 0x00, 1}}, 16, 4, 4, {0x5c, 0x4c, 0x40, 0xfc}},
    {"0xfc pointing to itself", 256, true, false,
     {{0x41, 0xfc, 1}, {0xfc, VNDR, 1}, {0xfd, 0xfc, 1}}, 16, -ELOOP, 4,
     {0x5c, 0x4c, 0x40, 0xfc}},
    {"express: standard then extended", 4096, true, true, {{0}}, 16, 5, 5,
     {0x5c, 0x4c, 0x40, 0x100, 0x148}},
    {"express: extended only", 4096, false, true, {{0}}, 16, 2, 2, {0x100, 0x148}},
    {"express: no extended capabilities", 4096, true, false, {{0}}, 16, 3, 3,
     {0x5c, 0x4c, 0x40}},
    {"express: all-ones at 0x100 is an empty list", 4096, true, false,
     {{0x100, 0xffffffff, 4}}, 16, 3, 3, {0x5c, 0x4c, 0x40}},
    {"express: extended self loop", 4096, true, true, {{0x148, 0x14810003, 4}}, 16, -ELOOP, 5,
     {0x5c, 0x4c, 0x40, 0x100, 0x148}},
    {"express: extended loop back to 0x100", 4096, false, true, {{0x148, 0x10010003, 4}}, 16,
     -ELOOP, 2, {0x100, 0x148}},
    {"express: extended pointer below 0x100", 4096, false, true, {{0x148, 0x08010003, 4}}, 16,
     -ELOOP, 2, {0x100, 0x148}},
    {"express: extended pointer misaligned", 4096, false, true, {{0x148, 0x14a10003, 4}}, 16,
     -ELOOP, 2, {0x100, 0x148}},
    {"express: bad standard list skips the extended one", 4096, true, true, {{0x4d, 0x4c, 1}},
     16, -ELOOP, 2, {0x5c, 0x4c}},
};
/* clang-format on */

static void test_walk(void **state)
{
    struct unit_fix *f = *state;
    const struct walk_row *r = f->row;
    struct pci_device *d = dev_new(f, r->size);
    struct pci_cap_entry out[16] = {0};
    int n_out = -1;

    if (r->std_caps) {
        assert_int_equal(pci_cap_add(d, VNDR, 0, 10), 0x40);
        assert_int_equal(pci_cap_add(d, MSI, 0, 16), 0x4c);
        assert_int_equal(pci_cap_add(d, MSIX, 0, 12), 0x5c);
    }
    if (r->ext_caps) {
        assert_int_equal(pci_ext_cap_add(d, AER, 2, 0x100, 0x48), 0x100);
        assert_int_equal(pci_ext_cap_add(d, DSN, 1, 0x148, 12), 0x148);
    }
    for (size_t i = 0; i < ARRAY_SIZE(r->poke); i++)
        if (r->poke[i].off)
            le_set(d->config + r->poke[i].off, r->poke[i].val, r->poke[i].len);

    assert_int_equal(pci_cap_walk(d, out, r->max, &n_out), r->ret);
    assert_int_equal(n_out, r->n_out);
    for (int i = 0; i < r->n_out; i++) {
        assert_int_equal(out[i].offset, r->offsets[i]);
        assert_int_equal(out[i].extended, r->offsets[i] >= PCI_EXT_CAP_START);
        if (out[i].extended) {
            assert_int_equal(out[i].id, r->offsets[i] == 0x100 ? AER : DSN);
            assert_int_equal(out[i].version, r->offsets[i] == 0x100 ? 2 : 1);
        } else {
            assert_int_equal(out[i].id, d->config[r->offsets[i]]);
        }
    }
    /* Nothing written past what was counted. */
    for (int i = r->n_out; i < (int)ARRAY_SIZE(out); i++)
        assert_int_equal(out[i].offset, 0);
    /* Without n_out the return value alone tells. */
    assert_int_equal(pci_cap_walk(d, out, r->max, NULL), r->ret);
}

/* Every dword of 0x40..0xff holds a 4-byte capability: the walk bound is exactly enough. */
struct full_row {
    const char *name;
    bool loop_last; /* the last entry points back at the first */
};

/* clang-format off */
static const struct full_row full_rows[] = {
    {"48 capabilities, all listed", false},
    {"48 capabilities, last loops to the first", true},
};
/* clang-format on */

static void test_full(void **state)
{
    struct unit_fix *f = *state;
    const struct full_row *r = f->row;
    struct pci_device *d = dev_new(f, PCI_CONFIG_SPACE_SIZE);
    struct pci_cap_entry out[64];
    int n_out = -1;

    for (int i = 0; i < PCI_CAP_WALK_MAX; i++)
        assert_int_equal(pci_cap_add(d, VNDR, 0, 4), 0x40 + 4 * i);
    assert_int_equal(pci_cap_add(d, VNDR, 0, 4), -ENOSPC);
    if (r->loop_last)
        d->config[0x40 + PCI_CAP_LIST_NEXT] = 0xfc; /* 0x40 is last in list order */
    assert_int_equal(pci_cap_walk(d, out, ARRAY_SIZE(out), &n_out),
                     r->loop_last ? -ELOOP : PCI_CAP_WALK_MAX);
    assert_int_equal(n_out, PCI_CAP_WALK_MAX);
    assert_int_equal(out[0].offset, 0xfc);
    assert_int_equal(out[PCI_CAP_WALK_MAX - 1].offset, 0x40);
    assert_int_equal(pci_cap_find(d, MSIX, NULL), 0);
}

/* Extended capability bodies are read-only and checked. */
struct extbody_row {
    const char *name;
    uint32_t off;
    uint8_t wmask, cmask, used;
};

/* clang-format off */
static const struct extbody_row extbody_rows[] = {
    {"header", 0x100, 0x00, 0xff, 0xff},
    {"body", 0x120, 0x00, 0xff, 0xff},
    {"last byte", 0x147, 0x00, 0xff, 0xff},
    {"after it", 0x148, 0xff, 0x00, 0x00},
};
/* clang-format on */

static void test_extbody(void **state)
{
    struct unit_fix *f = *state;
    const struct extbody_row *r = f->row;
    struct pci_device *d = dev_new(f, PCIE_CONFIG_SPACE_SIZE);
    uint32_t before;

    assert_int_equal(pci_ext_cap_add(d, AER, 2, 0x100, 0x48), 0x100);
    assert_int_equal(d->wmask[r->off], r->wmask);
    assert_int_equal(d->cmask[r->off], r->cmask);
    assert_int_equal(d->used[r->off], r->used);
    before = pci_dev_config_read(d, r->off, 1);
    pci_dev_config_write(d, r->off, before ^ 0xff, 1);
    assert_int_equal(pci_dev_config_read(d, r->off, 1), r->wmask ? before ^ 0xff : before);
}

/* ---- pci_cap_layout / pci_cap_restore_layout (snapshots) --------------------------------- */

struct span_row {
    const char *name;
    uint32_t size;               /* config space */
    struct cap_step steps[6];    /* built with the script ops above */
    struct pci_cap_span want[4]; /* the layout, list order */
    int n;
};

/* clang-format off */
static const struct span_row span_rows[] = {
    {"sizes round up to a dword", PCI_CONFIG_SPACE_SIZE,
     {ADD(VNDR, 0, 14, 0x40), ADD(MSIX, 0, 12, 0x50)},
     {{0x50, MSIX, 12, 0, false}, {0x40, VNDR, 16, 0, false}}, 2},
    {"adjacent capabilities stop at each other", PCI_CONFIG_SPACE_SIZE,
     {ADD(PM, 0x40, 8, 0x40), ADD(MSI, 0x48, 24, 0x48)},
     {{0x48, MSI, 24, 0, false}, {0x40, PM, 8, 0, false}}, 2},
    {"a gap ends a capability", PCI_CONFIG_SPACE_SIZE,
     {ADD(PM, 0x40, 8, 0x40), ADD(VNDR, 0x80, 4, 0x80)},
     {{0x80, VNDR, 4, 0, false}, {0x40, PM, 8, 0, false}}, 2},
    {"extended after standard", PCIE_CONFIG_SPACE_SIZE,
     {ADD(MSIX, 0, 12, 0x40), XADD(AER, 2, 0x100, 0x48, 0x100), XADD(DSN, 1, 0x148, 12, 0x148)},
     {{0x40, MSIX, 12, 0, false}, {0x100, AER, 0x48, 2, true}, {0x148, DSN, 12, 1, true}}, 3},
};
/* clang-format on */

static void run_steps(struct pci_device *d, const struct cap_step *st)
{
    for (; st->op != OP_END; st++) {
        int ret = st->op == OP_XADD
                      ? pci_ext_cap_add(d, st->id, st->ver, st->off, st->size)
                      : pci_cap_add(d, (uint8_t)st->id, (uint8_t)st->off, (uint8_t)st->size);

        assert_int_equal(ret, st->ret);
    }
}

static void test_span(void **state)
{
    struct unit_fix *f = *state;
    const struct span_row *row = f->row;
    struct pci_device *d = dev_new(f, row->size);
    uint8_t used[PCIE_CONFIG_SPACE_SIZE], wmask[PCIE_CONFIG_SPACE_SIZE];
    struct pci_cap_span got[8];
    int n;

    run_steps(d, row->steps);
    n = pci_cap_layout(d, got, 8);
    assert_int_equal(n, row->n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(got[i].offset, row->want[i].offset);
        assert_int_equal(got[i].id, row->want[i].id);
        assert_int_equal(got[i].size, row->want[i].size);
        assert_int_equal(got[i].version, row->want[i].version);
        assert_int_equal(got[i].extended, row->want[i].extended);
    }
    /* The same layout restored changes nothing. */
    memcpy(used, d->used, d->config_size);
    memcpy(wmask, d->wmask, d->config_size);
    pci_cap_restore_layout(d, got, n);
    assert_memory_equal(used, d->used, d->config_size);
    assert_memory_equal(wmask, d->wmask, d->config_size);
}

/* Restoring a layout with one capability fewer frees its bytes as pci_cap_del() would; one
 * more claims them read-only and checked, as pci_cap_add() would. */
static void test_restore_layout(void **state)
{
    struct unit_fix *f = *state;
    struct pci_device *d = dev_new(f, PCI_CONFIG_SPACE_SIZE);
    struct pci_cap_span two[2] = {{0x50, MSIX, 12, 0, false}, {0x40, VNDR, 16, 0, false}};

    assert_int_equal(pci_cap_add(d, VNDR, 0, 16), 0x40);
    assert_int_equal(pci_cap_add(d, MSIX, 0, 12), 0x50);
    d->wmask[0x52] = 0xc0; /* a model's writable bits survive when the capability stays */
    pci_cap_restore_layout(d, &two[1], 1);
    assert_int_equal(d->used[0x50], 0);
    assert_int_equal(d->wmask[0x50], 0xff);
    assert_int_equal(d->cmask[0x50], 0);
    assert_int_equal(d->used[0x40], 0xff);
    assert_int_equal(d->wmask[0x40], 0);
    pci_cap_restore_layout(d, two, 2);
    assert_int_equal(d->used[0x5b], 0xff);
    assert_int_equal(d->wmask[0x52], 0);
    assert_int_equal(d->cmask[0x52], 0xff);
    assert_int_equal(d->used[0x5c], 0);
    /* The next first-fit allocation lands after the restored layout. */
    assert_int_equal(pci_cap_add(d, PM, 0, 8), 0x5c);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"restore"}};

    UNIT_ROWS_FIX(&s, alloc_rows, test_script);
    UNIT_ROWS_FIX(&s, del_rows, test_script);
    UNIT_ROWS_FIX(&s, ext_rows, test_script);
    UNIT_ROWS_FIX(&s, layout_rows, test_layout);
    UNIT_ROWS_FIX(&s, guest_rows, test_guest);
    UNIT_ROWS_FIX(&s, find_rows, test_find);
    UNIT_ROWS_FIX(&s, walk_rows, test_walk);
    UNIT_ROWS_FIX(&s, full_rows, test_full);
    UNIT_ROWS_FIX(&s, extbody_rows, test_extbody);
    UNIT_ROWS_FIX(&s, span_rows, test_span);
    UNIT_ROWS_FIX(&s, one, test_restore_layout);
    return unit_run(&s, "pci-cap");
}
