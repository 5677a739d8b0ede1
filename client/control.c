/* SPDX-License-Identifier: MIT */
/*
 * control.c — the commands that change things or talk QMP: add (device_add through
 * POST /v1/devices), del (DELETE /v1/devices/{id}) and qmp (POST /v1/qmp).
 * Errors follow pcictl.h; a QMP reply carrying "error" counts as a refusal (exit 1).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cmd.h"

/* Set `key` to string `value` in `args`; -EINVAL if already set or not UTF-8. */
static int set_prop(json_t *args, const char *key, const char *value)
{
    json_t *v;

    if (json_object_get(args, key))
        return pcictl_usage_err("add: property '%s' given twice", key);
    v = json_string(value);
    if (!v)
        return pcictl_usage_err("add: value of '%s' is not valid UTF-8", key);
    if (json_object_set_new(args, key, v) < 0)
        return pcictl_usage_err("add: property name '%s' is not valid UTF-8", key);
    return 0;
}

/* Add each "key=value" of argv[first..argc) to `args`. */
static int add_props(json_t *args, int first, int argc, char **argv)
{
    for (int i = first; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        _cleanup_(freep) char *key = NULL;
        int e;

        if (!eq || eq == argv[i])
            return pcictl_usage_err("add: expected key=value, got '%s'", argv[i]);
        key = strndup(argv[i], (size_t)(eq - argv[i]));
        if (!key)
            return -ENOMEM;
        if (!strcmp(key, "driver"))
            return pcictl_usage_err("add: give the driver as the first argument, not driver=");
        e = set_prop(args, key, eq + 1);
        if (e < 0)
            return e;
    }
    return 0;
}

int cmd_add(struct pcictl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"addr", required_argument, NULL, 'a'},
        {"bus", required_argument, NULL, 'b'},
        {"dry-run", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    _cleanup_(json_decrefp) json_t *args = json_object();
    _cleanup_(json_decrefp) json_t *reply = NULL;
    const char *id = NULL, *addr = NULL, *bus = NULL, *rid, *bdf;
    bool dry_run = false;
    int c, e;

    if (!args)
        return -ENOMEM;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:a:b:njh", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            dry_run = true;
            break;
        case 'i':
            id = optarg;
            break;
        case 'a':
            addr = optarg;
            break;
        case 'b':
            bus = optarg;
            break;
        default: {
            int opt = cmd_common_option(ctl, c, argv);

            if (opt != CMD_OPTION_NEXT)
                return opt;
            break;
        }
        }
    }
    if (optind >= argc || !*argv[optind] || strchr(argv[optind], '='))
        return pcictl_usage_err("add: the first argument must be the DRIVER (e.g. e1000)");
    if ((e = set_prop(args, "driver", argv[optind])) < 0 ||
        (id && (e = set_prop(args, "id", id)) < 0) ||
        (addr && (e = set_prop(args, "addr", addr)) < 0) ||
        (bus && (e = set_prop(args, "bus", bus)) < 0) ||
        (e = add_props(args, optind + 1, argc, argv)) < 0)
        return e;
    if (dry_run && json_object_set_new(args, "dry-run", json_true()) < 0)
        return -ENOMEM;

    e = cmd_request(ctl, "POST", "/v1/devices", args, NULL, &reply);
    if (e < 0)
        return e;
    if (ctl->json)
        return print_json(reply);
    rid = json_string_value(json_object_get(reply, "id"));
    bdf = json_string_value(json_object_get(reply, "bdf"));
    if (!rid)
        rid = json_string_value(json_object_get(reply, "driver"));
    if (!rid)
        rid = argv[optind];
    if (dry_run)
        printf("%s would be added at %s (dry run: nothing changed)\n", rid, bdf ? bdf : "?");
    else if (bdf)
        printf("added %s at %s\n", rid, bdf);
    else
        printf("added %s\n", rid);
    return 0;
}

int cmd_del(struct pcictl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"wait", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    _cleanup_(json_decrefp) json_t *reply = NULL;
    _cleanup_(freep) char *path = NULL;
    const char *id, *wait = NULL;
    long status = 0;
    int c, e;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":w:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            wait = optarg;
            break;
        default: {
            int opt = cmd_common_option(ctl, c, argv);

            if (opt != CMD_OPTION_NEXT)
                return opt;
            break;
        }
        }
    }
    if (optind + 1 != argc)
        return pcictl_usage_err(optind >= argc ? "del: missing argument"
                                               : "del: unexpected argument '%s'",
                                argv[argc - 1]);
    if (wait) {
        char *end;
        double w = strtod(wait, &end);

        if (!*wait || *end || !(w >= 0 && w <= 60))
            return pcictl_usage_err("del: --wait takes seconds from 0 to 60, not '%s'", wait);
    }
    {
        _cleanup_(freep) char *dev = cmd_device_path(argv[optind], "");
        _cleanup_(freep) char *q = wait ? rest_escape_query(wait) : NULL;

        if (!dev || (wait && !q))
            return -ENOMEM;
        if (asprintf(&path, "%s%s%s", dev, wait ? "?wait=" : "", wait ? q : "") < 0) {
            path = NULL;
            return -ENOMEM;
        }
    }
    e = cmd_request(ctl, "DELETE", path, NULL, &status, &reply);
    if (e < 0)
        return e;
    if (ctl->json)
        return print_json(reply);
    id = json_string_value(json_object_get(reply, "id"));
    if (!id)
        id = argv[optind];
    if (status == 202 || json_is_true(json_object_get(reply, "pending")))
        printf("removal of %s requested (pending guest eject%s)\n", id,
               wait ? ", not done in time" : "");
    else
        printf("removed %s\n", id);
    return 0;
}

int cmd_qmp(struct pcictl *ctl, int argc, char **argv)
{
    _cleanup_(json_decrefp) json_t *req = NULL;
    _cleanup_(json_decrefp) json_t *reply = NULL;
    json_t *args = NULL, *error;
    const char *desc;
    int i = cmd_simple_args(ctl, argc, argv, 1, 2), e;

    if (i <= 0)
        return i;
    if (i + 1 < argc) {
        json_error_t err;

        args = json_loads(argv[i + 1], 0, &err);
        if (!json_is_object(args)) {
            json_decref(args);
            return pcictl_usage_err("qmp: JSON-ARGS must be a JSON object%s%s", args ? "" : ": ",
                                    args ? "" : err.text);
        }
    }
    req = args ? json_pack("{s:s,s:o}", "execute", argv[i], "arguments", args)
               : json_pack("{s:s}", "execute", argv[i]);
    if (!req)
        return pcictl_usage_err("qmp: COMMAND is not valid UTF-8");

    e = cmd_request(ctl, "POST", "/v1/qmp", req, NULL, &reply);
    if (e < 0)
        return e;
    e = print_json(reply);
    if (e < 0)
        return e;
    error = json_object_get(reply, "error");
    if (!error)
        return 0;
    fflush(stdout);
    desc = json_string_value(json_object_get(error, "desc"));
    pcictl_err("%s", desc ? desc : "the QMP command failed");
    return -EREMOTEIO;
}
