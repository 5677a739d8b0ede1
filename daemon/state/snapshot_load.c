/* SPDX-License-Identifier: MIT */
/*
 * snapshot_load.c — reading a snapshot (see snapshot.h): the file's own consistency, the match
 * of its functions with the machine's, each function's checks, then the load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hw/pci/msix.h"
#include "../hw/pci/pci_cap.h"
#include "snapshot.h"

#define DRIVER_MAX 64  /* bytes of a driver name in a record */
#define ID_MAX     256 /* bytes of a device id in a record */

/* ---- decoding ------------------------------------------------------------------------------ */

/* One function of a snapshot, pointing into the file image. */
struct snap_dev {
    size_t at; /* file offset of its record */
    uint8_t bus, devfn;
    char driver[DRIVER_MAX], id[ID_MAX];
    struct pci_cap_span caps[SNAPSHOT_MAX_CAPS];
    int n_caps;
    const uint8_t *config;
    uint32_t config_len;
    const uint8_t *irq;
    const uint8_t *msix, *model;
    size_t msix_len, model_len;
    size_t msix_at, model_at; /* file offsets of those sections */
    uint32_t msix_version, model_version;
    struct machine_dev *md; /* the function it loads into */
};

struct snap {
    char type[64], version[64];
    struct snap_dev *devs;
    size_t n;
};

#define corrupt(err, ...) error_invalid(err, "corrupt: " __VA_ARGS__)

static int parse_ident(struct sreader *r, struct snap_dev *sd, size_t at, struct error *err)
{
    sd->bus = sreader_u8(r);
    sd->devfn = sreader_u8(r);
    sreader_u16(r);
    if (sreader_str(r, sd->driver, sizeof(sd->driver)) < 0 ||
        sreader_str(r, sd->id, sizeof(sd->id)) < 0 || sreader_left(r))
        return corrupt(err, "device identity at file offset 0x%zx is malformed", at);
    return 0;
}

static int parse_caps(struct sreader *r, struct snap_dev *sd, size_t at, struct error *err)
{
    uint16_t n = sreader_u16(r);

    if (n > SNAPSHOT_MAX_CAPS || sreader_left(r) != (size_t)n * 8)
        return corrupt(err, "capability list at file offset 0x%zx is malformed", at);
    for (int i = 0; i < n; i++) {
        struct pci_cap_span *c = &sd->caps[i];

        c->id = sreader_u16(r);
        c->offset = sreader_u16(r);
        c->size = sreader_u16(r);
        c->extended = sreader_u8(r);
        c->version = sreader_u8(r);
    }
    sd->n_caps = n;
    return 0;
}

/* Sections every device record has: identity, capabilities, config space, irq_state. */
#define SECTIONS_REQUIRED                                                                          \
    (1u << SNAPSHOT_SEC_IDENT | 1u << SNAPSHOT_SEC_CAPS | 1u << SNAPSHOT_SEC_CONFIG |              \
     1u << SNAPSHOT_SEC_IRQ)

/* The sections of a device record, each once and in order; MSI-X and model state optional. */
static int parse_device(size_t rec_at, struct sreader *rec, struct snap_dev *sd, struct error *err)
{
    unsigned seen = 0;
    int last = 0, r;

    sd->at = rec_at;
    while (sreader_left(rec)) {
        size_t at = rec_at + 8 + rec->pos;
        uint16_t tag = sreader_u16(rec);
        uint32_t len;
        const uint8_t *p;
        struct sreader s;

        sreader_u16(rec);
        len = sreader_u32(rec);
        p = sreader_bytes(rec, len);
        if (!p)
            return corrupt(err, "section at file offset 0x%zx runs past its record", at);
        if (tag <= last || tag > SNAPSHOT_SEC_MODEL)
            return corrupt(err, "unexpected section %u at file offset 0x%zx", tag, at);
        last = tag;
        seen |= 1u << tag;
        s = sreader_init(p, len);
        switch (tag) {
        case SNAPSHOT_SEC_IDENT:
            r = parse_ident(&s, sd, at, err);
            break;
        case SNAPSHOT_SEC_CAPS:
            r = parse_caps(&s, sd, at, err);
            break;
        case SNAPSHOT_SEC_CONFIG:
            sd->config = p;
            sd->config_len = len;
            r = 0;
            break;
        case SNAPSHOT_SEC_IRQ:
            sd->irq = p;
            r = len == PCI_NUM_PINS ? 0 : corrupt(err, "irq_state at 0x%zx is not 4 bytes", at);
            break;
        case SNAPSHOT_SEC_MSIX:
        case SNAPSHOT_SEC_MODEL:
            if (len < 4)
                return corrupt(err, "state section at file offset 0x%zx is truncated", at);
            if (tag == SNAPSHOT_SEC_MSIX) {
                sd->msix_version = le_get32(p);
                sd->msix_at = at;
                sd->msix = p + 4;
                sd->msix_len = len - 4;
            } else {
                sd->model_version = le_get32(p);
                sd->model_at = at;
                sd->model = p + 4;
                sd->model_len = len - 4;
            }
            r = 0;
            break;
        default:
            r = 0;
        }
        if (r < 0)
            return r;
    }
    if ((seen & SECTIONS_REQUIRED) != SECTIONS_REQUIRED)
        return corrupt(err, "device record at file offset 0x%zx lacks a section", rec_at);
    return 0;
}

static void snap_free(struct snap *s)
{
    free(s->devs);
    s->devs = NULL;
}

/* The file's own consistency: header, checksum, records. */
static int parse_file(const uint8_t *data, size_t len, struct snap *s, struct error *err)
{
    struct sreader r;
    uint32_t version, records, crc;
    size_t cap;

    if (len < SNAPSHOT_HEADER_SIZE || memcmp(data + SNAPSHOT_HDR_MAGIC, SNAPSHOT_MAGIC, 8) != 0)
        return error_invalid(err, "not a pcid snapshot (bad magic)");
    version = le_get32(data + SNAPSHOT_HDR_VERSION);
    if (version > SNAPSHOT_VERSION)
        return error_invalid(err, "format version %u is newer than this pcid supports (%d)",
                             version, SNAPSHOT_VERSION);
    if (version < 1 || le_get32(data + SNAPSHOT_HDR_SIZE) != SNAPSHOT_HEADER_SIZE)
        return corrupt(err, "bad header (version %u, header size %u)", version,
                       le_get32(data + SNAPSHOT_HDR_SIZE));
    if (le_get64(data + SNAPSHOT_HDR_FILELEN) != len)
        return corrupt(err, "the header says %llu bytes, the file has %zu (truncated?)",
                       (unsigned long long)le_get64(data + SNAPSHOT_HDR_FILELEN), len);
    crc = crc32_ieee(0, data + SNAPSHOT_HEADER_SIZE, len - SNAPSHOT_HEADER_SIZE);
    if (crc != le_get32(data + SNAPSHOT_HDR_CRC))
        return corrupt(err, "checksum mismatch (0x%08x in the header, 0x%08x computed)",
                       le_get32(data + SNAPSHOT_HDR_CRC), crc);
    records = le_get32(data + SNAPSHOT_HDR_RECORDS);
    if (records < 1 || records - 1 > (len - SNAPSHOT_HEADER_SIZE) / 8)
        return corrupt(err, "%u records cannot fit", records);
    cap = records - 1;
    s->devs = calloc(cap ? cap : 1, sizeof(*s->devs));
    if (!s->devs)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");

    r = sreader_init(data + SNAPSHOT_HEADER_SIZE, len - SNAPSHOT_HEADER_SIZE);
    for (uint32_t i = 0; i < records; i++) {
        size_t at = SNAPSHOT_HEADER_SIZE + r.pos;
        uint32_t type = sreader_u32(&r), rlen = sreader_u32(&r);
        const uint8_t *p = sreader_bytes(&r, rlen);
        struct sreader rec;
        int e;

        if (!p)
            return corrupt(err, "record %u at file offset 0x%zx runs past the end", i, at);
        rec = sreader_init(p, rlen);
        if (i == 0) {
            if (type != SNAPSHOT_REC_MACHINE || sreader_str(&rec, s->type, sizeof(s->type)) < 0 ||
                sreader_str(&rec, s->version, sizeof(s->version)) < 0 || sreader_left(&rec))
                return corrupt(err, "the first record is not a machine record");
            continue;
        }
        if (type != SNAPSHOT_REC_DEVICE)
            return corrupt(err, "record %u at file offset 0x%zx has unknown type %u", i, at, type);
        e = parse_device(at, &rec, &s->devs[s->n], err);
        if (e < 0)
            return e;
        s->n++;
    }
    if (sreader_left(&r))
        return corrupt(err, "%zu bytes after the last record", sreader_left(&r));
    return 0;
}

/* ---- validation against the machine -------------------------------------------------------- */

/* "device 'net0' (virtio-net-pci) at 00:03.0" */
static const char *dev_name(char *buf, size_t len, const char *id, const char *driver, uint8_t bus,
                            uint8_t devfn)
{
    if (id && *id)
        snprintf(buf, len, "device '%s' (%s) at %02x:%02x.%x", id, driver, bus, PCI_SLOT_OF(devfn),
                 PCI_FUNC_OF(devfn));
    else
        snprintf(buf, len, "device %s at %02x:%02x.%x", driver, bus, PCI_SLOT_OF(devfn),
                 PCI_FUNC_OF(devfn));
    return buf;
}

static struct pci_device *find_function(struct machine *m, uint8_t bus, uint8_t devfn)
{
    for (unsigned i = 0; i < m->n_buses; i++)
        if (pci_bus_num(m->buses[i]) == bus)
            return m->buses[i]->devices[devfn];
    return NULL;
}

/* Find each snapshot function on the machine, and each machine function in the snapshot. */
static int match(struct machine *m, struct snap *s, struct error *err)
{
    char who[160];

    for (size_t i = 0; i < s->n; i++) {
        struct snap_dev *sd = &s->devs[i];
        struct pci_device *d = find_function(m, sd->bus, sd->devfn);
        struct machine_dev *by_id = sd->id[0] ? machine_find_device(m, sd->id) : NULL;

        dev_name(who, sizeof(who), sd->id, sd->driver, sd->bus, sd->devfn);
        if (by_id && by_id->pci != d) {
            char bdf[PCI_BDF_STRLEN];

            return error_conflict(err, "%s is at %s on this machine", who,
                                  machine_dev_bdf(by_id, bdf) + 5);
        }
        if (!d)
            return error_conflict(err, "%s is missing from this machine", who);
        if (!streq(d->name, sd->driver))
            return error_conflict(err, "%s: that address holds %s on this machine", who, d->name);
        if (!streq(d->id ? d->id : "", sd->id))
            return error_conflict(err, "%s: that address holds device '%s' on this machine", who,
                                  d->id ? d->id : "");
        sd->md = machine_find_pci(m, d);
        if (!sd->md)
            return error_conflict(err, "%s is missing from this machine", who);
        for (size_t k = 0; k < i; k++)
            if (s->devs[k].md == sd->md)
                return corrupt(err, "%s appears twice", who);
    }
    for (struct machine_dev *md = m->devices; md; md = md->next) {
        bool found = false;

        for (size_t i = 0; i < s->n && !found; i++)
            found = s->devs[i].md == md;
        if (!found)
            return error_conflict(err, "%s is not in the snapshot",
                                  dev_name(who, sizeof(who), md->pci->id, md->pci->name,
                                           pci_bus_num(md->pci->bus), md->pci->devfn));
    }
    return 0;
}

static bool same_cap(const struct pci_cap_span *a, const struct pci_cap_span *b)
{
    return a->offset == b->offset && a->id == b->id && a->extended == b->extended;
}

static int check_caps(struct pci_device *d, const struct snap_dev *sd, const char *who,
                      struct error *err)
{
    struct pci_cap_span have[PCI_CAP_LAYOUT_MAX];
    int n;

    pthread_mutex_lock(&d->lock);
    n = pci_cap_layout(d, have, PCI_CAP_LAYOUT_MAX);
    pthread_mutex_unlock(&d->lock);
    if (n < 0)
        n = 0;
    for (int i = 0; i < sd->n_caps; i++) {
        const struct pci_cap_span *c = &sd->caps[i];
        bool ok = false;

        for (int k = 0; k < n && !ok; k++)
            ok = same_cap(c, &have[k]) && c->size == have[k].size && c->version == have[k].version;
        if (!ok)
            return error_conflict(err,
                                  "%s: %scapability 0x%02x at offset 0x%x (%u bytes) is not "
                                  "supported by the device",
                                  who, c->extended ? "extended " : "", c->id, c->offset, c->size);
        /* The list must agree with the config bytes it describes. */
        if (c->offset + 2u > sd->config_len ||
            (c->extended ? le_get16(sd->config + c->offset) : sd->config[c->offset]) != c->id)
            return corrupt(err, "%s: capability 0x%02x at offset 0x%x does not match config space",
                           who, c->id, c->offset);
    }
    for (int k = 0; k < n; k++) {
        bool ok = false;

        for (int i = 0; i < sd->n_caps && !ok; i++)
            ok = same_cap(&sd->caps[i], &have[k]);
        if (!ok)
            return error_conflict(err,
                                  "%s: the device's %scapability 0x%02x at offset 0x%x is "
                                  "missing from the snapshot",
                                  who, have[k].extended ? "extended " : "", have[k].id,
                                  have[k].offset);
    }
    return 0;
}

/* QEMU's get_pci_config_device(): bytes the snapshot must match are cmask & ~wmask & ~w1cmask.
 */
static int check_config(const struct pci_device *d, const struct snap_dev *sd, const char *who,
                        struct error *err)
{
    for (uint32_t i = 0; i < d->config_size; i++) {
        uint8_t now = ld8(d->config + i), want = sd->config[i];

        if ((want ^ now) & d->cmask[i] & ~d->wmask[i] & ~d->w1cmask[i])
            return error_conflict(err,
                                  "%s: bad config data at offset 0x%x: snapshot 0x%02x, device "
                                  "0x%02x (cmask 0x%02x, wmask 0x%02x, w1cmask 0x%02x)",
                                  who, i, want, now, d->cmask[i], d->wmask[i], d->w1cmask[i]);
    }
    return 0;
}

static int check_state(const struct snap_dev *sd, const uint8_t *p, size_t len, uint32_t version,
                       size_t at, uint32_t supported, const char *what, const char *who,
                       int (*check)(const struct pci_device *, const uint8_t *, size_t, uint32_t,
                                    struct error *),
                       struct error *err)
{
    struct error e = {0};

    if (version > supported)
        return error_invalid(err, "%s: %s format version %u is newer than this pcid supports (%u)",
                             who, what, version, supported);
    if (check(sd->md->pci, p, len, version, &e) < 0)
        return error_setf(err, ERROR_CLASS_GENERIC, e.kind, "%s: %s (section at file offset 0x%zx)",
                          who, e.desc, at);
    return 0;
}

static int check_device(const struct snap_dev *sd, struct error *err)
{
    struct pci_device *d = sd->md->pci;
    char who[160];
    int r;

    dev_name(who, sizeof(who), sd->id, sd->driver, sd->bus, sd->devfn);
    if (sd->config_len != d->config_size)
        return error_conflict(err, "%s: %u bytes of config space in the snapshot, %u on the device",
                              who, sd->config_len, d->config_size);
    r = check_caps(d, sd, who, err);
    if (r < 0)
        return r;
    r = check_config(d, sd, who, err);
    if (r < 0)
        return r;
    for (int pin = 0; pin < PCI_NUM_PINS; pin++)
        if (sd->irq[pin] > 1)
            return error_invalid(err, "%s: irq_state[%d] is %u: must be 0 or 1", who, pin,
                                 sd->irq[pin]);
    if (sd->msix && !d->msix)
        return error_conflict(err, "%s: the snapshot has MSI-X state, the device has no MSI-X",
                              who);
    if (!sd->msix && d->msix)
        return error_conflict(err, "%s: the snapshot lacks the device's MSI-X state", who);
    if (sd->msix) {
        r = check_state(sd, sd->msix, sd->msix_len, sd->msix_version, sd->msix_at,
                        MSIX_STATE_VERSION, "MSI-X state", who, msix_state_check, err);
        if (r < 0)
            return r;
    }
    if (sd->model && !(d->cls && d->cls->state_save))
        return error_conflict(err,
                              "%s: the snapshot has register state for a device that keeps "
                              "none",
                              who);
    if (!sd->model && d->cls && d->cls->state_save)
        return error_conflict(err, "%s: the snapshot lacks the device's register state", who);
    if (sd->model)
        return check_state(sd, sd->model, sd->model_len, sd->model_version, sd->model_at,
                           d->cls->state_version, "register state", who, d->cls->state_check, err);
    return 0;
}

/* ---- applying ------------------------------------------------------------------------------ */

static void apply_device(const struct snap_dev *sd)
{
    struct pci_device *d = sd->md->pci;

    pthread_mutex_lock(&d->lock);
    for (uint32_t i = 0; i < d->config_size; i++)
        st8(d->config + i, sd->config[i]);
    pci_cap_restore_layout(d, sd->caps, sd->n_caps);
    if (sd->msix)
        msix_state_load(d, sd->msix, sd->msix_len, sd->msix_version);
    if (sd->model)
        d->cls->state_load(d, sd->model, sd->model_len, sd->model_version);
    if (pci_dev_update_mappings(d) && d->bus)
        pci_bus_map_changed(d->bus);
    pthread_mutex_unlock(&d->lock);
}

static void set_pins(struct pci_device *d, const uint8_t *irq)
{
    pthread_mutex_lock(&d->lock);
    for (int pin = 0; pin < PCI_NUM_PINS; pin++)
        pci_dev_set_irq(d, pin, irq ? irq[pin] : 0);
    pthread_mutex_unlock(&d->lock);
}

int snapshot_apply(struct machine *m, const uint8_t *data, size_t len, unsigned *n_devices,
                   struct error *err)
{
    struct snap s = {0};
    int r;

    r = parse_file(data, len, &s, err);
    if (r == 0 && (!streq(s.type, m->type->name) || !streq(s.version, m->type->version)))
        r = error_conflict(err, "a snapshot of machine type %s %s, this machine is %s %s", s.type,
                           s.version, m->type->name, m->type->version);
    if (r == 0)
        r = match(m, &s, err);
    for (size_t i = 0; r == 0 && i < s.n; i++)
        r = check_device(&s.devs[i], err);
    if (r < 0) {
        snap_free(&s);
        return r;
    }

    /* Everything fits: INTx down everywhere (so a routing change in the chipset's config space
     * cannot strand a line), state in, then INTx up as saved. */
    for (size_t i = 0; i < s.n; i++)
        set_pins(s.devs[i].md->pci, NULL);
    for (size_t i = 0; i < s.n; i++)
        apply_device(&s.devs[i]);
    for (size_t i = 0; i < s.n; i++)
        set_pins(s.devs[i].md->pci, s.devs[i].irq);
    if (m->plat && m->plat->topology_changed)
        m->plat->topology_changed(m->plat_opaque);
    *n_devices = (unsigned)s.n;
    snap_free(&s);
    return 0;
}
