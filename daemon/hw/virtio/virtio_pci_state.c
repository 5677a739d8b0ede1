/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci_state.c — device-state snapshots of the virtio-pci transport (what QEMU's
 * virtio_save/virtio_pci_save_config carry, for a device without guest memory): the register
 * state a guest can read back through BAR0, BAR4 and the PCI-cfg window. Config space, INTx
 * and the MSI-X table are saved by the PCI core (daemon/state/snapshot.c).
 *
 * Format VIRTIO_PCI_STATE_VERSION 1, little-endian (docs/state.md):
 *   u8 status, u8 isr, u8 config_generation, u8 flags (bit 0 broken, bit 1 disabled)
 *   u16 queue_sel, u16 config_vector
 *   u32 device_feature_select, u32 driver_feature_select, u32 driver_feature[2]
 *   u64 accepted features
 *   u8 config length, then the configuration cache (QEMU's vdev->config)
 *   u16 MSI-X vectors, then u32 users per vector (QEMU's msix_entry_used)
 *   u16 queue count, then per queue not in its reset state, ascending:
 *     u16 index, u16 size, u16 vector, u16 queue_size register, u8 enabled, u8 reset,
 *     u64 desc, u64 avail, u64 used, u64 notifications,
 *     u32 desc[2], u32 avail[2], u32 used[2] (the modern staging registers)
 *   u32 length, then the device half's state (virtio_dev_class state hooks)
 * A queue not listed loads in its reset state.
 */
#include "../../util/error.h"
#include "../../util/sbuf.h"
#include "virtio_pci.h"

#define FLAG_BROKEN   0x1
#define FLAG_DISABLED 0x2
#define QUEUE_ENTRY   66 /* bytes of one queue entry */

static bool queue_is_reset(const struct virtio_queue *q)
{
    return q->num == q->num_max && q->vector == VIRTIO_MSI_NO_VECTOR && !q->desc && !q->avail &&
           !q->used && !q->notifications && !q->reg_num && !q->enabled && !q->reset &&
           !q->reg_desc[0] && !q->reg_desc[1] && !q->reg_avail[0] && !q->reg_avail[1] &&
           !q->reg_used[0] && !q->reg_used[1];
}

void virtio_pci_state_save(struct pci_device *d, struct sbuf *out)
{
    struct virtio_pci *vp = container_of(d, struct virtio_pci, pci);
    uint16_t nq = 0;
    size_t len_at;

    sbuf_u8(out, vp->status);
    sbuf_u8(out, vp->isr);
    sbuf_u8(out, vp->config_generation);
    sbuf_u8(out, (vp->broken ? FLAG_BROKEN : 0) | (vp->disabled ? FLAG_DISABLED : 0));
    sbuf_u16(out, vp->queue_sel);
    sbuf_u16(out, vp->config_vector);
    sbuf_u32(out, vp->dfselect);
    sbuf_u32(out, vp->gfselect);
    sbuf_u32(out, vp->guest_features_reg[0]);
    sbuf_u32(out, vp->guest_features_reg[1]);
    sbuf_u64(out, vp->guest_features);
    sbuf_u8(out, (uint8_t)vp->config_len);
    sbuf_put(out, vp->config, vp->config_len);
    sbuf_u16(out, vp->nvectors);
    for (unsigned v = 0; v < vp->nvectors; v++)
        sbuf_u32(out, vp->vector_use[v]);

    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++)
        nq += !queue_is_reset(&vp->vq[i]);
    sbuf_u16(out, nq);
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        const struct virtio_queue *q = &vp->vq[i];

        if (queue_is_reset(q))
            continue;
        sbuf_u16(out, (uint16_t)i);
        sbuf_u16(out, q->num);
        sbuf_u16(out, q->vector);
        sbuf_u16(out, q->reg_num);
        sbuf_u8(out, q->enabled);
        sbuf_u8(out, q->reset);
        sbuf_u64(out, q->desc);
        sbuf_u64(out, q->avail);
        sbuf_u64(out, q->used);
        sbuf_u64(out, q->notifications);
        for (int k = 0; k < 2; k++)
            sbuf_u32(out, q->reg_desc[k]);
        for (int k = 0; k < 2; k++)
            sbuf_u32(out, q->reg_avail[k]);
        for (int k = 0; k < 2; k++)
            sbuf_u32(out, q->reg_used[k]);
    }

    len_at = sbuf_reserve_u32(out);
    if (vp->vdc->state_save) {
        size_t start = out->len;

        vp->vdc->state_save(vp, out);
        sbuf_patch_u32(out, len_at, (uint32_t)(out->len - start));
    }
}

static bool vector_ok(const struct virtio_pci *vp, uint16_t v)
{
    return v == VIRTIO_MSI_NO_VECTOR || v < vp->nvectors;
}

int virtio_pci_state_check(const struct pci_device *d, const uint8_t *p, size_t len,
                           uint32_t version, struct error *err)
{
    const struct virtio_pci *vp = container_of(d, const struct virtio_pci, pci);
    struct sreader r = sreader_init(p, len);
    uint8_t isr, flags, clen;
    uint16_t sel, cvec, nvec, nq;
    uint64_t features;
    int prev = -1;
    size_t at;
    uint32_t dev_len;

    if (version < 1 || version > VIRTIO_PCI_STATE_VERSION)
        return error_invalid(err, "virtio state format version %u is not supported (1..%u)",
                             version, VIRTIO_PCI_STATE_VERSION);
    sreader_u8(&r); /* device status: any value a driver wrote */
    isr = sreader_u8(&r);
    sreader_u8(&r);
    flags = sreader_u8(&r);
    sel = sreader_u16(&r);
    cvec = sreader_u16(&r);
    sreader_bytes(&r, 16);
    at = r.pos;
    features = sreader_u64(&r);
    if (!sreader_ok(&r))
        goto short_read;
    if (isr & ~(VIRTIO_PCI_ISR_CONFIG | 1))
        return error_invalid(err, "virtio state at byte 1: ISR 0x%02x has undefined bits", isr);
    if (flags & ~(FLAG_BROKEN | FLAG_DISABLED))
        return error_invalid(err, "virtio state at byte 3: unknown flags 0x%02x", flags);
    if (sel >= VIRTIO_QUEUE_MAX)
        return error_invalid(err, "virtio state at byte 4: queue_select %u is not below %u", sel,
                             VIRTIO_QUEUE_MAX);
    if (!vector_ok(vp, cvec))
        return error_invalid(err,
                             "virtio state at byte 6: config_msix_vector %u, the device has "
                             "%u vectors",
                             cvec, vp->nvectors);
    if (features & ~vp->host_features)
        return error_invalid(err,
                             "virtio state at byte %zu: features 0x%llx were never offered "
                             "(device features 0x%llx)",
                             at, (unsigned long long)features,
                             (unsigned long long)vp->host_features);

    at = r.pos;
    clen = sreader_u8(&r);
    if (clen != vp->config_len)
        return error_invalid(err,
                             "virtio state at byte %zu: %u bytes of device configuration, the "
                             "device has %u",
                             at, clen, vp->config_len);
    sreader_bytes(&r, clen);
    at = r.pos;
    nvec = sreader_u16(&r);
    if (sreader_ok(&r) && nvec != vp->nvectors)
        return error_invalid(err, "virtio state at byte %zu: %u MSI-X vectors, the device has %u",
                             at, nvec, vp->nvectors);
    sreader_bytes(&r, (size_t)nvec * 4);
    at = r.pos;
    nq = sreader_u16(&r);
    if (!sreader_ok(&r))
        goto short_read;
    if (nq > VIRTIO_QUEUE_MAX)
        return error_invalid(err, "virtio state at byte %zu: %u queues, at most %u", at, nq,
                             VIRTIO_QUEUE_MAX);
    for (unsigned i = 0; i < nq; i++) {
        const uint8_t *e;
        uint16_t idx, num, vec;

        at = r.pos;
        e = sreader_bytes(&r, QUEUE_ENTRY);
        if (!e)
            goto short_read;
        idx = le_get16(e);
        num = le_get16(e + 2);
        vec = le_get16(e + 4);
        if (idx >= VIRTIO_QUEUE_MAX || (int)idx <= prev)
            return error_invalid(err,
                                 "virtio state at byte %zu: queue index %u out of order or not "
                                 "below %u",
                                 at, idx, VIRTIO_QUEUE_MAX);
        prev = idx;
        /* A driver can resize a queue but never create or remove one (queue_set_num). */
        if (num > VIRTIO_QUEUE_MAX || !num != !vp->vq[idx].num_max)
            return error_invalid(err,
                                 "virtio state at byte %zu: queue %u has size %u, the "
                                 "device's size is %u",
                                 at + 2, idx, num, vp->vq[idx].num_max);
        if (!vector_ok(vp, vec))
            return error_invalid(err,
                                 "virtio state at byte %zu: queue %u vector %u, the device "
                                 "has %u vectors",
                                 at + 4, idx, vec, vp->nvectors);
        if (e[8] > 1 || e[9] > 1)
            return error_invalid(err, "virtio state at byte %zu: queue %u enable/reset not 0/1",
                                 at + 8, idx);
    }
    at = r.pos;
    dev_len = sreader_u32(&r);
    if (!sreader_ok(&r))
        goto short_read;
    if (dev_len != sreader_left(&r))
        return error_invalid(err, "virtio state at byte %zu: device state of %u bytes, %zu remain",
                             at, dev_len, sreader_left(&r));
    if (vp->vdc->state_check)
        return vp->vdc->state_check(vp, r.p + r.pos, dev_len, err);
    if (dev_len)
        return error_invalid(err,
                             "virtio state at byte %zu: %u bytes of device state for a device "
                             "that has none",
                             at, dev_len);
    return 0;

short_read:
    return error_invalid(err, "virtio state is truncated at byte %zu", r.bad_at);
}

void virtio_pci_state_load(struct pci_device *d, const uint8_t *p, size_t len, uint32_t version)
{
    struct virtio_pci *vp = container_of(d, struct virtio_pci, pci);
    struct sreader r = sreader_init(p, len);
    uint8_t flags;
    uint16_t nq;
    uint32_t dev_len;

    (void)version;
    vp->status = sreader_u8(&r);
    vp->isr = sreader_u8(&r);
    vp->config_generation = sreader_u8(&r);
    flags = sreader_u8(&r);
    vp->broken = flags & FLAG_BROKEN;
    vp->disabled = flags & FLAG_DISABLED;
    vp->queue_sel = sreader_u16(&r);
    vp->config_vector = sreader_u16(&r);
    vp->dfselect = sreader_u32(&r);
    vp->gfselect = sreader_u32(&r);
    vp->guest_features_reg[0] = sreader_u32(&r);
    vp->guest_features_reg[1] = sreader_u32(&r);
    vp->guest_features = sreader_u64(&r);
    sreader_u8(&r);
    memcpy(vp->config, sreader_bytes(&r, vp->config_len), vp->config_len);
    sreader_u16(&r);
    for (unsigned v = 0; v < vp->nvectors; v++)
        vp->vector_use[v] = sreader_u32(&r);

    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        struct virtio_queue *q = &vp->vq[i];

        *q = (struct virtio_queue){
            .num = q->num_max, .num_max = q->num_max, .vector = VIRTIO_MSI_NO_VECTOR};
    }
    nq = sreader_u16(&r);
    for (unsigned i = 0; i < nq; i++) {
        struct virtio_queue *q = &vp->vq[sreader_u16(&r)];

        q->num = sreader_u16(&r);
        q->vector = sreader_u16(&r);
        q->reg_num = sreader_u16(&r);
        q->enabled = sreader_u8(&r);
        q->reset = sreader_u8(&r);
        q->desc = sreader_u64(&r);
        q->avail = sreader_u64(&r);
        q->used = sreader_u64(&r);
        q->notifications = sreader_u64(&r);
        for (int k = 0; k < 2; k++)
            q->reg_desc[k] = sreader_u32(&r);
        for (int k = 0; k < 2; k++)
            q->reg_avail[k] = sreader_u32(&r);
        for (int k = 0; k < 2; k++)
            q->reg_used[k] = sreader_u32(&r);
    }
    dev_len = sreader_u32(&r);
    if (vp->vdc->state_load)
        vp->vdc->state_load(vp, r.p + r.pos, dev_len);
}
