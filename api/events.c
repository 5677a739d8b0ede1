/* SPDX-License-Identifier: MIT */
/*
 * events.c — the event ring: the last API_EVENT_RING events with their ids, for REST event
 * streams that start late or resume (Server-Sent Events' Last-Event-ID) and for requests that
 * wait for an outcome (DELETE ?wait=). Entries hold serialized text only, so no jansson object
 * is shared between threads. Appending happens where events are emitted (any thread, often
 * under the control lock); the ring has its own lock, never held while calling out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void api_event_rec_clear(struct api_event_rec *r)
{
    free(r->name);
    free(r->json);
    free(r->path);
    *r = (struct api_event_rec){0};
}

void api_events_init(struct api_events *ev)
{
    pthread_condattr_t ca;

    pthread_mutex_init(&ev->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ev->cond, &ca);
    pthread_condattr_destroy(&ca);
    ev->next = 1;
}

void api_events_fini(struct api_events *ev)
{
    for (size_t i = 0; i < API_EVENT_RING; i++)
        api_event_rec_clear(&ev->ring[i]);
    pthread_cond_destroy(&ev->cond);
    pthread_mutex_destroy(&ev->lock);
}

void api_events_append(struct api *api, const char *name, json_t *event)
{
    struct api_events *ev = &api->events;
    const char *path = json_string_value(json_object_get(json_object_get(event, "data"), "path"));
    struct api_event_rec rec = {
        .name = strdup(name),
        .json = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER),
        .path = path ? strdup(path) : NULL,
    };

    if (!rec.name || !rec.json || (path && !rec.path)) {
        api_event_rec_clear(&rec); /* out of memory: streams see a gap (their ids jump) */
        pthread_mutex_lock(&ev->lock);
        ev->next++;
        pthread_mutex_unlock(&ev->lock);
        return;
    }
    pthread_mutex_lock(&ev->lock);
    rec.id = ev->next++;
    api_event_rec_clear(&ev->ring[rec.id % API_EVENT_RING]);
    ev->ring[rec.id % API_EVENT_RING] = rec;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

uint64_t api_events_last_id(struct api *api)
{
    uint64_t id;

    pthread_mutex_lock(&api->events.lock);
    id = api->events.next - 1;
    pthread_mutex_unlock(&api->events.lock);
    return id;
}

int api_events_since(struct api *api, uint64_t after, struct api_event_rec *out, int max,
                     bool *lost, uint64_t *oldest)
{
    struct api_events *ev = &api->events;
    uint64_t newest, first;
    int n = 0;

    pthread_mutex_lock(&ev->lock);
    newest = ev->next - 1;
    first = newest >= API_EVENT_RING ? newest - API_EVENT_RING + 1 : 1;
    *oldest = newest ? first : 0;
    /* Gone if the next one wanted left the ring, or if `after` names an id not issued yet. */
    *lost = after > newest || (after + 1 < first);
    if (after + 1 < first)
        after = first - 1;
    for (uint64_t id = after + 1; id <= newest && n < max; id++) {
        const struct api_event_rec *r = &ev->ring[id % API_EVENT_RING];

        if (r->id != id)
            continue; /* lost to an allocation failure */
        out[n] = (struct api_event_rec){
            .id = id,
            .name = strdup(r->name),
            .json = strdup(r->json),
            .path = r->path ? strdup(r->path) : NULL,
        };
        if (!out[n].name || !out[n].json || (r->path && !out[n].path)) {
            api_event_rec_clear(&out[n]);
            while (n--)
                api_event_rec_clear(&out[n]);
            pthread_mutex_unlock(&ev->lock);
            return -ENOMEM;
        }
        n++;
    }
    pthread_mutex_unlock(&ev->lock);
    return n;
}

bool api_events_wait(struct api *api, uint64_t after, uint64_t deadline_ns, const int *cancel)
{
    struct api_events *ev = &api->events;
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000ull),
                          .tv_nsec = (long)(deadline_ns % 1000000000ull)};
    bool newer;
    int r = 0;

    pthread_mutex_lock(&ev->lock);
    while (ev->next - 1 <= after && !(cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE)) &&
           r != ETIMEDOUT)
        r = pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
    newer = ev->next - 1 > after;
    pthread_mutex_unlock(&ev->lock);
    return newer;
}

void api_events_kick(struct api *api)
{
    pthread_mutex_lock(&api->events.lock);
    pthread_cond_broadcast(&api->events.cond);
    pthread_mutex_unlock(&api->events.lock);
}
