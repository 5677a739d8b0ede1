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
#include "../pci/pcie.h"
#include "../pci/pcie_aer.h"

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
    {"x-legacy-mmr", QDEV_PROP_BOOL, VO(x_legacy_mmr), "off", 0, NULL,
     "legacy registers in a memory BAR too (pcid; PCIe port, legacy interface)"},
    {0},
};

#define PM_PMC_VERSION_1_2 0x3    /* PCI PM 1.2 compliant (QEMU's value) */
#define ATS_CAP            4      /* PCIe 4.0 §10.5.1.2: ATS Capability register */
#define ATS_CTRL           6      /* ATS Control register */
#define ATS_CAP_PAGE_ALIGN 0x0020 /* Page Aligned Request */
#define ATS_CTRL_WMASK     0x800f /* Enable, Smallest Translation Unit */
#define ATS_SIZEOF         8
#define ATS_VERSION        1

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

static bool pcie_port(const struct qdev_env *env)
{
    return env->express_bus && !env->root_bus;
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
    if (o->x_legacy_mmr && !legacy_enabled(o, env))
        return error_invalid(err, "x-legacy-mmr=on needs the legacy interface (disable-legacy=off "
                                  "or a -transitional device)");
    if (o->x_legacy_mmr && (!pcie_port(env) || o->disable_modern || o->x_disable_pcie))
        return error_invalid(err, "x-legacy-mmr=on needs a PCI Express function: a device with "
                                  "the modern interface behind a PCIe port");
    return 0;
}

/* QEMU's pcie_ats_init. */
static int ats_init(struct pci_device *d, uint16_t offset, bool page_aligned)
{
    int r = pci_ext_cap_add(d, PCI_EXT_CAP_ID_ATS, ATS_VERSION, offset, ATS_SIZEOF);

    if (r < 0)
        return r;
    le_set16(d->config + offset + ATS_CAP, page_aligned ? ATS_CAP_PAGE_ALIGN : 0);
    le_set16(d->wmask + offset + ATS_CTRL, ATS_CTRL_WMASK);
    return r;
}

/* The PCI Express part of QEMU's virtio_pci_realize, before the virtio capabilities. Returns
 * the first free extended capability offset, or -errno. */
static int pcie_init(struct virtio_pci *vp, const struct virtio_pci_opts *o)
{
    struct pci_device *d = &vp->pci;
    int last = PCI_EXT_CAP_START, pm;

    if (pcie_endpoint_cap_init(d, 0, false) < 0)
        return -ENOSPC;
    pm = pci_cap_add(d, PCI_CAP_ID_PM, 0, PCI_PM_SIZEOF);
    if (pm < 0)
        return pm;
    d->pm_cap = (uint8_t)pm;
    le_set16(d->config + pm + PCI_PM_PMC, PM_PMC_VERSION_1_2);
    if (o->aer) {
        if (pcie_aer_init(d, (uint16_t)last, 0, false) < 0)
            return -ENOSPC;
        last += PCI_ERR_SIZEOF;
    }
    if (o->x_pcie_deverr_init)
        pcie_cap_deverr_init(d);
    if (o->x_pcie_lnkctl_init)
        pcie_cap_lnkctl_init(d);
    if (o->x_pcie_pm_init)
        le_set16(d->wmask + pm + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK);
    if (o->ats) {
        if (ats_init(d, (uint16_t)last, o->x_ats_page_aligned) < 0)
            return -ENOSPC;
        last += ATS_SIZEOF;
    }
    if (o->x_pcie_flr_init) {
        pcie_cap_flr_init(d);
        vp->flr = true;
    }
    return last;
}

/* pcid's legacy MMR capability and BAR3 (layout in virtio_pci.h). */
static int legacy_mmr_init(struct virtio_pci *vp, uint16_t offset)
{
    struct pci_device *d = &vp->pci;
    uint8_t *c = d->config + offset;
    int r = pci_ext_cap_add(d, PCI_EXT_CAP_ID_VNDR, 1, offset, VIRTIO_PCI_LEGACY_MMR_CAP_SIZE);

    if (r < 0)
        return r;
    le_set32(c + PCI_VNDR_HEADER, VIRTIO_PCI_LEGACY_MMR_VSEC_ID |
                                      (uint32_t)VIRTIO_PCI_LEGACY_MMR_VSEC_REV << 16 |
                                      (uint32_t)VIRTIO_PCI_LEGACY_MMR_CAP_SIZE << 20);
    c[VIRTIO_PCI_LEGACY_MMR_TYPE] = VIRTIO_PCI_CAP_LEGACY_MMR_CFG;
    c[VIRTIO_PCI_LEGACY_MMR_BARNO] = VIRTIO_PCI_LEGACY_MMR_BAR;
    le_set32(c + VIRTIO_PCI_LEGACY_MMR_OFFSET, 0);
    le_set32(c + VIRTIO_PCI_LEGACY_MMR_LENGTH, vp->legacy_size);
    return pci_bar_register(d, VIRTIO_PCI_LEGACY_MMR_BAR, VIRTIO_PCI_LEGACY_MMR_BAR_SIZE,
                            PCI_BASE_ADDRESS_SPACE_MEMORY, &virtio_pci_legacy_mmr_ops, vp);
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
    bool express;
    int r, ext_end = 0;

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

    /* QEMU makes a modern device PCI Express, and takes it back unless behind a port. */
    express = vp->modern && !o->x_disable_pcie && pcie_port(env);
    r = pci_dev_init(d, NULL, express ? PCIE_CONFIG_SPACE_SIZE : PCI_CONFIG_SPACE_SIZE,
                     PCI_HEADER_TYPE_NORMAL);
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
    if (express) {
        ext_end = pcie_init(vp, o);
        if (ext_end < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                              "no room for PCI Express capabilities");
    }

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
        vp->legacy_size = (uint32_t)size;
        if (o->x_legacy_mmr && legacy_mmr_init(vp, (uint16_t)ext_end) < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                              "no room for the legacy MMR capability");
    }

    return pci_dev_opts_apply_rom(d, drv, &o->pci, env, err);
}
