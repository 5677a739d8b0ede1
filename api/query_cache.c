/* SPDX-License-Identifier: MIT */
/*
 * query_cache.c — serialized topology answers with the inputs they were made from (see
 * query_cache.h for what the key holds and why that is all query-pci and info pci read).
 */
#include "query_cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/hw/pci/pci.h"

/* What one function contributes to the key. No padding (asserted), so equal inputs give equal
 * bytes without zeroing it first. */
struct key_fn {
    uintptr_t dev, id;
    uint64_t bar_size[PCI_NUM_REGIONS], bar_addr[PCI_NUM_REGIONS];
    uint8_t bar_type[PCI_NUM_REGIONS];
    uint8_t devfn;
    uint32_t header[PCI_CONFIG_HEADER_SIZE / 4]; /* as loaded: host order, compared only */
};
_Static_assert(sizeof(struct key_fn) == 2 * sizeof(uintptr_t) + 14 * 8 + 8 + PCI_CONFIG_HEADER_SIZE,
               "struct key_fn has padding");

/* Where the key goes: appended to `out`, or compared with `cmp` from offset `off` on. */
struct key_sink {
    struct sbuf *out;
    const struct sbuf *cmp;
    size_t off;
    bool differs; /* compare: a byte differs (or the key is longer than cmp) */
};

static void sink_put(struct key_sink *s, const void *data, size_t n)
{
    if (s->out) {
        sbuf_put(s->out, data, n);
        return;
    }
    if (s->differs || n > s->cmp->len - s->off || memcmp(s->cmp->p + s->off, data, n)) {
        s->differs = true;
        return;
    }
    s->off += n;
}

/* The key of `m` into `s`; comparing, it stops at the first difference. */
static void key_walk(const struct machine *m, struct key_sink *s)
{
    struct key_fn rec;
    uint64_t gen = m->generation;
    uint32_t n_buses = m->n_buses;

    sink_put(s, &gen, sizeof(gen)); /* host order: compared only */
    sink_put(s, &n_buses, sizeof(n_buses));
    for (unsigned i = 0; i < m->n_buses && !s->differs; i++) {
        const struct pci_bus *bus = m->buses[i];
        uintptr_t ptrs[2] = {(uintptr_t)bus, (uintptr_t)bus->parent};

        sink_put(s, ptrs, sizeof(ptrs));
        for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX && !s->differs; devfn++) {
            const struct pci_device *d = bus->devices[devfn];

            if (!d)
                continue;
            rec.dev = (uintptr_t)d;
            rec.id = (uintptr_t)d->id;
            for (int r = 0; r < PCI_NUM_REGIONS; r++) {
                rec.bar_size[r] = d->bars[r].size;
                rec.bar_type[r] = d->bars[r].type;
                rec.bar_addr[r] = pci_bar_addr(d, r);
            }
            rec.devfn = (uint8_t)devfn;
            /* Dword loads of the live header, as a config read does (config is malloc'd,
             * so aligned; every config space is at least the header). */
            for (unsigned w = 0; w < PCI_CONFIG_HEADER_SIZE / 4; w++)
                rec.header[w] = (uint32_t)le_load(d->config + 4 * w, 4);
            sink_put(s, &rec, sizeof(rec));
        }
    }
}

int query_cache_key(const struct machine *m, struct sbuf *key)
{
    struct key_sink s = {.out = key};

    key->len = 0;
    key->failed = false;
    key_walk(m, &s);
    return sbuf_ok(key) ? 0 : -ENOMEM;
}

struct api_text *query_cache_lookup(const struct query_cache *c, const struct machine *m,
                                    size_t flags)
{
    struct key_sink s = {.cmp = &c->key};

    if (!c->text || c->flags != flags || !sbuf_ok(&c->key))
        return NULL;
    key_walk(m, &s);
    return !s.differs && s.off == c->key.len ? c->text : NULL;
}

struct api_text *api_text_new(const char *s, size_t len)
{
    struct api_text *t = malloc(sizeof(*t) + len + 1);

    if (!t)
        return NULL;
    t->refs = 1;
    t->len = len;
    if (len)
        memcpy(t->s, s, len);
    t->s[len] = '\0';
    return t;
}

struct api_text *api_text_ref(struct api_text *t)
{
    __atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

void api_text_unref(struct api_text *t)
{
    if (t && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(t);
}

void query_cache_put(struct query_cache *c, struct sbuf *key, size_t flags, struct api_text *text)
{
    struct sbuf old = c->key;

    api_text_unref(c->text);
    c->text = text;
    c->flags = flags;
    c->key = *key;
    *key = old;
}

void query_cache_clear(struct query_cache *c)
{
    api_text_unref(c->text);
    c->text = NULL;
    sbuf_free(&c->key);
}
