/* SPDX-License-Identifier: MIT */
/*
 * guest_pciehp.c — the cooperative guest's PCI Express native hot-plug driver (Linux pciehp)
 * and the binding of hot-plug controllers. See guest_hp.h for the rules it follows.
 */
#include <errno.h>
#include <string.h>

#include "fw_internal.h"
#include "guest_hp.h"

#define MSI_ADDR_APIC0  0xfee00000u /* x86 MSI address, destination APIC ID 0 (SDM 10.11.1) */
#define MSI_VECTOR_BASE 0x40        /* vectors the guest gives its ports, one each */
#define MSI_VECTORS     0xa0        /* up to vector 0xdf */
#define EVENT_REREAD    8           /* MSI: re-read Slot Status until clear, at most this */
#define SLTSTA_EVENTS                                                                              \
    (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_CC |            \
     PCI_EXP_SLTSTA_DLLSC)
#define SLTCTL_NOTIFY_MASK                                                                         \
    (PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_ABPE | PCI_EXP_SLTCTL_PFDE | PCI_EXP_SLTCTL_MRLSCE |     \
     PCI_EXP_SLTCTL_CCIE | PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_DLLSCE)
#define EXP_FLAGS_IRQ_SHIFT 9
#define IND_NOOP            0xffff

#define STAT_ADD(h, f) __atomic_fetch_add(&(h)->st->f, 1, __ATOMIC_RELAXED)

static uint32_t prd(struct hp_port *p, uint16_t off, unsigned len)
{
    return fw_cfg_read(p->h->v, p->h->plat, p->bus, p->devfn, off, len);
}

static void pwr(struct hp_port *p, uint16_t off, uint32_t val, unsigned len)
{
    fw_cfg_write(p->h->v, p->h->plat, p->bus, p->devfn, off, val, len);
}

void hp_cancel_timer(struct hp *h, long *timer)
{
    if (*timer)
        vcpu_timer_cancel(h->v, *timer);
    *timer = 0;
}

/* ---- Slot Control commands (pcie_write_cmd) ---- */

static void slot_cmd(struct hp_port *p, uint16_t cmd, uint16_t mask)
{
    uint16_t ctl = (uint16_t)prd(p, p->cap + PCI_EXP_SLTCTL, 2);

    pwr(p, p->cap + PCI_EXP_SLTCTL, (uint16_t)((ctl & ~mask) | (cmd & mask)), 2);
    /* The port completes at once (QEMU): acknowledge it as the wait for completion does. */
    if (prd(p, p->cap + PCI_EXP_SLTSTA, 2) & PCI_EXP_SLTSTA_CC)
        pwr(p, p->cap + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_CC, 2);
}

/* pciehp_set_indicators: `pwr_ind`/`attn` a PIC/AIC value or IND_NOOP. */
static void set_indicators(struct hp_port *p, uint16_t pwr_ind, uint16_t attn)
{
    uint16_t cmd = 0, mask = 0;

    if ((p->sltcap & PCI_EXP_SLTCAP_PIP) && pwr_ind != IND_NOOP) {
        cmd |= pwr_ind;
        mask |= PCI_EXP_SLTCTL_PIC;
    }
    if ((p->sltcap & PCI_EXP_SLTCAP_AIP) && attn != IND_NOOP) {
        cmd |= attn;
        mask |= PCI_EXP_SLTCTL_AIC;
    }
    if (mask)
        slot_cmd(p, cmd, mask);
}

static bool card_present(struct hp_port *p)
{
    return prd(p, p->cap + PCI_EXP_SLTSTA, 2) & PCI_EXP_SLTSTA_PDS;
}

static bool link_active(struct hp_port *p)
{
    return prd(p, p->cap + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA;
}

/* ---- enabling and disabling the slot (pciehp_ctrl.c) ---- */

static void unbind(struct hp_port *p);

void hp_unbind_gone(struct hp *h)
{
    for (unsigned i = 0; i < HP_MAX_PORTS; i++) {
        struct hp_port *q = &h->ports[i];

        if (q->live && (!h->plat->buses[q->sec].present || !h->plat->buses[q->bus].present))
            unbind(q);
    }
}

/* remove_board: let go of what is behind the port, power off, indicator off. */
static void disable_slot(struct hp_port *p)
{
    struct hp *h = p->h;

    p->state = HP_POWEROFF;
    for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++)
        firmware_release_slot(h->v, h->plat, p->sec, slot);
    hp_unbind_gone(h);
    if (p->sltcap & PCI_EXP_SLTCAP_PCP)
        slot_cmd(p, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
    /* Linux waits 1 s here for the power to go; nothing in the model needs it. */
    set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_OFF, IND_NOOP);
    p->state = HP_OFF;
    STAT_ADD(h, ejects);
}

/* board_added: power on, configure device 0 of the secondary bus, indicator on. */
static void enable_slot(struct hp_port *p)
{
    struct hp *h = p->h;
    int r;

    p->state = HP_POWERON;
    if (p->sltcap & PCI_EXP_SLTCAP_PCP) {
        if (prd(p, p->cap + PCI_EXP_SLTSTA, 2) & PCI_EXP_SLTSTA_PFD)
            pwr(p, p->cap + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PFD, 2);
        slot_cmd(p, PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
    }
    set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_BLINK, IND_NOOP);
    /* Only device 0 lives behind a port (Linux's only_one_child). */
    r = firmware_assign_slot(h->v, h->plat, p->sec, 0);
    if (r == -ENODEV || (r == 0 && fw_next_fn(h->v, h->plat, p->sec, -1) < 0)) {
        /* No card after all (set_slot_off): power and indicator off, attention on. */
        if (p->sltcap & PCI_EXP_SLTCAP_PCP)
            slot_cmd(p, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
        set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_OFF, PCI_EXP_SLTCTL_ATTN_IND_ON);
        p->state = HP_OFF;
        return;
    }
    set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_ON, PCI_EXP_SLTCTL_ATTN_IND_OFF);
    p->state = HP_ON;
    STAT_ADD(h, hotadds);
    hp_scan(h); /* a port or bridge among them brings its own controller */
}

/* pciehp_handle_presence_or_link_change */
static void presence_change(struct hp_port *p)
{
    switch (p->state) {
    case HP_BLINKINGOFF:
        hp_cancel_timer(p->h, &p->timer);
        /* fall through */
    case HP_ON:
        disable_slot(p); /* surprise removal, or a card that may not be the same */
        break;
    default:
        break;
    }
    if (!card_present(p) && !link_active(p)) {
        if (p->state == HP_BLINKINGON) {
            hp_cancel_timer(p->h, &p->timer);
            set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_OFF, IND_NOOP);
            p->state = HP_OFF;
        }
        return;
    }
    if (p->state == HP_BLINKINGON)
        hp_cancel_timer(p->h, &p->timer);
    if (p->state == HP_BLINKINGON || p->state == HP_OFF)
        enable_slot(p);
}

/* pciehp_queue_pushbutton_work: the button's delay is over. */
static void button_work(struct vcpu *v, void *arg)
{
    struct hp_port *p = arg;

    (void)v;
    p->timer = 0;
    if (!p->live)
        return;
    if (p->state == HP_BLINKINGOFF)
        disable_slot(p);
    else if (p->state == HP_BLINKINGON)
        presence_change(p);
}

/* pciehp_handle_button_press */
static void button_press(struct hp_port *p)
{
    struct hp *h = p->h;
    long id;

    switch (p->state) {
    case HP_OFF:
    case HP_ON:
        p->state = p->state == HP_ON ? HP_BLINKINGOFF : HP_BLINKINGON;
        set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_BLINK, PCI_EXP_SLTCTL_ATTN_IND_OFF);
        id = vcpu_timer(h->v, h->eject_delay_ns, button_work, p);
        p->timer = id > 0 ? id : 0;
        if (id <= 0)
            button_work(h->v, p); /* no memory for a timer: act now */
        break;
    case HP_BLINKINGOFF:
    case HP_BLINKINGON:
        /* Pressed again within the delay: cancel. */
        hp_cancel_timer(h, &p->timer);
        if (p->state == HP_BLINKINGOFF) {
            p->state = HP_ON;
            set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_ON, PCI_EXP_SLTCTL_ATTN_IND_OFF);
        } else {
            p->state = HP_OFF;
            set_indicators(p, PCI_EXP_SLTCTL_PWR_IND_OFF, PCI_EXP_SLTCTL_ATTN_IND_OFF);
        }
        break;
    default:
        break;
    }
}

/* pciehp_isr + pciehp_ist */
static void pcie_event(struct hp_port *p)
{
    uint16_t events = 0;

    for (unsigned i = 0; i < EVENT_REREAD; i++) {
        uint16_t sta = (uint16_t)prd(p, p->cap + PCI_EXP_SLTSTA, 2);

        if (sta == 0xffff)
            return; /* the port is gone */
        sta &= SLTSTA_EVENTS;
        if (!sta)
            break;
        pwr(p, p->cap + PCI_EXP_SLTSTA, sta, 2);
        events |= sta;
        if (p->irq == HP_IRQ_INTX)
            break; /* level: the line follows */
    }
    events &= (uint16_t)~PCI_EXP_SLTSTA_CC;
    if (!events)
        return;
    STAT_ADD(p->h, slot_events);
    if (events & PCI_EXP_SLTSTA_ABP)
        button_press(p);
    if (events & (PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC))
        presence_change(p);
}

/* ---- interrupts ---- */

/* MSI-X entry `entry` of the port's table: its address in memory, 0 when the BAR is not
 * assigned. */
static uint64_t msix_entry_addr(struct hp_port *p, uint8_t msix, unsigned entry)
{
    uint32_t table = prd(p, msix + PCI_MSIX_TABLE, 4);
    unsigned bir = table & PCI_MSIX_TABLE_BIR;
    uint32_t lo;
    uint64_t base;

    if (bir > 1) /* a type 1 header has BARs 0 and 1 */
        return 0;
    lo = prd(p, PCI_BASE_ADDRESS_0 + 4 * bir, 4);
    if (lo & PCI_BASE_ADDRESS_SPACE_IO)
        return 0;
    base = lo & PCI_BASE_ADDRESS_MEM_MASK;
    if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 && bir == 0)
        base |= (uint64_t)prd(p, PCI_BASE_ADDRESS_1, 4) << 32;
    if (!base)
        return 0;
    return base + (table & PCI_MSIX_TABLE_OFFSET) + (uint64_t)entry * PCI_MSIX_ENTRY_SIZE;
}

void hp_setup_msi(struct hp_port *p, unsigned index, bool use_msix)
{
    struct hp *h = p->h;
    uint8_t msix = use_msix ? fw_find_cap(h->v, h->plat, p->bus, p->devfn, PCI_CAP_ID_MSIX, 0) : 0;
    uint8_t msi = fw_find_cap(h->v, h->plat, p->bus, p->devfn, PCI_CAP_ID_MSI, 0);
    unsigned vec = 0;
    uint64_t entry = 0;

    if (msix && !p->shpc)
        vec = (prd(p, p->cap + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_IRQ) >> EXP_FLAGS_IRQ_SHIFT;
    if (msix)
        entry = msix_entry_addr(p, msix, vec);
    p->msi_data = MSI_VECTOR_BASE + index;
    if (index >= MSI_VECTORS) {
        p->irq = HP_IRQ_INTX; /* out of vectors */
    } else if (entry) {
        uint16_t ctl = (uint16_t)prd(p, msix + PCI_MSIX_FLAGS, 2);

        vcpu_write(h->v, entry + PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR_APIC0, 4);
        vcpu_write(h->v, entry + PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
        vcpu_write(h->v, entry + PCI_MSIX_ENTRY_DATA, p->msi_data, 4);
        vcpu_write(h->v, entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
        pwr(p, msix + PCI_MSIX_FLAGS,
            (uint16_t)((ctl & ~PCI_MSIX_FLAGS_MASKALL) | PCI_MSIX_FLAGS_ENABLE), 2);
        p->irq = HP_IRQ_MSIX;
    } else if (msi) {
        uint16_t ctl = (uint16_t)prd(p, msi + PCI_MSI_FLAGS, 2);
        bool is64 = ctl & PCI_MSI_FLAGS_64BIT;

        pwr(p, msi + PCI_MSI_ADDRESS_LO, MSI_ADDR_APIC0, 4);
        if (is64)
            pwr(p, msi + PCI_MSI_ADDRESS_HI, 0, 4);
        pwr(p, msi + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), p->msi_data, 2);
        pwr(p, msi + PCI_MSI_FLAGS, (uint16_t)((ctl & ~PCI_MSI_FLAGS_QSIZE) | PCI_MSI_FLAGS_ENABLE),
            2);
        p->irq = HP_IRQ_MSI;
    } else {
        p->irq = HP_IRQ_INTX;
    }
    /* MSI replaces INTx (pci_intx_for_msi); INTx needs it enabled. */
    fw_cfg_maskw(h->v, h->plat, p->bus, p->devfn, PCI_COMMAND,
                 p->irq == HP_IRQ_INTX ? PCI_COMMAND_INTX_DISABLE : 0,
                 p->irq == HP_IRQ_INTX ? 0 : PCI_COMMAND_INTX_DISABLE);
}

void hp_teardown_msi(struct hp_port *p)
{
    struct hp *h = p->h;
    uint8_t cap;

    if (!h->plat->buses[p->bus].present)
        return; /* the bridge is gone */
    if (p->irq == HP_IRQ_MSIX &&
        (cap = fw_find_cap(h->v, h->plat, p->bus, p->devfn, PCI_CAP_ID_MSIX, 0)))
        fw_cfg_maskw(h->v, h->plat, p->bus, p->devfn, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
                     0);
    else if (p->irq == HP_IRQ_MSI &&
             (cap = fw_find_cap(h->v, h->plat, p->bus, p->devfn, PCI_CAP_ID_MSI, 0)))
        fw_cfg_maskw(h->v, h->plat, p->bus, p->devfn, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 0);
}

/* ---- binding ---- */

static bool pcie_bind(struct hp_port *p, unsigned index)
{
    struct hp *h = p->h;
    uint16_t cmd, flags;
    uint8_t type;

    p->cap = fw_find_cap(h->v, h->plat, p->bus, p->devfn, PCI_CAP_ID_EXP, 0);
    if (!p->cap)
        return false;
    flags = (uint16_t)prd(p, p->cap + PCI_EXP_FLAGS, 2);
    type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
    if ((type != PCI_EXP_TYPE_ROOT_PORT && type != PCI_EXP_TYPE_DOWNSTREAM) ||
        !(flags & PCI_EXP_FLAGS_SLOT))
        return false;
    p->sltcap = prd(p, p->cap + PCI_EXP_SLTCAP, 4);
    if (!(p->sltcap & PCI_EXP_SLTCAP_HPC))
        return false;
    /* Linux's port driver: MSI-X, else MSI, else INTx. */
    hp_setup_msi(p, index, true);
    /* pcie_init: clear what is left over (QEMU keeps events not set when written). */
    pwr(p, p->cap + PCI_EXP_SLTSTA,
        PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_MRLSC | PCI_EXP_SLTSTA_PDC |
            PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_DLLSC,
        2);
    /* pcie_enable_notification: link events always; the button if there is one, else
     * presence; interrupts and command completion. */
    cmd = PCI_EXP_SLTCTL_DLLSCE | PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE;
    cmd |= (p->sltcap & PCI_EXP_SLTCAP_ABP) ? PCI_EXP_SLTCTL_ABPE : PCI_EXP_SLTCTL_PDCE;
    slot_cmd(p, cmd, SLTCTL_NOTIFY_MASK);
    /* Devices the firmware enumerated behind it: the slot is on. */
    p->state = fw_next_fn(h->v, h->plat, p->sec, -1) >= 0 ? HP_ON : HP_OFF;
    return true;
}

static void unbind(struct hp_port *p)
{
    hp_cancel_timer(p->h, &p->timer);
    if (p->shpc)
        shpc_unbind(p);
    else
        hp_teardown_msi(p);
    p->live = false;
}

void hp_init(struct hp *h, struct vcpu *v, struct fw_platform *plat, uint64_t eject_delay_ns,
             bool acpi_bridges, struct guest_stats *st)
{
    memset(h, 0, sizeof(*h));
    h->v = v;
    h->plat = plat;
    h->eject_delay_ns = eject_delay_ns;
    h->acpi_bridges = acpi_bridges;
    h->st = st;
}

void hp_reset(struct hp *h)
{
    for (unsigned i = 0; i < HP_MAX_PORTS; i++) {
        struct hp_port *p = &h->ports[i];

        hp_cancel_timer(h, &p->timer);
        for (unsigned s = 0; s < HP_SHPC_SLOTS; s++)
            hp_cancel_timer(h, &p->slots[s].timer);
        p->live = false;
    }
}

/* pciehp_check_presence */
static void check_presence(struct hp_port *p)
{
    bool occupied = card_present(p) || link_active(p);

    if ((occupied && (p->state == HP_OFF || p->state == HP_BLINKINGON)) ||
        (!occupied && (p->state == HP_ON || p->state == HP_BLINKINGOFF)))
        presence_change(p);
}

void hp_scan(struct hp *h)
{
    struct fw_platform *plat = h->plat;

    for (unsigned i = 0; i < HP_MAX_PORTS; i++) {
        struct hp_port *p = &h->ports[i];
        const struct fw_bus *b = &plat->buses[p->sec];

        if (p->live && (!b->present || b->parent != p->bus || b->devfn != p->devfn))
            unbind(p);
    }
    for (unsigned sec = 1; sec < FW_BUSES; sec++) {
        const struct fw_bus *b = &plat->buses[sec];
        struct hp_port *p = NULL;
        bool bound = false;

        if (!b->present || (h->acpi_bridges && b->booted))
            continue;
        for (unsigned i = 0; i < HP_MAX_PORTS && !bound; i++)
            bound = h->ports[i].live && h->ports[i].sec == sec;
        for (unsigned i = 0; i < HP_MAX_PORTS && !bound && !p; i++)
            if (!h->ports[i].live)
                p = &h->ports[i];
        if (bound || !p)
            continue;
        *p = (struct hp_port){.h = h, .bus = b->parent, .devfn = b->devfn, .sec = (uint8_t)sec};
        if (pcie_bind(p, (unsigned)(p - h->ports))) {
            p->live = true;
            check_presence(p);
        } else if (shpc_bind(p, (unsigned)(p - h->ports))) {
            p->shpc = true;
            p->live = true;
        }
    }
}

static void port_work(struct vcpu *v, void *arg)
{
    struct hp_port *p = arg;

    (void)v;
    if (!p->live)
        return;
    if (p->shpc)
        shpc_event(p);
    else
        pcie_event(p);
}

void hp_irq(struct hp *h, const struct vcpu_irq *irq)
{
    for (unsigned i = 0; i < HP_MAX_PORTS; i++) {
        struct hp_port *p = &h->ports[i];

        if (!p->live)
            continue;
        if (irq->kind == VCPU_IRQ_MSI ? p->irq != HP_IRQ_INTX && irq->data == p->msi_data
                                      : p->irq == HP_IRQ_INTX && irq->level)
            vcpu_post(h->v, port_work, p);
    }
}
