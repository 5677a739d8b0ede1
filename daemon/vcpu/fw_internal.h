/* SPDX-License-Identifier: MIT */
/*
 * fw_internal.h — what the guest model's firmware (firmware.c, SeaBIOS's rules) and its OS
 * resource management (fw_os.c, Linux's rules) share: probing functions, sizing and placing
 * BARs, sorted region lists, the resource list, and the log. Everything here runs on the
 * vCPU that owns the `struct fw_platform`, through guest configuration cycles only.
 */
#ifndef PCID_VCPU_FW_INTERNAL_H
#define PCID_VCPU_FW_INTERNAL_H

#include <linux/pci_regs.h>
#include <stdbool.h>

#include "firmware.h"

#define ALIGN_UP(x, a)   (((x) + (a)-1) & ~((a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((a)-1))

#define FW_DEVICE_MEM_MIN 0x1000ULL /* SeaBIOS PCI_DEVICE_MEM_MIN: a memory BAR takes a page */
#define FW_CLASS_BRIDGE   0x0604    /* PCI Code and ID Assignment 1.11 §1.7: PCI-to-PCI */
#define FW_BRIDGE_IO_MIN  0x1000ULL /* SeaBIOS PCI_BRIDGE_IO_MIN: PCI-to-PCI Bridge 1.2 §3.2.5.6 */
#define FW_BRIDGE_MEM_MIN (1ULL << 21) /* SeaBIOS PCI_BRIDGE_MEM_MIN: 2 MiB */

/* QEMU's resource-reserve capability (SeaBIOS src/fw/dev-pci.h; QEMU hw/pci/pci_bridge.c):
 * a Red Hat vendor capability of type 1 on 1b36:000c (root port) or 1b36:0001 (pci-bridge). */
#define FW_REDHAT_VENDOR_ID     0x1b36
#define FW_REDHAT_BRIDGE        0x0001
#define FW_REDHAT_ROOT_PORT     0x000c
#define FW_RES_RESERVE_TYPE     3 /* offset of the vendor capability's type byte */
#define FW_RES_RESERVE_CAP_TYPE 1
#define FW_RES_RESERVE_BUS      4
#define FW_RES_RESERVE_IO       8
#define FW_RES_RESERVE_MEM      16
#define FW_RES_RESERVE_PREF32   20
#define FW_RES_RESERVE_PREF64   24
#define FW_RES_RESERVE_SIZEOF   32

/* A function the guest found (SeaBIOS's struct pci_device). */
struct fw_fn {
    uint8_t bus, devfn, header;
    uint8_t secondary; /* type 1 header: secondary bus number as read at probe time */
    uint16_t vendor, device, class;
    int parent; /* index of the bridge above it in the probe list, -1 on a root bus */
};

static inline bool fw_fn_is_bridge_header(const struct fw_fn *f)
{
    return (f->header & 0x7f) == PCI_HEADER_TYPE_BRIDGE;
}

/* One BAR as sized (SeaBIOS pci_bios_get_bar). */
struct fw_bar {
    uint8_t bar, kind; /* bar 0..5, PCI_ROM_SLOT; kind enum fw_kind */
    bool is64;
    uint64_t size;
};

/* Something to place (SeaBIOS pci_region_entry): a BAR, or a bridge window (bar -1). */
struct fw_entry {
    int fn; /* index into the probe list (boot), or -1 */
    int bar;
    uint8_t kind;
    bool is64;
    uint64_t size, align;
};

/* A sorted list of entries and where the next one goes (SeaBIOS pci_region). */
struct fw_region {
    struct fw_entry *e;
    unsigned n, cap;
    uint64_t base;
};

/* ---- configuration cycles and the log (fw_pci.c) ---- */

/* Read-modify-write of a 16-bit register (SeaBIOS pci_config_maskw). */
void fw_cfg_maskw(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                  uint16_t off, uint16_t clear, uint16_t set);

/* fw_log() - a line in the SeaBIOS-style log, when one is kept. */
void fw_log(const struct fw_platform *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* fw_find_cap() - SeaBIOS pci_find_capability: the offset of the first (cap == 0) or next
 * capability `id` after `cap` in the standard list, bounded; 0 when none. */
uint8_t fw_find_cap(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                    uint8_t id, uint8_t cap);

/* ---- probing ---- */

/* fw_fn_read() - whether a function answers at bus/devfn (vendor neither 0 nor all-ones); on
 * true, fills `out` (parent -1). */
bool fw_fn_read(struct vcpu *v, const struct fw_platform *p, uint8_t bus, uint8_t devfn,
                struct fw_fn *out);

/* fw_next_fn() - SeaBIOS pci_next: the next present devfn of `bus` after `prev` (-1 to start):
 * functions 1-7 only behind a multi-function function 0. Returns -1 after the last. */
int fw_next_fn(struct vcpu *v, const struct fw_platform *p, uint8_t bus, int prev);

/* ---- BARs ---- */

/* Config offset of BAR `bar` (PCI_ROM_SLOT: the expansion ROM of either header type). */
uint8_t fw_bar_offset(const struct fw_fn *f, unsigned bar);

/* fw_size_bar() - size BAR `bar` of `f` by writing all-ones (the ROM: its address mask) and
 * restoring it. Returns false when the BAR is not implemented (size 0). */
bool fw_size_bar(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f, unsigned bar,
                 struct fw_bar *out);

/* fw_set_bar() - SeaBIOS pci_set_io_region_addr: write `addr` (and its upper half). */
void fw_set_bar(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f, unsigned bar,
                uint64_t addr, bool is64);

/* ---- regions ---- */

/* Insert keeping largest alignment, then largest size, first; after equal keys (SeaBIOS
 * pci_region_create_entry). Returns 0 or -ENOMEM. */
int fw_region_insert(struct fw_region *r, const struct fw_entry *e);
uint64_t fw_region_sum(const struct fw_region *r);
/* The largest alignment (the first entry's), 1 when empty. */
uint64_t fw_region_align(const struct fw_region *r);
void fw_regions_free(struct fw_region *r, unsigned n);

/* ---- bridges (SeaBIOS's view when it sizes windows) ---- */

/* How the bus behind a bridge takes hot-plug (SeaBIOS hotplug_type_t). */
enum fw_hotplug { FW_HOTPLUG_NONE, FW_HOTPLUG_PCIE, FW_HOTPLUG_SHPC };

/* fw_reserve_cap() - SeaBIOS pci_find_resource_reserve_capability: the offset of QEMU's
 * resource-reserve capability, 0 when none (logged as SeaBIOS does when `log`). */
uint8_t fw_reserve_cap(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f,
                       bool log);

/* fw_bridge_hotplug() - SeaBIOS pci_bus_hotplug_support: a PCIe root or downstream port with
 * a slot (`pcie_cap` its PCI Express capability, 0 if none), or a bridge with an SHPC. */
enum fw_hotplug fw_bridge_hotplug(struct vcpu *v, const struct fw_platform *p,
                                  const struct fw_fn *f, uint8_t pcie_cap);

/* fw_bridge_has_region() - SeaBIOS pci_bridge_has_region: whether the bridge decodes `kind`
 * (memory always; I/O and prefetchable probed by writing 0xff to the base byte, which leaves
 * that window disabled). */
bool fw_bridge_has_region(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f,
                          unsigned kind);

/* fw_reserve_size() - the bytes of `kind` the resource-reserve capability at `cap` asks for
 * (0: none, or no capability); PREF32 and PREF64 both set is a conflict (0). */
uint64_t fw_reserve_size(struct vcpu *v, const struct fw_platform *p, const struct fw_fn *f,
                         uint8_t cap, unsigned kind, bool log);

/* ---- the resource list ---- */

int fw_res_add(struct fw_platform *p, const struct fw_res *r);
/* Forget what bus/devfn had (bar < 0: everything, else that BAR or window only). */
void fw_res_drop(struct fw_platform *p, uint8_t bus, uint8_t devfn, int bar);

#endif
