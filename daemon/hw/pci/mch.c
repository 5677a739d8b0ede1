/* SPDX-License-Identifier: MIT */
/*
 * mch.c — the q35 MCH host bridge (QEMU 7.2's hw/pci-host/q35.c). See mch.h.
 */
#include "mch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INTEL_VENDOR_ID    0x8086
#define MCH_DEVICE_ID      0x29c0
#define QEMU_SUBSYS_VENDOR 0x1af4
#define QEMU_SUBSYS_ID     0x1100

#define MCH_EXT_TSEG_MBYTES       0x50 /* QEMU's extended TSEG size register */
#define MCH_EXT_TSEG_MBYTES_QUERY 0xffff
#define MCH_EXT_TSEG_MBYTES_VALUE 16
#define MCH_F_SMBASE              0x9c
#define MCH_F_SMBASE_QUERY        0xff
#define MCH_F_SMBASE_IN_RAM       0x01
#define MCH_F_SMBASE_LCK          0x02
#define MCH_SMRAM                 0x9d /* 82G33 §5.1.21 */
#define MCH_SMRAM_DEFAULT         0x02 /* C_BASE_SEG: compatible SMRAM at 0xa0000 */
#define MCH_SMRAM_D_OPEN          0x40
#define MCH_SMRAM_D_CLS           0x20
#define MCH_SMRAM_D_LCK           0x10
#define MCH_SMRAM_G_SMRAME        0x08
#define MCH_SMRAM_WMASK           (MCH_SMRAM_D_OPEN | MCH_SMRAM_D_CLS | MCH_SMRAM_D_LCK | MCH_SMRAM_G_SMRAME)
#define MCH_ESMRAMC               0x9e /* §5.1.22 */
#define MCH_ESMRAMC_DEFAULT       0x38 /* SM_CACHE, SM_L1, SM_L2 */
#define MCH_ESMRAMC_WMASK         0x87 /* H_SMRAME, TSEG_SZ, T_EN */

#define PCIEXBAR_EN         0x1ull
#define PCIEXBAR_LENGTH     0x6ull
#define PCIEXBAR_LEN_256M   0x0ull
#define PCIEXBAR_LEN_128M   0x2ull
#define PCIEXBAR_LEN_64M    0x4ull
#define PCIEXBAR_ADMSK      0x0000000ff0000000ull /* bits 35:28 */
#define PCIEXBAR_128ADMSK   0x0000000008000000ull /* bit 27 */
#define PCIEXBAR_64ADMSK    0x0000000004000000ull /* bit 26 */
#define PCIEXBAR_SIZE_BYTES 8

struct mch {
    struct pci_device pci;
    struct mch_ecam_ops ops;
};

bool mch_ecam_decode(uint64_t pciexbar, bool *enabled, uint64_t *base, uint64_t *size)
{
    uint64_t mask = PCIEXBAR_ADMSK;

    switch (pciexbar & PCIEXBAR_LENGTH) {
    case PCIEXBAR_LEN_256M:
        *size = 256ull << 20;
        break;
    case PCIEXBAR_LEN_128M:
        *size = 128ull << 20;
        mask |= PCIEXBAR_128ADMSK | PCIEXBAR_64ADMSK;
        break;
    case PCIEXBAR_LEN_64M:
        *size = 64ull << 20;
        mask |= PCIEXBAR_64ADMSK;
        break;
    default:
        return false; /* reserved: QEMU logs a guest error and keeps the window */
    }
    *enabled = pciexbar & PCIEXBAR_EN;
    *base = pciexbar & mask;
    return true;
}

static void update_pciexbar(struct mch *m)
{
    uint64_t v = le_load(m->pci.config + MCH_PCIEXBAR, 4) |
                 le_load(m->pci.config + MCH_PCIEXBAR + 4, 4) << 32;
    bool en;
    uint64_t base, size;

    if (mch_ecam_decode(v, &en, &base, &size) && m->ops.ecam_changed)
        m->ops.ecam_changed(m->ops.opaque, en, base, size);
}

/* QEMU's mch_update_smram: D_LCK closes SMRAM and freezes it until reset. */
static void update_smram(struct pci_device *d)
{
    uint8_t smram = ld8(d->config + MCH_SMRAM);

    if (smram & MCH_SMRAM_D_LCK) {
        st8(d->config + MCH_SMRAM, smram & (uint8_t)~MCH_SMRAM_D_OPEN);
        d->wmask[MCH_SMRAM] = MCH_SMRAM_D_CLS;
        d->wmask[MCH_ESMRAMC] = 0;
    }
}

static void update_ext_tseg(struct pci_device *d)
{
    if (le_load(d->config + MCH_EXT_TSEG_MBYTES, 2) == MCH_EXT_TSEG_MBYTES_QUERY)
        le_store(d->config + MCH_EXT_TSEG_MBYTES, MCH_EXT_TSEG_MBYTES_VALUE, 2);
}

/* QEMU's mch_update_smbase_smram (SMRAM at SMBASE negotiation). */
static void update_smbase(struct pci_device *d)
{
    uint8_t reg = ld8(d->config + MCH_F_SMBASE);

    if (reg == MCH_F_SMBASE_QUERY) {
        d->wmask[MCH_F_SMBASE] = MCH_F_SMBASE_LCK;
        st8(d->config + MCH_F_SMBASE, MCH_F_SMBASE_IN_RAM);
        return;
    }
    if (d->wmask[MCH_F_SMBASE] == 0xff)
        reg = 0; /* reset state: what was written is discarded */
    if (reg & MCH_F_SMBASE_LCK) {
        d->wmask[MCH_F_SMBASE] &= (uint8_t)~MCH_F_SMBASE_LCK;
        reg = MCH_F_SMBASE_LCK;
    }
    st8(d->config + MCH_F_SMBASE, reg);
}

static void mch_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    struct mch *m = container_of(d, struct mch, pci);

    pci_default_config_write(d, offset, value, len);
    if (ranges_overlap(offset, len, MCH_PCIEXBAR, PCIEXBAR_SIZE_BYTES))
        update_pciexbar(m);
    if (ranges_overlap(offset, len, MCH_SMRAM, 1))
        update_smram(d);
    if (ranges_overlap(offset, len, MCH_EXT_TSEG_MBYTES, 2))
        update_ext_tseg(d);
    if (ranges_overlap(offset, len, MCH_F_SMBASE, 1))
        update_smbase(d);
}

static void mch_reset(struct pci_device *d)
{
    struct mch *m = container_of(d, struct mch, pci);

    le_store(d->config + MCH_PCIEXBAR, (uint32_t)MCH_PCIEXBAR_DEFAULT, 4);
    le_store(d->config + MCH_PCIEXBAR + 4, MCH_PCIEXBAR_DEFAULT >> 32, 4);
    st8(d->config + MCH_SMRAM, MCH_SMRAM_DEFAULT);
    st8(d->config + MCH_ESMRAMC, MCH_ESMRAMC_DEFAULT);
    d->wmask[MCH_SMRAM] = MCH_SMRAM_WMASK;
    d->wmask[MCH_ESMRAMC] = MCH_ESMRAMC_WMASK;
    le_store(d->config + MCH_EXT_TSEG_MBYTES, MCH_EXT_TSEG_MBYTES_QUERY, 2);
    st8(d->config + MCH_F_SMBASE, 0);
    d->wmask[MCH_F_SMBASE] = 0xff;
    /* QEMU's mch_update */
    update_pciexbar(m);
    update_smram(d);
    update_ext_tseg(d);
    update_smbase(d);
}

static void mch_destroy(struct pci_device *d)
{
    free(container_of(d, struct mch, pci));
}

static const struct pci_dev_class mch_class = {
    .name = "mch",
    .config_write = mch_config_write,
    .reset = mch_reset,
    .destroy = mch_destroy,
};

int mch_new(const struct mch_ecam_ops *ops, struct pci_device **ret)
{
    struct mch *m = calloc(1, sizeof(*m));
    struct pci_device *d;
    int r;

    if (!m)
        return -ENOMEM;
    d = &m->pci;
    r = pci_dev_init(d, &mch_class, PCI_CONFIG_SPACE_SIZE, PCI_HEADER_TYPE_NORMAL);
    if (r < 0) {
        free(m);
        return r;
    }
    if (ops)
        m->ops = *ops;
    d->read_hook_start = d->read_hook_end = 0;
    pci_dev_set_ids(d, INTEL_VENDOR_ID, MCH_DEVICE_ID, 0, 0x060000);
    pci_dev_set_subsystem(d, QEMU_SUBSYS_VENDOR, QEMU_SUBSYS_ID);
    /* The state QEMU realizes the MCH in, before its first reset. */
    mch_reset(d);
    *ret = d;
    return 0;
}
