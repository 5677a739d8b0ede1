/* SPDX-License-Identifier: MIT */
/*
 * pcie.h — the PCI Express capability (PCIe 4.0 §7.5.3) and what QEMU 7.2 builds on it
 * (hw/pci/pcie.c): endpoint and port capability registers, device error reporting, link
 * control, Function Level Reset, ARI forwarding, root control, the slot of a root or downstream
 * port, link status mirroring, and the ACS extended capability (§7.7.8).
 *
 * Register values and write masks are QEMU 7.2's, so a function reads byte for byte as QEMU's
 * does; every init function sets what the capability shows and which bits a guest may write,
 * every reset function what a reset clears.
 *
 * A slot (struct pcie_slot, QEMU's PCIESlot) belongs to a root or downstream port. Its Slot
 * Control writes complete at once (Command Completed); Electromechanical Interlock Control
 * toggles the interlock status; the power controller gives or takes the power of every function
 * on the secondary bus (QEMU's pcie_cap_update_power); events raise the port's interrupt (MSI-X,
 * MSI or INTx) when Hot-Plug Interrupt Enable and the event's enable allow it. The plug and
 * unplug-request steps below are the port's side of native hot-plug; the guest's side
 * (indicators, waiting, powering off) is the guest model's.
 *
 * Threads: init functions on the control plane before the device is published; write/reset/
 * event functions with the port's lock held; functions of the secondary bus are reached under
 * their own locks (parent before child). Errors: -EINVAL, -ENOSPC, -EBUSY (capability space).
 */
#ifndef PCID_HW_PCIE_H
#define PCID_HW_PCIE_H

#include "pci.h"
#include "pci_bridge.h"

#define PCI_EXP_VER1_SIZEOF 0x14 /* QEMU: capability v1 (PCIe 1.0 §7.8) */
#define PCI_EXP_VER2_SIZEOF 0x3c /* QEMU: capability v2, up to Slot Status 2 */

/* Link speeds and widths in QEMU's encoding (PCIe 4.0 §7.5.3.6: 1 = 2.5 GT/s ...). */
enum pcie_link_speed {
    PCIE_LINK_2_5GT = 1,
    PCIE_LINK_5GT = 2,
    PCIE_LINK_8GT = 3,
    PCIE_LINK_16GT = 4,
};

/* ACS (PCIe 4.0 §7.7.8): capability and control registers. */
#define PCI_ACS_SIZEOF 8
#define PCI_ACS_VER    1

/* AER as QEMU sizes it (PCIe 4.0 §7.8.4): through the Error Source Identification. */
#define PCI_ERR_SIZEOF 0x48
#define PCI_ERR_VER    2

/*
 * pcie_cap_init() - add the PCI Express capability (v2, 0x3c bytes) at `offset` (0 = first
 * fit): device/port type `type` (PCI_EXP_TYPE_*), port number `port`, 2.5 GT/s x1 link, Role-
 * Based Error Reporting, End-End TLP prefixes; Link Status is not checked on load; the dword at
 * 0x100 becomes read-only (QEMU's x-pcie-extcap-init). Sets d->exp_cap. Returns the offset.
 */
int pcie_cap_init(struct pci_device *d, uint8_t offset, uint8_t type, uint8_t port);

/*
 * pcie_cap_extcap_init_off() - x-pcie-extcap-init=off: the dword at 0x100 stays writable as
 * QEMU leaves it without QEMU_PCIE_EXTCAP_INIT, unless an extended capability lives there. For
 * a function without the PCI Express capability nothing changes.
 */
void pcie_cap_extcap_init_off(struct pci_device *d);

/* pcie_endpoint_cap_init() - an endpoint's capability: Root Complex Integrated Endpoint when
 * the function sits on a PCIe root bus, else Endpoint (QEMU's rule for Windows). */
int pcie_endpoint_cap_init(struct pci_device *d, uint8_t offset, bool on_root_bus);

/* Device error reporting enables writable, error status write-1-to-clear; the reset clears the
 * enables (QEMU's pcie_cap_deverr_init/reset). */
void pcie_cap_deverr_init(struct pci_device *d);
void pcie_cap_deverr_reset(struct pci_device *d);
/* Link Control Common Clock and Extended Synch writable (pcie_cap_lnkctl_init/reset). */
void pcie_cap_lnkctl_init(struct pci_device *d);
void pcie_cap_lnkctl_reset(struct pci_device *d);
/* Function Level Reset capable; Initiate FLR writable (reads 0 once handled). */
void pcie_cap_flr_init(struct pci_device *d);
/* pcie_cap_flr_write_config() - after a write: a set Initiate FLR resets the function
 * (pci_dev_reset) and clears itself. Caller holds the lock. */
void pcie_cap_flr_write_config(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len);
/* ARI Forwarding supported and writable (ports). */
void pcie_cap_arifwd_init(struct pci_device *d);
void pcie_cap_arifwd_reset(struct pci_device *d);
/* Root Control error enables writable; reset clears Root Control (root ports). */
void pcie_cap_root_init(struct pci_device *d);
void pcie_cap_root_reset(struct pci_device *d);

/* The ACS extended capability at `offset`: a downstream port offers SV, TB, RR, CR, UF and DT
 * and may enable them; an endpoint offers nothing. Reset clears the control register. */
int pcie_acs_init(struct pci_device *d, uint16_t offset, bool downstream);
void pcie_acs_reset(struct pci_device *d);

/* A root or downstream port's slot (QEMU's PCIESlot). */
struct pcie_slot {
    struct pci_bridge br;       /* first: a port is a bridge */
    uint8_t chassis;            /* chassis number (property "chassis") */
    uint16_t slot;              /* physical slot number (property "slot") */
    uint8_t port;               /* port number in Link Capabilities (property "port") */
    enum pcie_link_speed speed; /* x-speed */
    uint8_t width;              /* x-width: lanes */
    bool hotplug;               /* the slot takes hot-plug at all (property "hotplug") */
    /* Hot-Plug Capable and Surprise are shown: "hotplug" and either x-native-hotplug or the
     * port itself hot-plugged (QEMU 7.2: a cold port with x-native-hotplug=off leaves hot-plug
     * to ACPI and hides them). */
    bool native_hotplug;
    bool pcp;           /* power_controller_present */
    bool hpev_notified; /* the hot-plug interrupt is asserted (QEMU's hpev_notified) */
};

/* pcie_slot_fill_link() - Link Capabilities/Control 2 for the slot's speed and width
 * (QEMU's pcie_cap_fill_slot_lnk), called by pcie_cap_init's caller for ports. */
void pcie_slot_fill_link(struct pcie_slot *s);

/* pcie_slot_init() - Slot Capabilities (attention button, power controller, indicators, hot
 * plug when `hotplug` and `native_hotplug`, physical slot number), Slot Control defaults and
 * write masks, Slot Status events write-1-to-clear (QEMU's pcie_cap_slot_init). */
void pcie_slot_init(struct pcie_slot *s);

/*
 * pcie_slot_reset() - QEMU's pcie_cap_slot_reset: indicators and enables off; with a power
 * controller the slot is powered when device 0 of the secondary bus is present, and the power
 * indicator says so; the events and interlock are cleared; power follows (pcie_slot_update_power).
 */
void pcie_slot_reset(struct pcie_slot *s);

/*
 * pcie_slot_write_config() - after the generic write of [offset, offset+len) (`value` as
 * written): QEMU's pcie_cap_slot_write_config: a Slot Status write never clears events that
 * were not set before it (QEMU compares the raw written value); a Slot Control write toggles
 * the interlock status on EIC, detaches the slot's devices when a populated slot is turned off
 * (power and indicator off), updates the slot's power, and completes (Command Completed event).
 * `old_ctl`/`old_sta` are Slot Control/Status before the write.
 */
void pcie_slot_write_config(struct pcie_slot *s, uint16_t old_ctl, uint16_t old_sta,
                            uint32_t offset, uint32_t value, unsigned len);

/* pcie_slot_update_power() - give or take the power of every function on the secondary bus
 * by Slot Control's Power Controller Control (always on without a power controller). */
void pcie_slot_update_power(struct pcie_slot *s);

/* pcie_slot_enable_power() - turn the power controller on without touching the functions
 * (what QEMU's ACPI hotplug does before it announces a device in the slot). */
void pcie_slot_enable_power(struct pcie_slot *s);

/*
 * pcie_slot_plug() - native hot-plug of `d` below the port (QEMU's pcie_cap_slot_plug_cb):
 * cold: presence detected, Data Link Layer active (unless the function has
 * x-pcie-lnksta-dllla=off and the port no DLL Active reporting); hot, once device 0 is there:
 * the same plus Presence Detect Changed and Attention Button Pressed events, and power follows.
 */
void pcie_slot_plug(struct pcie_slot *s, struct pci_device *d, bool hotplugged);

/* What an unplug request asks of the caller. */
enum pcie_unplug {
    PCIE_UNPLUG_PENDING,  /* the guest was told (attention button): wait for it */
    PCIE_UNPLUG_FUNCTION, /* remove this function now (its slot was never exposed) */
    PCIE_UNPLUG_SLOT,     /* remove every function below the port now (slot powered off) */
    PCIE_UNPLUG_BUSY,     /* refused: "Hot-unplug failed: guest is busy (power indicator
                             blinking)" */
};

/* pcie_slot_unplug_request() - QEMU 7.2's pcie_cap_slot_unplug_request_cb for `d`. */
enum pcie_unplug pcie_slot_unplug_request(struct pcie_slot *s, struct pci_device *d);

/* pcie_slot_detached() - every function below the port is gone after a power-off detach:
 * presence and link state cleared, Presence Detect Changed set (QEMU's do_unplug tail). */
void pcie_slot_detached(struct pcie_slot *s);

/*
 * pcie_port_sync_link() - QEMU's pcie_sync_bridge_lnk: the port's negotiated link speed and
 * width become those of device 0 of its secondary bus (capped by the port's own), or the
 * port's maximum when that device has no PCIe capability or is absent (or ejected by the
 * guest, its removal under way). QEMU does this when Link Status is read; pcid when device 0
 * comes or goes and when the guest's slot power-off detaches it, which reads the same.
 */
void pcie_port_sync_link(struct pci_device *port);

#endif
