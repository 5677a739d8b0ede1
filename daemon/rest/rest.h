/* SPDX-License-Identifier: MIT */
/*
 * rest.h — the REST front door: libmicrohttpd on listening sockets (TCP loopback and/or a unix
 * socket), routes under /v1 that call the command layer, JSON bodies, errors always as
 * {"error": {"class", "desc"}} (never HTML). The routes and their bodies are described by
 * api/schema/openapi.yaml, served as GET /v1/openapi.json; GET /metrics is Prometheus text.
 *
 * Status codes: 200/201/202 success; 400 bad input (GenericError); 401 a TCP request without the
 * configured bearer token (../auth.h; WWW-Authenticate: Bearer); 404 unknown device, command,
 * route or snapshot; 405 method not allowed (with Allow); 409 conflict (occupied slot, duplicate
 * id, pending unplug, limit, the guest refused a removal, a snapshot that does not fit the
 * machine); 412 If-Match does not name the current generation; 413 body over the
 * rest-body-bytes limit (REST_MAX_BODY unless configured, ../limit.h); 415 POST body not
 * application/json; 500 internal (also: a change made but not saved).
 *
 * Persistence routes: GET /v1/machine/description (query-machine-description), GET /v1/state
 * (query-state-snapshots), POST /v1/state/save and /v1/state/load with {"name": NAME}
 * (If-Match honoured like every POST).
 *
 * Generations: every read of machine state carries ETag: "<generation>", the machine's
 * topology generation at the time of the read (bumped by every add, removal, unplug request
 * and refusal; guest-programmed registers such as BAR addresses change without it). POST and
 * DELETE honour If-Match: the command runs only if one of the listed strong tags is the
 * current generation ("*" matches any), checked under the control lock with the command.
 *
 * Events: GET /v1/events streams Server-Sent Events: `id: N`, `event: NAME`, `data:` the QMP
 * event object (as QMP sends it). A client resumes with Last-Event-ID: N (0 = everything
 * kept); the last API_EVENT_RING events are kept; when some of those a client asks for are
 * gone it first gets `event: events-lost` (no id) and then everything still kept.
 * `?follow=false` ends the stream once the kept events are sent. A comment line is sent every
 * REST_SSE_KEEPALIVE_S seconds.
 *
 * Connections (conn.c): at most rest-clients per listening socket (more are closed at accept);
 * a request must be complete rest-request-seconds after its request line, and a connection
 * waiting for a request gets rest-idle-seconds (../limit.h); each closure is counted.
 *
 * Threads: one libmicrohttpd thread per connection (so a blocking request, an event stream or
 * DELETE ?wait=, holds up no one else); requests take the control lock through api_call();
 * nothing here touches the machine directly.
 */
#ifndef PCID_REST_H
#define PCID_REST_H

#include "../../api/commands.h"

/* clang-format off */
#define REST_MAX_BODY            (1024 * 1024) /* request body, bytes (default; ../limit.h) */
#define REST_MAX_CONNECTIONS     64   /* per listening socket, event streams included (default) */
#define REST_MAX_CONNECTIONS_CAP 1024 /* the most rest-clients may be set to */
#define REST_IDLE_TIMEOUT_S      30   /* waiting for a request (default; ../limit.h) */
#define REST_REQUEST_TIMEOUT_S   30   /* request line to complete request (default) */
#define REST_STALL_TIMEOUT_S     30   /* a response the client does not read: dropped */
/* clang-format on */
#define REST_MAX_WAIT_S      60 /* DELETE ?wait= limit, seconds */
#define REST_SSE_KEEPALIVE_S 15 /* comment line on an idle event stream */

struct rest_server;

/*
 * rest_server_new() - serve the REST API on the listening socket `fd` (ownership taken; TCP or
 * unix). Starts libmicrohttpd's threads. Returns 0 and *ret, or -errno.
 */
int rest_server_new(struct api *api, int fd, struct rest_server **ret);

/*
 * rest_server_free() - end event streams and waits, stop the threads, close the socket. The
 * listening socket is closed, never shut down: it may be systemd's, which keeps listening for
 * the next start (MHD_USE_ITC wakes MHD's threads instead). NULL is fine.
 */
void rest_server_free(struct rest_server *s);

#endif
