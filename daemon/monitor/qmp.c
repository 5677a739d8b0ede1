/* SPDX-License-Identifier: MIT */
/*
 * qmp.c — QMP server (see qmp.h). Request checks follow QEMU 7.2's qmp_dispatch: the input must
 * be an object; only execute, arguments and id are allowed members; execute is a string;
 * arguments an object; before negotiation only qmp_capabilities runs.
 */
#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../api/metrics.h"
#include "../limit.h"
#include "json_stream.h"

struct qmp_client {
    struct qmp_server *srv;
    int fd;
    sd_event_source *src;
    sd_event_source *slow; /* armed while a value is pending (qmp-value-seconds), or NULL */
    uint64_t slow_seconds; /* the limit the armed timer was given */
    bool value_done;       /* a value completed during the current feed */
    struct json_stream js;
    char *out;
    size_t out_len, out_cap;
    bool negotiated;
    bool dead;
    struct qmp_client *next;
};

struct qmp_server {
    struct control *ctl;
    int fd;
    sd_event_source *src;
    int sub;
    struct qmp_client *clients;
    unsigned n_clients;
};

static void client_free(struct qmp_client *cl)
{
    sd_event_source_disable_unref(cl->src);
    sd_event_source_disable_unref(cl->slow);
    if (cl->fd >= 0)
        close(cl->fd);
    json_stream_free(&cl->js);
    free(cl->out);
    free(cl);
}

static void client_drop(struct qmp_client *cl)
{
    struct qmp_server *s = cl->srv;

    for (struct qmp_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
        if (*pp == cl) {
            *pp = cl->next;
            s->n_clients--;
            break;
        }
    }
    client_free(cl);
}

static void client_update_events(struct qmp_client *cl)
{
    uint32_t ev = EPOLLIN | EPOLLRDHUP;

    if (cl->out_len)
        ev |= EPOLLOUT;
    sd_event_source_set_io_events(cl->src, ev);
}

/* Try to write what is pending; on a fatal error mark the client dead. */
static void client_flush(struct qmp_client *cl)
{
    while (cl->out_len) {
        ssize_t n = send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            cl->dead = true;
            return;
        }
        memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
        cl->out_len -= (size_t)n;
    }
    client_update_events(cl);
}

/* QEMU style: ", " / ": " separators, ASCII. */
#define QMP_DUMP_FLAGS (JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER)

/* Queue the concatenation of `parts` (n of them, NULL ones skipped) and CRLF as one line. */
static void client_send_parts(struct qmp_client *cl, const char *const *parts, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        len += parts[i] ? strlen(parts[i]) : 0;
    if (cl->out_len + len + 2 > limit_get(LIMIT_QMP_OUTPUT_BYTES)) {
        if (!cl->dead)
            api_metrics_reject(API_REJECT_QMP_OUTPUT_BYTES);
        cl->dead = true; /* a client that does not read its replies and events is dropped */
        return;
    }
    if (cl->out_len + len + 2 > cl->out_cap) {
        size_t cap = MAX(cl->out_cap * 2, cl->out_len + len + 2);
        char *o = realloc(cl->out, cap);
        if (!o) {
            cl->dead = true;
            return;
        }
        cl->out = o;
        cl->out_cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = parts[i] ? strlen(parts[i]) : 0;

        if (l)
            memcpy(cl->out + cl->out_len, parts[i], l);
        cl->out_len += l;
    }
    cl->out[cl->out_len++] = '\r';
    cl->out[cl->out_len++] = '\n';
}

/* Queue one JSON object as a line. */
static void client_send(struct qmp_client *cl, json_t *obj)
{
    char *text = json_dumps(obj, QMP_DUMP_FLAGS);
    const char *parts[] = {text};

    if (!text)
        return;
    client_send_parts(cl, parts, 1);
    free(text);
}

/* Queue {"return": VALUE, "id": ID} from the serialized value: the bytes json_dumps gives for
 * that object with QMP_DUMP_FLAGS (members in that order, ", " and ": " separators). */
static void client_send_return(struct qmp_client *cl, const char *value, json_t *id)
{
    char *id_text = id ? json_dumps(id, QMP_DUMP_FLAGS | JSON_ENCODE_ANY) : NULL;
    const char *parts[] = {"{\"return\": ", value, id_text ? ", \"id\": " : NULL, id_text, "}"};

    if (id && !id_text)
        return;
    client_send_parts(cl, parts, ARRAY_SIZE(parts));
    free(id_text);
}

static void send_error(struct qmp_client *cl, const char *cls, const char *desc, json_t *id)
{
    json_t *r = json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", desc);

    if (id)
        json_object_set(r, "id", id);
    client_send(cl, r);
    json_decref(r);
}

/* qmp_capabilities is connection state, so the server handles it. */
static void negotiate(struct qmp_client *cl, json_t *args, json_t *id)
{
    json_t *enable = args ? json_object_get(args, "enable") : NULL;
    const char *key;
    json_t *v;
    size_t i;

    if (args) {
        json_object_foreach(args, key, v)
        {
            if (!streq(key, "enable")) {
                char desc[ERROR_DESC_MAX];
                snprintf(desc, sizeof(desc), "Parameter '%s' is unexpected", key);
                send_error(cl, "GenericError", desc, id);
                return;
            }
        }
    }
    if (enable && !json_is_array(enable)) {
        send_error(cl, "GenericError", "Invalid parameter type for 'enable', expected: array", id);
        return;
    }
    json_array_foreach(enable, i, v)
    {
        char desc[ERROR_DESC_MAX];

        if (!json_is_string(v)) {
            send_error(cl, "GenericError", "Invalid parameter type for 'null', expected: string",
                       id);
            return;
        }
        if (!streq(json_string_value(v), "oob")) {
            snprintf(desc, sizeof(desc), "Parameter 'null' does not accept value '%s'",
                     json_string_value(v));
        } else {
            snprintf(desc, sizeof(desc), "Capability '%s' not available", json_string_value(v));
        }
        send_error(cl, "GenericError", desc, id);
        return;
    }
    cl->negotiated = true;
    {
        json_t *r = json_pack("{s:{}}", "return");
        if (id)
            json_object_set(r, "id", id);
        client_send(cl, r);
        json_decref(r);
    }
}

static void handle_request(struct qmp_client *cl, json_t *req)
{
    struct api *api = control_api(cl->srv->ctl);
    const char *name = NULL;
    json_t *args = NULL, *id;
    struct error err = {0};
    char *text = NULL;

    id = json_is_object(req) ? json_object_get(req, "id") : NULL;
    if (api_qmp_envelope(req, &name, &args, &err) < 0) {
        send_error(cl, error_class_name(err.cls), err.desc, id);
        return;
    }
    if (!cl->negotiated) {
        if (streq(name, "qmp_capabilities"))
            negotiate(cl, args, id);
        else
            send_error(cl, "CommandNotFound",
                       "Expecting capabilities negotiation with 'qmp_capabilities'", id);
        return;
    }

    if (api_call_text(api, name, args, NULL, QMP_DUMP_FLAGS | JSON_ENCODE_ANY, &text, &err) < 0) {
        send_error(cl, error_class_name(err.cls), err.desc, id);
        return;
    }
    client_send_return(cl, text, id);
    free(text);
}

static void on_value(void *opaque, enum json_stream_event ev, const char *text, size_t len)
{
    struct qmp_client *cl = opaque;
    json_error_t jerr;
    json_t *req;
    char desc[ERROR_DESC_MAX];

    cl->value_done = true; /* complete, or refused: either way the next value starts afresh */
    if (ev == JSON_STREAM_TOO_BIG) {
        api_metrics_reject(API_REJECT_QMP_VALUE_BYTES);
        snprintf(desc, sizeof(desc), "JSON parse error, value too large (limit %zu bytes)",
                 cl->js.max_size);
        send_error(cl, "GenericError", desc, NULL);
        return;
    }
    if (ev == JSON_STREAM_TOO_DEEP) {
        api_metrics_reject(API_REJECT_QMP_NESTING);
        snprintf(desc, sizeof(desc), "JSON parse error, nesting too deep (limit %d)",
                 JSON_STREAM_MAX_NESTING);
        send_error(cl, "GenericError", desc, NULL);
        return;
    }
    /* QEMU's parser refuses duplicate keys, like jansson with this flag. */
    req = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        snprintf(desc, sizeof(desc), "JSON parse error, %s", jerr.text);
        send_error(cl, "GenericError", desc, NULL);
        return;
    }
    handle_request(cl, req);
    json_decref(req);
}

/* A value did not complete within qmp-value-seconds of its start: say so and disconnect. */
static int on_slow(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct qmp_client *cl = userdata;
    char desc[ERROR_DESC_MAX];

    (void)src;
    (void)usec;
    api_metrics_reject(API_REJECT_QMP_VALUE_SECONDS);
    snprintf(desc, sizeof(desc),
             "JSON value not complete within %llu s of its first byte (limit "
             "qmp-value-seconds); disconnecting",
             (unsigned long long)cl->slow_seconds);
    send_error(cl, "GenericError", desc, NULL);
    client_flush(cl); /* best effort: the client is dropped whatever it reads */
    client_drop(cl);
    return 0;
}

/*
 * After a feed: a value that completed disarms the timer; a value still pending (one begun in
 * this read, or an older one) arms it if it is not armed, with qmp-value-seconds as it is now.
 * The deadline is therefore counted from the read that brought a value's first byte.
 */
static void slow_update(struct qmp_client *cl)
{
    bool pending = json_stream_pending(&cl->js);
    int enabled = SD_EVENT_OFF;
    uint64_t when;

    if (cl->slow && (cl->value_done || !pending))
        sd_event_source_set_enabled(cl->slow, SD_EVENT_OFF);
    cl->value_done = false;
    if (!pending)
        return;
    if (cl->slow && sd_event_source_get_enabled(cl->slow, &enabled) >= 0 && enabled)
        return; /* already counting for this value */
    cl->slow_seconds = limit_get(LIMIT_QMP_VALUE_SECONDS);
    sd_event_now(control_event(cl->srv->ctl), CLOCK_MONOTONIC, &when);
    when += cl->slow_seconds * 1000000ULL;
    if (!cl->slow) {
        if (sd_event_add_time(control_event(cl->srv->ctl), &cl->slow, CLOCK_MONOTONIC, when,
                              100000 /* 0.1 s accuracy */, on_slow, cl) < 0)
            cl->dead = true; /* cannot time it: refuse rather than let it hold a slot */
        return;
    }
    sd_event_source_set_time(cl->slow, when);
    sd_event_source_set_enabled(cl->slow, SD_EVENT_ONESHOT);
}

static int on_client_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct qmp_client *cl = userdata;
    char buf[65536];

    (void)src;
    if (revents & EPOLLIN) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            cl->dead = true;
        } else if (n > 0 && json_stream_feed(&cl->js, buf, (size_t)n) < 0) {
            cl->dead = true;
        } else if (n > 0) {
            slow_update(cl);
        }
    } else if (revents & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
        cl->dead = true;
    }
    if (!cl->dead)
        client_flush(cl);
    if (cl->dead)
        client_drop(cl);
    return 0;
}

static void on_event(void *opaque, json_t *event)
{
    struct qmp_server *s = opaque;
    struct qmp_client *cl = s->clients;

    while (cl) {
        struct qmp_client *next = cl->next;

        if (cl->negotiated) {
            client_send(cl, event);
            if (!cl->dead)
                client_flush(cl);
            if (cl->dead)
                client_drop(cl);
        }
        cl = next;
    }
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct qmp_server *s = userdata;
    struct qmp_client *cl;
    json_t *greeting;
    int cfd;

    (void)src;
    (void)revents;
    cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return 0;
    if (s->n_clients >= limit_get(LIMIT_QMP_CLIENTS)) {
        api_metrics_reject(API_REJECT_QMP_CLIENTS);
        close(cfd);
        return 0;
    }
    cl = calloc(1, sizeof(*cl));
    if (!cl) {
        close(cfd);
        return 0;
    }
    cl->srv = s;
    cl->fd = cfd;
    json_stream_init(&cl->js, limit_get(LIMIT_QMP_VALUE_BYTES), on_value, cl);
    if (sd_event_add_io(control_event(s->ctl), &cl->src, cfd, EPOLLIN | EPOLLRDHUP, on_client_io,
                        cl) < 0) {
        client_free(cl);
        return 0;
    }
    cl->next = s->clients;
    s->clients = cl;
    s->n_clients++;

    greeting = json_pack("{s:{s:{s:{s:i,s:i,s:i},s:s},s:[]}}", "QMP", "version", "qemu", "micro",
                         PCID_VERSION_MICRO, "minor", PCID_VERSION_MINOR, "major",
                         PCID_VERSION_MAJOR, "package", "pcid " PCID_VERSION, "capabilities");
    client_send(cl, greeting);
    json_decref(greeting);
    client_flush(cl);
    if (cl->dead)
        client_drop(cl);
    return 0;
}

int qmp_server_new(struct control *c, int fd, struct qmp_server **ret)
{
    struct qmp_server *s = calloc(1, sizeof(*s));
    int r;

    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    s->ctl = c;
    s->fd = fd;
    s->sub = -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    r = sd_event_add_io(control_event(c), &s->src, fd, EPOLLIN, on_accept, s);
    if (r >= 0)
        r = s->sub = control_subscribe(c, on_event, s);
    if (r < 0) {
        qmp_server_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void qmp_server_free(struct qmp_server *s)
{
    if (!s)
        return;
    if (s->sub >= 0)
        control_unsubscribe(s->ctl, s->sub);
    while (s->clients) {
        struct qmp_client *cl = s->clients;
        s->clients = cl->next;
        client_free(cl);
    }
    sd_event_source_disable_unref(s->src);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

unsigned qmp_server_clients(const struct qmp_server *s)
{
    return s->n_clients;
}
