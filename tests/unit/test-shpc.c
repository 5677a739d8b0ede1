/* SPDX-License-Identifier: MIT */
/*
 * test-shpc.c — the Standard Hot-Plug Controller of pci-bridge (daemon/hw/pci/shpc.c) against
 * SHPC 1.0 §4 and QEMU 7.2's shpc.c: slot numbering (device 0 refused with QEMU's message),
 * the register set after reset by population, slot commands through the BAR (state and LEDs,
 * freeing a disabled slot, invalid targets and codes, bus speed, power/enable all), Command
 * Detected and the interrupt locator over INTx, the config-space DWORD Select/Data window with
 * QEMU's forwarding quirk, plug and unplug requests.
 */
#include <errno.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bridge.h"
#include "daemon/hw/pci/pci_bus.h"
#include "daemon/hw/pci/shpc.h"
#include "daemon/hw/qdev.h"
#include "daemon/util/error.h"
#include "tests/unit/unit.h"

/* Register set offsets (SHPC 1.0 §4.1). */
#define R_SLOTS_33  0x04
#define R_NSLOTS    0x0c /* byte; FIRST_DEV at 0x0d, PHYS_SLOT at 0x0e */
#define R_PROG_IFC  0x13
#define R_CMD       0x14 /* code; target at 0x15 */
#define R_CMD_STAT  0x16
#define R_LOCATOR   0x18
#define R_SERR_INT  0x20
#define R_SLOT(pci) (0x24 + ((pci)-1) * 4) /* slot register of PCI device `pci` */

#define CMD_INVALID 0x4
#define CMD_INVMODE 0x8
#define CMD_DETECT  0x10000
#define INT_DIS     0x1
#define CMD_INT_DIS 0x4
#define EV_PRESENCE 0x01
#define EV_BUTTON   0x04
#define EV_MRL      0x08

/* Slot status words (state | power LED << 2 | attention LED << 4 | MRL open | present). */
#define ST_EMPTY    0x0d0f /* disabled, power LED off, MRL open, empty */
#define ST_ENABLED  0x0006 /* enabled, power LED on, MRL closed, 7.5 W present */
#define ST_INSERTED 0x000f /* disabled, LED off, MRL closed, present (hot-plugged) */

/* Slot command codes: state (bits 1:0) | power LED (3:2) | attention LED (5:4). */
#define C_DISABLE_OFF 0x0f /* disable, power LED off */
#define C_DISABLE     0x03
#define C_ENABLE_ON   0x06
#define C_POWER       0x01
#define C_BLINK       0x08 /* power LED blinking */

static const struct qdev_env env = {0};

struct sink {
    int level;
    int ejects;
    unsigned eject_slot;
};

static void sink_intx(void *opaque, struct pci_device *d, int pin, int change)
{
    (void)d;
    if (pin == 0)
        ((struct sink *)opaque)->level += change;
}

static void sink_eject(void *opaque, struct pci_bus *bus, unsigned slot)
{
    struct sink *s = opaque;

    (void)bus;
    s->ejects++;
    s->eject_slot = slot;
}

static const struct pci_bus_ops sink_ops = {.intx_change = sink_intx, .eject = sink_eject};

static const struct pci_dev_class leaf_class = {.name = "leaf"};

struct fix {
    struct pci_bus *root;
    struct pci_device *br;
    struct shpc *shpc;
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

/* pci-bridge,chassis_nr=1 at 00:05.0 with leaves at the PCI slots in `slots` (0-terminated),
 * then reset (as at machine start). */
static struct fix *fix_new(struct unit_fix *f, const unsigned *slots)
{
    const struct qdev_driver *drv = &pci_bridge_driver;
    struct fix *x = calloc(1, sizeof(*x));
    struct error err = {0};
    void *opts;

    assert_non_null(x);
    unit_defer(f, free, x);
    assert_int_equal(pci_bus_new("pcie.0", true, false, &x->root), 0);
    unit_defer(f, bus_free, x->root);
    x->root->ops = &sink_ops;
    x->root->opaque = &x->sink;
    assert_int_equal(qdev_opts_new(drv, &opts), 0);
    assert_int_equal(qdev_prop_set(drv, opts, "chassis_nr", "1", &env, &err), 0);
    assert_int_equal(drv->realize(drv, opts, &env, &x->br, &err), 0);
    qdev_opts_free(drv, opts);
    unit_defer(f, dev_destroy, x->br);
    assert_int_equal(pci_bus_attach(x->root, x->br, PCI_DEVFN_OF(5, 0)), 0);
    unit_defer(f, detach, x->br);
    x->shpc = x->br->bridge->shpc;
    assert_non_null(x->shpc);
    for (; slots && *slots; slots++) {
        struct pci_device *d = calloc(1, sizeof(*d));

        assert_non_null(d);
        assert_int_equal(
            pci_dev_init(d, &leaf_class, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL), 0);
        unit_defer(f, leaf_free, d);
        pci_dev_set_ids(d, 0x8086, 0x100e, 0, 0x020000);
        assert_int_equal(pci_bus_attach(x->br->bridge->sec, d, PCI_DEVFN_OF(*slots, 0)), 0);
        unit_defer(f, detach, d);
    }
    pthread_mutex_lock(&x->br->lock);
    pci_dev_reset(x->br);
    pthread_mutex_unlock(&x->br->lock);
    return x;
}

static uint32_t bar_rd(struct fix *x, uint32_t off, unsigned len)
{
    struct pci_bar *b = &x->br->bars[0];

    return (uint32_t)b->ops->read(b->opaque, off, len);
}

static void bar_wr(struct fix *x, uint32_t off, uint32_t val, unsigned len)
{
    struct pci_bar *b = &x->br->bars[0];

    pthread_mutex_lock(&x->br->lock);
    b->ops->write(b->opaque, off, val, len);
    pthread_mutex_unlock(&x->br->lock);
}

/* A slot command: target in the high byte, as a 16-bit write of code and target. */
static void cmd(struct fix *x, uint8_t code, uint8_t target)
{
    bar_wr(x, R_CMD, (uint32_t)target << 8 | code, 2);
}

/* ---- shpc_check_slot: device 0 is not a slot ----------------------------------------------------
 */

struct check_row {
    const char *name;
    uint8_t devfn;
    int ret;
    const char *msg;
};

/* clang-format off */
static const struct check_row check_rows[] = {
    {"slot 0 refused", PCI_DEVFN_OF(0, 0), -EINVAL,
     "Unsupported PCI slot 0 for standard hotplug controller. Valid slots are between 1 and 31."},
    {"slot 0 function 3 refused", PCI_DEVFN_OF(0, 3), -EINVAL,
     "Unsupported PCI slot 0 for standard hotplug controller. Valid slots are between 1 and 31."},
    {"slot 1", PCI_DEVFN_OF(1, 0), 0, ""},
    {"slot 31 function 7", PCI_DEVFN_OF(31, 7), 0, ""},
};
/* clang-format on */

static void test_check(void **state)
{
    struct unit_fix *f = *state;
    const struct check_row *r = f->row;
    struct fix *x = fix_new(f, NULL);
    char msg[128] = "";

    assert_int_equal(shpc_check_slot(x->shpc, r->devfn, msg, sizeof(msg)), r->ret);
    assert_string_equal(msg, r->msg);
}

/* ---- the register set after reset ---------------------------------------------------------------
 */

struct reset_row {
    const char *name;
    unsigned slots[3];
    uint32_t off;
    unsigned len;
    uint32_t expect;
};

/* clang-format off */
static const struct reset_row reset_rows[] = {
    {"31 slots at 33 MHz", {0}, R_SLOTS_33, 4, 31},
    {"slots, first device 1, physical numbering up from 1, MRL and button", {0}, R_NSLOTS, 4,
     0xe001011f},
    {"programming interface 1", {0}, R_PROG_IFC, 1, 1},
    {"every interrupt disabled", {0}, R_SERR_INT, 4, 0xf},
    {"no interrupt pending", {0}, R_LOCATOR, 4, 0},
    {"empty slot", {0}, R_SLOT(1), 2, ST_EMPTY},
    {"populated slot: enabled, LED on", {3, 0}, R_SLOT(3), 2, ST_ENABLED},
    {"its neighbour stays empty", {3, 0}, R_SLOT(4), 2, ST_EMPTY},
    {"slot 31", {31, 0}, R_SLOT(31), 2, ST_ENABLED},
    {"event latches clear, every event disabled", {3, 0}, R_SLOT(3) + 2, 2, 0x7f00},
    {"device 0 is no slot: slot 1 empty", {0}, R_SLOT(1), 2, ST_EMPTY},
    {"beyond the register set reads 0", {0}, SHPC_SIZEOF, 4, 0},
};
/* clang-format on */

static void test_reset(void **state)
{
    struct unit_fix *f = *state;
    const struct reset_row *r = f->row;
    struct fix *x = fix_new(f, r->slots);

    assert_int_equal(bar_rd(x, r->off, r->len), r->expect);
    assert_int_equal(x->sink.level, 0);
}

/* ---- command scripts
 * ------------------------------------------------------------------------------ */

enum sh_op {
    H_END = 0,
    H_CMD,    /* code a, target b */
    H_WRITE,  /* BAR offset a, value b (4 bytes) */
    H_READ,   /* BAR offset a: 16 bits == b */
    H_READ32, /* BAR offset a: 32 bits == b */
    H_EJECTS, /* eject requests == a, the last for PCI slot b */
    H_INTX,   /* INTA level == a */
};

struct sh_step {
    enum sh_op op;
    uint32_t a, b;
};

struct cmd_row {
    const char *name;
    unsigned slots[3];
    struct sh_step steps[10];
};

/* clang-format off */
static const struct cmd_row cmd_rows[] = {
    {"disable with power LED off frees the slot", {3, 0},
     {{H_CMD, C_DISABLE_OFF, 3}, {H_EJECTS, 1, 3}, {H_READ, R_SLOT(3), ST_EMPTY},
      {H_READ, R_SLOT(3) + 2, 0x7f00 | EV_MRL | EV_PRESENCE}}},
    {"disable with the LED still on keeps the device", {3, 0},
     {{H_CMD, C_DISABLE, 3}, {H_EJECTS, 0}, {H_READ, R_SLOT(3), 0x0007}}},
    {"then LED off: nothing (the slot was no longer enabled)", {3, 0},
     {{H_CMD, C_DISABLE, 3}, {H_CMD, 0x0c, 3}, {H_EJECTS, 0}}},
    {"blink the power LED", {3, 0}, {{H_CMD, C_BLINK, 3}, {H_READ, R_SLOT(3), 0x000a}}},
    {"enabled slot to power-only: invalid", {3, 0},
     {{H_CMD, C_POWER, 3}, {H_READ, R_CMD_STAT, CMD_INVALID}, {H_READ, R_SLOT(3), ST_ENABLED}}},
    {"target 0: invalid", {0}, {{H_CMD, C_ENABLE_ON, 0}, {H_READ, R_CMD_STAT, CMD_INVALID}}},
    {"target above 31 masked to 0: invalid", {0},
     {{H_CMD, C_ENABLE_ON, 0x20}, {H_READ, R_CMD, C_ENABLE_ON}, {H_READ, R_CMD_STAT, CMD_INVALID}}},
    {"a good command clears the last error", {0},
     {{H_CMD, C_ENABLE_ON, 0}, {H_CMD, C_BLINK, 2}, {H_READ, R_CMD_STAT, 0}}},
    {"bus speed 33 MHz accepted", {0}, {{H_CMD, 0x40, 0}, {H_READ, R_CMD_STAT, 0}}},
    {"bus speed 66 MHz: invalid mode", {0}, {{H_CMD, 0x41, 0}, {H_READ, R_CMD_STAT, CMD_INVMODE}}},
    {"unknown code: invalid", {0}, {{H_CMD, 0x50, 0}, {H_READ, R_CMD_STAT, CMD_INVALID}}},
    {"enable all while one is enabled: invalid", {3, 0},
     {{H_CMD, 0x49, 0}, {H_READ, R_CMD_STAT, CMD_INVALID}}},
    {"enable all: MRL-closed slots enabled, the rest LED off", {3, 0},
     {{H_CMD, C_DISABLE, 3}, {H_CMD, 0x49, 0}, {H_READ, R_CMD_STAT, 0},
      {H_READ, R_SLOT(3), ST_ENABLED}, {H_READ, R_SLOT(4), ST_EMPTY}}},
    {"power all: powered, LED on", {3, 0},
     {{H_CMD, C_DISABLE, 3}, {H_CMD, 0x48, 0}, {H_READ, R_SLOT(3), 0x0005}}},
    {"every command sets Command Detected", {0},
     {{H_CMD, 0x40, 0}, {H_READ32, R_SERR_INT, 0xf | CMD_DETECT}}},
    {"Command Detected is write-1-to-clear", {0},
     {{H_CMD, 0x40, 0}, {H_WRITE, R_SERR_INT, 0xf | CMD_DETECT}, {H_READ32, R_SERR_INT, 0xf}}},
    {"with interrupts enabled a command raises INTA", {0},
     {{H_WRITE, R_SERR_INT, 0xa}, {H_CMD, 0x40, 0}, {H_INTX, 1}, {H_READ32, R_LOCATOR, 1},
      {H_WRITE, R_SERR_INT, 0xa | CMD_DETECT}, {H_INTX, 0}, {H_READ32, R_LOCATOR, 0}}},
    {"command interrupt disabled: no INTA", {0},
     {{H_WRITE, R_SERR_INT, 0xa | CMD_INT_DIS}, {H_CMD, 0x40, 0}, {H_INTX, 0}}},
    {"a slot event unmasked raises INTA, its bit in the locator", {3, 0},
     {{H_WRITE, R_SERR_INT, 0xa | CMD_INT_DIS}, {H_WRITE, R_SLOT(3), 0x7e000000},
      {H_CMD, C_DISABLE_OFF, 3}, {H_INTX, 1}, {H_READ32, R_LOCATOR, 1u << 3},
      {H_WRITE, R_SLOT(3), 0x7e000000 | EV_PRESENCE << 16}, {H_INTX, 0}}},
    {"read-only registers ignore writes", {0},
     {{H_WRITE, R_NSLOTS, 0}, {H_READ32, R_NSLOTS, 0xe001011f}, {H_WRITE, R_SLOT(2), 0},
      {H_READ, R_SLOT(2), ST_EMPTY}}},
};
/* clang-format on */

static void test_cmd(void **state)
{
    struct unit_fix *f = *state;
    const struct cmd_row *r = f->row;
    struct fix *x = fix_new(f, r->slots);

    for (const struct sh_step *s = r->steps; s->op != H_END; s++) {
        switch (s->op) {
        case H_CMD:
            cmd(x, (uint8_t)s->a, (uint8_t)s->b);
            break;
        case H_WRITE:
            bar_wr(x, s->a, s->b, 4);
            break;
        case H_READ:
            assert_int_equal(bar_rd(x, s->a, 2), s->b);
            break;
        case H_READ32:
            assert_int_equal(bar_rd(x, s->a, 4), s->b);
            break;
        case H_EJECTS:
            assert_int_equal(x->sink.ejects, s->a);
            if (s->a)
                assert_int_equal(x->sink.eject_slot, s->b);
            break;
        case H_INTX:
            assert_int_equal(x->sink.level, s->a);
            break;
        case H_END:
            break;
        }
    }
}

/* ---- the DWORD Select / DWORD Data window in config space ------------------------------------ */

struct dword_row {
    const char *name;
    uint8_t select;
    bool write_data; /* write 0 to DWORD Data through config space */
    uint32_t data;   /* DWORD Data afterwards */
    uint16_t cmd_status;
};

/* clang-format off */
static const struct dword_row dword_rows[] = {
    {"select 3: slots and physical numbering", 3, false, 0xe001011f, 0},
    {"select 8: the SERR/INT register", 8, false, 0xf, 0},
    {"select past the register set reads 0", 0x40, false, 0, 0},
    /* QEMU forwards the dword found in its register set at the capability's offset + 4 (slot
     * register of PCI slot 9 with the capability at 0x40: an empty slot, 0x7f000d0f), not the
     * value written: code 0x0f, target 13, a valid command. A 0 would be target 0: invalid. */
    {"data write forwards the register set's own dword (QEMU)", 5, true, 0x00000d0f, 0},
};
/* clang-format on */

static void test_dword(void **state)
{
    struct unit_fix *f = *state;
    const struct dword_row *r = f->row;
    struct fix *x = fix_new(f, NULL);
    uint8_t cap = x->shpc->cap;

    assert_int_equal(cap, 0x40);
    pthread_mutex_lock(&x->br->lock);
    pci_dev_config_write(x->br, cap + 2, r->select, 1);
    if (r->write_data)
        pci_dev_config_write(x->br, cap + 4, 0, 4);
    pthread_mutex_unlock(&x->br->lock);
    assert_int_equal(pci_dev_config_read(x->br, cap + 4, 4), r->data);
    assert_int_equal(bar_rd(x, R_CMD_STAT, 2), r->cmd_status);
    if (r->write_data)
        assert_int_equal(bar_rd(x, R_SERR_INT, 4) & CMD_DETECT, CMD_DETECT);
}

/* ---- plug and unplug requests ------------------------------------------------------------------
 */

enum pu_op {
    P_END = 0,
    P_PLUG,   /* shpc_plug(slot a, hotplugged b) */
    P_UNPLUG, /* shpc_unplug_request(slot a) == b */
    P_CMD,    /* code a, target b */
    P_STATUS, /* slot a status == b */
    P_LATCH,  /* slot a latch == b */
    P_CLEAR,  /* clear slot a's latch */
};

struct pu_step {
    enum pu_op op;
    uint32_t a, b;
};

struct pu_row {
    const char *name;
    unsigned slots[3];
    struct pu_step steps[8];
};

/* clang-format off */
static const struct pu_row pu_rows[] = {
    {"cold plug: present, MRL closed, no event", {0},
     {{P_PLUG, 4, 0}, {P_STATUS, 4, 0x000f}, {P_LATCH, 4, 0}}},
    {"hot plug into an empty slot: button, MRL, presence", {0},
     {{P_PLUG, 4, 1}, {P_STATUS, 4, ST_INSERTED}, {P_LATCH, 4, EV_BUTTON | EV_MRL | EV_PRESENCE}}},
    {"hot plug of another function: button only", {0},
     {{P_PLUG, 4, 1}, {P_CLEAR, 4}, {P_PLUG, 4, 1}, {P_LATCH, 4, EV_BUTTON}}},
    {"unplug of an enabled slot: attention button, pending", {3, 0},
     {{P_UNPLUG, 3, SHPC_UNPLUG_PENDING}, {P_LATCH, 3, EV_BUTTON}, {P_STATUS, 3, ST_ENABLED}}},
    {"unplug while the power LED blinks: the button again (QEMU 7.2 has no busy check)", {3, 0},
     {{P_CMD, C_BLINK, 3}, {P_CLEAR, 3}, {P_UNPLUG, 3, SHPC_UNPLUG_PENDING},
      {P_LATCH, 3, EV_BUTTON}}},
    {"unplug of a hot-plugged, never enabled slot: now, slot empty", {0},
     {{P_PLUG, 4, 1}, {P_CLEAR, 4}, {P_UNPLUG, 4, SHPC_UNPLUG_NOW}, {P_STATUS, 4, ST_EMPTY},
      {P_LATCH, 4, EV_MRL | EV_PRESENCE}}},
    {"unplug of device 0 (no slot): pending, nothing touched", {0},
     {{P_UNPLUG, 0, SHPC_UNPLUG_PENDING}, {P_STATUS, 1, ST_EMPTY}}},
};
/* clang-format on */

static void test_plug(void **state)
{
    struct unit_fix *f = *state;
    const struct pu_row *r = f->row;
    struct fix *x = fix_new(f, r->slots);

    for (const struct pu_step *s = r->steps; s->op != P_END; s++) {
        pthread_mutex_lock(&x->br->lock);
        switch (s->op) {
        case P_PLUG:
            shpc_plug(x->shpc, PCI_DEVFN_OF(s->a, 0), s->b);
            break;
        case P_UNPLUG:
            assert_int_equal(shpc_unplug_request(x->shpc, PCI_DEVFN_OF(s->a, 0)), s->b);
            break;
        case P_CMD:
            x->br->bars[0].ops->write(x->shpc, R_CMD, s->b << 8 | s->a, 2);
            break;
        case P_STATUS:
            assert_int_equal(x->br->bars[0].ops->read(x->shpc, R_SLOT(s->a), 2), s->b);
            break;
        case P_LATCH:
            assert_int_equal(x->br->bars[0].ops->read(x->shpc, R_SLOT(s->a) + 2, 1), s->b);
            break;
        case P_CLEAR:
            x->br->bars[0].ops->write(x->shpc, R_SLOT(s->a) + 2, 0xff, 1);
            break;
        case P_END:
            break;
        }
        pthread_mutex_unlock(&x->br->lock);
    }
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, check_rows, test_check);
    UNIT_ROWS_FIX(&s, reset_rows, test_reset);
    UNIT_ROWS_FIX(&s, cmd_rows, test_cmd);
    UNIT_ROWS_FIX(&s, dword_rows, test_dword);
    UNIT_ROWS_FIX(&s, pu_rows, test_plug);
    return unit_run(&s, "shpc");
}
