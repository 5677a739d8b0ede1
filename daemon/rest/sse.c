/* SPDX-License-Identifier: MIT */
/*
 * sse.c — GET /v1/events: the command layer's events as Server-Sent Events (WHATWG HTML,
 * "Server-sent events"). Each event is
 *
 *     id: 17
 *     event: DEVICE_DELETED
 *     data: {"event": "DEVICE_DELETED", "data": {...}, "timestamp": {...}}
 *
 * with the QMP event object as data. The stream starts with a comment naming the newest id;
 * without Last-Event-ID it then carries events newer than that; with Last-Event-ID: N it first
 * replays the kept events after N. Events a client asks for that the ring no longer holds are
 * announced by one `event: events-lost` (no id; data {"last-event-id", "oldest-id",
 * "newest-id"}) before everything still kept is sent. An idle stream gets a comment every
 * REST_SSE_KEEPALIVE_S seconds (it keeps proxies and the idle timeout from closing it, and
 * finds clients that went away).
 *
 * The body is produced by a libmicrohttpd content reader on the connection's own thread; it
 * blocks in api_events_wait() between events and ends when the server stops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SSE_BATCH 64

struct stream {
    struct rest_server *s;
    uint64_t after; /* id of the last event sent */
    bool follow;
    char *buf; /* formatted, not yet sent */
    size_t len, off;
    uint64_t keepalive_ns;
};

static void stream_free(void *cls)
{
    struct stream *st = cls;

    free(st->buf);
    free(st);
}

/* Format what is pending into st->buf. Returns bytes formatted (0: nothing new). */
static size_t fill(struct stream *st)
{
    struct api_event_rec recs[SSE_BATCH];
    FILE *f;
    size_t len = 0;
    bool lost = false;
    uint64_t oldest = 0;
    int n;

    free(st->buf);
    st->buf = NULL;
    st->len = st->off = 0;
    n = api_events_since(st->s->api, st->after, recs, SSE_BATCH, &lost, &oldest);
    if (n < 0)
        return 0;
    f = open_memstream(&st->buf, &len);
    if (!f) {
        while (n--)
            api_event_rec_clear(&recs[n]);
        return 0;
    }
    if (lost) {
        fprintf(f,
                "event: events-lost\ndata: {\"last-event-id\": %llu, \"oldest-id\": %llu, "
                "\"newest-id\": %llu}\n\n",
                (unsigned long long)st->after, (unsigned long long)oldest,
                (unsigned long long)api_events_last_id(st->s->api));
        /* Start again from the oldest event kept (the next fill sends them). */
        for (int i = 0; i < n; i++)
            api_event_rec_clear(&recs[i]);
        n = 0;
        st->after = oldest ? oldest - 1 : 0;
    }
    for (int i = 0; i < n; i++) {
        fprintf(f, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)recs[i].id,
                recs[i].name, recs[i].json);
        st->after = recs[i].id;
        api_event_rec_clear(&recs[i]);
    }
    if (fclose(f) != 0) {
        free(st->buf);
        st->buf = NULL;
        return 0;
    }
    st->len = len;
    if (len) /* a stream that carries events needs no keepalive */
        st->keepalive_ns = monotonic_ns() + REST_SSE_KEEPALIVE_S * 1000000000ull;
    return len;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *st = cls;

    (void)pos;
    for (;;) {
        if (st->off < st->len) {
            size_t n = MIN(max, st->len - st->off);

            memcpy(out, st->buf + st->off, n);
            st->off += n;
            return (ssize_t)n;
        }
        if (__atomic_load_n(&st->s->stopping, __ATOMIC_ACQUIRE))
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (fill(st))
            continue;
        if (!st->follow)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (monotonic_ns() >= st->keepalive_ns) {
            static const char ka[] = ": keepalive\n\n";

            st->keepalive_ns = monotonic_ns() + REST_SSE_KEEPALIVE_S * 1000000000ull;
            free(st->buf);
            st->buf = strdup(ka);
            st->len = st->buf ? strlen(ka) : 0;
            st->off = 0;
            continue;
        }
        api_events_wait(st->s->api, st->after, st->keepalive_ns, &st->s->stopping);
    }
}

/* Parse a Last-Event-ID: a decimal id. */
static int parse_id(const char *v, uint64_t *id)
{
    char *end;

    if (!v || !*v || *v == '-' || *v == '+')
        return -EINVAL;
    errno = 0;
    *id = strtoull(v, &end, 10);
    return errno || *end ? -EINVAL : 0;
}

enum MHD_Result rest_get_events(struct rest_ctx *x)
{
    const char *last = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Last-Event-ID");
    const char *follow = rest_query(x, "follow");
    struct MHD_Response *r;
    struct stream *st;
    uint64_t newest = api_events_last_id(x->s->api);
    char head[96];

    if (follow && !streq(follow, "true") && !streq(follow, "false"))
        return rest_send_error(x, MHD_HTTP_BAD_REQUEST, "GenericError",
                               "Parameter 'follow' expects true or false, not '%s'", follow);
    st = calloc(1, sizeof(*st));
    if (!st)
        return MHD_NO;
    st->s = x->s;
    st->follow = !follow || streq(follow, "true");
    st->after = newest;
    if (last) {
        if (parse_id(last, &st->after) < 0) {
            free(st);
            return rest_send_error(x, MHD_HTTP_BAD_REQUEST, "GenericError",
                                   "Last-Event-ID expects an event id (a decimal number), not "
                                   "'%s'",
                                   last);
        }
    }
    snprintf(head, sizeof(head), ": pcid events, newest id %llu\n\n", (unsigned long long)newest);
    st->buf = strdup(head);
    st->len = st->buf ? strlen(head) : 0;
    st->keepalive_ns = monotonic_ns() + REST_SSE_KEEPALIVE_S * 1000000000ull;
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!r) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return rest_queue(x, MHD_HTTP_OK, r);
}
