/* SPDX-License-Identifier: MIT */
/*
 * lspci.c — `pcictl lspci [-x|-xxx|-xxxx] [-s SLOT]`: the machine's functions the way lspci
 * lists them, and with -x their config space as `lspci -x` dumps it, so `lspci -F FILE` decodes
 * pcictl's output exactly as it decodes a dump of QEMU's (the bytes are the device's; only the
 * device line's names differ, since pcictl has no pci.ids and lspci -F ignores them).
 *   (none)  one line per function: "BB:SS.F Class: Device VVVV:DDDD (rev RR)"
 *   -x      plus the standard header, 64 bytes         (-xx is the same, as in lspci)
 *   -xxx    plus all of conventional config space, 256 bytes
 *   -xxxx   plus extended config space, 4096 bytes, where the function has it
 * -s takes lspci's [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] (hex; an empty part or * matches any).
 * --json prints GET /v1/devices/{bdf}/config's JSON for each function selected.
 * Errors follow pcictl.h (a bad -s is a usage error).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cmd.h"

struct slot_filter {
    long domain, bus, slot, func; /* -1: any */
};

/* One part of a -s filter: "" or "*" (any), else hex up to `max`. */
static int filter_part(const char *s, size_t len, long max, long *out)
{
    char buf[16], *end;

    if (!len || (len == 1 && *s == '*')) {
        *out = -1;
        return 0;
    }
    if (len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    *out = strtol(buf, &end, 16);
    return errno || *end || *out < 0 || *out > max || buf[0] == '-' || buf[0] == '+' ? -EINVAL : 0;
}

/* lspci's slot filter syntax, parsed from the right. */
static int filter_parse(const char *s, struct slot_filter *f)
{
    const char *dot = strchr(s, '.'), *end = dot ? dot : s + strlen(s), *parts[3];
    size_t lens[3], n = 0;
    long *fields[3] = {&f->slot, &f->bus, &f->domain};
    static const long max[3] = {0x1f, 0xff, 0xffff};

    *f = (struct slot_filter){-1, -1, -1, -1};
    if (dot && filter_part(dot + 1, strlen(dot + 1), 7, &f->func) < 0)
        return -EINVAL;
    for (const char *p = end;;) {
        const char *colon = p;

        while (colon > s && colon[-1] != ':')
            colon--;
        if (n == 3)
            return -EINVAL;
        parts[n] = colon;
        lens[n++] = (size_t)(p - colon);
        if (colon == s)
            break;
        p = colon - 1;
    }
    for (size_t i = 0; i < n; i++)
        if (filter_part(parts[i], lens[i], max[i], fields[i]) < 0)
            return -EINVAL;
    return 0;
}

static bool filter_match(const struct slot_filter *f, unsigned dom, unsigned bus, unsigned slot,
                         unsigned fn)
{
    return (f->domain < 0 || (unsigned)f->domain == dom) &&
           (f->bus < 0 || (unsigned)f->bus == bus) && (f->slot < 0 || (unsigned)f->slot == slot) &&
           (f->func < 0 || (unsigned)f->func == fn);
}

static int cmp_bdf(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "bdf")),
                  json_string_value(json_object_get(*(json_t *const *)b, "bdf")));
}

/* Hex digits to bytes; returns the byte count or -EBADMSG. */
static int unhex(const char *hex, unsigned char *out, size_t max)
{
    size_t n = strlen(hex) / 2;

    if (strlen(hex) % 2 || n > max)
        return -EBADMSG;
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -EBADMSG;
        out[i] = (unsigned char)v;
    }
    return (int)n;
}

/* Print one function: its line and, with `xs` > 0, the first bytes of its config space. */
static int print_function(const json_t *cfg, int xs)
{
    const char *lspci = json_string_value(json_object_get(cfg, "lspci"));
    const char *hex = json_string_value(json_object_get(cfg, "data"));
    unsigned char bytes[4096];
    int n = hex ? unhex(hex, bytes, sizeof(bytes)) : -EBADMSG, show;

    if (!lspci || n < 64) {
        pcictl_err("pcid's config reply for %s is malformed",
                   json_string_value(json_object_get(cfg, "bdf")));
        return -EBADMSG;
    }
    /* The device line as pcid names it, plus the revision as lspci shows it. */
    printf("%.*s", (int)strcspn(lspci, "\n"), lspci);
    if (bytes[8])
        printf(" (rev %02x)", bytes[8]);
    putchar('\n');
    if (!xs)
        return 0;
    show = xs >= 4 ? n : xs == 3 ? 256 : 64;
    if (show > n)
        show = n;
    for (int i = 0; i < show; i++) {
        if (!(i & 15))
            printf("%02x:", i);
        printf(" %02x", bytes[i]);
        if ((i & 15) == 15)
            putchar('\n');
    }
    putchar('\n');
    return 0;
}

/* Whether GET /v1/slots says configuration cycles reach bus `name` (true if it does not say). */
static bool bus_reachable(const json_t *slots, const char *name)
{
    size_t i;
    const json_t *b;

    json_array_foreach(slots, i, b)
    {
        const json_t *r = json_object_get(b, "reachable");
        const char *id = json_string_value(json_object_get(b, "bus-id"));

        if (name && id && strcmp(id, name) == 0)
            return !json_is_false(r);
    }
    return true;
}

int cmd_lspci(struct pcictl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    static const char *const accept[] = {"Accept: application/json", NULL};
    _cleanup_(json_decrefp) json_t *devs = NULL, *slots = NULL;
    _cleanup_(json_decrefp) json_t *out = json_array();
    _cleanup_(freep) json_t **sel = NULL;
    struct slot_filter f = {-1, -1, -1, -1};
    const json_t *d;
    size_t i, n = 0;
    int c, e, xs = 0;

    if (!out)
        return -ENOMEM;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":xs:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'x':
            xs++;
            break;
        case 's':
            if (filter_parse(optarg, &f) < 0)
                return pcictl_usage_err("lspci: -s takes [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] "
                                        "in hex, not '%s'",
                                        optarg);
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
        return pcictl_usage_err("lspci: unexpected argument '%s'", argv[optind]);
    if (xs > 4)
        return pcictl_usage_err("lspci: at most -xxxx");

    /* Only what a guest's lspci can see: functions on buses a configuration cycle reaches (a
     * bus behind a bridge the guest has not numbered is not; its functions' BDFs would name
     * other functions). */
    e = cmd_request(ctl, "GET", "/v1/slots", NULL, NULL, &slots);
    if (e < 0)
        return e;
    e = cmd_request(ctl, "GET", "/v1/devices", NULL, NULL, &devs);
    if (e < 0)
        return e;
    if (!json_is_array(devs)) {
        pcictl_err("reply to GET /v1/devices is not a list of devices");
        return -EBADMSG;
    }
    sel = calloc(json_array_size(devs) + 1, sizeof(*sel));
    if (!sel)
        return -ENOMEM;
    json_array_foreach(devs, i, d)
    {
        const char *bdf = json_string_value(json_object_get(d, "bdf"));
        unsigned dom, bus, slot, fn;

        if (!bdf || sscanf(bdf, "%4x:%2x:%2x.%1x", &dom, &bus, &slot, &fn) != 4) {
            pcictl_err("reply to GET /v1/devices has a device without a valid bdf");
            return -EBADMSG;
        }
        if (filter_match(&f, dom, bus, slot, fn) &&
            bus_reachable(slots, json_string_value(json_object_get(d, "bus"))))
            sel[n++] = (json_t *)d;
    }
    qsort(sel, n, sizeof(*sel), cmp_bdf);
    for (i = 0; i < n; i++) {
        _cleanup_(freep) char *path =
            cmd_device_path(json_string_value(json_object_get(sel[i], "bdf")), "/config");
        json_t *cfg = NULL;

        if (!path)
            return -ENOMEM;
        e = cmd_request_hdr(ctl, "GET", path, NULL, accept, NULL, &cfg);
        if (e < 0)
            return e;
        if (ctl->json) {
            json_array_append_new(out, cfg);
            continue;
        }
        e = print_function(cfg, xs);
        json_decref(cfg);
        if (e < 0)
            return e;
    }
    return ctl->json ? print_json(out) : 0;
}
