/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.c — virtio PCI transport: properties and the config-space layout (virtio 1.2
 * §4.1.4), as QEMU 7.2 builds it. Register behaviour behind the BARs is in virtio_pci_regs.c.
 */
#include "virtio_pci.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "../pci/msix.h"
#include "../pci/pci_cap.h"

#define VO(f) offsetof(struct virtio_pci_opts, f)

/* QEMU 7.2's virtio_pci_properties plus the common virtio device switches. */
const struct qdev_prop virtio_pci_props[] = {
    {"virtio-pci-bus-master-bug-migration", QDEV_PROP_BOOL, VO(bus_master_bug_migration), "off"},
    {"migrate-extra", QDEV_PROP_BOOL, VO(migrate_extra), "on"},
    {"modern-pio-notify", QDEV_PROP_BOOL, VO(modern_pio_notify), "off"},
    {"x-disable-pcie", QDEV_PROP_BOOL, VO(x_disable_pcie), "off"},
    {"page-per-vq", QDEV_PROP_BOOL, VO(page_per_vq), "off"},
    {"x-ignore-backend-features", QDEV_PROP_BOOL, VO(x_ignore_backend_features), "off"},
    {"ats", QDEV_PROP_BOOL, VO(ats), "off"},
    {"x-ats-page-aligned", QDEV_PROP_BOOL, VO(x_ats_page_aligned), "on"},
    {"x-pcie-deverr-init", QDEV_PROP_BOOL, VO(x_pcie_deverr_init), "on"},
    {"x-pcie-lnkctl-init", QDEV_PROP_BOOL, VO(x_pcie_lnkctl_init), "on"},
    {"x-pcie-pm-init", QDEV_PROP_BOOL, VO(x_pcie_pm_init), "on"},
    {"x-pcie-flr-init", QDEV_PROP_BOOL, VO(x_pcie_flr_init), "on"},
    {"aer", QDEV_PROP_BOOL, VO(aer), "off"},
    {"disable-legacy", QDEV_PROP_ONOFFAUTO, VO(disable_legacy), "auto"},
    {"disable-modern", QDEV_PROP_BOOL, VO(disable_modern), "off"},
    {"ioeventfd", QDEV_PROP_BOOL, VO(ioeventfd), "on"},
    {"vectors", QDEV_PROP_UINT32, VO(vectors), "4294967295"},
    {"indirect_desc", QDEV_PROP_BIT64, VO(transport_features), "on", VIRTIO_RING_F_INDIRECT_DESC},
    {"event_idx", QDEV_PROP_BIT64, VO(transport_features), "on", VIRTIO_RING_F_EVENT_IDX},
    {"notify_on_empty", QDEV_PROP_BIT64, VO(transport_features), "on", VIRTIO_F_NOTIFY_ON_EMPTY},
    {"any_layout", QDEV_PROP_BIT64, VO(transport_features), "on", VIRTIO_F_ANY_LAYOUT},
    {"iommu_platform", QDEV_PROP_BIT64, VO(transport_features), "off", VIRTIO_F_IOMMU_PLATFORM},
    {"packed", QDEV_PROP_BIT64, VO(transport_features), "off", VIRTIO_F_RING_PACKED},
    {"queue_reset", QDEV_PROP_BIT64, VO(transport_features), "on", VIRTIO_F_RING_RESET},
    {"use-started", QDEV_PROP_BOOL, VO(use_started), "on"},
    {"use-disabled-flag", QDEV_PROP_BOOL, VO(use_disabled_flag), "on"},
    {"x-disable-legacy-check", QDEV_PROP_BOOL, VO(x_disable_legacy_check), "off"},
    {0},
};

/* QEMU's virtio_pci_transitional_instance_init / _non_transitional_instance_init. */
const struct qdev_default virtio_pci_transitional_defaults[] = {
    {"disable-legacy", "off"}, {"disable-modern", "off"}, {0}};
const struct qdev_default virtio_pci_non_transitional_defaults[] = {
    {"disable-legacy", "on"}, {"disable-modern", "off"}, {0}};

void virtio_pci_destroy(struct pci_device *d)
{
    struct virtio_pci *vp = container_of(d, struct virtio_pci, pci);

    vp->vdc->destroy(vp);
}

static bool legacy_enabled(const struct virtio_pci_opts *o, const struct qdev_env *env)
{
    bool pcie_port = env->express_bus && !env->root_bus;

    if (o->disable_legacy == QDEV_AUTO)
        return !pcie_port;
    return o->disable_legacy == QDEV_OFF;
}

int virtio_pci_check_modes(const struct virtio_pci_opts *o, const struct qdev_env *env,
                           struct error *err)
{
    if (!legacy_enabled(o, env) && o->disable_modern)
        return error_invalid(err,
                             "device cannot work as neither modern nor legacy mode is enabled");
    return 0;
}

/* Add one vendor capability describing a structure in a BAR (virtio 1.2 §4.1.4). */
static int add_vendor_cap(struct pci_device *d, uint8_t len, uint8_t cfg_type, uint8_t bar,
                          uint32_t offset, uint32_t length)
{
    int cap = pci_cap_add(d, PCI_CAP_ID_VNDR, 0, len);

    if (cap < 0)
        return cap;
    d->config[cap + VIRTIO_PCI_CAP_LEN] = len;
    d->config[cap + VIRTIO_PCI_CAP_CFG_TYPE] = cfg_type;
    d->config[cap + VIRTIO_PCI_CAP_BAR] = bar;
    le_set32(d->config + cap + VIRTIO_PCI_CAP_OFFSET, offset);
    le_set32(d->config + cap + VIRTIO_PCI_CAP_LENGTH, length);
    return cap;
}

int virtio_pci_realize(struct virtio_pci *vp, const struct qdev_driver *drv,
                       const struct virtio_pci_opts *o, const struct virtio_pci_params *p,
                       const struct qdev_env *env, struct error *err)
{
    struct pci_device *d = &vp->pci;
    uint32_t vectors = o->vectors == VIRTIO_VECTORS_UNSPECIFIED ? p->default_vectors : o->vectors;
    uint32_t notify_size, bar_size;
    int r;

    vp->vdc = p->vdc;
    vp->drv = drv;
    d->read_hook_start = d->read_hook_end = 0; /* only the PCI-cfg window's data needs the hook */
    vp->legacy = legacy_enabled(o, env);
    vp->modern = !o->disable_modern;
    vp->modern_pio = o->modern_pio_notify;
    vp->use_disabled_flag = o->use_disabled_flag;
    vp->notify_mult = o->page_per_vq ? 0x1000 : 4;
    vp->host_features =
        p->host_features | (o->transport_features & VIRTIO_PCI_TRANSPORT_FEATURES_MASK);
    if (vp->modern)
        vp->host_features |= 1ull << VIRTIO_F_VERSION_1;
    vp->host_features |= 1ull << VIRTIO_F_BAD_FEATURE; /* QEMU offers it to legacy drivers */
    if (p->config_len > VIRTIO_PCI_CONFIG_MAX)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                          "virtio device configuration of %u bytes", p->config_len);
    vp->config_len = p->config_len;
    vp->num_queues = p->num_queues;
    /* Every queue's vector starts at NO_VECTOR, the ones the device lacks too (QEMU's
     * virtio_init), so a hot-plugged device reads as a reset one. */
    for (unsigned q = 0; q < VIRTIO_QUEUE_MAX; q++)
        vp->vq[q].vector = VIRTIO_MSI_NO_VECTOR;
    for (unsigned q = 0; q < p->num_queues && q < VIRTIO_QUEUE_MAX; q++) {
        vp->vq[q].num_max = p->queue_size;
        vp->vq[q].num = p->queue_size;
    }
    vp->config_vector = VIRTIO_MSI_NO_VECTOR;

    if (vp->legacy && (vp->host_features & (1ull << VIRTIO_F_IOMMU_PLATFORM)))
        return error_invalid(err, "VIRTIO_F_IOMMU_PLATFORM was supported by neither legacy nor "
                                  "transitional device");

    r = pci_dev_init(d, NULL, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL);
    if (r < 0)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");

    if (vp->legacy) {
        /* Transitional: the old device ID and the virtio device ID as subsystem. */
        pci_dev_set_ids(d, VIRTIO_PCI_VENDOR_ID, p->vdc->trans_devid, 0, p->vdc->class_code);
        pci_dev_set_subsystem(d, VIRTIO_PCI_VENDOR_ID, p->vdc->device_id);
    } else {
        pci_dev_set_ids(d, VIRTIO_PCI_VENDOR_ID,
                        (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + p->vdc->device_id), 1,
                        p->vdc->class_code);
        pci_dev_set_subsystem(d, VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_SUBSYS_QEMU);
    }
    pci_dev_set_irq_pin(d, 1);

    if (vp->modern) {
        int cap;

        notify_size = vp->notify_mult * VIRTIO_QUEUE_MAX;
        if (add_vendor_cap(d, VIRTIO_PCI_CAP_SIZE, VIRTIO_PCI_CAP_COMMON_CFG,
                           VIRTIO_PCI_MODERN_MEM_BAR, VIRTIO_PCI_COMMON_OFFSET,
                           VIRTIO_PCI_REGION_SIZE) < 0 ||
            add_vendor_cap(d, VIRTIO_PCI_CAP_SIZE, VIRTIO_PCI_CAP_ISR_CFG,
                           VIRTIO_PCI_MODERN_MEM_BAR, VIRTIO_PCI_ISR_OFFSET,
                           VIRTIO_PCI_REGION_SIZE) < 0 ||
            add_vendor_cap(d, VIRTIO_PCI_CAP_SIZE, VIRTIO_PCI_CAP_DEVICE_CFG,
                           VIRTIO_PCI_MODERN_MEM_BAR, VIRTIO_PCI_DEVICE_OFFSET,
                           VIRTIO_PCI_REGION_SIZE) < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                              "no room for virtio capabilities");
        cap = add_vendor_cap(d, VIRTIO_PCI_NOTIFY_CAP_SIZE, VIRTIO_PCI_CAP_NOTIFY_CFG,
                             VIRTIO_PCI_MODERN_MEM_BAR, VIRTIO_PCI_NOTIFY_OFFSET, notify_size);
        if (cap < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                              "no room for virtio capabilities");
        le_set32(d->config + cap + VIRTIO_PCI_NOTIFY_CAP_MULT, vp->notify_mult);

        if (vp->modern_pio) {
            r = pci_bar_register(d, VIRTIO_PCI_MODERN_IO_BAR, 4, PCI_BASE_ADDRESS_SPACE_IO,
                                 &virtio_pci_notify_pio_ops, vp);
            cap = add_vendor_cap(d, VIRTIO_PCI_NOTIFY_CAP_SIZE, VIRTIO_PCI_CAP_NOTIFY_CFG,
                                 VIRTIO_PCI_MODERN_IO_BAR, 0, 4);
            if (r < 0 || cap < 0)
                return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                                  "no room for virtio capabilities");
            le_set32(d->config + cap + VIRTIO_PCI_NOTIFY_CAP_MULT, 0);
        }

        bar_size = (uint32_t)pow2ceil(VIRTIO_PCI_NOTIFY_OFFSET + (uint64_t)notify_size);
        r = pci_bar_register(d, VIRTIO_PCI_MODERN_MEM_BAR, bar_size,
                             PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_PREFETCH |
                                 PCI_BASE_ADDRESS_MEM_TYPE_64,
                             &virtio_pci_modern_ops, vp);
        cap = add_vendor_cap(d, VIRTIO_PCI_CFG_CAP_SIZE, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0);
        if (r < 0 || cap < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                              "no room for virtio capabilities");
        vp->cfg_cap = (uint8_t)cap;
        d->read_hook_start = (uint16_t)(cap + VIRTIO_PCI_CFG_DATA);
        d->read_hook_end = (uint16_t)(cap + VIRTIO_PCI_CFG_DATA + 4);
        /* The driver programs bar, offset, length and data of this window (§4.1.4.9). */
        d->wmask[cap + VIRTIO_PCI_CAP_BAR] = 0xff;
        le_set32(d->wmask + cap + VIRTIO_PCI_CAP_OFFSET, 0xffffffffu);
        le_set32(d->wmask + cap + VIRTIO_PCI_CAP_LENGTH, 0xffffffffu);
        le_set32(d->wmask + cap + VIRTIO_PCI_CAP_SIZE, 0xffffffffu);
    }

    /* QEMU gives up MSI-X (with a warning) when the vector count cannot be honoured. */
    if (vectors >= 1 && vectors <= PCI_MSIX_MAX_VECTORS &&
        msix_init_exclusive_bar(d, (uint16_t)vectors, VIRTIO_PCI_MSIX_BAR) >= 0)
        vp->nvectors = (uint16_t)vectors;

    if (vp->legacy) {
        uint64_t size = (vp->nvectors ? VIRTIO_PCI_LEGACY_HDR_MSIX : VIRTIO_PCI_LEGACY_HDR) +
                        (uint64_t)p->config_len;
        size = pow2ceil(size);
        if (size > 256)
            return error_invalid(err, "virtio legacy I/O BAR of %llu bytes exceeds 256",
                                 (unsigned long long)size);
        r = pci_bar_register(d, VIRTIO_PCI_LEGACY_BAR, size, PCI_BASE_ADDRESS_SPACE_IO,
                             &virtio_pci_legacy_ops, vp);
        if (r < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "legacy BAR");
    }

    return pci_dev_opts_apply_rom(d, drv, &o->pci, env, err);
}
