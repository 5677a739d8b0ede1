/* SPDX-License-Identifier: MIT */
/*
 * qmp.h — the QMP server: a listening unix socket, one client state per connection, QEMU's
 * wire protocol (greeting, qmp_capabilities negotiation, JSON stream in, one reply or event per
 * line out, CRLF-terminated, request `id` echoed, QEMU's error classes).
 *
 * Transport only: every command is run through api_execute(). Runs on the control thread.
 * Limits (defaults here; the configured values come from ../limit.h): QMP_MAX_CLIENTS
 * connections per socket (more are closed at once), QMP_MAX_VALUE bytes per JSON value (larger
 * ones get an error reply and are skipped), QMP_MAX_OUTPUT bytes of unsent output per client (a
 * client that does not read is disconnected), QMP_VALUE_SECONDS for a JSON value to arrive
 * completely once its first byte has (a slow client gets an error reply and is disconnected;
 * an idle client with no value pending is never timed out).
 */
#ifndef PCID_MONITOR_QMP_H
#define PCID_MONITOR_QMP_H

#include "../control.h"

#define QMP_MAX_CLIENTS   64
#define QMP_MAX_VALUE     (1024 * 1024)
#define QMP_MAX_OUTPUT    (16 * 1024 * 1024)
#define QMP_VALUE_SECONDS 30

struct qmp_server;

/*
 * qmp_server_new() - serve QMP on the listening socket `fd` (ownership taken).
 * Returns 0 and *ret, or -errno.
 */
int qmp_server_new(struct control *c, int fd, struct qmp_server **ret);
void qmp_server_free(struct qmp_server *s);

/* Number of connected clients (for STATUS= and metrics). */
unsigned qmp_server_clients(const struct qmp_server *s);

#endif
