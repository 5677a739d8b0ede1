/* SPDX-License-Identifier: MIT */
/*
 * e1000.h — the 82540EM model's state, shared by its config-space half (e1000.c) and its
 * register half (e1000_regs.c). Register state is guarded by pci.lock.
 */
#ifndef PCID_HW_NET_E1000_H
#define PCID_HW_NET_E1000_H

#include "../pci/pci.h"

struct e1000 {
    struct pci_device pci;
    uint8_t mac[6];
};

#endif
