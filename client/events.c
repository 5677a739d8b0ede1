/* SPDX-License-Identifier: MIT */
/*
 * events.c — `pcictl events`: follow pcid's event stream (GET /v1/events, Server-Sent Events)
 * and print one line per event: for people "ID TIME EVENT key=value ...", with --json the QMP
 * event object plus its "id", one per line (JSON Lines). --after ID resumes after an event
 * (Last-Event-ID); --no-follow prints what pcid still keeps and exits.
 * A gap (pcid no longer keeps events asked for) prints an "events-lost" line.
 * Errors follow pcictl.h; a followed stream that pcid ends (it stopped) is -ENOTCONN, with
 * the id to resume from on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

#define SSE_LINE_MAX (1u << 20) /* longer lines are not pcid's: the stream is refused */

struct sse {
    bool json;
    char *line; /* the line being assembled */
    size_t len, cap;
    char *event, *data, *id; /* the fields of the event being assembled */
    uint64_t last_id;
    bool have_id;
    unsigned seen; /* events printed */
};

static void sse_reset(struct sse *s)
{
    free(s->event);
    free(s->data);
    free(s->id);
    s->event = s->data = s->id = NULL;
}

/* "2026-11-22T04:18:26.525954Z" from a QMP timestamp. */
static void format_time(const json_t *ts, char *buf, size_t len)
{
    time_t sec = (time_t)json_integer_value(json_object_get(ts, "seconds"));
    long usec = (long)json_integer_value(json_object_get(ts, "microseconds"));
    struct tm tm;

    if (!gmtime_r(&sec, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf + strlen(buf), len - strlen(buf), ".%06ldZ", usec);
}

/* One line for people: "17  2026-...Z  DEVICE_DELETED  device=net0 path=/machine/...". */
static int print_human(const char *id, const char *name, json_t *obj)
{
    char when[48] = "-";
    const char *key;
    json_t *v;

    if (obj)
        format_time(json_object_get(obj, "timestamp"), when, sizeof(when));
    printf("%s  %s  %s", id ? id : "-", id ? when : "-", name);
    json_object_foreach(json_object_get(obj, "data") ? json_object_get(obj, "data") : obj, key, v)
    {
        if (json_is_string(v)) {
            printf(" %s=%s", key, json_string_value(v));
        } else {
            _cleanup_(freep) char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

            printf(" %s=%s", key, t ? t : "?");
        }
    }
    putchar('\n');
    return 0;
}

/* An event is complete (blank line): print it. */
static int dispatch(struct sse *s)
{
    _cleanup_(json_decrefp) json_t *obj = NULL;
    const char *name = s->event ? s->event : "message";
    int r = 0;

    if (!s->data) {
        sse_reset(s);
        return 0;
    }
    obj = json_loads(s->data, 0, NULL);
    if (!obj) {
        pcictl_err("event %s from pcid is not JSON: %.80s", s->id ? s->id : "-", s->data);
        sse_reset(s);
        return -EBADMSG;
    }
    if (s->id) {
        char *end;

        s->last_id = strtoull(s->id, &end, 10);
        s->have_id = true;
    }
    if (s->json) {
        json_t *out;

        if (!strcmp(name, "events-lost")) {
            out = json_pack("{s:O}", "events-lost", obj);
        } else {
            out = json_incref(obj);
            if (s->id)
                json_object_set_new(out, "id", json_integer((json_int_t)s->last_id));
        }
        if (!out || json_dumpf(out, stdout, JSON_COMPACT) < 0 || putchar('\n') == EOF)
            r = -EIO;
        json_decref(out);
    } else {
        r = print_human(s->id, name, obj);
    }
    s->seen++;
    fflush(stdout);
    sse_reset(s);
    return r;
}

/* One complete line of the stream (WHATWG "Interpreting an event stream"). */
static int sse_line(struct sse *s, char *line)
{
    char *value = strchr(line, ':');
    char **field = NULL;

    if (!*line)
        return dispatch(s);
    if (line[0] == ':')
        return 0; /* a comment: pcid's greeting and keepalives */
    if (value) {
        *value++ = 0;
        if (*value == ' ')
            value++;
    } else {
        value = line + strlen(line);
    }
    if (!strcmp(line, "event"))
        field = &s->event;
    else if (!strcmp(line, "id"))
        field = &s->id;
    if (field) {
        free(*field);
        *field = strdup(value);
        return *field ? 0 : -ENOMEM;
    }
    if (!strcmp(line, "data")) {
        size_t old = s->data ? strlen(s->data) : 0;
        char *d = realloc(s->data, old + strlen(value) + 2);

        if (!d)
            return -ENOMEM;
        if (old)
            d[old++] = '\n';
        strcpy(d + old, value);
        s->data = d;
    }
    return 0; /* other fields (retry) are not used */
}

static int on_data(const char *data, size_t len, void *opaque)
{
    struct sse *s = opaque;

    for (size_t i = 0; i < len; i++) {
        int r;

        if (data[i] != '\n') {
            if (s->len + 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 256;
                char *l;

                if (cap > SSE_LINE_MAX) {
                    pcictl_err("a line of pcid's event stream exceeds %u bytes", SSE_LINE_MAX);
                    return -EBADMSG;
                }
                l = realloc(s->line, cap);
                if (!l)
                    return -ENOMEM;
                s->line = l;
                s->cap = cap;
            }
            if (data[i] != '\r')
                s->line[s->len++] = data[i];
            continue;
        }
        if (!s->line && !(s->line = calloc(1, 1)))
            return -ENOMEM;
        s->line[s->len] = 0;
        s->len = 0;
        r = sse_line(s, s->line);
        if (r < 0)
            return r;
    }
    return 0;
}

int cmd_events(struct pcictl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"after", required_argument, NULL, 'a'},
        {"no-follow", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    _cleanup_(freep) char *last = NULL;
    const char *after = NULL, *headers[2] = {NULL, NULL};
    struct sse s = {0};
    bool follow = true;
    int c, e;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":a:njh", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            after = optarg;
            break;
        case 'n':
            follow = false;
            break;
        default: {
            int opt = cmd_common_option(ctl, c, argv);

            if (opt != CMD_OPTION_NEXT)
                return opt;
            break;
        }
        }
    }
    if (optind < argc)
        return pcictl_usage_err("events: unexpected argument '%s'", argv[optind]);
    if (after) {
        char *end;

        errno = 0;
        strtoull(after, &end, 10);
        if (!*after || *end || *after == '-' || errno)
            return pcictl_usage_err("events: --after takes an event id, not '%s'", after);
        if (asprintf(&last, "Last-Event-ID: %s", after) < 0) {
            last = NULL;
            return -ENOMEM;
        }
        headers[0] = last;
    }
    s.json = ctl->json;
    e = rest_stream(&ctl->target, follow ? "/v1/events" : "/v1/events?follow=false", headers,
                    on_data, &s);
    sse_reset(&s);
    free(s.line);
    if (e == 0 && follow) {
        /* pcid ended a followed stream: it is stopping. */
        if (s.have_id)
            pcictl_err("pcid ended the event stream after event %" PRIu64
                       "; resume with --after %" PRIu64,
                       s.last_id, s.last_id);
        else
            pcictl_err("pcid ended the event stream");
        return -ENOTCONN;
    }
    if (e == -ENOTCONN && s.have_id)
        pcictl_err("resume with --after %" PRIu64, s.last_id);
    return e;
}
