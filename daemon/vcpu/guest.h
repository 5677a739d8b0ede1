/* SPDX-License-Identifier: MIT */
/*
 * guest.h — the cooperative guest: a model of firmware plus an OS hotplug driver, running on
 * vCPU 0 and touching the machine only through guest accesses (port I/O, config cycles).
 *
 * Boot (at start and after every system reset, both of which wait for it): firmware_run()
 * enumerates and configures the machine as SeaBIOS does; then the OS enables the hotplug GPE (bit 1
 * of GPE0_EN at 0xAFE2). On each SCI (IRQ 9) raise: read GPE0_STS and clear what it found
 * (write-1-to-clear), select bus 0 (0xAE10), read `up` (0xAE00) and configure each new slot
 * (firmware_assign_slot), read `down` (0xAE04) and, `eject_delay_ns` later, release each requested
 * slot and eject it by writing its bit to 0xAE08 — what QEMU's ACPI tables and Linux's acpiphp do.
 * An eject whose request has vanished by then (a reset ejected the slot already) is not written.
 * A slot in `refuse_unplug` is not ejected: the OS reports the failure instead, as a guest
 * whose driver will not let go would through ACPI _OST (vcpus_report_unplug_refused(); QEMU's
 * pc tables have no _OST for PCI slots, so this report is pcid's), and the management sees
 * DEVICE_UNPLUG_GUEST_ERROR.
 *
 * A slot configured on bus 0 may be a bridge: it gets a bus number and windows (firmware.h).
 *
 * Native hot-plug (guest_hp.h): the OS binds Linux-style pciehp and shpchp drivers to every
 * PCIe port slot and SHPC it can see, except those of bridges present at boot when the
 * firmware's ACPI tables hand them to ACPI (`acpi_bridge_hotplug`, QEMU's
 * acpi-pci-hotplug-with-bridge-support; pcid's guest has no ACPI driver for those, so hot-plug
 * behind them waits for a reset as under a firmware-only QEMU). Their interrupts (MSI on
 * vCPU 0's queue, or INTx) drive hot-add and the attention-button removal.
 *
 * Threads: guest_new/guest_boot/guest_free on the main thread (new before vcpus_start, free
 * after vcpus_free); everything else runs on vCPU 0.
 */
#ifndef PCID_VCPU_GUEST_H
#define PCID_VCPU_GUEST_H

#include <stdint.h>

#include "vcpu.h"

#define GUEST_EJECT_DELAY_DEFAULT_MS 20
#define GUEST_EJECT_DELAY_MAX_MS     60000
#define GUEST_BOOT_TIMEOUT_MS        10000 /* the longest a start or system_reset waits */

enum guest_mode {
    GUEST_NONE,        /* nothing runs: devices wait as under a paused QEMU (-S) */
    GUEST_COOPERATIVE, /* firmware at start, OS hotplug driver after */
};

struct guest_config {
    enum guest_mode mode;
    uint64_t eject_delay_ns;  /* from an unplug request to the eject */
    const char *firmware_log; /* write the SeaBIOS-style firmware log here, or NULL */
    uint32_t refuse_unplug;   /* slots of bus 0 whose eject the OS refuses (bit per slot) */
    bool acpi_bridge_hotplug; /* ACPI takes the bridges present at boot (the machine's) */
};

struct guest;

/* What the guest has done, for metrics and tests (any thread). */
struct guest_stats {
    uint64_t boots;       /* firmware runs */
    uint64_t hotadds;     /* slots configured after a device check */
    uint64_t ejects;      /* eject writes to the controller */
    uint64_t refused;     /* eject requests refused (refuse_unplug) */
    uint64_t sci;         /* SCIs handled */
    uint64_t slot_events; /* native hot-plug controller events handled (PCIe, SHPC) */
    int firmware_rc;      /* last firmware_run() result: functions found, or -errno */
};

/*
 * guest_new() - the guest for `vs` (not yet started). With GUEST_NONE returns 0 and *ret =
 * NULL. Registers the SCI handler on vCPU 0 and the reset hook. Returns 0 or -errno (-ENOENT
 * etc. when the firmware log cannot be opened).
 */
int guest_new(struct vcpus *vs, const struct guest_config *cfg, struct guest **ret);

/*
 * guest_boot() - run the firmware and start the OS on vCPU 0; wait until the firmware has
 * finished. NULL ok. Returns the firmware's result (functions found) or -errno.
 */
int guest_boot(struct guest *g);

/* guest_stats() - counters so far. */
void guest_stats(struct guest *g, struct guest_stats *out);

/* guest_free() - after vcpus_free(). NULL ok. */
void guest_free(struct guest *g);

#endif
