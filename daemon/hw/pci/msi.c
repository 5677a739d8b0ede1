/* SPDX-License-Identifier: MIT */
/*
 * msi.c — the MSI capability (PCI 3.0 §6.8.1), QEMU 7.2's msi.c behaviour. See msi.h.
 */
#include "msi.h"

#include <errno.h>

#include "pci_bus.h"
#include "pci_cap.h"

#define MSI_ADDRESS_LO_MASK 0xfffffffcu /* PCI 3.0 §6.8.1.4: dword aligned */

static uint16_t flags(const struct pci_device *d)
{
    return (uint16_t)le_load(d->config + d->msi_cap + PCI_MSI_FLAGS, 2);
}

/* Offsets inside the capability (PCI 3.0 figure 6-9). */
static unsigned data_off(bool is64)
{
    return is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
}

static unsigned mask_off(bool is64)
{
    return is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
}

static unsigned pending_off(bool is64)
{
    return is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32;
}

static unsigned cap_size(uint16_t f)
{
    bool is64 = f & PCI_MSI_FLAGS_64BIT;

    if (f & PCI_MSI_FLAGS_MASKBIT)
        return pending_off(is64) + 4;
    return data_off(is64) + 2;
}

/* Vectors enabled by Multiple Message Enable. */
static unsigned nr_vectors(uint16_t f)
{
    return 1u << ((f & PCI_MSI_FLAGS_QSIZE) >> 4);
}

int msi_init(struct pci_device *d, uint8_t offset, unsigned nvectors, bool msi64bit,
             bool per_vector_mask)
{
    uint16_t f;
    unsigned order = 0;
    int cap;

    if (!nvectors || nvectors > PCI_MSI_VECTORS_MAX || !is_power_of_2(nvectors))
        return -EINVAL;
    while ((1u << order) < nvectors)
        order++;
    f = (uint16_t)(order << 1); /* Multiple Message Capable, QMASK bits 3:1 */
    if (msi64bit)
        f |= PCI_MSI_FLAGS_64BIT;
    if (per_vector_mask)
        f |= PCI_MSI_FLAGS_MASKBIT;

    cap = pci_cap_add(d, PCI_CAP_ID_MSI, offset, (uint8_t)cap_size(f));
    if (cap < 0)
        return cap;
    d->msi_cap = (uint8_t)cap;
    le_set16(d->config + cap + PCI_MSI_FLAGS, f);
    le_set16(d->wmask + cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE);
    le_set32(d->wmask + cap + PCI_MSI_ADDRESS_LO, MSI_ADDRESS_LO_MASK);
    if (msi64bit)
        le_set32(d->wmask + cap + PCI_MSI_ADDRESS_HI, 0xffffffffu);
    le_set16(d->wmask + cap + data_off(msi64bit), 0xffff);
    if (per_vector_mask)
        le_set32(d->wmask + cap + mask_off(msi64bit),
                 0xffffffffu >> (PCI_MSI_VECTORS_MAX - nvectors));
    return cap;
}

bool msi_enabled(const struct pci_device *d)
{
    return d->msi_cap && (ld8(d->config + d->msi_cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE);
}

static uint64_t message_address(const struct pci_device *d, bool is64)
{
    uint64_t a = le_load(d->config + d->msi_cap + PCI_MSI_ADDRESS_LO, 4);

    if (is64)
        a |= le_load(d->config + d->msi_cap + PCI_MSI_ADDRESS_HI, 4) << 32;
    return a;
}

/* QEMU's msi_get_message: the vector goes into the low bits of the data. */
static void send(struct pci_device *d, unsigned vector)
{
    uint16_t f = flags(d);
    bool is64 = f & PCI_MSI_FLAGS_64BIT;
    uint32_t data = (uint32_t)le_load(d->config + d->msi_cap + data_off(is64), 2);

    data = (data & ~(nr_vectors(f) - 1)) | vector;
    if (d->bus)
        pci_bus_msi_deliver(d->bus, d, message_address(d, is64), data);
}

static bool masked(const struct pci_device *d, uint16_t f, unsigned vector)
{
    bool is64 = f & PCI_MSI_FLAGS_64BIT;

    if (!(f & PCI_MSI_FLAGS_MASKBIT))
        return false;
    return le_load(d->config + d->msi_cap + mask_off(is64), 4) & (1u << vector);
}

void msi_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    uint16_t f;
    bool is64;
    unsigned max_order, order, n;
    uint32_t pend;

    (void)value;
    if (!d->msi_cap)
        return;
    f = flags(d);
    if (!ranges_overlap(offset, len, d->msi_cap, cap_size(f)) || !(f & PCI_MSI_FLAGS_ENABLE))
        return;

    /* MSI and INTx are exclusive (PCI 3.0 §6.8.3.3): drop what INTx was asserting. */
    for (int pin = 0; pin < PCI_NUM_PINS; pin++)
        pci_dev_set_irq(d, pin, 0);

    /* A guest may enable more than QMASK allows: clamp, as QEMU does. */
    order = (f & PCI_MSI_FLAGS_QSIZE) >> 4;
    max_order = (f & PCI_MSI_FLAGS_QMASK) >> 1;
    if (order > max_order) {
        f = (uint16_t)((f & ~PCI_MSI_FLAGS_QSIZE) | max_order << 4);
        le_store(d->config + d->msi_cap + PCI_MSI_FLAGS, f, 2);
    }
    if (!(f & PCI_MSI_FLAGS_MASKBIT))
        return;

    is64 = f & PCI_MSI_FLAGS_64BIT;
    n = nr_vectors(f);
    pend = (uint32_t)le_load(d->config + d->msi_cap + pending_off(is64), 4);
    pend &= 0xffffffffu >> (PCI_MSI_VECTORS_MAX - n);
    le_store(d->config + d->msi_cap + pending_off(is64), pend, 4);
    for (unsigned v = 0; v < n; v++) {
        if (!(pend & (1u << v)) || masked(d, f, v))
            continue;
        pend &= ~(1u << v);
        le_store(d->config + d->msi_cap + pending_off(is64), pend, 4);
        send(d, v);
    }
}

void msi_reset(struct pci_device *d)
{
    uint16_t f;
    bool is64;

    if (!d->msi_cap)
        return;
    f = flags(d);
    is64 = f & PCI_MSI_FLAGS_64BIT;
    f &= (uint16_t) ~(PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE);
    le_store(d->config + d->msi_cap + PCI_MSI_FLAGS, f, 2);
    le_store(d->config + d->msi_cap + PCI_MSI_ADDRESS_LO, 0, 4);
    if (is64)
        le_store(d->config + d->msi_cap + PCI_MSI_ADDRESS_HI, 0, 4);
    le_store(d->config + d->msi_cap + data_off(is64), 0, 2);
    if (f & PCI_MSI_FLAGS_MASKBIT) {
        le_store(d->config + d->msi_cap + mask_off(is64), 0, 4);
        le_store(d->config + d->msi_cap + pending_off(is64), 0, 4);
    }
}

int msi_notify(struct pci_device *d, unsigned vector)
{
    uint16_t f;
    bool is64;

    if (!msi_enabled(d))
        return -ENODEV;
    f = flags(d);
    if (vector >= nr_vectors(f))
        return -EINVAL;
    if (masked(d, f, vector)) {
        is64 = f & PCI_MSI_FLAGS_64BIT;
        uint32_t pend = (uint32_t)le_load(d->config + d->msi_cap + pending_off(is64), 4);
        le_store(d->config + d->msi_cap + pending_off(is64), pend | 1u << vector, 4);
        return 0;
    }
    send(d, vector);
    return 1;
}
