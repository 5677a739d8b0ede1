/* SPDX-License-Identifier: MIT */
/*
 * internal.h — what the REST files share: the server, one request's context, the route table
 * and the response helpers (rest.c), the handlers (routes.c), the event stream (sse.c).
 *
 * Every handler runs on the connection's own libmicrohttpd thread (thread per connection), so
 * it may block (DELETE ?wait=, the event stream) without holding up other clients. Handlers
 * never touch the machine: they call the command layer.
 */
#ifndef PCID_REST_INTERNAL_H
#define PCID_REST_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>

#include "rest.h"

struct rest_conns;

/* One open connection (conn.c), linked from STARTED to CLOSED; its socket stays open while
 * it is linked. */
struct rest_conn {
    struct rest_conn *prev, *next;
    int fd;            /* the connection's socket, or -1 */
    uint64_t deadline; /* CLOCK_MONOTONIC ns when the watchdog closes it; 0: none */
    int reason;        /* the enum api_reject counted when it does */
    bool cut;          /* closed by the watchdog (shut down, MHD not done with it yet) */
    struct rest_conns *cs;
};

/* The open connections of one REST socket (conn.c). */
struct rest_conns {
    pthread_mutex_t lock; /* guards everything here and in each rest_conn */
    pthread_cond_t wake;  /* a deadline was set, or stop */
    pthread_t watchdog;
    bool running, stop;
    struct rest_conn *head;
    unsigned n;
};

struct rest_server {
    struct MHD_Daemon *mhd;
    struct rest_conns conns;
    struct api *api;
    int fd;
    bool tcp;     /* a TCP listener: requests need the bearer token when one is set */
    int stopping; /* atomic: set before MHD stops, wakes blocked handlers */
};

/* A request's accumulated body. */
struct rest_body {
    char *data;
    size_t len;
    uint64_t limit; /* the body limit, taken at the first chunk (../limit.h) */
    bool too_big;
};

/* What a handler gets. */
struct rest_ctx {
    struct rest_server *s;
    struct MHD_Connection *c;
    const char *method; /* "GET" ("HEAD" is served as GET), "POST", "DELETE" */
    const char *param;  /* the {id} of the route, or NULL */
    struct rest_body *body;
    unsigned status; /* set by rest_queue(): the status sent */
};

typedef enum MHD_Result (*rest_handler)(struct rest_ctx *x);

#define REST_MAX_ROUTES 32 /* routes.c's table (request counters are sized by it) */

/* A route: an OpenAPI path template ("{id}" matches one segment) and a handler per method. */
struct rest_route {
    const char *path;
    rest_handler get, post, del;
};

/* ---- rest.c: responses ---- */

/* Queue `r` (destroyed here) with `status`; records the status for metrics. */
enum MHD_Result rest_queue(struct rest_ctx *x, unsigned status, struct MHD_Response *r);

/* Send `v` (stolen) as JSON; `etag` adds ETag: "<generation>" when non-NULL. */
enum MHD_Result rest_send_json(struct rest_ctx *x, unsigned status, json_t *v,
                               const uint64_t *etag);

/* Send malloc'd `text` (stolen) with content type `type`. */
enum MHD_Result rest_send_text(struct rest_ctx *x, unsigned status, const char *type, char *text,
                               const uint64_t *etag);

/* Send a shared text (the caller's reference is taken, dropped once the answer is sent) with
 * content type `type`, without copying it. */
enum MHD_Result rest_send_shared(struct rest_ctx *x, unsigned status, const char *type,
                                 struct api_text *text, const uint64_t *etag);

/* Send {"error": {"class", "desc"}} with `status`. */
enum MHD_Result rest_send_error(struct rest_ctx *x, unsigned status, const char *cls,
                                const char *fmt, ...) _printf_(4, 5);

/* Send a command layer error: 412 for -ESTALE (with the current ETag), else by class/kind. */
enum MHD_Result rest_send_api_error(struct rest_ctx *x, int r, const struct error *err,
                                    const struct api_call *call);

/*
 * rest_command() - run `name` with `args` (stolen; may be NULL) through api_call(). For POST
 * and DELETE the request's If-Match header becomes the precondition (412 on mismatch).
 * Returns api_call()'s result; *ret and `call` as api_call() leaves them.
 */
int rest_command(struct rest_ctx *x, const char *name, json_t *args, struct api_call *call,
                 json_t **ret, struct error *err);

/* Parse the body as a JSON object; NULL after sending 400/413/415 into *res. */
json_t *rest_body_json(struct rest_ctx *x, enum MHD_Result *res);

/* A query argument, or NULL. */
const char *rest_query(struct rest_ctx *x, const char *name);

/* ---- conn.c: connections ---- */

/* rest_conns_init() - an empty set and its watchdog thread. Returns 0 or -errno. */
int rest_conns_init(struct rest_conns *cs);

/* rest_conns_fini() - stop the watchdog; after MHD has stopped. */
void rest_conns_fini(struct rest_conns *cs);

/*
 * rest_conn_uri() - MHD_OPTION_URI_LOG_CALLBACK: the request line has arrived; the rest of the
 * request must within rest-request-seconds. Returns NULL (the request's context starts empty).
 * The connection's thread.
 */
void *rest_conn_uri(void *cls, const char *uri, struct MHD_Connection *c);

/* rest_conn_responding() - a response is queued for `c`: no deadline of ours until it ends;
 * MHD drops a client that does not read it for REST_STALL_TIMEOUT_S. */
void rest_conn_responding(struct MHD_Connection *c);

/* rest_conn_waiting() - `c`'s request has ended: the next request line must arrive within
 * rest-idle-seconds. The connection's thread (MHD_OPTION_NOTIFY_COMPLETED). */
void rest_conn_waiting(struct MHD_Connection *c);

/*
 * rest_conn_accept() - MHD's accept policy (cls: the rest_server): MHD_NO, counted as a
 * rest-clients rejection, when the socket already has the configured number of connections
 * (LIMIT_REST_CLIENTS, read at each accept). MHD's listening thread.
 */
enum MHD_Result rest_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/*
 * rest_conn_notify() - MHD_OPTION_NOTIFY_CONNECTION (cls: the rest_server): STARTED links a
 * rest_conn as the connection's socket context (a connection that cannot be tracked is shut
 * down), CLOSED unlinks and frees it. MHD's listening thread.
 */
void rest_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);

/* ---- routes.c ---- */

/* The i-th route, or NULL past the end (for the dispatcher, metrics and tests). */
const struct rest_route *rest_route_at(size_t i);

/* ---- sse.c ---- */

/* GET /v1/events: Server-Sent Events (see rest.h). */
enum MHD_Result rest_get_events(struct rest_ctx *x);

/* The HTTP part of /metrics: requests by route, method and status. */
void rest_metrics_http(FILE *out);

#endif
