/* SPDX-License-Identifier: MIT */
/*
 * acpi_pcihp.c — ACPI PCI hotplug registers and GPE0 block of `pc` (see acpi_pcihp.h).
 */
#include "acpi_pcihp.h"

#define LOAD(p)    __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define OR(p, v)   __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL)
#define AND(p, v)  __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL)
#define XCHG(p, v) __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL)

/* Re-evaluate the SCI: asserted while an enabled GPE status bit is set. */
static void update_sci(struct acpi_pcihp *hp)
{
    int level = (LOAD(&hp->gpe_sts) & LOAD(&hp->gpe_en)) != 0;

    if (XCHG(&hp->sci_level, level) != level && hp->ops && hp->ops->sci)
        hp->ops->sci(hp->opaque, level);
}

void acpi_pcihp_init(struct acpi_pcihp *hp, uint32_t removable, const struct acpi_pcihp_ops *ops,
                     void *opaque)
{
    *hp = (struct acpi_pcihp){.removable = removable, .ops = ops, .opaque = opaque};
}

static void event(struct acpi_pcihp *hp)
{
    OR(&hp->gpe_sts, ACPI_GPE_PCI_HOTPLUG);
    update_sci(hp);
}

void acpi_pcihp_plug(struct acpi_pcihp *hp, unsigned slot)
{
    OR(&hp->up, 1u << slot);
    event(hp);
}

void acpi_pcihp_unplug_request(struct acpi_pcihp *hp, unsigned slot)
{
    OR(&hp->down, 1u << slot);
    event(hp);
}

void acpi_pcihp_slot_gone(struct acpi_pcihp *hp, unsigned slot)
{
    AND(&hp->up, ~(1u << slot));
    AND(&hp->down, ~(1u << slot));
}

void acpi_pcihp_reset(struct acpi_pcihp *hp)
{
    __atomic_store_n(&hp->up, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&hp->down, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&hp->bus_sel, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&hp->gpe_sts, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&hp->gpe_en, 0, __ATOMIC_RELEASE);
    update_sci(hp);
}

static uint64_t pcihp_read(void *opaque, uint64_t off, unsigned len)
{
    struct acpi_pcihp *hp = opaque;

    if (len != 4)
        return 0; /* QEMU's hotplug registers take 4-byte accesses only */
    switch (off) {
    case ACPI_PCIHP_UP:
        return XCHG(&hp->up, 0); /* read-to-clear, as QEMU 7.2 on pc */
    case ACPI_PCIHP_DOWN:
        return LOAD(&hp->down);
    case ACPI_PCIHP_EJECT:
        return 0; /* hotplug features: none */
    case ACPI_PCIHP_RMV:
        return hp->removable;
    case ACPI_PCIHP_SEL:
        return LOAD(&hp->bus_sel);
    }
    return 0;
}

static void pcihp_write(void *opaque, uint64_t off, uint64_t val, unsigned len)
{
    struct acpi_pcihp *hp = opaque;
    uint32_t slots;

    if (len != 4)
        return;
    switch (off) {
    case ACPI_PCIHP_EJECT:
        if (LOAD(&hp->bus_sel) != 0)
            return; /* only bus 0 has this controller's slots */
        slots = (uint32_t)val & hp->removable;
        for (unsigned slot = 0; slot < 32; slot++) {
            if (!(slots & (1u << slot)))
                continue;
            acpi_pcihp_slot_gone(hp, slot);
            if (hp->ops && hp->ops->eject)
                hp->ops->eject(hp->opaque, slot);
        }
        break;
    case ACPI_PCIHP_SEL:
        __atomic_store_n(&hp->bus_sel, (uint32_t)val, __ATOMIC_RELEASE);
        break;
    }
}

const struct pci_region_ops acpi_pcihp_io_ops = {.read = pcihp_read, .write = pcihp_write};

/* GPE0: bytes 0-1 status (write-1-to-clear), 2-3 enable. Byte-wise, any access size. */
static uint64_t gpe_read(void *opaque, uint64_t off, unsigned len)
{
    struct acpi_pcihp *hp = opaque;
    uint32_t regs = (uint32_t)LOAD(&hp->gpe_sts) | (uint32_t)LOAD(&hp->gpe_en) << 16;
    uint64_t v = 0;

    for (unsigned i = 0; i < len && off + i < ACPI_GPE0_LEN; i++)
        v |= (uint64_t)((regs >> (8 * (off + i))) & 0xff) << (8 * i);
    return v;
}

static void gpe_write(void *opaque, uint64_t off, uint64_t val, unsigned len)
{
    struct acpi_pcihp *hp = opaque;

    for (unsigned i = 0; i < len && off + i < ACPI_GPE0_LEN; i++) {
        uint16_t byte = (uint16_t)((val >> (8 * i)) & 0xff);
        unsigned pos = (unsigned)(off + i);

        if (pos < 2)
            AND(&hp->gpe_sts, (uint16_t) ~(byte << (8 * pos)));
        else
            __atomic_store_n(&hp->gpe_en,
                             (uint16_t)((LOAD(&hp->gpe_en) & ~(0xff << (8 * (pos - 2)))) |
                                        byte << (8 * (pos - 2))),
                             __ATOMIC_RELEASE);
    }
    update_sci(hp);
}

const struct pci_region_ops acpi_gpe_io_ops = {.read = gpe_read, .write = gpe_write};
