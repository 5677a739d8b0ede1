/* SPDX-License-Identifier: MIT */
/*
 * util.h — small helpers shared by every part of pcid.
 *
 * Contract: header-only, no state, safe on any thread. Cleanup helpers follow systemd's
 * `_cleanup_` pattern: a variable declared with `_cleanup_(freep)` is freed when it leaves
 * scope; TAKE_PTR() hands ownership on and leaves NULL behind. Little-endian accessors are
 * the only way pcid reads or writes multi-byte guest-visible registers (house style rule 5).
 */
#ifndef PCID_UTIL_H
#define PCID_UTIL_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)                                                                                  \
    ({                                                                                             \
        __typeof__(a) _a = (a);                                                                    \
        __typeof__(b) _b = (b);                                                                    \
        _a < _b ? _a : _b;                                                                         \
    })
#define MAX(a, b)                                                                                  \
    ({                                                                                             \
        __typeof__(a) _a = (a);                                                                    \
        __typeof__(b) _b = (b);                                                                    \
        _a > _b ? _a : _b;                                                                         \
    })

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Hand ownership of *p to the caller and leave NULL behind (systemd's TAKE_PTR). */
#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) _tp = (p);                                                                   \
        (p) = NULL;                                                                                \
        _tp;                                                                                       \
    })

static inline void freep(void *p)
{
    free(*(void **)p);
}

/* True when [a, a+alen) and [b, b+blen) share at least one byte. */
static inline bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static inline bool is_power_of_2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Smallest power of two >= v (v > 0, v <= 2^63). */
static inline uint64_t pow2ceil(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

/* Little-endian accessors for guest-visible bytes. */
static inline uint8_t le_get8(const uint8_t *p)
{
    return p[0];
}
static inline uint16_t le_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t le_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le_get64(const uint8_t *p)
{
    return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}
static inline void le_set8(uint8_t *p, uint8_t v)
{
    p[0] = v;
}
static inline void le_set16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void le_set32(uint8_t *p, uint32_t v)
{
    le_set16(p, (uint16_t)v);
    le_set16(p + 2, (uint16_t)(v >> 16));
}
static inline void le_set64(uint8_t *p, uint64_t v)
{
    le_set32(p, (uint32_t)v);
    le_set32(p + 4, (uint32_t)(v >> 32));
}

/* Read `len` (1..8) bytes at p as a little-endian value. */
static inline uint64_t le_get(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Write the low `len` (1..8) bytes of v at p, little-endian. */
static inline void le_set(uint8_t *p, uint64_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Shared-memory access to guest-visible bytes that other threads may read or write at the same
 * time (config space of a live device): relaxed atomics, which compile to plain loads and
 * stores on x86 but tell the compiler and ThreadSanitizer what is going on.
 */
static inline uint8_t ld8(const uint8_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void st8(uint8_t *p, uint8_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
/*
 * Read `len` (1..8) shared bytes at p as a little-endian value. A naturally aligned 2- or
 * 4-byte access is one atomic load (never torn, and the hot path's common case); others go
 * byte by byte.
 */
static inline uint64_t le_load(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    if (len == 4 && ((uintptr_t)p & 3) == 0)
        return le32toh(__atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED));
    if (len == 2 && ((uintptr_t)p & 1) == 0)
        return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
    for (unsigned i = 0; i < len; i++)
        v |= (uint64_t)ld8(p + i) << (8 * i);
    return v;
}
/* Write the low `len` (1..8) bytes of v to shared bytes at p, little-endian; naturally
 * aligned 2- and 4-byte stores are single atomic stores. */
static inline void le_store(uint8_t *p, uint64_t v, unsigned len)
{
    if (len == 4 && ((uintptr_t)p & 3) == 0) {
        __atomic_store_n((uint32_t *)(void *)p, htole32((uint32_t)v), __ATOMIC_RELAXED);
        return;
    }
    if (len == 2 && ((uintptr_t)p & 1) == 0) {
        __atomic_store_n((uint16_t *)(void *)p, htole16((uint16_t)v), __ATOMIC_RELAXED);
        return;
    }
    for (unsigned i = 0; i < len; i++)
        st8(p + i, (uint8_t)(v >> (8 * i)));
}

static inline bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* monotonic_ns() - CLOCK_MONOTONIC in nanoseconds: for deadlines and durations, never dates. */
static inline uint64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
