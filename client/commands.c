/* SPDX-License-Identifier: MIT */
/*
 * commands.c — the read-only commands (info pci, config, slots, devices, caps) and the helpers
 * every command uses: per-command option parsing, GET-and-parse, printing a text reply.
 * With --json each prints the daemon's JSON body pretty-printed (text replies as
 * {"text": "..."}); otherwise the text verbatim or an aligned table.
 * Errors follow pcictl.h (usage -EINVAL, unreachable -ENOTCONN, anything else exit 1).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cmd.h"

int cmd_bad_option(const char *cmd, int c, char **argv)
{
    if (c == ':')
        return pcictl_usage_err("%s: option '%s' needs a value", cmd, argv[optind - 1]);
    if (optopt)
        return pcictl_usage_err("%s: unknown option '-%c'", cmd, optopt);
    return pcictl_usage_err("%s: unknown option '%s'", cmd, argv[optind - 1]);
}

int cmd_common_option(struct pcictl *ctl, int c, char **argv)
{
    switch (c) {
    case 'j':
        ctl->json = true;
        return CMD_OPTION_NEXT;
    case 'h':
        pcictl_usage(stdout);
        return 0;
    default:
        return cmd_bad_option(argv[0], c, argv);
    }
}

int cmd_simple_args(struct pcictl *ctl, int argc, char **argv, int min, int max)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c, n;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
        switch (c) {
        default: {
            int opt = cmd_common_option(ctl, c, argv);

            if (opt != CMD_OPTION_NEXT)
                return opt;
            break;
        }
        }
    }
    n = argc - optind;
    if (n < min)
        return pcictl_usage_err("%s: missing argument", argv[0]);
    if (n > max)
        return pcictl_usage_err("%s: unexpected argument '%s'", argv[0], argv[optind + max]);
    return optind;
}

int cmd_request(struct pcictl *ctl, const char *method, const char *path, json_t *body,
                long *status, json_t **ret)
{
    return cmd_request_hdr(ctl, method, path, body, NULL, status, ret);
}

int cmd_request_hdr(struct pcictl *ctl, const char *method, const char *path, json_t *body,
                    const char *const *headers, long *status, json_t **ret)
{
    _cleanup_(rest_reply_done) struct rest_reply r = {0};
    _cleanup_(freep) char *what = NULL;
    int e;

    e = rest_request(&ctl->target, method, path, body, headers, ctl->json, &r);
    if (e < 0)
        return e;
    if (status)
        *status = r.status;
    if (asprintf(&what, "%s %s", method, path) < 0) {
        what = NULL;
        return -ENOMEM;
    }
    return rest_reply_json(&r, what, ret);
}

char *cmd_device_path(const char *dev, const char *suffix)
{
    _cleanup_(freep) char *seg = rest_escape_segment(dev);
    char *path;

    if (!seg || asprintf(&path, "/v1/devices/%s%s", seg, suffix) < 0)
        return NULL;
    return path;
}

/* GET a text endpoint and print it verbatim, or as {"text": "..."} with --json. */
static int print_text(struct pcictl *ctl, const char *path)
{
    _cleanup_(rest_reply_done) struct rest_reply r = {0};
    _cleanup_(json_decrefp) json_t *o = NULL;
    int e;

    e = rest_call(&ctl->target, "GET", path, NULL, ctl->json, &r);
    if (e < 0)
        return e;
    if (!ctl->json) {
        if (fwrite(r.body, 1, r.len, stdout) != r.len) {
            pcictl_err("cannot write to standard output: %s", strerror(errno));
            return -EIO;
        }
        return 0;
    }
    o = json_pack("{s:s%}", "text", r.body, r.len);
    if (!o) {
        pcictl_err("reply to GET %s is not valid UTF-8 text", path);
        return -EBADMSG;
    }
    return print_json(o);
}

int cmd_info(struct pcictl *ctl, int argc, char **argv)
{
    int i = cmd_simple_args(ctl, argc, argv, 0, 1);

    if (i <= 0)
        return i;
    if (i == argc)
        return pcictl_usage_err("info: what? only 'info pci' is known");
    if (strcmp(argv[i], "pci"))
        return pcictl_usage_err("info: unknown topic '%s'; only 'info pci' is known", argv[i]);
    return print_text(ctl, "/v1/pci/text");
}

int cmd_config(struct pcictl *ctl, int argc, char **argv)
{
    _cleanup_(freep) char *path = NULL;
    int i = cmd_simple_args(ctl, argc, argv, 1, 1);

    if (i <= 0)
        return i;
    path = cmd_device_path(argv[i], "/config");
    if (!path)
        return -ENOMEM;
    return print_text(ctl, path);
}

/* An integer member of `o`, or `def` when missing or not an integer. */
static json_int_t int_or(const json_t *o, const char *key, json_int_t def)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? json_integer_value(v) : def;
}

/* "0:net0(virtio-net-pci) 1:-(e1000)" for a slot's functions array. */
static char *slot_functions(const json_t *fns)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const json_t *fn;
    size_t i;

    if (!f)
        return NULL;
    json_array_foreach(fns, i, fn)
    {
        const char *id = json_string_value(json_object_get(fn, "id"));
        const char *drv = json_string_value(json_object_get(fn, "driver"));
        bool pending = json_is_true(json_object_get(fn, "pending-unplug"));

        fprintf(f, "%s%" JSON_INTEGER_FORMAT ":%s", i ? " " : "", int_or(fn, "function", 0),
                id ? id : "-");
        if (drv || pending)
            fprintf(f, "(%s%s%s)", drv ? drv : "", drv && pending ? "," : "",
                    pending ? "pending-unplug" : "");
    }
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Drop every slot whose state is not "free" from each bus of a /v1/slots reply. */
static int keep_free_slots(json_t *buses)
{
    json_t *bus;
    size_t i;

    json_array_foreach(buses, i, bus)
    {
        json_t *slots = json_object_get(bus, "slots");

        for (size_t k = json_array_size(slots); k-- > 0;) {
            const char *state =
                json_string_value(json_object_get(json_array_get(slots, k), "state"));

            if ((!state || strcmp(state, "free")) && json_array_remove(slots, k) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* "PIRQA/10 +2": where the slot's INTA goes (PIRQ line, IRQ or "-" when the route is off) and
 * how many functions already use that line; "-" without routing information. */
static void slot_inta(const json_t *slot, char *buf, size_t len)
{
    const json_t *a = json_array_get(json_object_get(slot, "intx"), 0);
    const json_t *irq = json_object_get(a, "irq");
    size_t shared = json_array_size(json_object_get(a, "shared-with"));
    int n;

    if (!a) {
        snprintf(buf, len, "-");
        return;
    }
    n = snprintf(buf, len, "%s/", json_string_value(json_object_get(a, "pirq")) ?: "?");
    if (n < 0 || (size_t)n >= len)
        return;
    if (json_is_integer(irq))
        n += snprintf(buf + n, len - (size_t)n, "%" JSON_INTEGER_FORMAT, json_integer_value(irq));
    else
        n += snprintf(buf + n, len - (size_t)n, "-");
    if (shared && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " +%zu", shared);
}

/* The slots table: BUS, SLOT, STATE, HOTPLUG, INTA, FUNCTIONS, REASON. */
static int print_slots(const json_t *buses)
{
    static const char *const hdr[] = {"BUS",  "SLOT",      "STATE", "HOTPLUG",
                                      "INTA", "FUNCTIONS", "REASON"};
    _cleanup_(table_freep) struct table *t = NULL;
    const json_t *bus, *slot;
    size_t i, k;
    int e = table_new(7, hdr, &t);

    json_array_foreach(buses, i, bus)
    {
        json_int_t busnr = int_or(bus, "bus", 0);

        json_array_foreach(json_object_get(bus, "slots"), k, slot)
        {
            _cleanup_(freep) char *fns = slot_functions(json_object_get(slot, "functions"));
            const json_t *hp = json_object_get(slot, "hotpluggable");
            char where[48], inta[64];
            const char *row[7] = {
                json_string_value(json_object_get(bus, "bus-id")),
                where,
                json_string_value(json_object_get(slot, "state")),
                json_is_boolean(hp) ? (json_is_true(hp) ? "yes" : "no") : NULL,
                inta,
                fns,
                json_string_value(json_object_get(slot, "reason")),
            };

            if (e < 0 || !fns)
                return -ENOMEM;
            snprintf(where, sizeof(where), "%02llx:%02llx", (unsigned long long)busnr,
                     (unsigned long long)int_or(slot, "slot", 0));
            slot_inta(slot, inta, sizeof(inta));
            e = table_add_row(t, row);
        }
    }
    return e < 0 ? e : table_print(t, stdout);
}

int cmd_slots(struct pcictl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"free", no_argument, NULL, 'f'},
        {"bus", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    _cleanup_(json_decrefp) json_t *buses = NULL;
    _cleanup_(freep) char *path = NULL;
    const char *busname = NULL;
    bool only_free = false;
    int c, e;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":fb:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            only_free = true;
            break;
        case 'b':
            busname = optarg;
            break;
        default: {
            int opt = cmd_common_option(ctl, c, argv);

            if (opt != CMD_OPTION_NEXT)
                return opt;
            break;
        }
        }
    }
    if (optind < argc)
        return pcictl_usage_err("slots: unexpected argument '%s'", argv[optind]);
    if (busname) {
        _cleanup_(freep) char *q = rest_escape_query(busname);

        if (!q || asprintf(&path, "/v1/slots?bus=%s", q) < 0)
            return -ENOMEM;
    } else if (!(path = strdup("/v1/slots"))) {
        return -ENOMEM;
    }
    e = cmd_request(ctl, "GET", path, NULL, NULL, &buses);
    if (e < 0)
        return e;
    if (!json_is_array(buses)) {
        pcictl_err("reply to GET %s is not a list of buses", path);
        return -EBADMSG;
    }
    if (only_free && (e = keep_free_slots(buses)) < 0)
        return e;
    return ctl->json ? print_json(buses) : print_slots(buses);
}

/* The devices table: BDF, ID, DRIVER, STATE (pending-unplug, builtin or plugged). */
static int print_devices(const json_t *devs)
{
    static const char *const hdr[] = {"BDF", "ID", "DRIVER", "STATE"};
    _cleanup_(table_freep) struct table *t = NULL;
    const json_t *d;
    size_t i;
    int e = table_new(4, hdr, &t);

    json_array_foreach(devs, i, d)
    {
        const char *state = json_is_true(json_object_get(d, "pending-unplug"))  ? "pending-unplug"
                            : json_is_false(json_object_get(d, "hotpluggable")) ? "builtin"
                                                                                : "plugged";
        const char *row[4] = {
            json_string_value(json_object_get(d, "bdf")),
            json_string_value(json_object_get(d, "id")),
            json_string_value(json_object_get(d, "driver")),
            state,
        };

        if (e < 0)
            return e;
        e = table_add_row(t, row);
    }
    return e < 0 ? e : table_print(t, stdout);
}

int cmd_devices(struct pcictl *ctl, int argc, char **argv)
{
    _cleanup_(json_decrefp) json_t *devs = NULL;
    int e = cmd_simple_args(ctl, argc, argv, 0, 0);

    if (e <= 0)
        return e;
    e = cmd_request(ctl, "GET", "/v1/devices", NULL, NULL, &devs);
    if (e < 0)
        return e;
    if (!json_is_array(devs)) {
        pcictl_err("reply to GET /v1/devices is not a list of devices");
        return -EBADMSG;
    }
    return ctl->json ? print_json(devs) : print_devices(devs);
}

/* Keys whose integer values read best in hex (offsets and addresses). */
static bool hex_key(const char *key)
{
    return strstr(key, "offset") || strstr(key, "addr");
}

/* A capability's decoded fields on one line: "enabled+ table-size=3 table-offset=0x0 ...". */
static char *cap_fields(const json_t *fields)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *key;
    json_t *v;
    bool first = true;

    if (!f)
        return NULL;
    json_object_foreach((json_t *)fields, key, v)
    {
        fputs(first ? "" : " ", f);
        first = false;
        if (json_is_boolean(v)) {
            fprintf(f, "%s%c", key, json_is_true(v) ? '+' : '-');
        } else if (json_is_integer(v)) {
            json_int_t n = json_integer_value(v);

            if (hex_key(key) && n >= 0)
                fprintf(f, "%s=0x%llx", key, (unsigned long long)n);
            else
                fprintf(f, "%s=%" JSON_INTEGER_FORMAT, key, n);
        } else if (json_is_string(v)) {
            fprintf(f, "%s=%s", key, json_string_value(v));
        } else {
            _cleanup_(freep) char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

            fprintf(f, "%s=%s", key, s ? s : "?");
        }
    }
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The capabilities table: OFFSET, ID, NAME, SIZE, FIELDS. */
static int print_caps(const json_t *caps)
{
    static const char *const hdr[] = {"OFFSET", "ID", "NAME", "SIZE", "FIELDS"};
    _cleanup_(table_freep) struct table *t = NULL;
    const json_t *cap;
    size_t i;
    int e = table_new(5, hdr, &t);

    json_array_foreach(caps, i, cap)
    {
        _cleanup_(freep) char *fields = cap_fields(json_object_get(cap, "fields"));
        bool ext = json_is_true(json_object_get(cap, "extended"));
        const char *name = json_string_value(json_object_get(cap, "name"));
        const json_t *ver = json_object_get(cap, "version");
        char off[32], id[32], size[32], vname[160];
        const char *row[5] = {off, id, vname, size, fields};

        if (e < 0 || !fields)
            return -ENOMEM;
        snprintf(off, sizeof(off), ext ? "0x%03llx" : "0x%02llx",
                 (unsigned long long)int_or(cap, "offset", 0));
        snprintf(id, sizeof(id), ext ? "ext 0x%04llx" : "0x%02llx",
                 (unsigned long long)int_or(cap, "cap-id", 0));
        snprintf(size, sizeof(size), "%" JSON_INTEGER_FORMAT, int_or(cap, "size", 0));
        if (json_is_integer(ver))
            snprintf(vname, sizeof(vname), "%s v%" JSON_INTEGER_FORMAT, name ? name : "?",
                     json_integer_value(ver));
        else
            snprintf(vname, sizeof(vname), "%s", name ? name : "");
        e = table_add_row(t, row);
    }
    return e < 0 ? e : table_print(t, stdout);
}

int cmd_caps(struct pcictl *ctl, int argc, char **argv)
{
    _cleanup_(json_decrefp) json_t *caps = NULL;
    _cleanup_(freep) char *path = NULL;
    int e = cmd_simple_args(ctl, argc, argv, 1, 1);

    if (e <= 0)
        return e;
    path = cmd_device_path(argv[e], "/capabilities");
    if (!path)
        return -ENOMEM;
    e = cmd_request(ctl, "GET", path, NULL, NULL, &caps);
    if (e < 0)
        return e;
    if (!json_is_array(caps)) {
        pcictl_err("reply to GET %s is not a list of capabilities", path);
        return -EBADMSG;
    }
    return ctl->json ? print_json(caps) : print_caps(caps);
}

/* The machine: a summary line, then the buses table. */
static int print_machine(const json_t *m)
{
    static const char *const hdr[] = {"BUS",    "NUMBER", "EXPRESS",  "HOTPLUG",
                                      "PARENT", "SLOTS",  "FUNCTIONS"};
    _cleanup_(table_freep) struct table *t = NULL;
    const json_t *bus;
    size_t i;
    int e = table_new(7, hdr, &t);

    if (e < 0)
        return e;
    printf("machine %s (pcid %s), generation %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
           " functions\n",
           json_string_value(json_object_get(m, "type")) ?: "?",
           json_string_value(json_object_get(m, "version")) ?: "?", int_or(m, "generation", 0),
           int_or(m, "functions", 0));
    json_array_foreach(json_object_get(m, "buses"), i, bus)
    {
        char num[8], slots[8], fns[8];
        const char *row[7] = {
            json_string_value(json_object_get(bus, "name")),
            num,
            json_is_true(json_object_get(bus, "express")) ? "yes" : "no",
            json_is_true(json_object_get(bus, "hotpluggable")) ? "yes" : "no",
            json_string_value(json_object_get(bus, "parent")),
            slots,
            fns,
        };

        snprintf(num, sizeof(num), "%02llx", (unsigned long long)int_or(bus, "number", 0));
        snprintf(slots, sizeof(slots), "%lld", (long long)int_or(bus, "slots", 0));
        snprintf(fns, sizeof(fns), "%lld", (long long)int_or(bus, "functions", 0));
        e = table_add_row(t, row);
        if (e < 0)
            return e;
    }
    return table_print(t, stdout);
}

int cmd_machine(struct pcictl *ctl, int argc, char **argv)
{
    _cleanup_(json_decrefp) json_t *m = NULL;
    int e = cmd_simple_args(ctl, argc, argv, 0, 1);

    if (e <= 0)
        return e;
    if (e < argc) {
        if (strcmp(argv[e], "dump"))
            return pcictl_usage_err("machine: unknown subcommand '%s'; only 'machine dump' is "
                                    "known",
                                    argv[e]);
        return cmd_machine_dump(ctl);
    }
    e = cmd_request(ctl, "GET", "/v1/machine", NULL, NULL, &m);
    if (e < 0)
        return e;
    if (!json_is_object(m)) {
        pcictl_err("reply to GET /v1/machine is not an object");
        return -EBADMSG;
    }
    return ctl->json ? print_json(m) : print_machine(m);
}
