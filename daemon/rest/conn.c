/* SPDX-License-Identifier: MIT */
/*
 * conn.c — the REST server's open connections (see internal.h): the per-socket limit
 * (rest-clients, ../limit.h), enforced here rather than by libmicrohttpd so that each refusal
 * is counted in pcid_limit_rejections_total{limit="rest-clients"}.
 *
 * libmicrohttpd calls the accept policy (rest_conn_accept) and then the STARTED notification
 * for each new connection on its listening thread, one connection at a time, and the CLOSED
 * notification before it closes the socket. A connection is counted from STARTED to CLOSED, so
 * the accept policy sees every connection that holds a thread and a socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "../../api/metrics.h"
#include "../limit.h"
#include "internal.h"

void rest_conns_init(struct rest_conns *cs)
{
    pthread_mutex_init(&cs->lock, NULL);
    cs->head = NULL;
    cs->n = 0;
}

void rest_conns_fini(struct rest_conns *cs)
{
    pthread_mutex_destroy(&cs->lock);
}

enum MHD_Result rest_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct rest_server *s = cls;
    bool ok;

    (void)addr;
    (void)addrlen;
    pthread_mutex_lock(&s->conns.lock);
    ok = s->conns.n < limit_get(LIMIT_REST_CLIENTS);
    pthread_mutex_unlock(&s->conns.lock);
    if (!ok)
        api_metrics_reject(API_REJECT_REST_CLIENTS);
    return ok ? MHD_YES : MHD_NO;
}

void rest_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code)
{
    struct rest_server *s = cls;
    struct rest_conn *rc = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

        rc = calloc(1, sizeof(*rc));
        if (!rc) {
            /* Not tracked, so not allowed: refuse it as the limit would. */
            if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
            return;
        }
        rc->fd = ci ? ci->connect_fd : -1;
        pthread_mutex_lock(&s->conns.lock);
        rc->next = s->conns.head;
        if (rc->next)
            rc->next->prev = rc;
        s->conns.head = rc;
        s->conns.n++;
        pthread_mutex_unlock(&s->conns.lock);
        *socket_context = rc;
        return;
    }
    if (!rc)
        return;
    pthread_mutex_lock(&s->conns.lock);
    if (rc->prev)
        rc->prev->next = rc->next;
    else
        s->conns.head = rc->next;
    if (rc->next)
        rc->next->prev = rc->prev;
    s->conns.n--;
    pthread_mutex_unlock(&s->conns.lock);
    free(rc);
    *socket_context = NULL;
}
