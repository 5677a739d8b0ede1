/* SPDX-License-Identifier: MIT */
/*
 * state.c — start-up against the state directory and the save hook (see state.h).
 */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../log.h"
#include "../util/opts.h"
#include "description.h"
#include "store.h"

struct state {
    char *dir;                /* NULL: --no-state */
    int lock_fd;              /* holds the directory's lock (store_lock_dir), or -1 */
    char *machine_path;       /* dir/machine.json */
    char *backends_path;      /* dir/backends.json */
    char *desc_path;          /* where the description to restore came from */
    struct description *desc; /* to restore, or NULL: a fresh machine */
    json_t *backends;         /* blockdev-add arguments to restore, or NULL */
    char *machine_text;       /* what machine.json holds now, NULL when absent */
    char *backends_text;      /* what backends.json holds now */
    const char *machine;      /* --machine */
    struct machine *attached; /* the machine whose changes are saved */
    uint64_t saved_gen;       /* config_gen of the last save */
    bool saved;
};

static int path_in(char **ret, const char *dir, const char *name)
{
    return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

/* Read `path` if it exists: 0 with *text (NULL when absent), or -errno with `err` naming it. */
static int read_optional(const char *path, char **text, size_t *len, struct error *err)
{
    int r = store_read(path, DESCRIPTION_MAX_SIZE, text, len, err);

    if (r == -ENOENT) {
        *err = (struct error){0};
        *text = NULL;
        return 0;
    }
    return r;
}

/* Put the file name in front of a parse error: "PATH: problem". */
static int about(struct error *err, const char *path, const struct error *e, int r)
{
    if (!strncmp(e->desc, path, strlen(path))) /* store.c's messages name the path already */
        error_setf(err, ERROR_CLASS_GENERIC, e->kind, "%s", e->desc);
    else
        error_setf(err, ERROR_CLASS_GENERIC, e->kind, "%s: %s", path, e->desc);
    return r;
}

/* --machine-description FILE: the description to restore instead of machine.json's. */
static int open_file(struct state *st, const char *path, struct error *err)
{
    struct error e = {0};
    char *text = NULL;
    size_t len = 0;
    int r;

    description_free(st->desc);
    st->desc = NULL;
    free(st->desc_path);
    st->desc_path = strdup(path);
    if (!st->desc_path)
        return -ENOMEM;
    r = store_read(path, DESCRIPTION_MAX_SIZE, &text, &len, &e);
    if (r == 0)
        r = description_parse(text, len, &st->desc, &e);
    free(text);
    return r < 0 && error_is_set(&e) ? about(err, path, &e, r) : r;
}

static int open_files(struct state *st, const struct state_config *cfg, struct error *err)
{
    struct error e = {0};
    size_t mlen = 0, blen = 0;
    int r;

    r = path_in(&st->machine_path, st->dir, STORE_MACHINE_FILE);
    if (r == 0)
        r = path_in(&st->backends_path, st->dir, STORE_BACKENDS_FILE);
    if (r < 0)
        return r;
    r = read_optional(st->machine_path, &st->machine_text, &mlen, &e);
    if (r < 0)
        return about(err, st->machine_path, &e, r);
    r = read_optional(st->backends_path, &st->backends_text, &blen, &e);
    if (r < 0)
        return about(err, st->backends_path, &e, r);
    if (st->backends_text) {
        r = description_parse_backends(st->backends_text, blen, &st->backends, &e);
        if (r < 0)
            return about(err, st->backends_path, &e, r);
    }
    /* machine.json is checked even when FILE replaces it: a damaged description is never
     * overwritten, whatever the command line says. */
    if (st->machine_text) {
        r = description_parse(st->machine_text, mlen, &st->desc, &e);
        if (r < 0)
            return about(err, st->machine_path, &e, r);
        st->desc_path = strdup(st->machine_path);
        if (!st->desc_path)
            return -ENOMEM;
    }
    return cfg->description ? open_file(st, cfg->description, err) : 0;
}

int state_open(const struct state_config *cfg, struct state **ret, struct error *err)
{
    struct state *st = calloc(1, sizeof(*st));
    const char *source = NULL;
    int r = 0;

    if (!st)
        return -ENOMEM;
    st->lock_fd = -1;
    st->machine = cfg->machine;
    if (!cfg->none) {
        r = store_resolve_dir(cfg->dir, &st->dir, &source);
        if (r == -ENOENT)
            r = error_invalid(err, "no state directory: set $STATE_DIRECTORY, --state-dir or "
                                   "$HOME, or run with --no-state");
        if (r == 0)
            r = store_prepare_dir(st->dir, err);
        if (r == 0)
            r = st->lock_fd = store_lock_dir(st->dir, err);
        if (r >= 0)
            r = open_files(st, cfg, err);
    } else if (cfg->description) {
        r = open_file(st, cfg->description, err);
    }
    if (r < 0) {
        if (!error_is_set(err))
            error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "cannot open the state: %s",
                       strerror(-r));
        state_free(st);
        return r;
    }
    *ret = st;
    return 0;
}

const char *state_machine_type(const struct state *st)
{
    if (st->desc) {
        const struct machine_type *want = st->machine ? machine_type_find(st->machine) : NULL;

        if (st->machine && want != st->desc->type)
            log_warning("--machine %s ignored: %s describes a %s machine", st->machine,
                        st->desc_path, st->desc->type->name);
        return st->desc->type->name;
    }
    return st->machine;
}

/* --blockdev's node-name, to see whether backends.json already has the node. */
static int find_node_name(void *opaque, const char *key, const char *value)
{
    char **out = opaque;

    if (streq(key, "node-name") && !*out) {
        *out = strdup(value);
        return *out ? 0 : -ENOMEM;
    }
    return 0;
}

static int restore_backends(struct state *st, struct api *api, char *const *specs, size_t n,
                            struct error *err)
{
    struct error e = {0};
    json_t *b, *ret = NULL;
    size_t i;
    int r;

    json_array_foreach(st->backends, i, b)
    {
        r = api_execute(api, "blockdev-add", b, &ret, &e);
        json_decref(ret);
        if (r < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, e.kind, "%s: backends[%zu] ('%s'): %s",
                              st->backends_path, i,
                              json_string_value(json_object_get(b, "node-name")), e.desc);
    }
    for (i = 0; i < n; i++) {
        char *node = NULL;

        opts_parse(specs[i], NULL, find_node_name, &node);
        if (node && backend_find(&api_machine(api)->backends, node)) {
            log_notice("--blockdev %s ignored: node '%s' is restored from %s", specs[i], node,
                       st->backends_path);
            free(node);
            continue;
        }
        free(node);
        r = api_blockdev_add_spec(api, specs[i], &e);
        if (r < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, e.kind, "blockdev %s: %s", specs[i],
                              e.desc); /* --blockdev, or the configuration file's */
    }
    return 0;
}

/* Whether the user gave property `name` of a described device. */
static bool given(const struct description_dev *dev, const char *name)
{
    for (size_t k = 0; k < dev->n_props; k++)
        if (streq(dev->props[k].name, name))
            return true;
    return false;
}

/* device_add with what the user gave (kept as given), then the pins: bus and address unless
 * given, and the values the model chose. */
static int restore_device(struct state *st, struct api *api, size_t i, struct error *err)
{
    const struct description_dev *dev = &st->desc->devs[i];
    size_t n = 0, n_given;
    struct machine_prop *p = calloc(dev->n_props + dev->n_pins + 4, sizeof(*p));
    struct error e = {0};
    char addr[8];
    int r;

    if (!p)
        return -ENOMEM;
    description_addr(addr, (uint8_t)dev->devfn);
    p[n++] = (struct machine_prop){"driver", (char *)dev->drv->name};
    if (dev->id)
        p[n++] = (struct machine_prop){"id", dev->id};
    for (size_t k = 0; k < dev->n_props; k++)
        p[n++] = dev->props[k];
    n_given = n;
    if (!given(dev, "bus"))
        p[n++] = (struct machine_prop){"bus", dev->bus};
    if (!given(dev, "addr"))
        p[n++] = (struct machine_prop){"addr", addr};
    for (size_t k = 0; k < dev->n_pins; k++)
        if (!given(dev, dev->pins[k].name))
            p[n++] = dev->pins[k];
    machine_lock(api_machine(api));
    r = api_device_add_props(api, p, n, n_given, false, &e);
    machine_unlock(api_machine(api));
    free(p);
    if (r < 0)
        error_setf(err, ERROR_CLASS_GENERIC, e.kind, "%s: devices[%zu] (%s%s%s at %s): %s",
                   st->desc_path, i, dev->id ? "'" : "", dev->id ? dev->id : dev->drv->name,
                   dev->id ? "'" : "", addr, error_is_set(&e) ? e.desc : strerror(-r));
    return r;
}

static int restore_devices(struct state *st, struct api *api, char *const *devices,
                           size_t n_devices, struct error *err);

int state_restore(struct state *st, struct api *api, char *const *blockdevs, size_t n_blockdevs,
                  char *const *devices, size_t n_devices, struct error *err)
{
    int r = restore_backends(st, api, blockdevs, n_blockdevs, err);

    if (r < 0)
        return r;
    /* Cold plug before the guest runs: the vCPUs' topology is published once, at the end. */
    machine_lock(api_machine(api));
    machine_topology_batch_begin(api_machine(api));
    machine_unlock(api_machine(api));
    r = restore_devices(st, api, devices, n_devices, err);
    machine_lock(api_machine(api));
    machine_topology_batch_end(api_machine(api));
    machine_unlock(api_machine(api));
    return r;
}

static int restore_devices(struct state *st, struct api *api, char *const *devices,
                           size_t n_devices, struct error *err)
{
    struct error e = {0};
    int r;

    if (st->desc) {
        for (size_t i = 0; i < st->desc->n; i++) {
            r = restore_device(st, api, i, err);
            if (r < 0)
                return r;
        }
        if (n_devices) /* seeds: --device, or the configuration file's "devices" */
            log_notice("%zu seed device%s (--device or the configuration file) ignored: the "
                       "machine is restored from %s",
                       n_devices, n_devices == 1 ? "" : "s", st->desc_path);
        return 0;
    }
    for (size_t i = 0; i < n_devices; i++) {
        machine_lock(api_machine(api));
        r = api_device_add_spec(api, devices[i], false, &e);
        machine_unlock(api_machine(api));
        if (r < 0)
            return error_setf(err, ERROR_CLASS_GENERIC, e.kind, "device %s: %s", devices[i],
                              error_is_set(&e) ? e.desc : strerror(-r));
    }
    return 0;
}

/* Write `name` when `doc` differs from what the file holds (*cur). Takes `doc`. */
static int save_doc(struct state *st, const char *name, json_t *doc, char **cur, struct error *err)
{
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL, *line;
    int r;

    json_decref(doc);
    if (!text || asprintf(&line, "%s\n", text) < 0) {
        free(text);
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory saving %s",
                          name);
    }
    free(text);
    if (*cur && streq(*cur, line)) {
        free(line);
        return 0;
    }
    r = store_write_atomic(st->dir, name, line, strlen(line), err);
    if (r < 0) {
        free(line);
        return r;
    }
    free(*cur);
    *cur = line;
    return 0;
}

/* The machine's persist hook: save machine.json and backends.json if they changed. */
static int save(void *opaque, struct machine *m, struct error *err)
{
    struct state *st = opaque;
    uint64_t gen = m->config_gen;
    struct error e = {0};
    int r;

    if (st->saved && gen == st->saved_gen)
        return 0;
    r = save_doc(st, STORE_MACHINE_FILE, description_build(m), &st->machine_text, &e);
    if (r == 0)
        r = save_doc(st, STORE_BACKENDS_FILE, description_build_backends(m), &st->backends_text,
                     &e);
    if (r == 0) {
        st->saved = true;
        st->saved_gen = gen;
        return 0;
    }
    if (err)
        error_setf(err, ERROR_CLASS_GENERIC, e.kind, "%s", e.desc);
    else
        log_error("%s; it is saved with the next change", e.desc);
    return r;
}

int state_attach(struct state *st, struct api *api, struct error *err)
{
    struct machine *m = api_machine(api);
    int r;

    if (!st->dir)
        return 0;
    if (api_set_state_dir(api, st->dir) < 0)
        return -ENOMEM;
    machine_lock(m);
    r = save(st, m, err);
    if (r == 0) {
        m->persist = (struct machine_persist){.sync = save, .opaque = st};
        st->attached = m;
    }
    machine_unlock(m);
    return r;
}

void state_free(struct state *st)
{
    if (!st)
        return;
    if (st->attached) /* every other thread has stopped: no lock needed, none may be taken */
        st->attached->persist = (struct machine_persist){0};
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    description_free(st->desc);
    json_decref(st->backends);
    free(st->dir);
    free(st->machine_path);
    free(st->backends_path);
    free(st->desc_path);
    free(st->machine_text);
    free(st->backends_text);
    free(st);
}
