/* SPDX-License-Identifier: MIT */
/*
 * test-json-stream.c — the QMP stream splitter (daemon/monitor/json_stream.c): values split
 * across feeds and lines, several values per feed, strings holding brackets and quotes, QEMU's
 * single-quoted strings rewritten to JSON (checked by parsing the output with jansson), stray
 * and mismatched closers, bare top-level tokens, and the size and nesting limits.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "daemon/monitor/json_stream.h"
#include "tests/unit/unit.h"

#define BIG 4096 /* max_size for rows that do not test the limit */

struct event {
    enum json_stream_event ev;
    char *text;
    size_t len;
};

struct collector {
    struct event ev[16];
    int n;
};

static void collect(void *opaque, enum json_stream_event ev, const char *text, size_t len)
{
    struct collector *c = opaque;

    assert_true(c->n < (int)ARRAY_SIZE(c->ev));
    c->ev[c->n].ev = ev;
    c->ev[c->n].len = len;
    c->ev[c->n].text = NULL;
    if (ev == JSON_STREAM_VALUE) {
        assert_non_null(text);
        c->ev[c->n].text = strndup(text, len);
        assert_non_null(c->ev[c->n].text);
    }
    c->n++;
}

static void collector_free(void *p)
{
    struct collector *c = p;

    for (int i = 0; i < c->n; i++)
        free(c->ev[i].text);
    free(c);
}

static void stream_free(void *p)
{
    json_stream_free(p);
    free(p);
}

/* What a row expects: one event, with the text of a value and what jansson makes of it. */
struct expect {
    enum json_stream_event ev;
    const char *text; /* exact emitted text, NULL = not checked */
    const char *json; /* the value it must parse to (as JSON), NULL = not parsed */
};

#define RESET_MARK "\x01reset" /* a chunk that calls json_stream_reset() instead */

struct stream_row {
    const char *name;
    const char *chunks[6]; /* fed in order; NULL ends */
    bool bytewise;         /* feed every chunk one byte at a time */
    size_t max_size;
    struct expect expect[5]; /* ev 0 with text NULL ends... see n_expect */
    int n_expect;
    const char *known_bug;
};

/* clang-format off */
#define V(t)     {JSON_STREAM_VALUE, t, t}
#define VJ(t, j) {JSON_STREAM_VALUE, t, j}
#define VX(t)    {JSON_STREAM_VALUE, t, NULL} /* emitted, not valid JSON: the parser reports */
#define TOO_BIG  {JSON_STREAM_TOO_BIG, NULL, NULL}
#define TOO_DEEP {JSON_STREAM_TOO_DEEP, NULL, NULL}

static const struct stream_row stream_rows[] = {
    {"one object, one feed", {"{\"execute\":\"qmp_capabilities\"}"}, false, BIG,
     {V("{\"execute\":\"qmp_capabilities\"}")}, 1},
    {"one object, byte by byte", {"{\"execute\": \"query-pci\", \"id\": [1, {\"a\": null}]}"},
     true, BIG, {V("{\"execute\": \"query-pci\", \"id\": [1, {\"a\": null}]}")}, 1},
    {"split inside a string", {"{\"exe", "cute\": \"x\"}"}, false, BIG,
     {V("{\"execute\": \"x\"}")}, 1},
    {"split after an escape", {"{\"a\": \"x\\", "\"y\"}"}, false, BIG,
     {V("{\"a\": \"x\\\"y\"}")}, 1},
    {"two values in one feed", {"{\"a\":1}{\"b\":2}"}, false, BIG,
     {V("{\"a\":1}"), V("{\"b\":2}")}, 2},
    {"three values over two feeds", {"{\"a\":1}{\"b\"", ":2}[3]"}, false, BIG,
     {V("{\"a\":1}"), V("{\"b\":2}"), V("[3]")}, 3},
    {"a value over several lines", {"{\n  \"a\":\n  1\n}\n"}, false, BIG,
     {VJ("{\n  \"a\":\n  1\n}", "{\"a\":1}")}, 1},
    {"a newline does not end a value", {"{\"a\":\n", "1}"}, false, BIG,
     {VJ("{\"a\":\n1}", "{\"a\":1}")}, 1},
    {"nested objects and arrays", {"{\"a\":[1,{\"b\":[2,[3]]}],\"c\":{}}"}, false, BIG,
     {V("{\"a\":[1,{\"b\":[2,[3]]}],\"c\":{}}")}, 1},
    {"a top-level array", {"[1,2]"}, false, BIG, {V("[1,2]")}, 1},
    {"braces and brackets inside strings", {"{\"a\":\"}{][\",\"b\":\"]\"}"}, false, BIG,
     {V("{\"a\":\"}{][\",\"b\":\"]\"}")}, 1},
    {"escaped double quote inside a string", {"{\"a\":\"x\\\"}y\"}"}, false, BIG,
     {V("{\"a\":\"x\\\"}y\"}")}, 1},
    {"escaped backslash before the closing quote", {"{\"a\":\"x\\\\\"}"}, false, BIG,
     {V("{\"a\":\"x\\\\\"}")}, 1},
    {"single-quoted strings rewritten", {"{'execute':'query-pci'}"}, false, BIG,
     {VJ("{\"execute\":\"query-pci\"}", "{\"execute\":\"query-pci\"}")}, 1},
    {"single-quoted string holding a double quote", {"{'a':'say \"hi\"'}"}, false, BIG,
     {VJ("{\"a\":\"say \\\"hi\\\"\"}", "{\"a\":\"say \\\"hi\\\"\"}")}, 1},
    {"single-quoted string with an escaped single quote", {"{'a':'it\\'s'}"}, false, BIG,
     {VJ("{\"a\":\"it's\"}", "{\"a\":\"it's\"}")}, 1},
    {"single-quoted string with an escaped double quote", {"{'a':'x\\\"y'}"}, false, BIG,
     {VJ("{\"a\":\"x\\\"y\"}", "{\"a\":\"x\\\"y\"}")}, 1},
    {"single-quoted string keeps other escapes", {"{'a':'1\\n2\\\\'}"}, false, BIG,
     {VJ("{\"a\":\"1\\n2\\\\\"}", "{\"a\":\"1\\n2\\\\\"}")}, 1},
    {"single-quoted string holding braces", {"{'a':'}]'}"}, false, BIG,
     {VJ("{\"a\":\"}]\"}", "{\"a\":\"}]\"}")}, 1},
    {"double-quoted string holding a single quote", {"{\"a\":\"it's\"}"}, false, BIG,
     {V("{\"a\":\"it's\"}")}, 1},
    {"single quotes byte by byte", {"{'a':'it\\'s \"q\"'}"}, true, BIG,
     {VJ("{\"a\":\"it's \\\"q\\\"\"}", "{\"a\":\"it's \\\"q\\\"\"}")}, 1},
    {"extra closer after an object", {"{\"a\":1}}"}, false, BIG, {V("{\"a\":1}"), VX("}")}, 2},
    {"a closer with nothing open", {"]"}, false, BIG, {VX("]")}, 1},
    {"mismatched closer ends the value", {"{\"a\":[1}", "{\"b\":2}"}, false, BIG,
     {VX("{\"a\":[1}"), V("{\"b\":2}")}, 2},
    {"bare word ends at a blank", {"hello {\"a\":1}"}, false, BIG,
     {VX("hello"), V("{\"a\":1}")}, 2},
    {"bare number ends at a newline", {"42\n"}, false, BIG, {VJ("42", "42")}, 1},
    {"bare number ends at a brace", {"42{\"a\":1}"}, false, BIG,
     {VJ("42", "42"), V("{\"a\":1}")}, 2},
    {"bare keyword ends at a comma", {"true,"}, false, BIG, {VJ("true", "true")}, 1},
    {"bare token waits for its delimiter", {"42"}, false, BIG, {{0}}, 0},
    {"bare token over two feeds", {"4", "2 "}, false, BIG, {VJ("42", "42")}, 1},
    {"top-level string", {"\"abc\""}, false, BIG, {VJ("\"abc\"", "\"abc\"")}, 1},
    {"top-level single-quoted string", {"'abc'"}, false, BIG, {VJ("\"abc\"", "\"abc\"")}, 1},
    {"whitespace between values ignored", {"  \n\t{\"a\":1}  \r\n {\"b\":2} "}, false, BIG,
     {V("{\"a\":1}"), V("{\"b\":2}")}, 2},
    {"whitespace inside a value kept", {"{ \"a\" : 1 }"}, false, BIG, {V("{ \"a\" : 1 }")}, 1},
    {"an unfinished value emits nothing", {"{\"a\":1"}, false, BIG, {{0}}, 0},
    {"reset drops a partial value", {"{\"a\":", RESET_MARK, "{\"b\":1}"}, false, BIG,
     {V("{\"b\":1}")}, 1},
    {"reset inside a string", {"{\"a\":\"}", RESET_MARK, "{\"b\":1}"}, false, BIG,
     {V("{\"b\":1}")}, 1},
    /* Size limit: 16 bytes per value. */
    {"exactly the size limit", {"{\"a\":\"01234567\"}"}, false, 16,
     {V("{\"a\":\"01234567\"}")}, 1},
    /* The closer that completes a value counts against the limit too. */
    {"one byte over the limit, ending with the closer", {"{\"a\":\"012345678\"}[1]"}, false,
     16, {TOO_BIG, V("[1]")}, 2},
    {"over the size limit, then a good value", {"{\"a\":\"0123456789abcdef\"}{\"b\":1}"}, false,
     16, {TOO_BIG, V("{\"b\":1}")}, 2},
    {"over the size limit reported once", {"[\"0123456789abcdef\",", "\"0123456789abcdef\",",
                                            "\"0123456789abcdef\"]", "[1]"}, false, 16,
     {TOO_BIG, V("[1]")}, 2},
    {"skipping follows nesting", {"{\"a\":{\"b\":{\"c\":1}}}[2]"}, false, 8, {TOO_BIG, V("[2]")},
     2},
    {"skipping ignores brackets in strings", {"{\"a\":\"{{{{{{{{{{\"}[2]"}, false, 8,
     {TOO_BIG, V("[2]")}, 2},
    {"skipping ignores escaped quotes", {"{\"a\":\"\\\"{{{{{{{{\"}[2]"}, false, 8,
     {TOO_BIG, V("[2]")}, 2},
    {"oversized top-level string, blank, next value", {"\"0123456789abcdef\" [2]"}, false, 8,
     {TOO_BIG, V("[2]")}, 2},
    {"oversized top-level string, next value right after", {"\"0123456789abcdef\"[2]"}, false,
     8, {TOO_BIG, V("[2]")}, 2},
    {"over the size limit byte by byte", {"{\"a\":\"0123456789abcdef\"}{\"b\":1}"}, true, 16,
     {TOO_BIG, V("{\"b\":1}")}, 2},
    {"oversized bare token skipped whole", {"123456789 [2]"}, false, 4, {TOO_BIG, V("[2]")}, 2},
};
#undef V
#undef VJ
#undef VX
#undef TOO_BIG
#undef TOO_DEEP
/* clang-format on */

static struct collector *stream_new(struct unit_fix *f, size_t max_size, struct json_stream **s)
{
    struct collector *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    unit_defer(f, collector_free, c);
    *s = calloc(1, sizeof(**s));
    assert_non_null(*s);
    json_stream_init(*s, max_size, collect, c);
    unit_defer(f, stream_free, *s);
    return c;
}

static void check_events(const struct collector *c, const struct expect *expect, int n)
{
    assert_int_equal(c->n, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(c->ev[i].ev, expect[i].ev);
        if (expect[i].ev != JSON_STREAM_VALUE)
            continue;
        assert_int_equal(strlen(c->ev[i].text), c->ev[i].len); /* no stray NUL */
        if (expect[i].text)
            assert_string_equal(c->ev[i].text, expect[i].text);
        if (expect[i].json) {
            json_error_t jerr;
            json_t *got = json_loadb(c->ev[i].text, c->ev[i].len, JSON_DECODE_ANY, &jerr);
            json_t *want = json_loads(expect[i].json, JSON_DECODE_ANY, &jerr);
            bool equal;

            assert_non_null(want);
            if (!got)
                fail_msg("emitted text does not parse: %s (%s)", c->ev[i].text, jerr.text);
            equal = json_equal(got, want);
            json_decref(got);
            json_decref(want);
            assert_true(equal);
        }
    }
}

static void test_stream(void **state)
{
    struct unit_fix *f = *state;
    const struct stream_row *r = f->row;
    struct json_stream *s;
    struct collector *c = stream_new(f, r->max_size, &s);

    if (r->known_bug) {
        print_message("KNOWN BUG: %s\n", r->known_bug);
        skip();
    }
    for (size_t i = 0; i < ARRAY_SIZE(r->chunks) && r->chunks[i]; i++) {
        const char *chunk = r->chunks[i];
        size_t len = strlen(chunk);

        if (strcmp(chunk, RESET_MARK) == 0) {
            json_stream_reset(s);
        } else if (r->bytewise) {
            for (size_t k = 0; k < len; k++)
                assert_int_equal(json_stream_feed(s, chunk + k, 1), 0);
        } else {
            assert_int_equal(json_stream_feed(s, chunk, len), 0);
        }
    }
    check_events(c, r->expect, r->n_expect);
}

/* ---- nesting limit (JSON_STREAM_MAX_NESTING) --------------------------------------------- */

struct deep_row {
    const char *name;
    int open, close; /* '[' then ']' counts */
    const char *after;
    struct expect expect[3];
    int n_expect;
};

/* clang-format off */
static const struct deep_row deep_rows[] = {
    {"1024 levels is the limit, not over it", 1024, 1024, "", {{JSON_STREAM_VALUE}}, 1},
    {"1025 '[' is too deep", 1025, 0, "", {{JSON_STREAM_TOO_DEEP}}, 1},
    {"too deep, unwound, next value fine", 1025, 1025, "{\"a\":1}",
     {{JSON_STREAM_TOO_DEEP}, {JSON_STREAM_VALUE, "{\"a\":1}", "{\"a\":1}"}}, 2},
    {"too deep reported once", 2000, 2000, "[1]",
     {{JSON_STREAM_TOO_DEEP}, {JSON_STREAM_VALUE, "[1]", "[1]"}}, 2},
    {"still skipping until fully unwound", 1025, 1024, "[1]", {{JSON_STREAM_TOO_DEEP}}, 1},
};
/* clang-format on */

static void test_deep(void **state)
{
    struct unit_fix *f = *state;
    const struct deep_row *r = f->row;
    size_t len = (size_t)r->open + (size_t)r->close + strlen(r->after);
    char *in = unit_defer(f, free, malloc(len + 1));
    struct json_stream *s;
    struct collector *c = stream_new(f, 1 << 20, &s);

    memset(in, '[', (size_t)r->open);
    memset(in + r->open, ']', (size_t)r->close);
    strcpy(in + r->open + r->close, r->after);
    assert_int_equal(json_stream_feed(s, in, len), 0);
    check_events(c, r->expect, r->n_expect);
    if (r->open == r->close && r->n_expect == 1 && c->n == 1 && c->ev[0].text)
        assert_int_equal(c->ev[0].len, len); /* the whole 2048-byte value */
}

/* ---- json_stream_pending(): has a value started and not completed? ----------------------- */

struct pending_row {
    const char *name;
    const char *input;
    size_t max_size;
    bool pending;
};

static const struct pending_row pending_rows[] = {
    {"nothing fed", "", BIG, false},
    {"whitespace only", " \r\n\t", BIG, false},
    {"an object open", "{\"execute\": ", BIG, true},
    {"a string open inside", "{\"a\": \"x", BIG, true},
    {"a top-level string open", "\"abc", BIG, true},
    {"a bare top-level token, no delimiter yet", "123", BIG, true},
    {"a bare token ended by whitespace", "123 ", BIG, false},
    {"a complete value", "{\"a\": 1}", BIG, false},
    {"a complete value and whitespace", "{\"a\": 1}\r\n", BIG, false},
    {"a complete value, the next begun", "{\"a\": 1}[", BIG, true},
    {"an oversized value still being skipped", "[\"0123456789abcdef", 8, true},
    {"an oversized value skipped to its end", "[\"0123456789abcdef\"]", 8, false},
    {"a control character in a string, still skipping",
     "\"a\x01"
     "bc",
     BIG, true},
    {"a control character in a string, skipped",
     "\"a\x01"
     "bc ",
     BIG, false},
    {"an unbalanced closer ends the value", "}", BIG, false},
};

static void test_pending(void **state)
{
    struct unit_fix *f = *state;
    const struct pending_row *r = f->row;
    struct json_stream *s;

    stream_new(f, r->max_size, &s);
    assert_false(json_stream_pending(s));
    assert_int_equal(json_stream_feed(s, r->input, strlen(r->input)), 0);
    assert_int_equal(json_stream_pending(s), r->pending);
    json_stream_reset(s);
    assert_false(json_stream_pending(s));
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, stream_rows, test_stream);
    UNIT_ROWS_FIX(&s, deep_rows, test_deep);
    UNIT_ROWS_FIX(&s, pending_rows, test_pending);
    return unit_run(&s, "json-stream");
}
