/* SPDX-License-Identifier: MIT */
/*
 * qtest.c — the access socket (see qtest.h).
 */
#include "qtest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vcpu_internal.h"

struct qtest_conn {
    struct qtest_server *srv;
    struct vcpu *v;
    int fd;
    char in[QTEST_MAX_LINE + 1];
    size_t in_len;
    bool overlong; /* discarding the rest of an overlong line */
    char *out;
    size_t out_len, out_cap;
    bool intercept;
    bool dead;
    struct qtest_conn *next; /* in the server's list */
};

struct qtest_server {
    struct vcpus *vs;
    int fd;
    unsigned next_cpu;
    unsigned clients;     /* atomic */
    pthread_mutex_t lock; /* guards conns (accept and close only, never the access path) */
    struct qtest_conn *conns;
};

static void conn_link(struct qtest_server *s, struct qtest_conn *c, bool add)
{
    pthread_mutex_lock(&s->lock);
    if (add) {
        c->next = s->conns;
        s->conns = c;
    } else {
        for (struct qtest_conn **pp = &s->conns; *pp; pp = &(*pp)->next) {
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static int parse_num(const char *s, uint64_t *out)
{
    char *end;

    if (!s || !*s)
        return -EINVAL;
    errno = 0;
    *out = strtoull(s, &end, 0);
    return errno || *end ? -EINVAL : 0;
}

static unsigned size_of(char c)
{
    switch (c) {
    case 'b':
        return 1;
    case 'w':
        return 2;
    case 'l':
        return 4;
    case 'q':
        return 8;
    }
    return 0;
}

size_t qtest_line(struct vcpu *v, const char *line, char *out, size_t len, bool *intercept)
{
    char buf[QTEST_MAX_LINE + 1], *words[4] = {0}, *save = NULL;
    unsigned nw = 0, sz;
    uint64_t addr, val;

    snprintf(buf, sizeof(buf), "%s", line);
    for (char *w = strtok_r(buf, " \t\r", &save); w && nw < 4; w = strtok_r(NULL, " \t\r", &save))
        words[nw++] = w;
    if (!nw)
        return (size_t)snprintf(out, len, "FAIL empty line\n");

#define NEED(n)                                                                                    \
    do {                                                                                           \
        if (nw != (n))                                                                             \
            return (size_t)snprintf(out, len, "FAIL %s takes %d argument%s\n", words[0], (n)-1,    \
                                    (n) == 2 ? "" : "s");                                          \
    } while (0)

    if (strncmp(words[0], "out", 3) == 0 && (sz = size_of(words[0][3])) && sz <= 4 &&
        !words[0][4]) {
        NEED(3);
        if (parse_num(words[1], &addr) < 0 || addr > 0xffff || parse_num(words[2], &val) < 0)
            return (size_t)snprintf(out, len, "FAIL bad port or value\n");
        vcpu_out(v, (uint16_t)addr, val, sz);
        return (size_t)snprintf(out, len, "OK\n");
    }
    if (strncmp(words[0], "in", 2) == 0 && (sz = size_of(words[0][2])) && sz <= 4 && !words[0][3]) {
        NEED(2);
        if (parse_num(words[1], &addr) < 0 || addr > 0xffff)
            return (size_t)snprintf(out, len, "FAIL bad port\n");
        return (size_t)snprintf(out, len, "OK 0x%04" PRIx64 "\n", vcpu_in(v, (uint16_t)addr, sz));
    }
    if (strncmp(words[0], "read", 4) == 0 && (sz = size_of(words[0][4])) && !words[0][5]) {
        NEED(2);
        if (parse_num(words[1], &addr) < 0)
            return (size_t)snprintf(out, len, "FAIL bad address\n");
        return (size_t)snprintf(out, len, "OK 0x%016" PRIx64 "\n", vcpu_read(v, addr, sz));
    }
    if (strncmp(words[0], "write", 5) == 0 && (sz = size_of(words[0][5])) && !words[0][6]) {
        NEED(3);
        if (parse_num(words[1], &addr) < 0 || parse_num(words[2], &val) < 0)
            return (size_t)snprintf(out, len, "FAIL bad address or value\n");
        vcpu_write(v, addr, val, sz);
        return (size_t)snprintf(out, len, "OK\n");
    }
    if (streq(words[0], "irq_intercept_in") || streq(words[0], "irq_intercept_out")) {
        NEED(2);
        if (intercept)
            *intercept = true;
        return (size_t)snprintf(out, len, "OK\n");
    }
    if (streq(words[0], "endianness")) {
        NEED(1);
        return (size_t)snprintf(out, len, "OK little\n");
    }
#undef NEED
    return (size_t)snprintf(out, len, "FAIL Unknown command '%s'\n", words[0]);
}

static void conn_send(struct qtest_conn *c, const char *text, size_t len)
{
    if (c->out_len + len > QTEST_MAX_OUTPUT) {
        c->dead = true; /* a client that does not read is dropped */
        return;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = MAX(c->out_cap * 2, c->out_len + len + 256);
        char *o = realloc(c->out, cap);
        if (!o) {
            c->dead = true;
            return;
        }
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, text, len);
    c->out_len += len;
}

static void conn_flush(struct qtest_conn *c)
{
    while (c->out_len && !c->dead) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                c->dead = true;
            break;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
}

static void conn_on_irq(struct vcpu *v, const struct vcpu_irq *irq, void *arg)
{
    struct qtest_conn *c = arg;
    char line[64];
    int n;

    (void)v;
    if (!c->intercept || c->dead || irq->kind != VCPU_IRQ_LINE)
        return;
    n = snprintf(line, sizeof(line), "IRQ %s %u\n", irq->level ? "raise" : "lower", irq->gsi);
    conn_send(c, line, (size_t)n);
    conn_flush(c);
}

static void conn_close(struct vcpu *v, struct qtest_conn *c)
{
    vcpu_remove_irq_handler(v, conn_on_irq, c);
    vcpu_unwatch_fd(v, c->fd);
    close(c->fd);
    conn_link(c->srv, c, false);
    __atomic_fetch_sub(&c->srv->clients, 1, __ATOMIC_RELAXED);
    free(c->out);
    /* The irq handler table may still be read this round: free after a grace period. */
    vcpus_defer(v->vs, free, c);
}

static void conn_process(struct qtest_conn *c)
{
    char *nl;

    while (!c->dead && (nl = memchr(c->in, '\n', c->in_len))) {
        char reply[QTEST_MAX_LINE + 64];
        size_t n;

        *nl = 0;
        if (c->overlong) {
            c->overlong = false;
            n = (size_t)snprintf(reply, sizeof(reply), "FAIL line longer than %d bytes\n",
                                 QTEST_MAX_LINE);
        } else {
            n = qtest_line(c->v, c->in, reply, sizeof(reply), &c->intercept);
            /* Interrupts this access raised are reported before its reply, as QEMU does. */
            vcpu_run_irqs(c->v);
        }
        conn_send(c, reply, MIN(n, sizeof(reply) - 1));
        c->in_len -= (size_t)(nl + 1 - c->in);
        memmove(c->in, nl + 1, c->in_len);
        vcpu_quiescent(c->v);
    }
    if (c->in_len == QTEST_MAX_LINE) { /* no newline in a full buffer */
        c->in_len = 0;
        c->overlong = true;
    }
}

static void conn_io(struct vcpu *v, int fd, uint32_t events, void *arg)
{
    struct qtest_conn *c = arg;

    if (events & EPOLLIN) {
        ssize_t n = recv(fd, c->in + c->in_len, QTEST_MAX_LINE - c->in_len, MSG_DONTWAIT);

        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            c->dead = true;
        else if (n > 0) {
            c->in_len += (size_t)n;
            conn_process(c);
        }
    } else if (events & (EPOLLHUP | EPOLLERR)) {
        c->dead = true;
    }
    conn_flush(c);
    if (c->dead)
        conn_close(v, c);
}

static void conn_adopt(struct vcpu *v, void *arg)
{
    struct qtest_conn *c = arg;

    c->v = v;
    if (vcpu_watch_fd(v, c->fd, EPOLLIN | EPOLLRDHUP, conn_io, c) < 0 ||
        vcpu_add_irq_handler(v, conn_on_irq, c) < 0) {
        vcpu_unwatch_fd(v, c->fd);
        close(c->fd);
        __atomic_fetch_sub(&c->srv->clients, 1, __ATOMIC_RELAXED);
        free(c);
        return;
    }
    conn_link(c->srv, c, true);
}

static void on_accept(struct vcpu *v, int fd, uint32_t events, void *arg)
{
    struct qtest_server *s = arg;
    struct qtest_conn *c;
    int cfd;

    (void)v;
    (void)events;
    cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return;
    if (__atomic_load_n(&s->clients, __ATOMIC_RELAXED) >= QTEST_MAX_CLIENTS) {
        close(cfd);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(cfd);
        return;
    }
    c->srv = s;
    c->fd = cfd;
    __atomic_fetch_add(&s->clients, 1, __ATOMIC_RELAXED);
    if (vcpu_post(vcpus_get(s->vs, s->next_cpu++ % vcpus_count(s->vs)), conn_adopt, c) < 0) {
        close(cfd);
        __atomic_fetch_sub(&s->clients, 1, __ATOMIC_RELAXED);
        free(c);
    }
}

static void start_listen(struct vcpu *v, void *arg)
{
    struct qtest_server *s = arg;

    if (vcpu_watch_fd(v, s->fd, EPOLLIN, on_accept, s) < 0)
        close(s->fd);
}

int qtest_server_new(struct vcpus *vs, int fd, struct qtest_server **ret)
{
    struct qtest_server *s = calloc(1, sizeof(*s));

    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    s->vs = vs;
    s->fd = fd;
    pthread_mutex_init(&s->lock, NULL);
    if (vcpu_post(vcpus_get(vs, 0), start_listen, s) < 0) {
        close(fd);
        free(s);
        return -ENOMEM;
    }
    *ret = s;
    return 0;
}

void qtest_server_free(struct qtest_server *s)
{
    /* Called after the vCPUs stopped (vcpus_free): their watches are gone with them. */
    if (!s)
        return;
    while (s->conns) {
        struct qtest_conn *c = s->conns;
        s->conns = c->next;
        close(c->fd);
        free(c->out);
        free(c);
    }
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
