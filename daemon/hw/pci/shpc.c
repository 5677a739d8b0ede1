/* SPDX-License-Identifier: MIT */
/*
 * shpc.c — Standard Hot-Plug Controller register set and slot commands (SHPC 1.0 §4), as QEMU
 * 7.2 behaves. See shpc.h.
 */
#include "shpc.h"

#include <errno.h>
#include <stdio.h>

#include "msi.h"
#include "pci_cap.h"

/* Working register set (SHPC 1.0 §4.1). */
#define SHPC_BASE_OFFSET 0x00
#define SHPC_SLOTS_33    0x04
#define SHPC_SLOTS_66    0x08
#define SHPC_NSLOTS      0x0c
#define SHPC_FIRST_DEV   0x0d
#define SHPC_PHYS_SLOT   0x0e
#define SHPC_PHYS_UP     0x2000
#define SHPC_PHYS_MRL    0x4000
#define SHPC_PHYS_BUTTON 0x8000
#define SHPC_SEC_BUS     0x10
#define SHPC_SEC_BUS_33  0x0
#define SHPC_SEC_BUS_MSK 0x7
#define SHPC_PROG_IFC    0x13
#define SHPC_PROG_IFC_10 0x1
#define SHPC_CMD_CODE    0x14
#define SHPC_CMD_TRGT    0x15
#define SHPC_CMD_TRGT_MX 0x1f
#define SHPC_CMD_STATUS  0x16
#define SHPC_CMD_BUSY    0x1
#define SHPC_CMD_MRLOPEN 0x2
#define SHPC_CMD_INVALID 0x4
#define SHPC_CMD_INVMODE 0x8
#define SHPC_INT_LOCATOR 0x18
#define SHPC_INT_COMMAND 0x1
#define SHPC_SERR_INT    0x20
#define SHPC_INT_DIS     0x1
#define SHPC_SERR_DIS    0x2
#define SHPC_CMD_INT_DIS 0x4
#define SHPC_ARB_DIS     0x8
#define SHPC_CMD_DETECT  0x10000
#define SHPC_ARB_DETECT  0x20000
#define SLOT_REG(i)      (0x24 + (i)*4)
#define SLOT_LATCH(i)    (SLOT_REG(i) + 2)
#define SLOT_DISABLE(i)  (SLOT_REG(i) + 3)

/* Slot status fields; slot commands use the same encodings for state and LEDs. */
#define STATE_MASK  0x0003
#define PWR_LED     0x000c
#define ATTN_LED    0x0030
#define ST_MRL_OPEN 0x0100
#define ST_66       0x0200
#define ST_PRSNT    0x0c00
#define STATE_NO    0
#define STATE_PWR   1
#define STATE_EN    2
#define STATE_DIS   3
#define LED_NO      0
#define LED_ON      1
#define LED_BLINK   2
#define LED_OFF     3
#define PRSNT_EMPTY 3
#define PRSNT_7_5W  0

/* Slot events (latch) and their SERR/INT disables. */
#define EV_PRESENCE  0x01
#define EV_ISOLATED  0x02
#define EV_BUTTON    0x04
#define EV_MRL       0x08
#define EV_CONNECTED 0x10
#define EV_ALL       (EV_PRESENCE | EV_ISOLATED | EV_BUTTON | EV_MRL | EV_CONNECTED)
#define EV_DIS_ALL   (EV_ALL | 0x20 | 0x40) /* plus MRL and connected-fault SERR disables */

/* SHPC index i is device i + 1 of the secondary bus; logical slot numbers too. */
#define IDX_TO_PCI(i) ((i) + 1)
#define PCI_TO_IDX(s) ((int)(s)-1)

/* The CAP layout in config space (SHPC 1.0 §4.2). */
#define CAP_DWORD_SELECT 2
#define CAP_DWORD_DATA   4

static unsigned ctz16(uint16_t m)
{
    return (unsigned)__builtin_ctz(m);
}

static uint8_t get_status(const struct shpc *s, unsigned slot, uint16_t mask)
{
    return (uint8_t)((le_get16(s->config + SLOT_REG(slot)) & mask) >> ctz16(mask));
}

static void set_status(struct shpc *s, unsigned slot, uint8_t value, uint16_t mask)
{
    uint16_t v = le_get16(s->config + SLOT_REG(slot));

    v = (uint16_t)((v & ~mask) | ((value << ctz16(mask)) & mask));
    le_set16(s->config + SLOT_REG(slot), v);
}

static void interrupt_update(struct shpc *s)
{
    uint32_t locator = 0, serr_int;
    int level;

    for (unsigned i = 0; i < s->nslots; i++)
        if (s->config[SLOT_LATCH(i)] & ~s->config[SLOT_DISABLE(i)])
            locator |= 1u << IDX_TO_PCI(i);
    serr_int = le_get32(s->config + SHPC_SERR_INT);
    if ((serr_int & SHPC_CMD_DETECT) && !(serr_int & SHPC_CMD_INT_DIS))
        locator |= SHPC_INT_COMMAND;
    le_set32(s->config + SHPC_INT_LOCATOR, locator);
    level = !(serr_int & SHPC_INT_DIS) && locator;
    /* QEMU: a message on a change with MSI on; INTx otherwise (also when MSI is on and the
     * level did not change). */
    if (msi_enabled(s->d) && s->msi_requested != level)
        msi_notify(s->d, 0);
    else
        pci_dev_set_irq(s->d, 0, level);
    s->msi_requested = level;
}

void shpc_reset(struct shpc *s)
{
    memset(s->config, 0, sizeof(s->config));
    s->config[SHPC_NSLOTS] = (uint8_t)s->nslots;
    le_set32(s->config + SHPC_SLOTS_33, s->nslots);
    le_set32(s->config + SHPC_SLOTS_66, 0);
    s->config[SHPC_FIRST_DEV] = IDX_TO_PCI(0);
    le_set16(s->config + SHPC_PHYS_SLOT,
             IDX_TO_PCI(0) | SHPC_PHYS_UP | SHPC_PHYS_MRL | SHPC_PHYS_BUTTON);
    le_set32(s->config + SHPC_SERR_INT,
             SHPC_INT_DIS | SHPC_SERR_DIS | SHPC_CMD_INT_DIS | SHPC_ARB_DIS);
    s->config[SHPC_PROG_IFC] = SHPC_PROG_IFC_10;
    le_set16(s->config + SHPC_SEC_BUS, SHPC_SEC_BUS_33);
    for (unsigned i = 0; i < s->nslots; i++) {
        s->config[SLOT_DISABLE(i)] = EV_DIS_ALL;
        if (__atomic_load_n(&s->sec->devices[PCI_DEVFN_OF(IDX_TO_PCI(i), 0)], __ATOMIC_ACQUIRE)) {
            set_status(s, i, STATE_EN, STATE_MASK);
            set_status(s, i, 0, ST_MRL_OPEN);
            set_status(s, i, PRSNT_7_5W, ST_PRSNT);
            set_status(s, i, LED_ON, PWR_LED);
        } else {
            set_status(s, i, STATE_DIS, STATE_MASK);
            set_status(s, i, 1, ST_MRL_OPEN);
            set_status(s, i, PRSNT_EMPTY, ST_PRSNT);
            set_status(s, i, LED_OFF, PWR_LED);
        }
        set_status(s, i, 0, ST_66);
    }
    s->msi_requested = false;
    interrupt_update(s);
}

static void invalid_command(struct shpc *s)
{
    le_set16(s->config + SHPC_CMD_STATUS, le_get16(s->config + SHPC_CMD_STATUS) | SHPC_CMD_INVALID);
}

/* Empty the slot's register state; the devices go through the machine (control plane). */
static void free_slot(struct shpc *s, unsigned slot)
{
    pci_bus_eject(s->sec, IDX_TO_PCI(slot));
    set_status(s, slot, 1, ST_MRL_OPEN);
    set_status(s, slot, PRSNT_EMPTY, ST_PRSNT);
    s->config[SLOT_LATCH(slot)] |= EV_MRL | EV_PRESENCE;
}

static void slot_command(struct shpc *s, uint8_t target, uint8_t state, uint8_t power, uint8_t attn)
{
    int slot = (int)target - 1;
    uint8_t current;

    if (target < 1 || slot >= (int)s->nslots) {
        invalid_command(s);
        return;
    }
    current = get_status(s, (unsigned)slot, STATE_MASK);
    if (current == STATE_EN && state == STATE_PWR) {
        invalid_command(s);
        return;
    }
    if (power != LED_NO)
        set_status(s, (unsigned)slot, power, PWR_LED);
    if (attn != LED_NO)
        set_status(s, (unsigned)slot, attn, ATTN_LED);
    if (state != STATE_NO)
        set_status(s, (unsigned)slot, state, STATE_MASK);
    if ((current == STATE_EN || current == STATE_PWR) && state == STATE_DIS &&
        get_status(s, (unsigned)slot, PWR_LED) == LED_OFF)
        free_slot(s, (unsigned)slot); /* the LED says the device may go */
}

static void command(struct shpc *s)
{
    uint8_t code = s->config[SHPC_CMD_CODE];

    le_set16(s->config + SHPC_CMD_STATUS, le_get16(s->config + SHPC_CMD_STATUS) &
                                              (uint16_t) ~(SHPC_CMD_BUSY | SHPC_CMD_MRLOPEN |
                                                           SHPC_CMD_INVALID | SHPC_CMD_INVMODE));
    if (code <= 0x3f) {
        slot_command(s, s->config[SHPC_CMD_TRGT] & SHPC_CMD_TRGT_MX, code & STATE_MASK,
                     (code & PWR_LED) >> 2, (code & ATTN_LED) >> 4);
    } else if (code <= 0x47) {
        if ((code & SHPC_SEC_BUS_MSK) == SHPC_SEC_BUS_33)
            s->config[SHPC_SEC_BUS] &= (uint8_t)~SHPC_SEC_BUS_MSK;
        else
            le_set16(s->config + SHPC_CMD_STATUS,
                     le_get16(s->config + SHPC_CMD_STATUS) | SHPC_CMD_INVMODE);
    } else if (code == 0x48 || code == 0x49) {
        /* Power only / enable every slot: refused while one is enabled. */
        bool ok = true;

        for (unsigned i = 0; i < s->nslots; i++)
            if (get_status(s, i, STATE_MASK) == STATE_EN)
                ok = false;
        if (!ok) {
            invalid_command(s);
        } else {
            for (unsigned i = 0; i < s->nslots; i++) {
                if (!get_status(s, i, ST_MRL_OPEN))
                    slot_command(s, (uint8_t)(i + 1), code == 0x48 ? STATE_PWR : STATE_EN, LED_ON,
                                 LED_NO);
                else
                    slot_command(s, (uint8_t)(i + 1), STATE_NO, LED_OFF, LED_NO);
            }
        }
    } else {
        invalid_command(s);
    }
    le_set32(s->config + SHPC_SERR_INT, le_get32(s->config + SHPC_SERR_INT) | SHPC_CMD_DETECT);
}

static void shpc_write(struct shpc *s, uint32_t addr, uint64_t val, unsigned len)
{
    if (addr >= SHPC_SIZEOF)
        return;
    len = MIN(len, SHPC_SIZEOF - addr);
    for (unsigned i = 0; i < len; i++, val >>= 8) {
        unsigned a = addr + i;

        s->config[a] = (uint8_t)((s->config[a] & ~s->wmask[a]) | (val & s->wmask[a]));
        s->config[a] &= (uint8_t) ~(val & s->w1cmask[a]);
    }
    if (ranges_overlap(addr, len, SHPC_CMD_CODE, 2))
        command(s);
    interrupt_update(s);
}

static uint64_t shpc_read(const struct shpc *s, uint32_t addr, unsigned len)
{
    if (addr >= SHPC_SIZEOF)
        return 0;
    return le_get(s->config + addr, MIN(len, SHPC_SIZEOF - addr));
}

static uint64_t bar_read(void *opaque, uint64_t offset, unsigned len)
{
    uint64_t v = 0;

    /* QEMU's region serves 1..4 bytes: a wider access is split in dwords. */
    for (unsigned done = 0; done < len; done += 4)
        v |= shpc_read(opaque, (uint32_t)(offset + done), MIN(4u, len - done)) << (8 * done);
    return v;
}

static void bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned len)
{
    for (unsigned done = 0; done < len; done += 4)
        shpc_write(opaque, (uint32_t)(offset + done), value >> (8 * done), MIN(4u, len - done));
}

const struct pci_region_ops shpc_bar_ops = {.read = bar_read, .write = bar_write};

static void update_dword(struct shpc *s)
{
    uint8_t sel = ld8(s->d->config + s->cap + CAP_DWORD_SELECT);

    le_store(s->d->config + s->cap + CAP_DWORD_DATA, shpc_read(s, sel * 4u, 4), 4);
}

int shpc_init(struct shpc *s, struct pci_device *d, struct pci_bus *sec)
{
    int cap = pci_cap_add(d, PCI_CAP_ID_SHPC, 0, SHPC_CAP_SIZE);

    if (cap < 0)
        return cap;
    s->d = d;
    s->sec = sec;
    s->cap = (uint8_t)cap;
    s->nslots = SHPC_MAX_SLOTS;
    d->wmask[cap + CAP_DWORD_SELECT] = 0xff;
    le_set32(d->wmask + cap + CAP_DWORD_DATA, 0xffffffffu);
    shpc_reset(s);
    le_set32(s->config + SHPC_BASE_OFFSET, 0);
    s->wmask[SHPC_CMD_CODE] = 0xff;
    s->wmask[SHPC_CMD_TRGT] = SHPC_CMD_TRGT_MX;
    le_set32(s->wmask + SHPC_SERR_INT,
             SHPC_INT_DIS | SHPC_SERR_DIS | SHPC_CMD_INT_DIS | SHPC_ARB_DIS);
    le_set32(s->w1cmask + SHPC_SERR_INT, SHPC_CMD_DETECT | SHPC_ARB_DETECT);
    for (unsigned i = 0; i < s->nslots; i++) {
        s->wmask[SLOT_DISABLE(i)] = EV_DIS_ALL;
        s->w1cmask[SLOT_LATCH(i)] = EV_ALL;
    }
    update_dword(s);
    return 0;
}

void shpc_config_write(struct shpc *s, uint32_t offset, uint32_t value, unsigned len)
{
    (void)value;
    if (!ranges_overlap(offset, len, s->cap, SHPC_CAP_SIZE))
        return;
    if (ranges_overlap(offset, len, s->cap + CAP_DWORD_DATA, 4)) {
        /* QEMU reads the "written" dword from its register set at the capability's offset. */
        uint32_t data = s->cap + CAP_DWORD_DATA + 4u <= SHPC_SIZEOF
                            ? le_get32(s->config + s->cap + CAP_DWORD_DATA)
                            : 0;
        shpc_write(s, ld8(s->d->config + s->cap + CAP_DWORD_SELECT) * 4u, data, 4);
    }
    update_dword(s);
}

int shpc_check_slot(const struct shpc *s, uint8_t devfn, char *msg, size_t msglen)
{
    int slot = PCI_TO_IDX(PCI_SLOT_OF(devfn));

    if (PCI_SLOT_OF(devfn) < IDX_TO_PCI(0) || slot >= (int)s->nslots) {
        snprintf(msg, msglen,
                 "Unsupported PCI slot %d for standard hotplug controller. Valid slots are "
                 "between %d and %d.",
                 PCI_SLOT_OF(devfn), IDX_TO_PCI(0), IDX_TO_PCI(s->nslots) - 1);
        return -EINVAL;
    }
    return 0;
}

void shpc_plug(struct shpc *s, uint8_t devfn, bool hotplugged)
{
    int slot = PCI_TO_IDX(PCI_SLOT_OF(devfn));

    if (slot < 0 || slot >= (int)s->nslots)
        return;
    if (!hotplugged) {
        set_status(s, (unsigned)slot, 0, ST_MRL_OPEN);
        set_status(s, (unsigned)slot, PRSNT_7_5W, ST_PRSNT);
        return;
    }
    if (get_status(s, (unsigned)slot, ST_MRL_OPEN)) {
        set_status(s, (unsigned)slot, 0, ST_MRL_OPEN);
        set_status(s, (unsigned)slot, PRSNT_7_5W, ST_PRSNT);
        s->config[SLOT_LATCH(slot)] |= EV_BUTTON | EV_MRL | EV_PRESENCE;
    } else {
        s->config[SLOT_LATCH(slot)] |= EV_BUTTON; /* cancels a removal in progress */
    }
    set_status(s, (unsigned)slot, 0, ST_66);
    interrupt_update(s);
}

enum shpc_unplug shpc_unplug_request(struct shpc *s, uint8_t devfn)
{
    int slot = PCI_TO_IDX(PCI_SLOT_OF(devfn));
    uint8_t state, led;
    enum shpc_unplug r = SHPC_UNPLUG_PENDING;

    if (slot < 0 || slot >= (int)s->nslots)
        return SHPC_UNPLUG_PENDING;
    state = get_status(s, (unsigned)slot, STATE_MASK);
    led = get_status(s, (unsigned)slot, PWR_LED);
    /* QEMU 7.2 has no "guest is busy" check here (8.1 added one): a request while the power
     * LED blinks latches the button again (measured on 7.2.22). */
    if (state == STATE_DIS && led == LED_OFF) {
        /* The caller removes the slot's devices now; the slot reads empty. */
        set_status(s, (unsigned)slot, 1, ST_MRL_OPEN);
        set_status(s, (unsigned)slot, PRSNT_EMPTY, ST_PRSNT);
        s->config[SLOT_LATCH(slot)] |= EV_MRL | EV_PRESENCE;
        r = SHPC_UNPLUG_NOW;
    } else {
        s->config[SLOT_LATCH(slot)] |= EV_BUTTON;
    }
    set_status(s, (unsigned)slot, 0, ST_66);
    interrupt_update(s);
    return r;
}
