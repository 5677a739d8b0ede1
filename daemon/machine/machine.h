/* SPDX-License-Identifier: MIT */
/*
 * machine.h — one emulated machine: its type, buses, devices, backends, and the control lock.
 *
 * Ownership: the machine owns every device (struct machine_dev wraps the PCI function with what
 * management needs: driver, options, the properties as the user gave them, QOM-style path) and
 * every bus. A removed device is freed by machine_unplug_complete().
 *
 * Threads: every function here runs under the control lock (machine_lock()), taken by the
 * command layer; one mutator at a time, like QEMU's main-loop lock. Nothing here waits for a
 * vCPU thread.
 *
 * Events: the machine reports guest-visible lifecycle changes through `struct
 * machine_events` (the command layer turns them into QMP/REST events).
 */
#ifndef PCID_MACHINE_H
#define PCID_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../hw/pci/pci.h"
#include "../hw/pci/pci_addr.h"
#include "../hw/pci/pci_bus.h"
#include "../hw/qdev.h"
#include "../util/error.h"
#include "backend.h"

#define MACHINE_MAX_DEVICES 8192 /* functions per machine, built-ins included */
#define MACHINE_ID_BUCKETS  1024 /* machine.by_id: a power of two */
#define MACHINE_MAX_BUSES   256

struct machine;

/* A bus QEMU's machine has that is not PCI (for its messages): "isa.0" of type "ISA". */
struct machine_foreign_bus {
    const char *name;
    const char *type;
};

/*
 * What a machine needs from the platform that runs it (the vCPU layer), set with
 * machine_set_platform(). Any hook may be NULL (no vCPUs: nothing to deliver to).
 */
struct machine_platform {
    /* An interrupt line (GSI) changed level. Any thread. */
    void (*irq_set)(void *opaque, unsigned gsi, int level);
    /* A device wrote an MSI message. Any thread. */
    void (*msi)(void *opaque, uint64_t addr, uint32_t data);
    /* A BAR, Command register or bridge window changed the address map. Any thread. */
    void (*map_changed)(void *opaque);
    /* The guest ejected `slot` of `bus`: post it to the control plane (vCPU thread; must not
     * take the control lock). */
    void (*eject)(void *opaque, struct pci_bus *bus, unsigned slot);
    /* Devices came or went (control plane, under the control lock). */
    void (*topology_changed)(void *opaque);
    /* Run fn(arg) once no vCPU can still see what the last topology change removed (an RCU
     * grace period). Control plane. */
    void (*defer_free)(void *opaque, void (*fn)(void *arg), void *arg);
    /* The machine was reset (system_reset): the guest starts again. Control plane, under the
     * control lock; must only post work. */
    void (*reset)(void *opaque);
};

/* A chipset port-I/O block (not a BAR): hotplug registers, GPE, ... */
struct machine_io {
    uint16_t base, len;
    const struct pci_region_ops *ops;
    void *opaque;
};

#define MACHINE_MAX_IO 8

/*
 * A default property of a device class that a machine version keeps (QEMU's GlobalProperty in
 * its hw_compat arrays): `driver` is a driver name or a QEMU class every matching driver
 * belongs to ("virtio-pci"; see qdev_driver_is_a). Applied after the driver's own defaults and
 * before the user's properties.
 */
struct machine_compat_prop {
    const char *driver, *property, *value;
};

/* The chipset end of one INTx route (machine_type.intx_route): the PIRQ line a root-bus slot's
 * pin drives and where the chipset sends that line now. */
struct machine_intx_link {
    unsigned link; /* PIRQ index: 0-3 = PIRQA-D (pc), 0-7 = PIRQA-H (q35) */
    int irq;       /* the ISA IRQ the route register names, -1 when routing is disabled */
    int gsi;       /* the IOAPIC input the line drives directly, -1 when none (pc) */
};

struct machine_type {
    const char *name;    /* "pcid-pc-1.1" */
    const char *alias;   /* NULL or a second name ("pc" for the newest version) */
    const char *desc;    /* shown by query-machines */
    const char *family;  /* "pc" or "q35": the chipset, whatever the version */
    const char *version; /* guest ABI version ("1.1"), kept in machine descriptions */
    bool is_default;
    /* Compat arrays this version applies, oldest change last, ending with NULL (QEMU applies
     * hw_compat_X for every release X newer than the machine's version). */
    const struct machine_compat_prop *const *compat;
    const char *root_bus; /* "pci.0" */
    bool root_express;
    bool root_hotpluggable;
    const struct machine_foreign_bus *foreign_buses; /* ends with {0} */
    bool conf1;                                      /* configuration mechanism #1 at 0xCF8/0xCFC */
    /* Creates the root bus's built-in functions and chipset state. Returns 0 or -errno. */
    int (*init)(struct machine *m);
    /* Frees what init allocated in m->priv. */
    void (*fini)(struct machine *m);
    /* The machine's ACPI hotplug controller (buses with PCI_HOTPLUG_ACPI; the generic part for
     * bridges is machine.c's): a device was hot-added (device check to the guest). */
    void (*hotplug_plug)(struct machine *m, struct pci_device *d);
    /* ACPI hotplug: removal of `d` requested (eject request to the guest). */
    void (*hotplug_unplug_request)(struct machine *m, struct pci_device *d);
    /* ACPI hotplug: slot `slot` of `bus` is gone. */
    void (*hotplug_slot_gone)(struct machine *m, struct pci_bus *bus, unsigned slot);
    /* Chipset part of a system reset (after the devices). */
    void (*reset)(struct machine *m);
    /* INTx routing: pin `pin` (0-3, already swizzled) of root-bus slot `slot` -> the chipset's
     * PIRQ line and its current route (QEMU's pci_slot_get_pirq / ich9_lpc_map_irq). */
    void (*intx_route)(const struct machine *m, unsigned slot, int pin,
                       struct machine_intx_link *out);
    unsigned pirq_links;    /* 4 (PIIX3 PIRQA-D) or 8 (ICH9 PIRQA-H) */
    uint64_t pci_hole_base; /* the firmware's 32-bit PCI window [base, 0xfec00000) */
    uint64_t io_low_end;    /* end of the I/O range below 0xc000 the firmware may use */
};

/* A property as the user gave it, kept for descriptions and `info qtree`-style output. */
struct machine_prop {
    char *name;
    char *value;
};

struct machine_dev {
    struct pci_device *pci;
    const struct qdev_driver *drv; /* NULL for a built-in function */
    void *opts;                    /* parsed options, owned */
    struct machine_prop *props;    /* as given, in order */
    size_t n_props;
    char *path;                   /* "/machine/peripheral/ID", or peripheral-anon/device[N] */
    char *drive;                  /* block node claimed, or NULL */
    bool virtio_backend;          /* has a "virtio-backend" child (its own DEVICE_DELETED) */
    uint64_t unplug_requested_ns; /* CLOCK_MONOTONIC of the pending device_del, or 0 */
    struct machine_dev *next;
    struct machine_dev *id_next; /* the next one in its machine.by_id chain */
};

/* A device added or removed, as the daemon's log tells it (machine_events.device_note). */
struct machine_dev_note {
    bool added;         /* false: removed */
    bool hotplug;       /* the machine had started (false: cold-plugged, or a restore) */
    const char *id;     /* the user's id, or NULL */
    const char *bdf;    /* "0000:00:03.0" */
    const char *driver; /* "virtio-net-pci" (a built-in function: its type name) */
};

struct machine_events {
    /* A device left the machine: `id` may be NULL (no id, or an internal child). */
    void (*device_deleted)(void *opaque, const char *id, const char *path);
    /* A device was added at `bdf` ("0000:00:03.0"). */
    void (*device_added)(void *opaque, const char *id, const char *bdf);
    /* A function left the machine, `pending_ns` after its removal was requested (0: no
     * request; the guest or a reset removed it unasked). For metrics. */
    void (*device_removed)(void *opaque, uint64_t pending_ns);
    /* The guest refused the requested removal of a device; it stays. */
    void (*unplug_refused)(void *opaque, const char *id, const char *path);
    /* For the daemon's log: a device was added, or removed (called with its DEVICE_DELETED,
     * after the description was saved). Under the control lock; `n` is valid during the call
     * only. May be NULL. */
    void (*device_note)(void *opaque, const struct machine_dev_note *n);
    void *opaque;
};

/*
 * Persistence of the machine description (daemon/state): sync() writes what changed since the
 * last call that succeeded. The machine calls it under the control lock after a removal and
 * before DEVICE_DELETED goes out (with err NULL: the hook reports its own failure); the
 * command layer calls it before a command that changed the machine returns. Returns 0 or
 * -errno with `err` set.
 */
struct machine_persist {
    int (*sync)(void *opaque, struct machine *m, struct error *err);
    void *opaque;
};

struct machine {
    const struct machine_type *type;
    pthread_mutex_t lock; /* the control lock */
    struct pci_bus *buses[MACHINE_MAX_BUSES];
    unsigned n_buses;
    struct machine_dev *devices; /* in order of addition, built-ins first */
    unsigned n_devices;
    /* The devices with an id, hashed by it (machine_find_device); each chain in the order of
     * `devices`. */
    struct machine_dev *by_id[MACHINE_ID_BUCKETS];
    unsigned anon_index; /* next peripheral-anon/device[N] */
    struct backend_list backends;
    uint64_t generation; /* bumped by every topology change */
    uint64_t config_gen; /* bumped by every change a machine description records: devices
                            added or removed, backends added or deleted */
    struct machine_persist persist;
    bool started; /* cold-plug phase over: adds are hot-plugs */
    struct machine_events events;
    const struct machine_platform *plat;
    void *plat_opaque;
    struct machine_io io[MACHINE_MAX_IO]; /* chipset port-I/O blocks */
    unsigned n_io;
    /* The chipset's MMCONFIG (ECAM) window (machine_ecam_set/decode): packed base | log2(size) << 1
     * | enable, written by the host bridge on a vCPU, read by the address map. Atomic. */
    uint64_t ecam;
    /* QEMU's automatic bus names of bridges without an id: "pci.N" and "pcie.N" counters. */
    unsigned auto_bus_pci, auto_bus_pcie;
    /* ACPI PCI hotplug takes the buses of bridges cold-plugged with the machine (QEMU's
     * PIIX4_PM/ICH9-LPC acpi-pci-hotplug-with-bridge-support, on by default); off, they keep
     * their own controller (native PCIe slot, SHPC). Set before devices are added. */
    bool acpi_bridge_hotplug;
    void *priv; /* the machine type's chipset state */
    /* machine_topology_batch_begin/end: added devices are published to the vCPUs once, at the
     * end (cold plug of a whole description). */
    unsigned topo_batch;
    bool topo_pending;
};

/* machine_set_platform() - connect the vCPU layer (before start). */
void machine_set_platform(struct machine *m, const struct machine_platform *plat, void *opaque);

/* machine_add_io() - register a chipset port-I/O block (machine init). Returns 0 or -ENOSPC. */
int machine_add_io(struct machine *m, uint16_t base, uint16_t len, const struct pci_region_ops *ops,
                   void *opaque);

/*
 * machine_unplug_request() - device_del of `md`, through the controller of its bus (QEMU
 * 7.2's unplug_request handlers): ACPI marks it pending and asks the guest (a reset completes
 * it); SHPC and native PCIe remove it at once when the guest cannot see it (slot disabled or
 * off, or a function without function 0), else press the attention button (pending).
 * Returns 0 (pending), 1 (removed now), or -EBUSY with QEMU's message in `err` when a native
 * PCIe slot's power indicator blinks ("Hot-unplug failed: guest is busy (power indicator
 * blinking)"; QEMU 7.2's SHPC has no such check). When a pending request may be repeated is
 * the command layer's business (api/device.c, QEMU's pending_deleted_expires_ms).
 */
int machine_unplug_request(struct machine *m, struct machine_dev *md, struct error *err);

/*
 * machine_plug_check() - what the bus's hotplug controller refuses before a hot-plugged
 * function is plugged at `devfn` (after placement and realize, as QEMU's plug handler):
 * SHPC's "Unsupported PCI slot %d for standard hotplug controller. Valid slots are between 1
 * and 31." Returns 0 or -EINVAL with `err` set.
 */
int machine_plug_check(struct machine *m, struct pci_bus *bus, uint8_t devfn, struct error *err);

/*
 * machine_ecam_set() - publish the MMCONFIG (ECAM) window as one atomic word in m->ecam (any
 * thread; the host bridge calls it on a vCPU). `base` must be 64 MiB aligned and `size` 64, 128
 * or 256 MiB (PCIe 4.0 §7.2.2, the MCH's PCIEXBAR); the address map is rebuilt by the caller.
 * machine_ecam_decode() - unpack such a word: returns whether the window is enabled and fills
 * its base and size (bytes).
 */
void machine_ecam_set(struct machine *m, bool enabled, uint64_t base, uint64_t size);
static inline bool machine_ecam_decode(uint64_t word, uint64_t *base, uint64_t *size)
{
    *base = word & ~((1ull << 26) - 1);
    *size = 1ull << ((word >> 1) & 0x1f);
    return word & 1;
}

/*
 * machine_set_global() - QEMU's -global DRIVER.PROPERTY=VALUE for the chipset functions pcid
 * builds itself, before any device is added. Known: `ICH9-LPC.acpi-pci-hotplug-with-bridge-
 * support` (q35) and `PIIX4_PM.acpi-pci-hotplug-with-bridge-support` (pc), booleans as QEMU
 * parses them (on/off, yes/no, true/false, y/n). Returns 0 when applied, 1 when the driver is
 * not part of this machine (QEMU warns "global ... not used" and goes on), -EINVAL with `err`
 * for a malformed spec, an unknown driver or property, or a bad value (nothing changes).
 */
int machine_set_global(struct machine *m, const char *spec, struct error *err);

/* machine_compat_at() - the i-th compat property of machine type `t` (NULL after the last). */
const struct machine_compat_prop *machine_compat_at(const struct machine_type *t, size_t i);

/*
 * machine_unplug_refused() - the guest refused to eject slot `slot` of `bus` (it reported the
 * failure instead of ejecting): every function of the slot with a removal pending stays, its
 * request is withdrawn (device_del may be repeated), the hotplug controller forgets the
 * request (hotplug_slot_gone), the generation is bumped and unplug_refused is reported per
 * function. Nothing happens for a slot without a pending removal. Under the control lock.
 */
void machine_unplug_refused(struct machine *m, struct pci_bus *bus, unsigned slot);

/*
 * machine_persist() - save what changed (struct machine_persist) if a hook is set and the
 * description changed since the last save. Under the control lock. Returns 0 or -errno with
 * `err` set (err may be NULL).
 */
int machine_persist(struct machine *m, struct error *err);

/* machine_irq_set() - drive interrupt line `gsi` through the platform (no-op without one). */
void machine_irq_set(struct machine *m, unsigned gsi, int level);

/* The machine types pcid offers, and lookup by name or alias (NULL = the default). */
const struct machine_type *machine_type_find(const char *name);
const struct machine_type *machine_type_at(size_t i);

/*
 * machine_type_version() - the type of `t`'s family ("pc", "q35") whose guest ABI version is
 * `version` ("1.0"): `t` itself when it has that version. A machine description names a type
 * and a version; this keeps the version it was written with. Returns NULL if this pcid has no
 * such version.
 */
const struct machine_type *machine_type_version(const struct machine_type *t, const char *version);

/* machine_type_versions() - "'1.1', '1.0'": the versions of `t`'s family, newest first, into
 * buf (NUL-terminated, truncated to `size` bytes). */
void machine_type_versions(const struct machine_type *t, char *buf, size_t size);

/*
 * machine_new() - create a machine of `type` (NULL = the default type) with its built-ins.
 * Returns 0 and *ret; -EINVAL with `err` for an unknown type; -ENOMEM.
 */
int machine_new(const char *type, struct machine **ret, struct error *err);

/* machine_free() - free everything. NULL is fine. */
void machine_free(struct machine *m);

/*
 * machine_complete_ejects() - remove every slot a guest has ejected (pci_bus.ejecting) whose
 * removal has not run yet. Under the control lock; machine_lock() calls it.
 */
void machine_complete_ejects(struct machine *m);

/*
 * machine_lock() - take the control lock. Removals a guest has already ejected are completed
 * first, so nothing on the control plane ever sees a device the guest removed (QEMU removes it
 * inside the guest's write).
 */
static inline void machine_lock(struct machine *m)
{
    pthread_mutex_lock(&m->lock);
    machine_complete_ejects(m);
}
static inline void machine_unlock(struct machine *m)
{
    pthread_mutex_unlock(&m->lock);
}

/* The root bus (pci.0 / pcie.0). */
static inline struct pci_bus *machine_root_bus(const struct machine *m)
{
    return m->buses[0];
}

/* Lookups: NULL when absent. machine_find_bdf() routes `bus` as a configuration cycle would
 * (pci_bus_find_nr from the root bus). */
struct pci_bus *machine_find_bus(const struct machine *m, const char *name);
struct machine_dev *machine_find_device(const struct machine *m, const char *id);
struct machine_dev *machine_find_pci(const struct machine *m, const struct pci_device *d);
struct machine_dev *machine_find_bdf(const struct machine *m, uint8_t bus, uint8_t devfn);

/*
 * machine_buses_dfs() - the buses in QEMU's walk order (pci_for_each_bus_depth_first): the
 * root, then each child bus newest first, each followed by its own children. Fills `out`
 * (room for MACHINE_MAX_BUSES) and returns the count.
 */
unsigned machine_buses_dfs(const struct machine *m, struct pci_bus **out);
const struct machine_foreign_bus *machine_find_foreign_bus(const struct machine *m,
                                                           const char *name);
/* The bus QEMU would pick for a device needing bus type `type` ("ISA", "IDE"), or NULL. */
const struct machine_foreign_bus *machine_find_foreign_bus_type(const struct machine *m,
                                                                const char *type);

/* "0000:BB:SS.F" of a device on the machine. */
char *machine_dev_bdf(const struct machine_dev *md, char buf[PCI_BDF_STRLEN]);

/*
 * machine_add_builtin() - plug a built-in function (no id, not hot-pluggable) at `devfn` of
 * the root bus. Takes ownership of `d`. Returns 0 or -errno.
 */
int machine_add_builtin(struct machine *m, struct pci_device *d, uint8_t devfn);

/*
 * machine_topology_batch_begin() - from now until the matching machine_topology_batch_end(),
 * devices added are published to the vCPUs' topology once, at the end, instead of one
 * republish (and one retired topology waiting for a grace period) per device. For the cold
 * plug of many devices before the guest runs: until the end, a vCPU does not see the devices
 * added so far. A removal publishes at once (what it frees must be gone from the vCPUs' view
 * before its grace period starts). Nests. Control lock held.
 */
void machine_topology_batch_begin(struct machine *m);
/* machine_topology_batch_end() - end a batch; the outermost end publishes what was added. */
void machine_topology_batch_end(struct machine *m);

/*
 * machine_add_device() - plug a realized device at `devfn` of `bus` and take ownership of it
 * and of `opts`; `props` (n) are copied. Claims the device's drive, assigns its path, bumps the
 * generation and reports device_added. A bridge's secondary bus joins the machine, named by the
 * bridge's id or QEMU's automatic "pci.N"/"pcie.N", hot-pluggable through ACPI when the bridge
 * is cold-plugged, through its own SHPC or PCIe slot when hot-plugged. Returns 0 or -errno
 * (-ENOSPC: device or bus limit; -EBUSY).
 */
int machine_add_device(struct machine *m, struct pci_bus *bus, uint8_t devfn, struct pci_device *d,
                       const struct qdev_driver *drv, void *opts, const struct machine_prop *props,
                       size_t n, const char *drive);

/*
 * machine_eject_slot() - the guest (or a reset) ejected slot `slot` of `bus`: every function in
 * it is removed, newest first, whichever function the request named (QEMU's ACPI and PCIe
 * hotplug do the same). A bridge takes everything below it along, deepest first, each bus
 * newest device first (QEMU's unparenting order). Each is detached, unrealized, its drive
 * released and freed; then the description is saved (machine_persist), and only then each is
 * reported, in that order: device_removed, then device_deleted (a virtio device's
 * virtio-backend child first, as QEMU). A removal counts once DEVICE_DELETED is out, and by
 * then machine.json no longer has the device.
 */
void machine_eject_slot(struct machine *m, struct pci_bus *bus, unsigned slot);

/* machine_remove_function() - remove `md` alone (and what is below it, for a bridge), saved
 * and reported as machine_eject_slot(). */
void machine_remove_function(struct machine *m, struct machine_dev *md);

/* machine_unplug_complete() - eject the slot `md` is in. */
void machine_unplug_complete(struct machine *m, struct machine_dev *md);

/*
 * machine_reset() - system reset: on the buses whose hotplug is ACPI (in QEMU's bus walk
 * order, slots ascending) eject every slot with a removal pending, then reset every function
 * (pci_dev_reset). Bumps the generation when devices went away.
 */
void machine_reset(struct machine *m);

/*
 * machine_start() - end of cold-plug: the power-on reset of every function (QEMU resets the
 * machine once before it runs; no RESET event), after which adds are hot-plugs.
 */
void machine_start(struct machine *m);

/*
 * machine_set_limits() - the configured limits (config `limits.devices`, `limits.buses`):
 * functions (built-ins included) and buses (the root bus included) a machine may hold once it
 * has started. Process-wide (pcid runs one machine); relaxed atomics, any thread. Returns 0, or
 * -ERANGE (nothing changed) for 0 or a value above MACHINE_MAX_DEVICES / MACHINE_MAX_BUSES.
 */
int machine_set_limits(unsigned devices, unsigned buses);

/*
 * machine_device_limit() / machine_bus_limit() - what an add must stay within: the configured
 * limit once the machine has started (machine_start()); before it, while the saved machine and
 * the cold-plug devices are added, MACHINE_MAX_DEVICES / MACHINE_MAX_BUSES, so that a lowered
 * limit never stops a machine from being restored. Under the control lock.
 */
unsigned machine_device_limit(const struct machine *m);
unsigned machine_bus_limit(const struct machine *m);

/* Number of functions on the machine, built-ins included. */
static inline unsigned machine_device_count(const struct machine *m)
{
    return m->n_devices;
}

#endif
