/* SPDX-License-Identifier: MIT */
/*
 * pci_dev.c — configuration space of one function: masks, the mask-driven write, BARs, reset.
 *
 * Policy: every guest write goes through one routine driven by wmask and w1cmask; the written
 * range decides the side effects (BARs or Command → remap; Command → INTx masking; MSI-X
 * capability → msix_config_write). Accesses outside the space or not naturally aligned read
 * all-ones and write nothing.
 */
#include "pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msi.h"
#include "msix.h"
#include "pci_bus.h"

int pci_dev_init(struct pci_device *d, const struct pci_dev_class *cls, uint32_t config_size,
                 uint8_t header_type)
{
    if (config_size != PCI_CONFIG_SPACE_SIZE && config_size != PCIE_CONFIG_SPACE_SIZE)
        return -EINVAL;

    d->cls = cls;
    d->name = cls ? cls->name : NULL;
    d->config_size = config_size;
    d->read_hook_start = 0;
    d->read_hook_end = (uint16_t)config_size;
    d->config = calloc(1, config_size);
    d->wmask = calloc(1, config_size);
    d->w1cmask = calloc(1, config_size);
    d->cmask = calloc(1, config_size);
    d->used = calloc(1, config_size);
    if (!d->config || !d->wmask || !d->w1cmask || !d->cmask || !d->used) {
        free(d->config);
        free(d->wmask);
        free(d->w1cmask);
        free(d->cmask);
        free(d->used);
        d->config = d->wmask = d->w1cmask = d->cmask = d->used = NULL;
        return -ENOMEM;
    }
    for (int i = 0; i < PCI_NUM_REGIONS; i++)
        d->bars[i].addr = PCI_BAR_UNMAPPED;
    pthread_mutex_init(&d->lock, NULL);

    d->config[PCI_HEADER_TYPE] = header_type;

    /* What a snapshot must match: identity, header layout, the capability list head. */
    le_set16(d->cmask + PCI_VENDOR_ID, 0xffff);
    le_set16(d->cmask + PCI_DEVICE_ID, 0xffff);
    d->cmask[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    d->cmask[PCI_REVISION_ID] = 0xff;
    d->cmask[PCI_CLASS_PROG] = 0xff;
    le_set16(d->cmask + PCI_CLASS_DEVICE, 0xffff);
    d->cmask[PCI_HEADER_TYPE] = 0xff;
    d->cmask[PCI_CAPABILITY_LIST] = 0xff;

    /* What the guest may write in the header; device-specific space is writable by default. */
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    le_set16(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                         PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    memset(d->wmask + PCI_CONFIG_HEADER_SIZE, 0xff, config_size - PCI_CONFIG_HEADER_SIZE);

    /* Status error bits are write-1-to-clear (PCI 3.0 §6.2.3). */
    le_set16(d->w1cmask + PCI_STATUS, PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
                                          PCI_STATUS_REC_TARGET_ABORT |
                                          PCI_STATUS_REC_MASTER_ABORT |
                                          PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY);

    if ((header_type & 0x7f) == PCI_HEADER_TYPE_BRIDGE) {
        /* Bus numbers and secondary latency timer (PCI-to-PCI Bridge 1.2 §3.2.5). */
        memset(d->wmask + PCI_PRIMARY_BUS, 0xff, 4);
        d->wmask[PCI_IO_BASE] = PCI_IO_RANGE_MASK & 0xff;
        d->wmask[PCI_IO_LIMIT] = PCI_IO_RANGE_MASK & 0xff;
        le_set16(d->wmask + PCI_MEMORY_BASE, PCI_MEMORY_RANGE_MASK & 0xffff);
        le_set16(d->wmask + PCI_MEMORY_LIMIT, PCI_MEMORY_RANGE_MASK & 0xffff);
        le_set16(d->wmask + PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_MASK & 0xffff);
        le_set16(d->wmask + PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_MASK & 0xffff);
        memset(d->wmask + PCI_PREF_BASE_UPPER32, 0xff, 8);
        d->config[PCI_IO_BASE] |= PCI_IO_RANGE_TYPE_16;
        d->config[PCI_IO_LIMIT] |= PCI_IO_RANGE_TYPE_16;
        d->config[PCI_PREF_MEMORY_BASE] |= PCI_PREF_RANGE_TYPE_64;
        d->config[PCI_PREF_MEMORY_LIMIT] |= PCI_PREF_RANGE_TYPE_64;
        le_set16(d->wmask + PCI_BRIDGE_CONTROL,
                 PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR | PCI_BRIDGE_CTL_ISA |
                     PCI_BRIDGE_CTL_VGA | PCI_BRIDGE_CTL_VGA_16BIT | PCI_BRIDGE_CTL_MASTER_ABORT |
                     PCI_BRIDGE_CTL_BUS_RESET | PCI_BRIDGE_CTL_FAST_BACK | PCI_BRIDGE_CTL_DISCARD |
                     PCI_BRIDGE_CTL_SEC_DISCARD | PCI_BRIDGE_CTL_DISCARD_SERR);
        le_set16(d->w1cmask + PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_DISCARD_STATUS);
        d->cmask[PCI_IO_BASE] |= PCI_IO_RANGE_TYPE_MASK;
        d->cmask[PCI_IO_LIMIT] |= PCI_IO_RANGE_TYPE_MASK;
        d->cmask[PCI_PREF_MEMORY_BASE] |= PCI_PREF_RANGE_TYPE_MASK;
        d->cmask[PCI_PREF_MEMORY_LIMIT] |= PCI_PREF_RANGE_TYPE_MASK;
    }
    return 0;
}

void pci_dev_unrealize(struct pci_device *d)
{
    if (d->unrealized)
        return;
    d->unrealized = true;
    if (d->cls && d->cls->unrealize)
        d->cls->unrealize(d);
}

void pci_dev_destroy(struct pci_device *d)
{
    if (!d)
        return;
    pci_dev_unrealize(d);
    msix_free(d->msix);
    d->msix = NULL;
    free(d->config);
    free(d->wmask);
    free(d->w1cmask);
    free(d->cmask);
    free(d->used);
    free(d->id);
    pthread_mutex_destroy(&d->lock);
    if (d->cls && d->cls->destroy)
        d->cls->destroy(d);
}

void pci_dev_set_ids(struct pci_device *d, uint16_t vendor, uint16_t device, uint8_t revision,
                     uint32_t class_code)
{
    le_set16(d->config + PCI_VENDOR_ID, vendor);
    le_set16(d->config + PCI_DEVICE_ID, device);
    d->config[PCI_REVISION_ID] = revision;
    d->config[PCI_CLASS_PROG] = (uint8_t)class_code;
    le_set16(d->config + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
}

void pci_dev_set_subsystem(struct pci_device *d, uint16_t subsys_vendor, uint16_t subsys_id)
{
    le_set16(d->config + PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
    le_set16(d->config + PCI_SUBSYSTEM_ID, subsys_id);
}

void pci_dev_set_irq_pin(struct pci_device *d, uint8_t pin)
{
    d->config[PCI_INTERRUPT_PIN] = pin;
}

int pci_dev_irq_pin(const struct pci_device *d)
{
    uint8_t pin = ld8(d->config + PCI_INTERRUPT_PIN);

    return pin >= 1 && pin <= PCI_NUM_PINS ? pin - 1 : -1;
}

void pci_dev_set_multifunction(struct pci_device *d, bool on)
{
    if (on)
        d->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;
    else
        d->config[PCI_HEADER_TYPE] &= (uint8_t)~PCI_HEADER_TYPE_MULTI_FUNCTION;
    d->multifunction = on;
}

/* QEMU's rule: any 1..4-byte access inside the config space, aligned or not. */
static bool access_ok(const struct pci_device *d, uint32_t offset, unsigned len)
{
    if (len < 1 || len > 4)
        return false;
    return offset < d->config_size && offset + len <= d->config_size;
}

uint32_t pci_default_config_read(struct pci_device *d, uint32_t offset, unsigned len)
{
    return (uint32_t)le_load(d->config + offset, len);
}

static bool intx_disabled(const struct pci_device *d)
{
    return le_load(d->config + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
}

static void update_irq_status(struct pci_device *d)
{
    bool any = false;

    for (int i = 0; i < PCI_NUM_PINS; i++)
        any |= d->irq_state[i] != 0;
    uint8_t status = ld8(d->config + PCI_STATUS);

    st8(d->config + PCI_STATUS,
        any ? (uint8_t)(status | PCI_STATUS_INTERRUPT) : (uint8_t)(status & ~PCI_STATUS_INTERRUPT));
}

static void intx_propagate(struct pci_device *d, int pin, int change)
{
    if (d->bus)
        pci_bus_intx_change(d->bus, d, pin, change);
}

void pci_dev_set_irq(struct pci_device *d, int pin, int level)
{
    int change;

    if (pin < 0 || pin >= PCI_NUM_PINS)
        return;
    level = level ? 1 : 0;
    change = level - d->irq_state[pin];
    if (!change)
        return;
    d->irq_state[pin] = (uint8_t)level;
    update_irq_status(d);
    if (!intx_disabled(d))
        intx_propagate(d, pin, change);
}

static void update_irq_disabled(struct pci_device *d, bool was_disabled)
{
    bool disabled = intx_disabled(d);

    if (disabled == was_disabled)
        return;
    for (int i = 0; i < PCI_NUM_PINS; i++)
        if (d->irq_state[i])
            intx_propagate(d, i, disabled ? -1 : 1);
}

void pci_default_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    bool was_disabled = intx_disabled(d);
    uint32_t v = value;

    for (unsigned i = 0; i < len; i++, v >>= 8) {
        uint8_t wmask = d->wmask[offset + i];
        uint8_t w1cmask = d->w1cmask[offset + i];
        uint8_t *byte = &d->config[offset + i];
        uint8_t b = ld8(byte);

        b = (uint8_t)((b & ~wmask) | (v & wmask));
        b &= (uint8_t) ~(v & w1cmask);
        st8(byte, b);
    }

    if (ranges_overlap(offset, len, PCI_BASE_ADDRESS_0, 24) ||
        ranges_overlap(offset, len, PCI_ROM_ADDRESS, 4) ||
        ranges_overlap(offset, len, PCI_ROM_ADDRESS1, 4) ||
        ranges_overlap(offset, len, PCI_COMMAND, 1)) {
        if (pci_dev_update_mappings(d) && d->bus)
            pci_bus_map_changed(d->bus);
    }
    if (ranges_overlap(offset, len, PCI_COMMAND, 2))
        update_irq_disabled(d, was_disabled);
    if (d->msix)
        msix_config_write(d, offset, value, len);
    if (d->msi_cap)
        msi_config_write(d, offset, value, len);
}

void pci_dev_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    if (!access_ok(d, offset, len))
        return;
    if (d->cls && d->cls->config_write)
        d->cls->config_write(d, offset, value, len);
    else
        pci_default_config_write(d, offset, value, len);
}

uint32_t pci_bar_offset(const struct pci_device *d, int region)
{
    if (region != PCI_ROM_SLOT)
        return PCI_BASE_ADDRESS_0 + 4u * (uint32_t)region;
    return pci_dev_is_bridge(d) ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
}

int pci_bar_register(struct pci_device *d, int region, uint64_t size, uint8_t type,
                     const struct pci_region_ops *ops, void *opaque)
{
    bool io = type & PCI_BASE_ADDRESS_SPACE_IO;
    bool mem64 = !io && (type & PCI_BASE_ADDRESS_MEM_TYPE_64);
    uint32_t off;
    uint64_t wmask;

    if (region < 0 || region >= PCI_NUM_REGIONS || !is_power_of_2(size))
        return -EINVAL;
    if (pci_dev_is_bridge(d) && region != PCI_ROM_SLOT && region >= 2)
        return -EINVAL; /* a type 1 header has two BARs */
    if (region == PCI_ROM_SLOT && type != 0)
        return -EINVAL;
    if (mem64 && region >= PCI_NUM_BARS - 1)
        return -EINVAL;
    if (io ? size < 4 : size < 16)
        return -EINVAL;
    if (io && size > 256)
        return -EINVAL; /* PCI 3.0 §6.2.5.1: an I/O BAR claims at most 256 bytes */
    if (!mem64 && size > 0x80000000ull)
        return -EINVAL;
    if (d->bars[region].size || (mem64 && d->bars[region + 1].size))
        return -EBUSY;
    if (region > 0 && region < PCI_NUM_BARS &&
        (d->bars[region - 1].type & PCI_BASE_ADDRESS_MEM_TYPE_64) &&
        !(d->bars[region - 1].type & PCI_BASE_ADDRESS_SPACE_IO) && d->bars[region - 1].size)
        return -EBUSY; /* upper half of a 64-bit BAR */

    d->bars[region] = (struct pci_bar){
        .size = size, .type = type, .addr = PCI_BAR_UNMAPPED, .ops = ops, .opaque = opaque};

    off = pci_bar_offset(d, region);
    wmask = ~(size - 1);
    if (region == PCI_ROM_SLOT)
        wmask |= PCI_ROM_ADDRESS_ENABLE;
    le_set32(d->config + off, type);
    if (mem64) {
        le_set64(d->wmask + off, wmask);
        le_set64(d->cmask + off, ~0ull);
        le_set32(d->config + off + 4, 0);
    } else {
        le_set32(d->wmask + off, (uint32_t)wmask);
        le_set32(d->cmask + off, 0xffffffffu);
    }
    return 0;
}

uint64_t pci_bar_address(const struct pci_device *d, int region)
{
    const struct pci_bar *bar = &d->bars[region];
    uint16_t cmd = (uint16_t)le_load(d->config + PCI_COMMAND, 2);
    uint32_t off = pci_bar_offset(d, region);
    uint64_t addr, last;

    if (!bar->size)
        return PCI_BAR_UNMAPPED;

    if (bar->type & PCI_BASE_ADDRESS_SPACE_IO) {
        if (!(cmd & PCI_COMMAND_IO) || !pci_dev_powered(d))
            return PCI_BAR_UNMAPPED;
        addr = le_load(d->config + off, 4) & ~(bar->size - 1);
        last = addr + bar->size - 1;
        if (last <= addr || last >= UINT32_MAX || addr == 0)
            return PCI_BAR_UNMAPPED;
        return addr;
    }

    if (!(cmd & PCI_COMMAND_MEMORY) || !pci_dev_powered(d))
        return PCI_BAR_UNMAPPED;
    addr = le_load(d->config + off, (bar->type & PCI_BASE_ADDRESS_MEM_TYPE_64) ? 8 : 4);
    if (region == PCI_ROM_SLOT && !(addr & PCI_ROM_ADDRESS_ENABLE))
        return PCI_BAR_UNMAPPED;
    addr &= ~(bar->size - 1);
    last = addr + bar->size - 1;
    if (last <= addr || last == PCI_BAR_UNMAPPED || addr == 0)
        return PCI_BAR_UNMAPPED;
    if (!(bar->type & PCI_BASE_ADDRESS_MEM_TYPE_64) && last >= UINT32_MAX)
        return PCI_BAR_UNMAPPED;
    return addr;
}

bool pci_dev_update_mappings(struct pci_device *d)
{
    bool changed = false;

    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        uint64_t addr;

        if (!d->bars[i].size)
            continue;
        addr = pci_bar_address(d, i);
        if (addr != pci_bar_addr(d, i)) {
            __atomic_store_n(&d->bars[i].addr, addr, __ATOMIC_RELAXED);
            changed = true;
        }
    }
    return changed;
}

void pci_dev_reset(struct pci_device *d)
{
    uint16_t clear;

    for (int i = 0; i < PCI_NUM_PINS; i++)
        pci_dev_set_irq(d, i, 0);

    clear = le_get16(d->wmask + PCI_COMMAND) | le_get16(d->w1cmask + PCI_COMMAND);
    le_store(d->config + PCI_COMMAND, le_load(d->config + PCI_COMMAND, 2) & (uint16_t)~clear, 2);
    clear = le_get16(d->wmask + PCI_STATUS) | le_get16(d->w1cmask + PCI_STATUS);
    le_store(d->config + PCI_STATUS, le_load(d->config + PCI_STATUS, 2) & (uint16_t)~clear, 2);
    st8(d->config + PCI_INTERRUPT_LINE,
        ld8(d->config + PCI_INTERRUPT_LINE) &
            (uint8_t) ~(d->wmask[PCI_INTERRUPT_LINE] | d->w1cmask[PCI_INTERRUPT_LINE]));
    st8(d->config + PCI_CACHE_LINE_SIZE, 0);

    for (int r = 0; r < PCI_NUM_REGIONS; r++) {
        const struct pci_bar *bar = &d->bars[r];
        uint32_t off = pci_bar_offset(d, r);

        if (!bar->size)
            continue;
        if (!(bar->type & PCI_BASE_ADDRESS_SPACE_IO) && (bar->type & PCI_BASE_ADDRESS_MEM_TYPE_64))
            le_store(d->config + off, bar->type, 8);
        else
            le_store(d->config + off, bar->type, 4);
    }
    if (pci_dev_update_mappings(d) && d->bus)
        pci_bus_map_changed(d->bus);
    if (d->msix)
        msix_reset(d);
    msi_reset(d);
    if (d->cls && d->cls->reset)
        d->cls->reset(d);
}

bool pci_dev_set_power(struct pci_device *d, bool on)
{
    if (pci_dev_powered(d) == on)
        return false;
    __atomic_store_n(&d->powered_off, !on, __ATOMIC_RELEASE);
    if (!on)
        pci_dev_reset(d);
    return pci_dev_update_mappings(d);
}

void pci_dev_config_copy(const struct pci_device *d, uint8_t *out, uint32_t offset, uint32_t len)
{
    for (uint32_t i = 0; i < len && offset + i < d->config_size; i++)
        out[i] = ld8(d->config + offset + i);
}
