/* SPDX-License-Identifier: MIT */
/*
 * state.c — the commands over pcid's persistent state:
 *   machine dump            the machine description (GET /v1/machine/description), as JSON
 *                           that `pcid --machine-description FILE` starts from (`machine`
 *                           itself, in commands.c, hands `dump` over to cmd_machine_dump())
 *   state save NAME         save every device's state as snapshot NAME (POST /v1/state/save)
 *   state load NAME         load snapshot NAME (POST /v1/state/load); all or nothing
 *   state list              the snapshots (GET /v1/state): NAME, SIZE, MODIFIED (UTC)
 * Errors follow pcictl.h (usage -EINVAL, unreachable -ENOTCONN, a refusal exits 1).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

int cmd_machine_dump(struct pcictl *ctl)
{
    _cleanup_(json_decrefp) json_t *reply = NULL;
    int e = cmd_request(ctl, "GET", "/v1/machine/description", NULL, NULL, &reply);

    return e < 0 ? e : print_json(reply);
}

/* POST {"name": NAME} to `path` and say what happened. */
static int save_or_load(struct pcictl *ctl, const char *path, const char *verb, const char *name)
{
    _cleanup_(json_decrefp) json_t *body = json_pack("{s:s}", "name", name);
    _cleanup_(json_decrefp) json_t *reply = NULL;
    int e;

    if (!body)
        return pcictl_usage_err("state: NAME is not valid UTF-8");
    e = cmd_request(ctl, "POST", path, body, NULL, &reply);
    if (e < 0)
        return e;
    if (ctl->json)
        return print_json(reply);
    printf("%s snapshot %s (%lld devices, %lld bytes)\n", verb, name,
           (long long)json_integer_value(json_object_get(reply, "devices")),
           (long long)json_integer_value(json_object_get(reply, "size")));
    return 0;
}

/* The snapshot table: NAME, SIZE, MODIFIED (UTC). */
static int print_list(const json_t *list)
{
    static const char *const hdr[] = {"NAME", "SIZE", "MODIFIED"};
    _cleanup_(table_freep) struct table *t = NULL;
    const json_t *s;
    size_t i;
    int e = table_new(3, hdr, &t);

    json_array_foreach(list, i, s)
    {
        time_t when = (time_t)json_integer_value(json_object_get(s, "mtime"));
        char size[32], mod[32];
        struct tm tm;
        const char *row[3] = {json_string_value(json_object_get(s, "name")), size, mod};

        if (e < 0)
            return e;
        snprintf(size, sizeof(size), "%lld",
                 (long long)json_integer_value(json_object_get(s, "size")));
        if (!gmtime_r(&when, &tm) || !strftime(mod, sizeof(mod), "%Y-%m-%d %H:%M:%SZ", &tm))
            snprintf(mod, sizeof(mod), "-");
        e = table_add_row(t, row);
    }
    return e < 0 ? e : table_print(t, stdout);
}

int cmd_state(struct pcictl *ctl, int argc, char **argv)
{
    _cleanup_(json_decrefp) json_t *reply = NULL;
    int i = cmd_simple_args(ctl, argc, argv, 1, 2), e;

    if (i <= 0)
        return i;
    if (!strcmp(argv[i], "list")) {
        if (i + 1 < argc)
            return pcictl_usage_err("state list: unexpected argument '%s'", argv[i + 1]);
        e = cmd_request(ctl, "GET", "/v1/state", NULL, NULL, &reply);
        if (e < 0)
            return e;
        return ctl->json ? print_json(reply) : print_list(reply);
    }
    if (strcmp(argv[i], "save") && strcmp(argv[i], "load"))
        return pcictl_usage_err("state: unknown subcommand '%s' (save, load, list)", argv[i]);
    if (i + 1 >= argc)
        return pcictl_usage_err("state %s: missing NAME", argv[i]);
    if (!strcmp(argv[i], "save"))
        return save_or_load(ctl, "/v1/state/save", "saved", argv[i + 1]);
    return save_or_load(ctl, "/v1/state/load", "loaded", argv[i + 1]);
}
