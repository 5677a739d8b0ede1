/* SPDX-License-Identifier: MIT */
/*
 * json_stream.h — split a QMP byte stream into JSON values, as QEMU's JSON streamer does.
 *
 * The input is a stream, not lines: a newline does not end a value and a value may span reads
 * and lines. A value is complete when its outermost brace or bracket closes, or, for a scalar
 * at top level, when its token ends. Each complete value is handed to the callback as text that
 * jansson can parse: QEMU's single-quoted strings ('abc') are rewritten as double-quoted ones.
 * A closer with nothing open, or one that does not match, ends the value at once (the parser
 * then reports the error), as does a value over the size or nesting limit, after which input is
 * skipped until the value's nesting unwinds. A control character inside a string is a lexical
 * error, as in QEMU's lexer: what was collected is handed on (and fails to parse), then input is
 * skipped up to the next whitespace or structural character. An integer too large for int64 is
 * rewritten as a real, since QEMU parses such numbers as doubles. Nothing in the input can make it
 * allocate more than the size limit plus one read.
 *
 * Threads: one stream per connection, used by one thread.
 */
#ifndef PCID_MONITOR_JSON_STREAM_H
#define PCID_MONITOR_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_STREAM_MAX_NESTING 1024

enum json_stream_event {
    JSON_STREAM_VALUE,    /* text, len: one value, ready for the JSON parser */
    JSON_STREAM_TOO_BIG,  /* the value exceeded the size limit and is being skipped */
    JSON_STREAM_TOO_DEEP, /* the value exceeded the nesting limit and is being skipped */
};

typedef void (*json_stream_fn)(void *opaque, enum json_stream_event ev, const char *text,
                               size_t len);

struct json_stream {
    char *buf; /* the value being collected (rewritten quotes) */
    size_t len, cap;
    size_t max_size;                     /* bytes allowed for one value */
    int depth;                           /* open braces + brackets */
    char stack[JSON_STREAM_MAX_NESTING]; /* expected closers */
    char quote;                          /* 0, '"' or '\'' while in a string */
    bool escape;                         /* previous char was a backslash inside a string */
    bool in_token;                       /* inside a top-level bare token (number, keyword) */
    bool in_bare;                        /* inside a bare token at any depth */
    size_t bare_start;                   /* where it starts in buf */
    bool recovering; /* after a lexical error: skipping to whitespace or a structural char */
    bool skipping;   /* discarding an oversized value */
    bool skip_bare;  /* ... that was a bare top-level token: skip to its delimiter */
    int skip_depth;
    json_stream_fn fn;
    void *opaque;
};

/* json_stream_init() - an empty stream delivering to `fn`; `max_size` bytes per value. */
void json_stream_init(struct json_stream *s, size_t max_size, json_stream_fn fn, void *opaque);

/* json_stream_feed() - consume `len` bytes; calls fn for each complete value. Returns 0 or
 * -ENOMEM (the stream is reset). */
int json_stream_feed(struct json_stream *s, const char *data, size_t len);

/*
 * json_stream_pending() - true while a value has started and is not complete: part of a value
 * collected, a string, nesting or a bare top-level token open, an oversized value still being
 * skipped, or a lexical error still being skipped. Whitespace between values is not a start.
 */
bool json_stream_pending(const struct json_stream *s);

/* json_stream_reset() - drop any partial value. */
void json_stream_reset(struct json_stream *s);

/* json_stream_free() - release the buffer. */
void json_stream_free(struct json_stream *s);

#endif
