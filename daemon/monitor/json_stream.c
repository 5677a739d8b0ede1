/* SPDX-License-Identifier: MIT */
/*
 * json_stream.c — QMP value splitter (see json_stream.h for the rules).
 */
#include "json_stream.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void json_stream_init(struct json_stream *s, size_t max_size, json_stream_fn fn, void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->max_size = max_size;
    s->fn = fn;
    s->opaque = opaque;
}

void json_stream_reset(struct json_stream *s)
{
    s->len = 0;
    s->depth = 0;
    s->quote = 0;
    s->escape = false;
    s->in_token = false;
    s->in_bare = false;
    s->skipping = false;
    s->skip_depth = 0;
    s->recovering = false;
}

void json_stream_free(struct json_stream *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = s->len = 0;
}

static int put(struct json_stream *s, char c)
{
    if (s->len + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        char *b;

        if (cap > s->max_size + 2)
            cap = s->max_size + 2;
        b = realloc(s->buf, cap);
        if (!b)
            return -ENOMEM;
        s->buf = b;
        s->cap = cap;
    }
    s->buf[s->len++] = c;
    s->buf[s->len] = 0;
    return 0;
}

static void emit(struct json_stream *s)
{
    size_t len = s->len;

    s->len = 0;
    s->depth = 0;
    s->quote = 0;
    s->escape = false;
    s->in_token = false;
    s->in_bare = false;
    s->fn(s->opaque, JSON_STREAM_VALUE, s->buf, len);
}

/* An integer literal that overflows int64 becomes a real (append ".0"), as QEMU reads it. */
static int finish_bare(struct json_stream *s)
{
    const char *t = s->buf + s->bare_start;
    size_t n = s->len - s->bare_start, i = t[0] == '-' ? 1 : 0, digits;
    static const char max[] = "9223372036854775807";

    s->in_bare = false;
    if (i >= n)
        return 0;
    for (size_t k = i; k < n; k++)
        if (t[k] < '0' || t[k] > '9')
            return 0;
    while (i < n - 1 && t[i] == '0')
        i++;
    digits = n - i;
    if (digits < sizeof(max) - 1 || (digits == sizeof(max) - 1 && strncmp(t + i, max, digits) <= 0))
        return 0;
    if (put(s, '.') < 0 || put(s, '0') < 0)
        return -ENOMEM;
    return 0;
}

/* Start discarding the current value: report it, then eat input until its nesting unwinds. */
static void start_skip(struct json_stream *s, enum json_stream_event why)
{
    s->skipping = true;
    s->skip_depth = s->depth;
    s->len = 0;
    s->fn(s->opaque, why, NULL, 0);
    if (s->skip_depth == 0 && !s->quote) {
        s->skipping = false;
        s->in_token = false;
    }
}

static bool is_delim(char c)
{
    return isspace((unsigned char)c) || strchr("{}[],:\"'", c);
}

/* Skipping mode: follow strings and nesting only. */
static void skip_char(struct json_stream *s, char c)
{
    if (s->quote) {
        if (s->escape)
            s->escape = false;
        else if (c == '\\')
            s->escape = true;
        else if (c == s->quote)
            s->quote = 0;
        return;
    }
    if (c == '"' || c == '\'')
        s->quote = c;
    else if (c == '{' || c == '[')
        s->skip_depth++;
    else if ((c == '}' || c == ']') && s->skip_depth > 0)
        s->skip_depth--;
    if (s->skip_depth == 0 && !s->quote) {
        s->skipping = false;
        s->depth = 0;
        s->in_token = false;
    }
}

int json_stream_feed(struct json_stream *s, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        int r = 0;

        if (s->skipping) {
            skip_char(s, c);
            continue;
        }
        if (s->recovering) {
            if (!isspace((unsigned char)c) && !strchr("{}[],:", c))
                continue;
            s->recovering = false;
        }
        if (s->in_bare && !s->quote && is_delim(c) && finish_bare(s) < 0) {
            json_stream_reset(s);
            return -ENOMEM;
        }

        if (s->quote && (unsigned char)c < 0x20) {
            /* A raw control character cannot be in a JSON string: a lexical error. */
            r = put(s, c);
            if (r == 0) {
                emit(s);
                s->recovering = true;
                continue;
            }
        } else if (s->quote) {
            if (s->escape) {
                s->escape = false;
                /* \' is an escaped quote in a single-quoted string; JSON does not know it. */
                if (s->quote == '\'' && c == '\'') {
                    s->len--; /* drop the backslash */
                    r = put(s, '\'');
                } else {
                    r = put(s, c);
                }
            } else if (c == '\\') {
                s->escape = true;
                r = put(s, c);
            } else if (c == s->quote) {
                s->quote = 0;
                r = put(s, '"');
                if (r == 0 && s->depth == 0) {
                    emit(s); /* a top-level string */
                    continue;
                }
            } else if (s->quote == '\'' && c == '"') {
                r = put(s, '\\');
                if (r == 0)
                    r = put(s, '"');
            } else {
                r = put(s, c);
            }
        } else if (s->in_token && is_delim(c)) {
            /* A bare top-level token ended; the delimiter belongs to what follows. */
            emit(s);
            i--;
            continue;
        } else if (c == '"' || c == '\'') {
            s->quote = c;
            r = put(s, '"');
        } else if (c == '{' || c == '[') {
            if (s->depth >= JSON_STREAM_MAX_NESTING) {
                start_skip(s, JSON_STREAM_TOO_DEEP);
                skip_char(s, c);
                continue;
            }
            s->stack[s->depth++] = c == '{' ? '}' : ']';
            r = put(s, c);
        } else if (c == '}' || c == ']') {
            r = put(s, c);
            if (r == 0 && (s->depth == 0 || s->stack[s->depth - 1] != c)) {
                emit(s); /* unbalanced: the parser reports it */
                continue;
            }
            if (r == 0 && --s->depth == 0) {
                emit(s);
                continue;
            }
        } else if (isspace((unsigned char)c)) {
            if (s->depth > 0)
                r = put(s, c);
        } else {
            if (s->depth == 0)
                s->in_token = true;
            if (!s->in_bare) {
                s->in_bare = true;
                s->bare_start = s->len;
            }
            r = put(s, c);
        }

        if (r < 0) {
            json_stream_reset(s);
            return r;
        }
        if (s->len > s->max_size)
            start_skip(s, JSON_STREAM_TOO_BIG);
    }
    return 0;
}
