/* SPDX-License-Identifier: MIT */
/*
 * virtio_net.c — virtio-net-pci (virtio 1.2 §5.1), with QEMU 7.2's properties and defaults.
 *
 * pcid has no network backend: the device has no peer, so (as QEMU without a netdev) it has
 * one queue pair, the link is up, and offloads that need a vnet header peer are not offered.
 * Device configuration: mac[6], status, max_virtqueue_pairs, mtu, speed, duplex, ... whose
 * length follows the offered features (QEMU's feature_sizes table).
 */
#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/sbuf.h"
#include "../net/macaddr.h"
#include "virtio_pci.h"

#define VIRTIO_ID_NET_TRANSITIONAL 0x1000
#define VIRTIO_NET_QUEUE_SIZE      256
#define VIRTIO_NET_CTRL_QUEUE_SIZE 64

/* Bytes of struct virtio_net_config up to and including each optional field (§5.1.4). */
#define NET_CFG_END_MAC        6u
#define NET_CFG_END_STATUS     8u
#define NET_CFG_END_MAX_PAIRS  10u
#define NET_CFG_END_MTU        12u
#define NET_CFG_END_DUPLEX     17u
#define NET_CFG_END_HASH_TYPES 24u
#define NET_CFG_MAX            24
/* Offsets in struct virtio_net_config (virtio 1.2 §5.1.4). */
#define NET_CFG_MAC              0
#define NET_CFG_STATUS           6
#define NET_CFG_MAX_PAIRS        8
#define NET_CFG_MTU              10
#define NET_CFG_SPEED            12
#define NET_CFG_DUPLEX           16
#define NET_CFG_RSS_KEY_SIZE     17
#define NET_CFG_RSS_TABLE_LEN    18
#define NET_CFG_HASH_TYPES       20
#define NET_RSS_MAX_KEY_SIZE     40    /* QEMU's VIRTIO_NET_RSS_MAX_KEY_SIZE */
#define NET_RSS_MAX_TABLE_LEN    128   /* QEMU's VIRTIO_NET_RSS_MAX_TABLE_LEN */
#define NET_RSS_SUPPORTED_HASHES 0x1ff /* IPv4, TCPv4, UDPv4, IPv6, TCPv6, UDPv6, IP/TCP/UDP_EX */

struct virtio_net_opts {
    struct virtio_pci_opts vpci;
    uint64_t features;
    struct qdev_mac mac;
    char *netdev, *tx, *duplex;
    uint16_t host_mtu, rx_queue_size, tx_queue_size;
    int32_t speed, x_txburst, bootindex;
    uint32_t x_txtimer, rsc_interval;
    bool failover, x_mtu_bypass_backend;
};

struct virtio_net_pci {
    struct virtio_pci vp;
    uint8_t cfg[NET_CFG_MAX]; /* the device's configuration as it stands (mac, status, ...) */
    uint8_t conf_mac[6];      /* the MAC a reset restores */
};

#define NO(f)  offsetof(struct virtio_net_opts, f)
#define NETDEV "virtio-net-device"
#define FEAT(name, bit, def)                                                                       \
    {                                                                                              \
        name, QDEV_PROP_BIT64, NO(features), def, bit, NETDEV, "on/off"                            \
    }

static const struct qdev_prop virtio_net_props[] = {
    FEAT("csum", VIRTIO_NET_F_CSUM, "on"),
    FEAT("guest_csum", VIRTIO_NET_F_GUEST_CSUM, "on"),
    FEAT("gso", VIRTIO_NET_F_GSO, "on"),
    FEAT("guest_tso4", VIRTIO_NET_F_GUEST_TSO4, "on"),
    FEAT("guest_tso6", VIRTIO_NET_F_GUEST_TSO6, "on"),
    FEAT("guest_ecn", VIRTIO_NET_F_GUEST_ECN, "on"),
    FEAT("guest_ufo", VIRTIO_NET_F_GUEST_UFO, "on"),
    FEAT("guest_announce", VIRTIO_NET_F_GUEST_ANNOUNCE, "on"),
    FEAT("host_tso4", VIRTIO_NET_F_HOST_TSO4, "on"),
    FEAT("host_tso6", VIRTIO_NET_F_HOST_TSO6, "on"),
    FEAT("host_ecn", VIRTIO_NET_F_HOST_ECN, "on"),
    FEAT("host_ufo", VIRTIO_NET_F_HOST_UFO, "on"),
    FEAT("mrg_rxbuf", VIRTIO_NET_F_MRG_RXBUF, "on"),
    FEAT("status", VIRTIO_NET_F_STATUS, "on"),
    FEAT("ctrl_vq", VIRTIO_NET_F_CTRL_VQ, "on"),
    FEAT("ctrl_rx", VIRTIO_NET_F_CTRL_RX, "on"),
    FEAT("ctrl_vlan", VIRTIO_NET_F_CTRL_VLAN, "on"),
    FEAT("ctrl_rx_extra", VIRTIO_NET_F_CTRL_RX_EXTRA, "on"),
    FEAT("ctrl_mac_addr", VIRTIO_NET_F_CTRL_MAC_ADDR, "on"),
    FEAT("ctrl_guest_offloads", VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, "on"),
    FEAT("mq", VIRTIO_NET_F_MQ, "off"),
    FEAT("rss", VIRTIO_NET_F_RSS, "off"),
    FEAT("hash", VIRTIO_NET_F_HASH_REPORT, "off"),
    FEAT("guest_rsc_ext", VIRTIO_NET_F_RSC_EXT, "off"),
    {"rsc_interval", QDEV_PROP_UINT32, NO(rsc_interval), "300000", 0, NETDEV, NULL},
    {"mac", QDEV_PROP_MAC, NO(mac), NULL, 0, NETDEV, NULL},
    {"netdev", QDEV_PROP_STR, NO(netdev), NULL, 0, NETDEV, "ID of a netdev to use as a backend"},
    {"x-txtimer", QDEV_PROP_UINT32, NO(x_txtimer), "150000", 0, NETDEV, NULL},
    {"x-txburst", QDEV_PROP_INT32, NO(x_txburst), "256", 0, NETDEV, NULL},
    {"tx", QDEV_PROP_STR, NO(tx), NULL, 0, NETDEV, NULL},
    {"rx_queue_size", QDEV_PROP_UINT16, NO(rx_queue_size), "256", 0, NETDEV, NULL},
    {"tx_queue_size", QDEV_PROP_UINT16, NO(tx_queue_size), "256", 0, NETDEV, NULL},
    {"host_mtu", QDEV_PROP_UINT16, NO(host_mtu), "0", 0, NETDEV, NULL},
    {"x-mtu-bypass-backend", QDEV_PROP_BOOL, NO(x_mtu_bypass_backend), "on", 0, NETDEV, NULL},
    {"speed", QDEV_PROP_INT32, NO(speed), "-1", 0, NETDEV, NULL},
    {"duplex", QDEV_PROP_STR, NO(duplex), NULL, 0, NETDEV, NULL},
    {"failover", QDEV_PROP_BOOL, NO(failover), "off", 0, NETDEV, NULL},
    {"bootindex", QDEV_PROP_INT32, NO(bootindex), "-1", 0, NULL, NULL},
    {0},
};

/* Offloads that need a peer with a vnet header; QEMU drops them when there is no peer. */
#define NET_VNET_HDR_FEATURES                                                                      \
    ((1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_HOST_TSO4) |                              \
     (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |                          \
     (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |                       \
     (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN) |                        \
     (1ull << VIRTIO_NET_F_HOST_UFO) | (1ull << VIRTIO_NET_F_GUEST_UFO) |                          \
     (1ull << VIRTIO_NET_F_HASH_REPORT))

static uint32_t config_size(uint64_t f)
{
    uint32_t n = NET_CFG_END_MAC;

    if (f & (1ull << VIRTIO_NET_F_STATUS))
        n = MAX(n, NET_CFG_END_STATUS);
    if (f & (1ull << VIRTIO_NET_F_MQ))
        n = MAX(n, NET_CFG_END_MAX_PAIRS);
    if (f & (1ull << VIRTIO_NET_F_MTU))
        n = MAX(n, NET_CFG_END_MTU);
    if (f & (1ull << VIRTIO_NET_F_SPEED_DUPLEX))
        n = MAX(n, NET_CFG_END_DUPLEX);
    if (f & ((1ull << VIRTIO_NET_F_RSS) | (1ull << VIRTIO_NET_F_HASH_REPORT)))
        n = MAX(n, NET_CFG_END_HASH_TYPES);
    return n;
}

static void net_destroy(struct virtio_pci *vp)
{
    free(container_of(vp, struct virtio_net_pci, vp));
}

static void net_get_config(struct virtio_pci *vp)
{
    memcpy(vp->config, container_of(vp, struct virtio_net_pci, vp)->cfg, vp->config_len);
}

/* Only the MAC is writable, and only for a legacy driver without VIRTIO_NET_F_CTRL_MAC_ADDR
 * (virtio 1.2 §5.1.4.2; QEMU's virtio_net_set_config). */
static void net_set_config(struct virtio_pci *vp)
{
    struct virtio_net_pci *n = container_of(vp, struct virtio_net_pci, vp);

    if (vp->guest_features & ((1ull << VIRTIO_NET_F_CTRL_MAC_ADDR) | (1ull << VIRTIO_F_VERSION_1)))
        return;
    memcpy(n->cfg + NET_CFG_MAC, vp->config + NET_CFG_MAC, 6);
}

static void net_reset(struct virtio_pci *vp)
{
    struct virtio_net_pci *n = container_of(vp, struct virtio_net_pci, vp);

    memcpy(n->cfg + NET_CFG_MAC, n->conf_mac, 6);
}

/* Device-state snapshots: the configuration as it stands (a legacy driver may have written the
 * MAC); the rest of the device is fixed at realize. */
static void net_state_save(struct virtio_pci *vp, struct sbuf *out)
{
    sbuf_put(out, container_of(vp, struct virtio_net_pci, vp)->cfg, NET_CFG_MAX);
}

static int net_state_check(const struct virtio_pci *vp, const uint8_t *p, size_t len,
                           struct error *err)
{
    (void)vp;
    (void)p;
    if (len != NET_CFG_MAX)
        return error_invalid(err, "virtio-net state of %zu bytes, %d expected", len, NET_CFG_MAX);
    return 0;
}

static void net_state_load(struct virtio_pci *vp, const uint8_t *p, size_t len)
{
    memcpy(container_of(vp, struct virtio_net_pci, vp)->cfg, p, MIN(len, (size_t)NET_CFG_MAX));
}

static const struct virtio_dev_class virtio_net_class = {
    .device_id = 1,
    .trans_devid = VIRTIO_ID_NET_TRANSITIONAL,
    .class_code = 0x020000, /* network, Ethernet */
    .legacy_features = VIRTIO_LEGACY_FEATURES | (1ull << VIRTIO_NET_F_GSO),
    /* What Linux 2.6.25 understood (QEMU's virtio_net_bad_features). */
    .bad_features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_CSUM) |
                    (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
                    (1ull << VIRTIO_NET_F_HOST_ECN),
    .get_config = net_get_config,
    .set_config = net_set_config,
    .reset = net_reset,
    .destroy = net_destroy,
    .state_save = net_state_save,
    .state_check = net_state_check,
    .state_load = net_state_load,
};

/* Unplug: the NIC gives its default-MAC slot back (QEMU's qemu_del_nic). */
static void virtio_net_pci_unrealize(struct pci_device *d)
{
    net_macaddr_release(container_of(d, struct virtio_net_pci, vp.pci)->conf_mac);
}

static const struct pci_dev_class virtio_net_pci_class = {
    .name = "virtio-net-pci",
    .unrealize = virtio_net_pci_unrealize,
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
    .reset = virtio_pci_reset,
    .destroy = virtio_pci_destroy,
    .state_version = VIRTIO_PCI_STATE_VERSION,
    .state_save = virtio_pci_state_save,
    .state_check = virtio_pci_state_check,
    .state_load = virtio_pci_state_load,
};

int virtio_net_set_link(struct pci_device *d, bool up)
{
    struct virtio_net_pci *n;
    uint16_t status, old;

    if (d->cls != &virtio_net_pci_class)
        return -ENODEV;
    n = container_of(d, struct virtio_net_pci, vp.pci);
    pthread_mutex_lock(&d->lock);
    old = le_get16(n->cfg + NET_CFG_STATUS);
    status = up ? (uint16_t)(old | VIRTIO_NET_S_LINK_UP) : (uint16_t)(old & ~VIRTIO_NET_S_LINK_UP);
    le_set16(n->cfg + NET_CFG_STATUS, status);
    if (status != old)
        virtio_pci_notify_config(&n->vp);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/* The MAC the device chose when none was given, so a machine description can pin it. */
static int net_effective_prop(const struct pci_device *d, const char *name, char *buf, size_t len)
{
    const uint8_t *m = container_of(d, const struct virtio_net_pci, vp.pci)->conf_mac;

    if (!streq(name, "mac"))
        return -ENOENT;
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return 0;
}

static int virtio_net_realize(const struct qdev_driver *drv, const void *opts,
                              const struct qdev_env *env, struct pci_device **ret,
                              struct error *err)
{
    const struct virtio_net_opts *o = opts;
    struct virtio_net_pci *n;
    struct virtio_pci_params p = {0};
    uint64_t f = o->features | (1ull << VIRTIO_NET_F_MAC);
    int r;

    r = virtio_pci_check_modes(&o->vpci, env, err);
    if (r < 0)
        return r;
    if (o->duplex) {
        if (!streq(o->duplex, "half") && !streq(o->duplex, "full"))
            return error_invalid(err, "'duplex' must be 'half' or 'full'");
        f |= 1ull << VIRTIO_NET_F_SPEED_DUPLEX;
    }
    if (o->speed < -1)
        return error_invalid(err, "'speed' must be between 0 and INT_MAX");
    if (o->speed >= 0)
        f |= 1ull << VIRTIO_NET_F_SPEED_DUPLEX;
    if (o->host_mtu)
        f |= 1ull << VIRTIO_NET_F_MTU;
    if (o->rx_queue_size < 256 || o->rx_queue_size > VIRTIO_QUEUE_MAX ||
        !is_power_of_2(o->rx_queue_size))
        return error_invalid(
            err, "Invalid rx_queue_size (= %u), must be a power of 2 between %d and %d.",
            o->rx_queue_size, 256, VIRTIO_QUEUE_MAX);
    if (o->tx_queue_size < 256 || o->tx_queue_size > VIRTIO_QUEUE_MAX ||
        !is_power_of_2(o->tx_queue_size))
        return error_invalid(
            err, "Invalid tx_queue_size (= %u), must be a power of 2 between %d and %d.",
            o->tx_queue_size, 256, VIRTIO_QUEUE_MAX);
    if (o->failover)
        f |= 1ull << VIRTIO_NET_F_STANDBY;
    if (!o->netdev)
        f &= ~NET_VNET_HDR_FEATURES;

    n = calloc(1, sizeof(*n));
    if (!n)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");

    if (o->mac.set)
        memcpy(n->conf_mac, o->mac.a, 6);
    net_macaddr_claim(n->conf_mac, o->mac.set); /* QEMU's default MAC, shared with every NIC */
    memcpy(n->cfg + NET_CFG_MAC, n->conf_mac, 6);
    le_set16(n->cfg + NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
    le_set16(n->cfg + NET_CFG_MAX_PAIRS, 1);
    le_set16(n->cfg + NET_CFG_MTU, o->host_mtu);
    le_set32(n->cfg + NET_CFG_SPEED, (uint32_t)o->speed);
    /* DUPLEX_UNKNOWN is 0xff */
    n->cfg[NET_CFG_DUPLEX] = !o->duplex ? 0xff : streq(o->duplex, "full") ? 1 : 0;
    n->cfg[NET_CFG_RSS_KEY_SIZE] = NET_RSS_MAX_KEY_SIZE;
    le_set16(n->cfg + NET_CFG_RSS_TABLE_LEN,
             (f & (1ull << VIRTIO_NET_F_RSS)) ? NET_RSS_MAX_TABLE_LEN : 1);
    le_set32(n->cfg + NET_CFG_HASH_TYPES, NET_RSS_SUPPORTED_HASHES);

    p.vdc = &virtio_net_class;
    p.host_features = f;
    p.config_len = config_size(f);
    p.num_queues = 3; /* rx, tx and the control queue, which QEMU adds even without ctrl_vq */
    p.queue_size = VIRTIO_NET_QUEUE_SIZE;
    p.default_vectors = 4; /* 2 * queue pairs + 2 */

    r = virtio_pci_realize(&n->vp, drv, &o->vpci, &p, env, err);
    n->vp.pci.cls = &virtio_net_pci_class;
    n->vp.pci.name = drv->name;
    if (r < 0) {
        if (n->vp.pci.config) {
            pci_dev_destroy(&n->vp.pci); /* unrealize gives the MAC back */
        } else {
            net_macaddr_release(n->conf_mac);
            free(n);
        }
        return r;
    }
    n->vp.vq[2].num_max = n->vp.vq[2].num = VIRTIO_NET_CTRL_QUEUE_SIZE;
    n->vp.vq[0].num_max = n->vp.vq[0].num = o->rx_queue_size;
    /* Without a vhost-user or vDPA peer QEMU caps the tx queue at 256. */
    n->vp.vq[1].num_max = n->vp.vq[1].num = MIN(o->tx_queue_size, VIRTIO_NET_QUEUE_SIZE);
    *ret = &n->vp.pci;
    return 0;
}

static const struct qdev_prop *const net_prop_tables[] = {virtio_net_props, virtio_pci_props};

#define VIRTIO_NET_DRIVER(_name, _defaults)                                                        \
    {                                                                                              \
        .name = _name, .category = "Network devices", .prop_tables = net_prop_tables,              \
        .n_prop_tables = ARRAY_SIZE(net_prop_tables), .opts_size = sizeof(struct virtio_net_opts), \
        .default_romfile = "efi-virtio.rom", .virtio = true, .defaults = _defaults,                \
        .realize = virtio_net_realize, .effective_prop = net_effective_prop,                       \
    }

const struct qdev_driver virtio_net_pci_driver = VIRTIO_NET_DRIVER("virtio-net-pci", NULL);
const struct qdev_driver virtio_net_pci_transitional_driver =
    VIRTIO_NET_DRIVER("virtio-net-pci-transitional", virtio_pci_transitional_defaults);
const struct qdev_driver virtio_net_pci_non_transitional_driver =
    VIRTIO_NET_DRIVER("virtio-net-pci-non-transitional", virtio_pci_non_transitional_defaults);
