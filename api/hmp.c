/* SPDX-License-Identifier: MIT */
/*
 * hmp.c — human monitor commands over the command layer, formatted as QEMU 7.2's monitor.
 */
#include "hmp.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "marshal.h"

/* A growing text buffer. */
struct textbuf {
    char *s;
    size_t len, cap;
    bool oom;
};

static void _printf_(2, 3) sb_printf(struct textbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->s && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = MAX(b->cap * 2, b->len + (size_t)n + 256);
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static char *sb_take(struct textbuf *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    if (!b->s)
        return strdup("");
    return b->s;
}

static uint64_t jint(json_t *o, const char *k)
{
    return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void info_pci_device(struct textbuf *b, json_t *dev)
{
    json_t *cls = json_object_get(dev, "class_info");
    json_t *id = json_object_get(dev, "id");
    json_t *bridge = json_object_get(dev, "pci_bridge");
    json_t *region;
    size_t i;

    sb_printf(b, "  Bus %2" PRId64 ", ", (int64_t)jint(dev, "bus"));
    sb_printf(b, "device %3" PRId64 ", function %" PRId64 ":\n", (int64_t)jint(dev, "slot"),
              (int64_t)jint(dev, "function"));
    sb_printf(b, "    ");
    if (json_object_get(cls, "desc"))
        sb_printf(b, "%s", json_string_value(json_object_get(cls, "desc")));
    else
        sb_printf(b, "Class %04" PRIx64, jint(cls, "class"));
    sb_printf(b, ": PCI device %04" PRIx64 ":%04" PRIx64 "\n", jint(id, "vendor"),
              jint(id, "device"));
    if (json_object_get(id, "subsystem-vendor") && json_object_get(id, "subsystem"))
        sb_printf(b, "      PCI subsystem %04" PRIx64 ":%04" PRIx64 "\n",
                  jint(id, "subsystem-vendor"), jint(id, "subsystem"));
    if (json_object_get(dev, "irq"))
        sb_printf(b, "      IRQ %" PRId64 ", pin %c\n", (int64_t)jint(dev, "irq"),
                  (char)('A' + jint(dev, "irq_pin") - 1));
    if (bridge) {
        json_t *bus = json_object_get(bridge, "bus");
        json_t *io = json_object_get(bus, "io_range");
        json_t *mem = json_object_get(bus, "memory_range");
        json_t *pf = json_object_get(bus, "prefetchable_range");

        sb_printf(b, "      BUS %" PRId64 ".\n", (int64_t)jint(bus, "number"));
        sb_printf(b, "      secondary bus %" PRId64 ".\n", (int64_t)jint(bus, "secondary"));
        sb_printf(b, "      subordinate bus %" PRId64 ".\n", (int64_t)jint(bus, "subordinate"));
        sb_printf(b, "      IO range [0x%04" PRIx64 ", 0x%04" PRIx64 "]\n", jint(io, "base"),
                  jint(io, "limit"));
        sb_printf(b, "      memory range [0x%08" PRIx64 ", 0x%08" PRIx64 "]\n", jint(mem, "base"),
                  jint(mem, "limit"));
        sb_printf(b, "      prefetchable memory range [0x%08" PRIx64 ", 0x%08" PRIx64 "]\n",
                  jint(pf, "base"), jint(pf, "limit"));
    }
    json_array_foreach(json_object_get(dev, "regions"), i, region)
    {
        uint64_t addr = jint(region, "address"), size = jint(region, "size");

        sb_printf(b, "      BAR%" PRId64 ": ", (int64_t)jint(region, "bar"));
        if (streq(json_string_value(json_object_get(region, "type")), "io"))
            sb_printf(b, "I/O at 0x%04" PRIx64 " [0x%04" PRIx64 "].\n", addr, addr + size - 1);
        else
            sb_printf(b, "%d bit%s memory at 0x%08" PRIx64 " [0x%08" PRIx64 "].\n",
                      json_is_true(json_object_get(region, "mem_type_64")) ? 64 : 32,
                      json_is_true(json_object_get(region, "prefetch")) ? " prefetchable" : "",
                      addr, addr + size - 1);
    }
    sb_printf(b, "      id \"%s\"\n", json_string_value(json_object_get(dev, "qdev_id")));
    if (bridge) {
        json_t *child;
        json_array_foreach(json_object_get(bridge, "devices"), i, child) info_pci_device(b, child);
    }
}

char *hmp_info_pci_text(json_t *pci)
{
    struct textbuf b = {0};
    json_t *bus, *dev;
    size_t i, j;

    json_array_foreach(pci, i, bus) json_array_foreach(json_object_get(bus, "devices"), j, dev)
        info_pci_device(&b, dev);
    return sb_take(&b);
}

static const char *jstr(json_t *o, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : dflt;
}

/* "INTA: PIRQA, IRQ 10, shared with 0000:00:01.3 (PIIX4_PM)" for the first pin of `intx`. */
static void slot_inta_text(struct textbuf *b, json_t *intx)
{
    json_t *a = json_array_get(intx, 0), *irq, *gsi, *sh;
    size_t i;

    if (!a)
        return;
    sb_printf(b, "; %s: %s", jstr(a, "pin", "INTA"), jstr(a, "pirq", "-"));
    if (jint(a, "bridges"))
        sb_printf(b, " (as %s of root slot %" PRId64 ")", jstr(a, "root-pin", "?"),
                  (int64_t)jint(a, "root-slot"));
    irq = json_object_get(a, "irq");
    gsi = json_object_get(a, "gsi");
    if (json_is_integer(irq))
        sb_printf(b, ", IRQ %" PRId64, (int64_t)json_integer_value(irq));
    else
        sb_printf(b, ", IRQ disabled");
    if (json_is_integer(gsi))
        sb_printf(b, ", GSI %" PRId64, (int64_t)json_integer_value(gsi));
    sh = json_object_get(a, "shared-with");
    json_array_foreach(sh, i, a) sb_printf(b, "%s%s (%s)", i ? ", " : ", shared with ",
                                           jstr(a, "bdf", "?"), jstr(a, "driver", "?"));
}

char *hmp_info_slots_text(json_t *slots)
{
    struct textbuf b = {0};
    json_t *bus, *slot, *w, *fn;
    size_t i, k, j;

    json_array_foreach(slots, i, bus)
    {
        sb_printf(&b, "Bus %3" PRId64 " '%s': %s, hotplug %s%s\n", (int64_t)jint(bus, "bus"),
                  jstr(bus, "bus-id", "?"),
                  json_is_true(json_object_get(bus, "express")) ? "PCI Express" : "PCI",
                  jstr(bus, "hotplug", "none"),
                  json_is_false(json_object_get(bus, "reachable")) ? ", not reachable yet" : "");
        json_array_foreach(json_object_get(bus, "windows"), k, w)
        {
            if (!json_is_true(json_object_get(w, "assigned"))) {
                sb_printf(&b, "  %s window: not assigned\n", jstr(w, "type", "?"));
                continue;
            }
            sb_printf(&b,
                      "  %s window 0x%" PRIx64 "-0x%" PRIx64 ": %" PRIu64
                      " bytes used, largest free block %" PRIu64 "\n",
                      jstr(w, "type", "?"), jint(w, "base"), jint(w, "limit"), jint(w, "used"),
                      jint(w, "largest-free"));
        }
        json_array_foreach(json_object_get(bus, "slots"), k, slot)
        {
            sb_printf(&b, "  slot %2" PRId64 ": %s", (int64_t)jint(slot, "slot"),
                      jstr(slot, "state", "?"));
            json_array_foreach(json_object_get(slot, "functions"), j, fn)
            {
                const char *id = json_string_value(json_object_get(fn, "id"));
                sb_printf(&b, "%s%" PRId64 " %s%s%s%s", j ? ", " : ", ",
                          (int64_t)jint(fn, "function"), jstr(fn, "driver", "?"), id ? " '" : "",
                          id ? id : "", id ? "'" : "");
            }
            slot_inta_text(&b, json_object_get(slot, "intx"));
            sb_printf(&b, "\n");
        }
    }
    return sb_take(&b);
}

char *hmp_crlf(const char *text)
{
    size_t n = 0;
    char *out, *o;

    for (const char *p = text; *p; p++)
        n += *p == '\n' ? 2 : 1;
    out = malloc(n + 1);
    if (!out)
        return NULL;
    o = out;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            *o++ = '\r';
        *o++ = *p;
    }
    *o = 0;
    return out;
}

/* ---- the command line ---- */

struct hmp_cmd {
    const char *name;
    const char *params; /* usage after the name */
    const char *help;
};

static const struct hmp_cmd hmp_cmds[] = {
    {"device_add", "driver[,prop=value][,...]", "add device, like -device on the command line"},
    {"device_del", "device", "remove device"},
    {"help|?", "[cmd]", "show the help"},
    {"info", "[subcommand]", "show various information about the system state"},
    {"system_reset", "", "reset the system"},
};

static const struct hmp_cmd hmp_info_cmds[] = {
    {"pci", "", "show PCI info"},
    {"slots", "", "show each slot's state, its INTA route and each bus's windows (pcid)"},
};

static const char *skip_ws(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

/* The next whitespace-delimited word (QEMU's get_str without quoting), or NULL at the end. */
static char *next_word(const char **pp)
{
    const char *p = skip_ws(*pp), *s = p;
    char *w;

    if (!*p)
        return NULL;
    while (*p && !isspace((unsigned char)*p))
        p++;
    w = strndup(s, (size_t)(p - s));
    *pp = p;
    return w;
}

static void usage_error(struct textbuf *b, const char *cmd, const char *what)
{
    sb_printf(b, "%s: %s\nTry \"help %s\" for more information\n", cmd, what, cmd);
}

static void help_for(struct textbuf *b, const struct hmp_cmd *tab, size_t n, const char *prefix,
                     const char *only)
{
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s", tab[i].name);
        char *bar = strchr(name, '|');
        if (bar)
            *bar = 0;
        if (only && !streq(name, only))
            continue;
        sb_printf(b, "%s%s%s%s -- %s\n", prefix, tab[i].name, *tab[i].params ? " " : "",
                  tab[i].params, tab[i].help);
    }
}

static void device_help(struct api *api, struct textbuf *b, const char *spec)
{
    const struct qdev_driver *drv;
    char *name = strndup(spec, strcspn(spec, ","));

    (void)api;
    if (!name)
        return;
    if (streq(name, "help") || streq(name, "?")) {
        for (size_t i = 0; (drv = qdev_driver_at(i)); i++)
            sb_printf(b, "name \"%s\", bus PCI%s%s%s\n", drv->name, drv->desc ? ", desc \"" : "",
                      drv->desc ? drv->desc : "", drv->desc ? "\"" : "");
    } else if ((drv = qdev_driver_find(name))) {
        const struct qdev_prop *p;
        sb_printf(b, "%s options:\n", drv->name);
        for (size_t i = 0; (p = qdev_prop_at(drv, i)); i++)
            sb_printf(b, "  %s=<%s>%s%s\n", p->name, qdev_prop_type_name(p), p->desc ? " - " : "",
                      p->desc ? p->desc : "");
    } else {
        sb_printf(b, "Error: '%s' is not a valid device model name\n", name);
    }
    free(name);
}

static bool wants_help(const char *spec)
{
    return streq(spec, "help") || streq(spec, "?") || strstr(spec, ",help") || strstr(spec, ",?");
}

/* Run one HMP line; returns the monitor's text with "\n" line ends. */
static char *hmp_run(struct api *api, const char *line)
{
    struct textbuf b = {0};
    const char *p = line;
    char *cmd = next_word(&p);
    struct error err = {0};

    if (!cmd)
        return sb_take(&b);

    if (streq(cmd, "info")) {
        char *sub = next_word(&p);

        if (!sub) {
            help_for(&b, hmp_info_cmds, ARRAY_SIZE(hmp_info_cmds), "info ", NULL);
        } else if (streq(sub, "pci")) {
            if (*skip_ws(p)) {
                /* QEMU names the sub-command in the hint: "help info pci". */
                sb_printf(&b, "pci: extraneous characters at the end of line\n"
                              "Try \"help info pci\" for more information\n");
            } else {
                json_t *pci = marshal_query_pci(api->m);
                char *text = hmp_info_pci_text(pci);
                if (text)
                    sb_printf(&b, "%s", text);
                free(text);
                json_decref(pci);
            }
        } else if (streq(sub, "slots")) {
            if (*skip_ws(p)) {
                sb_printf(&b, "slots: extraneous characters at the end of line\n"
                              "Try \"help info slots\" for more information\n");
            } else {
                json_t *slots = marshal_pci_slots(api->m, NULL);
                char *text = hmp_info_slots_text(slots);
                if (text)
                    sb_printf(&b, "%s", text);
                free(text);
                json_decref(slots);
            }
        } else {
            sb_printf(&b, "unknown command: 'info %s'\n", sub);
        }
        free(sub);
    } else if (streq(cmd, "device_add")) {
        char *spec = next_word(&p);

        if (spec && *skip_ws(p)) {
            usage_error(&b, "device_add", "extraneous characters at the end of line");
        } else if (spec && wants_help(spec)) {
            device_help(api, &b, spec);
        } else if (api_device_add_spec(api, spec ? spec : "", api->m->started, &err) < 0) {
            sb_printf(&b, "Error: %s\n", err.desc);
        }
        free(spec);
    } else if (streq(cmd, "device_del")) {
        char *id = next_word(&p);
        json_t *ret = NULL;

        if (!id) {
            usage_error(&b, "device_del", "string expected");
        } else if (*skip_ws(p)) {
            usage_error(&b, "device_del", "extraneous characters at the end of line");
        } else {
            json_t *args = json_pack("{s:s}", "id", id);
            if (api_cmd_device_del(api, args, &ret, &err) < 0)
                sb_printf(&b, "Error: %s\n", err.desc);
            json_decref(args);
            json_decref(ret);
        }
        free(id);
    } else if (streq(cmd, "system_reset")) {
        if (*skip_ws(p)) {
            usage_error(&b, "system_reset", "extraneous characters at the end of line");
        } else {
            api_emit_event(api, "RESET",
                           json_pack("{s:b,s:s}", "guest", 0, "reason", "host-qmp-system-reset"));
            machine_reset(api->m);
        }
    } else if (streq(cmd, "help") || streq(cmd, "?")) {
        char *what = next_word(&p);

        if (what && streq(what, "info")) {
            char *sub = next_word(&p);
            if (sub)
                help_for(&b, hmp_info_cmds, ARRAY_SIZE(hmp_info_cmds), "info ", sub);
            else
                help_for(&b, hmp_info_cmds, ARRAY_SIZE(hmp_info_cmds), "info ", NULL);
            free(sub);
        } else {
            help_for(&b, hmp_cmds, ARRAY_SIZE(hmp_cmds), "", what);
        }
        free(what);
    } else {
        sb_printf(&b, "unknown command: '%s'\n", cmd);
    }
    free(cmd);
    return sb_take(&b);
}

int api_cmd_hmp(struct api *api, json_t *args, json_t **ret, struct error *err)
{
    const char *line = json_string_value(json_object_get(args, "command-line"));
    json_t *cpu = json_object_get(args, "cpu-index");
    char *text, *crlf;

    /* The modelled guest has one CPU, like QEMU's default -smp 1. */
    if (cpu && json_integer_value(cpu) != 0)
        return error_invalid(err, "Parameter 'cpu-index' expects a CPU number");
    text = hmp_run(api, line);
    if (!text)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");
    crlf = hmp_crlf(text);
    free(text);
    if (!crlf)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "out of memory");
    *ret = json_string(crlf);
    free(crlf);
    return 0;
}

/* Whether `line` is "info pci" (with any spacing), which hmp_run() answers from the topology
 * alone. */
static bool is_info_pci(const char *line)
{
    const char *p = line;
    char *cmd = next_word(&p), *sub = NULL;
    bool yes = false;

    if (cmd && streq(cmd, "info")) {
        sub = next_word(&p);
        yes = sub && streq(sub, "pci") && !*skip_ws(p);
    }
    free(cmd);
    free(sub);
    return yes;
}

int api_text_hmp(struct api *api, json_t *args, size_t flags, char **text, struct error *err)
{
    json_t *cpu = json_object_get(args, "cpu-index");
    bool cacheable = !(cpu && json_integer_value(cpu) != 0) &&
                     is_info_pci(json_string_value(json_object_get(args, "command-line")));
    struct sbuf after = {0};
    const struct api_text *hit;
    json_t *ret = NULL;
    int r;

    if (cacheable && (hit = query_cache_lookup(&api->info_pci, api->m, flags))) {
        *text = strdup(hit->s);
        return *text ? 0 : -ENOMEM;
    }
    if (cacheable)
        query_cache_key(api->m, &api->query_key); /* failing: the answer is not kept */
    r = api_cmd_hmp(api, args, &ret, err);
    if (r < 0)
        return r;
    *text = json_dumps(ret, flags);
    json_decref(ret);
    if (!*text)
        return -ENOMEM;
    /* Kept only if no vCPU moved what it was made from while it was made. */
    if (cacheable && sbuf_ok(&api->query_key) && query_cache_key(api->m, &after) == 0 &&
        after.len == api->query_key.len && !memcmp(after.p, api->query_key.p, after.len)) {
        struct api_text *copy = api_text_new(*text, strlen(*text));

        if (copy)
            query_cache_put(&api->info_pci, &api->query_key, flags, copy);
    }
    sbuf_free(&after);
    return 0;
}
