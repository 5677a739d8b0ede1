/* SPDX-License-Identifier: MIT */
/*
 * commands.c — the command table, QMP argument checking, and the commands that need nothing
 * but the machine's identity (versions, status, machines, reset).
 */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "internal.h"
#include "marshal.h"

enum api_arg_type { ARG_STR, ARG_INT, ARG_BOOL, ARG_OBJ, ARG_ARRAY, ARG_ANY };

struct api_arg {
    const char *name;
    enum api_arg_type type;
    bool optional;
};

struct api_command {
    const char *name;
    api_handler_fn fn;
    const struct api_arg *args; /* NULL: free-form (device_add) */
    bool no_lock;               /* runs without the control lock */
};

static int cmd_qmp_capabilities(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_commands(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_version(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_status(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_machines(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_system_reset(struct api *api, json_t *args, json_t **ret, struct error *err);

static const struct api_arg no_args[] = {{0}};
static const struct api_arg args_device_del[] = {{"id", ARG_STR, false}, {0}};
static const struct api_arg args_hmp[] = {
    {"command-line", ARG_STR, false}, {"cpu-index", ARG_INT, true}, {0}};
static const struct api_arg args_caps[] = {{"enable", ARG_ARRAY, true}, {0}};
static const struct api_arg args_id_bdf[] = {{"id", ARG_STR, true}, {"bdf", ARG_STR, true}, {0}};
static const struct api_arg args_blockdev_add[] = {
    {"driver", ARG_STR, false},      {"node-name", ARG_STR, true},  {"size", ARG_INT, true},
    {"read-zeroes", ARG_BOOL, true}, {"latency-ns", ARG_INT, true}, {0}};
static const struct api_arg args_blockdev_del[] = {{"node-name", ARG_STR, false}, {0}};
static const struct api_arg args_query_nodes[] = {{"flat", ARG_BOOL, true}, {0}};
static const struct api_arg args_typename[] = {{"typename", ARG_STR, false}, {0}};
static const struct api_arg args_query_pci_slots[] = {{"bus", ARG_STR, true}, {0}};

/* Sorted by name: query-commands lists them in this order. */
static const struct api_command commands[] = {
    {"blockdev-add", api_cmd_blockdev_add, args_blockdev_add},
    {"blockdev-del", api_cmd_blockdev_del, args_blockdev_del},
    {"device-list-properties", api_cmd_device_list_properties, args_typename},
    {"device_add", api_cmd_device_add, NULL},
    {"device_del", api_cmd_device_del, args_device_del},
    {"human-monitor-command", api_cmd_hmp, args_hmp},
    {"qmp_capabilities", cmd_qmp_capabilities, args_caps, true},
    {"query-commands", cmd_query_commands, no_args, true},
    {"query-machines", cmd_query_machines, no_args, true},
    {"query-named-block-nodes", api_cmd_query_block_nodes, args_query_nodes},
    {"query-pci", api_cmd_query_pci, no_args},
    {"query-pci-capabilities", api_cmd_query_pci_caps, args_id_bdf},
    {"query-pci-config", api_cmd_query_pci_config, args_id_bdf},
    {"query-pci-devices", api_cmd_query_pci_devices, args_id_bdf},
    {"query-pci-slots", api_cmd_query_pci_slots, args_query_pci_slots},
    {"query-status", cmd_query_status, no_args, true},
    {"query-version", cmd_query_version, no_args, true},
    {"system_reset", cmd_system_reset, no_args},
};

static const struct api_command *find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (streq(commands[i].name, name))
            return &commands[i];
    return NULL;
}

bool api_has_command(const char *name)
{
    return find_command(name) != NULL;
}

static const char *type_name(enum api_arg_type t)
{
    switch (t) {
    case ARG_STR:
        return "string";
    case ARG_INT:
        return "integer";
    case ARG_BOOL:
        return "boolean";
    case ARG_OBJ:
        return "object";
    case ARG_ARRAY:
        return "array";
    case ARG_ANY:
        break;
    }
    return "any";
}

static bool type_ok(enum api_arg_type t, json_t *v)
{
    switch (t) {
    case ARG_STR:
        return json_is_string(v);
    case ARG_INT:
        return json_is_integer(v);
    case ARG_BOOL:
        return json_is_boolean(v);
    case ARG_OBJ:
        return json_is_object(v);
    case ARG_ARRAY:
        return json_is_array(v);
    case ARG_ANY:
        return true;
    }
    return false;
}

/* QEMU's QAPI input visitor: members in schema order, then anything left over. */
static int check_args(const struct api_arg *spec, json_t *args, struct error *err)
{
    const char *key;
    json_t *v;

    for (const struct api_arg *a = spec; a->name; a++) {
        v = args ? json_object_get(args, a->name) : NULL;
        if (!v) {
            if (!a->optional)
                return error_invalid(err, "Parameter '%s' is missing", a->name);
            continue;
        }
        if (!type_ok(a->type, v))
            return error_invalid(err, "Invalid parameter type for '%s', expected: %s", a->name,
                                 type_name(a->type));
    }
    if (args) {
        json_object_foreach(args, key, v)
        {
            bool known = false;
            for (const struct api_arg *a = spec; a->name && !known; a++)
                known = streq(a->name, key);
            if (!known)
                return error_invalid(err, "Parameter '%s' is unexpected", key);
        }
    }
    return 0;
}

struct machine *api_machine(struct api *api)
{
    return api->m;
}

int api_execute(struct api *api, const char *name, json_t *args, json_t **ret, struct error *err)
{
    const struct api_command *c = find_command(name);
    int r;

    *ret = NULL;
    if (!c) {
        r = error_setf(err, ERROR_CLASS_COMMAND_NOT_FOUND, ERROR_KIND_INVALID,
                       "The command %s has not been found", name);
        goto out;
    }
    if (args && !json_is_object(args)) {
        r = error_invalid(err, "QMP input member 'arguments' must be an object");
        goto out;
    }
    if (c->args) {
        r = check_args(c->args, args, err);
        if (r < 0)
            goto out;
    }
    if (!c->no_lock)
        machine_lock(api->m);
    r = c->fn(api, args, ret, err);
    if (!c->no_lock)
        machine_unlock(api->m);
    if (r >= 0 && !*ret)
        *ret = json_object();
out:
    pthread_mutex_lock(&api->stats_lock);
    api->stats.commands++;
    if (r < 0)
        api->stats.failures++;
    pthread_mutex_unlock(&api->stats_lock);
    if (r < 0 && !error_is_set(err))
        error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "%s failed: %s", name,
                   strerror(-r));
    return r < 0 ? r : 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void api_start(struct api *api)
{
    machine_lock(api->m);
    machine_start(api->m);
    if (api->opts.guest_running)
        api->started_ns = mono_ns();
    machine_unlock(api->m);
}

uint64_t api_virtual_ms(const struct api *api)
{
    return api->started_ns ? (mono_ns() - api->started_ns) / 1000000ULL : 0;
}

void api_get_stats(struct api *api, struct api_stats *out)
{
    pthread_mutex_lock(&api->stats_lock);
    *out = api->stats;
    pthread_mutex_unlock(&api->stats_lock);
}

/* ---- events ---- */

void api_emit_event(struct api *api, const char *name, json_t *data)
{
    struct timeval tv;
    json_t *ev;

    gettimeofday(&tv, NULL);
    ev = json_pack("{s:{s:I,s:I},s:s}", "timestamp", "seconds", (json_int_t)tv.tv_sec,
                   "microseconds", (json_int_t)tv.tv_usec, "event", name);
    if (!ev) {
        json_decref(data);
        return;
    }
    if (data)
        json_object_set_new(ev, "data", data);
    pthread_mutex_lock(&api->listeners_lock);
    for (int i = 0; i < API_MAX_LISTENERS; i++)
        if (api->listeners[i].fn)
            api->listeners[i].fn(api->listeners[i].opaque, ev);
    pthread_mutex_unlock(&api->listeners_lock);
    json_decref(ev);
}

int api_add_listener(struct api *api, api_event_fn fn, void *opaque)
{
    int h = -ENOSPC;

    pthread_mutex_lock(&api->listeners_lock);
    for (int i = 0; i < API_MAX_LISTENERS; i++) {
        if (!api->listeners[i].fn) {
            api->listeners[i].fn = fn;
            api->listeners[i].opaque = opaque;
            h = i;
            break;
        }
    }
    pthread_mutex_unlock(&api->listeners_lock);
    return h;
}

void api_remove_listener(struct api *api, int handle)
{
    if (handle < 0 || handle >= API_MAX_LISTENERS)
        return;
    pthread_mutex_lock(&api->listeners_lock);
    api->listeners[handle].fn = NULL;
    api->listeners[handle].opaque = NULL;
    pthread_mutex_unlock(&api->listeners_lock);
}

static void on_device_deleted(void *opaque, const char *id, const char *path)
{
    struct api *api = opaque;
    json_t *data = json_object();

    if (id)
        json_object_set_new(data, "device", json_string(id));
    json_object_set_new(data, "path", json_string(path));
    api_emit_event(api, "DEVICE_DELETED", data);
}

static void on_device_added(void *opaque, const char *id, const char *bdf)
{
    struct api *api = opaque;
    json_t *data = json_object();

    if (id)
        json_object_set_new(data, "device", json_string(id));
    json_object_set_new(data, "bdf", json_string(bdf));
    api_emit_event(api, "PCI_DEVICE_ADDED", data);
}

int api_new(struct machine *m, const struct api_options *opts, struct api **ret)
{
    struct api *api = calloc(1, sizeof(*api));

    if (!api)
        return -ENOMEM;
    api->m = m;
    if (opts)
        api->opts = *opts;
    pthread_mutex_init(&api->listeners_lock, NULL);
    pthread_mutex_init(&api->stats_lock, NULL);
    m->events.device_deleted = on_device_deleted;
    m->events.device_added = on_device_added;
    m->events.opaque = api;
    *ret = api;
    return 0;
}

void api_free(struct api *api)
{
    if (!api)
        return;
    if (api->m && api->m->events.opaque == api) {
        api->m->events.device_deleted = NULL;
        api->m->events.device_added = NULL;
        api->m->events.opaque = NULL;
    }
    pthread_mutex_destroy(&api->listeners_lock);
    pthread_mutex_destroy(&api->stats_lock);
    free(api);
}

/* ---- simple commands ---- */

static int cmd_qmp_capabilities(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    (void)api;
    (void)args;
    (void)ret;
    /* Negotiation is the QMP server's business; anywhere else it is already complete. */
    return error_setf(err, ERROR_CLASS_COMMAND_NOT_FOUND, ERROR_KIND_INVALID,
                      "Capabilities negotiation is already complete, command ignored");
}

static int cmd_query_commands(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    json_t *list = json_array();

    (void)api;
    (void)args;
    (void)err;
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        json_array_append_new(list, json_pack("{s:s}", "name", commands[i].name));
    *ret = list;
    return 0;
}

static int cmd_query_version(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    (void)api;
    (void)args;
    (void)err;
    *ret =
        json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "major", PCID_VERSION_MAJOR, "minor",
                  PCID_VERSION_MINOR, "micro", PCID_VERSION_MICRO, "package", "pcid " PCID_VERSION);
    return 0;
}

static int cmd_query_status(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    bool running = api->opts.guest_running;

    (void)args;
    (void)err;
    *ret = json_pack("{s:s,s:b,s:b}", "status", running ? "running" : "prelaunch", "singlestep", 0,
                     "running", running);
    return 0;
}

static int cmd_query_machines(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    json_t *list = json_array();
    const struct machine_type *t;

    (void)api;
    (void)args;
    (void)err;
    /* QEMU 7.2's MachineInfo: name, alias and is-default when they apply, and the fields a
     * machine always has (pcid models one CPU and no memory devices). */
    for (size_t i = 0; (t = machine_type_at(i)); i++) {
        json_t *o = json_pack("{s:s,s:i,s:b,s:b,s:b}", "name", t->name, "cpu-max", 1,
                              "hotpluggable-cpus", 0, "numa-mem-supported", 0, "deprecated", 0);
        if (t->alias)
            json_object_set_new(o, "alias", json_string(t->alias));
        if (t->is_default)
            json_object_set_new(o, "is-default", json_true());
        json_array_append_new(list, o);
    }
    *ret = list;
    return 0;
}

static int cmd_system_reset(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    (void)args;
    (void)ret;
    (void)err;
    /* QEMU reports the reset first, then the removals it completes. */
    api_emit_event(api, "RESET",
                   json_pack("{s:b,s:s}", "guest", 0, "reason", "host-qmp-system-reset"));
    machine_reset(api->m);
    return 0;
}
