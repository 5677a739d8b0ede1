/* SPDX-License-Identifier: MIT */
/*
 * sbuf.c — the serialization writer and reader, and CRC-32 (see sbuf.h).
 */
#include "sbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void sbuf_put(struct sbuf *b, const void *data, size_t n)
{
    if (b->failed || !n)
        return;
    if (n > SBUF_MAX - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *p;

        while (cap < b->len + n)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void sbuf_u8(struct sbuf *b, uint8_t v)
{
    sbuf_put(b, &v, 1);
}

void sbuf_u16(struct sbuf *b, uint16_t v)
{
    uint8_t x[2];

    le_set16(x, v);
    sbuf_put(b, x, sizeof(x));
}

void sbuf_u32(struct sbuf *b, uint32_t v)
{
    uint8_t x[4];

    le_set32(x, v);
    sbuf_put(b, x, sizeof(x));
}

void sbuf_u64(struct sbuf *b, uint64_t v)
{
    uint8_t x[8];

    le_set64(x, v);
    sbuf_put(b, x, sizeof(x));
}

void sbuf_str(struct sbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n > UINT16_MAX) {
        b->failed = true;
        return;
    }
    sbuf_u16(b, (uint16_t)n);
    sbuf_put(b, s, n);
}

size_t sbuf_reserve_u32(struct sbuf *b)
{
    size_t at = b->len;

    sbuf_u32(b, 0);
    return at;
}

void sbuf_patch_u32(struct sbuf *b, size_t at, uint32_t v)
{
    if (!b->failed && at + 4 <= b->len)
        le_set32(b->p + at, v);
}

void sbuf_free(struct sbuf *b)
{
    free(b->p);
    *b = (struct sbuf){0};
}

const uint8_t *sreader_bytes(struct sreader *r, size_t n)
{
    const uint8_t *p;

    if (r->bad || n > r->len - r->pos) {
        if (!r->bad)
            r->bad_at = r->pos;
        r->bad = true;
        r->pos = r->len;
        return NULL;
    }
    p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t sreader_u8(struct sreader *r)
{
    const uint8_t *p = sreader_bytes(r, 1);

    return p ? p[0] : 0;
}

uint16_t sreader_u16(struct sreader *r)
{
    const uint8_t *p = sreader_bytes(r, 2);

    return p ? le_get16(p) : 0;
}

uint32_t sreader_u32(struct sreader *r)
{
    const uint8_t *p = sreader_bytes(r, 4);

    return p ? le_get32(p) : 0;
}

uint64_t sreader_u64(struct sreader *r)
{
    const uint8_t *p = sreader_bytes(r, 8);

    return p ? le_get64(p) : 0;
}

int sreader_str(struct sreader *r, char *out, size_t size)
{
    uint16_t n = sreader_u16(r);
    const uint8_t *p = sreader_bytes(r, n);

    if (!p || n >= size || memchr(p, 0, n))
        return -EINVAL;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t crc32_ieee(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;

    pthread_once(&crc_once, crc_table_init);
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}
