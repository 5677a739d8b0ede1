/* SPDX-License-Identifier: MIT */
/*
 * test-api-events.c — the event ring (api/events.c): ids in emission order, reads after an id,
 * the bound (API_EVENT_RING) and what a reader asking for lost events is told, waits that end
 * on an event, a timeout or a cancel; and the machine events the command layer turns into QMP
 * events (DEVICE_DELETED, DEVICE_UNPLUG_GUEST_ERROR with the device staying); the log's
 * device notes against persistence (a removal noted after the save, before DEVICE_DELETED).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "api/commands.h"
#include "tests/unit/unit.h"

struct env {
    struct machine *m;
    struct api *api;
};

static void env_free(void *p)
{
    struct env *e = p;

    api_free(e->api);
    machine_free(e->m);
    free(e);
}

static struct env *env_new(struct unit_fix *f)
{
    struct env *e = calloc(1, sizeof(*e));
    struct error err = {0};

    assert_non_null(e);
    assert_int_equal(machine_new("pc", &e->m, &err), 0);
    assert_int_equal(api_new(e->m, NULL, &e->api), 0);
    api_start(e->api);
    return unit_defer(f, env_free, e);
}

static void emit_resets(struct api *api, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        api_emit_event(api, "RESET", json_pack("{s:b,s:i}", "guest", 0, "n", i));
}

struct read_row {
    const char *name;
    unsigned emitted;
    uint64_t after;
    int max;
    int n;          /* events returned */
    uint64_t first; /* id of the first returned */
    bool lost;
    uint64_t oldest;
};

/* clang-format off */
static const struct read_row read_rows[] = {
    {"empty ring", 0, 0, 8, 0, 0, false, 0},
    {"all from 0", 5, 0, 8, 5, 1, false, 1},
    {"after 3", 5, 3, 8, 2, 4, false, 1},
    {"after the newest", 5, 5, 8, 0, 0, false, 1},
    {"beyond the newest is lost", 5, 9, 8, 0, 0, true, 1},
    {"max bounds a read", 5, 0, 2, 2, 1, false, 1},
    {"full ring, nothing lost", API_EVENT_RING, 0, 4, 4, 1, false, 1},
    {"one over: event 1 lost", API_EVENT_RING + 1, 0, 4, 4, 2, true, 2},
    {"over by 100, resume inside", API_EVENT_RING + 100, 200, 1, 1, 201, false, 101},
    {"over by 100, resume before", API_EVENT_RING + 100, 50, 1, 1, 101, true, 101},
};
/* clang-format on */

static void test_read(void **state)
{
    struct unit_fix *f = *state;
    const struct read_row *r = f->row;
    struct env *e = env_new(f);
    struct api_event_rec out[8];
    bool lost = !r->lost;
    uint64_t oldest = 99;
    int n;

    emit_resets(e->api, r->emitted);
    assert_int_equal(api_events_last_id(e->api), r->emitted);
    n = api_events_since(e->api, r->after, out, r->max, &lost, &oldest);
    assert_int_equal(n, r->n);
    assert_int_equal(lost, r->lost);
    assert_int_equal(oldest, r->oldest);
    for (int i = 0; i < n; i++) {
        json_t *ev = json_loads(out[i].json, 0, NULL);

        assert_int_equal(out[i].id, r->first + (uint64_t)i);
        assert_string_equal(out[i].name, "RESET");
        assert_null(out[i].path);
        assert_non_null(ev);
        /* The payload is the QMP event object: event, data, timestamp. */
        assert_string_equal(json_string_value(json_object_get(ev, "event")), "RESET");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "data"), "n")),
                         (json_int_t)(out[i].id - 1));
        assert_non_null(json_object_get(json_object_get(ev, "timestamp"), "microseconds"));
        json_decref(ev);
        api_event_rec_clear(&out[i]);
    }
}

struct waiter {
    struct api *api;
    uint64_t after;
    const int *cancel;
    bool ret;
};

static void *wait_thread(void *p)
{
    struct waiter *w = p;

    w->ret = api_events_wait(w->api, w->after, monotonic_ns() + 10000000000ull, w->cancel);
    return NULL;
}

static void test_wait(void **state)
{
    struct unit_fix *f = *state;
    struct env *e = env_new(f);
    int cancel = 0;
    struct waiter w = {e->api, 0, &cancel, false};
    uint64_t t0 = monotonic_ns();
    pthread_t t;

    /* A timeout: false, after the deadline. */
    assert_false(api_events_wait(e->api, 0, t0 + 20000000, NULL));
    assert_true(monotonic_ns() - t0 >= 20000000);
    /* An event wakes a waiter: true. */
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    emit_resets(e->api, 1);
    pthread_join(t, NULL);
    assert_true(w.ret);
    /* Already newer: returns at once. */
    assert_true(api_events_wait(e->api, 0, 0, NULL));
    /* A cancel wakes it: false. */
    w.after = 1;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    __atomic_store_n(&cancel, 1, __ATOMIC_RELEASE);
    api_events_kick(e->api);
    pthread_join(t, NULL);
    assert_false(w.ret);
}

static void test_machine_events(void **state)
{
    struct unit_fix *f = *state;
    struct env *e = env_new(f);
    json_t *args = json_pack("{s:s,s:s,s:s}", "driver", "e1000", "id", "n1", "addr", "5");
    json_t *ret = NULL;
    struct error err = {0};
    struct api_event_rec out[4];
    struct machine_dev *md;
    bool lost;
    uint64_t oldest, gen;

    assert_int_equal(api_execute(e->api, "device_add", args, &ret, &err), 0);
    json_decref(ret);
    json_decref(args);
    args = json_pack("{s:s}", "id", "n1");
    assert_int_equal(api_execute(e->api, "device_del", args, &ret, &err), 0);
    json_decref(ret);
    md = machine_find_device(e->m, "n1");
    assert_true(md->pci->unplug_pending);
    gen = e->m->generation;
    /* The guest refuses: the request is withdrawn, the device stays. */
    machine_lock(e->m);
    machine_unplug_refused(e->m, md->pci->bus, 5);
    machine_unplug_refused(e->m, md->pci->bus, 6); /* nothing pending there: nothing */
    machine_unlock(e->m);
    assert_false(md->pci->unplug_pending);
    assert_int_equal(e->m->generation, gen + 1);
    /* Asked again, then a reset completes it. */
    assert_int_equal(api_execute(e->api, "device_del", args, &ret, &err), 0);
    json_decref(ret);
    json_decref(args);
    args = NULL;
    assert_int_equal(api_execute(e->api, "system_reset", args, &ret, &err), 0);
    json_decref(ret);
    assert_null(machine_find_device(e->m, "n1"));

    assert_int_equal(api_events_since(e->api, 0, out, 4, &lost, &oldest), 4);
    assert_string_equal(out[0].name, "PCI_DEVICE_ADDED");
    assert_string_equal(out[1].name, "DEVICE_UNPLUG_GUEST_ERROR");
    assert_string_equal(out[1].path, "/machine/peripheral/n1");
    assert_non_null(strstr(out[1].json, "\"device\":\"n1\""));
    assert_string_equal(out[2].name, "RESET");
    assert_string_equal(out[3].name, "DEVICE_DELETED");
    assert_string_equal(out[3].path, "/machine/peripheral/n1");
    for (int i = 0; i < 4; i++)
        api_event_rec_clear(&out[i]);
}

/* What happened, in order: the persist hook, the log notes, the events. */
struct trace {
    char lines[16][128];
    int n;
    uint64_t saved_gen; /* config_gen at the last save, as state.c's hook skips a repeat */
};

static void trace_add(struct trace *t, const char *line)
{
    assert_true(t->n < 16);
    snprintf(t->lines[t->n++], sizeof(t->lines[0]), "%s", line);
}

static int trace_persist(void *opaque, struct machine *m, struct error *err)
{
    struct trace *t = opaque;
    char line[128];

    (void)err;
    if (m->config_gen == t->saved_gen)
        return 0;
    t->saved_gen = m->config_gen;
    /* What is saved: the machine as it is now. */
    snprintf(line, sizeof(line), "saved, n1 %s", machine_find_device(m, "n1") ? "in" : "out");
    trace_add(t, line);
    return 0;
}

static void trace_note(void *opaque, const struct api_device_note *n)
{
    struct trace *t = opaque;
    char line[128];

    snprintf(line, sizeof(line), "%s %s %s %s %s", n->added ? "added" : "removed",
             n->id ? n->id : "-", n->bdf, n->driver, n->hotplug ? "hot" : "cold");
    trace_add(t, line);
}

static void trace_event(void *opaque, json_t *event)
{
    trace_add(opaque, json_string_value(json_object_get(event, "event")));
}

/*
 * The log's device notes (api_options.device_note, what journald gets) against persistence:
 * an addition is noted when it happens (cold before api_start, hot after); a removal is noted
 * only once the description was saved without the device, right before its DEVICE_DELETED.
 */
static void test_device_notes(void **state)
{
    struct unit_fix *f = *state;
    struct trace *t = unit_defer(f, free, calloc(1, sizeof(struct trace)));
    struct env *e = calloc(1, sizeof(*e));
    json_t *args, *ret = NULL;
    struct error err = {0};

    assert_non_null(t);
    assert_non_null(e);
    unit_defer(f, env_free, e);
    assert_int_equal(machine_new("pc", &e->m, &err), 0);
    assert_int_equal(
        api_new(e->m, &(struct api_options){.device_note = trace_note, .device_note_opaque = t},
                &e->api),
        0);
    machine_lock(e->m);
    assert_int_equal(api_device_add_spec(e->api, "e1000,id=cold,addr=4", false, &err), 0);
    machine_unlock(e->m);
    api_start(e->api);
    e->m->persist = (struct machine_persist){.sync = trace_persist, .opaque = t};
    assert_true(api_add_listener(e->api, trace_event, t) >= 0);

    args = json_pack("{s:s,s:s,s:s}", "driver", "virtio-net-pci", "id", "n1", "addr", "6");
    assert_int_equal(api_execute(e->api, "device_add", args, &ret, &err), 0);
    json_decref(ret);
    json_decref(args);
    args = json_pack("{s:s}", "id", "n1");
    assert_int_equal(api_execute(e->api, "device_del", args, &ret, &err), 0);
    json_decref(ret);
    json_decref(args);
    assert_int_equal(api_execute(e->api, "system_reset", NULL, &ret, &err), 0);
    json_decref(ret);

    static const char *const want[] = {
        "added cold 0000:00:04.0 e1000 cold",
        "PCI_DEVICE_ADDED",
        "added n1 0000:00:06.0 virtio-net-pci hot",
        "saved, n1 in",
        "RESET",
        "saved, n1 out",
        "DEVICE_DELETED", /* the virtio-backend child */
        "removed n1 0000:00:06.0 virtio-net-pci hot",
        "DEVICE_DELETED",
    };
    /* The cold-plugged device's event came before the listener; its note is in the trace. */
    assert_int_equal(t->n, (int)ARRAY_SIZE(want));
    for (size_t i = 0; i < ARRAY_SIZE(want); i++)
        assert_string_equal(t->lines[i], want[i]);
    e->m->persist = (struct machine_persist){0};
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"once"}}, notes[] = {{"added, saved, removed"}};

    UNIT_ROWS_FIX(&s, read_rows, test_read);
    UNIT_ROWS_FIX(&s, one, test_wait);
    UNIT_ROWS_FIX(&s, one, test_machine_events);
    UNIT_ROWS_FIX(&s, notes, test_device_notes);
    return unit_run(&s, "api-events");
}
