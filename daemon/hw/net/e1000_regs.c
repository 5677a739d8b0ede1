/* SPDX-License-Identifier: MIT */
/*
 * e1000_regs.c — 82540EM register behaviour behind BAR0 and BAR1, as QEMU 7.2's
 * hw/net/e1000.c shows it to a guest (offsets and bits: Intel 8254x SDM ch. 13).
 *
 * Access policy (QEMU's memory core around e1000_mmio_ops, impl 4..4 bytes): an access is cut
 * into pieces no larger than 4 bytes nor than the alignment of their address; each piece is a
 * whole 32-bit access to the register at (address & ~3), of which the piece keeps the low
 * bytes. So `readb STATUS+1` returns STATUS bits 7:0, and `writeb MTA+1, v` stores v
 * zero-extended into the whole MTA[0]. Registers QEMU does not model read 0 and drop writes;
 * read-only ones drop writes; a register behind a compat flag that is off acts as unknown.
 *
 * No guest memory (docs/architecture.md): the transmit ring is never fetched, so TDH does not
 * move; enabling the transmitter still raises TXQE as QEMU's start_xmit does. No frames pass,
 * so the statistics counters stay 0 (their read-to-clear cannot be seen).
 *
 * No virtual time: QEMU arms timers on the virtual clock, which stands still while the guest
 * is stopped (-S, as when the reference scripts are recorded), and pcid runs no guest code.
 * Interrupt mitigation therefore opens its window on the first interrupt and never closes it
 * (later rising edges are held back until a reset), and an autonegotiation restart leaves the
 * link down.
 */
#include "e1000.h"

#include <errno.h>
#include <sys/mman.h>

/* Register offsets in BAR0 (SDM ch. 13). */
#define E1000_CTRL   0x00000 /* Device Control */
#define E1000_STATUS 0x00008 /* Device Status, read-only */
#define E1000_EECD   0x00010 /* EEPROM/Flash Control */
#define E1000_EERD   0x00014 /* EEPROM Read */
#define E1000_MDIC   0x00020 /* MDI Control */
#define E1000_VET    0x00038 /* VLAN Ether Type */
#define E1000_ICR    0x000c0 /* Interrupt Cause Read, read-to-clear */
#define E1000_ITR    0x000c4 /* Interrupt Throttling */
#define E1000_ICS    0x000c8 /* Interrupt Cause Set */
#define E1000_IMS    0x000d0 /* Interrupt Mask Set/Read */
#define E1000_IMC    0x000d8 /* Interrupt Mask Clear, write-only */
#define E1000_RCTL   0x00100 /* Receive Control */
#define E1000_TCTL   0x00400 /* Transmit Control */
#define E1000_LEDCTL 0x00e00
#define E1000_PBA    0x01000 /* Packet Buffer Allocation */
#define E1000_TDT    0x03818 /* Transmit Descriptor Tail */
#define E1000_MTA    0x05200 /* Multicast Table Array, 128 entries */
#define E1000_RA     0x05400 /* Receive Address: RAL/RAH pairs, 16 entries */
#define E1000_MANC   0x05820 /* Management Control, read-only here */
#define E1000_PBM    0x10000 /* Packet Buffer Memory */
#define REG(off)     ((off) >> 2)

#define E1000_CTRL_RST           (1u << 26) /* device reset, self-clearing */
#define E1000_STATUS_FD          (1u << 0)
#define E1000_STATUS_LU          (1u << 1)
#define E1000_STATUS_SPEED_1000  (2u << 6)
#define E1000_STATUS_ASDV_1000   (3u << 8)
#define E1000_STATUS_MTXCKOK     (1u << 10)
#define E1000_STATUS_GIO_MASTER  (1u << 19)
#define E1000_EECD_SK            (1u << 0) /* clock */
#define E1000_EECD_CS            (1u << 1) /* chip select */
#define E1000_EECD_DI            (1u << 2) /* data in (to the EEPROM) */
#define E1000_EECD_DO            (1u << 3) /* data out */
#define E1000_EECD_FWE           (3u << 4)
#define E1000_EECD_REQ           (1u << 6)
#define E1000_EECD_GNT           (1u << 7)
#define E1000_EECD_PRES          (1u << 8)
#define E1000_EEPROM_READ_OPCODE 0x6 /* Microwire start bit + READ (10b) */
#define E1000_EERD_START         (1u << 0)
#define E1000_EERD_DONE          (1u << 4)
#define E1000_EERD_ADDR_SHIFT    8
#define E1000_EERD_DATA_SHIFT    16
#define E1000_MDIC_DATA          0xffffu
#define E1000_MDIC_REG_SHIFT     16
#define E1000_MDIC_PHY_SHIFT     21
#define E1000_MDIC_OP_WRITE      (1u << 26)
#define E1000_MDIC_OP_READ       (2u << 26)
#define E1000_MDIC_READY         (1u << 28)
#define E1000_MDIC_INT_EN        (1u << 29)
#define E1000_MDIC_ERROR         (1u << 30)
#define E1000_ICR_TXQE           (1u << 1)
#define E1000_ICR_MDAC           (1u << 9)
#define E1000_TCTL_EN            (1u << 1)
#define E1000_RAH_AV             (1u << 31)
#define E1000_EEPROM_SUM         0xbaba

/* PHY registers (IEEE 802.3 clause 22; 0x10 and up are the M88E1000's). */
enum {
    PHY_BMCR = 0x00,
    PHY_BMSR = 0x01,
    PHY_ID1 = 0x02,
    PHY_ID2 = 0x03,
    PHY_ANAR = 0x04,
    PHY_ANLPAR = 0x05,
    PHY_ANER = 0x06,
    PHY_CTRL1000 = 0x09,
    PHY_STAT1000 = 0x0a,
    PHY_SPEC_CTRL = 0x10,
    PHY_SPEC_STATUS = 0x11,
    PHY_EXT_SPEC_CTRL = 0x14,
    PHY_RX_ERR_CNTR = 0x15,
};
#define BMCR_ANRESTART (1u << 9)
#define BMCR_AUTOEN    (1u << 12)
#define BMCR_RESET     (1u << 15)
#define BMSR_LINK      (1u << 2)
#define BMSR_AN_COMP   (1u << 5)
#define ANLPAR_ACK     (1u << 14)

enum { PHY_R = 1, PHY_W = 2, PHY_RW = 3 };
static const uint8_t phy_cap[E1000_PHY_REGS] = {
    [PHY_BMCR] = PHY_RW,       [PHY_BMSR] = PHY_R,        [PHY_ID1] = PHY_R,
    [PHY_ID2] = PHY_R,         [PHY_ANAR] = PHY_RW,       [PHY_ANLPAR] = PHY_R,
    [PHY_ANER] = PHY_R,        [PHY_CTRL1000] = PHY_RW,   [PHY_STAT1000] = PHY_R,
    [PHY_SPEC_CTRL] = PHY_RW,  [PHY_SPEC_STATUS] = PHY_R, [PHY_EXT_SPEC_CTRL] = PHY_RW,
    [PHY_RX_ERR_CNTR] = PHY_R,
};

/* QEMU's phy_reg_init: 1000/full with autonegotiation enabled, link up, not yet negotiated. */
static const uint16_t phy_init[E1000_PHY_REGS] = {
    [PHY_BMCR] = 0x1140,          [PHY_BMSR] = 0x794d,      [PHY_ID1] = 0x0141,
    [PHY_ANAR] = 0x0de1,          [PHY_ANLPAR] = 0x01e0,    [PHY_CTRL1000] = 0x0e00,
    [PHY_STAT1000] = 0x3c00,      [PHY_SPEC_CTRL] = 0x0360, [PHY_SPEC_STATUS] = 0xac00,
    [PHY_EXT_SPEC_CTRL] = 0x0d60,
};

/* QEMU's e1000_eeprom_template (SDM ch. 5); 0-2 MAC, 11/13 device ID, 0x3f checksum. */
static const uint16_t eeprom_template[E1000_EEPROM_WORDS] = {
    0x0000, 0x0000, 0x0000, 0x0000, 0xffff, 0x0000, 0x0000, 0x0000, /* 0x00 */
    0x3000, 0x1000, 0x6403, 0x0000, 0x8086, 0x0000, 0x8086, 0x3040, /* 0x08 */
    0x0008, 0x2000, 0x7e14, 0x0048, 0x1000, 0x00d8, 0x0000, 0x2700, /* 0x10 */
    0x6cc9, 0x3150, 0x0722, 0x040b, 0x0984, 0x0000, 0xc000, 0x0706, /* 0x18 */
    0x1008, 0x0000, 0x0f04, 0x7fff, 0x4d01, 0xffff, 0xffff, 0xffff, /* 0x20 */
    0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, /* 0x28 */
    0x0100, 0x4000, 0x121c, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, /* 0x30 */
    0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0x0000, /* 0x38 */
};
#define EEPROM_DEVID_A  11
#define EEPROM_DEVID_B  13
#define EEPROM_CHECKSUM 0x3f

/* What a read or a write of a register does (QEMU's macreg_readops / macreg_writeops). */
enum reg_rd { RD_NONE, RD_PLAIN, RD_ICR, RD_EECD, RD_EERD };
/* clang-format off */
enum reg_wr { WR_NONE, WR_PLAIN, WR_MASK, WR_CTRL, WR_EECD, WR_MDIC, WR_ICS, WR_ICR, WR_IMS, WR_IMC,
              WR_TX };
/* clang-format on */

/* `count` registers from byte offset `off`, alike; `flag` gates them (QEMU's mac_reg_access). */
struct reg_desc {
    uint32_t off, count;
    uint8_t rd, wr;
    uint8_t flag;
    uint32_t mask; /* WR_MASK: bits kept */
};

#define F_MIT E1000_FLAG_MIT
#define F_MAC E1000_FLAG_MAC
/* clang-format off */
#define RO(off, n, flag)        {off, n, RD_PLAIN, WR_NONE, flag, 0}
#define RW(off, n, flag)        {off, n, RD_PLAIN, WR_PLAIN, flag, 0}
#define RWM(off, n, mask, flag) {off, n, RD_PLAIN, WR_MASK, flag, mask}
#define SPECIAL(off, rd, wr)    {off, 1, rd, wr, 0, 0}
/* clang-format on */

/*
 * Sorted by offset. The statistics block lists QEMU's readable counters; QEMU flags only the
 * first register of each array (IP4AT, IP6AT, WUPM, FFLT, FFMT, FFVT, PBM), so only that one
 * disappears with extra_mac_registers=off.
 */
static const struct reg_desc regs[] = {
    SPECIAL(E1000_CTRL, RD_PLAIN, WR_CTRL),
    RO(E1000_STATUS, 1, 0),
    SPECIAL(E1000_EECD, RD_EECD, WR_EECD),
    SPECIAL(E1000_EERD, RD_EERD, WR_PLAIN),
    SPECIAL(E1000_MDIC, RD_PLAIN, WR_MDIC),
    RW(E1000_VET, 1, 0),
    SPECIAL(E1000_ICR, RD_ICR, WR_ICR),
    RWM(E1000_ITR, 1, 0xffff, F_MIT),
    SPECIAL(E1000_ICS, RD_PLAIN, WR_ICS),
    SPECIAL(E1000_IMS, RD_PLAIN, WR_IMS),
    SPECIAL(E1000_IMC, RD_NONE, WR_IMC),
    RW(E1000_RCTL, 1, 0),
    SPECIAL(E1000_TCTL, RD_PLAIN, WR_TX),
    RWM(0x00458, 1, 0xffff, F_MAC), /* AIT */
    RW(E1000_LEDCTL, 1, 0),
    RW(E1000_PBA, 1, 0),
    RWM(0x02410, 1, 0x1fff, F_MAC), /* RDFH */
    RWM(0x02418, 1, 0x1fff, F_MAC), /* RDFT */
    RWM(0x02420, 1, 0x1fff, F_MAC), /* RDFHS */
    RWM(0x02428, 1, 0x1fff, F_MAC), /* RDFTS */
    RWM(0x02430, 1, 0x1fff, F_MAC), /* RDFPC */
    RW(0x02800, 2, 0),              /* RDBAL, RDBAH */
    RWM(0x02808, 1, 0xfff80, 0),    /* RDLEN */
    RWM(0x02810, 1, 0xffff, 0),     /* RDH */
    RWM(0x02818, 1, 0xffff, 0),     /* RDT */
    RWM(0x02820, 1, 0xffff, F_MIT), /* RDTR */
    RWM(0x0282c, 1, 0xffff, F_MIT), /* RADV */
    RWM(0x03410, 1, 0x7ff, F_MAC),  /* TDFH */
    RWM(0x03418, 1, 0x7ff, F_MAC),  /* TDFT */
    RWM(0x03420, 1, 0x1fff, F_MAC), /* TDFHS */
    RWM(0x03428, 1, 0x1fff, F_MAC), /* TDFTS */
    RWM(0x03430, 1, 0x1fff, F_MAC), /* TDFPC */
    RW(0x03800, 2, 0),              /* TDBAL, TDBAH */
    RWM(0x03808, 1, 0xfff80, 0),    /* TDLEN */
    RWM(0x03810, 1, 0xffff, 0),     /* TDH */
    SPECIAL(E1000_TDT, RD_PLAIN, WR_TX),
    RW(0x03828, 1, 0),              /* TXDCTL */
    RWM(0x0382c, 1, 0xffff, F_MIT), /* TADV */
    RO(0x04000, 5, 0),              /* CRCERRS, ALGNERRC, SYMERRS, RXERRC, MPC */
    RO(0x04014, 4, F_MAC),          /* SCC, ECOL, MCC, LATECOL */
    RO(0x04028, 1, F_MAC),          /* COLC */
    RO(0x04030, 5, F_MAC),          /* DC, TNCRS, SEC, CEXTERR, RLEC */
    RO(0x04048, 4, F_MAC),          /* XONRXC, XONTXC, XOFFRXC, XOFFTXC */
    RW(0x04058, 1, F_MAC),          /* FCRUC */
    RO(0x0405c, 6, F_MAC),          /* PRC64 .. PRC1522 */
    RO(0x04074, 1, 0),              /* GPRC */
    RO(0x04078, 2, F_MAC),          /* BPRC, MPRC */
    RO(0x04080, 1, 0),              /* GPTC */
    RO(0x04088, 4, F_MAC),          /* GORCL, GORCH, GOTCL, GOTCH */
    RO(0x040a0, 8, F_MAC),          /* RNBC, RUC, RFC, ROC, RJC, MGTPRC, MGTPDC, MGTPTC */
    RO(0x040c0, 6, 0),              /* TORL, TORH, TOTL, TOTH, TPR, TPT */
    RO(0x040d8, 10, F_MAC),         /* PTC64 .. PTC1522, MPTC, BPTC, TSCTC, TSCTFC */
    RW(E1000_MTA, 128, 0),
    RW(E1000_RA, 32, 0),
    RW(0x05600, 128, 0),   /* VFTA */
    RW(0x05800, 1, F_MAC), /* WUC */
    RW(0x05808, 1, 0),     /* WUFC */
    RW(0x05810, 1, F_MAC), /* WUS */
    RO(E1000_MANC, 1, 0),
    RW(0x05838, 1, F_MAC), /* IPAV */
    RW(0x05840, 1, F_MAC), /* IP4AT */
    RW(0x05844, 6, 0),
    RW(0x05880, 1, F_MAC), /* IP6AT */
    RW(0x05884, 3, 0),
    RW(0x05a00, 1, F_MAC), /* WUPM */
    RW(0x05a04, 31, 0),
    RW(0x05b50, 1, 0),             /* SWSM */
    RWM(0x05f00, 1, 0x7ff, F_MAC), /* FFLT */
    RWM(0x05f04, 6, 0x7ff, 0),
    RWM(0x09000, 1, 0xf, F_MAC), /* FFMT */
    RWM(0x09004, 254, 0xf, 0),
    RW(0x09800, 1, F_MAC), /* FFVT */
    RW(0x09804, 254, 0),
    RW(E1000_PBM, 1, F_MAC),
    RW(E1000_PBM + 4, E1000_PBM_REGS - 1, 0),
};

static const struct reg_desc *reg_find(uint32_t off)
{
    size_t lo = 0, hi = ARRAY_SIZE(regs);

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct reg_desc *r = &regs[mid];

        if (off < r->off)
            hi = mid;
        else if (off >= r->off + 4 * r->count)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

/* The storage of the register at `off`; the packet buffer is allocated on first write. */
static uint32_t *reg_slot(struct e1000 *s, uint32_t off, bool alloc)
{
    if (off < E1000_PBM)
        return &s->mac_reg[REG(off)];
    if (!s->pbm && alloc)
        s->pbm = calloc(E1000_PBM_REGS, sizeof(*s->pbm));
    return s->pbm ? &s->pbm[REG(off - E1000_PBM)] : NULL;
}

#define R(s, off) ((s)->mac_reg[REG(off)])

/* ---- interrupts ------------------------------------------------------------------------- */

/*
 * QEMU's set_interrupt_cause: ICR and ICS both become `val`; INTA# follows ICR & IMS, except
 * that a rising edge inside the mitigation window is held back. With mitigation on, the first
 * rising edge opens the window (QEMU arms mit_timer, >= 128 us of virtual time away).
 */
static void set_interrupt_cause(struct e1000 *s, uint32_t val)
{
    uint32_t pending;

    R(s, E1000_ICR) = val;
    R(s, E1000_ICS) = val;
    pending = R(s, E1000_IMS) & val;
    if (!s->mit_irq_level && pending) {
        if (s->mit_timer_on)
            return;
        if (s->flags & E1000_FLAG_MIT)
            s->mit_timer_on = true;
    }
    s->mit_irq_level = pending != 0;
    pci_dev_set_irq(&s->pci, 0, s->mit_irq_level);
}

static void set_ics(struct e1000 *s, uint32_t val)
{
    set_interrupt_cause(s, val | R(s, E1000_ICR));
}

/* ---- EEPROM: Microwire bit-banging through EECD, and EERD ------------------------------- */

static uint32_t eecd_read(struct e1000 *s)
{
    uint32_t ret = E1000_EECD_PRES | E1000_EECD_GNT | s->eecd.old_eecd;
    unsigned bit = s->eecd.bitnum_out;

    if (!s->eecd.reading || (s->eeprom[(bit >> 4) & 0x3f] >> ((bit & 0xf) ^ 0xf)) & 1)
        ret |= E1000_EECD_DO;
    return ret;
}

/* A chip-select rise starts a command; data is clocked in on SK rising and out on SK falling. */
static void eecd_write(struct e1000 *s, uint32_t val)
{
    uint32_t old = s->eecd.old_eecd;

    s->eecd.old_eecd =
        val & (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_FWE | E1000_EECD_REQ);
    if (!(val & E1000_EECD_CS))
        return;
    if ((val ^ old) & E1000_EECD_CS) {
        s->eecd.val_in = 0;
        s->eecd.bitnum_in = 0;
        s->eecd.bitnum_out = 0;
        s->eecd.reading = false;
    }
    if (!((val ^ old) & E1000_EECD_SK))
        return;
    if (!(val & E1000_EECD_SK)) {
        s->eecd.bitnum_out++;
        return;
    }
    s->eecd.val_in = s->eecd.val_in << 1 | !!(val & E1000_EECD_DI);
    /* Start bit, 2-bit opcode, 6-bit word address. */
    if (++s->eecd.bitnum_in == 9 && !s->eecd.reading) {
        s->eecd.bitnum_out = (uint16_t)(((s->eecd.val_in & 0x3f) << 4) - 1);
        s->eecd.reading = ((s->eecd.val_in >> 6) & 7) == E1000_EEPROM_READ_OPCODE;
    }
}

/* EERD: a word read completes at once; the guest's other bits are echoed. */
static uint32_t eerd_read(struct e1000 *s)
{
    uint32_t eerd = R(s, E1000_EERD), r = eerd & ~E1000_EERD_START, index;

    if (!(eerd & E1000_EERD_START))
        return eerd;
    index = r >> E1000_EERD_ADDR_SHIFT;
    if (index > EEPROM_CHECKSUM)
        return E1000_EERD_DONE | r;
    return (uint32_t)s->eeprom[index] << E1000_EERD_DATA_SHIFT | E1000_EERD_DONE | r;
}

/* ---- PHY through MDIC ------------------------------------------------------------------- */

static void link_down(struct e1000 *s)
{
    R(s, E1000_STATUS) &= ~E1000_STATUS_LU;
    s->phy[PHY_BMSR] &= (uint16_t) ~(BMSR_LINK | BMSR_AN_COMP);
    s->phy[PHY_ANLPAR] &= (uint16_t)~ANLPAR_ACK;
}

/* BMCR: bits 5:0 reserved, RESET and ANRESTART self-clearing. */
static void phy_ctrl_write(struct e1000 *s, uint16_t val)
{
    s->phy[PHY_BMCR] = val & (uint16_t) ~(0x3f | BMCR_RESET | BMCR_ANRESTART);
    /* QEMU restarts autonegotiation: link down now, up when its 500 ms timer fires. */
    if ((s->flags & E1000_FLAG_AUTONEG) && (s->phy[PHY_BMCR] & BMCR_AUTOEN) &&
        (val & BMCR_ANRESTART))
        link_down(s);
}

/* Only PHY address 1 answers; a register it lacks sets ERROR. Completes at once (READY). */
static void mdic_write(struct e1000 *s, uint32_t val)
{
    uint16_t data = (uint16_t)(val & E1000_MDIC_DATA);
    unsigned addr = (val >> E1000_MDIC_REG_SHIFT) & 0x1f;

    if (((val >> E1000_MDIC_PHY_SHIFT) & 0x1f) != 1) {
        val = R(s, E1000_MDIC) | E1000_MDIC_ERROR;
    } else if (val & E1000_MDIC_OP_READ) {
        if (!(phy_cap[addr] & PHY_R))
            val |= E1000_MDIC_ERROR;
        else
            val = (val ^ data) | s->phy[addr];
    } else if (val & E1000_MDIC_OP_WRITE) {
        if (!(phy_cap[addr] & PHY_W))
            val |= E1000_MDIC_ERROR;
        else if (addr == PHY_BMCR)
            phy_ctrl_write(s, data);
        else
            s->phy[addr] = data;
    }
    R(s, E1000_MDIC) = val | E1000_MDIC_READY;
    if (val & E1000_MDIC_INT_EN)
        set_ics(s, E1000_ICR_MDAC);
}

/* ---- one 32-bit register access --------------------------------------------------------- */

static bool reg_enabled(const struct e1000 *s, const struct reg_desc *r)
{
    return !r->flag || (s->flags & r->flag);
}

static uint32_t reg_read(struct e1000 *s, uint32_t off)
{
    const struct reg_desc *r = reg_find(off);
    uint32_t *slot, val;

    if (!r || !reg_enabled(s, r))
        return 0;
    switch (r->rd) {
    case RD_PLAIN:
        slot = reg_slot(s, off, false);
        return slot ? *slot : 0;
    case RD_ICR: /* read-to-clear: deasserts INTA# */
        val = R(s, E1000_ICR);
        set_interrupt_cause(s, 0);
        return val;
    case RD_EECD:
        return eecd_read(s);
    case RD_EERD:
        return eerd_read(s);
    default:
        return 0;
    }
}

static void reg_write(struct e1000 *s, uint32_t off, uint32_t val)
{
    const struct reg_desc *r = reg_find(off);
    uint32_t *slot;

    if (!r || !reg_enabled(s, r))
        return;
    switch (r->wr) {
    case WR_PLAIN:
    case WR_MASK:
        slot = reg_slot(s, off, true);
        if (slot) /* else out of memory: the write is dropped */
            *slot = r->wr == WR_MASK ? val & r->mask : val;
        break;
    case WR_CTRL:
        /* QEMU 7.2 only clears RST: the device is not reset. */
        R(s, E1000_CTRL) = val & ~E1000_CTRL_RST;
        break;
    case WR_EECD:
        eecd_write(s, val);
        break;
    case WR_MDIC:
        mdic_write(s, val);
        break;
    case WR_ICS:
        set_ics(s, val);
        break;
    case WR_ICR: /* write-1-to-clear */
        set_interrupt_cause(s, R(s, E1000_ICR) & ~val);
        break;
    case WR_IMS:
        R(s, E1000_IMS) |= val;
        set_ics(s, 0);
        break;
    case WR_IMC:
        R(s, E1000_IMS) &= ~val;
        set_ics(s, 0);
        break;
    case WR_TX:
        /* TCTL or TDT (QEMU's set_tctl): the tail keeps 16 bits, then transmit. */
        R(s, off) = val;
        R(s, E1000_TDT) &= 0xffff;
        if (R(s, E1000_TCTL) & E1000_TCTL_EN)
            set_ics(s, E1000_ICR_TXQE); /* the ring is not fetched: see the top */
        break;
    default:
        break;
    }
}

/* ---- BAR handlers ----------------------------------------------------------------------- */

/* QEMU's memory_access_size(): at most 4 bytes, at most the address's alignment. */
static unsigned piece_len(uint64_t addr, unsigned left)
{
    unsigned n = MIN(left, 4u);

    if (addr && (addr & -addr) < n)
        n = (unsigned)(addr & -addr);
    return n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

static uint64_t e1000_mmio_read(void *opaque, uint64_t offset, unsigned len)
{
    struct e1000 *s = opaque;
    uint64_t val = 0;

    s->regs_touched = true; /* a read can clear (ICR) */
    for (unsigned done = 0, n; done < len; done += n) {
        uint64_t addr = offset + done;
        uint32_t reg = reg_read(s, (uint32_t)(addr & (E1000_MMIO_SIZE - 4)));

        n = piece_len(addr, len - done);
        val |= (uint64_t)(n == 4 ? reg : reg & ((1u << (8 * n)) - 1)) << (8 * done);
    }
    return val;
}

static void e1000_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned len)
{
    struct e1000 *s = opaque;

    s->regs_touched = true;
    for (unsigned done = 0, n; done < len; done += n) {
        uint64_t addr = offset + done;
        uint64_t piece = value >> (8 * done);

        n = piece_len(addr, len - done);
        reg_write(s, (uint32_t)(addr & (E1000_MMIO_SIZE - 4)),
                  (uint32_t)(n == 4 ? piece : piece & ((1u << (8 * n)) - 1)));
    }
}

const struct pci_region_ops e1000_mmio_ops = {
    .read = e1000_mmio_read,
    .write = e1000_mmio_write,
};

/* IOADDR/IODATA (SDM §13): QEMU 7.2's e1000_io_read returns 0 and its write does nothing. */
static uint64_t e1000_io_read(void *opaque _unused_, uint64_t offset _unused_,
                              unsigned len _unused_)
{
    return 0;
}

static void e1000_io_write(void *opaque _unused_, uint64_t offset _unused_, uint64_t value _unused_,
                           unsigned len _unused_)
{
}

const struct pci_region_ops e1000_io_ops = {
    .read = e1000_io_read,
    .write = e1000_io_write,
};

/* ---- init and reset --------------------------------------------------------------------- */

int e1000_regs_init(struct e1000 *s, uint16_t device_id)
{
    void *regs = mmap(NULL, E1000_MAC_REGS * sizeof(*s->mac_reg), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint16_t sum = 0;

    if (regs == MAP_FAILED)
        return -ENOMEM;
    s->mac_reg = regs; /* zero-filled */
    s->regs_touched = false;

    memcpy(s->eeprom, eeprom_template, sizeof(s->eeprom));
    for (int i = 0; i < 3; i++)
        s->eeprom[i] = (uint16_t)(s->mac[2 * i + 1] << 8 | s->mac[2 * i]);
    s->eeprom[EEPROM_DEVID_A] = s->eeprom[EEPROM_DEVID_B] = device_id;
    for (int i = 0; i < EEPROM_CHECKSUM; i++)
        sum = (uint16_t)(sum + s->eeprom[i]);
    s->eeprom[EEPROM_CHECKSUM] = (uint16_t)(E1000_EEPROM_SUM - sum);
    e1000_regs_reset(s);
    return 0;
}

void e1000_regs_reset(struct e1000 *s)
{
    s->mit_timer_on = false;
    s->mit_irq_level = false;
    memcpy(s->phy, phy_init, sizeof(s->phy));
    s->phy[PHY_ID2] = s->phy_id2;

    /* Untouched since it was mapped or last reset, mac_reg holds zeroes and the values set
     * below. */
    if (s->regs_touched)
        memset(s->mac_reg, 0, E1000_MAC_REGS * sizeof(*s->mac_reg));
    s->regs_touched = false;
    free(s->pbm);
    s->pbm = NULL;
    R(s, E1000_PBA) = 0x00100030; /* 48 KiB receive, 16 KiB transmit */
    R(s, E1000_LEDCTL) = 0x602;
    R(s, E1000_CTRL) = 0x00140240; /* SWDPIN2, SWDPIN0, SPEED 1000, SLU */
    R(s, E1000_STATUS) = 0x80000000u | E1000_STATUS_GIO_MASTER | E1000_STATUS_ASDV_1000 |
                         E1000_STATUS_MTXCKOK | E1000_STATUS_SPEED_1000 | E1000_STATUS_FD |
                         E1000_STATUS_LU;
    R(s, E1000_MANC) = 0x00222300; /* EN_MNG2HOST, RCV_TCO_EN, ARP_EN, 0298_EN, RMCP_EN */
    R(s, E1000_RA) = (uint32_t)s->mac[0] | (uint32_t)s->mac[1] << 8 | (uint32_t)s->mac[2] << 16 |
                     (uint32_t)s->mac[3] << 24;
    R(s, E1000_RA + 4) = E1000_RAH_AV | (uint32_t)s->mac[4] | (uint32_t)s->mac[5] << 8;
    if (s->flags & E1000_FLAG_VET)
        R(s, E1000_VET) = 0x8100; /* ETH_P_VLAN */
}

void e1000_regs_free(struct e1000 *s)
{
    if (s->mac_reg)
        munmap(s->mac_reg, E1000_MAC_REGS * sizeof(*s->mac_reg));
    s->mac_reg = NULL;
    free(s->pbm);
    s->pbm = NULL;
}
