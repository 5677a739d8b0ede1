/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci_regs.c — register behaviour behind the virtio-pci BARs (virtio 1.2 §4.1.4), as
 * QEMU 7.2's virtio-pci transport and virtio core implement it:
 *   BAR0  legacy header (§4.1.4.10), then the device configuration at 20, or at 24 while
 *         MSI-X is enabled (VIRTIO_PCI_CONFIG_OFF)
 *   BAR4  common configuration 0x0000, ISR 0x1000, device configuration 0x2000, notify 0x3000
 *         (queue = offset / notify_off_multiplier); the rest of the BAR decodes nothing
 *   BAR2  PIO notify (modern-pio-notify=on): the value written is the queue index
 * and the PCI-cfg access window (§4.1.4.9), which reaches the BAR4 structures by offset.
 *
 * Policy: an access is split as QEMU's memory core splits it, into naturally aligned pieces of
 * at most 4 bytes; a piece is decoded by its start offset only, whatever its size, so a 4-byte
 * read of the 1-byte device_status returns device_status alone. A piece that starts no register
 * reads 0 (modern) or all-ones (legacy header) and its write is dropped. Device configuration
 * past its end reads all-ones. Everything here runs with the device lock held, on a vCPU thread
 * (or the control plane for reset and configuration changes), and neither blocks nor allocates.
 *
 * Interrupts: ISR bit 0 is the queue interrupt and bit 1 the configuration change; without
 * MSI-X, INTx follows ISR bit 0 (QEMU's rule: a configuration change sets both bits). No queue
 * is processed (pcid has no guest memory), so only configuration changes and virtio_error()
 * (a bad queue_enable) raise interrupts.
 */
#include <linux/virtio_pci.h>

#include "virtio_pci.h"

#include "../pci/pcie.h"

#define VRING_DESC_SIZE        16 /* virtio 1.2 §2.7.5: struct virtq_desc */
#define VRING_AVAIL_RING_START 4  /* §2.7.6: flags, idx, then ring[] */

/* ---- device-level state (QEMU's hw/virtio/virtio.c) ------------------------------------------ */

static bool has_feature(const struct virtio_pci *vp, unsigned bit)
{
    return vp->guest_features & (1ull << bit);
}

/* MSI-X vector bookkeeping (QEMU's msix_vector_use/unuse): the last user leaving a vector
 * clears its pending bit. */
static void vector_use(struct virtio_pci *vp, uint16_t v)
{
    if (v < vp->nvectors)
        vp->vector_use[v]++;
}

static void vector_unuse(struct virtio_pci *vp, uint16_t v)
{
    if (v >= vp->nvectors || !vp->vector_use[v])
        return;
    if (--vp->vector_use[v])
        return;
    msix_clear_pending(&vp->pci, v);
}

/* Point a vector register at `val`: a vector outside the table reads back as NO_VECTOR, so
 * the driver can see the failure (§4.1.5.1.2.1). */
static uint16_t vector_set(struct virtio_pci *vp, uint16_t old, uint32_t val)
{
    if (old != VIRTIO_MSI_NO_VECTOR)
        vector_unuse(vp, old);
    if (val >= vp->nvectors)
        return VIRTIO_MSI_NO_VECTOR;
    vector_use(vp, (uint16_t)val);
    return (uint16_t)val;
}

/* Signal `vector`: MSI-X when enabled (a vector nobody uses stays silent), else INTx at the
 * level of ISR bit 0. Nothing while the device is broken or bus mastering is off. */
static void notify_vector(struct virtio_pci *vp, uint16_t vector)
{
    struct pci_device *d = &vp->pci;

    if (vp->broken || vp->disabled)
        return;
    if (msix_enabled(d)) {
        if (vector < vp->nvectors && vp->vector_use[vector])
            msix_notify(d, vector);
        return;
    }
    pci_dev_set_irq(d, 0, vp->isr & 1);
}

void virtio_pci_notify_config(struct virtio_pci *vp)
{
    if (!(vp->status & VIRTIO_CONFIG_S_DRIVER_OK))
        return;
    vp->isr |= VIRTIO_PCI_ISR_CONFIG | 1;
    vp->config_generation++;
    notify_vector(vp, vp->config_vector);
}

/* The device hit a driver error (QEMU's virtio_error): NEEDS_RESET for a virtio 1 driver, with
 * a configuration interrupt, then no more interrupts until reset. */
static void device_error(struct virtio_pci *vp)
{
    if (has_feature(vp, VIRTIO_F_VERSION_1)) {
        vp->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
        virtio_pci_notify_config(vp);
    }
    vp->broken = true;
}

/* Driver features (§2.2): ignored once FEATURES_OK is set; bits not offered are dropped. */
static void set_features(struct virtio_pci *vp, uint64_t val)
{
    if (vp->status & VIRTIO_CONFIG_S_FEATURES_OK)
        return;
    vp->guest_features = val & vp->host_features;
}

/* Device status (§2.1, §3.1.1): FEATURES_OK is refused (status unchanged) when a device that
 * offers VIRTIO_F_ACCESS_PLATFORM sees a virtio 1 driver without it. */
static void set_status(struct virtio_pci *vp, uint8_t val)
{
    if (has_feature(vp, VIRTIO_F_VERSION_1) && !(vp->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
        (val & VIRTIO_CONFIG_S_FEATURES_OK) &&
        (vp->host_features & (1ull << VIRTIO_F_ACCESS_PLATFORM)) &&
        !has_feature(vp, VIRTIO_F_ACCESS_PLATFORM))
        return;
    if (vp->vdc->set_status)
        vp->vdc->set_status(vp, val);
    vp->status = val;
}

static void queue_reset(struct virtio_queue *q)
{
    q->desc = q->avail = q->used = 0;
    q->vector = VIRTIO_MSI_NO_VECTOR; /* without giving the MSI-X vector back, as QEMU */
    q->num = q->num_max;
}

/* Device reset then the transport's (QEMU's virtio_reset + virtio_pci_reset). Select registers
 * (device_feature_select, driver_feature_select, driver_feature) and config_generation
 * survive, as in QEMU. */
static void transport_reset(struct virtio_pci *vp)
{
    set_status(vp, 0);
    if (vp->vdc->reset)
        vp->vdc->reset(vp);
    vp->broken = false;
    vp->disabled = false;
    vp->guest_features = 0;
    vp->queue_sel = 0;
    vp->status = 0;
    vp->isr = 0;
    vp->config_vector = VIRTIO_MSI_NO_VECTOR;
    notify_vector(vp, VIRTIO_MSI_NO_VECTOR); /* deasserts INTx */
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        struct virtio_queue *q = &vp->vq[i];

        queue_reset(q);
        q->enabled = q->reset = false;
        q->reg_num = 0;
        q->reg_desc[0] = q->reg_desc[1] = 0;
        q->reg_avail[0] = q->reg_avail[1] = 0;
        q->reg_used[0] = q->reg_used[1] = 0;
    }
    for (unsigned v = 0; v < vp->nvectors; v++) {
        vp->vector_use[v] = 0;
        msix_clear_pending(&vp->pci, (uint16_t)v);
    }
}

void virtio_pci_reset(struct pci_device *d)
{
    transport_reset(container_of(d, struct virtio_pci, pci));
    if (d->exp_cap) {
        /* QEMU's virtio_pci_reset for a PCI Express function */
        pcie_cap_deverr_reset(d);
        pcie_cap_lnkctl_reset(d);
        le_store(d->config + d->pm_cap + PCI_PM_CTRL, 0, 2);
    }
}

/* A status write through either header; 0 resets the device. */
static void status_write(struct virtio_pci *vp, uint8_t val)
{
    set_status(vp, val);
    if (vp->status == 0)
        transport_reset(vp);
}

/* Ring size: the driver may resize an existing queue to 1..VIRTIO_QUEUE_MAX, nothing else. */
static void queue_set_num(struct virtio_queue *q, uint32_t num)
{
    if (!num != !q->num || num > VIRTIO_QUEUE_MAX)
        return;
    q->num = (uint16_t)num;
}

/* Legacy ring placement from the descriptor table address (§2.7, 4 KiB alignment). */
static void queue_set_addr(struct virtio_queue *q, uint64_t pa)
{
    uint64_t end;

    if (!q->num)
        return;
    q->desc = pa;
    q->avail = pa + (uint64_t)q->num * VRING_DESC_SIZE;
    end = q->avail + VRING_AVAIL_RING_START + 2u * q->num;
    q->used = (end + VIRTIO_PCI_VRING_ALIGN - 1) & ~(uint64_t)(VIRTIO_PCI_VRING_ALIGN - 1);
}

/* A kick (§4.1.4.4, §4.1.4.10): counted; pcid processes no rings. */
static void queue_notify(struct virtio_pci *vp, uint32_t queue)
{
    if (queue < VIRTIO_QUEUE_MAX)
        vp->vq[queue].notifications++;
}

/* ---- device configuration (legacy after the header, modern at 0x2000) ------------------------ */

static uint32_t device_cfg_read(struct virtio_pci *vp, uint64_t off, unsigned len)
{
    if (off + len > vp->config_len)
        return UINT32_MAX;
    vp->vdc->get_config(vp);
    return (uint32_t)le_get(vp->config + off, len);
}

/* The bytes land in the copy last read (QEMU's vdev->config) before the device applies it. */
static void device_cfg_write(struct virtio_pci *vp, uint64_t off, uint32_t val, unsigned len)
{
    if (off + len > vp->config_len)
        return;
    le_set(vp->config + off, val, len);
    if (vp->vdc->set_config)
        vp->vdc->set_config(vp);
}

/* ---- splitting (QEMU's memory_access_size) --------------------------------------------------- */

typedef uint32_t (*piece_read_fn)(struct virtio_pci *vp, uint64_t off, unsigned len);
typedef void (*piece_write_fn)(struct virtio_pci *vp, uint64_t off, uint32_t val, unsigned len);

/* The largest naturally aligned piece of at most 4 bytes at `off`, of `left` bytes. */
static unsigned piece_len(uint64_t off, unsigned left)
{
    unsigned n = 4;

    while (n > left || (off & (n - 1)))
        n >>= 1;
    return n;
}

static uint64_t split_read(struct virtio_pci *vp, uint64_t off, unsigned len, piece_read_fn fn)
{
    uint64_t val = 0;

    for (unsigned done = 0, n; done < len; done += n) {
        n = piece_len(off + done, len - done);
        val |= (uint64_t)(fn(vp, off + done, n) & (uint32_t)((1ull << (8 * n)) - 1)) << (8 * done);
    }
    return val;
}

static void split_write(struct virtio_pci *vp, uint64_t off, uint64_t val, unsigned len,
                        piece_write_fn fn)
{
    for (unsigned done = 0, n; done < len; done += n) {
        n = piece_len(off + done, len - done);
        fn(vp, off + done, (uint32_t)((val >> (8 * done)) & ((1ull << (8 * n)) - 1)), n);
    }
}

/* ---- legacy I/O BAR0 (§4.1.4.10) ------------------------------------------------------------- */

static uint32_t legacy_cfg_off(const struct virtio_pci *vp)
{
    return VIRTIO_PCI_CONFIG_OFF(msix_enabled(&vp->pci));
}

static uint32_t legacy_piece_read(struct virtio_pci *vp, uint64_t off, unsigned len)
{
    struct virtio_queue *q = &vp->vq[vp->queue_sel];
    uint32_t val;

    if (off >= legacy_cfg_off(vp))
        return device_cfg_read(vp, off - legacy_cfg_off(vp), len);
    switch (off) {
    case VIRTIO_PCI_HOST_FEATURES:
        return (uint32_t)vp->host_features;
    case VIRTIO_PCI_GUEST_FEATURES:
        return (uint32_t)vp->guest_features;
    case VIRTIO_PCI_QUEUE_PFN:
        return (uint32_t)(q->desc >> VIRTIO_PCI_QUEUE_ADDR_SHIFT);
    case VIRTIO_PCI_QUEUE_NUM:
        return q->num;
    case VIRTIO_PCI_QUEUE_SEL:
        return vp->queue_sel;
    case VIRTIO_PCI_STATUS:
        return vp->status;
    case VIRTIO_PCI_ISR:
        val = vp->isr; /* read-to-clear, and INTx goes down */
        vp->isr = 0;
        pci_dev_set_irq(&vp->pci, 0, 0);
        return val;
    case VIRTIO_MSI_CONFIG_VECTOR:
        return vp->config_vector;
    case VIRTIO_MSI_QUEUE_VECTOR:
        return q->vector;
    default:
        return UINT32_MAX;
    }
}

static void legacy_piece_write(struct virtio_pci *vp, uint64_t off, uint32_t val, unsigned len)
{
    struct virtio_queue *q = &vp->vq[vp->queue_sel];
    struct pci_device *d = &vp->pci;

    if (off >= legacy_cfg_off(vp)) {
        device_cfg_write(vp, off - legacy_cfg_off(vp), val, len);
        return;
    }
    switch (off) {
    case VIRTIO_PCI_GUEST_FEATURES:
        /* A driver that acks the bad feature did not negotiate: it gets the features every
         * old driver of the device understood (QEMU's bad_features). */
        if (val & (1u << VIRTIO_F_BAD_FEATURE))
            set_features(vp, vp->vdc->bad_features);
        else
            set_features(vp, val);
        break;
    case VIRTIO_PCI_QUEUE_PFN:
        if (!val)
            transport_reset(vp);
        else
            queue_set_addr(q, (uint64_t)val << VIRTIO_PCI_QUEUE_ADDR_SHIFT);
        break;
    case VIRTIO_PCI_QUEUE_SEL:
        if (val < VIRTIO_QUEUE_MAX)
            vp->queue_sel = (uint16_t)val;
        break;
    case VIRTIO_PCI_QUEUE_NOTIFY:
        queue_notify(vp, val);
        break;
    case VIRTIO_PCI_STATUS:
        status_write(vp, (uint8_t)val);
        /* Drivers before Linux 2.6.34 never set bus mastering; QEMU sets it for them. */
        if (val == (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER))
            pci_default_config_write(d, PCI_COMMAND,
                                     ld8(d->config + PCI_COMMAND) | PCI_COMMAND_MASTER, 1);
        break;
    case VIRTIO_MSI_CONFIG_VECTOR:
        vp->config_vector = vector_set(vp, vp->config_vector, val);
        break;
    case VIRTIO_MSI_QUEUE_VECTOR:
        q->vector = vector_set(vp, q->vector, val);
        break;
    default:
        break; /* read-only or nothing there: dropped */
    }
}

static uint64_t legacy_read(void *opaque, uint64_t offset, unsigned len)
{
    return split_read(opaque, offset, len, legacy_piece_read);
}

static void legacy_write(void *opaque, uint64_t offset, uint64_t value, unsigned len)
{
    split_write(opaque, offset, value, len, legacy_piece_write);
}

const struct pci_region_ops virtio_pci_legacy_ops = {
    .read = legacy_read,
    .write = legacy_write,
};

/* ---- legacy MMR BAR3 (pcid): the same block, from memory; nothing past its end ----------- */

static uint64_t legacy_mmr_read(void *opaque, uint64_t offset, unsigned len)
{
    struct virtio_pci *vp = opaque;

    if (offset >= vp->legacy_size)
        return 0;
    if (offset + len > vp->legacy_size)
        len = (unsigned)(vp->legacy_size - offset);
    return legacy_read(vp, offset, len);
}

static void legacy_mmr_write(void *opaque, uint64_t offset, uint64_t value, unsigned len)
{
    struct virtio_pci *vp = opaque;

    if (offset >= vp->legacy_size)
        return;
    if (offset + len > vp->legacy_size)
        len = (unsigned)(vp->legacy_size - offset);
    legacy_write(vp, offset, value, len);
}

const struct pci_region_ops virtio_pci_legacy_mmr_ops = {
    .read = legacy_mmr_read,
    .write = legacy_mmr_write,
};

/* ---- modern common configuration (§4.1.4.3) -------------------------------------------------- */

static uint32_t common_read(struct virtio_pci *vp, uint64_t off)
{
    struct virtio_queue *q = &vp->vq[vp->queue_sel];
    uint32_t n = 0;

    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        return vp->dfselect;
    case VIRTIO_PCI_COMMON_DF:
        if (vp->dfselect > 1)
            return 0;
        return (uint32_t)((vp->host_features & ~vp->vdc->legacy_features) >> (32 * vp->dfselect));
    case VIRTIO_PCI_COMMON_GFSELECT:
        return vp->gfselect;
    case VIRTIO_PCI_COMMON_GF:
        return vp->gfselect < 2 ? vp->guest_features_reg[vp->gfselect] : 0;
    case VIRTIO_PCI_COMMON_MSIX:
        return vp->config_vector;
    case VIRTIO_PCI_COMMON_NUMQ:
        /* QEMU's virtio_get_num_queues(): queues exist from 0 up to the first without a size
         * (a guest cannot make an existing queue size 0, so this stops at the end). */
        while (n < VIRTIO_QUEUE_MAX && vp->vq[n].num)
            n++;
        return n;
    case VIRTIO_PCI_COMMON_STATUS:
        return vp->status;
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        return vp->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return vp->queue_sel;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return q->num;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return q->vector;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return q->enabled;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return vp->queue_sel; /* queues are mapped in order */
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        return q->reg_desc[(off - VIRTIO_PCI_COMMON_Q_DESCLO) / 4];
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        return q->reg_avail[(off - VIRTIO_PCI_COMMON_Q_AVAILLO) / 4];
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        return q->reg_used[(off - VIRTIO_PCI_COMMON_Q_USEDLO) / 4];
    case VIRTIO_PCI_COMMON_Q_RESET:
        return q->reset;
    default:
        return 0; /* queue_notify_data included: QEMU 7.2 does not implement it */
    }
}

static uint64_t reg64(const uint32_t r[2])
{
    return (uint64_t)r[1] << 32 | r[0];
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint32_t val)
{
    struct virtio_queue *q = &vp->vq[vp->queue_sel];

    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        vp->dfselect = val;
        break;
    case VIRTIO_PCI_COMMON_GFSELECT:
        vp->gfselect = val;
        break;
    case VIRTIO_PCI_COMMON_GF:
        if (vp->gfselect < 2) {
            vp->guest_features_reg[vp->gfselect] = val;
            set_features(vp, reg64(vp->guest_features_reg));
        }
        break;
    case VIRTIO_PCI_COMMON_MSIX:
        vp->config_vector = vector_set(vp, vp->config_vector, val);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        status_write(vp, (uint8_t)val);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        if (val < VIRTIO_QUEUE_MAX)
            vp->queue_sel = (uint16_t)val;
        break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        q->reg_num = (uint16_t)val;
        queue_set_num(q, q->reg_num);
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        q->vector = vector_set(vp, q->vector, val);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (val != 1) {
            device_error(vp); /* "wrong value for queue_enable" */
            break;
        }
        queue_set_num(q, q->reg_num);
        if (q->num) {
            q->desc = reg64(q->reg_desc);
            q->avail = reg64(q->reg_avail);
            q->used = reg64(q->reg_used);
        }
        q->enabled = true;
        q->reset = false;
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        q->reg_desc[(off - VIRTIO_PCI_COMMON_Q_DESCLO) / 4] = val;
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        q->reg_avail[(off - VIRTIO_PCI_COMMON_Q_AVAILLO) / 4] = val;
        break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        q->reg_used[(off - VIRTIO_PCI_COMMON_Q_USEDLO) / 4] = val;
        break;
    case VIRTIO_PCI_COMMON_Q_RESET:
        if (val == 1) { /* §4.1.4.3.2: the queue goes back to its reset state */
            queue_reset(q);
            q->reset = false;
            q->enabled = false;
        }
        break;
    default:
        break; /* read-only (device_feature, num_queues, ...) or nothing there */
    }
}

/* ---- modern memory BAR4: the four structures by offset --------------------------------------- */

/* A modern access piece at `off` in the BAR4 layout; also the PCI-cfg window's target. */
static uint32_t modern_piece_read(struct virtio_pci *vp, uint64_t off, unsigned len)
{
    uint32_t val;

    if (off < VIRTIO_PCI_ISR_OFFSET)
        return common_read(vp, off - VIRTIO_PCI_COMMON_OFFSET);
    if (off < VIRTIO_PCI_DEVICE_OFFSET) {
        val = vp->isr; /* any read of the ISR structure clears it (§4.1.4.5) */
        vp->isr = 0;
        pci_dev_set_irq(&vp->pci, 0, 0);
        return val;
    }
    if (off < VIRTIO_PCI_NOTIFY_OFFSET)
        return device_cfg_read(vp, off - VIRTIO_PCI_DEVICE_OFFSET, len);
    return 0; /* notify reads 0, and beyond it nothing decodes */
}

static void modern_piece_write(struct virtio_pci *vp, uint64_t off, uint32_t val, unsigned len)
{
    if (off < VIRTIO_PCI_ISR_OFFSET)
        common_write(vp, off - VIRTIO_PCI_COMMON_OFFSET, val);
    else if (off < VIRTIO_PCI_DEVICE_OFFSET)
        return; /* the ISR is read-only */
    else if (off < VIRTIO_PCI_NOTIFY_OFFSET)
        device_cfg_write(vp, off - VIRTIO_PCI_DEVICE_OFFSET, val, len);
    else if (off - VIRTIO_PCI_NOTIFY_OFFSET < (uint64_t)vp->notify_mult * VIRTIO_QUEUE_MAX)
        queue_notify(vp, (uint32_t)((off - VIRTIO_PCI_NOTIFY_OFFSET) / vp->notify_mult));
}

static uint64_t modern_read(void *opaque, uint64_t offset, unsigned len)
{
    return split_read(opaque, offset, len, modern_piece_read);
}

static void modern_write(void *opaque, uint64_t offset, uint64_t value, unsigned len)
{
    split_write(opaque, offset, value, len, modern_piece_write);
}

const struct pci_region_ops virtio_pci_modern_ops = {
    .read = modern_read,
    .write = modern_write,
};

/* ---- PIO notify BAR2 (§4.1.4.4 with notify_off_multiplier 0) --------------------------------- */

static uint64_t notify_pio_read(void *opaque, uint64_t offset, unsigned len)
{
    (void)opaque, (void)offset, (void)len;
    return 0;
}

static void notify_pio_piece_write(struct virtio_pci *vp, uint64_t off, uint32_t val, unsigned len)
{
    (void)off, (void)len;
    queue_notify(vp, val);
}

static void notify_pio_write(void *opaque, uint64_t offset, uint64_t value, unsigned len)
{
    split_write(opaque, offset, value, len, notify_pio_piece_write);
}

const struct pci_region_ops virtio_pci_notify_pio_ops = {
    .read = notify_pio_read,
    .write = notify_pio_write,
};

/* ---- configuration space: the PCI-cfg access window (§4.1.4.9) and bus mastering ------------- */

#define CFG_DATA VIRTIO_PCI_CFG_DATA

/*
 * The window's target, QEMU's way: cap.bar is not looked at; cap.offset, aligned down to
 * cap.length (1, 2 or 4), must fall with the whole access inside one of the BAR4 structures
 * (common, ISR, device: 4 KiB each; notify: notify_mult * VIRTIO_QUEUE_MAX). Returns false
 * when nothing is there: the access does not happen and pci_cfg_data keeps its bytes.
 */
static bool window_target(const struct virtio_pci *vp, uint64_t *off, unsigned *len)
{
    const uint8_t *cap = vp->pci.config + vp->cfg_cap;
    uint32_t o = (uint32_t)le_load(cap + VIRTIO_PCI_CAP_OFFSET, 4);
    uint32_t l = (uint32_t)le_load(cap + VIRTIO_PCI_CAP_LENGTH, 4);
    uint64_t notify_end = VIRTIO_PCI_NOTIFY_OFFSET + (uint64_t)vp->notify_mult * VIRTIO_QUEUE_MAX;

    if (l != 1 && l != 2 && l != 4)
        return false;
    o &= ~(l - 1); /* aligned, so the access cannot straddle two structures */
    if (o >= notify_end)
        return false;
    *off = o;
    *len = l;
    return true;
}

uint32_t virtio_pci_config_read(struct pci_device *d, uint32_t offset, unsigned len)
{
    struct virtio_pci *vp = container_of(d, struct virtio_pci, pci);
    uint64_t off;
    unsigned n;

    if (vp->cfg_cap && ranges_overlap(offset, len, vp->cfg_cap + CFG_DATA, 4)) {
        pthread_mutex_lock(&d->lock);
        if (window_target(vp, &off, &n))
            le_store(d->config + vp->cfg_cap + CFG_DATA, modern_piece_read(vp, off, n), n);
        pthread_mutex_unlock(&d->lock);
    }
    return pci_default_config_read(d, offset, len);
}

void virtio_pci_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    struct virtio_pci *vp = container_of(d, struct virtio_pci, pci);
    uint64_t off;
    unsigned n;

    pci_default_config_write(d, offset, value, len); /* MSI-X on deasserts INTx (msix.c) */
    if (vp->flr)
        pcie_cap_flr_write_config(d, offset, value, len);

    /* Bus mastering off stops the device: no interrupts, and DRIVER_OK is dropped. */
    if (ranges_overlap(offset, len, PCI_COMMAND, 1) && vp->use_disabled_flag)
        vp->disabled = !(ld8(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER);
    if (ranges_overlap(offset, len, PCI_COMMAND, 1) &&
        !(ld8(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER))
        set_status(vp, vp->status & (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK);

    if (vp->cfg_cap && ranges_overlap(offset, len, vp->cfg_cap + CFG_DATA, 4) &&
        window_target(vp, &off, &n))
        modern_piece_write(vp, off, (uint32_t)le_load(d->config + vp->cfg_cap + CFG_DATA, n), n);
}
