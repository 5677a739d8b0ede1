/* SPDX-License-Identifier: MIT */
/*
 * pci_cap.c — capability list allocation and walks.
 *
 * Placement: offset 0 asks for the first run of `size` free bytes at or after 0x40 (a byte is
 * free when `used` is 0); QEMU does the same, so a model adding the same capabilities in the
 * same order gets QEMU's offsets. An explicit offset is checked against every byte of every
 * existing capability: overlap is refused with -EBUSY, nothing written. A capability that does
 * not fit before 0x100 gets -ENOSPC.
 */
#include "pci_cap.h"

#include <errno.h>
#include <string.h>

static uint8_t find_space(const struct pci_device *d, uint8_t size)
{
    unsigned start = PCI_CAP_SPACE_START;

    /* A capability starts on a dword (PCI 3.0 §6.7); QEMU's allocations are dword-rounded,
     * so this finds QEMU's offsets, and a reservation of odd length cannot misalign it. */
    for (unsigned i = PCI_CAP_SPACE_START; i < PCI_CONFIG_SPACE_SIZE; i++) {
        if (d->used[i])
            start = (i + 4) & ~3u;
        else if (i >= start && i - start + 1 == size)
            return (uint8_t)start;
    }
    return 0;
}

int pci_cap_add(struct pci_device *d, uint8_t cap_id, uint8_t offset, uint8_t size)
{
    unsigned alloc;

    if (size < 2)
        return -EINVAL;
    if (!offset) {
        offset = find_space(d, size);
        if (!offset)
            return -ENOSPC;
    } else {
        if (offset < PCI_CAP_SPACE_START || (offset & 3) ||
            (unsigned)offset + size > PCI_CONFIG_SPACE_SIZE)
            return -EINVAL;
        for (unsigned i = offset; i < (unsigned)offset + size; i++)
            if (d->used[i])
                return -EBUSY;
    }

    alloc = (size + 3u) & ~3u;
    if (offset + alloc > PCI_CONFIG_SPACE_SIZE)
        alloc = PCI_CONFIG_SPACE_SIZE - offset;

    d->config[offset + PCI_CAP_LIST_ID] = cap_id;
    d->config[offset + PCI_CAP_LIST_NEXT] = d->config[PCI_CAPABILITY_LIST];
    d->config[PCI_CAPABILITY_LIST] = offset;
    d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    memset(d->used + offset, 0xff, alloc);
    memset(d->wmask + offset, 0, size);
    memset(d->cmask + offset, 0xff, size);
    return offset;
}

uint8_t pci_cap_find(const struct pci_device *d, uint8_t cap_id, uint8_t *prev)
{
    uint8_t at = PCI_CAPABILITY_LIST;
    uint8_t seen[PCI_CONFIG_SPACE_SIZE / 4] = {0};

    if (!(d->config[PCI_STATUS] & PCI_STATUS_CAP_LIST))
        return 0;
    for (int n = 0; n < PCI_CAP_WALK_MAX; n++) {
        uint8_t next = d->config[at] & 0xfc;

        if (next < PCI_CAP_SPACE_START || seen[next / 4])
            return 0;
        seen[next / 4] = 1;
        if (d->config[next + PCI_CAP_LIST_ID] == cap_id) {
            if (prev)
                *prev = at;
            return next;
        }
        at = next + PCI_CAP_LIST_NEXT;
    }
    return 0;
}

int pci_cap_del(struct pci_device *d, uint8_t cap_id, uint8_t size)
{
    uint8_t prev = 0;
    uint8_t offset = pci_cap_find(d, cap_id, &prev);
    unsigned alloc;

    if (!offset)
        return -ENOENT;
    d->config[prev] = d->config[offset + PCI_CAP_LIST_NEXT];
    if ((unsigned)offset + size > PCI_CONFIG_SPACE_SIZE)
        size = (uint8_t)(PCI_CONFIG_SPACE_SIZE - offset);
    memset(d->wmask + offset, 0xff, size);
    memset(d->w1cmask + offset, 0, size);
    memset(d->cmask + offset, 0, size);
    alloc = MIN((size + 3u) & ~3u, (unsigned)(PCI_CONFIG_SPACE_SIZE - offset));
    memset(d->used + offset, 0, alloc);
    if (!d->config[PCI_CAPABILITY_LIST])
        d->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_CAP_LIST;
    return 0;
}

int pci_cap_reserve(struct pci_device *d, uint16_t offset, uint16_t size)
{
    if (offset < PCI_CAP_SPACE_START || (offset & 3) || !size ||
        (uint32_t)offset + size > d->config_size)
        return -EINVAL;
    memset(d->used + offset, 0xff, MIN((size + 3u) & ~3u, d->config_size - offset));
    return 0;
}

int pci_cap_walk(const struct pci_device *d, struct pci_cap_entry *out, int max, int *n_out)
{
    uint8_t seen[PCIE_CONFIG_SPACE_SIZE / 4] = {0};
    uint8_t at = PCI_CAPABILITY_LIST;
    int n = 0;
    bool bad = false;

    if (d->config[PCI_STATUS] & PCI_STATUS_CAP_LIST) {
        for (int i = 0;; i++) {
            uint8_t next = d->config[at];

            if (!next)
                break;
            if (i >= PCI_CAP_WALK_MAX || next < PCI_CAP_SPACE_START || (next & 3) ||
                seen[next / 4]) {
                bad = true;
                break;
            }
            seen[next / 4] = 1;
            if (n < max)
                out[n] =
                    (struct pci_cap_entry){.offset = next, .id = d->config[next + PCI_CAP_LIST_ID]};
            n++;
            at = next + PCI_CAP_LIST_NEXT;
        }
    }

    if (pci_dev_is_express(d) && !bad) {
        uint16_t off = PCI_EXT_CAP_START;

        for (int i = 0; off; i++) {
            uint32_t hdr = le_get32(d->config + off);

            if (!hdr || hdr == 0xffffffffu)
                break; /* empty extended list */
            if (i >= PCI_EXT_CAP_WALK_MAX || seen[off / 4]) {
                bad = true;
                break;
            }
            seen[off / 4] = 1;
            if (n < max)
                out[n] = (struct pci_cap_entry){.offset = off,
                                                .id = (uint16_t)(hdr & 0xffff),
                                                .version = (uint8_t)((hdr >> 16) & 0xf),
                                                .extended = true};
            n++;
            off = (uint16_t)(hdr >> 20);
            if (off && (off < PCI_EXT_CAP_START || (off & 3) || off >= PCIE_CONFIG_SPACE_SIZE)) {
                bad = true;
                break;
            }
        }
    }

    if (n_out)
        *n_out = MIN(n, max);
    return bad ? -ELOOP : MIN(n, max);
}

uint16_t pci_ext_cap_find(const struct pci_device *d, uint16_t cap_id)
{
    uint16_t off = PCI_EXT_CAP_START;

    if (!pci_dev_is_express(d))
        return 0;
    for (int i = 0; off && i < PCI_EXT_CAP_WALK_MAX; i++) {
        uint32_t hdr = le_get32(d->config + off);

        if (!hdr || hdr == 0xffffffffu)
            return 0;
        if ((hdr & 0xffff) == cap_id)
            return off;
        off = (uint16_t)(hdr >> 20);
        if (off && (off < PCI_EXT_CAP_START || (off & 3) || off >= PCIE_CONFIG_SPACE_SIZE))
            return 0;
    }
    return 0;
}

int pci_ext_cap_add(struct pci_device *d, uint16_t cap_id, uint8_t version, uint16_t offset,
                    uint16_t size)
{
    uint16_t last = 0, off = PCI_EXT_CAP_START;

    if (!pci_dev_is_express(d) || offset < PCI_EXT_CAP_START || (offset & 3) || size < 4 ||
        (uint32_t)offset + size > PCIE_CONFIG_SPACE_SIZE)
        return -EINVAL;
    for (unsigned i = offset; i < (unsigned)offset + size; i++)
        if (d->used[i])
            return -EBUSY;
    if (offset != PCI_EXT_CAP_START && !d->used[PCI_EXT_CAP_START])
        return -EINVAL; /* the list must start at 0x100 */

    /* Find the tail of the existing list. */
    if (d->used[PCI_EXT_CAP_START]) {
        for (int i = 0; off && i < PCI_EXT_CAP_WALK_MAX; i++) {
            last = off;
            off = (uint16_t)(le_get32(d->config + off) >> 20);
        }
    }

    le_set32(d->config + offset, (uint32_t)cap_id | (uint32_t)(version & 0xf) << 16);
    if (last) {
        uint32_t hdr = le_get32(d->config + last);
        le_set32(d->config + last, (hdr & 0x000fffff) | (uint32_t)offset << 20);
    }
    memset(d->used + offset, 0xff, (size + 3u) & ~3u);
    memset(d->wmask + offset, 0, size);
    memset(d->w1cmask + offset, 0, size);
    memset(d->cmask + offset, 0xff, size);
    return offset;
}

int pci_cap_layout(const struct pci_device *d, struct pci_cap_span *out, int max)
{
    struct pci_cap_entry e[PCI_CAP_LAYOUT_MAX];
    uint8_t start[PCIE_CONFIG_SPACE_SIZE] = {0};
    int got = 0, r = pci_cap_walk(d, e, PCI_CAP_LAYOUT_MAX, &got);
    int n = MIN(got, max);

    for (int i = 0; i < got; i++)
        start[e[i].offset] = 1;
    for (int i = 0; i < n; i++) {
        unsigned end = e[i].extended ? d->config_size : PCI_CONFIG_SPACE_SIZE;
        unsigned o = e[i].offset;

        /* The run of used bytes from the entry up to the next entry. */
        do
            o++;
        while (o < end && d->used[o] && !start[o]);
        if (!d->used[e[i].offset])
            o = e[i].offset; /* linked but never allocated: no bytes of its own */
        out[i] = (struct pci_cap_span){.offset = e[i].offset,
                                       .id = e[i].id,
                                       .size = (uint16_t)(o - e[i].offset),
                                       .version = e[i].version,
                                       .extended = e[i].extended};
    }
    return r < 0 ? r : n;
}

void pci_cap_restore_layout(struct pci_device *d, const struct pci_cap_span *caps, int n)
{
    uint8_t keep[PCIE_CONFIG_SPACE_SIZE] = {0};

    for (int i = 0; i < n; i++) {
        uint32_t start = MAX((uint32_t)caps[i].offset, (uint32_t)PCI_CAP_SPACE_START);
        uint32_t end = MIN((uint32_t)caps[i].offset + caps[i].size, d->config_size);

        for (uint32_t o = start; o < end; o++)
            keep[o] = 1;
    }
    for (uint32_t o = PCI_CAP_SPACE_START; o < d->config_size; o++) {
        if (d->used[o] && !keep[o]) {
            d->used[o] = 0;
            d->wmask[o] = 0xff;
            d->w1cmask[o] = 0;
            d->cmask[o] = 0;
        } else if (!d->used[o] && keep[o]) {
            d->used[o] = 0xff;
            d->wmask[o] = 0;
            d->w1cmask[o] = 0;
            d->cmask[o] = 0xff;
        }
    }
}
