/* SPDX-License-Identifier: MIT */
/*
 * state.c — the commands over pcid's persistent state: query-machine-description (the guest
 * side of the machine as machine.json holds it), and device-state snapshots in the state
 * directory's snapshots/ (state-save, state-load, query-state-snapshots). Formats and rules:
 * daemon/state/description.h, daemon/state/snapshot.h, docs/state.md.
 */
#include <errno.h>

#include "../daemon/state/description.h"
#include "../daemon/state/snapshot.h"
#include "../daemon/state/store.h"
#include "internal.h"

int api_cmd_query_machine_description(struct api *api, json_t *args, json_t **ret,
                                      struct error *err)
{
    (void)args;
    (void)err;
    *ret = description_build(api->m);
    return *ret ? 0 : -ENOMEM;
}

static int no_state_dir(struct error *err)
{
    return error_invalid(err, "pcid runs without a state directory (--no-state): there are no "
                              "snapshots");
}

static json_t *info_json(const char *name, const struct snapshot_info *info)
{
    return json_pack("{s:s,s:I,s:i}", "name", name, "size", (json_int_t)info->size, "devices",
                     (int)info->devices);
}

int api_cmd_state_save(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const char *name = json_string_value(json_object_get(args, "name"));
    struct snapshot_info info;
    int r;

    if (!api->state_dir)
        return no_state_dir(err);
    r = snapshot_save(api->m, api->state_dir, name, &info, err);
    if (r < 0)
        return r;
    *ret = info_json(name, &info);
    return *ret ? 0 : -ENOMEM;
}

int api_cmd_state_load(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const char *name = json_string_value(json_object_get(args, "name"));
    struct snapshot_info info;
    int r;

    if (!api->state_dir)
        return no_state_dir(err);
    r = snapshot_load(api->m, api->state_dir, name, &info, err);
    if (r < 0)
        return r;
    *ret = info_json(name, &info);
    return *ret ? 0 : -ENOMEM;
}

int api_cmd_query_state_snapshots(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    struct store_entry *v = NULL;
    json_t *list;
    int n;

    (void)args;
    if (!api->state_dir) {
        *ret = json_array();
        return *ret ? 0 : -ENOMEM;
    }
    n = store_list(api->state_dir, &v, err);
    if (n < 0)
        return n;
    list = json_array();
    for (int i = 0; list && i < n; i++) {
        json_t *o =
            json_pack("{s:s,s:I,s:I,s:i}", "name", v[i].name, "size", (json_int_t)v[i].size,
                      "mtime", (json_int_t)v[i].mtime.tv_sec, "mtime-ns", (int)v[i].mtime.tv_nsec);

        if (!o || json_array_append_new(list, o) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    free(v);
    *ret = list;
    return list ? 0 : -ENOMEM;
}
