/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c — device-state snapshots (see snapshot.h): writing the file image, and the files
 * in the state directory. Reading, validation and the load are in snapshot_load.c.
 */
#include "snapshot.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../hw/pci/msix.h"
#include "../hw/pci/pci_cap.h"
#include "store.h"

/* ---- encoding ------------------------------------------------------------------------------ */

static void section_begin(struct sbuf *b, uint16_t tag, size_t *len_at)
{
    sbuf_u16(b, tag);
    sbuf_u16(b, 0);
    *len_at = sbuf_reserve_u32(b);
}

static void section_end(struct sbuf *b, size_t len_at)
{
    sbuf_patch_u32(b, len_at, (uint32_t)(b->len - len_at - 4));
}

static int encode_device(struct pci_device *d, struct sbuf *b, struct error *err)
{
    struct pci_cap_span caps[PCI_CAP_LAYOUT_MAX];
    uint8_t cfg[PCIE_CONFIG_SPACE_SIZE];
    size_t rec_at, at;
    int n;

    pthread_mutex_lock(&d->lock);
    n = pci_cap_layout(d, caps, PCI_CAP_LAYOUT_MAX);
    if (n > SNAPSHOT_MAX_CAPS) {
        pthread_mutex_unlock(&d->lock);
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_LIMIT,
                          "%s at %02x.%x has %d capabilities, more than a snapshot keeps (%d)",
                          d->name, PCI_SLOT_OF(d->devfn), PCI_FUNC_OF(d->devfn), n,
                          SNAPSHOT_MAX_CAPS);
    }
    if (n < 0)
        n = 0; /* a malformed list cannot happen: the list bytes are read-only to the guest */
    pci_dev_config_copy(d, cfg, 0, d->config_size);

    sbuf_u32(b, SNAPSHOT_REC_DEVICE);
    rec_at = sbuf_reserve_u32(b);

    section_begin(b, SNAPSHOT_SEC_IDENT, &at);
    sbuf_u8(b, pci_bus_num(d->bus));
    sbuf_u8(b, d->devfn);
    sbuf_u16(b, 0);
    sbuf_str(b, d->name);
    sbuf_str(b, d->id);
    section_end(b, at);

    section_begin(b, SNAPSHOT_SEC_CAPS, &at);
    sbuf_u16(b, (uint16_t)n);
    for (int i = 0; i < n; i++) {
        sbuf_u16(b, caps[i].id);
        sbuf_u16(b, caps[i].offset);
        sbuf_u16(b, caps[i].size);
        sbuf_u8(b, caps[i].extended);
        sbuf_u8(b, caps[i].version);
    }
    section_end(b, at);

    section_begin(b, SNAPSHOT_SEC_CONFIG, &at);
    sbuf_put(b, cfg, d->config_size);
    section_end(b, at);

    section_begin(b, SNAPSHOT_SEC_IRQ, &at);
    sbuf_put(b, d->irq_state, PCI_NUM_PINS);
    section_end(b, at);

    if (d->msix) {
        section_begin(b, SNAPSHOT_SEC_MSIX, &at);
        sbuf_u32(b, MSIX_STATE_VERSION);
        msix_state_save(d, b);
        section_end(b, at);
    }
    if (d->cls && d->cls->state_save) {
        section_begin(b, SNAPSHOT_SEC_MODEL, &at);
        sbuf_u32(b, d->cls->state_version);
        d->cls->state_save(d, b);
        section_end(b, at);
    }
    pthread_mutex_unlock(&d->lock);
    sbuf_patch_u32(b, rec_at, (uint32_t)(b->len - rec_at - 4));
    return 0;
}

int snapshot_encode(struct machine *m, struct sbuf *b, unsigned *n_devices, struct error *err)
{
    size_t start = b->len, rec_at;
    unsigned n = 0;
    uint8_t *h;

    sbuf_put(b, SNAPSHOT_MAGIC, 8);
    sbuf_u32(b, SNAPSHOT_VERSION);
    sbuf_u32(b, SNAPSHOT_HEADER_SIZE);
    sbuf_u32(b, 0); /* records, below */
    sbuf_u32(b, 0); /* CRC, below */
    sbuf_u64(b, 0); /* file size, below */

    sbuf_u32(b, SNAPSHOT_REC_MACHINE);
    rec_at = sbuf_reserve_u32(b);
    sbuf_str(b, m->type->name);
    sbuf_str(b, m->type->version);
    sbuf_patch_u32(b, rec_at, (uint32_t)(b->len - rec_at - 4));

    /* Bus by bus, in devfn order: the order a reader can rely on. */
    for (unsigned i = 0; i < m->n_buses; i++) {
        for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
            struct pci_device *d = m->buses[i]->devices[devfn];
            int r;

            if (!d)
                continue;
            r = encode_device(d, b, err);
            if (r < 0)
                return r;
            n++;
            if (b->len - start > SNAPSHOT_MAX_SIZE)
                return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_LIMIT,
                                  "the snapshot would exceed %u bytes", SNAPSHOT_MAX_SIZE);
        }
    }
    if (!sbuf_ok(b))
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                          "out of memory building the snapshot");
    h = b->p + start;
    le_set32(h + SNAPSHOT_HDR_RECORDS, n + 1);
    le_set64(h + SNAPSHOT_HDR_FILELEN, b->len - start);
    le_set32(h + SNAPSHOT_HDR_CRC,
             crc32_ieee(0, h + SNAPSHOT_HEADER_SIZE, b->len - start - SNAPSHOT_HEADER_SIZE));
    *n_devices = n;
    return 0;
}

/* ---- files --------------------------------------------------------------------------------- */

/* Re-issue `inner` with the snapshot's name in front. */
static int named(struct error *err, const char *name, const struct error *inner, int r)
{
    error_setf(err, inner->cls ? inner->cls : ERROR_CLASS_GENERIC, inner->kind, "snapshot '%s': %s",
               name, inner->desc);
    return r;
}

int snapshot_save(struct machine *m, const char *state_dir, const char *name,
                  struct snapshot_info *info, struct error *err)
{
    struct sbuf b = {0};
    struct error e = {0};
    char dir[PATH_MAX];
    unsigned n = 0;
    int r = store_name_check(name, err);

    if (r < 0)
        return r;
    snprintf(dir, sizeof(dir), "%s/%s", state_dir, STORE_SNAPSHOT_DIR);
    r = snapshot_encode(m, &b, &n, &e);
    if (r == 0)
        r = store_write_atomic(dir, name, b.p, b.len, &e);
    if (r == 0)
        *info = (struct snapshot_info){.size = b.len, .devices = n};
    sbuf_free(&b);
    return r < 0 ? named(err, name, &e, r) : 0;
}

int snapshot_load(struct machine *m, const char *state_dir, const char *name,
                  struct snapshot_info *info, struct error *err)
{
    struct error e = {0};
    char path[PATH_MAX];
    char *data = NULL;
    size_t len = 0;
    unsigned n = 0;
    int r = store_name_check(name, err);

    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "%s/%s/%s", state_dir, STORE_SNAPSHOT_DIR, name);
    r = store_read(path, SNAPSHOT_MAX_SIZE, &data, &len, &e);
    if (r == -ENOENT) {
        e = (struct error){0};
        error_setf(&e, ERROR_CLASS_GENERIC, ERROR_KIND_NOT_FOUND, "no such snapshot in %s/%s",
                   state_dir, STORE_SNAPSHOT_DIR);
    }
    if (r == 0)
        r = snapshot_apply(m, (const uint8_t *)data, len, &n, &e);
    if (r == 0)
        *info = (struct snapshot_info){.size = len, .devices = n};
    free(data);
    return r < 0 ? named(err, name, &e, r) : 0;
}
