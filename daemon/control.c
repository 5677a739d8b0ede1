/* SPDX-License-Identifier: MIT */
#include "control.h"

#include "util/lfstack.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define CONTROL_MAX_SUBSCRIBERS 32
#define EVENT_QUEUE_MAX         4096 /* events waiting for the control thread */

#define CONTROL_MAX_WAKEUPS 8

struct posted {
    struct lf_node node;
    void (*fn)(void *);
    void *arg;
};

struct wakeup {
    int fd;
    sd_event_source *src;
    void (*fn)(void *);
    void *opaque;
};

struct control {
    sd_event *ev;
    struct lf_node *posted;
    int post_fd;
    struct wakeup wakeups[CONTROL_MAX_WAKEUPS];
    struct api *api;
    int listener;
    int efd;
    sd_event_source *efd_source;
    pthread_mutex_t qlock;
    json_t *queue; /* array of pending event objects */
    unsigned long dropped;
    struct {
        control_event_fn fn;
        void *opaque;
    } subs[CONTROL_MAX_SUBSCRIBERS];
};

/* api listener: any thread, possibly under the control lock — only queue and wake. */
static void on_api_event(void *opaque, json_t *event)
{
    struct control *c = opaque;
    uint64_t one = 1;

    /* The queue holds its own copy: the caller's object (and its reference count) never
     * crosses threads, so the hand-over is ordered by qlock alone. */
    json_t *copy = json_deep_copy(event);

    pthread_mutex_lock(&c->qlock);
    if (copy && json_array_size(c->queue) < EVENT_QUEUE_MAX)
        json_array_append_new(c->queue, copy);
    else {
        json_decref(copy);
        c->dropped++;
    }
    pthread_mutex_unlock(&c->qlock);
    if (write(c->efd, &one, sizeof(one)) < 0) {
        /* the counter is saturated: a wakeup is already pending */
    }
}

static int on_wakeup(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct control *c = userdata;
    uint64_t n;
    json_t *batch, *ev;
    size_t i;

    (void)s;
    (void)revents;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return 0;
    pthread_mutex_lock(&c->qlock);
    batch = c->queue;
    c->queue = json_array();
    pthread_mutex_unlock(&c->qlock);

    json_array_foreach(batch, i, ev) for (int k = 0; k < CONTROL_MAX_SUBSCRIBERS;
                                          k++) if (c->subs[k].fn) c->subs[k]
        .fn(c->subs[k].opaque, ev);
    json_decref(batch);
    return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    (void)si;
    (void)userdata;
    return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_wakeup_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct wakeup *w = userdata;
    uint64_t n;

    (void)s;
    (void)revents;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return 0;
    w->fn(w->opaque);
    return 0;
}

int control_add_wakeup(struct control *c, void (*fn)(void *opaque), void *opaque, int *fd)
{
    for (int i = 0; i < CONTROL_MAX_WAKEUPS; i++) {
        struct wakeup *w = &c->wakeups[i];
        int r;

        if (w->fn)
            continue;
        w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->fd < 0)
            return -errno;
        w->fn = fn;
        w->opaque = opaque;
        r = sd_event_add_io(c->ev, &w->src, w->fd, EPOLLIN, on_wakeup_fd, w);
        if (r < 0) {
            close(w->fd);
            w->fn = NULL;
            return r;
        }
        *fd = w->fd;
        return 0;
    }
    return -ENOSPC;
}

void control_remove_wakeup(struct control *c, int fd)
{
    for (int i = 0; i < CONTROL_MAX_WAKEUPS; i++) {
        struct wakeup *w = &c->wakeups[i];

        if (w->fn && w->fd == fd) {
            sd_event_source_disable_unref(w->src);
            close(w->fd);
            w->fn = NULL;
        }
    }
}

static void run_posted(void *opaque)
{
    struct control *c = opaque;
    struct lf_node *n = lf_take_fifo(&c->posted);

    while (n) {
        struct posted *p = container_of(n, struct posted, node);

        n = n->next;
        p->fn(p->arg);
        free(p);
    }
}

void control_flush_posted(struct control *c)
{
    run_posted(c);
}

int control_post(struct control *c, void (*fn)(void *arg), void *arg)
{
    struct posted *p = malloc(sizeof(*p));
    uint64_t one = 1;

    if (!p)
        return -ENOMEM;
    p->fn = fn;
    p->arg = arg;
    lf_push(&c->posted, &p->node);
    if (write(c->post_fd, &one, sizeof(one)) < 0) {
        /* saturated: a wakeup is pending */
    }
    return 0;
}

int control_new(struct api *api, struct control **ret)
{
    struct control *c = calloc(1, sizeof(*c));
    sigset_t mask;
    int r;

    if (!c)
        return -ENOMEM;
    c->api = api;
    c->efd = -1;
    c->listener = -1;
    pthread_mutex_init(&c->qlock, NULL);
    c->queue = json_array();

    r = sd_event_new(&c->ev);
    if (r < 0)
        goto fail;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP); /* handled by service.c (reload) when it runs */
    /* Blocked here, before any other thread exists, so every thread inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((r = sd_event_add_signal(c->ev, NULL, SIGTERM, on_signal, c)) < 0 ||
        (r = sd_event_add_signal(c->ev, NULL, SIGINT, on_signal, c)) < 0)
        goto fail;

    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->efd < 0) {
        r = -errno;
        goto fail;
    }
    r = sd_event_add_io(c->ev, &c->efd_source, c->efd, EPOLLIN, on_wakeup, c);
    if (r < 0)
        goto fail;
    r = control_add_wakeup(c, run_posted, c, &c->post_fd);
    if (r < 0)
        goto fail;
    c->listener = api_add_listener(api, on_api_event, c);
    if (c->listener < 0) {
        r = c->listener;
        goto fail;
    }
    *ret = c;
    return 0;
fail:
    control_free(c);
    return r;
}

void control_free(struct control *c)
{
    if (!c)
        return;
    if (c->listener >= 0)
        api_remove_listener(c->api, c->listener);
    if (c->ev)
        run_posted(c);
    for (int i = 0; i < CONTROL_MAX_WAKEUPS; i++)
        if (c->wakeups[i].fn)
            control_remove_wakeup(c, c->wakeups[i].fd);
    sd_event_source_unref(c->efd_source);
    if (c->efd >= 0)
        close(c->efd);
    sd_event_unref(c->ev);
    json_decref(c->queue);
    pthread_mutex_destroy(&c->qlock);
    free(c);
}

sd_event *control_event(struct control *c)
{
    return c->ev;
}

struct api *control_api(struct control *c)
{
    return c->api;
}

int control_subscribe(struct control *c, control_event_fn fn, void *opaque)
{
    for (int k = 0; k < CONTROL_MAX_SUBSCRIBERS; k++) {
        if (!c->subs[k].fn) {
            c->subs[k].fn = fn;
            c->subs[k].opaque = opaque;
            return k;
        }
    }
    return -ENOSPC;
}

void control_unsubscribe(struct control *c, int handle)
{
    if (handle >= 0 && handle < CONTROL_MAX_SUBSCRIBERS)
        c->subs[handle].fn = NULL;
}

int control_run(struct control *c)
{
    return sd_event_loop(c->ev);
}

void control_exit(struct control *c, int code)
{
    sd_event_exit(c->ev, code);
}
