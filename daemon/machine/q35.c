/* SPDX-License-Identifier: MIT */
/*
 * q35.c — the `q35` machine: MCH + ICH9, as QEMU 7.2's `-M q35 -nodefaults`.
 *
 * Root bus pcie.0 (PCI Express, no hot-plug: "Bus 'pcie.0' does not support hotplugging"):
 * 00:00.0 MCH host bridge, 00:1f.0 ICH9 LPC, 00:1f.2 ICH9 AHCI, 00:1f.3 ICH9 SMBus. Devices
 * are cold-plugged there with --device; root ports and bridges carry hot-plug (hotplug.c).
 *
 * MMCONFIG: the MCH's PCIEXBAR places the ECAM window (off after reset, 0xb0000000 and 256 MiB
 * once firmware enables it); the window is published to the vCPUs as the chipset's MMIO range.
 * Configuration mechanism #1 at 0xCF8/0xCFC works as on pc.
 *
 * Interrupts (QEMU's ich9_lpc_map_irq and ich9_lpc_set_irq): a pcie.0 function's INTx pin p in
 * slot s (after swizzling through the bridges above it) drives PIRQ (s + p) mod 4 + 4 (E-H) for
 * slots 0-24, PIRQ p (A-D, the D25IR-D31IR defaults) for slots 25-29 and 31, PIRQ p + 4 for
 * slot 30. PIRQ n drives IOAPIC input 16 + n, and the ISA IRQ its LPC route register names
 * (the OR of every PIRQ routed there) unless the route is disabled.
 */
#include <errno.h>
#include <stdlib.h>

#include "../hw/pci/ich9.h"
#include "../hw/pci/mch.h"
#include "machine_internal.h"

#define Q35_GSI_PIRQ_BASE 16 /* IOAPIC inputs 16-23: PIRQ A-H */
#define Q35_ISA_IRQS      16
#define Q35_SLOT_D25      25
#define Q35_SLOT_D30      30

struct q35 {
    struct machine *m;
    struct pci_device *lpc;
    int pirq_count[ICH9_LPC_NB_PIRQS]; /* asserted INTx per PIRQ */
    int isa_level[Q35_ISA_IRQS];       /* last level sent on each ISA IRQ by the PIRQ routes */
    pthread_mutex_t isa_lock;          /* orders ISA line updates from several vCPUs */
};

/* QEMU's q35 root bus has no PCI slots for other buses; these are its others, newest first. */
static const struct machine_foreign_bus q35_foreign_buses[] = {
    {"isa.0", "ISA"}, {"ide.5", "IDE"},   {"ide.4", "IDE"},
    {"ide.3", "IDE"}, {"ide.2", "IDE"},   {"ide.1", "IDE"},
    {"ide.0", "IDE"}, {"i2c", "i2c-bus"}, {0},
};

static unsigned pirq_of(unsigned slot, int pin)
{
    if (slot == Q35_SLOT_D30)
        return (unsigned)pin + 4;
    if (slot >= Q35_SLOT_D25)
        return (unsigned)pin; /* DxxIR default 0x3210: INTA-D to PIRQA-D */
    return (slot + (unsigned)pin) % 4 + 4;
}

static void q35_intx_route(const struct machine *m, unsigned slot, int pin,
                           struct machine_intx_link *out)
{
    const struct q35 *q = m->priv;
    unsigned pirq = pirq_of(slot, pin);

    *out = (struct machine_intx_link){.link = pirq,
                                      .irq = ich9_lpc_pirq_irq(q->lpc, pirq),
                                      .gsi = (int)(Q35_GSI_PIRQ_BASE + pirq)};
}

static void update_isa(struct q35 *q, int irq)
{
    int level = 0;

    pthread_mutex_lock(&q->isa_lock);
    for (unsigned p = 0; p < ICH9_LPC_NB_PIRQS; p++)
        if (ich9_lpc_pirq_irq(q->lpc, p) == irq &&
            __atomic_load_n(&q->pirq_count[p], __ATOMIC_ACQUIRE))
            level = 1;
    if (level != q->isa_level[irq]) {
        q->isa_level[irq] = level;
        machine_irq_set(q->m, (unsigned)irq, level);
    }
    pthread_mutex_unlock(&q->isa_lock);
}

static void q35_intx_change(void *opaque, struct pci_device *d, int pin, int change)
{
    struct q35 *q = opaque;
    unsigned pirq = pirq_of(PCI_SLOT_OF(d->devfn), pin);
    int before = __atomic_fetch_add(&q->pirq_count[pirq], change, __ATOMIC_ACQ_REL);
    int after = before + change;
    int irq;

    if ((before == 0) == (after == 0))
        return;
    machine_irq_set(q->m, Q35_GSI_PIRQ_BASE + pirq, after != 0);
    irq = ich9_lpc_pirq_irq(q->lpc, pirq);
    if (irq >= 0)
        update_isa(q, irq);
}

static void q35_map_changed(void *opaque)
{
    struct q35 *q = opaque;

    if (q->m->plat && q->m->plat->map_changed)
        q->m->plat->map_changed(q->m->plat_opaque);
}

static void q35_msi(void *opaque, struct pci_device *d, uint64_t addr, uint32_t data)
{
    struct q35 *q = opaque;

    (void)d;
    if (q->m->plat && q->m->plat->msi)
        q->m->plat->msi(q->m->plat_opaque, addr, data);
}

static void q35_eject(void *opaque, struct pci_bus *bus, unsigned slot)
{
    struct q35 *q = opaque;

    if (q->m->plat && q->m->plat->eject)
        q->m->plat->eject(q->m->plat_opaque, bus, slot);
}

static const struct pci_bus_ops q35_bus_ops = {
    .map_changed = q35_map_changed,
    .intx_change = q35_intx_change,
    .msi_deliver = q35_msi,
    .eject = q35_eject,
};

/* The MCH moved the MMCONFIG window (vCPU thread, MCH lock held): publish it. */
static void q35_ecam_changed(void *opaque, bool enabled, uint64_t base, uint64_t size)
{
    struct q35 *q = opaque;

    machine_ecam_set(q->m, enabled, base, size);
    q35_map_changed(q);
}

static int q35_init(struct machine *m)
{
    struct q35 *q = calloc(1, sizeof(*q));
    struct pci_bus *root = machine_root_bus(m);
    struct mch_ecam_ops ops;
    struct pci_device *d;
    int r;

    if (!q)
        return -ENOMEM;
    q->m = m;
    pthread_mutex_init(&q->isa_lock, NULL);
    m->priv = q;
    ops = (struct mch_ecam_ops){.ecam_changed = q35_ecam_changed, .opaque = q};
    r = mch_new(&ops, &d);
    if (r == 0)
        r = machine_add_builtin(m, d, PCI_DEVFN_OF(0, 0));
    if (r == 0)
        r = ich9_lpc_new(&d);
    if (r == 0) {
        q->lpc = d;
        r = machine_add_builtin(m, d, PCI_DEVFN_OF(0x1f, 0));
    }
    if (r == 0)
        r = ich9_ahci_new(&d);
    if (r == 0)
        r = machine_add_builtin(m, d, PCI_DEVFN_OF(0x1f, 2));
    if (r == 0)
        r = ich9_smb_new(&d);
    if (r == 0)
        r = machine_add_builtin(m, d, PCI_DEVFN_OF(0x1f, 3));
    if (r < 0)
        return r;
    root->ops = &q35_bus_ops;
    root->opaque = q;
    return 0;
}

static void q35_fini(struct machine *m)
{
    struct q35 *q = m->priv;

    if (q)
        pthread_mutex_destroy(&q->isa_lock);
    free(q);
    m->priv = NULL;
}

#define Q35_MACHINE(_name, _alias, _version, _compat)                                              \
    {                                                                                              \
        .name = _name, .alias = _alias, .desc = "Standard PC (Q35 + ICH9, 2009)", .family = "q35", \
        .version = _version, .is_default = false, .compat = _compat, .root_bus = "pcie.0",         \
        .root_express = true, .root_hotpluggable = false, .foreign_buses = q35_foreign_buses,      \
        .conf1 = true, .init = q35_init, .fini = q35_fini, .intx_route = q35_intx_route,           \
        .pirq_links = ICH9_LPC_NB_PIRQS, .pci_hole_base = 0xc0000000ULL, .io_low_end = 0x10000,    \
    }

const struct machine_type machine_q35_1_1 =
    Q35_MACHINE("pcid-q35-1.1", "q35", "1.1", machine_compat_none);
const struct machine_type machine_q35_1_0 =
    Q35_MACHINE("pcid-q35-1.0", NULL, "1.0", machine_compat_1_0);
