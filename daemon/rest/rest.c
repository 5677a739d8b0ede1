/* SPDX-License-Identifier: MIT */
/*
 * rest.c — REST server (see rest.h): the libmicrohttpd daemon, request bodies, routing over
 * the route table (routes.c), response helpers with ETag / If-Match, and the per-route request
 * counters /metrics shows.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../api/metrics.h"
#include "../auth.h"
#include "../limit.h"
#include "../log.h"
#include "internal.h"

/* ---- request counters: [route][method][status], relaxed atomics ---- */

#define MAX_ROUTES REST_MAX_ROUTES
static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE", "other"};
static const unsigned codes[] = {200, 201, 202, 400, 401, 404, 405,
                                 409, 412, 413, 415, 500, 503, 0};
static uint64_t http_counts[MAX_ROUTES + 1][ARRAY_SIZE(methods)][ARRAY_SIZE(codes)];

static void count_request(size_t route, const char *method, unsigned status)
{
    size_t m = 0, k = 0;

    while (m + 1 < ARRAY_SIZE(methods) && !streq(methods[m], method))
        m++;
    while (codes[k] && codes[k] != status)
        k++;
    __atomic_fetch_add(&http_counts[MIN(route, (size_t)MAX_ROUTES)][m][k], 1, __ATOMIC_RELAXED);
}

void rest_metrics_http(FILE *out)
{
    api_metrics_family(out, "pcid_http_requests_total", "counter",
                       "REST requests by route (OpenAPI path), method and status.");
    for (size_t r = 0; r <= MAX_ROUTES; r++) {
        const struct rest_route *rt = rest_route_at(r);

        if (!rt && r < MAX_ROUTES)
            continue;
        for (size_t m = 0; m < ARRAY_SIZE(methods); m++)
            for (size_t k = 0; k < ARRAY_SIZE(codes); k++) {
                uint64_t n = __atomic_load_n(&http_counts[r][m][k], __ATOMIC_RELAXED);
                char code[8];

                if (!n)
                    continue;
                snprintf(code, sizeof(code), codes[k] ? "%u" : "other", codes[k]);
                fprintf(out,
                        "pcid_http_requests_total{route=\"%s\",method=\"%s\",code=\"%s\"} %llu\n",
                        rt ? rt->path : "(none)", methods[m], code, (unsigned long long)n);
            }
    }
    api_metrics_family(out, "pcid_rest_auth_failures_total", "counter",
                       "REST requests refused with 401 on a TCP listener, by reason: no Bearer "
                       "credentials (missing) or the wrong token (invalid).");
    fprintf(out, "pcid_rest_auth_failures_total{reason=\"missing\"} %llu\n",
            (unsigned long long)auth_failures(AUTH_MISSING));
    fprintf(out, "pcid_rest_auth_failures_total{reason=\"invalid\"} %llu\n",
            (unsigned long long)auth_failures(AUTH_INVALID));
}

/* ---- responses ---- */

enum MHD_Result rest_queue(struct rest_ctx *x, unsigned status, struct MHD_Response *r)
{
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    if (!MHD_get_response_header(r, "Cache-Control"))
        MHD_add_response_header(r, "Cache-Control", "no-store");
    rest_conn_responding(x->c);
    ret = MHD_queue_response(x->c, status, r);
    MHD_destroy_response(r);
    x->status = status;
    return ret;
}

static void add_etag(struct MHD_Response *r, const uint64_t *etag)
{
    char tag[32];

    if (!etag)
        return;
    snprintf(tag, sizeof(tag), "\"%llu\"", (unsigned long long)*etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, tag);
}

enum MHD_Result rest_send_text(struct rest_ctx *x, unsigned status, const char *type, char *text,
                               const uint64_t *etag)
{
    struct MHD_Response *r;

    if (!text)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    add_etag(r, etag);
    return rest_queue(x, status, r);
}

static void unref_text(void *cls)
{
    api_text_unref(cls);
}

enum MHD_Result rest_send_shared(struct rest_ctx *x, unsigned status, const char *type,
                                 struct api_text *text, const uint64_t *etag)
{
    struct MHD_Response *r;

    if (!text)
        return MHD_NO;
    r = MHD_create_response_from_buffer_with_free_callback_cls(text->len, text->s, unref_text,
                                                               text);
    if (!r) {
        api_text_unref(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    add_etag(r, etag);
    return rest_queue(x, status, r);
}

enum MHD_Result rest_send_json(struct rest_ctx *x, unsigned status, json_t *v, const uint64_t *etag)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    json_decref(v);
    if (!text)
        text = strdup("{\"error\":{\"class\":\"GenericError\",\"desc\":\"out of memory\"}}");
    return rest_send_text(x, status, "application/json", text, etag);
}

static enum MHD_Result send_error_allow(struct rest_ctx *x, unsigned status, const char *cls,
                                        const char *desc, const char *allow, const uint64_t *etag)
{
    json_t *e = json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", desc);
    char *text = json_dumps(e, JSON_COMPACT);
    struct MHD_Response *r;

    json_decref(e);
    if (!text)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    add_etag(r, etag);
    return rest_queue(x, status, r);
}

enum MHD_Result rest_send_error(struct rest_ctx *x, unsigned status, const char *cls,
                                const char *fmt, ...)
{
    char desc[ERROR_DESC_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    return send_error_allow(x, status, cls, desc, NULL, NULL);
}

static unsigned status_for(const struct error *err)
{
    if (err->cls == ERROR_CLASS_DEVICE_NOT_FOUND || err->cls == ERROR_CLASS_COMMAND_NOT_FOUND)
        return MHD_HTTP_NOT_FOUND;
    switch (err->kind) {
    case ERROR_KIND_CONFLICT:
    case ERROR_KIND_LIMIT:
        return MHD_HTTP_CONFLICT;
    case ERROR_KIND_INTERNAL:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    case ERROR_KIND_NOT_FOUND:
        return MHD_HTTP_NOT_FOUND;
    case ERROR_KIND_INVALID:
    default:
        return MHD_HTTP_BAD_REQUEST;
    }
}

enum MHD_Result rest_send_api_error(struct rest_ctx *x, int r, const struct error *err,
                                    const struct api_call *call)
{
    if (r == -ESTALE)
        return send_error_allow(x, MHD_HTTP_PRECONDITION_FAILED, error_class_name(err->cls),
                                err->desc, NULL, call ? &call->generation : NULL);
    return send_error_allow(x, status_for(err), error_class_name(err->cls), err->desc, NULL, NULL);
}

/* ---- If-Match ---- */

#define IF_MATCH_MAX 16

struct if_match {
    uint64_t gen[IF_MATCH_MAX];
    unsigned n;
};

static bool if_match_ok(void *opaque, uint64_t generation)
{
    const struct if_match *im = opaque;

    for (unsigned i = 0; i < im->n; i++)
        if (im->gen[i] == generation)
            return true;
    return false;
}

/* Parse an If-Match value: false for "*" (no condition), else true with the strong numeric
 * tags in *im (weak or foreign tags never match, RFC 9110 13.1.1). */
static bool if_match_parse(const char *v, struct if_match *im)
{
    const char *p = v;

    im->n = 0;
    while (isspace((unsigned char)*p))
        p++;
    if (p[0] == '*' && !p[1 + strspn(p + 1, " \t")])
        return false;
    while (*p) {
        const char *q;

        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (*p == '"' && isdigit((unsigned char)p[1])) {
            char *end;
            unsigned long long g = strtoull(p + 1, &end, 10);

            if (*end == '"' && im->n < IF_MATCH_MAX)
                im->gen[im->n++] = g;
        }
        /* skip to the end of this tag (quoted strings contain no comma here) */
        q = strchr(p, ',');
        p = q ? q : p + strlen(p);
    }
    return true;
}

int rest_command(struct rest_ctx *x, const char *name, json_t *args, struct api_call *call,
                 json_t **ret, struct error *err)
{
    struct if_match im;
    const char *hdr = NULL;
    int r;

    if (streq(x->method, "POST") || streq(x->method, "DELETE"))
        hdr = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
    if (hdr && if_match_parse(hdr, &im)) {
        call->precondition = if_match_ok;
        call->precondition_opaque = &im;
    }
    r = api_call(x->s->api, name, args, call, ret, err);
    call->precondition = NULL;
    call->precondition_opaque = NULL;
    json_decref(args);
    return r;
}

/* ---- requests ---- */

const char *rest_query(struct rest_ctx *x, const char *name)
{
    return MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, name);
}

json_t *rest_body_json(struct rest_ctx *x, enum MHD_Result *res)
{
    const char *ct =
        MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    json_error_t jerr;
    json_t *v;

    if (x->body->too_big) {
        api_metrics_reject(API_REJECT_REST_BODY_BYTES);
        *res =
            rest_send_error(x, MHD_HTTP_CONTENT_TOO_LARGE, "GenericError",
                            "request body exceeds %llu bytes", (unsigned long long)x->body->limit);
        return NULL;
    }
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')) {
        *res = rest_send_error(x, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "GenericError",
                               "request body must be application/json");
        return NULL;
    }
    v = json_loadb(x->body->data ? x->body->data : "", x->body->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        *res = rest_send_error(x, MHD_HTTP_BAD_REQUEST, "GenericError", "JSON parse error, %s",
                               jerr.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        *res = rest_send_error(x, MHD_HTTP_BAD_REQUEST, "GenericError",
                               "request body must be a JSON object");
        return NULL;
    }
    return v;
}

/* Does `url` match the template `path`? The {param} segment (at most one) goes to *param. */
static bool match(const char *path, const char *url, char *param, size_t len)
{
    while (*path && *url) {
        if (*path == '{') {
            size_t n = strcspn(url, "/");

            if (!n || n >= len)
                return false;
            memcpy(param, url, n);
            param[n] = 0;
            path += strcspn(path, "}") + 1;
            url += n;
            continue;
        }
        if (*path++ != *url++)
            return false;
    }
    return !*path && !*url;
}

/* The route `url` matches (its index in *route, MAX_ROUTES for none), or NULL. */
static const struct rest_route *route_find(const char *url, size_t *route, char *param, size_t len)
{
    const struct rest_route *rt;

    for (*route = 0; (rt = rest_route_at(*route)); (*route)++)
        if (match(rt->path, url, param, len))
            return rt;
    *route = MAX_ROUTES;
    return NULL;
}

static enum MHD_Result dispatch(struct rest_ctx *x, const char *url, const char *method,
                                size_t *route)
{
    char param[256], allow[64];
    const struct rest_route *rt = route_find(url, route, param, sizeof(param));
    rest_handler h = NULL;

    if (!rt) {
        return rest_send_error(x, MHD_HTTP_NOT_FOUND, "GenericError", "no route for %s %s", method,
                               url);
    }
    x->param = strchr(rt->path, '{') ? param : NULL;
    if (streq(method, "GET") || streq(method, "HEAD"))
        h = rt->get;
    else if (streq(method, "POST"))
        h = rt->post;
    else if (streq(method, "DELETE"))
        h = rt->del;
    if (h) {
        x->method = streq(method, "HEAD") ? "GET" : method;
        return h(x);
    }
    snprintf(allow, sizeof(allow), "%s%s%s", rt->get ? "GET, HEAD" : "",
             rt->post ? (rt->get ? ", POST" : "POST") : "",
             rt->del ? (rt->get || rt->post ? ", DELETE" : "DELETE") : "");
    {
        char desc[160];

        snprintf(desc, sizeof(desc), "method %s not allowed here (allowed: %s)", method, allow);
        return send_error_allow(x, MHD_HTTP_METHOD_NOT_ALLOWED, "GenericError", desc, allow, NULL);
    }
}

/* 401 for a TCP request without the configured token (../auth.h); RFC 6750 section 3. */
static enum MHD_Result refuse_unauthorized(struct rest_ctx *x, enum auth_verdict v)
{
    json_t *e =
        json_pack("{s:{s:s,s:s}}", "error", "class", "GenericError", "desc",
                  v == AUTH_MISSING ? "authentication required: send Authorization: Bearer TOKEN"
                                    : "the bearer token is not valid");
    char *text = json_dumps(e, JSON_COMPACT);
    struct MHD_Response *r;

    json_decref(e);
    if (!text)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            v == AUTH_MISSING ? "Bearer realm=\"pcid\""
                                              : "Bearer realm=\"pcid\", error=\"invalid_token\"");
    return rest_queue(x, MHD_HTTP_UNAUTHORIZED, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct rest_body *b = *con_cls;
    struct rest_ctx x = {.s = cls, .c = c, .method = method};
    enum MHD_Result res;
    size_t route;

    (void)version;
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b)
            return MHD_NO;
        *con_cls = b;
        /* Before any of the body is read: an unauthenticated client gets nothing buffered. */
        if (x.s->tcp) {
            enum auth_verdict v = auth_check_bearer(
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));

            if (v != AUTH_OK) {
                char param[256];

                route_find(url, &route, param, sizeof(param));
                res = refuse_unauthorized(&x, v);
                count_request(route, method, x.status);
                return res;
            }
        }
        return MHD_YES;
    }
    if (*data_size) {
        if (!b->limit)
            b->limit = limit_get(LIMIT_REST_BODY_BYTES); /* one value for the whole body */
        if (!b->too_big && b->len + *data_size <= b->limit) {
            char *d = realloc(b->data, b->len + *data_size + 1);
            if (!d)
                return MHD_NO;
            b->data = d;
            memcpy(b->data + b->len, data, *data_size);
            b->len += *data_size;
            b->data[b->len] = 0;
        } else {
            b->too_big = true;
            free(b->data);
            b->data = NULL;
            b->len = 0;
        }
        *data_size = 0;
        return MHD_YES;
    }
    x.body = b;
    rest_conn_responding(
        c); /* the request is complete: a slow handler (?wait=) is no slow client */
    res = dispatch(&x, url, method, &route);
    count_request(route, method, x.status);
    return res;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct rest_body *b = *con_cls;

    (void)cls;
    (void)toe;
    rest_conn_waiting(c);
    if (b) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL unescaping (path and query arguments) like libmicrohttpd's, except that "%00" stays as
 * it is: a NUL would cut the text short (DELETE /v1/devices/a%00b must not remove "a"). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *w = s;
    int hi, lo;

    (void)cls;
    (void)c;
    for (const char *r = s; *r;) {
        if (r[0] == '%' && (hi = hex_value(r[1])) >= 0 && (lo = hex_value(r[2])) >= 0 &&
            (hi | lo)) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

/* libmicrohttpd's own messages (a failed accept, a broken client) go to pcid's log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    size_t n;

    (void)cls;
    vsnprintf(text, sizeof(text), fmt, ap);
    n = strlen(text);
    while (n && text[n - 1] == '\n')
        text[--n] = 0;
    log_warning("REST: %s", text);
}

int rest_server_new(struct api *api, int fd, struct rest_server **ret)
{
    struct rest_server *s = calloc(1, sizeof(*s));

    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    s->api = api;
    s->fd = fd;
    s->tcp = auth_listener_kind(fd) > AUTH_LISTENER_UNIX; /* TCP asks for the token, if set */
    /* MHD_USE_ITC: MHD wakes its thread through its own channel, never by shutdown(2) of the
     * listening socket, which may be systemd's (passed to us) and must outlive pcid. */
    if (rest_conns_init(&s->conns) < 0) {
        close(fd);
        free(s);
        return -ENOMEM;
    }
    /* The client limit is ours (rest_conn_accept, counted); MHD's own is only a backstop above
     * the largest value the limit may take, for connections not yet cleaned up. */
    s->mhd = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, rest_conn_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        NULL, /* first, as MHD wants */
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        rest_conn_notify, s, MHD_OPTION_URI_LOG_CALLBACK, rest_conn_uri, s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(REST_MAX_CONNECTIONS_CAP + 16),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)REST_STALL_TIMEOUT_S, MHD_OPTION_END);
    if (!s->mhd) {
        close(fd);
        rest_conns_fini(&s->conns);
        free(s);
        return -EIO;
    }
    *ret = s;
    return 0;
}

void rest_server_free(struct rest_server *s)
{
    if (!s)
        return;
    /* Blocked handlers (event streams, DELETE ?wait=) see the flag and return. */
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    api_events_kick(s->api);
    /* Take the listening socket back first, so that MHD neither shuts it down (systemd keeps
     * it for the next activation) nor closes it: that is ours to do, once its threads are
     * gone. (Should MHD refuse, it still owns the socket and closes it itself.) */
    bool ours = MHD_quiesce_daemon(s->mhd) != MHD_INVALID_SOCKET;
    MHD_stop_daemon(s->mhd);
    if (ours)
        close(s->fd);
    rest_conns_fini(&s->conns);
    free(s);
}
