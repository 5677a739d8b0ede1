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

int query_cache_key(const struct machine *m, struct sbuf *key)
{
    struct key_fn rec;

    key->len = 0;
    key->failed = false;
    sbuf_u64(key, m->generation);
    sbuf_u32(key, m->n_buses);
    for (unsigned i = 0; i < m->n_buses; i++) {
        const struct pci_bus *bus = m->buses[i];
        uintptr_t ptrs[2] = {(uintptr_t)bus, (uintptr_t)bus->parent};

        sbuf_put(key, ptrs, sizeof(ptrs));
        for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
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
            sbuf_put(key, &rec, sizeof(rec));
        }
    }
    return sbuf_ok(key) ? 0 : -ENOMEM;
}

const char *query_cache_get(const struct query_cache *c, const struct sbuf *key, size_t flags)
{
    if (!c->text || c->flags != flags || !sbuf_ok(key) || c->key.len != key->len ||
        memcmp(c->key.p, key->p, key->len))
        return NULL;
    return c->text;
}

void query_cache_put(struct query_cache *c, struct sbuf *key, size_t flags, char *text)
{
    struct sbuf old = c->key;

    free(c->text);
    c->text = text;
    c->len = text ? strlen(text) : 0;
    c->flags = flags;
    c->key = *key;
    *key = old;
}

void query_cache_clear(struct query_cache *c)
{
    free(c->text);
    c->text = NULL;
    c->len = 0;
    sbuf_free(&c->key);
}
