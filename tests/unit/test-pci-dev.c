/* SPDX-License-Identifier: MIT */
/*
 * test-pci-dev.c — configuration space of one function (daemon/hw/pci/pci_dev.c): the masks
 * pci_dev_init() sets (QEMU's pci_init_wmask/w1cmask/cmask), the mask-driven write, accesses
 * that must read all-ones and write nothing, the Header Type multifunction bit, pci_dev_reset()
 * and INTx (pci_dev_set_irq()).
 */
#include <errno.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bus.h"
#include "tests/unit/unit.h"

#define TEST_VENDOR 0x1af4
#define TEST_DEVICE 0x1000
#define TEST_REV    0x01
#define TEST_CLASS  0x020000 /* Ethernet controller */

static int reset_hook_calls;

static void fake_reset(struct pci_device *d)
{
    (void)d;
    reset_hook_calls++;
}

static const struct pci_dev_class fake_class = {.name = "fake", .reset = fake_reset};

static void dev_free(void *p)
{
    pci_dev_destroy(p);
    free(p);
}

static void bus_free(void *p)
{
    pci_bus_free(p);
}

/* A function with IDs, subsystem and INTA#, freed after the case. */
static struct pci_device *dev_new(struct unit_fix *f, uint32_t size, uint8_t header)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &fake_class, size, header), 0);
    unit_defer(f, dev_free, d);
    pci_dev_set_ids(d, TEST_VENDOR, TEST_DEVICE, TEST_REV, TEST_CLASS);
    pci_dev_set_subsystem(d, TEST_VENDOR, 0x0001);
    pci_dev_set_irq_pin(d, 1);
    return d;
}

/* ---- pci_dev_init: sizes ------------------------------------------------------------------ */

struct init_row {
    const char *name;
    uint32_t size;
    uint8_t header;
    int ret;
};

/* clang-format off */
static const struct init_row init_rows[] = {
    {"conventional 256", PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL, 0},
    {"express 4096", PCIE_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL, 0},
    {"bridge 256", PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_BRIDGE, 0},
    {"size 0 refused", 0, PCI_HEADER_TYPE_NORMAL, -EINVAL},
    {"size 64 refused", 64, PCI_HEADER_TYPE_NORMAL, -EINVAL},
    {"size 512 refused", 512, PCI_HEADER_TYPE_NORMAL, -EINVAL},
    {"size 8192 refused", 8192, PCI_HEADER_TYPE_NORMAL, -EINVAL},
};
/* clang-format on */

static void test_init(void **state)
{
    const struct init_row *r = *state;
    struct pci_device d = {0};
    int ret = pci_dev_init(&d, &fake_class, r->size, r->header);

    assert_int_equal(ret, r->ret);
    if (ret < 0) {
        assert_null(d.config);
        return;
    }
    assert_int_equal(d.config_size, r->size);
    assert_ptr_equal(d.cls, &fake_class);
    assert_int_equal(d.config[PCI_HEADER_TYPE], r->header);
    for (uint32_t i = 0; i < r->size; i++) {
        if (i != PCI_HEADER_TYPE && i != PCI_IO_BASE && i != PCI_IO_LIMIT &&
            i != PCI_PREF_MEMORY_BASE && i != PCI_PREF_MEMORY_LIMIT)
            assert_int_equal(d.config[i], 0);
        assert_int_equal(d.used[i], 0);
        /* Our own invariant: a bit is never both writable and write-1-to-clear. */
        assert_int_equal(d.wmask[i] & d.w1cmask[i], 0);
    }
    for (int i = 0; i < PCI_NUM_REGIONS; i++)
        assert_true(d.bars[i].addr == PCI_BAR_UNMAPPED);
    pci_dev_destroy(&d);
}

/* ---- pci_dev_init: masks, byte by byte ---------------------------------------------------- */

struct mask_row {
    const char *name;
    uint32_t size;
    uint8_t header;
    uint32_t offset;
    uint8_t wmask, w1cmask, cmask;
    const char *known_bug; /* w1cmask differs from QEMU: checked after a skip() */
};

/* clang-format off */
#define N PCI_HEADER_TYPE_NORMAL
#define B PCI_HEADER_TYPE_BRIDGE
static const struct mask_row mask_rows[] = {
    {"vendor id low read-only, checked", 256, N, 0x00, 0x00, 0x00, 0xff},
    {"vendor id high read-only, checked", 256, N, 0x01, 0x00, 0x00, 0xff},
    {"device id read-only, checked", 256, N, 0x02, 0x00, 0x00, 0xff},
    {"command low: IO|MEMORY|MASTER", 256, N, 0x04, 0x07, 0x00, 0x00},
    {"command high: SERR|INTX_DISABLE", 256, N, 0x05, 0x05, 0x00, 0x00},
    {"status low: CAP_LIST checked, not writable", 256, N, 0x06, 0x00, 0x00, 0x10},
    {"status high: error bits w1c", 256, N, 0x07, 0x00, 0xf9, 0x00},
    {"revision checked", 256, N, 0x08, 0x00, 0x00, 0xff},
    {"prog-if checked", 256, N, 0x09, 0x00, 0x00, 0xff},
    {"subclass checked", 256, N, 0x0a, 0x00, 0x00, 0xff},
    {"base class checked", 256, N, 0x0b, 0x00, 0x00, 0xff},
    {"cache line size writable", 256, N, 0x0c, 0xff, 0x00, 0x00},
    {"latency timer read-only", 256, N, 0x0d, 0x00, 0x00, 0x00},
    {"header type read-only, checked", 256, N, 0x0e, 0x00, 0x00, 0xff},
    {"BIST read-only", 256, N, 0x0f, 0x00, 0x00, 0x00},
    {"unregistered BAR0 read-only", 256, N, 0x10, 0x00, 0x00, 0x00},
    {"unregistered BAR5 read-only", 256, N, 0x27, 0x00, 0x00, 0x00},
    {"subsystem vendor read-only", 256, N, 0x2c, 0x00, 0x00, 0x00},
    {"unregistered ROM read-only", 256, N, 0x30, 0x00, 0x00, 0x00},
    {"capability pointer read-only, checked", 256, N, 0x34, 0x00, 0x00, 0xff},
    {"interrupt line writable", 256, N, 0x3c, 0xff, 0x00, 0x00},
    {"interrupt pin read-only", 256, N, 0x3d, 0x00, 0x00, 0x00},
    {"min_gnt read-only", 256, N, 0x3e, 0x00, 0x00, 0x00},
    {"max_lat read-only", 256, N, 0x3f, 0x00, 0x00, 0x00},
    {"first device-specific byte", 256, N, 0x40, 0xff, 0x00, 0x00},
    {"last byte of 256", 256, N, 0xff, 0xff, 0x00, 0x00},
    {"express: first extended byte", 4096, N, 0x100, 0xff, 0x00, 0x00},
    {"express: last byte of 4096", 4096, N, 0xfff, 0xff, 0x00, 0x00},
    {"bridge: primary bus", 256, B, 0x18, 0xff, 0x00, 0x00},
    {"bridge: secondary latency timer", 256, B, 0x1b, 0xff, 0x00, 0x00},
    {"bridge: I/O base, 4K granular", 256, B, 0x1c, 0xf0, 0x00, 0x0f},
    {"bridge: secondary status read-only", 256, B, 0x1e, 0x00, 0x00, 0x00},
    {"bridge: memory base low", 256, B, 0x20, 0xf0, 0x00, 0x00},
    {"bridge: memory base high", 256, B, 0x21, 0xff, 0x00, 0x00},
    {"bridge: prefetchable base type checked", 256, B, 0x24, 0xf0, 0x00, 0x0f},
    {"bridge: prefetchable upper 32", 256, B, 0x28, 0xff, 0x00, 0x00},
    {"bridge: I/O upper 16 read-only", 256, B, 0x30, 0x00, 0x00, 0x00},
    {"bridge: control low", 256, B, 0x3e, 0xff, 0x00, 0x00},
    /* Bridge Control DISCARD_STATUS (0x400) is write-1-to-clear, as QEMU's
     * pci_init_mask_bridge() sets it. */
    {"bridge: control high, DISCARD_STATUS w1c", 256, B, 0x3f, 0x0b, 0x04, 0x00},
};
#undef N
#undef B
/* clang-format on */

static void test_masks(void **state)
{
    struct unit_fix *f = *state;
    const struct mask_row *r = f->row;
    struct pci_device *d = dev_new(f, r->size, r->header);

    assert_int_equal(d->wmask[r->offset], r->wmask);
    assert_int_equal(d->cmask[r->offset], r->cmask);
    if (r->known_bug) {
        print_message("KNOWN BUG: %s\n", r->known_bug);
        skip();
    }
    assert_int_equal(d->w1cmask[r->offset], r->w1cmask);
}

/* Every byte past the header: writable, unchecked, unused, not w1c. */
struct space_row {
    const char *name;
    uint32_t size;
};

/* clang-format off */
static const struct space_row space_rows[] = {
    {"0x40..0xff of 256", PCI_CONFIG_SPACE_SIZE},
    {"0x40..0xfff of 4096", PCIE_CONFIG_SPACE_SIZE},
};
/* clang-format on */

static void test_device_space(void **state)
{
    struct unit_fix *f = *state;
    const struct space_row *r = f->row;
    struct pci_device *d = dev_new(f, r->size, PCI_HEADER_TYPE_NORMAL);

    for (uint32_t i = PCI_CONFIG_HEADER_SIZE; i < r->size; i++) {
        assert_int_equal(d->wmask[i], 0xff);
        assert_int_equal(d->w1cmask[i], 0);
        assert_int_equal(d->cmask[i], 0);
        assert_int_equal(d->used[i], 0);
    }
}

/* ---- mask-driven writes -------------------------------------------------------------------- */

struct write_row {
    const char *name;
    uint32_t size;
    uint32_t off;
    unsigned len;
    uint32_t val;
    uint32_t rd_off;
    unsigned rd_len;
    uint32_t expect;
};

/* clang-format off */
static const struct write_row write_rows[] = {
    {"command word all-ones keeps only writable bits", 256, 0x04, 2, 0xffff, 0x04, 2, 0x0507},
    {"command low byte", 256, 0x04, 1, 0xff, 0x04, 2, 0x0007},
    {"command high byte", 256, 0x05, 1, 0xff, 0x04, 2, 0x0500},
    {"command word clears", 256, 0x04, 2, 0x0000, 0x04, 2, 0x0000},
    {"command|status dword: status untouched", 256, 0x04, 4, 0x0000ffff, 0x04, 4, 0x00000507},
    {"vendor id read-only", 256, 0x00, 2, 0xffff, 0x00, 2, TEST_VENDOR},
    {"id dword read-only", 256, 0x00, 4, 0x00000000, 0x00, 4, 0x10001af4},
    {"class and revision read-only", 256, 0x08, 4, 0xffffffff, 0x08, 4, 0x02000001},
    {"header type read-only", 256, 0x0e, 1, 0xff, 0x0e, 1, 0x00},
    {"cache line|latency|header|BIST dword", 256, 0x0c, 4, 0xffffffff, 0x0c, 4, 0x000000ff},
    {"cache line|latency word straddle", 256, 0x0c, 2, 0xffff, 0x0c, 2, 0x00ff},
    {"cache line byte", 256, 0x0c, 1, 0x10, 0x0c, 1, 0x10},
    {"interrupt line|pin word: pin read-only", 256, 0x3c, 2, 0xffff, 0x3c, 2, 0x01ff},
    {"interrupt dword: only line written", 256, 0x3c, 4, 0x12345678, 0x3c, 4, 0x00000178},
    {"unregistered BAR read-only", 256, 0x10, 4, 0xffffffff, 0x10, 4, 0x00000000},
    {"unregistered ROM read-only", 256, 0x30, 4, 0xffffffff, 0x30, 4, 0x00000000},
    {"subsystem read-only", 256, 0x2c, 4, 0xffffffff, 0x2c, 4, 0x00011af4},
    {"capability pointer read-only", 256, 0x34, 1, 0xff, 0x34, 1, 0x00},
    {"device byte 0x40", 256, 0x40, 1, 0xa5, 0x40, 1, 0xa5},
    {"device word 0x42", 256, 0x42, 2, 0xbeef, 0x42, 2, 0xbeef},
    {"device word read as bytes", 256, 0x42, 2, 0xbeef, 0x43, 1, 0xbe},
    {"device dword 0xfc", 256, 0xfc, 4, 0xdeadbeef, 0xfc, 4, 0xdeadbeef},
    {"device dword read as word", 256, 0xfc, 4, 0xdeadbeef, 0xfe, 2, 0xdead},
    {"byte write ignores upper value bits", 256, 0x41, 1, 0xffffff5a, 0x40, 4, 0x00005a00},
    {"word write ignores upper value bits", 256, 0x40, 2, 0xffff1234, 0x40, 4, 0x00001234},
    {"express dword 0x100", 4096, 0x100, 4, 0xcafef00d, 0x100, 4, 0xcafef00d},
    {"express dword 0xffc", 4096, 0xffc, 4, 0x01020304, 0xffc, 4, 0x01020304},
};
/* clang-format on */

static void test_write(void **state)
{
    struct unit_fix *f = *state;
    const struct write_row *r = f->row;
    struct pci_device *d = dev_new(f, r->size, PCI_HEADER_TYPE_NORMAL);
    uint8_t *before = unit_defer(f, free, malloc(r->size));

    memcpy(before, d->config, r->size);
    pci_dev_config_write(d, r->off, r->val, r->len);
    assert_int_equal(pci_dev_config_read(d, r->rd_off, r->rd_len), r->expect);
    /* A write never changes a byte outside its own range. */
    for (uint32_t i = 0; i < r->size; i++)
        if (i < r->off || i >= r->off + r->len)
            assert_int_equal(d->config[i], before[i]);
}

/* ---- accesses that read all-ones and write nothing ----------------------------------------- */

struct bad_row {
    const char *name;
    uint32_t size;
    uint32_t off;
    unsigned len;
    uint32_t expect; /* what the read returns */
};

/* clang-format off */
static const struct bad_row bad_rows[] = {
    {"byte at 0x100 of 256", 256, 0x100, 1, 0xff},
    {"word at 0x100 of 256", 256, 0x100, 2, 0xffff},
    {"dword at 0x100 of 256", 256, 0x100, 4, 0xffffffff},
    {"dword at 0xffc of 256", 256, 0xffc, 4, 0xffffffff},
    {"byte at 0x1000 of 4096", 4096, 0x1000, 1, 0xff},
    {"dword at 0x1000 of 4096", 4096, 0x1000, 4, 0xffffffff},
    {"dword at 0xfffffffc (wrap)", 256, 0xfffffffc, 4, 0xffffffff},
    {"dword at 0xfe of 256 runs past the end", 256, 0xfe, 4, 0xffffffff},
    {"length 0 reads no bytes", 256, 0x40, 0, 0x0},
    {"length 8", 256, 0x40, 8, 0xffffffff},
};
/* clang-format on */

static void test_bad_access(void **state)
{
    struct unit_fix *f = *state;
    const struct bad_row *r = f->row;
    struct pci_device *d = dev_new(f, r->size, PCI_HEADER_TYPE_NORMAL);
    uint8_t *before = unit_defer(f, free, malloc(r->size));

    /* Something recognisable in writable space, so a stray write would show. */
    for (uint32_t i = PCI_CONFIG_HEADER_SIZE; i < r->size; i++)
        d->config[i] = (uint8_t)(i * 7);
    memcpy(before, d->config, r->size);

    assert_int_equal(pci_dev_config_read(d, r->off, r->len), r->expect);
    pci_dev_config_write(d, r->off, 0, r->len);
    pci_dev_config_write(d, r->off, 0xffffffff, r->len);
    assert_memory_equal(d->config, before, r->size);
}

/* Valid reads at the edges of each space read the bytes, not all-ones. */
struct edge_row {
    const char *name;
    uint32_t size;
    uint32_t off;
    unsigned len;
};

/* clang-format off */
static const struct edge_row edge_rows[] = {
    /* Unaligned accesses are served, as QEMU serves them (any 1..4 bytes inside the space). */
    {"word at odd offset 0x41", 256, 0x41, 2},
    {"dword at 0x42", 256, 0x42, 4},
    {"dword at 0x101 of 4096", 4096, 0x101, 4},
    {"three bytes at 0x40", 256, 0x40, 3},
    {"dword 0xfc of 256", 256, 0xfc, 4},
    {"byte 0xff of 256", 256, 0xff, 1},
    {"dword 0xfc of 4096", 4096, 0xfc, 4},
    {"dword 0x100 of 4096", 4096, 0x100, 4},
    {"word 0xffe of 4096", 4096, 0xffe, 2},
    {"byte 0xfff of 4096", 4096, 0xfff, 1},
};
/* clang-format on */

static void test_edge_read(void **state)
{
    struct unit_fix *f = *state;
    const struct edge_row *r = f->row;
    struct pci_device *d = dev_new(f, r->size, PCI_HEADER_TYPE_NORMAL);

    assert_int_equal(pci_dev_config_read(d, r->off, r->len), 0);
    pci_dev_config_write(d, r->off, 0x5a5a5a5a, r->len);
    assert_int_equal(pci_dev_config_read(d, r->off, r->len),
                     0x5a5a5a5a & (r->len == 4 ? 0xffffffffu : (1u << (8 * r->len)) - 1));
}

/* ---- Status: write-1-to-clear --------------------------------------------------------------- */

struct w1c_row {
    const char *name;
    uint16_t initial; /* set by the device model */
    uint32_t off;
    unsigned len;
    uint32_t val;
    uint16_t expect;
};

/* clang-format off */
static const struct w1c_row w1c_rows[] = {
    {"1 to PARITY clears it", 0xf900, 0x06, 2, 0x0100, 0xf800},
    {"0 leaves error bits", 0xf900, 0x06, 2, 0x0000, 0xf900},
    {"all-ones clears errors, keeps CAP_LIST|INTERRUPT", 0xf918, 0x06, 2, 0xffff, 0x0018},
    {"high byte: DETECTED_PARITY only", 0xf900, 0x07, 1, 0x80, 0x7900},
    {"dword at command: SIG_SYSTEM_ERROR", 0xf900, 0x04, 4, 0x40000000, 0xb900},
    {"REC_MASTER_ABORT and REC_TARGET_ABORT", 0xf900, 0x06, 2, 0x3000, 0xc900},
    {"66MHZ|FAST_BACK|DEVSEL read-only", 0x06a0, 0x06, 2, 0xffff, 0x06a0},
    {"writing 1 does not set a clear bit", 0x0000, 0x06, 2, 0xffff, 0x0000},
    {"low byte write cannot clear high bits", 0xf900, 0x06, 1, 0xff, 0xf900},
};
/* clang-format on */

static void test_w1c(void **state)
{
    struct unit_fix *f = *state;
    const struct w1c_row *r = f->row;
    struct pci_device *d = dev_new(f, 256, PCI_HEADER_TYPE_NORMAL);

    le_set16(d->config + PCI_STATUS, r->initial);
    pci_dev_config_write(d, r->off, r->val, r->len);
    assert_int_equal(pci_dev_config_read(d, PCI_STATUS, 2), r->expect);
}

/* ---- Header Type and multifunction ---------------------------------------------------------- */

struct mf_row {
    const char *name;
    uint8_t header;
    int steps; /* how many of set[] to apply */
    bool set[2];
    uint8_t expect;
    bool bridge;
};

/* clang-format off */
static const struct mf_row mf_rows[] = {
    {"normal, untouched", PCI_HEADER_TYPE_NORMAL, 0, {0}, 0x00, false},
    {"normal, multifunction on", PCI_HEADER_TYPE_NORMAL, 1, {true}, 0x80, false},
    {"normal, on then off", PCI_HEADER_TYPE_NORMAL, 2, {true, false}, 0x00, false},
    {"normal, on twice", PCI_HEADER_TYPE_NORMAL, 2, {true, true}, 0x80, false},
    {"bridge, multifunction on stays a bridge", PCI_HEADER_TYPE_BRIDGE, 1, {true}, 0x81, true},
    {"bridge, on then off", PCI_HEADER_TYPE_BRIDGE, 2, {true, false}, 0x01, true},
};
/* clang-format on */

static void test_multifunction(void **state)
{
    struct unit_fix *f = *state;
    const struct mf_row *r = f->row;
    struct pci_device *d = dev_new(f, 256, r->header);

    for (int i = 0; i < r->steps; i++)
        pci_dev_set_multifunction(d, r->set[i]);
    assert_int_equal(pci_dev_config_read(d, PCI_HEADER_TYPE, 1), r->expect);
    assert_int_equal(d->multifunction, !!(r->expect & PCI_HEADER_TYPE_MULTI_FUNCTION));
    assert_int_equal(pci_dev_is_bridge(d), r->bridge);
    /* The guest cannot change it. */
    pci_dev_config_write(d, PCI_HEADER_TYPE, r->expect ^ 0xff, 1);
    assert_int_equal(pci_dev_config_read(d, PCI_HEADER_TYPE, 1), r->expect);
}

/* ---- pci_dev_irq_pin: the register's 0-4 as -1 or INTA-INTD = 0-3 ------------------------- */

struct pin_row {
    const char *name;
    uint8_t reg;
    int want;
};

static const struct pin_row pin_rows[] = {
    {"none", 0, -1}, {"INTA", 1, 0}, {"INTD", 4, 3}, {"out of range", 5, -1}, {"0xff", 0xff, -1},
};

static void test_irq_pin(void **state)
{
    struct unit_fix *f = *state;
    const struct pin_row *r = f->row;
    struct pci_device *d = dev_new(f, 256, PCI_HEADER_TYPE_NORMAL);

    pci_dev_set_irq_pin(d, r->reg);
    assert_int_equal(pci_dev_irq_pin(d), r->want);
}

/* ---- pci_dev_reset ------------------------------------------------------------------------- */

enum reset_check { RC_CONFIG, RC_BAR_ADDR, RC_IRQ, RC_HOOK };

struct reset_row {
    const char *name;
    enum reset_check check;
    uint32_t off; /* RC_CONFIG: register; RC_BAR_ADDR: region */
    unsigned len;
    uint32_t before; /* value before the reset (checks the setup took) */
    uint32_t after;
};

/* clang-format off */
static const struct reset_row reset_rows[] = {
    {"command writable bits cleared", RC_CONFIG, 0x04, 2, 0x0507, 0x0000},
    {"status error bits cleared, CAP_LIST kept", RC_CONFIG, 0x06, 2, 0xf918, 0x0010},
    {"cache line size zeroed", RC_CONFIG, 0x0c, 1, 0x10, 0x00},
    {"interrupt line zeroed", RC_CONFIG, 0x3c, 1, 0x0b, 0x00},
    {"interrupt pin kept", RC_CONFIG, 0x3d, 1, 0x01, 0x01},
    {"IDs kept", RC_CONFIG, 0x00, 4, 0x10001af4, 0x10001af4},
    {"device-specific byte kept", RC_CONFIG, 0x40, 1, 0x5a, 0x5a},
    {"BAR0 mem32 back to type bits", RC_CONFIG, 0x10, 4, 0xfebf0000, 0x00000000},
    {"BAR1 I/O back to type bits", RC_CONFIG, 0x14, 4, 0x0000c041, 0x00000001},
    {"BAR2 mem64 pref low back to type bits", RC_CONFIG, 0x18, 4, 0x0000000c, 0x0000000c},
    {"BAR2 mem64 pref high cleared", RC_CONFIG, 0x1c, 4, 0x00000001, 0x00000000},
    {"ROM back to 0, enable cleared", RC_CONFIG, 0x30, 4, 0xfeb80001, 0x00000000},
    {"BAR0 unmapped", RC_BAR_ADDR, 0, 0, 0xfebf0000, 0},
    {"BAR1 unmapped", RC_BAR_ADDR, 1, 0, 0xc040, 0},
    {"ROM unmapped", RC_BAR_ADDR, PCI_ROM_SLOT, 0, 0xfeb80000, 0},
    {"INTx deasserted", RC_IRQ, 0, 0, 1, 0},
    {"model reset hook called once", RC_HOOK, 0, 0, 0, 1},
};
/* clang-format on */

static void test_reset(void **state)
{
    struct unit_fix *f = *state;
    const struct reset_row *r = f->row;
    struct pci_device *d = dev_new(f, 256, PCI_HEADER_TYPE_NORMAL);

    assert_int_equal(pci_bar_register(d, 0, 0x1000, PCI_BASE_ADDRESS_SPACE_MEMORY, NULL, NULL), 0);
    assert_int_equal(pci_bar_register(d, 1, 32, PCI_BASE_ADDRESS_SPACE_IO, NULL, NULL), 0);
    assert_int_equal(pci_bar_register(d, 2, 0x4000,
                                      PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
                                      NULL, NULL),
                     0);
    assert_int_equal(pci_bar_register(d, PCI_ROM_SLOT, 0x40000, 0, NULL, NULL), 0);

    /* What a guest (and the device) leave behind. */
    pci_dev_config_write(d, 0x10, 0xfebf0000, 4);
    pci_dev_config_write(d, 0x14, 0xc040, 4);
    pci_dev_config_write(d, 0x18, 0x00000000, 4);
    pci_dev_config_write(d, 0x1c, 0x00000001, 4);
    pci_dev_config_write(d, 0x30, 0xfeb80001, 4);
    pci_dev_config_write(d, PCI_COMMAND, 0xffff, 2);
    pci_dev_config_write(d, PCI_CACHE_LINE_SIZE, 0x10, 1);
    pci_dev_config_write(d, PCI_INTERRUPT_LINE, 0x0b, 1);
    pci_dev_config_write(d, 0x40, 0x5a, 1);
    le_set16(d->config + PCI_STATUS, 0xf910);
    pci_dev_set_irq(d, 0, 1);

    switch (r->check) {
    case RC_CONFIG:
        assert_int_equal(pci_dev_config_read(d, r->off, r->len), r->before);
        break;
    case RC_BAR_ADDR:
        assert_true(d->bars[r->off].addr == r->before);
        break;
    case RC_IRQ:
        assert_int_equal(d->irq_state[0], 1);
        break;
    case RC_HOOK:
        break;
    }

    reset_hook_calls = 0;
    pci_dev_reset(d);

    switch (r->check) {
    case RC_CONFIG:
        assert_int_equal(pci_dev_config_read(d, r->off, r->len), r->after);
        break;
    case RC_BAR_ADDR:
        assert_true(d->bars[r->off].addr == PCI_BAR_UNMAPPED);
        break;
    case RC_IRQ:
        for (int i = 0; i < PCI_NUM_PINS; i++)
            assert_int_equal(d->irq_state[i], 0);
        assert_int_equal(d->config[PCI_STATUS] & PCI_STATUS_INTERRUPT, 0);
        break;
    case RC_HOOK:
        assert_int_equal(reset_hook_calls, (int)r->after);
        break;
    }
}

/* ---- INTx ----------------------------------------------------------------------------------- */

struct intx_sink {
    int level[PCI_NUM_PINS]; /* sum of changes seen per pin at the root */
    int calls;
};

static void sink_intx(void *opaque, struct pci_device *d, int pin, int change)
{
    struct intx_sink *s = opaque;

    (void)d;
    assert_in_range(pin, 0, PCI_NUM_PINS - 1);
    s->level[pin] += change;
    s->calls++;
}

static const struct pci_bus_ops sink_ops = {.intx_change = sink_intx};

enum intx_op { IRQ_END = 0, IRQ_SET, IRQ_CMD };

struct intx_step {
    enum intx_op op;
    int a, b; /* IRQ_SET: pin, level; IRQ_CMD: Command value */
};

struct intx_row {
    const char *name;
    struct intx_step steps[6];
    uint8_t state[PCI_NUM_PINS];
    bool status_int;
    int level[PCI_NUM_PINS];
    int calls;
};

/* clang-format off */
#define SET(p, l) {IRQ_SET, p, l}
#define CMD(v)    {IRQ_CMD, v, 0}
static const struct intx_row intx_rows[] = {
    {"assert INTA#", {SET(0, 1)}, {1}, true, {1}, 1},
    {"assert twice counts once", {SET(0, 1), SET(0, 1)}, {1}, true, {1}, 1},
    {"assert then deassert", {SET(0, 1), SET(0, 0)}, {0}, false, {0}, 2},
    {"deassert an idle pin does nothing", {SET(2, 0)}, {0}, false, {0}, 0},
    {"level 5 means 1", {SET(3, 5)}, {0, 0, 0, 1}, true, {0, 0, 0, 1}, 1},
    {"pin 4 ignored", {SET(4, 1)}, {0}, false, {0}, 0},
    {"pin -1 ignored", {SET(-1, 1)}, {0}, false, {0}, 0},
    {"INTX_DISABLE masks delivery, not status", {CMD(0x400), SET(0, 1)}, {1}, true, {0}, 0},
    {"disabling withdraws an asserted pin", {SET(0, 1), CMD(0x400)}, {1}, true, {0}, 2},
    {"enabling delivers a held pin", {CMD(0x400), SET(1, 1), CMD(0)}, {0, 1}, true, {0, 1}, 1},
    {"pulse while disabled is never seen", {CMD(0x400), SET(0, 1), SET(0, 0), CMD(0)},
     {0}, false, {0}, 0},
    {"status stays while another pin holds", {SET(0, 1), SET(2, 1), SET(0, 0)}, {0, 0, 1}, true,
     {0, 0, 1}, 3},
    {"Command write without INTX change is silent", {SET(0, 1), CMD(0x7)}, {1}, true, {1}, 1},
};
#undef SET
#undef CMD
/* clang-format on */

static void test_intx(void **state)
{
    struct unit_fix *f = *state;
    const struct intx_row *r = f->row;
    struct pci_device *d = dev_new(f, 256, PCI_HEADER_TYPE_NORMAL);
    struct intx_sink sink = {0};
    struct pci_bus *bus;

    assert_int_equal(pci_bus_new("pci.0", false, true, &bus), 0);
    unit_defer(f, bus_free, bus);
    bus->ops = &sink_ops;
    bus->opaque = &sink;
    assert_int_equal(pci_bus_attach(bus, d, PCI_DEVFN_OF(3, 0)), 0);

    for (const struct intx_step *s = r->steps; s->op != IRQ_END; s++) {
        if (s->op == IRQ_SET)
            pci_dev_set_irq(d, s->a, s->b);
        else
            pci_dev_config_write(d, PCI_COMMAND, (uint32_t)s->a, 2);
    }
    for (int i = 0; i < PCI_NUM_PINS; i++) {
        assert_int_equal(d->irq_state[i], r->state[i]);
        assert_int_equal(sink.level[i], r->level[i]);
    }
    assert_int_equal(!!(d->config[PCI_STATUS] & PCI_STATUS_INTERRUPT), r->status_int);
    assert_int_equal(sink.calls, r->calls);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS(&s, init_rows, test_init);
    UNIT_ROWS_FIX(&s, mask_rows, test_masks);
    UNIT_ROWS_FIX(&s, space_rows, test_device_space);
    UNIT_ROWS_FIX(&s, write_rows, test_write);
    UNIT_ROWS_FIX(&s, bad_rows, test_bad_access);
    UNIT_ROWS_FIX(&s, edge_rows, test_edge_read);
    UNIT_ROWS_FIX(&s, w1c_rows, test_w1c);
    UNIT_ROWS_FIX(&s, mf_rows, test_multifunction);
    UNIT_ROWS_FIX(&s, reset_rows, test_reset);
    UNIT_ROWS_FIX(&s, intx_rows, test_intx);
    UNIT_ROWS_FIX(&s, pin_rows, test_irq_pin);
    return unit_run(&s, "pci-dev");
}
