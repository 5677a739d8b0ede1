/* SPDX-License-Identifier: MIT */
/*
 * routes.c — the REST routes: each maps a request to a command of the command layer. The
 * table at the bottom is the list; api/schema/openapi.yaml describes each path, and
 * tests/unit/test-rest-routes.c fails when the two disagree. Adding a route = a handler, a
 * table row, an OpenAPI path (and a curl example in docs/api.md, which test_docs.py runs).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/metrics.h"
#include "../../api/schema.h"
#include "internal.h"

/* Run a read command and send its value (serialized by the command layer, which may answer
 * from its cache) with the generation as ETag. A read has no If-Match to honour. */
static enum MHD_Result read_json(struct rest_ctx *x, const char *cmd, json_t *args)
{
    struct api_call call = {.want_shared = true};
    struct error err = {0};
    char *text = NULL;
    int r = api_call_text(x->s->api, cmd, args, &call, JSON_COMPACT | JSON_ENCODE_ANY, &text, &err);

    json_decref(args);
    if (r < 0)
        return rest_send_api_error(x, r, &err, &call);
    if (call.shared)
        return rest_send_shared(x, MHD_HTTP_OK, "application/json", call.shared, &call.generation);
    return rest_send_text(x, MHD_HTTP_OK, "application/json", text, &call.generation);
}

/* {"id": x} or {"bdf": x}: a BDF has colons, an id never does. */
static json_t *target_args(const char *x)
{
    return json_pack("{s:s}", strchr(x, ':') ? "bdf" : "id", x);
}

/* Text with CRLF (the monitor's line ends) turned into LF. */
static char *lf_text(const char *text)
{
    char *out = strdup(text ? text : "");

    if (!out)
        return NULL;
    for (char *p = out, *q = out;; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        *q++ = *p;
        if (!*p)
            break;
    }
    return out;
}

/* Run a command whose value (or its member `field`) is text; send it as text/plain. */
static enum MHD_Result read_text(struct rest_ctx *x, const char *cmd, json_t *args,
                                 const char *field)
{
    struct api_call call = {0};
    struct error err = {0};
    json_t *ret = NULL;
    char *out;
    int r = rest_command(x, cmd, args, &call, &ret, &err);

    if (r < 0)
        return rest_send_api_error(x, r, &err, &call);
    out = lf_text(field ? json_string_value(json_object_get(ret, field)) : json_string_value(ret));
    json_decref(ret);
    return rest_send_text(x, MHD_HTTP_OK, "text/plain; charset=utf-8", out, &call.generation);
}

static enum MHD_Result get_openapi(struct rest_ctx *x)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(api_schema_openapi), (void *)api_schema_openapi, MHD_RESPMEM_PERSISTENT);

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return rest_queue(x, MHD_HTTP_OK, r);
}

static enum MHD_Result get_metrics(struct rest_ctx *x)
{
    char *text = api_metrics_render(x->s->api), *all = NULL;
    size_t len = 0;
    FILE *f;

    if (!text)
        return rest_send_error(x, MHD_HTTP_INTERNAL_SERVER_ERROR, "GenericError", "out of memory");
    f = open_memstream(&all, &len);
    if (f) {
        fputs(text, f);
        rest_metrics_http(f);
        if (fclose(f) != 0) {
            free(all);
            all = NULL;
        }
    }
    free(text);
    if (!all)
        return rest_send_error(x, MHD_HTTP_INTERNAL_SERVER_ERROR, "GenericError", "out of memory");
    return rest_send_text(x, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", all, NULL);
}

static enum MHD_Result get_machine(struct rest_ctx *x)
{
    return read_json(x, "query-pci-machine", NULL);
}

static enum MHD_Result get_machine_description(struct rest_ctx *x)
{
    return read_json(x, "query-machine-description", NULL);
}

static enum MHD_Result get_pci(struct rest_ctx *x)
{
    return read_json(x, "query-pci", NULL);
}

static enum MHD_Result get_pci_text(struct rest_ctx *x)
{
    return read_text(x, "human-monitor-command", json_pack("{s:s}", "command-line", "info pci"),
                     NULL);
}

static enum MHD_Result get_buses(struct rest_ctx *x)
{
    return read_json(x, "query-pci-buses", NULL);
}

static enum MHD_Result get_slots(struct rest_ctx *x)
{
    const char *bus = rest_query(x, "bus");

    return read_json(x, "query-pci-slots", bus ? json_pack("{s:s}", "bus", bus) : NULL);
}

static enum MHD_Result get_devices(struct rest_ctx *x)
{
    return read_json(x, "query-pci-devices", NULL);
}

static enum MHD_Result post_devices(struct rest_ctx *x)
{
    enum MHD_Result res = MHD_NO;
    json_t *args = rest_body_json(x, &res), *ret = NULL, *dry, *id;
    struct api_call call = {0};
    struct error err = {0};
    char *driver, location[64];
    int r;

    if (!args)
        return res;
    dry = json_object_get(args, "dry-run");
    if (dry && !json_is_boolean(dry)) {
        json_decref(args);
        return rest_send_error(x, MHD_HTTP_BAD_REQUEST, "GenericError",
                               "Invalid parameter type for 'dry-run', expected: boolean");
    }
    call.dry_run = json_is_true(dry);
    json_object_del(args, "dry-run");
    /* QMP's device_add drops such values silently, as QEMU does; REST refuses them. */
    {
        const char *key;
        json_t *v;

        json_object_foreach(args, key, v)
        {
            char name[65];
            bool is_id = streq(key, "id");

            if (json_is_string(v) || (!is_id && (json_is_number(v) || json_is_boolean(v))))
                continue;
            snprintf(name, sizeof(name), "%s", key); /* key goes with args */
            json_decref(args);
            return rest_send_error(x, MHD_HTTP_BAD_REQUEST, "GenericError",
                                   "Invalid parameter type for '%s', expected: %s", name,
                                   is_id ? "string" : "string, number or boolean");
        }
    }
    id = json_incref(json_is_string(json_object_get(args, "id")) ? json_object_get(args, "id")
                                                                 : json_null());
    driver = strdup(json_is_string(json_object_get(args, "driver"))
                        ? json_string_value(json_object_get(args, "driver"))
                        : "");
    r = rest_command(x, "device_add", args, &call, &ret, &err);
    if (r < 0 || !driver) {
        json_decref(ret);
        json_decref(id);
        free(driver);
        return r < 0 ? rest_send_api_error(x, r, &err, &call) : MHD_NO;
    }
    {
        /* device_add's report: the fit of the BARs, and what "prefer" did. */
        json_t *res = json_incref(json_object_get(ret, "resources"));
        json_t *placement = json_incref(json_object_get(ret, "placement"));

        json_decref(ret);
        ret = json_pack("{s:s,s:s,s:o}", "bdf", call.bdf, "driver", driver, "id", id);
        if (ret && res)
            json_object_set(ret, "resources", res);
        if (ret && placement)
            json_object_set(ret, "placement", placement);
        json_decref(res);
        json_decref(placement);
    }
    free(driver);
    if (call.dry_run) {
        json_object_set_new(ret, "dry-run", json_true());
        return rest_send_json(x, MHD_HTTP_OK, ret, &call.generation);
    }
    {
        char *body = json_dumps(ret, JSON_COMPACT);
        struct MHD_Response *resp;
        char tag[32];

        json_decref(ret);
        if (!body)
            return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            free(body);
            return MHD_NO;
        }
        snprintf(location, sizeof(location), "/v1/devices/%s", call.bdf);
        snprintf(tag, sizeof(tag), "\"%llu\"", (unsigned long long)call.generation);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, tag);
        return rest_queue(x, MHD_HTTP_CREATED, resp);
    }
}

static enum MHD_Result get_device(struct rest_ctx *x)
{
    struct api_call call = {0};
    struct error err = {0};
    json_t *ret = NULL, *one;
    int r = rest_command(x, "query-pci-devices", target_args(x->param), &call, &ret, &err);

    if (r < 0)
        return rest_send_api_error(x, r, &err, &call);
    one = json_incref(json_array_get(ret, 0));
    json_decref(ret);
    return rest_send_json(x, MHD_HTTP_OK, one, &call.generation);
}

/* The device_del target for an id or BDF: the id, else (no id) the QOM path. */
static enum MHD_Result del_target(struct rest_ctx *x, char **target)
{
    struct api_call call = {0};
    struct error err = {0};
    json_t *ret = NULL, *dev, *args;
    const char *t;
    int r;

    if (!strchr(x->param, ':')) {
        *target = strdup(x->param);
        return *target ? MHD_YES : MHD_NO;
    }
    args = target_args(x->param);
    r = api_call(x->s->api, "query-pci-devices", args, &call, &ret, &err);
    json_decref(args);
    if (r < 0) {
        *target = NULL;
        return rest_send_api_error(x, r, &err, &call);
    }
    dev = json_array_get(ret, 0);
    t = json_is_string(json_object_get(dev, "id"))
            ? json_string_value(json_object_get(dev, "id"))
            : json_string_value(json_object_get(dev, "path"));
    *target = strdup(t ? t : "");
    json_decref(ret);
    return *target ? MHD_YES : MHD_NO;
}

/* The current generation (after a wait, for the ETag of the reply). */
static uint64_t generation_now(struct rest_ctx *x)
{
    struct api_call call = {0};
    struct error err = {0};
    json_t *ret = NULL;

    api_call(x->s->api, "query-pci-machine", NULL, &call, &ret, &err);
    json_decref(ret);
    return call.generation;
}

enum outcome { PENDING, DELETED, REFUSED };

/* The outcome read from the machine itself (when the events that told it left the ring):
 * gone, still pending, or there with its request withdrawn (refused). */
static enum outcome outcome_now(struct rest_ctx *x, const char *path)
{
    struct error err = {0};
    json_t *devs = NULL, *d;
    enum outcome o = DELETED;
    size_t i;

    if (api_execute(x->s->api, "query-pci-devices", NULL, &devs, &err) < 0)
        return PENDING;
    json_array_foreach(devs, i, d)
    {
        if (streq(json_string_value(json_object_get(d, "path")) ?: "", path))
            o = json_is_true(json_object_get(d, "pending-unplug")) ? PENDING : REFUSED;
    }
    json_decref(devs);
    return o;
}

/* Wait until the device at `path` is gone or refused, or `deadline_ns`. */
static enum outcome wait_removal(struct rest_ctx *x, const char *path, uint64_t after,
                                 uint64_t deadline_ns)
{
    struct api_event_rec recs[32];

    for (;;) {
        bool lost = false;
        uint64_t oldest, newest = api_events_last_id(x->s->api);
        enum outcome o = PENDING;
        int n = api_events_since(x->s->api, after, recs, (int)ARRAY_SIZE(recs), &lost, &oldest);

        for (int i = 0; i < n; i++) {
            if (o == PENDING && recs[i].path && streq(recs[i].path, path)) {
                if (streq(recs[i].name, "DEVICE_DELETED"))
                    o = DELETED;
                else if (streq(recs[i].name, "DEVICE_UNPLUG_GUEST_ERROR"))
                    o = REFUSED;
            }
            after = recs[i].id;
            api_event_rec_clear(&recs[i]);
        }
        if (o != PENDING)
            return o;
        if (lost) {
            /* More events than the ring holds came since: ask the machine instead. */
            o = outcome_now(x, path);
            if (o != PENDING)
                return o;
            after = newest;
            continue;
        }
        if (n == (int)ARRAY_SIZE(recs))
            continue;
        if (monotonic_ns() >= deadline_ns || __atomic_load_n(&x->s->stopping, __ATOMIC_ACQUIRE))
            return PENDING;
        api_events_wait(x->s->api, after, deadline_ns, &x->s->stopping);
    }
}

static enum MHD_Result delete_device(struct rest_ctx *x)
{
    const char *w = rest_query(x, "wait");
    struct api_call call = {0};
    struct error err = {0};
    json_t *ret = NULL;
    char *target = NULL;
    double wait = 0;
    enum outcome o;
    uint64_t gen;
    enum MHD_Result res;
    int r;

    if (w) {
        char *end;

        wait = strtod(w, &end);
        if (!*w || *end || !isfinite(wait) || wait < 0 || wait > REST_MAX_WAIT_S)
            return rest_send_error(x, MHD_HTTP_BAD_REQUEST, "GenericError",
                                   "Parameter 'wait' expects seconds from 0 to %d, not '%s'",
                                   REST_MAX_WAIT_S, w);
    }
    res = del_target(x, &target);
    if (!target)
        return res;
    r = rest_command(x, "device_del", json_pack("{s:s}", "id", target), &call, &ret, &err);
    json_decref(ret);
    if (r < 0) {
        free(target);
        return rest_send_api_error(x, r, &err, &call);
    }
    o = wait_removal(x, call.path, call.event_seq, monotonic_ns() + (uint64_t)(wait * 1e9));
    gen = o == PENDING ? call.generation : generation_now(x);
    if (o == REFUSED) {
        json_t *e = json_pack("{s:{s:s,s:s}}", "error", "class", "GenericError", "desc", "");
        char desc[ERROR_DESC_MAX];

        snprintf(desc, sizeof(desc),
                 "The guest refused to remove %s (DEVICE_UNPLUG_GUEST_ERROR); it stays", target);
        json_object_set_new(json_object_get(e, "error"), "desc", json_string(desc));
        free(target);
        return rest_send_json(x, MHD_HTTP_CONFLICT, e, &gen);
    }
    ret = json_pack("{s:s,s:b}", "id", target, o == DELETED ? "deleted" : "pending", 1);
    free(target);
    return rest_send_json(x, o == DELETED ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED, ret, &gen);
}

static enum MHD_Result get_caps(struct rest_ctx *x)
{
    return read_json(x, "query-pci-capabilities", target_args(x->param));
}

/* JSON when the client asks for application/json and not text/plain; else lspci text. */
static enum MHD_Result get_config(struct rest_ctx *x)
{
    const char *accept = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Accept");

    if (accept && strstr(accept, "application/json") && !strstr(accept, "text/plain"))
        return read_json(x, "query-pci-config", target_args(x->param));
    return read_text(x, "query-pci-config", target_args(x->param), "lspci");
}

static enum MHD_Result get_snapshots(struct rest_ctx *x)
{
    return read_json(x, "query-state-snapshots", NULL);
}

/* POST {"name": NAME}: the body is the command's arguments (the schema checks them). */
static enum MHD_Result post_snapshot(struct rest_ctx *x, const char *cmd)
{
    enum MHD_Result res = MHD_NO;
    json_t *args = rest_body_json(x, &res), *ret = NULL;
    struct api_call call = {0};
    struct error err = {0};
    int r;

    if (!args)
        return res;
    r = rest_command(x, cmd, args, &call, &ret, &err);
    if (r < 0)
        return rest_send_api_error(x, r, &err, &call);
    return rest_send_json(x, MHD_HTTP_OK, ret, &call.generation);
}

static enum MHD_Result post_state_save(struct rest_ctx *x)
{
    return post_snapshot(x, "state-save");
}

static enum MHD_Result post_state_load(struct rest_ctx *x)
{
    return post_snapshot(x, "state-load");
}

static enum MHD_Result post_qmp(struct rest_ctx *x)
{
    enum MHD_Result res = MHD_NO;
    json_t *body = rest_body_json(x, &res), *ret = NULL, *reply, *args;
    struct api_call call = {0};
    struct error err = {0};
    const char *cmd;
    int r;

    if (!body)
        return res;
    if (api_qmp_envelope(body, &cmd, &args, &err) < 0) {
        cmd = NULL;
        reply = json_pack("{s:{s:s,s:s}}", "error", "class", error_class_name(err.cls), "desc",
                          err.desc);
    } else {
        r = rest_command(x, cmd, json_incref(args), &call, &ret, &err);
        if (r == -ESTALE) {
            json_decref(body);
            return rest_send_api_error(x, r, &err, &call);
        }
        if (r < 0)
            reply = json_pack("{s:{s:s,s:s}}", "error", "class", error_class_name(err.cls), "desc",
                              err.desc);
        else
            reply = json_pack("{s:o}", "return", ret);
    }
    if (json_object_get(body, "id"))
        json_object_set(reply, "id", json_object_get(body, "id"));
    json_decref(body);
    return rest_send_json(x, MHD_HTTP_OK, reply, cmd ? &call.generation : NULL);
}

/* The routes, in the order of api/schema/openapi.yaml's paths. */
static const struct rest_route routes[] = {
    {"/v1/openapi.json", .get = get_openapi},
    {"/v1/machine", .get = get_machine},
    {"/v1/machine/description", .get = get_machine_description},
    {"/v1/pci", .get = get_pci},
    {"/v1/pci/text", .get = get_pci_text},
    {"/v1/slots", .get = get_slots},
    {"/v1/buses", .get = get_buses},
    {"/v1/devices", .get = get_devices, .post = post_devices},
    {"/v1/devices/{id}", .get = get_device, .del = delete_device},
    {"/v1/devices/{id}/capabilities", .get = get_caps},
    {"/v1/devices/{id}/config", .get = get_config},
    {"/v1/state", .get = get_snapshots},
    {"/v1/state/save", .post = post_state_save},
    {"/v1/state/load", .post = post_state_load},
    {"/v1/events", .get = rest_get_events},
    {"/v1/qmp", .post = post_qmp},
    {"/metrics", .get = get_metrics},
};

_Static_assert(ARRAY_SIZE(routes) <= REST_MAX_ROUTES, "raise REST_MAX_ROUTES");

const struct rest_route *rest_route_at(size_t i)
{
    return i < ARRAY_SIZE(routes) ? &routes[i] : NULL;
}
