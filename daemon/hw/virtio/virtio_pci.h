/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.h — the virtio PCI transport (virtio 1.2 §4.1) shared by virtio-net-pci and
 * virtio-blk-pci: legacy I/O BAR0 (§4.1.4.10), modern vendor capabilities in the 64-bit
 * prefetchable BAR4 (common, ISR, device, notify), the PCI-cfg access capability (§4.1.4.9),
 * and MSI-X in BAR1. The layout and defaults are QEMU 7.2's, so a device reads byte for byte
 * as QEMU's does for the same properties:
 *   BAR0 legacy I/O, size pow2(20 or 24 with MSI-X + device config length)
 *   BAR1 MSI-X table at 0, PBA at 0x800 (4 KiB while they fit)
 *   BAR2 modern PIO notify (4 bytes, only with modern-pio-notify=on)
 *   BAR4 common 0x0000, ISR 0x1000, device 0x2000, notify 0x3000 (each 4 KiB; notify
 *        4 bytes per queue, or a page per queue with page-per-vq=on)
 *   capabilities in this order, each at first fit: common, ISR, device, notify, [PIO notify],
 *   PCI-cfg access, MSI-X — so on a conventional bus they land at 0x40, 0x50, 0x60, 0x70,
 *   0x84 and 0x98.
 * Behind a PCI Express port a device with the modern interface is a PCIe endpoint (QEMU's
 * virtio_pci_realize): 4 KiB config space, the PCI Express capability at 0x40 and Power
 * Management at 0x7c come first; extended capabilities from 0x100: AER (aer=on), ATS (ats=on),
 * then pcid's legacy MMR capability (below). Elsewhere, or legacy-only, it stays conventional.
 * Behind a port disable-legacy=auto means on (modern-only), as QEMU.
 *
 * Legacy MMR (pcid's extension; QEMU 7.2 has none; property x-legacy-mmr=on on a transitional
 * device behind a PCIe port): the legacy register block of BAR0 is also served from memory,
 * so a guest without I/O space can drive a transitional device. Layout, chosen not to collide
 * with QEMU's BARs (0 legacy I/O, 1 MSI-X, 2 PIO notify, 4-5 modern memory):
 *   BAR3  32-bit non-prefetchable memory, 4 KiB; offset 0 is legacy register 0, the block is
 *         as long as BAR0 (header, then device configuration); the rest of the BAR reads 0
 *   a Vendor-Specific Extended Capability (PCIe 4.0 §7.9.5, ID 0x000b, version 1) after the
 *   other extended capabilities (0x100 without AER/ATS):
 *     +0x00  extended capability header
 *     +0x04  VSEC ID 0x1af4 (the virtio vendor), VSEC revision 1, VSEC length 0x14
 *     +0x08  cfg_type 10 (VIRTIO_PCI_CAP_LEGACY_MMR_CFG), +0x09 bar (3), +0x0a padding (2)
 *     +0x0c  offset (le32, 0), +0x10 length (le32, the legacy block's size)
 *   read-only to the guest.
 * Register behaviour (virtio_pci_regs.c) is QEMU 7.2's as a guest sees it: accesses are split
 * into naturally aligned pieces of at most 4 bytes, as QEMU's memory core does, and each piece
 * is decoded by its offset alone (a 4-byte read of a 1-byte register returns that register).
 *
 * Ownership: a device model embeds `struct virtio_pci` first in its own structure.
 * Threads: realize on the control plane. Register access comes from vCPU threads with pci.lock
 * held (BAR ops, config writes); the config read hook takes the lock itself. The functions
 * below that change state need pci.lock held by the caller.
 */
#ifndef PCID_HW_VIRTIO_PCI_H
#define PCID_HW_VIRTIO_PCI_H

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "../pci/msix.h"
#include "../pci/pci.h"
#include "../qdev.h"

#define VIRTIO_QUEUE_MAX          1024 /* QEMU's VIRTIO_QUEUE_MAX */
#define VIRTIO_PCI_VENDOR_ID      0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE 0x1040 /* virtio 1.2 §4.1.2.1: 0x1040 + device ID */
#define VIRTIO_PCI_SUBSYS_QEMU    0x1100 /* QEMU's default subsystem ID */

/* BAR indexes QEMU 7.2 uses, and pcid's legacy MMR BAR. */
#define VIRTIO_PCI_LEGACY_BAR     0
#define VIRTIO_PCI_MSIX_BAR       1
#define VIRTIO_PCI_MODERN_IO_BAR  2
#define VIRTIO_PCI_LEGACY_MMR_BAR 3
#define VIRTIO_PCI_MODERN_MEM_BAR 4

/* The legacy MMR capability (see above). */
#define VIRTIO_PCI_CAP_LEGACY_MMR_CFG  10
#define VIRTIO_PCI_LEGACY_MMR_BAR_SIZE 4096
#define VIRTIO_PCI_LEGACY_MMR_VSEC_ID  0x1af4
#define VIRTIO_PCI_LEGACY_MMR_VSEC_REV 1
#define VIRTIO_PCI_LEGACY_MMR_CAP_SIZE 0x14
#define VIRTIO_PCI_LEGACY_MMR_TYPE     0x08 /* offsets inside the capability */
#define VIRTIO_PCI_LEGACY_MMR_BARNO    0x09
#define VIRTIO_PCI_LEGACY_MMR_OFFSET   0x0c
#define VIRTIO_PCI_LEGACY_MMR_LENGTH   0x10

/* Offsets of the structures in the modern memory BAR, each 4 KiB. */
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_ISR_OFFSET    0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_REGION_SIZE   0x1000

/* Sizes of the vendor capability structures (virtio 1.2 §4.1.4). */
#define VIRTIO_PCI_CAP_SIZE        16
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20
#define VIRTIO_PCI_CFG_CAP_SIZE    20
#define VIRTIO_PCI_CFG_DATA        16 /* pci_cfg_data in struct virtio_pci_cfg_cap (§4.1.4.9) */

/* Legacy header length without and with MSI-X (virtio 1.2 §4.1.4.10). */
#define VIRTIO_PCI_LEGACY_HDR      20
#define VIRTIO_PCI_LEGACY_HDR_MSIX 24

/* `vectors` left unset: the device picks (QEMU's DEV_NVECTORS_UNSPECIFIED). */
#define VIRTIO_VECTORS_UNSPECIFIED UINT32_MAX

/* Transport options every virtio-pci device has (after struct pci_dev_opts). */
struct virtio_pci_opts {
    struct pci_dev_opts pci;
    enum qdev_on_off_auto disable_legacy;
    bool disable_modern;
    uint32_t vectors;
    bool ioeventfd, page_per_vq, modern_pio_notify, x_disable_pcie, migrate_extra;
    bool bus_master_bug_migration, x_ignore_backend_features, ats, x_ats_page_aligned, aer;
    bool x_pcie_deverr_init, x_pcie_lnkctl_init, x_pcie_pm_init, x_pcie_flr_init;
    bool use_started, use_disabled_flag, x_disable_legacy_check;
    bool x_legacy_mmr;           /* pcid: legacy registers in memory BAR3 (see above) */
    uint64_t transport_features; /* indirect_desc, event_idx, notify_on_empty, ... */
};

/* The property rows every virtio-pci driver appends to its own (ends with {0}). */
extern const struct qdev_prop virtio_pci_props[];
/* Defaults of the -transitional and -non-transitional driver variants. */
extern const struct qdev_default virtio_pci_transitional_defaults[];
extern const struct qdev_default virtio_pci_non_transitional_defaults[];
/* Defaults of the transport feature bits (VIRTIO_RING_F_INDIRECT_DESC, ...). */
#define VIRTIO_PCI_TRANSPORT_FEATURES_MASK                                                         \
    ((1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX) |                   \
     (1ull << VIRTIO_F_NOTIFY_ON_EMPTY) | (1ull << VIRTIO_F_ANY_LAYOUT) |                          \
     (1ull << VIRTIO_F_IOMMU_PLATFORM) | (1ull << VIRTIO_F_RING_PACKED) |                          \
     (1ull << VIRTIO_F_RING_RESET))

struct virtio_pci;

/* QEMU's VIRTIO_LEGACY_FEATURES: offered to legacy drivers only, hidden from device_feature. */
#define VIRTIO_F_BAD_FEATURE 30
#define VIRTIO_LEGACY_FEATURES                                                                     \
    ((1ull << VIRTIO_F_BAD_FEATURE) | (1ull << VIRTIO_F_NOTIFY_ON_EMPTY) |                         \
     (1ull << VIRTIO_F_ANY_LAYOUT))

/* Largest device-specific configuration of the models here (virtio-blk: 60 bytes). */
#define VIRTIO_PCI_CONFIG_MAX 64

/*
 * What the device half (net, blk) supplies. The hooks run with the device lock held, on a
 * vCPU thread (guest access) or the control plane (reset).
 */
struct virtio_dev_class {
    uint16_t device_id;       /* virtio 1.2 §5: 1 network, 2 block */
    uint16_t trans_devid;     /* transitional PCI device ID (0x1000 + device_id - 1) */
    uint32_t class_code;      /* PCI class code */
    uint64_t legacy_features; /* hidden from modern drivers (QEMU's vdc->legacy_features) */
    uint64_t bad_features;    /* what a legacy driver acking VIRTIO_F_BAD_FEATURE gets */
    /* Refresh vp->config (config_len bytes) from the device's state before a read. */
    void (*get_config)(struct virtio_pci *vp);
    /* Apply vp->config after the driver wrote into it (QEMU's set_config; may be NULL). */
    void (*set_config)(struct virtio_pci *vp);
    /* The driver is about to set device_status to `status` (may be NULL). */
    void (*set_status)(struct virtio_pci *vp, uint8_t status);
    /* Device reset (status written 0, or RST#); may be NULL. */
    void (*reset)(struct virtio_pci *vp);
    /* Frees the model structure embedding the virtio_pci. */
    void (*destroy)(struct virtio_pci *vp);
    /*
     * Device-state snapshots of the device half (virtio_pci_state.c frames them inside the
     * transport's register state): save appends it (lock held); check validates `len` bytes
     * (0, or -EINVAL with `err` naming the byte and field; changes nothing); load applies what
     * check accepted (lock held). All three or none.
     */
    void (*state_save)(struct virtio_pci *vp, struct sbuf *out);
    int (*state_check)(const struct virtio_pci *vp, const uint8_t *p, size_t len,
                       struct error *err);
    void (*state_load)(struct virtio_pci *vp, const uint8_t *p, size_t len);
};

/* One virtqueue: the device's ring (QEMU's VirtQueue) and the modern staging registers. */
struct virtio_queue {
    uint16_t num;               /* ring size in use; 0 = the queue does not exist */
    uint16_t num_max;           /* the device's size (QEMU's num_default), a power of two */
    uint16_t vector;            /* MSI-X vector or VIRTIO_MSI_NO_VECTOR */
    uint64_t desc, avail, used; /* ring addresses in use (legacy: from the PFN) */
    uint64_t notifications;     /* guest kicks seen */

    /* Modern registers (QEMU's VirtIOPCIQueue), copied to the ring by queue_enable. */
    uint16_t reg_num;
    bool enabled, reset;
    uint32_t reg_desc[2], reg_avail[2], reg_used[2]; /* [0] low, [1] high dword */
};

struct virtio_pci {
    struct pci_device pci;
    const struct virtio_dev_class *vdc;
    const struct qdev_driver *drv;

    /* Transport layout, fixed at realize. */
    bool legacy, modern, modern_pio;
    bool flr;               /* Function Level Reset offered (x-pcie-flr-init, PCIe only) */
    uint32_t legacy_size;   /* bytes of the legacy register block (BAR0), 0 without it */
    bool use_disabled_flag; /* bus master off disables the device (use-disabled-flag) */
    uint16_t nvectors;      /* MSI-X vectors, 0 = no MSI-X */
    uint32_t notify_mult;   /* notify_off_multiplier: 4, or 4096 with page-per-vq */
    uint8_t cfg_cap;        /* offset of the PCI-cfg access capability, 0 without modern */

    /* Device state (virtio 1.2 §2). */
    uint64_t host_features;
    uint64_t guest_features;               /* accepted: written & host_features */
    uint8_t config[VIRTIO_PCI_CONFIG_MAX]; /* device configuration as last read or written */
    uint32_t config_len;
    uint16_t num_queues;
    bool broken;   /* virtio_error() was raised: interrupts stop until reset */
    bool disabled; /* bus mastering off: interrupts stop */
    struct virtio_queue vq[VIRTIO_QUEUE_MAX];

    /* Register state. */
    uint8_t status;
    uint8_t isr;
    uint8_t config_generation;
    uint16_t queue_sel;
    uint16_t config_vector;
    uint32_t dfselect, gfselect;
    uint32_t guest_features_reg[2];            /* driver_feature as written, per select */
    uint32_t vector_use[PCI_MSIX_MAX_VECTORS]; /* QEMU's msix_entry_used: users per vector */
};

/* Parameters the device model hands to the transport. */
struct virtio_pci_params {
    const struct virtio_dev_class *vdc;
    uint64_t host_features; /* device feature bits (transport bits are added) */
    uint32_t config_len;    /* bytes of device configuration */
    uint16_t num_queues;
    uint16_t queue_size;      /* maximum size of each queue */
    uint32_t default_vectors; /* used when `vectors` was not given */
};

/* virtio_pci_destroy() - the pci_dev_class destroy hook of every virtio model: hands the
 * embedding structure to its virtio_dev_class destroy. */
void virtio_pci_destroy(struct pci_device *d);

/*
 * virtio_pci_check_modes() - resolve disable-legacy=auto (off on a conventional bus, on behind
 * a PCIe port) and refuse a device with neither mode: "device cannot work as neither modern
 * nor legacy mode is enabled". Returns 0 or -EINVAL with `err` set. Call before the device
 * half is validated, as QEMU does.
 */
int virtio_pci_check_modes(const struct virtio_pci_opts *o, const struct qdev_env *env,
                           struct error *err);

/*
 * virtio_pci_realize() - build the transport's config space for `vp` (zeroed, embedded in its
 * model): IDs, class, subsystem, interrupt pin, vendor capabilities, MSI-X, BARs, ROM.
 * Returns 0 or -errno with `err` set; on failure the caller frees with pci_dev_destroy().
 */
int virtio_pci_realize(struct virtio_pci *vp, const struct qdev_driver *drv,
                       const struct virtio_pci_opts *o, const struct virtio_pci_params *p,
                       const struct qdev_env *env, struct error *err);

/* The BAR handlers virtio_pci_realize() registers; opaque is the struct virtio_pci. */
extern const struct pci_region_ops virtio_pci_legacy_ops;     /* BAR0: §4.1.4.10 */
extern const struct pci_region_ops virtio_pci_modern_ops;     /* BAR4: §4.1.4.3 - §4.1.4.7 */
extern const struct pci_region_ops virtio_pci_notify_pio_ops; /* BAR2: §4.1.4.4, queue = value */
extern const struct pci_region_ops virtio_pci_legacy_mmr_ops; /* BAR3: the BAR0 block in memory */

/*
 * virtio_pci_config_read() / virtio_pci_config_write() - the pci_dev_class hooks of every
 * virtio model: the PCI-cfg access window (virtio 1.2 §4.1.4.9) and the bus-master rule
 * (Command.MASTER cleared disables the device and drops DRIVER_OK). Reads take pci.lock when
 * they touch the window; writes run with it held.
 */
uint32_t virtio_pci_config_read(struct pci_device *d, uint32_t offset, unsigned len);
void virtio_pci_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);

/* virtio_pci_reset() - the pci_dev_class reset hook: the virtio device reset QEMU does on RST#
 * (after the generic PCI reset). Caller holds pci.lock. */
void virtio_pci_reset(struct pci_device *d);

/*
 * virtio_pci_notify_config() - the device configuration changed (virtio 1.2 §4.1.4.5): when
 * the driver is up (DRIVER_OK), bump config_generation, set ISR bits 0 and 1 (QEMU sets both)
 * and signal the msix_config vector, or INTx without MSI-X. Caller holds pci.lock.
 */
void virtio_pci_notify_config(struct virtio_pci *vp);

/*
 * Device-state snapshots (pci_dev_class hooks of every virtio model, virtio_pci_state.c): the
 * transport's register state — device status, ISR, selectors, features, the configuration
 * cache, MSI-X vector use, each virtqueue that is not in its reset state — and the device
 * half's state. Format VIRTIO_PCI_STATE_VERSION, documented in docs/state.md. Threads and
 * errors as struct pci_dev_class says.
 */
#define VIRTIO_PCI_STATE_VERSION 1
void virtio_pci_state_save(struct pci_device *d, struct sbuf *out);
int virtio_pci_state_check(const struct pci_device *d, const uint8_t *p, size_t len,
                           uint32_t version, struct error *err);
void virtio_pci_state_load(struct pci_device *d, const uint8_t *p, size_t len, uint32_t version);

/*
 * virtio_net_set_link() - link status of a virtio-net device (QMP set_link): updates
 * VIRTIO_NET_S_LINK_UP and notifies a configuration change when it changed. Takes pci.lock;
 * control plane or vCPU. Returns 0, or -ENODEV when `d` is not a virtio-net device.
 */
int virtio_net_set_link(struct pci_device *d, bool up);

#endif
