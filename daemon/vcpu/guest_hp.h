/* SPDX-License-Identifier: MIT */
/*
 * guest_hp.h — the cooperative guest's native hot-plug drivers, modelled on Linux's pciehp
 * (drivers/pci/hotplug/pciehp_{hpc,ctrl}.c) for PCI Express root and downstream ports and
 * shpchp for Standard Hot-Plug Controllers. They run on vCPU 0 and touch the machine only
 * through guest accesses (configuration cycles, the MSI-X table in the port's BAR).
 *
 * Binding (hp_scan): every bridge the guest has numbered whose slot takes native hot-plug —
 * a PCIe root/downstream port with Slot Implemented and Hot-Plug Capable, or a bridge with an
 * SHPC capability — unless the firmware's ACPI tables gave it to ACPI (QEMU's
 * acpi-pci-hotplug-with-bridge-support: the bridges present at boot; `acpi_bridges`).
 *
 * pciehp, per port: interrupts by MSI-X, else MSI (address 0xfee00000: APIC 0 = vCPU 0, data =
 * a vector of its own), else INTx (the line the firmware assigned; shared: every INTx port is
 * polled on a line interrupt); stale events cleared; Slot Control gets Hot-Plug Interrupt,
 * Command Completed, Data Link Layer State Changed, and Attention Button Pressed when the slot
 * has a button, else Presence Detect Changed (pcie_enable_notification); the slot starts ON
 * when the firmware found devices behind it, else OFF, and a mismatch with presence is handled
 * as a presence change (pciehp_check_presence). Every Slot Control write is a command whose
 * Command Completed the driver acknowledges (pcie_write_cmd). On an event: read Slot Status,
 * write back what was set (MSI: until it reads 0), then
 *   - Attention Button Pressed: ON -> BLINKINGOFF (power indicator blinking, attention off),
 *     OFF -> BLINKINGON; after the eject delay (Linux: 5 s) BLINKINGOFF disables the slot and
 *     BLINKINGON is a presence change; pressed again while blinking: cancelled (indicator back);
 *   - Presence Detect Changed / DLL State Changed: an ON (or BLINKINGOFF) slot is disabled;
 *     then an occupied slot is enabled (power on, indicator blinking, configure device 0 of
 *     the secondary bus as firmware_assign_slot does, indicator on, attention off).
 * Disabling: the drivers of everything behind the port let go (firmware_release_slot), the
 * power controller is turned off, then the power indicator — with both off QEMU's port
 * detaches the slot's devices, which then go with DEVICE_DELETED.
 *
 * shpchp (guest_shpc.c), per controller: the register set through BAR0 (the capability's DWORD
 * Data path forwards the wrong value in QEMU); every slot's events masked and cleared, MSI (else
 * INTx) set up, then presence, button, MRL and connected-fault interrupts and command
 * completion unmasked (shpc_init). A slot is ON when the firmware found its device. On an
 * interrupt: the global interrupt masked, Command Detected acknowledged, each slot in the
 * Interrupt Locator read, its button handled as pciehp's (blink the power LED, wait, then
 * enable or disable; pressed again: cancel), its latch cleared, the global interrupt unmasked.
 * Enabling: power only, then enable + power LED on + attention off, configure the slot's device,
 * LED on; disabling: release, then disable + power LED off + attention off in one command
 * (QEMU removes the device when a slot is disabled with its LED off).
 *
 * Threads: vCPU 0 only (hp_init/hp_free on the guest's owner, before start / after stop).
 */
#ifndef PCID_VCPU_GUEST_HP_H
#define PCID_VCPU_GUEST_HP_H

#include "firmware.h"
#include "guest.h"

#define HP_MAX_PORTS FW_BUSES

enum hp_state { HP_OFF, HP_BLINKINGON, HP_BLINKINGOFF, HP_POWERON, HP_POWEROFF, HP_ON };
enum hp_irq_mode { HP_IRQ_MSIX, HP_IRQ_MSI, HP_IRQ_INTX };

struct hp;
struct hp_port;

/* A slot of an SHPC (its attention-button timer needs to know which). */
struct hp_slot {
    struct hp_port *p;
    uint8_t idx; /* SHPC slot index: device idx + first device number */
    enum hp_state state;
    long timer;
};

#define HP_SHPC_SLOTS 31

/* One bound hot-plug controller. */
struct hp_port {
    struct hp *h;
    bool live;
    bool shpc;            /* SHPC (else a PCIe slot) */
    uint8_t bus, devfn;   /* the bridge */
    uint8_t sec;          /* its secondary bus */
    uint8_t cap;          /* PCI Express (or SHPC) capability offset */
    uint32_t sltcap;      /* Slot Capabilities */
    enum hp_state state;  /* pciehp's slot state */
    enum hp_irq_mode irq; /* how it interrupts */
    uint32_t msi_data;    /* its MSI vector */
    long timer;           /* the attention-button delay, or 0 */
    uint64_t shpc_base;   /* SHPC: its register set in memory (BAR0 + base offset) */
    uint8_t shpc_nslots;  /* SHPC: slots and the device number of the first */
    uint8_t shpc_first;
    struct hp_slot slots[HP_SHPC_SLOTS];
};

struct hp {
    struct vcpu *v;
    struct fw_platform *plat;
    uint64_t eject_delay_ns;
    bool acpi_bridges;      /* bridges numbered at boot belong to ACPI */
    struct guest_stats *st; /* counters (relaxed atomics) */
    struct hp_port ports[HP_MAX_PORTS];
};

/* hp_init() - set up `h` (no port bound). */
void hp_init(struct hp *h, struct vcpu *v, struct fw_platform *plat, uint64_t eject_delay_ns,
             bool acpi_bridges, struct guest_stats *st);

/* hp_reset() - before the firmware runs again (system reset): cancel every timer and unbind
 * every port, without touching the machine (the reset did). */
void hp_reset(struct hp *h);

/* hp_scan() - unbind ports whose bridge the guest no longer knows, bind the new ones. */
void hp_scan(struct hp *h);

/* hp_irq() - an interrupt on vCPU 0: an MSI with one of the ports' vectors, or a line raised
 * (INTx ports are polled). Posts the handling as vCPU work. */
void hp_irq(struct hp *h, const struct vcpu_irq *irq);

/* pciehp internals shared with the SHPC driver (guest_shpc.c). */
void hp_cancel_timer(struct hp *h, long *timer);

/* SHPC driver (guest_shpc.c): bind (true when `p` has an SHPC the guest can drive), handle an
 * interrupt, unbind (timers cancelled, interrupts off). */
bool shpc_bind(struct hp_port *p, unsigned index);
void shpc_event(struct hp_port *p);
void shpc_unbind(struct hp_port *p);

/* Shared by both drivers. */
void hp_setup_msi(struct hp_port *p, unsigned index, bool msix);
void hp_teardown_msi(struct hp_port *p);
void hp_unbind_gone(struct hp *h);

#endif
