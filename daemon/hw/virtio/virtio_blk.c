/* SPDX-License-Identifier: MIT */
/*
 * virtio_blk.c — virtio-blk-pci (virtio 1.2 §5.2), with QEMU 7.2's properties and defaults.
 *
 * The device needs a block backend (`drive`, a node made with --blockdev / blockdev-add);
 * pcid's only backend is null-co (reads zeroes, 1 GiB). The modelled guest has one CPU, so
 * num-queues defaults to 1 and vectors to num-queues + 1, as QEMU with -smp 1.
 * Device configuration length: 36 bytes, to 48 with discard, 57 with write-zeroes.
 */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <string.h>

#include "../../machine/backend.h"
#include "../../util/sbuf.h"
#include "virtio_pci.h"

#define VIRTIO_ID_BLOCK_TRANSITIONAL 0x1001
#define BLK_CFG_MIN                  36 /* up to num_queues */
#define BLK_CFG_END_DISCARD          48 /* up to discard_sector_alignment */
#define BLK_CFG_END_WRITE_ZEROES     57 /* up to write_zeroes_may_unmap */
#define BLK_CFG_MAX                  60
#define BLK_NUM_QUEUES_AUTO          0xffff
#define BLK_SECTOR_SIZE              512
#define BLK_REQUEST_MAX_SECTORS      (0x7fffffff >> 9) /* QEMU's BDRV_REQUEST_MAX_SECTORS */
#define BLK_CFG_WCE                  32 /* writeback: struct virtio_blk_config.wce (§5.2.4) */

struct virtio_blk_opts {
    struct virtio_pci_opts vpci;
    uint64_t features;
    char *drive, *serial;
    uint32_t logical_block_size, physical_block_size, min_io_size, opt_io_size;
    uint32_t discard_granularity, max_discard_sectors, max_write_zeroes_sectors;
    uint32_t cyls, heads, secs;
    uint16_t num_queues, queue_size;
    enum qdev_on_off_auto write_cache;
    bool share_rw, seg_max_adjust, report_discard_granularity, x_enable_wce_if_config_wce;
    int32_t bootindex;
};

struct virtio_blk_pci {
    struct virtio_pci vp;
    char *drive;
    uint8_t cfg[BLK_CFG_MAX]; /* the device's configuration, wce apart */
    bool wce, original_wce;   /* the backend's write cache now and as configured */
};

#define BO(f)  offsetof(struct virtio_blk_opts, f)
#define BLKDEV "virtio-blk-device"

static const struct qdev_prop virtio_blk_props[] = {
    {"drive", QDEV_PROP_DRIVE, BO(drive), NULL, 0, BLKDEV,
     "Node name or ID of a block device to use as a backend"},
    {"logical_block_size", QDEV_PROP_UINT32, BO(logical_block_size), "0", 0, BLKDEV, NULL},
    {"physical_block_size", QDEV_PROP_UINT32, BO(physical_block_size), "0", 0, BLKDEV, NULL},
    {"min_io_size", QDEV_PROP_UINT32, BO(min_io_size), "0", 0, BLKDEV, NULL},
    {"opt_io_size", QDEV_PROP_UINT32, BO(opt_io_size), "0", 0, BLKDEV, NULL},
    {"discard_granularity", QDEV_PROP_UINT32, BO(discard_granularity), "4294967295", 0, BLKDEV,
     NULL},
    {"write-cache", QDEV_PROP_ONOFFAUTO, BO(write_cache), "auto", 0, BLKDEV, NULL},
    {"share-rw", QDEV_PROP_BOOL, BO(share_rw), "off", 0, BLKDEV, NULL},
    {"cyls", QDEV_PROP_UINT32, BO(cyls), "0", 0, BLKDEV, NULL},
    {"heads", QDEV_PROP_UINT32, BO(heads), "0", 0, BLKDEV, NULL},
    {"secs", QDEV_PROP_UINT32, BO(secs), "0", 0, BLKDEV, NULL},
    {"serial", QDEV_PROP_STR, BO(serial), NULL, 0, BLKDEV, NULL},
    {"config-wce", QDEV_PROP_BIT64, BO(features), "on", VIRTIO_BLK_F_CONFIG_WCE, BLKDEV, "on/off"},
    {"num-queues", QDEV_PROP_UINT16, BO(num_queues), "65535", 0, BLKDEV, NULL},
    {"queue-size", QDEV_PROP_UINT16, BO(queue_size), "256", 0, BLKDEV, NULL},
    {"seg-max-adjust", QDEV_PROP_BOOL, BO(seg_max_adjust), "on", 0, BLKDEV, NULL},
    {"discard", QDEV_PROP_BIT64, BO(features), "on", VIRTIO_BLK_F_DISCARD, BLKDEV, "on/off"},
    {"report-discard-granularity", QDEV_PROP_BOOL, BO(report_discard_granularity), "on", 0, BLKDEV,
     NULL},
    {"write-zeroes", QDEV_PROP_BIT64, BO(features), "on", VIRTIO_BLK_F_WRITE_ZEROES, BLKDEV,
     "on/off"},
    {"max-discard-sectors", QDEV_PROP_UINT32, BO(max_discard_sectors), "4194303", 0, BLKDEV, NULL},
    {"max-write-zeroes-sectors", QDEV_PROP_UINT32, BO(max_write_zeroes_sectors), "4194303", 0,
     BLKDEV, NULL},
    {"x-enable-wce-if-config-wce", QDEV_PROP_BOOL, BO(x_enable_wce_if_config_wce), "on", 0, BLKDEV,
     NULL},
    {"bootindex", QDEV_PROP_INT32, BO(bootindex), "-1", 0, NULL, NULL},
    {0},
};

static void blk_destroy(struct virtio_pci *vp)
{
    struct virtio_blk_pci *b = container_of(vp, struct virtio_blk_pci, vp);

    free(b->drive);
    free(b);
}

static void blk_get_config(struct virtio_pci *vp)
{
    struct virtio_blk_pci *b = container_of(vp, struct virtio_blk_pci, vp);

    memcpy(vp->config, b->cfg, vp->config_len);
    vp->config[BLK_CFG_WCE] = b->wce;
}

/* wce is the one writable field; QEMU applies it whatever the driver negotiated. */
static void blk_set_config(struct virtio_pci *vp)
{
    container_of(vp, struct virtio_blk_pci, vp)->wce = vp->config[BLK_CFG_WCE] != 0;
}

/* A driver without VIRTIO_BLK_F_CONFIG_WCE gets writeback iff it negotiated FLUSH (§5.2.5.1). */
static void blk_set_status(struct virtio_pci *vp, uint8_t status)
{
    if (!(status & VIRTIO_CONFIG_S_DRIVER_OK) ||
        (vp->guest_features & (1ull << VIRTIO_BLK_F_CONFIG_WCE)))
        return;
    container_of(vp, struct virtio_blk_pci, vp)->wce =
        (vp->guest_features & (1ull << VIRTIO_BLK_F_FLUSH)) != 0;
}

static void blk_reset(struct virtio_pci *vp)
{
    struct virtio_blk_pci *b = container_of(vp, struct virtio_blk_pci, vp);

    b->wce = b->original_wce;
}

/* Device-state snapshots: the write cache mode (wce, 0 or 1); the rest is fixed at realize. */
static void blk_state_save(struct virtio_pci *vp, struct sbuf *out)
{
    sbuf_u8(out, container_of(vp, struct virtio_blk_pci, vp)->wce);
}

static int blk_state_check(const struct virtio_pci *vp, const uint8_t *p, size_t len,
                           struct error *err)
{
    (void)vp;
    if (len != 1)
        return error_invalid(err, "virtio-blk state of %zu bytes, 1 expected", len);
    if (p[0] > 1)
        return error_invalid(err, "virtio-blk state at byte 0: wce %u is not 0 or 1", p[0]);
    return 0;
}

static void blk_state_load(struct virtio_pci *vp, const uint8_t *p, size_t len)
{
    (void)len;
    container_of(vp, struct virtio_blk_pci, vp)->wce = p[0] != 0;
}

static const struct virtio_dev_class virtio_blk_class = {
    .device_id = 2,
    .trans_devid = VIRTIO_ID_BLOCK_TRANSITIONAL,
    .class_code = 0x010000, /* mass storage, SCSI (QEMU's default class for virtio-blk) */
    .legacy_features = VIRTIO_LEGACY_FEATURES,
    .get_config = blk_get_config,
    .set_config = blk_set_config,
    .set_status = blk_set_status,
    .reset = blk_reset,
    .destroy = blk_destroy,
    .state_save = blk_state_save,
    .state_check = blk_state_check,
    .state_load = blk_state_load,
};

static const struct pci_dev_class virtio_blk_pci_class = {
    .name = "virtio-blk-pci",
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
    .reset = virtio_pci_reset,
    .destroy = virtio_pci_destroy,
    .state_version = VIRTIO_PCI_STATE_VERSION,
    .state_save = virtio_pci_state_save,
    .state_check = virtio_pci_state_check,
    .state_load = virtio_pci_state_load,
};

static int virtio_blk_realize(const struct qdev_driver *drv, const void *opts,
                              const struct qdev_env *env, struct pci_device **ret,
                              struct error *err)
{
    const struct virtio_blk_opts *o = opts;
    struct virtio_blk_pci *b;
    struct virtio_pci_params p = {0};
    uint16_t nq = o->num_queues == BLK_NUM_QUEUES_AUTO ? 1 : o->num_queues;
    uint64_t f = o->features;
    uint32_t cfg_len = BLK_CFG_MIN;
    uint64_t sectors = BACKEND_NULL_SIZE / BLK_SECTOR_SIZE;
    int r;

    r = virtio_pci_check_modes(&o->vpci, env, err);
    if (r < 0)
        return r;
    if (!o->drive)
        return error_invalid(err, "drive property not set");
    if (!nq)
        return error_invalid(err, "num-queues property must be larger than 0");
    if (o->queue_size <= 2)
        return error_invalid(err, "invalid queue-size property (%u), must be > 2", o->queue_size);
    if (!is_power_of_2(o->queue_size) || o->queue_size > VIRTIO_QUEUE_MAX)
        return error_invalid(err, "invalid queue-size property (%u), must be a power of 2 (max %d)",
                             o->queue_size, VIRTIO_QUEUE_MAX);
    if (nq > VIRTIO_QUEUE_MAX)
        return error_invalid(err, "num-queues property must be <= %d", VIRTIO_QUEUE_MAX);
    r = qdev_drive_attach(env, o->drive, err);
    if (r < 0)
        return r;

    f |= (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_GEOMETRY) |
         (1ull << VIRTIO_BLK_F_TOPOLOGY) | (1ull << VIRTIO_BLK_F_BLK_SIZE);
    /* VIRTIO_BLK_F_WCE (= FLUSH) with a writeback cache, or when the driver can switch it. */
    if (o->write_cache != QDEV_OFF ||
        (o->x_enable_wce_if_config_wce && (f & (1ull << VIRTIO_BLK_F_CONFIG_WCE))))
        f |= 1ull << VIRTIO_BLK_F_FLUSH;
    if (nq > 1)
        f |= 1ull << VIRTIO_BLK_F_MQ;
    if (f & (1ull << VIRTIO_BLK_F_DISCARD))
        cfg_len = BLK_CFG_END_DISCARD;
    if (f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES))
        cfg_len = BLK_CFG_END_WRITE_ZEROES;

    b = calloc(1, sizeof(*b));
    if (!b)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");
    b->drive = strdup(o->drive);
    /* null-co's backend caches unless write-cache=off says otherwise. */
    b->original_wce = b->wce = o->write_cache != QDEV_OFF;

    /* struct virtio_blk_config (virtio 1.2 §5.2.4). */
    le_set64(b->cfg + 0, sectors);                                        /* capacity */
    le_set32(b->cfg + 12, o->seg_max_adjust ? o->queue_size - 2u : 126u); /* seg_max */
    le_set16(b->cfg + 16, (uint16_t)(o->cyls ? o->cyls : 2080));          /* geometry.cylinders */
    b->cfg[18] = (uint8_t)(o->heads ? o->heads : 16);                     /* geometry.heads */
    b->cfg[19] = (uint8_t)(o->secs ? o->secs : 63);                       /* geometry.sectors */
    le_set32(b->cfg + 20, o->logical_block_size ? o->logical_block_size : BLK_SECTOR_SIZE);
    le_set16(b->cfg + 34, nq); /* num_queues */
    le_set32(b->cfg + 36, o->max_discard_sectors);
    le_set32(b->cfg + 40, 1); /* max_discard_seg */
    le_set32(b->cfg + 44, 1); /* discard_sector_alignment */
    le_set32(b->cfg + 48, o->max_write_zeroes_sectors);
    le_set32(b->cfg + 52, 1); /* max_write_zeroes_seg */
    b->cfg[56] = 1;           /* write_zeroes_may_unmap */

    p.vdc = &virtio_blk_class;
    p.host_features = f;
    p.config_len = cfg_len;
    p.num_queues = nq;
    p.queue_size = o->queue_size;
    p.default_vectors = nq + 1u;

    r = virtio_pci_realize(&b->vp, drv, &o->vpci, &p, env, err);
    b->vp.pci.cls = &virtio_blk_pci_class;
    b->vp.pci.name = drv->name;
    if (r < 0) {
        if (b->vp.pci.config) {
            pci_dev_destroy(&b->vp.pci);
        } else {
            free(b->drive);
            free(b);
        }
        return r;
    }
    *ret = &b->vp.pci;
    return 0;
}

/* The backend node a virtio-blk device uses, or NULL for another device. */
const char *virtio_blk_drive(const struct pci_device *d)
{
    if (d->cls != &virtio_blk_pci_class)
        return NULL;
    return container_of(d, struct virtio_blk_pci, vp.pci)->drive;
}

static const struct qdev_prop *const blk_prop_tables[] = {virtio_blk_props, virtio_pci_props};

#define VIRTIO_BLK_DRIVER(_name, _defaults)                                                        \
    {                                                                                              \
        .name = _name, .category = "Storage devices", .prop_tables = blk_prop_tables,              \
        .n_prop_tables = ARRAY_SIZE(blk_prop_tables), .opts_size = sizeof(struct virtio_blk_opts), \
        .default_romfile = NULL, .virtio = true, .defaults = _defaults,                            \
        .realize = virtio_blk_realize,                                                             \
    }

const struct qdev_driver virtio_blk_pci_driver = VIRTIO_BLK_DRIVER("virtio-blk-pci", NULL);
const struct qdev_driver virtio_blk_pci_transitional_driver =
    VIRTIO_BLK_DRIVER("virtio-blk-pci-transitional", virtio_pci_transitional_defaults);
const struct qdev_driver virtio_blk_pci_non_transitional_driver =
    VIRTIO_BLK_DRIVER("virtio-blk-pci-non-transitional", virtio_pci_non_transitional_defaults);
