/* SPDX-License-Identifier: MIT */
/*
 * pcie.c — the PCI Express capability, a port's slot and link, ACS (PCIe 4.0 §7.5.3, §7.7.8),
 * with QEMU 7.2's values, masks and side effects. See pcie.h.
 */
#include "pcie.h"

#include <errno.h>

#include "msi.h"
#include "msix.h"
#include "pci_cap.h"

/* Bits linux/pci_regs.h leaves unnamed (PCIe 4.0 §7.5.3.3, §7.5.3.15-16, §7.5.3.18-19). */
#define EXP_LNKCAP_MLW_SHIFT  4
#define EXP_LNKCAP_PN_SHIFT   24
#define EXP_SLTCAP_PSN_SHIFT  19
#define EXP_DEVCAP2_EFF       0x00100000 /* Extended Fmt Field Supported */
#define EXP_DEVCAP2_EETLPP    0x00200000 /* End-End TLP Prefix Supported */
#define EXP_DEVCTL2_EETLPPB   0x8000     /* End-End TLP Prefix Blocking */
#define EXP_LNKCTL2_TLS       0x000f     /* Target Link Speed */
#define EXP_LNKCTL_CCC        0x0040     /* Common Clock Configuration */
#define EXP_LNKCTL_ES         0x0080     /* Extended Synch */
#define EXP_LNKCAP2_SLS_2_5GB 0x00000002
#define EXP_LNKCAP2_SLS_5_0GB 0x00000004
#define EXP_LNKCAP2_SLS_8_0GB 0x00000008
#define EXP_LNKCAP2_SLS_16GB  0x00000010
#define EXP_FLAGS_VER2        0x0002
#define EXP_FLAGS_TYPE_SHIFT  4
#define EXP_FLAGS_IRQ_SHIFT   9

/* ACS capability bits (PCIe 4.0 §7.7.8.2). */
#define ACS_SV 0x0001
#define ACS_TB 0x0002
#define ACS_RR 0x0004
#define ACS_CR 0x0008
#define ACS_UF 0x0010
#define ACS_DT 0x0040

/* The events QEMU's slot reports (ABP, PDC, CC): the same bits in Slot Control and Status. */
#define HP_EV_SUPPORTED (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_CC)
/* Slot Status events a Slot Status write may not clear unless they were set (QEMU). */
#define SLOT_EVENTS                                                                                \
    (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_MRLSC | PCI_EXP_SLTSTA_PDC |         \
     PCI_EXP_SLTSTA_CC)

static uint8_t *excap(struct pci_device *d, unsigned reg)
{
    return d->config + d->exp_cap + reg;
}

static uint16_t get16(struct pci_device *d, unsigned reg)
{
    return (uint16_t)le_load(excap(d, reg), 2);
}

static void set16(struct pci_device *d, unsigned reg, uint16_t v)
{
    le_store(excap(d, reg), v, 2);
}

static void set_mask16(struct pci_device *d, unsigned reg, uint16_t m)
{
    set16(d, reg, get16(d, reg) | m);
}

static void clear_mask16(struct pci_device *d, unsigned reg, uint16_t m)
{
    set16(d, reg, get16(d, reg) & (uint16_t)~m);
}

int pcie_cap_init(struct pci_device *d, uint8_t offset, uint8_t type, uint8_t port)
{
    int pos;

    if (!pci_dev_is_express(d))
        return -EINVAL;
    pos = pci_cap_add(d, PCI_CAP_ID_EXP, offset, PCI_EXP_VER2_SIZEOF);
    if (pos < 0)
        return pos;
    d->exp_cap = (uint8_t)pos;
    le_set16(d->config + pos + PCI_EXP_FLAGS,
             (uint16_t)((type << EXP_FLAGS_TYPE_SHIFT) & PCI_EXP_FLAGS_TYPE) | EXP_FLAGS_VER2);
    le_set32(d->config + pos + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
    le_set32(d->config + pos + PCI_EXP_LNKCAP, (uint32_t)port << EXP_LNKCAP_PN_SHIFT |
                                                   PCI_EXP_LNKCAP_ASPM_L0S |
                                                   1u << EXP_LNKCAP_MLW_SHIFT | PCIE_LINK_2_5GT);
    le_set16(d->config + pos + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_NLW_X1 | PCI_EXP_LNKSTA_CLS_2_5GB);
    /* Link status changes across migration on hardware too: not checked on load. */
    le_set16(d->cmask + pos + PCI_EXP_LNKSTA, 0);
    le_set32(d->config + pos + PCI_EXP_DEVCAP2, EXP_DEVCAP2_EFF | EXP_DEVCAP2_EETLPP);
    le_set16(d->wmask + pos + PCI_EXP_DEVCTL2, EXP_DEVCTL2_EETLPPB);
    /* An empty extended list reads as a null header, which the guest may not change. */
    le_set32(d->wmask + PCI_EXT_CAP_START, 0);
    return pos;
}

void pcie_cap_extcap_init_off(struct pci_device *d)
{
    if (!d->exp_cap || d->config_size < PCIE_CONFIG_SPACE_SIZE || d->used[PCI_EXT_CAP_START])
        return;
    le_set32(d->wmask + PCI_EXT_CAP_START, 0xffffffffu);
}

int pcie_endpoint_cap_init(struct pci_device *d, uint8_t offset, bool on_root_bus)
{
    return pcie_cap_init(d, offset, on_root_bus ? PCI_EXP_TYPE_RC_END : PCI_EXP_TYPE_ENDPOINT, 0);
}

void pcie_cap_deverr_init(struct pci_device *d)
{
    le_set32(excap(d, PCI_EXP_DEVCAP), le_get32(excap(d, PCI_EXP_DEVCAP)) | PCI_EXP_DEVCAP_RBER);
    le_set16(d->wmask + d->exp_cap + PCI_EXP_DEVCTL,
             le_get16(d->wmask + d->exp_cap + PCI_EXP_DEVCTL) | PCI_EXP_DEVCTL_CERE |
                 PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE);
    le_set16(d->w1cmask + d->exp_cap + PCI_EXP_DEVSTA,
             le_get16(d->w1cmask + d->exp_cap + PCI_EXP_DEVSTA) | PCI_EXP_DEVSTA_CED |
                 PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD);
}

void pcie_cap_deverr_reset(struct pci_device *d)
{
    clear_mask16(d, PCI_EXP_DEVCTL,
                 PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE |
                     PCI_EXP_DEVCTL_URRE);
}

void pcie_cap_lnkctl_init(struct pci_device *d)
{
    le_set16(d->wmask + d->exp_cap + PCI_EXP_LNKCTL,
             le_get16(d->wmask + d->exp_cap + PCI_EXP_LNKCTL) | EXP_LNKCTL_CCC | EXP_LNKCTL_ES);
}

void pcie_cap_lnkctl_reset(struct pci_device *d)
{
    clear_mask16(d, PCI_EXP_LNKCTL, EXP_LNKCTL_CCC | EXP_LNKCTL_ES);
}

void pcie_cap_flr_init(struct pci_device *d)
{
    le_set32(excap(d, PCI_EXP_DEVCAP), le_get32(excap(d, PCI_EXP_DEVCAP)) | PCI_EXP_DEVCAP_FLR);
    /* Writable so that a 1 can be seen; pcie_cap_flr_write_config clears it again. */
    le_set16(d->wmask + d->exp_cap + PCI_EXP_DEVCTL,
             le_get16(d->wmask + d->exp_cap + PCI_EXP_DEVCTL) | PCI_EXP_DEVCTL_BCR_FLR);
}

void pcie_cap_flr_write_config(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    (void)offset, (void)value, (void)len;
    if (!d->exp_cap || !(get16(d, PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_BCR_FLR))
        return;
    /* The reset sees the bit set (as QEMU's handler can), then it reads 0. */
    pci_dev_reset(d);
    clear_mask16(d, PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR);
}

void pcie_cap_arifwd_init(struct pci_device *d)
{
    le_set32(excap(d, PCI_EXP_DEVCAP2), le_get32(excap(d, PCI_EXP_DEVCAP2)) | PCI_EXP_DEVCAP2_ARI);
    le_set16(d->wmask + d->exp_cap + PCI_EXP_DEVCTL2,
             le_get16(d->wmask + d->exp_cap + PCI_EXP_DEVCTL2) | PCI_EXP_DEVCTL2_ARI);
}

void pcie_cap_arifwd_reset(struct pci_device *d)
{
    clear_mask16(d, PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_ARI);
}

void pcie_cap_root_init(struct pci_device *d)
{
    le_set16(d->wmask + d->exp_cap + PCI_EXP_RTCTL,
             PCI_EXP_RTCTL_SECEE | PCI_EXP_RTCTL_SENFEE | PCI_EXP_RTCTL_SEFEE);
}

void pcie_cap_root_reset(struct pci_device *d)
{
    set16(d, PCI_EXP_RTCTL, 0);
}

int pcie_acs_init(struct pci_device *d, uint16_t offset, bool downstream)
{
    uint16_t bits = downstream ? ACS_SV | ACS_TB | ACS_RR | ACS_CR | ACS_UF | ACS_DT : 0;
    int r = pci_ext_cap_add(d, PCI_EXT_CAP_ID_ACS, PCI_ACS_VER, offset, PCI_ACS_SIZEOF);

    if (r < 0)
        return r;
    d->acs_cap = offset;
    le_set16(d->config + offset + PCI_ACS_CAP, bits);
    le_set16(d->wmask + offset + PCI_ACS_CTRL, bits);
    return r;
}

void pcie_acs_reset(struct pci_device *d)
{
    if (d->acs_cap)
        le_store(d->config + d->acs_cap + PCI_ACS_CTRL, 0, 2);
}

/* ---- the slot ------------------------------------------------------------------------------ */

void pcie_slot_fill_link(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;
    uint32_t cap = le_get32(excap(d, PCI_EXP_LNKCAP));

    cap &= ~(uint32_t)(PCI_EXP_LNKCAP_MLW | PCI_EXP_LNKCAP_SLS);
    cap |= (uint32_t)s->width << EXP_LNKCAP_MLW_SHIFT | s->speed;
    /* Link bandwidth notification: required of ports wider than x1 or faster than 2.5 GT/s. */
    if (s->width > 1 || s->speed > PCIE_LINK_2_5GT)
        cap |= PCI_EXP_LNKCAP_LBNC;
    if (s->speed > PCIE_LINK_2_5GT) {
        /* Data Link Layer Active reporting; the active bit itself comes with a device. */
        cap |= PCI_EXP_LNKCAP_DLLLARC;
        le_set16(excap(d, PCI_EXP_LNKCTL2),
                 (uint16_t)((le_get16(excap(d, PCI_EXP_LNKCTL2)) & ~EXP_LNKCTL2_TLS) | s->speed));
    }
    le_set32(excap(d, PCI_EXP_LNKCAP), cap);
    if (s->speed > PCIE_LINK_5GT) {
        uint32_t cap2 = EXP_LNKCAP2_SLS_2_5GB | EXP_LNKCAP2_SLS_5_0GB | EXP_LNKCAP2_SLS_8_0GB;

        if (s->speed > PCIE_LINK_8GT)
            cap2 |= EXP_LNKCAP2_SLS_16GB;
        le_set32(excap(d, PCI_EXP_LNKCAP2), cap2);
    }
}

void pcie_slot_init(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;
    uint32_t cap;
    uint16_t wm;

    le_set16(excap(d, PCI_EXP_FLAGS), le_get16(excap(d, PCI_EXP_FLAGS)) | PCI_EXP_FLAGS_SLOT);
    cap = le_get32(excap(d, PCI_EXP_SLTCAP)) & PCI_EXP_SLTCAP_PSN;
    cap |= (uint32_t)s->slot << EXP_SLTCAP_PSN_SHIFT | PCI_EXP_SLTCAP_EIP | PCI_EXP_SLTCAP_PIP |
           PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_ABP;
    if (s->hotplug && s->native_hotplug)
        cap |= PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC;
    wm = PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC | PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE |
         PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_ABPE;
    if (s->pcp) {
        cap |= PCI_EXP_SLTCAP_PCP;
        clear_mask16(d, PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
        wm |= PCI_EXP_SLTCTL_PCC;
    }
    le_set32(excap(d, PCI_EXP_SLTCAP), cap);
    set16(d, PCI_EXP_SLTCTL,
          (uint16_t)((get16(d, PCI_EXP_SLTCTL) & ~(PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC)) |
                     PCI_EXP_SLTCTL_PWR_IND_OFF | PCI_EXP_SLTCTL_ATTN_IND_OFF));
    /* EIC is writable so that a 1 is seen; the write handler clears it again. */
    le_set16(d->wmask + d->exp_cap + PCI_EXP_SLTCTL, wm | PCI_EXP_SLTCTL_EIC);
    le_set16(d->w1cmask + d->exp_cap + PCI_EXP_SLTSTA, HP_EV_SUPPORTED);
    s->hpev_notified = false;
}

/* QEMU's hotplug_event_update_event_status. */
static void event_update(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;
    uint16_t ctl = get16(d, PCI_EXP_SLTCTL), sta = get16(d, PCI_EXP_SLTSTA);

    s->hpev_notified = (ctl & PCI_EXP_SLTCTL_HPIE) && (sta & ctl & HP_EV_SUPPORTED);
}

static unsigned exp_vector(struct pci_device *d)
{
    return (get16(d, PCI_EXP_FLAGS) & PCI_EXP_FLAGS_IRQ) >> EXP_FLAGS_IRQ_SHIFT;
}

/* QEMU's hotplug_event_notify: an interrupt on a change of the notified state. */
static void event_notify(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;
    bool prev = s->hpev_notified;

    event_update(s);
    if (prev == s->hpev_notified)
        return;
    if (msix_enabled(d))
        msix_notify(d, (uint16_t)exp_vector(d));
    else if (msi_enabled(d))
        msi_notify(d, exp_vector(d));
    else
        pci_dev_set_irq(d, 0, s->hpev_notified);
}

static void event_clear(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;

    event_update(s);
    if (!msix_enabled(d) && !msi_enabled(d) && !s->hpev_notified)
        pci_dev_set_irq(d, 0, 0);
}

/* QEMU's pcie_cap_slot_event: set the events; notify unless they were all set already. */
static void slot_event(struct pcie_slot *s, uint16_t events)
{
    struct pci_device *d = &s->br.pci;
    uint16_t old = get16(d, PCI_EXP_SLTSTA);

    set16(d, PCI_EXP_SLTSTA, old | events);
    if ((old & events) == events)
        return;
    event_notify(s);
}

void pcie_slot_update_power(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;
    struct pci_bus *sec = s->br.sec;
    bool power = true;

    if (le_get32(excap(d, PCI_EXP_SLTCAP)) & PCI_EXP_SLTCAP_PCP)
        power = (get16(d, PCI_EXP_SLTCTL) & PCI_EXP_SLTCTL_PCC) == PCI_EXP_SLTCTL_PWR_ON;
    for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        struct pci_device *f = __atomic_load_n(&sec->devices[devfn], __ATOMIC_ACQUIRE);
        bool changed;

        if (!f || pci_dev_powered(f) == power)
            continue;
        pthread_mutex_lock(&f->lock);
        changed = pci_dev_set_power(f, power);
        pthread_mutex_unlock(&f->lock);
        if (changed)
            pci_bus_map_changed(sec);
    }
}

void pcie_slot_enable_power(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;

    if (le_get32(excap(d, PCI_EXP_SLTCAP)) & PCI_EXP_SLTCAP_PCP)
        clear_mask16(d, PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
}

void pcie_slot_reset(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;

    clear_mask16(d, PCI_EXP_SLTCTL,
                 PCI_EXP_SLTCTL_EIC | PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC |
                     PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE | PCI_EXP_SLTCTL_PDCE |
                     PCI_EXP_SLTCTL_ABPE);
    set_mask16(d, PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_ATTN_IND_OFF);
    if (le_get32(excap(d, PCI_EXP_SLTCAP)) & PCI_EXP_SLTCAP_PCP) {
        /* Downstream ports enforce device number 0 (QEMU). */
        bool populated = __atomic_load_n(&s->br.sec->devices[0], __ATOMIC_ACQUIRE) != NULL;

        if (populated)
            clear_mask16(d, PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
        else
            set_mask16(d, PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
        set_mask16(d, PCI_EXP_SLTCTL,
                   populated ? PCI_EXP_SLTCTL_PWR_IND_ON : PCI_EXP_SLTCTL_PWR_IND_OFF);
    }
    clear_mask16(d, PCI_EXP_SLTSTA,
                 PCI_EXP_SLTSTA_EIS | PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_ABP);
    event_update(s);
    pcie_slot_update_power(s);
}

static bool powered_off(uint16_t ctl)
{
    return (ctl & PCI_EXP_SLTCTL_PCC) == PCI_EXP_SLTCTL_PWR_OFF &&
           (ctl & PCI_EXP_SLTCTL_PIC) == PCI_EXP_SLTCTL_PWR_IND_OFF;
}

/* Ask the machine to remove every function below the port (it posts to the control plane). */
static void detach_all(struct pcie_slot *s)
{
    struct pci_bus *sec = s->br.sec;

    for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++)
        if (pci_bus_slot_occupied(sec, slot))
            pci_bus_eject(sec, slot);
}

void pcie_slot_detached(struct pcie_slot *s)
{
    struct pci_device *d = &s->br.pci;

    clear_mask16(d, PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS);
    clear_mask16(d, PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA);
    set_mask16(d, PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDC);
}

void pcie_slot_write_config(struct pcie_slot *s, uint16_t old_ctl, uint16_t old_sta,
                            uint32_t offset, uint32_t value, unsigned len)
{
    struct pci_device *d = &s->br.pci;
    uint32_t pos = d->exp_cap;
    uint16_t sta = get16(d, PCI_EXP_SLTSTA), ctl;

    if (ranges_overlap(offset, len, pos + PCI_EXP_SLTSTA, 2)) {
        /* Guests clear every bit at init, racing with events: keep events that were not set
         * before the write. QEMU tests the raw written value, whatever its offset. */
        if (value & ~old_sta & SLOT_EVENTS) {
            sta = (uint16_t)((sta & ~SLOT_EVENTS) | (old_sta & SLOT_EVENTS));
            set16(d, PCI_EXP_SLTSTA, sta);
        }
        event_clear(s);
    }
    if (!ranges_overlap(offset, len, pos + PCI_EXP_SLTCTL, 2))
        return;

    if (get16(d, PCI_EXP_SLTCTL) & PCI_EXP_SLTCTL_EIC) {
        clear_mask16(d, PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_EIC);
        sta ^= PCI_EXP_SLTSTA_EIS;
        set16(d, PCI_EXP_SLTSTA, sta);
    }
    ctl = get16(d, PCI_EXP_SLTCTL);
    /* A populated slot turned off (power and indicator): its devices may go. Not when it was
     * off already: guests rewrite the control of an off slot before powering it on. */
    if ((sta & PCI_EXP_SLTSTA_PDS) && powered_off(ctl) && !powered_off(old_ctl)) {
        detach_all(s);
        pcie_slot_detached(s);
        pcie_port_sync_link(d); /* QEMU reads the link of an empty slot now */
    }
    pcie_slot_update_power(s);
    event_notify(s);
    /* PCIe 4.0 §6.7.3.2: the command completes at once. */
    slot_event(s, PCI_EXP_SLTSTA_CC);
}

void pcie_slot_plug(struct pcie_slot *s, struct pci_device *dev, bool hotplugged)
{
    struct pci_device *d = &s->br.pci;

    if (!hotplugged || pci_bus_function0(dev->bus, dev->devfn)) {
        set_mask16(d, PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS);
        /* QEMU: the function's x-pcie-lnksta-dllla, or the port's DLL Active reporting. */
        if (!dev->no_lnksta_dllla || (le_get32(excap(d, PCI_EXP_LNKCAP)) & PCI_EXP_LNKCAP_DLLLARC))
            set_mask16(d, PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA);
        if (hotplugged)
            slot_event(s, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_ABP);
        pcie_slot_update_power(s);
    }
}

enum pcie_unplug pcie_slot_unplug_request(struct pcie_slot *s, struct pci_device *dev)
{
    struct pci_device *d = &s->br.pci;
    uint16_t ctl = get16(d, PCI_EXP_SLTCTL);

    if ((ctl & PCI_EXP_SLTCTL_PIC) == PCI_EXP_SLTCTL_PWR_IND_BLINK)
        return PCIE_UNPLUG_BUSY;
    /* A multifunction hot-add cancelled before function 0 came: never exposed, goes now. */
    if (dev->devfn && !__atomic_load_n(&dev->bus->devices[0], __ATOMIC_ACQUIRE))
        return PCIE_UNPLUG_FUNCTION;
    if (powered_off(ctl)) {
        /* The slot is off: no round trip to the guest. */
        pcie_slot_detached(s);
        event_notify(s);
        clear_mask16(d, PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_ABP);
        return PCIE_UNPLUG_SLOT;
    }
    slot_event(s, PCI_EXP_SLTSTA_ABP);
    return PCIE_UNPLUG_PENDING;
}

void pcie_port_sync_link(struct pci_device *port)
{
    struct pci_bus *sec = port->bridge ? port->bridge->sec : NULL;
    struct pci_device *t = sec ? __atomic_load_n(&sec->devices[0], __ATOMIC_ACQUIRE) : NULL;

    /* A device the guest ejected is gone for it, though the control plane has yet to remove
     * it (QEMU detaches it within the write). */
    if (t && (__atomic_load_n(&sec->ejecting, __ATOMIC_ACQUIRE) & 1u))
        t = NULL;
    uint16_t cap = (uint16_t)le_get32(excap(port, PCI_EXP_LNKCAP)), sta;

    if (!t || !t->exp_cap) {
        sta = cap;
    } else {
        sta = (uint16_t)le_load(t->config + t->exp_cap + PCI_EXP_LNKSTA, 2);
        if ((sta & PCI_EXP_LNKSTA_NLW) > (cap & PCI_EXP_LNKCAP_MLW))
            sta = (uint16_t)((sta & ~PCI_EXP_LNKSTA_NLW) | (cap & PCI_EXP_LNKCAP_MLW));
        else if (!(sta & PCI_EXP_LNKSTA_NLW))
            sta |= PCI_EXP_LNKSTA_NLW_X1;
        if ((sta & PCI_EXP_LNKSTA_CLS) > (cap & PCI_EXP_LNKCAP_SLS))
            sta = (uint16_t)((sta & ~PCI_EXP_LNKSTA_CLS) | (cap & PCI_EXP_LNKCAP_SLS));
        else if (!(sta & PCI_EXP_LNKSTA_CLS))
            sta |= PCI_EXP_LNKSTA_CLS_2_5GB;
    }
    set16(port, PCI_EXP_LNKSTA,
          (uint16_t)((get16(port, PCI_EXP_LNKSTA) & ~(PCI_EXP_LNKSTA_CLS | PCI_EXP_LNKSTA_NLW)) |
                     (sta & (PCI_EXP_LNKSTA_CLS | PCI_EXP_LNKSTA_NLW))));
}
