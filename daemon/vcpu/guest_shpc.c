/* SPDX-License-Identifier: MIT */
/*
 * guest_shpc.c — the cooperative guest's Standard Hot-Plug Controller driver, modelled on
 * Linux's shpchp (drivers/pci/hotplug/shpchp_{hpc,ctrl}.c) and SHPC 1.0 §4. See guest_hp.h.
 */
#include "fw_internal.h"
#include "guest_hp.h"

/* The working register set (SHPC 1.0 §4.1), in the memory BAR0 points to. */
#define SHPC_BASE_OFFSET 0x00
#define SHPC_SLOT_CONFIG 0x0c /* 4:0 slots, 12:8 first device number */
#define SHPC_CMD         0x14 /* code (byte) and target (byte) */
#define SHPC_CMD_STATUS  0x16
#define SHPC_INT_LOCATOR 0x18
#define SHPC_SERR_INT    0x20
#define SHPC_SLOT(i)     (0x24 + 4 * (i))

#define SERR_INT_GLOBAL_MASK  0x00000001u
#define SERR_INT_GLOBAL_SERR  0x00000002u
#define SERR_INT_CMD_MASK     0x00000004u
#define SERR_INT_ARB_MASK     0x00000008u
#define SERR_INT_CMD_DETECTED 0x00010000u
#define SERR_INT_ARB_DETECTED 0x00020000u
#define SERR_INT_RSVDZ        0xfffc0000u
#define LOC_CMD               0x1u

/* A slot's dword: status (15:0), event latch (23:16, write 1 to clear), masks (31:24). */
#define SLOT_STATE_MASK  0x0003u
#define SLOT_STATE_EN    0x0002u
#define SLOT_PWR_LED     0x000cu
#define SLOT_PRSNT       0x0c00u
#define SLOT_PRSNT_EMPTY 0x0c00u
#define EV_PRESENCE      0x00010000u
#define EV_BUTTON        0x00040000u
#define EV_ALL           0x001f0000u
#define MASK_PRESENCE    0x01000000u
#define MASK_ISO_PFAULT  0x02000000u
#define MASK_BUTTON      0x04000000u
#define MASK_MRL         0x08000000u
#define MASK_CON_PFAULT  0x10000000u
#define MASK_MRL_SERR    0x20000000u
#define MASK_CON_SERR    0x40000000u
#define SLOT_RSVDZ       0x80e0f000u /* bits written as 0 */

/* Slot commands (SHPC 1.0 §4.1.9, Linux's SET_*): state, power LED, attention LED. */
#define CMD_SLOT_PWR     0x01
#define CMD_SLOT_ENABLE  0x02
#define CMD_SLOT_DISABLE 0x03
#define CMD_PWR_ON       0x04
#define CMD_PWR_BLINK    0x08
#define CMD_PWR_OFF      0x0c
#define CMD_ATTN_OFF     0x30

#define SHPC_CAP_DWORD_SELECT 2
#define SHPC_CAP_DWORD_DATA   4

#define STAT_ADD(h, f) __atomic_fetch_add(&(h)->st->f, 1, __ATOMIC_RELAXED)

static uint32_t srd(struct hp_port *p, unsigned off, unsigned len)
{
    return (uint32_t)vcpu_read(p->h->v, p->shpc_base + off, len);
}

static void swr(struct hp_port *p, unsigned off, uint32_t val, unsigned len)
{
    vcpu_write(p->h->v, p->shpc_base + off, val, len);
}

/* shpc_write_cmd: one command, its completion acknowledged (the controller is instant). */
static void shpc_cmd(struct hp_port *p, unsigned idx, uint8_t cmd)
{
    uint32_t serr;

    swr(p, SHPC_CMD, (uint32_t)cmd | (uint32_t)(idx + 1) << 8, 2); /* target: logical slot */
    serr = srd(p, SHPC_SERR_INT, 4);
    if (serr & SERR_INT_CMD_DETECTED)
        swr(p, SHPC_SERR_INT, (serr & ~(SERR_INT_RSVDZ | SERR_INT_ARB_DETECTED)), 4);
}

static uint8_t slot_dev(const struct hp_port *p, unsigned idx)
{
    return (uint8_t)(p->shpc_first + idx);
}

/* remove_board: release the device, then disable with the power LED off (QEMU removes it). */
static void disable_slot(struct hp_slot *s)
{
    struct hp_port *p = s->p;
    struct hp *h = p->h;

    s->state = HP_POWEROFF;
    firmware_release_slot(h->v, h->plat, p->sec, slot_dev(p, s->idx));
    hp_unbind_gone(h);
    shpc_cmd(p, s->idx, CMD_SLOT_DISABLE | CMD_PWR_OFF | CMD_ATTN_OFF);
    s->state = HP_OFF;
    STAT_ADD(h, ejects);
}

/* board_added: power, enable, configure, LED on. */
static void enable_slot(struct hp_slot *s)
{
    struct hp_port *p = s->p;
    struct hp *h = p->h;

    if ((srd(p, SHPC_SLOT(s->idx), 2) & SLOT_PRSNT) == SLOT_PRSNT_EMPTY) {
        shpc_cmd(p, s->idx, CMD_PWR_OFF);
        s->state = HP_OFF;
        return;
    }
    s->state = HP_POWERON;
    shpc_cmd(p, s->idx, CMD_SLOT_PWR);
    shpc_cmd(p, s->idx, CMD_SLOT_ENABLE | CMD_PWR_ON | CMD_ATTN_OFF);
    firmware_assign_slot(h->v, h->plat, p->sec, slot_dev(p, s->idx));
    shpc_cmd(p, s->idx, CMD_PWR_ON);
    s->state = HP_ON;
    STAT_ADD(h, hotadds);
    hp_scan(h);
}

static void button_work(struct vcpu *v, void *arg)
{
    struct hp_slot *s = arg;

    (void)v;
    s->timer = 0;
    if (!s->p->live)
        return;
    if (s->state == HP_BLINKINGOFF)
        disable_slot(s);
    else if (s->state == HP_BLINKINGON)
        enable_slot(s);
}

/* handle_button_press_event */
static void button_press(struct hp_slot *s)
{
    struct hp_port *p = s->p;
    struct hp *h = p->h;
    long id;

    switch (s->state) {
    case HP_OFF:
    case HP_ON:
        s->state = s->state == HP_ON ? HP_BLINKINGOFF : HP_BLINKINGON;
        shpc_cmd(p, s->idx, CMD_PWR_BLINK);
        shpc_cmd(p, s->idx, CMD_ATTN_OFF);
        id = vcpu_timer(h->v, h->eject_delay_ns, button_work, s);
        s->timer = id > 0 ? id : 0;
        if (id <= 0)
            button_work(h->v, s);
        break;
    case HP_BLINKINGOFF:
    case HP_BLINKINGON:
        hp_cancel_timer(h, &s->timer);
        s->state = s->state == HP_BLINKINGOFF ? HP_ON : HP_OFF;
        shpc_cmd(p, s->idx, s->state == HP_ON ? CMD_PWR_ON : CMD_PWR_OFF);
        shpc_cmd(p, s->idx, CMD_ATTN_OFF);
        break;
    default:
        break;
    }
}

/* shpc_isr */
void shpc_event(struct hp_port *p)
{
    uint32_t loc = srd(p, SHPC_INT_LOCATOR, 4), serr = srd(p, SHPC_SERR_INT, 4);

    if (!loc || loc == 0xffffffffu)
        return;
    serr &= ~(SERR_INT_RSVDZ | SERR_INT_CMD_DETECTED | SERR_INT_ARB_DETECTED);
    swr(p, SHPC_SERR_INT, serr | SERR_INT_GLOBAL_MASK, 4);
    if (loc & LOC_CMD)
        swr(p, SHPC_SERR_INT, serr | SERR_INT_GLOBAL_MASK | SERR_INT_CMD_DETECTED, 4);
    for (unsigned i = 0; i < p->shpc_nslots; i++) {
        struct hp_slot *s = &p->slots[i];
        uint32_t reg;

        if (!(loc & (1u << (i + 1))))
            continue;
        reg = srd(p, SHPC_SLOT(i), 4);
        swr(p, SHPC_SLOT(i), reg & ~SLOT_RSVDZ, 4); /* clear the latched events */
        STAT_ADD(p->h, slot_events);
        if (reg & EV_BUTTON)
            button_press(s);
        else if ((reg & EV_PRESENCE) && (reg & SLOT_PRSNT) == SLOT_PRSNT_EMPTY && s->state == HP_ON)
            disable_slot(s); /* surprise removal */
    }
    swr(p, SHPC_SERR_INT, serr & ~SERR_INT_GLOBAL_MASK, 4);
}

bool shpc_bind(struct hp_port *p, unsigned index)
{
    struct hp *h = p->h;
    uint32_t cfg, bar, serr;
    uint8_t cap = fw_find_cap(h->v, h->plat, p->bus, p->devfn, PCI_CAP_ID_SHPC, 0);
    uint64_t base;

    if (!cap)
        return false;
    /* The register set: BAR0 (64-bit on QEMU's bridges) plus the base offset (DWORD 0). */
    bar = fw_cfg_read(h->v, h->plat, p->bus, p->devfn, PCI_BASE_ADDRESS_0, 4);
    if (bar & PCI_BASE_ADDRESS_SPACE_IO)
        return false;
    base = bar & PCI_BASE_ADDRESS_MEM_MASK;
    if ((bar & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
        base |= (uint64_t)fw_cfg_read(h->v, h->plat, p->bus, p->devfn, PCI_BASE_ADDRESS_1, 4) << 32;
    if (!base)
        return false; /* the firmware left it unassigned: Linux would fail the probe too */
    fw_cfg_write(h->v, h->plat, p->bus, p->devfn, cap + SHPC_CAP_DWORD_SELECT, SHPC_BASE_OFFSET, 1);
    base += fw_cfg_read(h->v, h->plat, p->bus, p->devfn, cap + SHPC_CAP_DWORD_DATA, 4);
    p->cap = cap;
    p->shpc_base = base;
    cfg = srd(p, SHPC_SLOT_CONFIG, 4);
    p->shpc_nslots = (uint8_t)(cfg & 0x1f);
    p->shpc_first = (uint8_t)((cfg >> 8) & 0x1f);
    if (p->shpc_nslots > HP_SHPC_SLOTS)
        p->shpc_nslots = HP_SHPC_SLOTS;
    /* Mask everything and clear what is latched. */
    serr = srd(p, SHPC_SERR_INT, 4) &
           ~(SERR_INT_RSVDZ | SERR_INT_CMD_DETECTED | SERR_INT_ARB_DETECTED);
    swr(p, SHPC_SERR_INT,
        serr | SERR_INT_GLOBAL_MASK | SERR_INT_GLOBAL_SERR | SERR_INT_CMD_MASK | SERR_INT_ARB_MASK,
        4);
    for (unsigned i = 0; i < p->shpc_nslots; i++) {
        uint32_t reg = srd(p, SHPC_SLOT(i), 4);

        swr(p, SHPC_SLOT(i),
            (reg | MASK_PRESENCE | MASK_ISO_PFAULT | MASK_BUTTON | MASK_MRL | MASK_CON_PFAULT |
             MASK_MRL_SERR | MASK_CON_SERR) &
                ~SLOT_RSVDZ,
            4);
        p->slots[i] = (struct hp_slot){
            .p = p,
            .idx = (uint8_t)i,
            .state =
                (reg & SLOT_STATE_MASK) == SLOT_STATE_EN &&
                        fw_next_fn(h->v, h->plat, p->sec, PCI_DEVFN_OF(slot_dev(p, i), 0) - 1) >= 0
                    ? HP_ON
                    : HP_OFF,
        };
    }
    /* shpchp asks for MSI, else uses INTx (no MSI-X on an SHPC). */
    hp_setup_msi(p, index, false);
    /* Unmask: presence, button, MRL, connected fault; command completion; the global one. */
    for (unsigned i = 0; i < p->shpc_nslots; i++) {
        uint32_t reg = srd(p, SHPC_SLOT(i), 4);

        swr(p, SHPC_SLOT(i),
            reg & ~(SLOT_RSVDZ | EV_ALL | MASK_PRESENCE | MASK_BUTTON | MASK_MRL | MASK_CON_PFAULT |
                    MASK_MRL_SERR | MASK_CON_SERR),
            4);
    }
    serr = srd(p, SHPC_SERR_INT, 4) &
           ~(SERR_INT_RSVDZ | SERR_INT_CMD_DETECTED | SERR_INT_ARB_DETECTED);
    swr(p, SHPC_SERR_INT, (serr | SERR_INT_ARB_MASK) & ~(SERR_INT_GLOBAL_MASK | SERR_INT_CMD_MASK),
        4);
    return true;
}

void shpc_unbind(struct hp_port *p)
{
    struct hp *h = p->h;

    for (unsigned i = 0; i < HP_SHPC_SLOTS; i++)
        hp_cancel_timer(h, &p->slots[i].timer);
    if (!h->plat->buses[p->bus].present)
        return;
    swr(p, SHPC_SERR_INT,
        (srd(p, SHPC_SERR_INT, 4) &
         ~(SERR_INT_RSVDZ | SERR_INT_CMD_DETECTED | SERR_INT_ARB_DETECTED)) |
            SERR_INT_GLOBAL_MASK,
        4);
    hp_teardown_msi(p);
}
