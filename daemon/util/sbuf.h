/* SPDX-License-Identifier: MIT */
/*
 * sbuf.h — little-endian serialization for saved state: a growable writer (struct sbuf) and a
 * bounds-checked reader (struct sreader), plus CRC-32.
 *
 * Contract: the writer never fails loudly. An allocation failure or a buffer past SBUF_MAX
 * sets `failed` and later puts are dropped; the owner checks sbuf_ok() once at the end. The
 * reader never reads past its end: a get beyond it returns zeroes and sets `bad`, so a parser
 * can read a whole structure and check sreader_ok() once, and report the offset of the first
 * short read (`bad_at`). Multi-byte values are little-endian on every host (house style rule 5).
 *
 * Threads: no shared state; a buffer belongs to one thread at a time.
 */
#ifndef PCID_UTIL_SBUF_H
#define PCID_UTIL_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest buffer a writer grows to (1 GiB): a guard against runaway sizes, not a format limit. */
#define SBUF_MAX (1u << 30)

struct sbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed; /* out of memory or past SBUF_MAX: the content is incomplete */
};

/* Append `n` bytes. */
void sbuf_put(struct sbuf *b, const void *data, size_t n);
void sbuf_u8(struct sbuf *b, uint8_t v);
void sbuf_u16(struct sbuf *b, uint16_t v);
void sbuf_u32(struct sbuf *b, uint32_t v);
void sbuf_u64(struct sbuf *b, uint64_t v);
/* A string as u16 length + bytes (no NUL); NULL is written as length 0. Strings longer than
 * UINT16_MAX fail the buffer. */
void sbuf_str(struct sbuf *b, const char *s);

/* Reserve a u32 to fill in later (a length field): returns its offset in the buffer. */
size_t sbuf_reserve_u32(struct sbuf *b);
/* Write `v` at offset `at` (from sbuf_reserve_u32). */
void sbuf_patch_u32(struct sbuf *b, size_t at, uint32_t v);

static inline bool sbuf_ok(const struct sbuf *b)
{
    return !b->failed;
}

/* sbuf_free() - release the buffer and zero it; safe on a zeroed one. */
void sbuf_free(struct sbuf *b);

struct sreader {
    const uint8_t *p;
    size_t len, pos;
    bool bad;      /* a get ran past the end */
    size_t bad_at; /* offset of that get */
};

static inline struct sreader sreader_init(const void *p, size_t len)
{
    return (struct sreader){.p = p, .len = len};
}

/* Bytes left to read. */
static inline size_t sreader_left(const struct sreader *r)
{
    return r->len - r->pos;
}

static inline bool sreader_ok(const struct sreader *r)
{
    return !r->bad;
}

uint8_t sreader_u8(struct sreader *r);
uint16_t sreader_u16(struct sreader *r);
uint32_t sreader_u32(struct sreader *r);
uint64_t sreader_u64(struct sreader *r);
/* `n` bytes in place, or NULL (and `bad`) when fewer are left. */
const uint8_t *sreader_bytes(struct sreader *r, size_t n);
/*
 * sreader_str() - a u16-length string copied into `out` (`size` bytes, NUL-terminated).
 * Returns 0, or -EINVAL when it runs past the end, does not fit `out`, or holds a NUL.
 */
int sreader_str(struct sreader *r, char *out, size_t size);

/*
 * crc32_ieee() - CRC-32 (IEEE 802.3 polynomial, reflected; zlib's crc32()) of `n` bytes,
 * continuing from `crc` (0 to start).
 */
uint32_t crc32_ieee(uint32_t crc, const void *data, size_t n);

#endif
