/* SPDX-License-Identifier: MIT */
/*
 * text.h — a serialized answer shared by reference: the query cache keeps one, and a front
 * door that can send it without copying (REST) takes a reference instead of a copy, so a
 * cache hit costs no copy of the answer under the control lock.
 *
 * Ownership: every holder owns one reference and drops it with api_text_unref(); the last one
 * frees the text. The count is atomic: references are dropped outside the control lock (by the
 * thread that sent the answer). The text itself never changes once made.
 */
#ifndef PCID_API_TEXT_H
#define PCID_API_TEXT_H

#include <stddef.h>

struct api_text {
    unsigned refs; /* atomic */
    size_t len;    /* strlen(s) */
    char s[];      /* NUL-terminated */
};

/* api_text_new() - a text holding a copy of `s` (`len` bytes), one reference. NULL: no memory. */
struct api_text *api_text_new(const char *s, size_t len);

/* api_text_ref() - take one more reference to `t` (not NULL); returns `t`. */
struct api_text *api_text_ref(struct api_text *t);

/* api_text_unref() - drop a reference; the last one frees `t`. NULL is a no-op. */
void api_text_unref(struct api_text *t);

#endif
