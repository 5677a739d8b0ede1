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

static void clear_value(struct json_stream *s);

bool json_stream_pending(const struct json_stream *s)
{
    return s->len || s->depth || s->quote || s->in_token || s->skipping || s->recovering;
}

void json_stream_reset(struct json_stream *s)
{
    clear_value(s);
    s->skipping = false;
    s->skip_bare = false;
    s->skip_depth = 0;
    s->recovering = false;
}

void json_stream_free(struct json_stream *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = s->len = 0;
}

/* Append `n` bytes; -E2BIG (nothing appended) when the value would exceed the limit. */
static int append(struct json_stream *s, const char *bytes, size_t n)
{
    if (s->len + n > s->max_size)
        return -E2BIG;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        char *b;

        while (cap < s->len + n + 1)
            cap *= 2;
        if (cap > s->max_size + 1)
            cap = s->max_size + 1;
        b = realloc(s->buf, cap);
        if (!b)
            return -ENOMEM;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, bytes, n);
    s->len += n;
    s->buf[s->len] = 0;
    return 0;
}

static void clear_value(struct json_stream *s)
{
    s->len = 0;
    s->depth = 0;
    s->quote = 0;
    s->escape = false;
    s->in_token = false;
    s->in_bare = false;
}

static void emit(struct json_stream *s)
{
    size_t len = s->len;

    clear_value(s);
    s->fn(s->opaque, JSON_STREAM_VALUE, s->buf ? s->buf : "", len);
}

/*
 * The current value is being dropped (too big or too deep): report it once, then skip the rest
 * of it — the open strings, nesting, or the rest of a bare top-level token — if any is left.
 */
static void drop(struct json_stream *s, enum json_stream_event why)
{
    bool open = s->depth > 0 || s->quote || s->in_token;

    s->fn(s->opaque, why, NULL, 0);
    s->len = 0;
    s->in_bare = false;
    if (!open) {
        clear_value(s);
        return;
    }
    s->skipping = true;
    s->skip_depth = s->depth;
    s->skip_bare = s->in_token && !s->quote;
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
    return append(s, ".0", 2);
}

static bool is_delim(char c)
{
    return isspace((unsigned char)c) || strchr("{}[],:\"'", c);
}

/* Skipping mode: follow strings and nesting only. Returns false when `c` ends the skip
 * without being part of it (the delimiter after a bare token), so the caller processes it. */
static bool skip_char(struct json_stream *s, char c)
{
    if (s->skip_bare) {
        if (!is_delim(c))
            return true;
        s->skip_bare = false;
        s->skipping = false;
        clear_value(s);
        return false;
    }
    if (s->quote) {
        if (s->escape)
            s->escape = false;
        else if (c == '\\')
            s->escape = true;
        else if (c == s->quote)
            s->quote = 0;
    } else if (c == '"' || c == '\'') {
        s->quote = c;
    } else if (c == '{' || c == '[') {
        s->skip_depth++;
    } else if ((c == '}' || c == ']') && s->skip_depth > 0) {
        s->skip_depth--;
    }
    if (s->skip_depth == 0 && !s->quote) {
        s->skipping = false;
        clear_value(s);
    }
    return true;
}

int json_stream_feed(struct json_stream *s, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i], app[2];
        size_t napp = 1;
        bool done = false; /* `c` completes the value */
        int r;

        if (s->skipping && skip_char(s, c))
            continue;
        if (s->recovering) {
            if (!isspace((unsigned char)c) && !strchr("{}[],:", c))
                continue;
            s->recovering = false;
        }
        if (s->in_bare && !s->quote && is_delim(c)) {
            r = finish_bare(s);
            if (r == -ENOMEM)
                goto oom;
            if (r == -E2BIG)
                drop(s, JSON_STREAM_TOO_BIG);
            else if (s->in_token)
                emit(s); /* a bare top-level token ended; `c` belongs to what follows */
            if (s->skipping)
                continue;
        }

        app[0] = c;
        if (s->quote) {
            if ((unsigned char)c < 0x20) {
                /* A raw control character cannot be in a JSON string: a lexical error. What
                 * was collected goes to the parser (which refuses it); skip to a delimiter. */
                if (append(s, &c, 1) == -ENOMEM)
                    goto oom;
                emit(s);
                s->recovering = true;
                continue;
            }
            if (s->escape) {
                s->escape = false;
                /* QEMU accepts \' in strings; JSON does not know it. */
                if (c == '\'')
                    s->len--; /* replace the backslash */
            } else if (c == '\\') {
                s->escape = true;
            } else if (c == s->quote) {
                s->quote = 0;
                app[0] = '"';
                done = s->depth == 0;
            } else if (s->quote == '\'' && c == '"') {
                app[0] = '\\';
                app[1] = '"';
                napp = 2;
            }
        } else if (c == '"' || c == '\'') {
            s->quote = c;
            app[0] = '"';
        } else if (c == '{' || c == '[') {
            if (s->depth >= JSON_STREAM_MAX_NESTING) {
                s->depth++; /* count this one: the skip unwinds it too */
                drop(s, JSON_STREAM_TOO_DEEP);
                continue;
            }
            s->stack[s->depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (s->depth == 0 || s->stack[s->depth - 1] != c)
                done = true; /* unbalanced: the value ends here and the parser reports it */
            else
                done = --s->depth == 0;
        } else if (isspace((unsigned char)c)) {
            if (s->depth == 0)
                continue;
        } else {
            if (s->depth == 0)
                s->in_token = true;
            if (!s->in_bare) {
                s->in_bare = true;
                s->bare_start = s->len;
            }
        }

        r = append(s, app, napp);
        if (r == -ENOMEM)
            goto oom;
        if (r == -E2BIG)
            drop(s, JSON_STREAM_TOO_BIG);
        else if (done)
            emit(s);
    }
    return 0;
oom:
    json_stream_reset(s);
    return -ENOMEM;
}
