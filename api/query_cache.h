/* SPDX-License-Identifier: MIT */
/*
 * query_cache.h — serialized answers of the topology queries (query-pci, info pci), kept with
 * the exact inputs they were made from.
 *
 * What query-pci and info pci show is a function of: the topology (the machine's generation
 * covers every device and bus coming or going), and per function its id, its 64-byte header
 * (ids, class, interrupt pin and line, bridge bus numbers and windows, BAR registers) and its
 * BARs' size, type and mapped address (the address also depends on the Command register and
 * the power state, which is why the mapped address itself is part of the key). The key is
 * those bytes, read afresh for every query; an answer is served only when the key compares
 * equal, so a guest write to a BAR, a bridge window or a bus number, a reset, a state load or
 * any hot-plug makes the next query rebuild its answer. Reading the key costs about 200 bytes
 * per function, a few microseconds for 200 functions, against milliseconds to build and
 * serialize the answer (docs/bench.md). A miss made while a vCPU changed the inputs is not
 * kept: the key is read again after the answer is made and must be unchanged.
 *
 * Ownership: a cache owns its key and one reference to its text (others may hold more: an
 * answer being sent). Not thread-safe: the callers hold the control lock. Errors: -ENOMEM
 * only.
 */
#ifndef PCID_API_QUERY_CACHE_H
#define PCID_API_QUERY_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "../daemon/machine/machine.h"
#include "../daemon/util/sbuf.h"
#include "text.h"

struct query_cache {
    struct sbuf key;       /* query_cache_key() of the machine the text was made from */
    size_t flags;          /* what the text was made with (json_dumps flags, or the caller's tag) */
    struct api_text *text; /* NULL: nothing cached */
};

/*
 * query_cache_key() - write the inputs of query-pci / info pci for `m` into `key` (reset
 * first; its memory is reused). Control lock held. Returns 0, or -ENOMEM (key unusable).
 */
int query_cache_key(const struct machine *m, struct sbuf *key);

/*
 * query_cache_lookup() - the cached text when the key of `m` as it is now (query_cache_key(),
 * compared as it is read: nothing is written, the walk stops at the first difference) and
 * `flags` are what it was made from, else NULL. Control lock held. The cache's
 * reference, valid until the next query_cache_put() or query_cache_clear() on `c`
 * (api_text_ref() it to keep it longer).
 */
struct api_text *query_cache_lookup(const struct query_cache *c, const struct machine *m,
                                    size_t flags);

/*
 * query_cache_put() - remember `text` (the caller's reference is taken) as made from `key`
 * with `flags`; `key` is swapped into the cache (the caller gets the old buffer back to reuse).
 */
void query_cache_put(struct query_cache *c, struct sbuf *key, size_t flags, struct api_text *text);

/* query_cache_clear() - drop the text and the key; safe on a zeroed cache. */
void query_cache_clear(struct query_cache *c);

#endif
