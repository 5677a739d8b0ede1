/* SPDX-License-Identifier: MIT */
/*
 * rest.h — the REST front door: libmicrohttpd on listening sockets (TCP loopback and/or a unix
 * socket), routes under /v1 that call the command layer, JSON bodies, errors always as
 * {"error": {"class", "desc"}} (never HTML).
 *
 * Status codes: 200/201/202 success; 400 bad input (GenericError); 404 unknown device, command
 * or route; 405 method not allowed (with Allow); 409 conflict (occupied slot, duplicate id,
 * pending unplug, limit); 413 body over the rest-body-bytes limit; 415 POST body not JSON;
 * 500 internal.
 *
 * Threads: requests run on libmicrohttpd's threads and take the control lock through
 * api_execute(); nothing here touches the machine directly.
 */
#ifndef PCID_REST_H
#define PCID_REST_H

#include "../../api/commands.h"

#define REST_MAX_BODY        (1024 * 1024) /* request body limit, bytes (default; ../limit.h) */
#define REST_MAX_CONNECTIONS 64            /* per listening socket */
#define REST_IDLE_TIMEOUT_S  30            /* idle / slow client timeout */

struct rest_server;

/*
 * rest_server_new() - serve the REST API on the listening socket `fd` (ownership taken; TCP or
 * unix). Starts libmicrohttpd's thread. Returns 0 and *ret, or -errno.
 */
int rest_server_new(struct api *api, int fd, struct rest_server **ret);

/* rest_server_free() - stop the threads, close the socket. NULL is fine. */
void rest_server_free(struct rest_server *s);

#endif
