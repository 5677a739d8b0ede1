/* SPDX-License-Identifier: MIT */
/*
 * config.c — the configuration file (see config.h and docs/config.md). Every key is checked
 * here, before anything is applied: type, range, and the same syntax rules as the command
 * line's options, so an error names the file and the key rather than surfacing later.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "machine/machine.h"
#include "vcpu/guest.h"

#define VCPUS_MAX 64 /* as --vcpus */

struct ctx {
    const char *path;
    char *why;
    size_t len;
};

static int fail(struct ctx *c, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(struct ctx *c, int r, const char *fmt, ...)
{
    char text[CONFIG_WHY_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(c->why, c->len, "%s: %s", c->path, text);
    return r;
}

/* Read a whole file of at most `max` bytes into a NUL-terminated buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *size)
{
    struct stat st;
    char *buf;
    size_t n = 0;
    /* O_NONBLOCK: a FIFO or device named here must not block pcid; only regular files are read */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), r = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        r = -EFBIG;
        goto out;
    }
    buf = malloc(max + 1);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t k = read(fd, buf + n, max + 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = -errno;
            free(buf);
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > max) { /* grew since fstat */
            r = -EFBIG;
            free(buf);
            goto out;
        }
    }
    buf[n] = 0;
    *out = buf;
    *size = n;
out:
    close(fd);
    return r;
}

static int get_string(struct ctx *c, const char *key, json_t *v, const char **out)
{
    /* jansson refuses "\u0000" without JSON_ALLOW_NUL: a string here is a C string. */
    if (!json_is_string(v) || !json_string_length(v))
        return fail(c, -EINVAL, "'%s' must be a non-empty string", key);
    *out = json_string_value(v);
    return 0;
}

static int get_int(struct ctx *c, const char *key, json_t *v, long long min, long long max,
                   long long *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return fail(c, -EINVAL, "'%s' must be an integer from %lld to %lld", key, min, max);
    *out = json_integer_value(v);
    return 0;
}

/* A socket spec with the command line's rules (options.c). */
static int check_socket(struct ctx *c, const char *kind, size_t i, const char *spec)
{
    bool is_unix = strncmp(spec, "unix:", 5) == 0 && spec[5];
    bool is_tcp = strncmp(spec, "tcp:", 4) == 0 && spec[4];

    if (is_unix || (is_tcp && strcmp(kind, "rest") == 0))
        return 0;
    return fail(c, -EINVAL, "'sockets.%s[%zu]' must be %s, not '%s'", kind, i,
                strcmp(kind, "rest") == 0 ? "tcp:HOST:PORT or unix:PATH" : "unix:PATH", spec);
}

static int parse_sockets(struct ctx *c, json_t *v, struct config *cfg)
{
    static const char *const kinds[] = {"qmp", "rest", "access"};
    struct strv *lists[] = {&cfg->qmp, &cfg->rest, &cfg->access};
    const char *key;
    json_t *list;

    if (!json_is_object(v))
        return fail(c, -EINVAL, "'sockets' must be an object with qmp, rest and access lists");
    json_object_foreach(v, key, list)
    {
        size_t k = 0, i;
        json_t *e;

        while (k < ARRAY_SIZE(kinds) && strcmp(kinds[k], key) != 0)
            k++;
        if (k == ARRAY_SIZE(kinds))
            return fail(c, -EINVAL, "unknown key 'sockets.%s' (known: qmp, rest, access)", key);
        if (!json_is_array(list) || json_array_size(list) > CONFIG_MAX_SOCKETS)
            return fail(c, -EINVAL, "'sockets.%s' must be a list of at most %d socket names", key,
                        CONFIG_MAX_SOCKETS);
        json_array_foreach(list, i, e)
        {
            char name[64];
            const char *spec = NULL;
            int r;

            snprintf(name, sizeof(name), "sockets.%s[%zu]", key, i);
            if ((r = get_string(c, name, e, &spec)) < 0 || (r = check_socket(c, key, i, spec)) < 0)
                return r;
            if (strv_push(lists[k], spec) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int parse_limits(struct ctx *c, json_t *v, struct config_runtime *rt)
{
    const char *key;
    json_t *e;

    if (!json_is_object(v))
        return fail(c, -EINVAL, "'limits' must be an object");
    json_object_foreach(v, key, e)
    {
        int id = limit_find(key);
        const struct limit_def *d;
        char name[96];
        long long val;
        int r;

        if (id < 0) {
            char known[512] = "";
            for (int i = 0; i < LIMIT_COUNT; i++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                         i ? ", " : "", limit_def(i)->name);
            return fail(c, -EINVAL, "unknown key 'limits.%s' (known: %s)", key, known);
        }
        d = limit_def(id);
        snprintf(name, sizeof(name), "limits.%s", key);
        r = get_int(c, name, e, (long long)d->min, (long long)d->max, &val);
        if (r < 0)
            return r;
        rt->has_limit[id] = true;
        rt->limit[id] = (uint64_t)val;
    }
    return 0;
}

/* Read the token in `file`; `what` names where it was given ("'token-file'", "credential"). */
static int read_token(struct ctx *c, const char *what, const char *file, struct config_runtime *rt)
{
    size_t n = 0;
    int r = read_file(file, CONFIG_MAX_TOKEN, &rt->token, &n);

    if (r < 0)
        return fail(c, r == -ENOMEM ? r : -EINVAL, "%s %s: %s", what, file,
                    r == -EFBIG ? "larger than 4096 bytes" : strerror(-r));
    while (n && (rt->token[n - 1] == '\n' || rt->token[n - 1] == '\r'))
        rt->token[--n] = 0;
    if (!n || strlen(rt->token) != n)
        return fail(c, -EINVAL, "%s %s: empty, or holds a NUL byte", what, file);
    rt->token_file = strdup(file);
    return rt->token_file ? 0 : -ENOMEM;
}

/* Without "token-file": the systemd credential CONFIG_CREDENTIAL_TOKEN, if there is one. */
static int read_credential(struct ctx *c, struct config_runtime *rt)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    char file[4096];

    if (rt->token || !dir || !*dir)
        return 0;
    snprintf(file, sizeof(file), "%s/%s", dir, CONFIG_CREDENTIAL_TOKEN);
    if (access(file, F_OK) < 0 && errno == ENOENT)
        return 0;
    return read_token(c, "credential", file, rt);
}

/* Append `s` to f with QEMU's option escaping (',' doubled). */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == ',')
            fputc(',', f);
        fputc(*s, f);
    }
}

/*
 * An object of device_add / blockdev-add arguments as the command line's "driver=X,key=value"
 * text, values as QMP's device_add sees them (numbers as digits, booleans as on/off).
 */
static int object_to_spec(struct ctx *c, const char *what, json_t *obj, char **out)
{
    json_t *drv = json_object_get(obj, "driver"), *v;
    const char *key;
    size_t size;
    FILE *f;
    int r = 0;

    if (!json_is_string(drv) || !json_string_length(drv))
        return fail(c, -EINVAL, "'%s.driver' must be a non-empty string", what);
    f = open_memstream(out, &size);
    if (!f)
        return -ENOMEM;
    fputs("driver=", f);
    put_escaped(f, json_string_value(drv));
    json_object_foreach(obj, key, v)
    {
        if (strcmp(key, "driver") == 0)
            continue;
        if (!*key || strpbrk(key, ",=")) {
            r = fail(c, -EINVAL, "'%s': property name '%s' is not valid", what, key);
            break;
        }
        fprintf(f, ",%s=", key);
        if (json_is_string(v))
            put_escaped(f, json_string_value(v));
        else if (json_is_integer(v))
            fprintf(f, "%lld", (long long)json_integer_value(v));
        else if (json_is_boolean(v))
            fputs(json_is_true(v) ? "on" : "off", f);
        else {
            r = fail(c, -EINVAL, "'%s.%s' must be a string, an integer or a boolean", what, key);
            break;
        }
    }
    fclose(f);
    if (r < 0) {
        free(*out);
        *out = NULL;
    }
    return r;
}

/* "blockdevs" / "devices": a list of command-line specs or argument objects. */
static int parse_specs(struct ctx *c, const char *key, json_t *v, size_t max, struct strv *out)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) > max)
        return fail(c, -EINVAL, "'%s' must be a list of at most %zu entries", key, max);
    json_array_foreach(v, i, e)
    {
        char what[64];
        _cleanup_(freep) char *spec = NULL;
        const char *s = NULL;
        int r;

        snprintf(what, sizeof(what), "%s[%zu]", key, i);
        if (json_is_object(e)) {
            r = object_to_spec(c, what, e, &spec);
        } else if (json_is_string(e)) {
            r = get_string(c, what, e, &s);
            if (r == 0)
                spec = strdup(s);
        } else {
            r = fail(c, -EINVAL, "'%s' must be a string (\"driver,key=value\") or an object", what);
        }
        if (r < 0)
            return r;
        if (!spec || strv_push(out, spec) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* "globals": ["ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off", ...], as --global. */
static int parse_globals(struct ctx *c, json_t *v, struct strv *out)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) > CONFIG_MAX_GLOBALS)
        return fail(c, -EINVAL, "'globals' must be a list of at most %d entries",
                    CONFIG_MAX_GLOBALS);
    json_array_foreach(v, i, e)
    {
        char what[32];
        const char *s = NULL;
        int r;

        snprintf(what, sizeof(what), "globals[%zu]", i);
        if ((r = get_string(c, what, e, &s)) < 0)
            return r;
        if (strv_push(out, s) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int parse_top(struct ctx *c, const char *key, json_t *v, struct config *cfg)
{
    long long n;
    const char *s = NULL;
    int r;

    if (strcmp(key, "machine") == 0)
        return get_string(c, key, v, &cfg->machine);
    if (strcmp(key, "guest") == 0) {
        if ((r = get_string(c, key, v, &s)) < 0)
            return r;
        if (strcmp(s, "cooperative") != 0 && strcmp(s, "none") != 0)
            return fail(c, -EINVAL, "'guest' must be \"cooperative\" or \"none\", not '%s'", s);
        cfg->guest = s;
        return 0;
    }
    if (strcmp(key, "vcpus") == 0) {
        if ((r = get_int(c, key, v, 1, VCPUS_MAX, &n)) == 0)
            cfg->vcpus = (long)n;
        return r;
    }
    if (strcmp(key, "eject-delay-ms") == 0) {
        if ((r = get_int(c, key, v, 0, GUEST_EJECT_DELAY_MAX_MS, &n)) == 0)
            cfg->eject_delay_ms = (long)n;
        return r;
    }
    if (strcmp(key, "firmware-log") == 0)
        return get_string(c, key, v, &cfg->firmware_log);
    if (strcmp(key, "state-dir") == 0)
        return get_string(c, key, v, &cfg->state_dir);
    if (strcmp(key, "no-state") == 0) {
        if (!json_is_boolean(v))
            return fail(c, -EINVAL, "'no-state' must be true or false");
        cfg->no_state = json_is_true(v);
        return 0;
    }
    if (strcmp(key, "sockets") == 0)
        return parse_sockets(c, v, cfg);
    if (strcmp(key, "blockdevs") == 0)
        return parse_specs(c, key, v, CONFIG_MAX_BLOCKDEVS, &cfg->blockdevs);
    if (strcmp(key, "devices") == 0)
        return parse_specs(c, key, v, CONFIG_MAX_DEVICES, &cfg->devices);
    if (strcmp(key, "globals") == 0)
        return parse_globals(c, v, &cfg->globals);
    if (strcmp(key, "log-level") == 0) {
        if ((r = get_string(c, key, v, &s)) < 0)
            return r;
        cfg->rt.log_level = log_level_parse(s);
        if (cfg->rt.log_level < 0)
            return fail(c, -EINVAL,
                        "'log-level' must be err, warning, notice, info or debug, not '%s'", s);
        return 0;
    }
    if (strcmp(key, "limits") == 0)
        return parse_limits(c, v, &cfg->rt);
    if (strcmp(key, "token-file") == 0) {
        if ((r = get_string(c, key, v, &s)) < 0)
            return r;
        return read_token(c, "'token-file'", s, &cfg->rt);
    }
    return fail(c, -EINVAL,
                "unknown key '%s' (known: machine, vcpus, guest, eject-delay-ms, firmware-log, "
                "sockets, blockdevs, devices, globals, state-dir, no-state, log-level, limits, "
                "token-file)",
                key);
}

static void config_init(struct config *cfg)
{
    *cfg = (struct config){.vcpus = -1, .eject_delay_ms = -1, .no_state = -1, .rt.log_level = -1};
}

int config_load(const char *path, struct config *cfg, char *why, size_t len)
{
    struct ctx c = {path ? path : CONFIG_DEFAULT_PATH, why, len};
    _cleanup_(freep) char *text = NULL;
    json_error_t jerr;
    const char *key;
    size_t size = 0;
    json_t *v;
    int r;

    config_init(cfg);
    r = read_file(c.path, CONFIG_MAX_BYTES, &text, &size);
    if (r == -ENOENT && !path) { /* the default file is optional; a credential is not */
        r = read_credential(&c, &cfg->rt);
        if (r < 0)
            config_free(cfg);
        return r;
    }
    if (r < 0)
        return fail(&c, r, "%s",
                    r == -EFBIG ? "larger than the 1 MiB a configuration file may have"
                                : strerror(-r));
    cfg->root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!cfg->root)
        return fail(&c, -EINVAL, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_is_object(cfg->root)) {
        config_free(cfg);
        return fail(&c, -EINVAL, "must hold a JSON object");
    }
    json_object_foreach(cfg->root, key, v)
    {
        r = parse_top(&c, key, v, cfg);
        if (r < 0) {
            config_free(cfg);
            return r;
        }
    }
    if (cfg->state_dir && cfg->no_state == 1) {
        config_free(cfg);
        return fail(&c, -EINVAL, "'state-dir' and 'no-state': true exclude each other");
    }
    r = read_credential(&c, &cfg->rt);
    if (r < 0) {
        config_free(cfg);
        return r;
    }
    cfg->path = strdup(c.path);
    if (!cfg->path) {
        config_free(cfg);
        return -ENOMEM;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    json_decref(cfg->root);
    strv_free(&cfg->qmp);
    strv_free(&cfg->rest);
    strv_free(&cfg->access);
    strv_free(&cfg->blockdevs);
    strv_free(&cfg->devices);
    strv_free(&cfg->globals);
    free(cfg->rt.token_file);
    if (cfg->rt.token) {
        explicit_bzero(cfg->rt.token, strlen(cfg->rt.token));
        free(cfg->rt.token);
    }
    config_init(cfg);
}

static int merge_list(struct strv *dst, const struct strv *src)
{
    if (dst->n) /* given on the command line: it replaces the file's list */
        return 0;
    for (size_t i = 0; i < src->n; i++)
        if (strv_push(dst, src->v[i]) < 0)
            return -ENOMEM;
    return 0;
}

int config_merge_options(const struct config *cfg, struct pcid_options *o)
{
    if (!o->machine && cfg->machine)
        o->machine = cfg->machine;
    if (!(o->given & OPT_GIVEN_GUEST) && cfg->guest)
        o->guest = cfg->guest;
    if (!(o->given & OPT_GIVEN_VCPUS) && cfg->vcpus > 0)
        o->vcpus = (unsigned)cfg->vcpus;
    if (!(o->given & OPT_GIVEN_EJECT_DELAY) && cfg->eject_delay_ms >= 0)
        o->eject_delay_ms = (unsigned)cfg->eject_delay_ms;
    if (!o->firmware_log && cfg->firmware_log)
        o->firmware_log = cfg->firmware_log;
    if (!o->state_dir && !o->no_state) { /* either on the command line replaces both */
        if (cfg->no_state == 1)
            o->no_state = 1;
        else if (cfg->state_dir)
            o->state_dir = cfg->state_dir;
    }
    if (merge_list(&o->qmp, &cfg->qmp) < 0 || merge_list(&o->rest, &cfg->rest) < 0 ||
        merge_list(&o->access, &cfg->access) < 0 ||
        merge_list(&o->blockdevs, &cfg->blockdevs) < 0 ||
        merge_list(&o->devices, &cfg->devices) < 0 || merge_list(&o->globals, &cfg->globals) < 0)
        return -ENOMEM;
    return 0;
}

int config_apply_runtime(const struct config_runtime *rt, const char *cmdline_level)
{
    if (cmdline_level)
        log_set_level(log_level_parse(cmdline_level));
    else
        log_set_level(rt->log_level >= 0 ? rt->log_level : LOG_INFO);
    for (int i = 0; i < LIMIT_COUNT; i++)
        limit_set(i, rt->has_limit[i] ? rt->limit[i] : limit_def(i)->def);
    machine_set_limits((unsigned)limit_get(LIMIT_DEVICES), (unsigned)limit_get(LIMIT_BUSES));
    return auth_set_token(rt->token);
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool strv_eq(const struct strv *a, const struct strv *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

char *config_startup_diff(const struct config *a, const struct config *b, char *buf, size_t len)
{
    const struct {
        const char *name;
        bool same;
    } keys[] = {
        {"machine", str_eq(a->machine, b->machine)},
        {"guest", str_eq(a->guest, b->guest)},
        {"vcpus", a->vcpus == b->vcpus},
        {"eject-delay-ms", a->eject_delay_ms == b->eject_delay_ms},
        {"firmware-log", str_eq(a->firmware_log, b->firmware_log)},
        {"state-dir", str_eq(a->state_dir, b->state_dir)},
        {"no-state", a->no_state == b->no_state},
        {"sockets.qmp", strv_eq(&a->qmp, &b->qmp)},
        {"sockets.rest", strv_eq(&a->rest, &b->rest)},
        {"sockets.access", strv_eq(&a->access, &b->access)},
        {"blockdevs", strv_eq(&a->blockdevs, &b->blockdevs)},
        {"devices", strv_eq(&a->devices, &b->devices)},
        {"globals", strv_eq(&a->globals, &b->globals)},
    };
    size_t used = 0;

    buf[0] = 0;
    for (size_t i = 0; i < ARRAY_SIZE(keys) && used < len; i++) {
        if (keys[i].same)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", keys[i].name);
        if (n > 0)
            used += (size_t)n;
    }
    return buf;
}
