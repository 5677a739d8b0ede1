/* SPDX-License-Identifier: MIT */
/*
 * msix.c — MSI-X capability, table and PBA (PCI 3.0 §6.8.2).
 *
 * Policy: the table and PBA live in host memory reached through the BAR(s) named by the
 * capability. As QEMU 7.2 (hw/pci/msix.c: valid sizes 4-8, implemented as 4; its memory core
 * cuts an access into pieces no larger than the address's alignment): dword-aligned pieces of
 * 4 or 8 bytes reach them as dwords, low first; smaller pieces (byte, word, anything at an
 * odd or 2-aligned address) read 0 and write nothing. §6.8.2 asks guests for aligned dwords
 * or qwords.
 * Vector Control keeps all 32 bits written; only bit 0 (Mask) has a meaning. The PBA is
 * read-only to the guest.
 */
#include "msix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/error.h"
#include "../../util/sbuf.h"
#include "pci_bus.h"
#include "pci_cap.h"

#define ENTRY_ADDR_LO      0
#define ENTRY_ADDR_HI      4
#define ENTRY_DATA         8
#define ENTRY_CTRL         12
#define ENTRY_CTRL_MASKBIT 0x1

static uint32_t pba_bytes(uint16_t n)
{
    return ((n + 63u) / 64u) * 8u;
}

static bool vector_masked(const struct msix *m, uint16_t v)
{
    return m->masked || (m->table[v * PCI_MSIX_ENTRY_SIZE_BYTES + ENTRY_CTRL] & ENTRY_CTRL_MASKBIT);
}

static void send(struct pci_device *d, uint16_t v)
{
    struct msix *m = d->msix;
    const uint8_t *e = m->table + v * PCI_MSIX_ENTRY_SIZE_BYTES;
    uint64_t addr = le_get64(e + ENTRY_ADDR_LO);
    uint32_t data = le_get32(e + ENTRY_DATA);

    m->delivered++;
    if (d->bus)
        pci_bus_msi_deliver(d->bus, d, addr, data);
}

static void pending_set(struct msix *m, uint16_t v, bool on)
{
    if (on)
        m->pba[v / 8] |= (uint8_t)(1u << (v % 8));
    else
        m->pba[v / 8] &= (uint8_t) ~(1u << (v % 8));
}

static bool pending(const struct msix *m, uint16_t v)
{
    return m->pba[v / 8] & (1u << (v % 8));
}

/* After a mask change: deliver what is pending and no longer masked. */
static void flush_pending(struct pci_device *d)
{
    struct msix *m = d->msix;

    if (!m->enabled)
        return;
    for (uint16_t v = 0; v < m->nvectors; v++) {
        if (pending(m, v) && !vector_masked(m, v)) {
            pending_set(m, v, false);
            send(d, v);
        }
    }
}

int msix_init(struct pci_device *d, uint16_t nvectors, int table_bar, uint32_t table_offset,
              int pba_bar, uint32_t pba_offset, uint8_t cap_offset)
{
    struct msix *m;
    int cap;

    if (nvectors < 1 || nvectors > PCI_MSIX_MAX_VECTORS || (table_offset & 7) || (pba_offset & 7))
        return -EINVAL;
    if (table_bar < 0 || table_bar >= PCI_NUM_BARS || pba_bar < 0 || pba_bar >= PCI_NUM_BARS)
        return -EINVAL;
    if (d->msix)
        return -EBUSY;

    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->table = calloc(nvectors, PCI_MSIX_ENTRY_SIZE_BYTES);
    m->pba = calloc(1, pba_bytes(nvectors));
    if (!m->table || !m->pba) {
        msix_free(m);
        return -ENOMEM;
    }

    cap = pci_cap_add(d, PCI_CAP_ID_MSIX, cap_offset, PCI_MSIX_CAP_SIZE);
    if (cap < 0) {
        msix_free(m);
        return cap;
    }
    m->cap = (uint16_t)cap;
    m->nvectors = nvectors;
    m->table_bar = table_bar;
    m->pba_bar = pba_bar;
    m->table_offset = table_offset;
    m->pba_offset = pba_offset;

    le_set16(d->config + cap + PCI_MSIX_FLAGS, (uint16_t)(nvectors - 1));
    le_set32(d->config + cap + PCI_MSIX_TABLE, table_offset | (uint32_t)table_bar);
    le_set32(d->config + cap + PCI_MSIX_PBA, pba_offset | (uint32_t)pba_bar);
    /* Only Function Mask and MSI-X Enable are writable (upper byte of Message Control). */
    d->wmask[cap + PCI_MSIX_FLAGS + 1] |= (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;

    d->msix = m;
    for (uint16_t v = 0; v < nvectors; v++)
        m->table[v * PCI_MSIX_ENTRY_SIZE_BYTES + ENTRY_CTRL] = ENTRY_CTRL_MASKBIT;
    return cap;
}

static const struct pci_region_ops msix_exclusive_ops;

int msix_init_exclusive_bar(struct pci_device *d, uint16_t nvectors, int bar)
{
    uint32_t bar_size = MSIX_EXCLUSIVE_BAR_SIZE;
    uint32_t pba_offset = MSIX_EXCLUSIVE_BAR_PBA_OFFSET;
    int cap, r;

    if (nvectors < 1 || nvectors > PCI_MSIX_MAX_VECTORS)
        return -EINVAL;
    if ((uint32_t)nvectors * PCI_MSIX_ENTRY_SIZE_BYTES > pba_offset)
        pba_offset = (uint32_t)nvectors * PCI_MSIX_ENTRY_SIZE_BYTES;
    if (pba_offset + pba_bytes(nvectors) > MSIX_EXCLUSIVE_BAR_SIZE)
        bar_size = pba_offset + pba_bytes(nvectors);
    bar_size = (uint32_t)pow2ceil(bar_size);

    cap = msix_init(d, nvectors, bar, 0, bar, pba_offset, 0);
    if (cap < 0)
        return cap;
    r = pci_bar_register(d, bar, bar_size, PCI_BASE_ADDRESS_SPACE_MEMORY, &msix_exclusive_ops, d);
    if (r < 0) {
        pci_cap_del(d, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_SIZE);
        msix_free(d->msix);
        d->msix = NULL;
        return r;
    }
    return cap;
}

void msix_free(struct msix *m)
{
    if (!m)
        return;
    free(m->table);
    free(m->pba);
    free(m);
}

static void load_control(struct pci_device *d)
{
    struct msix *m = d->msix;
    uint16_t ctl = (uint16_t)le_load(d->config + m->cap + PCI_MSIX_FLAGS, 2);

    m->enabled = ctl & PCI_MSIX_FLAGS_ENABLE;
    m->masked = ctl & PCI_MSIX_FLAGS_MASKALL;
}

void msix_reset(struct pci_device *d)
{
    struct msix *m = d->msix;
    uint16_t ctl;

    if (!m)
        return;
    ctl = (uint16_t)le_load(d->config + m->cap + PCI_MSIX_FLAGS, 2);
    ctl &= (uint16_t) ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    le_store(d->config + m->cap + PCI_MSIX_FLAGS, ctl, 2);
    memset(m->table, 0, (size_t)m->nvectors * PCI_MSIX_ENTRY_SIZE_BYTES);
    for (uint16_t v = 0; v < m->nvectors; v++)
        m->table[v * PCI_MSIX_ENTRY_SIZE_BYTES + ENTRY_CTRL] = ENTRY_CTRL_MASKBIT;
    memset(m->pba, 0, pba_bytes(m->nvectors));
    load_control(d);
}

void msix_config_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned len)
{
    struct msix *m = d->msix;

    (void)value;
    /* Only a write covering the byte with Enable and Function Mask counts (QEMU's
     * msix_write_config: range_covers_byte(addr, len, cap + 3)). */
    if (!m || !ranges_overlap(offset, len, m->cap + PCI_MSIX_FLAGS + 1, 1))
        return;
    load_control(d);
    if (!m->enabled)
        return;
    /* With MSI-X on, the function does not use INTx# (PCI 3.0 §6.8.2.3). */
    for (int pin = 0; pin < PCI_NUM_PINS; pin++)
        pci_dev_set_irq(d, pin, 0);
    flush_pending(d);
}

bool msix_bar_claims(const struct pci_device *d, int bar, uint64_t offset, unsigned len)
{
    const struct msix *m = d->msix;

    if (!m)
        return false;
    if (bar == m->table_bar && ranges_overlap(offset, len, m->table_offset,
                                              (uint64_t)m->nvectors * PCI_MSIX_ENTRY_SIZE_BYTES))
        return true;
    return bar == m->pba_bar && ranges_overlap(offset, len, m->pba_offset, pba_bytes(m->nvectors));
}

/*
 * The size of the next piece of an access at `offset` with `len` bytes left, as QEMU's memory
 * core cuts it (memory_access_size): no larger than 8 nor than the offset's alignment. A piece
 * reaches the table or PBA only when it is at least a dword (.valid.min_access_size 4).
 */
static unsigned piece_len(uint64_t offset, unsigned len)
{
    uint64_t align = offset & -offset;
    unsigned l = len > 8 ? 8 : len;

    if (align && align < l)
        l = (unsigned)align;
    return l;
}

/* One dword at `offset` of BAR `bar`: the table, the PBA, or nothing (0). */
static uint32_t read_dword(const struct msix *m, int bar, uint64_t offset)
{
    uint64_t tsize = (uint64_t)m->nvectors * PCI_MSIX_ENTRY_SIZE_BYTES;

    if (bar == m->table_bar && offset >= m->table_offset && offset < m->table_offset + tsize)
        return le_get32(m->table + (offset - m->table_offset));
    if (bar == m->pba_bar && offset >= m->pba_offset &&
        offset < m->pba_offset + pba_bytes(m->nvectors))
        return le_get32(m->pba + (offset - m->pba_offset));
    return 0;
}

static void write_dword(struct pci_device *d, int bar, uint64_t offset, uint32_t value)
{
    struct msix *m = d->msix;
    uint64_t tsize = (uint64_t)m->nvectors * PCI_MSIX_ENTRY_SIZE_BYTES;

    if (bar != m->table_bar || offset < m->table_offset || offset >= m->table_offset + tsize)
        return; /* the PBA is read-only; nothing else decodes */
    offset -= m->table_offset;
    le_set32(m->table + offset, value);
    if (offset % PCI_MSIX_ENTRY_SIZE_BYTES == ENTRY_CTRL)
        flush_pending(d); /* an unmasked vector sends what is pending (§6.8.2.9) */
}

uint64_t msix_bar_read(struct pci_device *d, int bar, uint64_t offset, unsigned len)
{
    const struct msix *m = d->msix;
    uint64_t v = 0;

    if (!m || len == 0 || len > 8)
        return 0;
    for (unsigned done = 0, l; done < len; done += l) {
        l = piece_len(offset + done, len - done);
        if (l < 4)
            continue;                       /* reads 0 */
        for (unsigned i = 0; i < l; i += 4) /* implemented as dwords */
            v |= (uint64_t)read_dword(m, bar, offset + done + i) << (8 * (done + i));
    }
    return v;
}

void msix_bar_write(struct pci_device *d, int bar, uint64_t offset, uint64_t value, unsigned len)
{
    if (!d->msix || len == 0 || len > 8)
        return;
    for (unsigned done = 0, l; done < len; done += l) {
        l = piece_len(offset + done, len - done);
        if (l < 4)
            continue; /* dropped */
        for (unsigned i = 0; i < l; i += 4)
            write_dword(d, bar, offset + done + i, (uint32_t)(value >> (8 * (done + i))));
    }
}

void msix_clear_pending(struct pci_device *d, uint16_t vector)
{
    if (d->msix && vector < d->msix->nvectors)
        pending_set(d->msix, vector, false);
}

int msix_notify(struct pci_device *d, uint16_t vector)
{
    struct msix *m = d->msix;

    if (!m || !m->enabled)
        return -ENODEV;
    if (vector >= m->nvectors)
        return -EINVAL;
    if (vector_masked(m, vector)) {
        pending_set(m, vector, true);
        return 0;
    }
    send(d, vector);
    return 1;
}

static uint64_t exclusive_read(void *opaque, uint64_t offset, unsigned len)
{
    struct pci_device *d = opaque;
    return msix_bar_read(d, d->msix->table_bar, offset, len);
}

static void exclusive_write(void *opaque, uint64_t offset, uint64_t value, unsigned len)
{
    struct pci_device *d = opaque;
    msix_bar_write(d, d->msix->table_bar, offset, value, len);
}

static const struct pci_region_ops msix_exclusive_ops = {
    .read = exclusive_read,
    .write = exclusive_write,
};

void msix_state_save(const struct pci_device *d, struct sbuf *out)
{
    const struct msix *m = d->msix;

    sbuf_u16(out, m->nvectors);
    sbuf_put(out, m->table, (size_t)m->nvectors * PCI_MSIX_ENTRY_SIZE_BYTES);
    sbuf_put(out, m->pba, pba_bytes(m->nvectors));
}

int msix_state_check(const struct pci_device *d, const uint8_t *p, size_t len, uint32_t version,
                     struct error *err)
{
    const struct msix *m = d->msix;
    size_t tsize, want;
    uint16_t n;

    if (!m)
        return error_invalid(err, "MSI-X state for a function without MSI-X");
    if (version < 1 || version > MSIX_STATE_VERSION)
        return error_invalid(err, "MSI-X state format version %u is not supported (1..%u)", version,
                             MSIX_STATE_VERSION);
    if (len < 2)
        return error_invalid(err, "MSI-X state of %zu bytes is truncated", len);
    n = le_get16(p);
    if (n != m->nvectors)
        return error_invalid(err, "MSI-X state at byte 0: %u vectors, the device has %u", n,
                             m->nvectors);
    tsize = (size_t)n * PCI_MSIX_ENTRY_SIZE_BYTES;
    want = 2 + tsize + pba_bytes(n);
    if (len != want)
        return error_invalid(err, "MSI-X state is %zu bytes, %zu expected for %u vectors", len,
                             want, n);
    for (size_t v = 0; v < n; v++) {
        const uint8_t *ctrl = p + 2 + v * PCI_MSIX_ENTRY_SIZE_BYTES + ENTRY_CTRL;

        if ((ctrl[0] & ~ENTRY_CTRL_MASKBIT) || ctrl[1] || ctrl[2] || ctrl[3])
            return error_invalid(err,
                                 "MSI-X state at byte %zu: vector %zu control 0x%08x has bits "
                                 "other than Mask set",
                                 (size_t)(ctrl - p), v, le_get32(ctrl));
    }
    for (unsigned v = n; v < pba_bytes(n) * 8u; v++) {
        const uint8_t *pba = p + 2 + tsize;

        if (pba[v / 8] & (1u << (v % 8)))
            return error_invalid(err, "MSI-X state at byte %zu: pending bit %u is past vector %u",
                                 2 + tsize + v / 8, v, n - 1);
    }
    return 0;
}

void msix_state_load(struct pci_device *d, const uint8_t *p, size_t len, uint32_t version)
{
    struct msix *m = d->msix;
    size_t tsize = (size_t)m->nvectors * PCI_MSIX_ENTRY_SIZE_BYTES;

    (void)len;
    (void)version;
    memcpy(m->table, p + 2, tsize);
    memcpy(m->pba, p + 2 + tsize, pba_bytes(m->nvectors));
    load_control(d);
    flush_pending(d);
}
