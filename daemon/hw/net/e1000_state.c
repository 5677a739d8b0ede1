/* SPDX-License-Identifier: MIT */
/*
 * e1000_state.c — device-state snapshots of the 82540EM register half (see e1000.h).
 *
 * Format E1000_STATE_VERSION 1, little-endian (docs/state.md):
 *   u32 n, then n x {u32 index, u32 value}: the non-zero registers of BAR0 0x00000-0x0FFFF
 *       (index = offset / 4), ascending
 *   u16 phy[32]
 *   u32 EEPROM bits shifted in, u16 bits in, u16 bits out, u8 reading (0/1), u32 last EECD
 *   u8 flags: bit 0 mitigation window open, bit 1 INTA# driven, bit 2 packet buffer present
 *   with bit 2: u32 n, then n x {u32 index, u32 value}: its non-zero words, ascending
 * Sparse, because a register file is 64 KiB of mostly zeroes.
 */
#include <stdlib.h>

#include "../../util/error.h"
#include "../../util/sbuf.h"
#include "e1000.h"

#define FLAG_MIT_TIMER 0x1
#define FLAG_MIT_IRQ   0x2
#define FLAG_PBM       0x4

static void put_sparse(struct sbuf *out, const uint32_t *w, size_t n)
{
    uint32_t count = 0;

    for (size_t i = 0; i < n; i++)
        count += w[i] != 0;
    sbuf_u32(out, count);
    for (size_t i = 0; i < n; i++) {
        if (!w[i])
            continue;
        sbuf_u32(out, (uint32_t)i);
        sbuf_u32(out, w[i]);
    }
}

void e1000_state_save(struct pci_device *d, struct sbuf *out)
{
    struct e1000 *s = container_of(d, struct e1000, pci);

    put_sparse(out, s->mac_reg, E1000_MAC_REGS);
    for (int i = 0; i < E1000_PHY_REGS; i++)
        sbuf_u16(out, s->phy[i]);
    sbuf_u32(out, s->eecd.val_in);
    sbuf_u16(out, s->eecd.bitnum_in);
    sbuf_u16(out, s->eecd.bitnum_out);
    sbuf_u8(out, s->eecd.reading);
    sbuf_u32(out, s->eecd.old_eecd);
    sbuf_u8(out, (s->mit_timer_on ? FLAG_MIT_TIMER : 0) | (s->mit_irq_level ? FLAG_MIT_IRQ : 0) |
                     (s->pbm ? FLAG_PBM : 0));
    if (s->pbm)
        put_sparse(out, s->pbm, E1000_PBM_REGS);
}

/* A sparse word list: count, then ascending indexes below `limit`. */
static int check_sparse(struct sreader *r, uint32_t limit, const char *what, struct error *err)
{
    size_t at = r->pos;
    uint32_t n = sreader_u32(r);
    int64_t prev = -1;

    if (!sreader_ok(r))
        return 0; /* the caller reports the short read */
    if (n > limit || (size_t)n * 8 > sreader_left(r))
        return error_invalid(err, "e1000 state at byte %zu: %u %s words do not fit", at, n, what);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx;

        at = r->pos;
        idx = sreader_u32(r);
        sreader_u32(r);
        if (idx >= limit || (int64_t)idx <= prev)
            return error_invalid(err,
                                 "e1000 state at byte %zu: %s index 0x%x out of order or not "
                                 "below 0x%x",
                                 at, what, idx, limit);
        prev = idx;
    }
    return 0;
}

int e1000_state_check(const struct pci_device *d, const uint8_t *p, size_t len, uint32_t version,
                      struct error *err)
{
    struct sreader r = sreader_init(p, len);
    uint8_t reading, flags;
    size_t at;
    int e;

    (void)d;
    if (version < 1 || version > E1000_STATE_VERSION)
        return error_invalid(err, "e1000 state format version %u is not supported (1..%u)", version,
                             E1000_STATE_VERSION);
    e = check_sparse(&r, E1000_MAC_REGS, "register", err);
    if (e < 0)
        return e;
    sreader_bytes(&r, 2 * E1000_PHY_REGS + 8);
    at = r.pos;
    reading = sreader_u8(&r);
    sreader_u32(&r);
    flags = sreader_u8(&r);
    if (!sreader_ok(&r))
        return error_invalid(err, "e1000 state is truncated at byte %zu", r.bad_at);
    if (reading > 1)
        return error_invalid(err, "e1000 state at byte %zu: EEPROM reading flag %u is not 0/1", at,
                             reading);
    if (flags & ~(FLAG_MIT_TIMER | FLAG_MIT_IRQ | FLAG_PBM))
        return error_invalid(err, "e1000 state at byte %zu: unknown flags 0x%02x", at + 5, flags);
    if (flags & FLAG_PBM) {
        e = check_sparse(&r, E1000_PBM_REGS, "packet buffer", err);
        if (e < 0)
            return e;
    }
    if (!sreader_ok(&r))
        return error_invalid(err, "e1000 state is truncated at byte %zu", r.bad_at);
    if (sreader_left(&r))
        return error_invalid(err, "e1000 state has %zu bytes past its end at byte %zu",
                             sreader_left(&r), r.pos);
    return 0;
}

static void load_sparse(struct sreader *r, uint32_t *w, size_t n)
{
    uint32_t count = sreader_u32(r);

    if (w)
        memset(w, 0, n * sizeof(*w));
    for (uint32_t i = 0; i < count; i++) {
        uint32_t idx = sreader_u32(r), v = sreader_u32(r);

        if (w && idx < n)
            w[idx] = v;
    }
}

void e1000_state_load(struct pci_device *d, const uint8_t *p, size_t len, uint32_t version)
{
    struct e1000 *s = container_of(d, struct e1000, pci);
    struct sreader r = sreader_init(p, len);
    uint8_t flags;

    (void)version;
    s->regs_touched = true;
    load_sparse(&r, s->mac_reg, E1000_MAC_REGS);
    for (int i = 0; i < E1000_PHY_REGS; i++)
        s->phy[i] = sreader_u16(&r);
    s->eecd.val_in = sreader_u32(&r);
    s->eecd.bitnum_in = sreader_u16(&r);
    s->eecd.bitnum_out = sreader_u16(&r);
    s->eecd.reading = sreader_u8(&r) != 0;
    s->eecd.old_eecd = sreader_u32(&r);
    flags = sreader_u8(&r);
    s->mit_timer_on = flags & FLAG_MIT_TIMER;
    s->mit_irq_level = flags & FLAG_MIT_IRQ;
    if (flags & FLAG_PBM) {
        /* 64 KiB; without memory the words are dropped, as a first guest write would be. */
        if (!s->pbm)
            s->pbm = calloc(E1000_PBM_REGS, sizeof(*s->pbm));
        load_sparse(&r, s->pbm, E1000_PBM_REGS);
    } else {
        free(s->pbm);
        s->pbm = NULL;
    }
}
