/* SPDX-License-Identifier: MIT */
/*
 * test-e1000.c — the 82540EM register model (daemon/hw/net/e1000_regs.c) and its MAC choice
 * (e1000.c), through the BAR handlers a vCPU calls: defaults, the EEPROM image and its two read
 * paths (EERD, EECD bit-banging), write masks and read-only registers, QEMU's cutting of narrow
 * and unaligned accesses, INTA# with and without the mitigation window, the compat properties,
 * reset, and QEMU's default-MAC allocation. Values are QEMU 7.2's (tests/data/access/e1000-*).
 */
#include "daemon/hw/net/e1000.h"
#include "daemon/hw/qdev.h"
#include "daemon/util/error.h"
#include "tests/unit/unit.h"

#define REG_CTRL   0x0000
#define REG_STATUS 0x0008
#define REG_EECD   0x0010
#define REG_EERD   0x0014
#define REG_MDIC   0x0020
#define REG_ICR    0x00c0
#define REG_ICS    0x00c8
#define REG_IMS    0x00d0
#define REG_IMC    0x00d8
#define REG_MTA    0x5200
#define REG_RAL0   0x5400
#define REG_RAH0   0x5404

static const struct qdev_env env = {0};

static void dev_free(void *p)
{
    pci_dev_destroy(p);
}

/* Realize `drv` with "name=value" pairs (NULL-terminated), freed after the case. */
static struct pci_device *dev_new_props(struct unit_fix *f, const struct qdev_driver *drv,
                                        const char *const *props)
{
    struct error err = {0};
    struct pci_device *d = NULL;
    void *opts;

    assert_int_equal(qdev_opts_new(drv, &opts), 0);
    for (; props && props[0]; props += 2)
        assert_int_equal(qdev_prop_set(drv, opts, props[0], props[1], &env, &err), 0);
    assert_int_equal(drv->realize(drv, opts, &env, &d, &err), 0);
    qdev_opts_free(drv, opts);
    if (f)
        unit_defer(f, dev_free, d);
    return d;
}

static struct pci_device *dev_new(struct unit_fix *f, const char *mac)
{
    const char *props[] = {"mac", mac, NULL};

    return dev_new_props(f, &e1000_driver, mac ? props : NULL);
}

static uint64_t rd(struct pci_device *d, uint64_t off, unsigned len)
{
    return d->bars[0].ops->read(d->bars[0].opaque, off, len);
}

static uint32_t rdl(struct pci_device *d, uint64_t off)
{
    return (uint32_t)rd(d, off, 4);
}

static void wr(struct pci_device *d, uint64_t off, uint64_t val, unsigned len)
{
    d->bars[0].ops->write(d->bars[0].opaque, off, val, len);
}

static void wrl(struct pci_device *d, uint64_t off, uint32_t val)
{
    wr(d, off, val, 4);
}

static uint16_t eerd(struct pci_device *d, unsigned word)
{
    uint32_t v;

    wrl(d, REG_EERD, word << 8 | 1);
    v = rdl(d, REG_EERD);
    assert_true(v & 0x10); /* DONE */
    return (uint16_t)(v >> 16);
}

/* ---- defaults --------------------------------------------------------------------------- */

struct default_row {
    const char *name;
    uint32_t off, val;
};

/* clang-format off */
static const struct default_row default_rows[] = {
    {"CTRL: SLU, 1000 Mb/s, SWDPIN0/2", REG_CTRL, 0x00140240},
    {"STATUS: link up, 1000 Mb/s, full duplex", REG_STATUS, 0x80080783},
    {"EECD: present, granted, DO idle high", REG_EECD, 0x188},
    {"CTRL_EXT is not modelled", 0x0018, 0},
    {"VET with init-vet", 0x0038, 0x8100},
    {"LEDCTL", 0x0e00, 0x602},
    {"PBA", 0x1000, 0x00100030},
    {"MANC", 0x5820, 0x00222300},
    {"RAL0 = 52:54:00:aa", REG_RAL0, 0xaa005452},
    {"RAH0 = bb:cc | AV", REG_RAH0, 0x8000ccbb},
    {"RAL1 clear", REG_RAL0 + 8, 0},
    {"IMC is write-only", REG_IMC, 0},
    {"last register of the BAR", 0x1fffc, 0},
};
/* clang-format on */

static void test_default(void **state)
{
    struct unit_fix *f = *state;
    const struct default_row *row = f->row;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");

    assert_int_equal(rdl(d, row->off), row->val);
}

/* ---- the EEPROM ------------------------------------------------------------------------- */

struct eeprom_row {
    const char *name;
    const struct qdev_driver *drv;
    const char *mac;
    uint16_t checksum, devid;
};

static const struct eeprom_row eeprom_rows[] = {
    {"e1000 52:54:00:aa:bb:cc", &e1000_driver, "52:54:00:aa:bb:cc", 0x6b26, 0x100e},
    {"e1000 00:11:22:33:44:55", &e1000_driver, "00:11:22:33:44:55", 0, 0x100e},
    {"e1000-82544gc", &e1000_82544gc_driver, "52:54:00:00:00:07", 0, 0x100c},
    {"e1000-82545em", &e1000_82545em_driver, "52:54:00:00:00:08", 0, 0x100f},
};

/* Words 0-2 the MAC, 11 and 13 the device ID, the 64 words sum to 0xBABA; EECD agrees. */
static void test_eeprom(void **state)
{
    struct unit_fix *f = *state;
    const struct eeprom_row *row = f->row;
    const char *props[] = {"mac", row->mac, NULL};
    struct pci_device *d = dev_new_props(f, row->drv, props);
    struct e1000 *s = container_of(d, struct e1000, pci);
    uint16_t sum = 0;

    for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
        sum = (uint16_t)(sum + eerd(d, i));
    assert_int_equal(sum, 0xbaba);
    assert_int_equal(eerd(d, 0), s->mac[0] | s->mac[1] << 8);
    assert_int_equal(eerd(d, 2), s->mac[4] | s->mac[5] << 8);
    assert_int_equal(eerd(d, 11), row->devid);
    assert_int_equal(eerd(d, 13), row->devid);
    if (row->checksum)
        assert_int_equal(eerd(d, 0x3f), row->checksum);
    assert_int_equal(eerd(d, 10), 0x6403); /* template */
}

/* Microwire: CS, READ (110b) + 6-bit address on SK rising edges, 16 bits out, MSB first. */
static uint16_t eecd_read_word(struct pci_device *d, unsigned addr)
{
    const uint32_t cs = 2, sk = 1, di = 4, dout = 8;
    uint32_t cmd = 6u << 6 | addr;
    uint16_t v = 0;

    wrl(d, REG_EECD, 0);
    wrl(d, REG_EECD, cs);
    for (int bit = 8; bit >= 0; bit--) {
        uint32_t e = cs | ((cmd >> bit) & 1 ? di : 0);

        wrl(d, REG_EECD, e);
        wrl(d, REG_EECD, e | sk);
        wrl(d, REG_EECD, e);
    }
    for (int i = 0; i < 16; i++) {
        wrl(d, REG_EECD, cs | sk);
        v = (uint16_t)(v << 1 | !!(rdl(d, REG_EECD) & dout));
        wrl(d, REG_EECD, cs);
    }
    wrl(d, REG_EECD, 0);
    return v;
}

static void test_eecd_matches_eerd(void **state)
{
    struct unit_fix *f = *state;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");

    for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
        assert_int_equal(eecd_read_word(d, i), eerd(d, i));
}

struct eerd_row {
    const char *name;
    uint32_t write, read;
};

static const struct eerd_row eerd_rows[] = {
    {"no START: echoed", 0x0300, 0x0300},
    {"address 0x40: DONE, no data", 0x4001, 0x4010},
    {"all ones: DONE, START dropped", 0xffffffff, 0xfffffffe},
    {"word 0", 0x0001, 0x54520010},
};

static void test_eerd(void **state)
{
    struct unit_fix *f = *state;
    const struct eerd_row *row = f->row;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");

    wrl(d, REG_EERD, row->write);
    assert_int_equal(rdl(d, REG_EERD), row->read);
}

/* ---- writes ----------------------------------------------------------------------------- */

struct write_row {
    const char *name;
    uint32_t off, val, read;
};

/* clang-format off */
static const struct write_row write_rows[] = {
    {"CTRL.RST self-clears", REG_CTRL, 0xffffffff, 0xfbffffff},
    {"STATUS is read-only", REG_STATUS, 0, 0x80080783},
    {"EECD latches SK/CS/DI/FWE/REQ", REG_EECD, 0xffffffff, 0x1ff},
    {"ITR keeps 16 bits", 0x00c4, 0x12345678, 0x5678},
    {"RDLEN keeps 0xfff80", 0x2808, 0xffffffff, 0xfff80},
    {"TDT keeps 16 bits", 0x3818, 0x12345678, 0x5678},
    {"TDFH keeps 11 bits", 0x3410, 0xffffffff, 0x7ff},
    {"FFMT keeps 4 bits", 0x9004, 0xffffffff, 0xf},
    {"MTA[127]", REG_MTA + 0x1fc, 0x80000001, 0x80000001},
    {"PBM last word", 0x1fffc, 0xdeadbeef, 0xdeadbeef},
    {"MANC is read-only", 0x5820, 0, 0x00222300},
    {"statistics are read-only", 0x4074, 5, 0},
    {"CTRL_EXT: unknown, dropped", 0x0018, 0x1234, 0},
    {"unknown 0x8000: dropped", 0x8000, 0x1234, 0},
};
/* clang-format on */

static void test_write(void **state)
{
    struct unit_fix *f = *state;
    const struct write_row *row = f->row;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");

    wrl(d, row->off, row->val);
    assert_int_equal(rdl(d, row->off), row->read);
}

/* ---- access sizes ----------------------------------------------------------------------- */

struct size_row {
    const char *name;
    uint32_t off;
    unsigned len;
    uint64_t val;
};

/* clang-format off */
static const struct size_row size_rows[] = {
    {"readb STATUS", 0x8, 1, 0x83},
    {"readb STATUS+1: low byte again", 0x9, 1, 0x83},
    {"readw STATUS+2: low half", 0xa, 2, 0x0783},
    {"readw STATUS+1: two bytes of it", 0x9, 2, 0x8383},
    {"readl STATUS+1: 1 + 2 + 1 pieces", 0x9, 4, 0x078383},
    {"readq RAL0: both halves", REG_RAL0, 8, 0x8000ccbbaa005452ull},
    {"readq RAH0: 4-aligned, two dwords", REG_RAH0, 8, 0x8000ccbbull},
    {"readl 2 bytes before the end", 0x1fffe, 2, 0},
};
/* clang-format on */

static void test_size(void **state)
{
    struct unit_fix *f = *state;
    const struct size_row *row = f->row;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");

    assert_int_equal(rd(d, row->off, row->len), row->val);
}

static void test_narrow_writes(void **state)
{
    struct unit_fix *f = *state;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");

    wr(d, REG_MTA + 1, 0xab, 1); /* zero-extended into MTA[0] */
    assert_int_equal(rdl(d, REG_MTA), 0xab);
    wr(d, REG_MTA + 0xe, 0xaabbccdd, 4); /* 2 + 2: MTA[3], MTA[4] */
    assert_int_equal(rdl(d, REG_MTA + 0xc), 0xccdd);
    assert_int_equal(rdl(d, REG_MTA + 0x10), 0xaabb);
    wr(d, REG_MTA + 0x18, 0x1122334455667788ull, 8);
    assert_int_equal(rdl(d, REG_MTA + 0x18), 0x55667788);
    assert_int_equal(rdl(d, REG_MTA + 0x1c), 0x11223344);
}

/* ---- interrupts ------------------------------------------------------------------------- */

struct irq_step {
    char op; /* 'w' write, 'r' read (value checked), 0 end */
    uint32_t off, val;
    int irq; /* INTA# after the step */
};

struct irq_row {
    const char *name;
    const char *mitigation;
    struct irq_step steps[12];
};

/* clang-format off */
static const struct irq_row irq_rows[] = {
    {"masked cause: latched, no interrupt", "off", {
        {'w', REG_ICS, 0x4, 0}, {'r', REG_ICS, 0x4, 0}, {'r', REG_ICR, 0x4, 0}, {'r', REG_ICR, 0, 0}}},
    {"unmasked: raise, ICR read lowers", "off", {
        {'w', REG_IMS, 0x4, 0}, {'w', REG_ICS, 0x4, 1}, {'r', REG_ICR, 0x4, 0},
        {'w', REG_ICS, 0x4, 1}}},
    {"IMC lowers, IMS raises again", "off", {
        {'w', REG_IMS, 0x4, 0}, {'w', REG_ICS, 0x4, 1}, {'w', REG_IMC, 0x4, 0},
        {'r', REG_IMS, 0, 0}, {'w', REG_IMS, 0x4, 1}}},
    {"ICR write-1-to-clear", "off", {
        {'w', REG_IMS, 0x4, 0}, {'w', REG_ICS, 0x84, 1}, {'w', REG_ICR, 0x80, 1},
        {'r', REG_ICS, 0x4, 1}, {'w', REG_ICR, 0x4, 0}}},
    {"mitigation: the window holds the next edge back", "on", {
        {'w', REG_IMS, 0x4, 0}, {'w', REG_ICS, 0x4, 1}, {'r', REG_ICR, 0x4, 0},
        {'w', REG_ICS, 0x4, 0}, {'r', REG_ICR, 0x4, 0}, {'w', REG_ICS, 0x4, 0}}},
    {"TCTL.EN sets TXQE", "off", {
        {'w', REG_IMS, 0x2, 0}, {'w', 0x400, 0x2, 1}, {'r', REG_ICR, 0x2, 0},
        {'w', 0x3818, 0, 1}, {'r', 0x3810, 0, 1}}},
    {"MDIC Interrupt Enable sets MDAC", "off", {
        {'w', REG_IMS, 0x200, 0}, {'w', REG_MDIC, 0x28220000, 1}, {'r', REG_MDIC, 0x38220141, 1}}},
};
/* clang-format on */

static void test_irq(void **state)
{
    struct unit_fix *f = *state;
    const struct irq_row *row = f->row;
    const char *props[] = {"mac", "52:54:00:aa:bb:cc", "mitigation", row->mitigation, NULL};
    struct pci_device *d = dev_new_props(f, &e1000_driver, props);

    for (const struct irq_step *s = row->steps; s->op; s++) {
        if (s->op == 'w')
            wrl(d, s->off, s->val);
        else
            assert_int_equal(rdl(d, s->off), s->val);
        assert_int_equal(d->irq_state[0], s->irq);
    }
}

/* ---- PHY -------------------------------------------------------------------------------- */

struct phy_row {
    const char *name;
    uint32_t mdic, read;
};

/* clang-format off */
static const struct phy_row phy_rows[] = {
    {"BMCR", 0x08200000, 0x18201140},
    {"BMSR", 0x08210000, 0x1821794d},
    {"PHY ID1", 0x08220000, 0x18220141},
    {"PHY ID2", 0x08230000, 0x18230c20},
    {"M88 specific status", 0x08310000, 0x1831ac00},
    {"register 7: ERROR", 0x08270000, 0x58270000},
    {"PHY address 2: ERROR, old MDIC kept", 0x08420000, 0x50000000},
    {"write to PHY ID1: ERROR", 0x04221234, 0x54221234},
    {"opcode 00: READY only", 0x00230055, 0x10230055},
};
/* clang-format on */

static void test_phy(void **state)
{
    struct unit_fix *f = *state;
    const struct phy_row *row = f->row;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");

    wrl(d, REG_MDIC, row->mdic);
    assert_int_equal(rdl(d, REG_MDIC), row->read);
}

struct autoneg_row {
    const char *name;
    const char *autonegotiation;
    uint16_t bmcr;
    uint32_t status;
};

static const struct autoneg_row autoneg_rows[] = {
    {"restart: link down", "on", 0x1200, 0x80080781},
    {"restart without AUTOEN: link stays up", "on", 0x0200, 0x80080783},
    {"autonegotiation=off: link stays up", "off", 0x1200, 0x80080783},
};

static void test_autoneg(void **state)
{
    struct unit_fix *f = *state;
    const struct autoneg_row *row = f->row;
    const char *props[] = {"mac", "52:54:00:aa:bb:cc", "autonegotiation", row->autonegotiation,
                           NULL};
    struct pci_device *d = dev_new_props(f, &e1000_driver, props);

    wrl(d, REG_MDIC, 0x04200000 | row->bmcr);
    assert_int_equal(rdl(d, REG_STATUS), row->status);
}

/* ---- compat flags ----------------------------------------------------------------------- */

struct compat_row {
    const char *name;
    const char *prop, *value;
    uint32_t off, write, read;
};

/* clang-format off */
static const struct compat_row compat_rows[] = {
    {"mitigation=off hides ITR", "mitigation", "off", 0x00c4, 0x1234, 0},
    {"mitigation=on: ITR", "mitigation", "on", 0x00c4, 0x1234, 0x1234},
    {"extra_mac_registers=off hides IP4AT[0]", "extra_mac_registers", "off", 0x5840, 1, 0},
    {"... but not IP4AT[1]", "extra_mac_registers", "off", 0x5844, 1, 1},
    {"extra_mac_registers=off hides PBM[0]", "extra_mac_registers", "off", 0x10000, 1, 0},
    {"extra_mac_registers=off hides WUC", "extra_mac_registers", "off", 0x5800, 1, 0},
    {"WUFC is not flagged", "extra_mac_registers", "off", 0x5808, 1, 1},
    {"init-vet=off: VET 0", "init-vet", "off", 0x0038, 0, 0},
};
/* clang-format on */

static void test_compat(void **state)
{
    struct unit_fix *f = *state;
    const struct compat_row *row = f->row;
    const char *props[] = {row->prop, row->value, NULL};
    struct pci_device *d = dev_new_props(f, &e1000_driver, props);

    if (row->write)
        wrl(d, row->off, row->write);
    assert_int_equal(rdl(d, row->off), row->read);
}

/* ---- I/O BAR and reset ------------------------------------------------------------------ */

static void test_io_window(void **state)
{
    struct unit_fix *f = *state;
    struct pci_device *d = dev_new(f, "52:54:00:aa:bb:cc");
    const struct pci_region_ops *io = d->bars[1].ops;

    io->write(d->bars[1].opaque, 0, REG_MTA, 4); /* IOADDR */
    io->write(d->bars[1].opaque, 4, 0x1234, 4);  /* IODATA */
    assert_int_equal(io->read(d->bars[1].opaque, 0, 4), 0);
    assert_int_equal(io->read(d->bars[1].opaque, 4, 4), 0);
    assert_int_equal(rdl(d, REG_MTA), 0);
}

static void test_reset(void **state)
{
    struct unit_fix *f = *state;
    const char *props[] = {"mac", "52:54:00:aa:bb:cc", "mitigation", "on", NULL};
    struct pci_device *d = dev_new_props(f, &e1000_driver, props);

    wrl(d, REG_IMS, 0x4);
    wrl(d, REG_ICS, 0x4);
    assert_int_equal(d->irq_state[0], 1);
    rdl(d, REG_ICR);
    wrl(d, REG_MTA, 1);
    wrl(d, 0x1fffc, 1);
    wrl(d, REG_RAL0, 1);
    wrl(d, REG_EECD, 0x6);
    wrl(d, REG_MDIC, 0x04200000 | 0x1200); /* link down */
    pci_dev_reset(d);
    assert_int_equal(rdl(d, REG_STATUS), 0x80080783);
    assert_int_equal(rdl(d, REG_MTA), 0);
    assert_int_equal(rdl(d, 0x1fffc), 0);
    assert_int_equal(rdl(d, REG_RAL0), 0xaa005452);
    assert_int_equal(rdl(d, REG_IMS), 0);
    assert_int_equal(rdl(d, REG_EECD), 0x18e); /* QEMU keeps the latched EECD bits */
    assert_int_equal(eerd(d, 0), 0x5452);
    /* The mitigation window closed: a new cause asserts INTA# again. */
    wrl(d, REG_IMS, 0x4);
    wrl(d, REG_ICS, 0x4);
    assert_int_equal(d->irq_state[0], 1);
}

/* ---- default MACs ----------------------------------------------------------------------- */

struct mac_row {
    const char *name;
    const char *steps[6]; /* a MAC to give, NULL for none, "-N" frees step N's device, "" ends */
    uint8_t last[6];      /* the last byte of each step's new device */
};

/* clang-format off */
static const struct mac_row mac_rows[] = {
    {"first free from :56", {NULL, NULL, NULL, ""}, {0x56, 0x57, 0x58}},
    {"a given :57 is held", {"52:54:00:12:34:57", NULL, NULL, ""}, {0x57, 0x56, 0x58}},
    {"a given MAC elsewhere holds nothing", {"52:54:00:12:35:56", NULL, ""}, {0x56, 0x56}},
    {"all-zero MAC counts as unset", {"00:00:00:00:00:00", NULL, ""}, {0x56, 0x57}},
    {"a freed MAC is reused", {NULL, NULL, "-0", NULL, ""}, {0x56, 0x57, 0, 0x56}},
};
/* clang-format on */

struct mac_devs {
    struct pci_device *d[6];
};

static void mac_devs_free(void *p)
{
    struct mac_devs *m = p;

    if (!m)
        return;
    for (unsigned i = ARRAY_SIZE(m->d); i-- > 0;)
        pci_dev_destroy(m->d[i]);
    free(m);
}

/* The allocator is process-wide: each row frees what it made, also when it fails. */
static void test_default_mac(void **state)
{
    struct unit_fix *f = *state;
    const struct mac_row *row = f->row;
    struct mac_devs *m = unit_defer(f, mac_devs_free, calloc(1, sizeof(*m)));

    assert_non_null(m);
    for (unsigned i = 0; !row->steps[i] || *row->steps[i]; i++) {
        if (row->steps[i] && row->steps[i][0] == '-') {
            unsigned k = (unsigned)(row->steps[i][1] - '0');

            pci_dev_destroy(m->d[k]);
            m->d[k] = NULL;
            continue;
        }
        m->d[i] = dev_new(NULL, row->steps[i]);
        assert_int_equal(rdl(m->d[i], REG_RAH0) >> 8 & 0xff, row->last[i]);
    }
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } single[] = {{"all 64 words"}};

    UNIT_ROWS_FIX(&s, default_rows, test_default);
    UNIT_ROWS_FIX(&s, eeprom_rows, test_eeprom);
    UNIT_ROWS_FIX(&s, single, test_eecd_matches_eerd);
    UNIT_ROWS_FIX(&s, eerd_rows, test_eerd);
    UNIT_ROWS_FIX(&s, write_rows, test_write);
    UNIT_ROWS_FIX(&s, size_rows, test_size);
    UNIT_ROWS_FIX(&s, single, test_narrow_writes);
    UNIT_ROWS_FIX(&s, irq_rows, test_irq);
    UNIT_ROWS_FIX(&s, phy_rows, test_phy);
    UNIT_ROWS_FIX(&s, autoneg_rows, test_autoneg);
    UNIT_ROWS_FIX(&s, compat_rows, test_compat);
    UNIT_ROWS_FIX(&s, single, test_io_window);
    UNIT_ROWS_FIX(&s, single, test_reset);
    UNIT_ROWS_FIX(&s, mac_rows, test_default_mac);
    return unit_run(&s, "e1000");
}
