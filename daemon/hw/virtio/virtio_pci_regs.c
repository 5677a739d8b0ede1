/* SPDX-License-Identifier: MIT */
/* virtio_pci_regs.c — register behaviour behind the virtio-pci BARs (being written). */
#include "virtio_pci.h"
