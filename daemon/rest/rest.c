/* SPDX-License-Identifier: MIT */
/*
 * rest.c — REST server (see rest.h): transport parsing and routing only; every route calls a
 * command of the command layer.
 */
#include "rest.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../limit.h"
#include "../log.h"

struct rest_server {
    struct MHD_Daemon *mhd;
    struct api *api;
    int fd;
};

struct req {
    char *body;
    size_t len;
    uint64_t limit; /* body limit taken at the first chunk (limit.h) */
    bool too_big;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               char *text, const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ret;

    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Send `v` (reference stolen) as JSON with `status`. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    json_decref(v);
    if (!text)
        text = strdup("{\"error\":{\"class\":\"GenericError\",\"desc\":\"out of memory\"}}");
    if (!text)
        return MHD_NO;
    return respond(c, status, "application/json", text, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *cls,
                                  const char *desc, const char *allow)
{
    json_t *e = json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", desc);
    char *text = json_dumps(e, JSON_COMPACT);

    json_decref(e);
    if (!text)
        return MHD_NO;
    return respond(c, status, "application/json", text, allow);
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
    case ERROR_KIND_INVALID:
    default:
        return MHD_HTTP_BAD_REQUEST;
    }
}

static enum MHD_Result send_api_error(struct MHD_Connection *c, const struct error *err)
{
    return send_error(c, status_for(err), error_class_name(err->cls), err->desc, NULL);
}

/* Run a command; reply 200 with its return value, or the mapped error. */
static enum MHD_Result run(struct rest_server *s, struct MHD_Connection *c, const char *cmd,
                           json_t *args)
{
    struct error err = {0};
    json_t *ret = NULL;
    int r = api_execute(s->api, cmd, args, &ret, &err);

    json_decref(args);
    if (r < 0)
        return send_api_error(c, &err);
    return send_json(c, MHD_HTTP_OK, ret);
}

/* {"id": x} or {"bdf": x}: a BDF has colons, an id never does. */
static json_t *target_args(const char *x)
{
    return json_pack("{s:s}", strchr(x, ':') ? "bdf" : "id", x);
}

static enum MHD_Result text_of(struct rest_server *s, struct MHD_Connection *c, const char *cmd,
                               json_t *args, const char *field)
{
    struct error err = {0};
    json_t *ret = NULL;
    const char *text;
    char *out;
    int r = api_execute(s->api, cmd, args, &ret, &err);

    json_decref(args);
    if (r < 0)
        return send_api_error(c, &err);
    text = field ? json_string_value(json_object_get(ret, field)) : json_string_value(ret);
    out = strdup(text ? text : "");
    json_decref(ret);
    if (!out)
        return MHD_NO;
    /* The monitor speaks CRLF; plain text over HTTP gets LF. */
    for (char *p = out, *q = out;; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        *q++ = *p;
        if (!*p)
            break;
    }
    return respond(c, MHD_HTTP_OK, "text/plain; charset=utf-8", out, NULL);
}

static json_t *parse_body(struct MHD_Connection *c, struct req *rq, enum MHD_Result *res)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    json_error_t jerr;
    json_t *v;
    char desc[ERROR_DESC_MAX];

    if (rq->too_big) {
        snprintf(desc, sizeof(desc), "request body exceeds %llu bytes",
                 (unsigned long long)rq->limit);
        *res = send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "GenericError", desc, NULL);
        return NULL;
    }
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')) {
        *res = send_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "GenericError",
                          "request body must be application/json", NULL);
        return NULL;
    }
    v = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        snprintf(desc, sizeof(desc), "JSON parse error, %s", jerr.text);
        *res = send_error(c, MHD_HTTP_BAD_REQUEST, "GenericError", desc, NULL);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        *res = send_error(c, MHD_HTTP_BAD_REQUEST, "GenericError",
                          "request body must be a JSON object", NULL);
        return NULL;
    }
    return v;
}

static enum MHD_Result post_device(struct rest_server *s, struct MHD_Connection *c, struct req *rq)
{
    enum MHD_Result res = MHD_NO;
    json_t *args = parse_body(c, rq, &res), *ret = NULL, *dry;
    struct error err = {0};
    char bdf[13];
    bool dry_run;
    int r;

    if (!args)
        return res;
    dry = json_object_get(args, "dry-run");
    dry_run = json_is_true(dry);
    if (dry)
        json_object_del(args, "dry-run");
    r = api_device_add_full(s->api, args, dry_run, bdf, &ret, &err);
    json_decref(ret);
    if (r < 0) {
        json_decref(args);
        return send_api_error(c, &err);
    }
    ret = json_pack("{s:s,s:s}", "bdf", bdf, "driver",
                    json_string_value(json_object_get(args, "driver")));
    json_object_set_new(ret, "id",
                        json_is_string(json_object_get(args, "id"))
                            ? json_copy(json_object_get(args, "id"))
                            : json_null());
    if (dry_run)
        json_object_set_new(ret, "dry-run", json_true());
    json_decref(args);
    return send_json(c, dry_run ? MHD_HTTP_OK : MHD_HTTP_CREATED, ret);
}

static enum MHD_Result delete_device(struct rest_server *s, struct MHD_Connection *c, const char *x)
{
    struct error err = {0};
    json_t *ret = NULL, *args;
    char *id = NULL;
    bool gone;
    int r;

    if (strchr(x, ':')) {
        /* A BDF: device_del takes an id, so find the function's id first. */
        args = target_args(x);
        r = api_execute(s->api, "query-pci-devices", args, &ret, &err);
        json_decref(args);
        if (r < 0)
            return send_api_error(c, &err);
        if (!json_is_string(json_object_get(json_array_get(ret, 0), "id"))) {
            json_decref(ret);
            return send_error(c, MHD_HTTP_BAD_REQUEST, "GenericError",
                              "the function has no id; device_del needs one", NULL);
        }
        id = strdup(json_string_value(json_object_get(json_array_get(ret, 0), "id")));
        json_decref(ret);
    } else {
        id = strdup(x);
    }
    if (!id)
        return MHD_NO;
    args = json_pack("{s:s}", "id", id);
    r = api_execute(s->api, "device_del", args, &ret, &err);
    json_decref(args);
    json_decref(ret);
    if (r < 0) {
        free(id);
        return send_api_error(c, &err);
    }
    /* Gone already if a guest ejected it at once; otherwise the removal is pending. */
    args = json_pack("{s:s}", "id", id);
    gone = api_execute(s->api, "query-pci-devices", args, &ret, &err) < 0;
    json_decref(args);
    json_decref(ret);
    ret = json_pack("{s:s,s:b}", "id", id, gone ? "deleted" : "pending", 1);
    free(id);
    return send_json(c, gone ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED, ret);
}

static enum MHD_Result method_not_allowed(struct MHD_Connection *c, const char *method,
                                          const char *allow)
{
    char desc[128];

    snprintf(desc, sizeof(desc), "method %s not allowed here (allowed: %s)", method, allow);
    return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GenericError", desc, allow);
}

static enum MHD_Result route(struct rest_server *s, struct MHD_Connection *c, const char *url,
                             const char *method, struct req *rq)
{
    bool get = streq(method, "GET") || streq(method, "HEAD");
    const char *rest;
    char desc[ERROR_DESC_MAX];

    if (streq(url, "/v1/pci"))
        return get ? run(s, c, "query-pci", NULL) : method_not_allowed(c, method, "GET, HEAD");
    if (streq(url, "/v1/pci/text")) {
        if (!get)
            return method_not_allowed(c, method, "GET, HEAD");
        return text_of(s, c, "human-monitor-command",
                       json_pack("{s:s}", "command-line", "info pci"), NULL);
    }
    if (streq(url, "/v1/slots")) {
        const char *bus = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "bus");
        if (!get)
            return method_not_allowed(c, method, "GET, HEAD");
        return run(s, c, "query-pci-slots", bus ? json_pack("{s:s}", "bus", bus) : NULL);
    }
    if (streq(url, "/v1/qmp")) {
        enum MHD_Result res = MHD_NO;
        json_t *body, *args, *ret = NULL, *reply;
        const char *cmd;
        struct error err = {0};

        if (!streq(method, "POST"))
            return method_not_allowed(c, method, "POST");
        body = parse_body(c, rq, &res);
        if (!body)
            return res;
        cmd = json_string_value(json_object_get(body, "execute"));
        args = json_object_get(body, "arguments");
        if (!cmd) {
            reply = json_pack("{s:{s:s,s:s}}", "error", "class", "GenericError", "desc",
                              "QMP input lacks member 'execute'");
        } else if (api_execute(s->api, cmd, args, &ret, &err) < 0) {
            reply = json_pack("{s:{s:s,s:s}}", "error", "class", error_class_name(err.cls), "desc",
                              err.desc);
        } else {
            reply = json_pack("{s:o}", "return", ret);
        }
        if (json_object_get(body, "id"))
            json_object_set(reply, "id", json_object_get(body, "id"));
        json_decref(body);
        return send_json(c, MHD_HTTP_OK, reply);
    }
    if (streq(url, "/v1/devices")) {
        if (get)
            return run(s, c, "query-pci-devices", NULL);
        if (streq(method, "POST"))
            return post_device(s, c, rq);
        return method_not_allowed(c, method, "GET, HEAD, POST");
    }
    if (strncmp(url, "/v1/devices/", 12) == 0 && url[12]) {
        char target[256];
        const char *slash;

        rest = url + 12;
        slash = strchr(rest, '/');
        if ((size_t)(slash ? slash - rest : (long)strlen(rest)) >= sizeof(target))
            return send_error(c, MHD_HTTP_NOT_FOUND, "DeviceNotFound", "device name too long",
                              NULL);
        snprintf(target, sizeof(target), "%.*s", (int)(slash ? slash - rest : (long)strlen(rest)),
                 rest);
        if (!slash) {
            if (get) {
                struct error err = {0};
                json_t *ret = NULL, *args = target_args(target);
                int r = api_execute(s->api, "query-pci-devices", args, &ret, &err);
                json_decref(args);
                if (r < 0)
                    return send_api_error(c, &err);
                args = json_incref(json_array_get(ret, 0));
                json_decref(ret);
                return send_json(c, MHD_HTTP_OK, args);
            }
            if (streq(method, "DELETE"))
                return delete_device(s, c, target);
            return method_not_allowed(c, method, "GET, HEAD, DELETE");
        }
        if (streq(slash, "/capabilities"))
            return get ? run(s, c, "query-pci-capabilities", target_args(target))
                       : method_not_allowed(c, method, "GET, HEAD");
        if (streq(slash, "/config"))
            return get ? text_of(s, c, "query-pci-config", target_args(target), "lspci")
                       : method_not_allowed(c, method, "GET, HEAD");
    }
    snprintf(desc, sizeof(desc), "no route for %s %s", method, url);
    return send_error(c, MHD_HTTP_NOT_FOUND, "GenericError", desc, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct rest_server *s = cls;
    struct req *rq = *con_cls;

    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*data_size) {
        if (!rq->limit)
            rq->limit = limit_get(LIMIT_REST_BODY_BYTES); /* one value for the whole body */
        if (!rq->too_big && rq->len + *data_size <= rq->limit) {
            char *b = realloc(rq->body, rq->len + *data_size + 1);
            if (!b)
                return MHD_NO;
            rq->body = b;
            memcpy(rq->body + rq->len, data, *data_size);
            rq->len += *data_size;
            rq->body[rq->len] = 0;
        } else {
            rq->too_big = true;
            free(rq->body);
            rq->body = NULL;
            rq->len = 0;
        }
        *data_size = 0;
        return MHD_YES;
    }
    return route(s, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
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
    /* MHD_USE_ITC: MHD wakes its thread through its own channel, never by shutdown(2) of the
     * listening socket, which may be systemd's (passed to us) and must outlive pcid. */
    s->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, /* first, as MHD wants */
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)REST_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)REST_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!s->mhd) {
        close(fd);
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
    /* Take the listening socket back first, so that MHD neither shuts it down (systemd keeps
     * it for the next activation) nor closes it: that is ours to do, once its threads are
     * gone. */
    MHD_quiesce_daemon(s->mhd);
    MHD_stop_daemon(s->mhd);
    close(s->fd);
    free(s);
}
