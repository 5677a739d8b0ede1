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
#include <unistd.h>

#include "internal.h"
#include "marshal.h"
#include "schema.h"

struct api_command {
    const char *name;
    api_handler_fn fn;
    bool no_lock;     /* runs without the control lock */
    bool debug;       /* test-only: exists with api_options.debug_commands ("if" in the schema) */
    api_text_fn text; /* optional: the value serialized directly (api_call_text()) */
};

static int cmd_qmp_capabilities(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_commands(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_qmp_schema(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_version(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_status(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_query_machines(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_system_reset(struct api *api, json_t *args, json_t **ret, struct error *err);
static int cmd_x_debug_hang(struct api *api, json_t *args, json_t **ret, struct error *err);

/*
 * The handlers, sorted by name: query-commands lists them in this order. Arguments, return
 * types and documentation are in api/schema/qmp-schema.json; a command needs both a row here
 * and an entry there (api_schema_check()).
 */
static const struct api_command commands[] = {
    {"blockdev-add", api_cmd_blockdev_add},
    {"blockdev-del", api_cmd_blockdev_del},
    {"device-list-properties", api_cmd_device_list_properties},
    {"device_add", api_cmd_device_add},
    {"device_del", api_cmd_device_del},
    {"human-monitor-command", api_cmd_hmp, .text = api_text_hmp},
    {"qmp_capabilities", cmd_qmp_capabilities, true},
    {"query-commands", cmd_query_commands, true},
    {"query-machine-description", api_cmd_query_machine_description},
    {"query-machines", cmd_query_machines, true},
    {"query-named-block-nodes", api_cmd_query_block_nodes},
    {"query-pci", api_cmd_query_pci, .text = api_text_query_pci},
    {"query-pci-buses", api_cmd_query_pci_buses},
    {"query-pci-capabilities", api_cmd_query_pci_caps},
    {"query-pci-config", api_cmd_query_pci_config},
    {"query-pci-devices", api_cmd_query_pci_devices},
    {"query-pci-machine", api_cmd_query_pci_machine},
    {"query-pci-slots", api_cmd_query_pci_slots},
    {"query-qmp-schema", cmd_query_qmp_schema, true},
    {"query-state-snapshots", api_cmd_query_state_snapshots},
    {"query-status", cmd_query_status, true},
    {"query-version", cmd_query_version, true},
    {"state-load", api_cmd_state_load},
    {"state-save", api_cmd_state_save},
    {"system_reset", cmd_system_reset},
    {"x-debug-hang", cmd_x_debug_hang, false, true},
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
    const struct api_command *c = find_command(name);

    return c && !c->debug;
}

const char *api_command_at(size_t i)
{
    return i < ARRAY_SIZE(commands) ? commands[i].name : NULL;
}

bool api_command_listed(const struct api *api, size_t i)
{
    return i < ARRAY_SIZE(commands) && (!commands[i].debug || api->opts.debug_commands);
}

const struct api_schema_command *api_schema_command_find(const char *name)
{
    for (const struct api_schema_command *c = api_schema_commands; c->name; c++)
        if (streq(c->name, name))
            return c;
    return NULL;
}

bool api_schema_has_event(const char *name)
{
    for (size_t i = 0; api_schema_events[i]; i++)
        if (streq(api_schema_events[i], name))
            return true;
    return false;
}

int api_schema_check(char *why, size_t len)
{
    size_t used = 0;
    int r = 0;

    if (len)
        why[0] = 0;
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        const struct api_schema_command *sc = api_schema_command_find(commands[i].name);

        if (!sc) {
            used +=
                (size_t)snprintf(why + MIN(used, len), len - MIN(used, len),
                                 "command %s has no entry in qmp-schema.json; ", commands[i].name);
            r = -EINVAL;
        } else if (sc->debug != commands[i].debug) {
            /* Registered only sometimes: the table and the schema's "if" must agree, or
             * query-commands and query-qmp-schema would list different commands. */
            used +=
                (size_t)snprintf(why + MIN(used, len), len - MIN(used, len),
                                 "command %s is %s in the table but %s in qmp-schema.json; ",
                                 commands[i].name, commands[i].debug ? "test-only" : "always there",
                                 sc->debug ? "test-only (\"if\")" : "unconditional");
            r = -EINVAL;
        }
    }
    for (const struct api_schema_command *c = api_schema_commands; c->name; c++) {
        if (!find_command(c->name)) {
            used += (size_t)snprintf(why + MIN(used, len), len - MIN(used, len),
                                     "qmp-schema.json command %s has no handler; ", c->name);
            r = -EINVAL;
        }
    }
    return r;
}

/* QEMU's QAPI input visitor's name for the JSON kind it expected. */
static const char *kind_name(enum api_arg_kind k)
{
    switch (k) {
    case API_ARG_STR:
    case API_ARG_ENUM:
        return "string";
    case API_ARG_INT:
        return "integer";
    case API_ARG_BOOL:
        return "boolean";
    case API_ARG_NUMBER:
        return "number";
    case API_ARG_NULL:
        return "null";
    case API_ARG_OBJECT:
        return "object";
    case API_ARG_ARRAY:
        return "array";
    case API_ARG_ANY:
        break;
    }
    return "any";
}

static bool kind_ok(enum api_arg_kind k, json_t *v)
{
    switch (k) {
    case API_ARG_STR:
    case API_ARG_ENUM:
        return json_is_string(v);
    case API_ARG_INT:
        return json_is_integer(v);
    case API_ARG_BOOL:
        return json_is_boolean(v);
    case API_ARG_NUMBER:
        return json_is_number(v);
    case API_ARG_NULL:
        return json_is_null(v);
    case API_ARG_OBJECT:
        return json_is_object(v);
    case API_ARG_ARRAY:
        return json_is_array(v);
    case API_ARG_ANY:
        return true;
    }
    return false;
}

static bool enum_ok(const char *const *values, const char *v)
{
    for (; *values; values++)
        if (streq(*values, v))
            return true;
    return false;
}

/* QEMU's QAPI input visitor: members in schema order, then anything left over. */
static int check_args(const struct api_schema_arg *spec, json_t *args, struct error *err)
{
    const char *key;
    json_t *v;

    for (const struct api_schema_arg *a = spec; a->name; a++) {
        v = args ? json_object_get(args, a->name) : NULL;
        if (!v) {
            if (!a->optional)
                return error_invalid(err, "Parameter '%s' is missing", a->name);
            continue;
        }
        if (!kind_ok(a->kind, v))
            return error_invalid(err, "Invalid parameter type for '%s', expected: %s", a->name,
                                 kind_name(a->kind));
        if (a->kind == API_ARG_ENUM && !enum_ok(a->values, json_string_value(v)))
            return error_invalid(err, "Parameter '%s' does not accept value '%s'", a->name,
                                 json_string_value(v));
    }
    if (args) {
        json_object_foreach(args, key, v)
        {
            bool known = false;
            for (const struct api_schema_arg *a = spec; a->name && !known; a++)
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

/* api_call() and api_call_text(): `text` NULL asks for the value in *ret, else serialized with
 * json_dumps `flags` in *text (*ret then stays NULL). */
static int run(struct api *api, const char *name, json_t *args, struct api_call *call, size_t flags,
               json_t **ret, char **text, struct error *err)
{
    uint64_t t0 = monotonic_ns();
    const struct api_command *c = find_command(name);
    const struct api_schema_command *sc = c ? api_schema_command_find(name) : NULL;
    bool lock = c && (!c->no_lock || call);
    uint64_t gen = 0;
    int r;

    *ret = NULL;
    if (text)
        *text = NULL;
    if (call)
        call->shared = NULL;
    if (!c || !sc || (c->debug && !api->opts.debug_commands)) {
        c = NULL; /* a test-only command that is off is not there at all, metrics included */
        r = error_setf(err, ERROR_CLASS_COMMAND_NOT_FOUND, ERROR_KIND_INVALID,
                       "The command %s has not been found", name);
        goto out;
    }
    if (args && !json_is_object(args)) {
        r = error_invalid(err, "QMP input member 'arguments' must be an object");
        goto out;
    }
    if (sc->args) {
        r = check_args(sc->args, args, err);
        if (r < 0)
            goto out;
    }
    if (lock) {
        machine_lock(api->m);
        gen = api->m->config_gen;
    }
    if (call) {
        call->event_seq = api_events_last_id(api);
        if (call->precondition &&
            !call->precondition(call->precondition_opaque, api->m->generation)) {
            error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_CONFLICT,
                       "Precondition failed: the machine is at generation %llu",
                       (unsigned long long)api->m->generation);
            call->generation = api->m->generation;
            machine_unlock(api->m);
            r = -ESTALE;
            goto out;
        }
        api->call = call;
    }
    if (text && c->text)
        r = c->text(api, args, flags, text, err);
    else
        r = c->fn(api, args, ret, err);
    if (call) {
        api->call = NULL;
        call->generation = api->m->generation;
    }
    /* What the command changed is on disk before it returns success. A removal completed on
     * the way in saved itself before its DEVICE_DELETED, a failed command or a dry run changed
     * nothing; a save that failed earlier is retried here and, failing again, only logged. */
    if (lock && r >= 0 && api->m->config_gen != gen && api_persist(api, err) < 0) {
        json_decref(*ret);
        *ret = NULL;
        if (text) {
            free(*text);
            *text = NULL;
        }
        if (call) {
            api_text_unref(call->shared);
            call->shared = NULL;
        }
        r = -EIO;
    } else if (lock) {
        machine_persist(api->m, NULL);
    }
    if (lock)
        machine_unlock(api->m);
    if (r >= 0 && !*ret && !(text && *text) && !(call && call->shared))
        *ret = json_object();
    /* Serialized outside the control lock. */
    if (r >= 0 && text && !*text && !(call && call->shared)) {
        *text = json_dumps(*ret, flags);
        json_decref(*ret);
        *ret = NULL;
        if (!*text)
            r = -ENOMEM;
    }
out:
    pthread_mutex_lock(&api->stats_lock);
    api->stats.commands++;
    if (r < 0)
        api->stats.failures++;
    pthread_mutex_unlock(&api->stats_lock);
    if (r < 0 && !error_is_set(err))
        error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "%s failed: %s", name,
                   strerror(-r));
    if (r < 0) {
        json_decref(*ret);
        *ret = NULL;
        if (text) {
            free(*text);
            *text = NULL;
        }
        if (call) {
            api_text_unref(call->shared);
            call->shared = NULL;
        }
    }
    api_metrics_command(api, c ? (size_t)(c - commands) : ARRAY_SIZE(commands),
                        r < 0 ? (err ? err->cls : ERROR_CLASS_GENERIC) : ERROR_CLASS_NONE,
                        monotonic_ns() - t0);
    return r < 0 ? r : 0;
}

int api_call(struct api *api, const char *name, json_t *args, struct api_call *call, json_t **ret,
             struct error *err)
{
    return run(api, name, args, call, 0, ret, NULL, err);
}

int api_call_text(struct api *api, const char *name, json_t *args, struct api_call *call,
                  size_t flags, char **text, struct error *err)
{
    json_t *ret = NULL;

    return run(api, name, args, call, flags, &ret, text, err);
}

int api_execute(struct api *api, const char *name, json_t *args, json_t **ret, struct error *err)
{
    return api_call(api, name, args, NULL, ret, err);
}

int api_persist(struct api *api, struct error *err)
{
    struct error e = {0};
    int r = machine_persist(api->m, &e);

    if (r < 0)
        error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                   "the change was made but not saved: %s (it is saved with the next change)",
                   e.desc);
    return r;
}

int api_set_state_dir(struct api *api, const char *dir)
{
    char *d = dir ? strdup(dir) : NULL;

    if (dir && !d)
        return -ENOMEM;
    free(api->state_dir);
    api->state_dir = d;
    return 0;
}

void api_start(struct api *api)
{
    machine_lock(api->m);
    machine_start(api->m);
    if (api->opts.guest_running)
        api->started_ns = monotonic_ns();
    machine_unlock(api->m);
}

uint64_t api_virtual_ms(const struct api *api)
{
    return api->started_ns ? (monotonic_ns() - api->started_ns) / 1000000ULL : 0;
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
    api_events_append(api, name, ev);
    api_metrics_event(api, name);
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

static void on_device_removed(void *opaque, uint64_t pending_ns)
{
    api_metrics_unplug(opaque, pending_ns);
}

static void on_unplug_refused(void *opaque, const char *id, const char *path)
{
    struct api *api = opaque;
    json_t *data = json_object();

    if (id)
        json_object_set_new(data, "device", json_string(id));
    json_object_set_new(data, "path", json_string(path));
    api_metrics_unplug_refused(api);
    api_emit_event(api, "DEVICE_UNPLUG_GUEST_ERROR", data);
}

static void on_device_note(void *opaque, const struct machine_dev_note *n)
{
    struct api *api = opaque;

    if (!api->opts.device_note)
        return;
    api->opts.device_note(api->opts.device_note_opaque, &(struct api_device_note){
                                                            .added = n->added,
                                                            .hotplug = n->hotplug,
                                                            .id = n->id,
                                                            .bdf = n->bdf,
                                                            .driver = n->driver,
                                                        });
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
    api_events_init(&api->events);
    if (api_metrics_init(&api->metrics) < 0) {
        api_free(api);
        return -ENOMEM;
    }
    m->events.device_deleted = on_device_deleted;
    m->events.device_added = on_device_added;
    m->events.device_removed = on_device_removed;
    m->events.unplug_refused = on_unplug_refused;
    m->events.device_note = on_device_note;
    m->events.opaque = api;
    *ret = api;
    return 0;
}

void api_free(struct api *api)
{
    if (!api)
        return;
    if (api->m && api->m->events.opaque == api)
        api->m->events = (struct machine_events){0};
    api_metrics_fini(&api->metrics);
    api_events_fini(&api->events);
    pthread_mutex_destroy(&api->listeners_lock);
    pthread_mutex_destroy(&api->stats_lock);
    for (size_t i = 0; i < ARRAY_SIZE(api->query_pci); i++)
        query_cache_clear(&api->query_pci[i]);
    query_cache_clear(&api->info_pci);
    sbuf_free(&api->query_key);
    free(api->state_dir);
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

    (void)args;
    (void)err;
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (api_command_listed(api, i))
            json_array_append_new(list, json_pack("{s:s}", "name", commands[i].name));
    *ret = list;
    return 0;
}

static int cmd_query_qmp_schema(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    json_error_t jerr;

    (void)args;
    /* The test-only commands are in it exactly when they exist (query-commands agrees). */
    *ret = json_loads(api->opts.debug_commands ? api_schema_introspection_debug
                                               : api_schema_introspection,
                      0, &jerr);
    if (!*ret)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL,
                          "the built-in schema does not parse: %s", jerr.text);
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

/*
 * x-debug-hang (test-only, api_options.debug_commands): a command that never returns and keeps
 * the control lock, as a deadlocked command would. The control loop stops at its next use of
 * the lock (at once when the command came over QMP, which runs on the loop), so it stops
 * sending WATCHDOG=1 and systemd's watchdog restarts pcid (docs/systemd.md).
 */
static int cmd_x_debug_hang(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    (void)api;
    (void)args;
    (void)ret;
    (void)err;
    for (;;)
        pause();
    return 0;
}

/* Does `v` hold a string with a NUL character (JSON "\u0000")? C strings would cut it short.
 * Recursion is bounded by the parsers' nesting limits (JSON_STREAM_MAX_NESTING, jansson's). */
static bool has_nul(json_t *v)
{
    const char *key;
    json_t *e;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return strlen(json_string_value(v)) != json_string_length(v);
    case JSON_ARRAY:
        json_array_foreach(v, i, e)
        {
            if (has_nul(e))
                return true;
        }
        return false;
    case JSON_OBJECT:
        json_object_foreach(v, key, e)
        {
            if (has_nul(e))
                return true;
        }
        return false;
    default:
        return false;
    }
}

int api_qmp_envelope(json_t *req, const char **name, json_t **args, struct error *err)
{
    const char *key;
    json_t *v;

    *name = NULL;
    *args = NULL;
    if (!json_is_object(req))
        return error_invalid(err, "QMP input must be a JSON object");
    json_object_foreach(req, key, v)
    {
        if (streq(key, "execute")) {
            if (!json_is_string(v))
                return error_invalid(err, "QMP input member 'execute' must be a string");
            *name = json_string_value(v);
        } else if (streq(key, "arguments")) {
            if (!json_is_object(v))
                return error_invalid(err, "QMP input member 'arguments' must be an object");
            *args = v;
        } else if (!streq(key, "id")) {
            return error_invalid(err, "QMP input member '%s' is unexpected", key);
        }
    }
    if (!*name)
        return error_invalid(err, "QMP input lacks member 'execute'");
    if (has_nul(req))
        return error_invalid(err, "QMP input holds a string with a NUL character (\\u0000)");
    return 0;
}
