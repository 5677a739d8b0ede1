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
 *
 * Slow clients. libmicrohttpd's own timeout only measures inactivity, which a client trickling
 * a byte at a time never reaches, and it tells us nothing between a request's first byte and
 * its request line. So each connection carries a deadline that a watchdog thread enforces by
 * shutting the socket down (MHD's thread then sees the end of the stream and closes it):
 *   - waiting (just accepted, or the previous response done): the request line must arrive
 *     within rest-idle-seconds — counted as rest-idle-seconds. This is also what closes an
 *     idle keep-alive connection, and a client trickling its request line;
 *   - request (from the request line, MHD_OPTION_URI_LOG_CALLBACK): headers and body must be
 *     complete within rest-request-seconds — counted as rest-request-seconds;
 *   - responding (a response queued): no deadline of ours; MHD's inactivity timeout,
 *     REST_STALL_TIMEOUT_S, drops a client that stops reading (not counted: not a request
 *     limit). MHD's timeout is off in the other two phases, so only ours applies there.
 * So a slowloris client holds a slot at most rest-idle-seconds + rest-request-seconds. The
 * watchdog sleeps until the earliest deadline; closing is within milliseconds of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "../../api/metrics.h"
#include "../limit.h"
#include "internal.h"

#define NSEC 1000000000ULL

/* Close every connection past its deadline; returns the earliest deadline left (0: none).
 * Under cs->lock. */
static uint64_t cut_late(struct rest_conns *cs, uint64_t now)
{
    uint64_t next = 0;

    for (struct rest_conn *rc = cs->head; rc; rc = rc->next) {
        if (!rc->deadline || rc->cut)
            continue;
        if (rc->deadline <= now) {
            rc->cut = true;
            api_metrics_reject((enum api_reject)rc->reason);
            if (rc->fd >= 0)
                shutdown(rc->fd, SHUT_RDWR); /* the socket is open while rc is linked */
        } else if (!next || rc->deadline < next) {
            next = rc->deadline;
        }
    }
    return next;
}

static void *watchdog(void *opaque)
{
    struct rest_conns *cs = opaque;

    pthread_mutex_lock(&cs->lock);
    while (!cs->stop) {
        uint64_t next = cut_late(cs, monotonic_ns());

        if (!next) {
            pthread_cond_wait(&cs->wake, &cs->lock);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(next / NSEC), .tv_nsec = (long)(next % NSEC)};
            pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
        }
    }
    pthread_mutex_unlock(&cs->lock);
    return NULL;
}

int rest_conns_init(struct rest_conns *cs)
{
    pthread_condattr_t ca;
    int r;

    cs->head = NULL;
    cs->n = 0;
    cs->stop = false;
    cs->running = false;
    pthread_mutex_init(&cs->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cs->wake, &ca);
    pthread_condattr_destroy(&ca);
    r = pthread_create(&cs->watchdog, NULL, watchdog, cs);
    if (r) {
        pthread_cond_destroy(&cs->wake);
        pthread_mutex_destroy(&cs->lock);
        return -r;
    }
    cs->running = true;
    return 0;
}

void rest_conns_fini(struct rest_conns *cs)
{
    if (cs->running) {
        pthread_mutex_lock(&cs->lock);
        cs->stop = true;
        pthread_cond_signal(&cs->wake);
        pthread_mutex_unlock(&cs->lock);
        pthread_join(cs->watchdog, NULL);
        cs->running = false;
    }
    pthread_cond_destroy(&cs->wake);
    pthread_mutex_destroy(&cs->lock);
}

static struct rest_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* Give `rc` a deadline `seconds` from now (0: none), counted as `reason`; wake the watchdog. */
static void set_deadline(struct rest_conn *rc, uint64_t seconds, enum api_reject reason)
{
    pthread_mutex_lock(&rc->cs->lock);
    rc->deadline = seconds ? monotonic_ns() + seconds * NSEC : 0;
    rc->reason = (int)reason;
    if (seconds)
        pthread_cond_signal(&rc->cs->wake);
    pthread_mutex_unlock(&rc->cs->lock);
}

void *rest_conn_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct rest_conn *rc = conn_of(c);

    (void)cls;
    (void)uri;
    if (rc)
        set_deadline(rc, limit_get(LIMIT_REST_REQUEST_SECONDS), API_REJECT_REST_REQUEST_SECONDS);
    return NULL;
}

void rest_conn_responding(struct MHD_Connection *c)
{
    struct rest_conn *rc = conn_of(c);

    if (rc)
        set_deadline(rc, 0, API_REJECT_REST_REQUEST_SECONDS);
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)REST_STALL_TIMEOUT_S);
}

void rest_conn_waiting(struct MHD_Connection *c)
{
    struct rest_conn *rc = conn_of(c);

    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0U); /* ours, not MHD's */
    if (rc)
        set_deadline(rc, limit_get(LIMIT_REST_IDLE_SECONDS), API_REJECT_REST_IDLE_SECONDS);
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
        rc->cs = &s->conns;
        rc->reason = API_REJECT_REST_IDLE_SECONDS;
        rc->deadline = monotonic_ns() + limit_get(LIMIT_REST_IDLE_SECONDS) * NSEC;
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0U); /* ours, not MHD's */
        pthread_mutex_lock(&s->conns.lock);
        rc->next = s->conns.head;
        if (rc->next)
            rc->next->prev = rc;
        s->conns.head = rc;
        s->conns.n++;
        pthread_cond_signal(&s->conns.wake);
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
