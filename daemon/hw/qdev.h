/* SPDX-License-Identifier: MIT */
/*
 * qdev.h — device models a user can name (`driver`), their properties, and how a property's
 * text becomes a typed option.
 *
 * Every value arrives as text, as QEMU's device_add sees it: JSON numbers become their decimal
 * digits, booleans "on"/"off" (api/ does that conversion). Parsing follows QEMU 7.2's rules and
 * messages for each type:
 *   bool       on/yes/true/y | off/no/false/n      "Parameter 'P' expects 'on' or 'off'"
 *   uint8/16/32, int32  strtoull/strtoll base 0, whole string; "Parameter 'P' expects integer",
 *                       out of range "Parameter 'P' expects uint32_t" (uint16_t, int32_t, ...)
 *   OnOffAuto  on/off/auto                         "Parameter 'P' does not accept value 'V'"
 *   mac        six hex pairs separated by ':' or '-'  "Property 'OWNER.P' doesn't take value 'V'"
 *   devfn      pci_addr.h                             "Property 'OWNER.P' doesn't take value 'V'"
 *   drive      a block backend node name            "Property 'OWNER.P' can't find value 'V'"
 *   size       a byte count, optional suffix B/K/M/G/T/P/E (powers of 1024)
 *                              "Parameter 'P' expects a non-negative number below 2^64"
 *   enum       one of the property's names (x-speed "2_5"...) "Parameter 'P' does not accept
 *                                                              value 'V'"
 * OWNER is the QEMU type that owns the property (the driver, or e.g. "virtio-net-device").
 *
 * Ownership: qdev_opts_new() returns an options block the caller frees with qdev_opts_free().
 * Threads: control plane only.
 */
#ifndef PCID_HW_QDEV_H
#define PCID_HW_QDEV_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"
#include "pci/pci.h"

enum qdev_prop_type {
    QDEV_PROP_BOOL,      /* bool */
    QDEV_PROP_BIT64,     /* one bit (prop->bit) of a uint64_t: virtio feature switches */
    QDEV_PROP_UINT8,     /* uint8_t */
    QDEV_PROP_UINT16,    /* uint16_t */
    QDEV_PROP_UINT32,    /* uint32_t */
    QDEV_PROP_INT32,     /* int32_t */
    QDEV_PROP_STR,       /* char *, NULL = unset */
    QDEV_PROP_MAC,       /* struct qdev_mac */
    QDEV_PROP_ONOFFAUTO, /* enum qdev_on_off_auto */
    QDEV_PROP_DEVFN,     /* int32_t devfn, -1 = pick */
    QDEV_PROP_DRIVE,     /* char * naming an existing block backend */
    QDEV_PROP_SIZE,      /* uint64_t byte count (QEMU's "size") */
    QDEV_PROP_ENUM,      /* int32_t index into prop->choices */
};

enum qdev_on_off_auto { QDEV_AUTO = 0, QDEV_ON, QDEV_OFF };

struct qdev_mac {
    uint8_t a[6];
    bool set;
};

struct qdev_prop {
    const char *name;
    enum qdev_prop_type type;
    size_t offset;              /* of the field in the driver's options structure */
    const char *defval;         /* default, as text; NULL = zero / unset */
    unsigned bit;               /* QDEV_PROP_BIT64 only */
    const char *owner;          /* QEMU type named in messages; NULL = the driver */
    const char *desc;           /* one line for `device_add DRIVER,help` */
    const char *const *choices; /* QDEV_PROP_ENUM: the accepted names, NULL-terminated */
    const char *type_name;      /* QEMU's type name when not the generic one ("PCIELinkSpeed") */
};

/* Options every PCI device has (QEMU's pci_props); first member of each driver's options. */
struct pci_dev_opts {
    int32_t addr; /* devfn or -1 */
    bool multifunction;
    char *romfile;    /* NULL = the driver's default ROM; "" = none */
    uint32_t rombar;  /* 0 = no ROM BAR */
    uint32_t romsize; /* UINT32_MAX = from the file */
    uint32_t acpi_index;
    char *failover_pair_id;
    bool x_pcie_lnksta_dllla, x_pcie_extcap_init;
};

/* What a model may ask of the machine while its options are parsed and it is built. */
struct qdev_env {
    /* Returns 0 when block backend `name` exists and is free (-EBUSY: used by `*user`). */
    int (*drive_lookup)(void *opaque, const char *name, const char **user);
    void *opaque;
    bool hotplug;     /* the device is being hot-plugged */
    bool express_bus; /* the target bus is PCI Express */
    bool root_bus;    /* the target bus is a root bus (not behind a port or bridge) */
    const char *id;   /* the new device's id, or NULL */
    /* True when a PCIe slot with this chassis and slot number exists (QEMU's
     * pcie_chassis_find_slot); NULL = none exists. */
    bool (*pcie_slot_taken)(void *opaque, uint8_t chassis, uint16_t slot);
};

/* A property default a driver variant sets over the table's (QEMU's instance_init). */
struct qdev_default {
    const char *name;
    const char *value;
};

struct qdev_driver {
    const char *name;     /* "virtio-net-pci" */
    const char *desc;     /* QEMU's description, for help */
    const char *category; /* "Network devices", "Storage devices", ... */
    /* Property tables, each ending with {0}, searched in order; the common PCI properties
     * (struct pci_dev_opts) are added after them by qdev. */
    const struct qdev_prop *const *prop_tables;
    size_t n_prop_tables;
    size_t opts_size; /* sizeof the options structure (starts with struct pci_dev_opts) */
    const char *default_romfile;         /* QEMU's romfile default, NULL = none */
    bool express;                        /* a native PCIe device (config space 4 KiB on any bus) */
    bool virtio;                         /* a virtio-pci device (has a virtio-backend child) */
    bool bridge;                         /* a PCI-to-PCI bridge or port (has a secondary bus) */
    const struct qdev_default *defaults; /* variant defaults, ending with {0}; may be NULL */
    uint16_t device_id; /* variants of one model that differ in their PCI device ID */
    /*
     * Build the device: config space, BARs, capabilities, register state.
     * @drv: this driver (or the variant being built); @opts: the parsed options; @env: as
     * above. On success *ret is a device with cls, name, ids and masks set, not on a bus. Returns 0
     * or -errno with `err` set.
     */
    int (*realize)(const struct qdev_driver *drv, const void *opts, const struct qdev_env *env,
                   struct pci_device **ret, struct error *err);
    /*
     * The value property `name` took on device `d` when the user left it unset and the model
     * chose it (a NIC's MAC), as the property's text in `buf` (`len` bytes), so a machine
     * description can pin it (daemon/state/description.c). Returns 0, or -ENOENT for a
     * property the model does not choose. May be NULL. Control plane.
     */
    int (*effective_prop)(const struct pci_device *d, const char *name, char *buf, size_t len);
};

/* The drivers pcid models (each defined by its model's file). */
extern const struct qdev_driver e1000_driver, e1000_82544gc_driver, e1000_82545em_driver;
extern const struct qdev_driver pcie_root_port_driver, pci_bridge_driver, pcie_pci_bridge_driver;
extern const struct qdev_driver virtio_blk_pci_driver, virtio_blk_pci_transitional_driver,
    virtio_blk_pci_non_transitional_driver;
extern const struct qdev_driver virtio_net_pci_driver, virtio_net_pci_transitional_driver,
    virtio_net_pci_non_transitional_driver;

/* The registry: every user-creatable driver pcid models. */
const struct qdev_driver *qdev_driver_find(const char *name);
/* Iterate: index 0.. until NULL. */
const struct qdev_driver *qdev_driver_at(size_t i);

/* The driver an alias names ("virtio-net" → "virtio-net-pci"), or `name` itself. */
const char *qdev_driver_alias(const char *name);

/*
 * qdev_driver_is_a() - `drv` is of QEMU type `type` or a subtype of it, as QEMU's global and
 * compat properties match: the driver's own name, "virtio-pci" for every virtio-pci driver,
 * "pci-bridge" (TYPE_PCI_BRIDGE, "base-pci-bridge") for bridges and ports, "pci-device" for all.
 */
bool qdev_driver_is_a(const struct qdev_driver *drv, const char *type);

/* True for QOM properties a device has but nobody may set ("type", "virtio-backend"). */
bool qdev_prop_readonly(const struct qdev_driver *drv, const char *name);

/*
 * qdev_type_kind() - what QEMU would say of a type name pcid does not model as a driver:
 * QDEV_TYPE_ABSTRACT ("pci-device", "virtio-pci", "device"...), QDEV_TYPE_NOT_PLUGGABLE (a
 * built-in chipset function such as "i440FX"), QDEV_TYPE_OTHER_BUS (a non-PCI device: *bus
 * receives the bus type it needs, e.g. "usb-bus"), or QDEV_TYPE_UNKNOWN.
 */
enum qdev_type_kind {
    QDEV_TYPE_UNKNOWN = 0,
    QDEV_TYPE_DRIVER,
    QDEV_TYPE_ABSTRACT,
    QDEV_TYPE_NOT_PLUGGABLE,
    QDEV_TYPE_OTHER_BUS,
};
enum qdev_type_kind qdev_type_kind(const char *name, const char **bus);

/* The property `name` of `drv` (driver-specific first, then the common PCI ones), or NULL. */
const struct qdev_prop *qdev_prop_find(const struct qdev_driver *drv, const char *name);

/* Iterate every property of `drv`: index 0.. until NULL (common PCI properties last). */
const struct qdev_prop *qdev_prop_at(const struct qdev_driver *drv, size_t i);

/* QEMU's type name for a property type ("bool", "uint32", "str", "OnOffAuto", "int32"). */
const char *qdev_prop_type_name(const struct qdev_prop *p);

/*
 * qdev_opts_new() - an options block for `drv` with every default applied.
 * Returns 0 and *ret, or -ENOMEM.
 */
int qdev_opts_new(const struct qdev_driver *drv, void **ret);

/* qdev_opts_free() - free an options block and the strings in it. NULL is fine. */
void qdev_opts_free(const struct qdev_driver *drv, void *opts);

/*
 * qdev_prop_set() - parse `value` for property `name` into `opts`.
 * Returns 0; -ENOENT ("Property 'DRIVER.NAME' not found"); -EINVAL with the type's message
 * (a drive that does not exist included; one in use is refused later, by qdev_drive_attach).
 * `err` names the property and value.
 */
int qdev_prop_set(const struct qdev_driver *drv, void *opts, const char *name, const char *value,
                  const struct qdev_env *env, struct error *err);

/* Format the current value of property `p` in `opts` as text (for descriptions and help). */
int qdev_prop_get(const struct qdev_prop *p, const void *opts, char *buf, size_t len);

/* Parsers shared with other callers (machine description, HMP). Return 0 or -EINVAL. */
int qdev_parse_bool(const char *s, bool *out);
int qdev_parse_mac(const char *s, uint8_t mac[6]);

/*
 * qdev_drive_attach() - a block device's check when it attaches to its node: refused with
 * QEMU's "Permission conflict on node ..." while another device uses it. Returns 0 or -EBUSY.
 */
int qdev_drive_attach(const struct qdev_env *env, const char *drive, struct error *err);

/*
 * pci_dev_opts_apply_rom() - register the expansion ROM BAR per romfile/rombar/romsize, as
 * QEMU's pci_add_option_rom: no ROM for romfile "" or no default; rombar=0 is refused for a
 * hot-plugged device ("Hot-plugged device without ROM bar can't have an option ROM"); a ROM
 * named as QEMU's data directory names it ("efi-virtio.rom") has that file's size, any other
 * romfile must exist on the host; the BAR is the size rounded up to a power of two.
 * Returns 0 or -errno with `err` set.
 */
int pci_dev_opts_apply_rom(struct pci_device *d, const struct qdev_driver *drv,
                           const struct pci_dev_opts *o, const struct qdev_env *env,
                           struct error *err);

#endif
