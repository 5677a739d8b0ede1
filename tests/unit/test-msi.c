/* SPDX-License-Identifier: MIT */
/*
 * test-msi.c — the MSI capability (daemon/hw/pci/msi.c) against PCI 3.0 §6.8.1 and QEMU 7.2's
 * msi.c: layout and sizes per variant, write masks, Multiple Message Enable clamping, vector
 * numbers in the data, per-vector masking with pending bits, INTx dropped on enable, reset.
 */
#include <errno.h>

#include "daemon/hw/pci/msi.h"
#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bus.h"
#include "daemon/hw/pci/pci_cap.h"
#include "tests/unit/unit.h"

static const struct pci_dev_class fake_class = {.name = "fake"};

struct sink {
    int calls;
    uint64_t addr;
    uint32_t data;
    int level[PCI_NUM_PINS];
};

static void sink_msi(void *opaque, struct pci_device *d, uint64_t addr, uint32_t data)
{
    struct sink *s = opaque;

    (void)d;
    s->calls++;
    s->addr = addr;
    s->data = data;
}

static void sink_intx(void *opaque, struct pci_device *d, int pin, int change)
{
    struct sink *s = opaque;

    (void)d;
    s->level[pin] += change;
}

static const struct pci_bus_ops sink_ops = {.msi_deliver = sink_msi, .intx_change = sink_intx};

struct fix {
    struct pci_device d;
    struct pci_bus *bus;
    struct sink sink;
};

static void fix_free(void *p)
{
    struct fix *x = p;

    pci_bus_detach(&x->d);
    pci_dev_destroy(&x->d);
    pci_bus_free(x->bus);
    free(x);
}

static struct fix *fix_new(struct unit_fix *f)
{
    struct fix *x = calloc(1, sizeof(*x));

    assert_non_null(x);
    assert_int_equal(
        pci_dev_init(&x->d, &fake_class, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL), 0);
    assert_int_equal(pci_bus_new("pci.0", false, false, &x->bus), 0);
    unit_defer(f, fix_free, x);
    x->bus->ops = &sink_ops;
    x->bus->opaque = &x->sink;
    pci_dev_set_ids(&x->d, 0x1b36, 0x0001, 0, 0xff0000);
    pci_dev_set_irq_pin(&x->d, 1);
    assert_int_equal(pci_bus_attach(x->bus, &x->d, PCI_DEVFN_OF(3, 0)), 0);
    return x;
}

static uint32_t rd(struct fix *x, uint32_t off, unsigned len)
{
    return pci_dev_config_read(&x->d, off, len);
}

static void wr(struct fix *x, uint32_t off, uint32_t val, unsigned len)
{
    pthread_mutex_lock(&x->d.lock);
    pci_dev_config_write(&x->d, off, val, len);
    pthread_mutex_unlock(&x->d.lock);
}

/* ---- msi_init: layout per variant (PCI 3.0 figure 6-9) ------------------------------------ */

struct init_row {
    const char *name;
    unsigned nvectors;
    bool is64, pvm;
    uint8_t offset;
    int ret;          /* capability offset or -errno */
    unsigned size;    /* bytes the capability takes */
    uint16_t flags;   /* Message Control as read */
    uint16_t data_at; /* offset of Message Data inside the capability */
};

/* clang-format off */
static const struct init_row init_rows[] = {
    {"1 vector, 32-bit", 1, false, false, 0, 0x40, 10, 0x0000, 8},
    {"1 vector, 64-bit", 1, true, false, 0, 0x40, 14, 0x0080, 12},
    {"4 vectors, 32-bit, masking", 4, false, true, 0, 0x40, 20, 0x0104, 8},
    {"32 vectors, 64-bit, masking", 32, true, true, 0, 0x40, 24, 0x018a, 12},
    {"2 vectors at 0x50", 2, true, false, 0x50, 0x50, 14, 0x0082, 12},
    {"0 vectors: -EINVAL", 0, false, false, 0, -EINVAL, 0, 0, 0},
    {"3 vectors: -EINVAL", 3, false, false, 0, -EINVAL, 0, 0, 0},
    {"64 vectors: -EINVAL", 64, false, false, 0, -EINVAL, 0, 0, 0},
    {"misaligned offset: -EINVAL", 1, false, false, 0x42, -EINVAL, 0, 0, 0},
    {"offset in the header: -EINVAL", 1, false, false, 0x20, -EINVAL, 0, 0, 0},
};
/* clang-format on */

static void test_init(void **state)
{
    struct unit_fix *f = *state;
    const struct init_row *r = f->row;
    struct fix *x = fix_new(f);
    uint8_t before[PCI_CONFIG_SPACE_SIZE];
    int ret;

    memcpy(before, x->d.config, sizeof(before));
    ret = msi_init(&x->d, r->offset, r->nvectors, r->is64, r->pvm);
    assert_int_equal(ret, r->ret);
    if (ret < 0) {
        /* Refused: nothing changed. */
        assert_memory_equal(x->d.config, before, sizeof(before));
        assert_false(msi_present(&x->d));
        return;
    }
    assert_int_equal(x->d.msi_cap, ret);
    assert_int_equal(rd(x, (uint32_t)ret, 1), PCI_CAP_ID_MSI);
    assert_int_equal(rd(x, PCI_CAPABILITY_LIST, 1), ret);
    assert_int_equal(rd(x, (uint32_t)ret + PCI_MSI_FLAGS, 2), r->flags);
    assert_false(msi_enabled(&x->d));
    /* The capability takes `size` bytes (rounded to a dword): the next one goes after it. */
    assert_int_equal(pci_cap_add(&x->d, PCI_CAP_ID_VNDR, 0, 4),
                     ret == 0x40 ? 0x40 + ((r->size + 3) & ~3u) : 0x40);
    /* Message Data is 16 bits where the variant puts it. */
    wr(x, (uint32_t)ret + r->data_at, 0xffffffff, 4);
    assert_int_equal(rd(x, (uint32_t)ret + r->data_at, 2), 0xffff);
}

/* ---- write masks: what a guest can change --------------------------------------------------- */

struct mask_row {
    const char *name;
    unsigned nvectors;
    bool is64, pvm;
    uint8_t reg; /* offset inside the capability */
    unsigned len;
    uint32_t expect; /* read back after writing all ones */
};

/* clang-format off */
static const struct mask_row mask_rows[] = {
    /* Message Control: Enable and Multiple Message Enable (clamped to QMASK, see below). */
    {"control, 8 vectors", 8, true, false, PCI_MSI_FLAGS, 2, 0x00b7},
    {"control, 1 vector: MME clamped to 0", 1, true, false, PCI_MSI_FLAGS, 2, 0x0081},
    {"address low: dword aligned", 1, true, false, PCI_MSI_ADDRESS_LO, 4, 0xfffffffc},
    {"address high (64-bit)", 1, true, false, PCI_MSI_ADDRESS_HI, 4, 0xffffffff},
    {"32-bit: data where the high address would be", 1, false, false, PCI_MSI_DATA_32, 2,
     0xffff},
    {"mask bits: one per vector (4)", 4, true, true, PCI_MSI_MASK_64, 4, 0x0000000f},
    {"mask bits: one per vector (32)", 32, false, true, PCI_MSI_MASK_32, 4, 0xffffffff},
    {"pending bits read-only", 4, true, true, PCI_MSI_PENDING_64, 4, 0},
    {"capability ID and next read-only", 4, true, true, 0, 2, PCI_CAP_ID_MSI},
};
/* clang-format on */

static void test_mask(void **state)
{
    struct unit_fix *f = *state;
    const struct mask_row *r = f->row;
    struct fix *x = fix_new(f);
    int cap = msi_init(&x->d, 0, r->nvectors, r->is64, r->pvm);

    assert_true(cap > 0);
    wr(x, (uint32_t)cap + r->reg, 0xffffffff, r->len);
    assert_int_equal(rd(x, (uint32_t)cap + r->reg, r->len), r->expect);
}

/* ---- delivery scripts ------------------------------------------------------------------------ */

enum msi_op {
    M_END = 0,
    M_WRITE,   /* reg, val, len */
    M_NOTIFY,  /* vector (reg), ret (val) */
    M_SENT,    /* messages delivered so far (val); with data (len != 0: reg = data) */
    M_READ,    /* reg, val (expected), len */
    M_INTX,    /* assert INTA */
    M_LEVEL,   /* INTA level at the bus (val) */
    M_RESET,   /* pci_dev_reset */
    M_ENABLED, /* msi_enabled() == val */
};

struct msi_step {
    enum msi_op op;
    uint32_t reg;
    int64_t val;
    unsigned len;
};

struct deliver_row {
    const char *name;
    unsigned nvectors;
    bool is64, pvm;
    struct msi_step steps[14];
};

#define CTL   PCI_MSI_FLAGS
#define ALO   PCI_MSI_ADDRESS_LO
#define D64   PCI_MSI_DATA_64
#define MSK64 PCI_MSI_MASK_64
#define PND64 PCI_MSI_PENDING_64
#define EN    PCI_MSI_FLAGS_ENABLE

/* clang-format off */
static const struct deliver_row deliver_rows[] = {
    {"disabled: -ENODEV, nothing sent", 4, true, true,
     {{M_NOTIFY, 0, -ENODEV}, {M_SENT, 0, 0}}},
    {"enabled: message with the data", 1, true, false,
     {{M_WRITE, ALO, 0xfee01000, 4}, {M_WRITE, D64, 0x4041, 2}, {M_WRITE, CTL, EN, 2},
      {M_ENABLED, 0, 1}, {M_NOTIFY, 0, 1}, {M_SENT, 0x4041, 1, 1}}},
    {"vector number in the low data bits", 8, true, false,
     {{M_WRITE, ALO, 0xfee00000, 4}, {M_WRITE, D64, 0x4040, 2},
      {M_WRITE, CTL, EN | 3u << 4, 2}, {M_NOTIFY, 5, 1}, {M_SENT, 0x4045, 1, 1}}},
    {"vector past the enabled count: -EINVAL", 8, true, false,
     {{M_WRITE, CTL, EN | 1u << 4, 2}, {M_NOTIFY, 1, 1}, {M_NOTIFY, 2, -EINVAL},
      {M_SENT, 0, 1}}},
    {"MME above QMASK clamped on write", 2, true, false,
     {{M_WRITE, CTL, EN | 5u << 4, 2}, {M_READ, CTL, 0x0093, 2}, {M_NOTIFY, 1, 1},
      {M_NOTIFY, 2, -EINVAL}}},
    {"masked vector goes pending, unmask sends it", 4, true, true,
     {{M_WRITE, D64, 0x10, 2}, {M_WRITE, MSK64, 0x2, 4}, {M_WRITE, CTL, EN | 2u << 4, 2},
      {M_NOTIFY, 1, 0}, {M_SENT, 0, 0}, {M_READ, PND64, 0x2, 4}, {M_WRITE, MSK64, 0, 4},
      {M_SENT, 0x11, 1, 1}, {M_READ, PND64, 0, 4}}},
    {"pending past a reduced count dropped", 4, true, true,
     {{M_WRITE, MSK64, 0xf, 4}, {M_WRITE, CTL, EN | 2u << 4, 2}, {M_NOTIFY, 3, 0},
      {M_NOTIFY, 0, 0}, {M_READ, PND64, 0x9, 4}, {M_WRITE, CTL, EN, 2}, {M_READ, PND64, 0x1, 4},
      {M_WRITE, MSK64, 0, 4}, {M_SENT, 0, 1, 1}}},
    {"32-bit: address without high dword", 1, false, false,
     {{M_WRITE, ALO, 0xfee02000, 4}, {M_WRITE, PCI_MSI_DATA_32, 0x30, 2}, {M_WRITE, CTL, EN, 2},
      {M_NOTIFY, 0, 1}, {M_SENT, 0x30, 1, 1}}},
    {"write while enabled deasserts INTx", 1, true, false,
     {{M_INTX}, {M_LEVEL, 0, 1}, {M_WRITE, CTL, EN, 2}, {M_LEVEL, 0, 0}}},
    {"write while disabled keeps INTx", 1, true, false,
     {{M_INTX}, {M_WRITE, ALO, 0xfee00000, 4}, {M_LEVEL, 0, 1}}},
    {"reset clears enable, address, data, mask, pending", 4, true, true,
     {{M_WRITE, ALO, 0xfee00000, 4}, {M_WRITE, D64, 0x77, 2}, {M_WRITE, MSK64, 0x1, 4},
      {M_WRITE, CTL, EN | 2u << 4, 2}, {M_NOTIFY, 0, 0}, {M_RESET}, {M_ENABLED, 0, 0},
      {M_READ, CTL, 0x0184, 2}, {M_READ, ALO, 0, 4}, {M_READ, D64, 0, 2}, {M_READ, MSK64, 0, 4},
      {M_READ, PND64, 0, 4}}},
};
/* clang-format on */

static void test_deliver(void **state)
{
    struct unit_fix *f = *state;
    const struct deliver_row *r = f->row;
    struct fix *x = fix_new(f);
    int cap = msi_init(&x->d, 0, r->nvectors, r->is64, r->pvm);

    assert_true(cap > 0);
    for (const struct msi_step *s = r->steps; s->op != M_END; s++) {
        switch (s->op) {
        case M_WRITE:
            wr(x, (uint32_t)cap + s->reg, (uint32_t)s->val, s->len);
            break;
        case M_NOTIFY:
            pthread_mutex_lock(&x->d.lock);
            assert_int_equal(msi_notify(&x->d, s->reg), s->val);
            pthread_mutex_unlock(&x->d.lock);
            break;
        case M_SENT:
            assert_int_equal(x->sink.calls, s->val);
            if (s->len)
                assert_int_equal(x->sink.data, s->reg);
            break;
        case M_READ:
            assert_int_equal(rd(x, (uint32_t)cap + s->reg, s->len), s->val);
            break;
        case M_INTX:
            pci_dev_set_irq(&x->d, 0, 1);
            break;
        case M_LEVEL:
            assert_int_equal(x->sink.level[0], s->val);
            break;
        case M_RESET:
            pthread_mutex_lock(&x->d.lock);
            pci_dev_reset(&x->d);
            pthread_mutex_unlock(&x->d.lock);
            break;
        case M_ENABLED:
            assert_int_equal(msi_enabled(&x->d), s->val);
            break;
        case M_END:
            break;
        }
    }
}

/* Without the capability every entry point is a harmless no-op. */
struct absent_row {
    const char *name;
    uint32_t offset;
};

/* clang-format off */
static const struct absent_row absent_rows[] = {
    {"write at 0x40", 0x40},
    {"write at 0x04 (Command)", PCI_COMMAND},
};
/* clang-format on */

static void test_absent(void **state)
{
    struct unit_fix *f = *state;
    const struct absent_row *r = f->row;
    struct fix *x = fix_new(f);

    assert_false(msi_present(&x->d));
    assert_false(msi_enabled(&x->d));
    pthread_mutex_lock(&x->d.lock);
    msi_config_write(&x->d, r->offset, 0xffffffff, 4);
    msi_reset(&x->d);
    assert_int_equal(msi_notify(&x->d, 0), -ENODEV);
    pthread_mutex_unlock(&x->d.lock);
    assert_int_equal(x->sink.calls, 0);
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, init_rows, test_init);
    UNIT_ROWS_FIX(&s, mask_rows, test_mask);
    UNIT_ROWS_FIX(&s, deliver_rows, test_deliver);
    UNIT_ROWS_FIX(&s, absent_rows, test_absent);
    return unit_run(&s, "msi");
}
