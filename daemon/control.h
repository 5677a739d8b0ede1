/* SPDX-License-Identifier: MIT */
/*
 * control.h — the control thread: an sd-event loop that owns the QMP sockets, signals and
 * timers, and delivers events.
 *
 * Events raised anywhere (a QMP command on this thread, a REST request on a libmicrohttpd
 * thread) are queued by the api listener installed here and delivered on this thread, after
 * the reply of the request that raised them, to every subscriber (QMP clients, REST event
 * streams). Subscribers are called on the control thread only.
 *
 * Threads: control_new/run/free on the main thread; control_post_event() from any thread.
 */
#ifndef PCID_CONTROL_H
#define PCID_CONTROL_H

#include <jansson.h>
#include <systemd/sd-event.h>

#include "../api/commands.h"

struct control;

/* Called on the control thread with each event object (borrowed reference). */
typedef void (*control_event_fn)(void *opaque, json_t *event);

/*
 * control_new() - an event loop over `api`: installs the api event listener and SIGTERM /
 * SIGINT handlers (blocked for other threads first). SIGHUP is blocked too, for service.c's
 * reload handler (without one it is ignored). Returns 0 and *ret or -errno.
 */
int control_new(struct api *api, struct control **ret);
void control_free(struct control *c);

sd_event *control_event(struct control *c);
struct api *control_api(struct control *c);

/* control_subscribe() - deliver events to fn; returns a handle >= 0 or -ENOSPC. */
int control_subscribe(struct control *c, control_event_fn fn, void *opaque);
void control_unsubscribe(struct control *c, int handle);

/*
 * control_post() - run fn(arg) on the control thread soon. Lock-free: safe from a vCPU thread
 * (which must not wait on the control plane). Returns 0 or -ENOMEM.
 */
int control_post(struct control *c, void (*fn)(void *arg), void *arg);

/*
 * control_flush_posted() - run what control_post() queued so far, now, on the calling thread
 * (the main thread at shutdown, once the threads that post have stopped, while what the work
 * refers to still exists).
 */
void control_flush_posted(struct control *c);

/*
 * control_add_wakeup() - an eventfd whose every write makes the control thread call
 * fn(opaque) (once per wakeup, however many writes). *fd receives it; writing it is safe from
 * any thread. Returns 0 or -errno. control_remove_wakeup() closes it.
 */
int control_add_wakeup(struct control *c, void (*fn)(void *opaque), void *opaque, int *fd);
void control_remove_wakeup(struct control *c, int fd);

/* control_run() - run until SIGTERM/SIGINT or control_exit(); returns 0 or -errno. */
int control_run(struct control *c);
void control_exit(struct control *c, int code);

#endif
