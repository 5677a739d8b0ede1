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

/* What one function contributes to the key; zeroed first, so padding compares equal. */
struct key_fn {
    uintptr_t dev, id;
    uint64_t bar_size[PCI_NUM_REGIONS], bar_addr[PCI_NUM_REGIONS];
    uint8_t bar_type[PCI_NUM_REGIONS];
    uint8_t devfn;
    uint8_t header[PCI_CONFIG_HEADER_SIZE];
};

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
            memset(&rec, 0, sizeof(rec));
            rec.dev = (uintptr_t)d;
            rec.id = (uintptr_t)d->id;
            for (int r = 0; r < PCI_NUM_REGIONS; r++) {
                rec.bar_size[r] = d->bars[r].size;
                rec.bar_type[r] = d->bars[r].type;
                rec.bar_addr[r] = pci_bar_addr(d, r);
            }
            rec.devfn = (uint8_t)devfn;
            pci_dev_config_copy(d, rec.header, 0, sizeof(rec.header));
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
