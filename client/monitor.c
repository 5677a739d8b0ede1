/* SPDX-License-Identifier: MIT */
/*
 * monitor.c — `pcictl monitor`: QEMU's human monitor (HMP) over pcid's REST API. Each line
 * goes to pcid as human-monitor-command (POST /v1/qmp) and its text is printed, as QEMU's
 * `(qemu)` prompt does. On a terminal it is an editable prompt (libedit, emacs keys) with
 * history (saved in $PCICTL_HISTORY, else $XDG_STATE_HOME/pcictl/history, else
 * ~/.local/state/pcictl/history; MONITOR_HISTORY lines) and Tab completion of commands,
 * `info` topics, drivers (device_add) and device ids (device_del), all asked of pcid when
 * needed. Otherwise lines are read from standard input without a prompt (scripts).
 * `quit` or `exit` (or end of input) leaves the monitor; pcid keeps running.
 * Errors follow pcictl.h: a line pcid refuses prints its message and the monitor goes on;
 * losing pcid ends it (-ENOTCONN).
 */
#include <errno.h>
#include <getopt.h>
#include <histedit.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

#define MONITOR_HISTORY 1000 /* lines kept in the history file */
#define MAX_CANDIDATES  512  /* completion candidates considered */

int cmd_hmp(struct pcictl *ctl, const char *line, char **text)
{
    _cleanup_(json_decrefp) json_t *req = json_pack(
        "{s:s,s:{s:s}}", "execute", "human-monitor-command", "arguments", "command-line", line);
    _cleanup_(json_decrefp) json_t *reply = NULL;
    const char *out, *desc;
    int e;

    *text = NULL;
    if (!req)
        return pcictl_usage_err("monitor: the line is not valid UTF-8");
    e = cmd_request(ctl, "POST", "/v1/qmp", req, NULL, &reply);
    if (e < 0)
        return e;
    desc = json_string_value(json_object_get(json_object_get(reply, "error"), "desc"));
    if (desc) {
        pcictl_err("%s", desc);
        return -EREMOTEIO;
    }
    out = json_string_value(json_object_get(reply, "return"));
    *text = strdup(out ? out : "");
    if (!*text)
        return -ENOMEM;
    /* The monitor speaks CRLF. */
    for (char *p = *text, *q = *text;; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        *q++ = *p;
        if (!*p)
            break;
    }
    return 0;
}

/* Run one line; returns 1 to leave, 0 to go on, -ENOTCONN when pcid is gone. */
static int run_line(struct pcictl *ctl, const char *line)
{
    _cleanup_(freep) char *text = NULL;
    size_t n = strspn(line, " \t");
    int e;

    if (!line[n])
        return 0;
    if (!strcmp(line + n, "quit") || !strcmp(line + n, "exit") || !strcmp(line + n, "q"))
        return 1;
    e = cmd_hmp(ctl, line + n, &text);
    if (e == -ENOTCONN || e == -ENOMEM)
        return e;
    if (text)
        fputs(text, stdout);
    fflush(stdout);
    return 0;
}

/* ---- completion ---- */

struct words {
    char *v[MAX_CANDIDATES];
    size_t n;
};

static void words_free(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    w->n = 0;
}

static void words_add(struct words *w, const char *s, size_t len)
{
    for (size_t i = 0; i < w->n; i++)
        if (strlen(w->v[i]) == len && !strncmp(w->v[i], s, len))
            return;
    if (w->n < MAX_CANDIDATES && (w->v[w->n] = strndup(s, len)))
        w->n++;
}

/* The first word of each line of HMP `line`'s output, split at '|' ("help|?"). */
static void hmp_first_words(struct pcictl *ctl, const char *line, size_t skip, struct words *w)
{
    _cleanup_(freep) char *text = NULL;

    if (cmd_hmp(ctl, line, &text) < 0 || !text)
        return;
    for (char *p = text; *p;) {
        char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);

        if (len > skip) {
            char *s = p + skip;
            size_t n = strcspn(s, " \n");

            while (n) {
                size_t k = strcspn(s, "|");

                k = k < n ? k : n;
                words_add(w, s, k);
                s += k + (k < n);
                n -= k + (k < n);
            }
        }
        p = eol ? eol + 1 : p + len;
    }
}

/* Drivers from `device_add help`: lines `name "e1000", bus PCI, ...`. */
static void drivers(struct pcictl *ctl, struct words *w)
{
    _cleanup_(freep) char *text = NULL;

    if (cmd_hmp(ctl, "device_add help", &text) < 0 || !text)
        return;
    for (char *p = strstr(text, "name \""); p; p = strstr(p, "name \"")) {
        p += 6;
        words_add(w, p, strcspn(p, "\""));
    }
}

/* Device ids from GET /v1/devices. */
static void device_ids(struct pcictl *ctl, struct words *w)
{
    _cleanup_(json_decrefp) json_t *devs = NULL;
    bool json = ctl->json;
    const json_t *d;
    size_t i;

    ctl->json = false;
    if (cmd_request(ctl, "GET", "/v1/devices", NULL, NULL, &devs) == 0)
        json_array_foreach(devs, i, d)
        {
            const char *id = json_string_value(json_object_get(d, "id"));

            if (id)
                words_add(w, id, strlen(id));
        }
    ctl->json = json;
}

/* The candidates for word number `idx` of a line whose first word is `first`. */
static void candidates(struct pcictl *ctl, size_t idx, const char *first, struct words *w)
{
    if (idx == 0) {
        hmp_first_words(ctl, "help", 0, w);
        words_add(w, "quit", 4);
    } else if (idx == 1 && !strcmp(first, "info")) {
        hmp_first_words(ctl, "help info", 5, w);
    } else if (idx == 1 && (!strcmp(first, "help") || !strcmp(first, "?"))) {
        hmp_first_words(ctl, "help", 0, w);
    } else if (idx == 1 && !strcmp(first, "device_add")) {
        drivers(ctl, w);
    } else if (idx == 1 && !strcmp(first, "device_del")) {
        device_ids(ctl, w);
    }
}

static unsigned char complete(EditLine *el, int ch)
{
    const LineInfo *li = el_line(el);
    struct pcictl *ctl = NULL;
    struct words w = {0};
    char line[1024], first[64] = "";
    size_t len = (size_t)(li->cursor - li->buffer), idx = 0, start = 0, plen, common = 0;
    const char *match = NULL;
    unsigned char ret = CC_ERROR;

    (void)ch;
    el_get(el, EL_CLIENTDATA, &ctl);
    if (len >= sizeof(line))
        return CC_ERROR;
    memcpy(line, li->buffer, len);
    line[len] = 0;
    /* Which word the cursor is in (idx, starting at `start`), and the first word. */
    for (size_t i = 0, nwords = 0;;) {
        size_t end;

        i += strspn(line + i, " \t");
        if (i >= len) {
            idx = nwords; /* a new, empty word */
            start = len;
            break;
        }
        end = i + strcspn(line + i, " \t");
        if (!nwords)
            snprintf(first, sizeof(first), "%.*s", (int)(end - i), line + i);
        if (end >= len) {
            idx = nwords;
            start = i;
            break;
        }
        nwords++;
        i = end;
    }
    plen = len - start;
    candidates(ctl, idx, first, &w);
    for (size_t i = 0; i < w.n; i++) {
        if (strncmp(w.v[i], line + start, plen))
            continue;
        if (!match) {
            match = w.v[i];
            common = strlen(match);
        } else {
            size_t k = plen;

            while (k < common && match[k] == w.v[i][k])
                k++;
            common = k;
            ret = CC_REDISPLAY; /* more than one */
        }
    }
    if (match && ret != CC_REDISPLAY) {
        char add[256];

        snprintf(add, sizeof(add), "%s ", match + plen);
        el_insertstr(el, add);
        ret = CC_REFRESH;
    } else if (match && common > plen) {
        char add[256];

        snprintf(add, sizeof(add), "%.*s", (int)(common - plen), match + plen);
        el_insertstr(el, add);
        ret = CC_REFRESH;
    } else if (match) {
        fputc('\n', stdout);
        for (size_t i = 0; i < w.n; i++)
            if (!strncmp(w.v[i], line + start, plen))
                printf("%s\n", w.v[i]);
        fflush(stdout);
        ret = CC_REDISPLAY;
    }
    words_free(&w);
    return ret;
}

/* ---- the prompt ---- */

static char *prompt(EditLine *el)
{
    (void)el;
    return "(pcid) ";
}

/* The history file: $PCICTL_HISTORY, else $XDG_STATE_HOME/pcictl/history, else
 * ~/.local/state/pcictl/history (directories made 0700 when missing). NULL: none. */
static char *history_path(void)
{
    const char *env = getenv("PCICTL_HISTORY"), *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char *dir = NULL, *path = NULL;

    if (env)
        return *env ? strdup(env) : NULL;
    if (state && *state) {
        if (asprintf(&dir, "%s/pcictl", state) < 0)
            return NULL;
    } else if (home && *home) {
        char *p;

        if (asprintf(&dir, "%s/.local/state/pcictl", home) < 0)
            return NULL;
        for (p = strchr(dir + strlen(home) + 1, '/'); p; p = strchr(p + 1, '/')) {
            *p = 0;
            mkdir(dir, 0700);
            *p = '/';
        }
    } else {
        return NULL;
    }
    mkdir(dir, 0700);
    if (asprintf(&path, "%s/history", dir) < 0)
        path = NULL;
    free(dir);
    return path;
}

static int interactive(struct pcictl *ctl)
{
    _cleanup_(freep) char *hpath = history_path();
    EditLine *el = el_init("pcictl", stdin, stdout, stderr);
    History *hist = history_init();
    HistEvent ev;
    const char *line;
    int count, r = 0;

    if (!el || !hist) {
        if (el)
            el_end(el);
        if (hist)
            history_end(hist);
        return -ENOMEM;
    }
    history(hist, &ev, H_SETSIZE, MONITOR_HISTORY);
    history(hist, &ev, H_SETUNIQUE, 1);
    if (hpath)
        history(hist, &ev, H_LOAD, hpath);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_SIGNAL, 1);
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, hist);
    el_set(el, EL_CLIENTDATA, ctl);
    /* The wide form keeps our (static) strings; the narrow one copies them and libedit never
     * frees the copies. */
    el_wset(el, EL_ADDFN, L"pcictl-complete", L"complete a command, driver or device id", complete);
    el_set(el, EL_BIND, "^I", "pcictl-complete", NULL);
    el_source(el, NULL); /* the user's ~/.editrc */

    printf("pcid monitor over %s - 'help' lists commands, 'quit' leaves\n", ctl->target.where);
    while ((line = el_gets(el, &count)) && count > 0) {
        _cleanup_(freep) char *l = strndup(line, strcspn(line, "\r\n"));

        if (!l) {
            r = -ENOMEM;
            break;
        }
        if (l[strspn(l, " \t")]) {
            history(hist, &ev, H_ENTER, l);
            if (hpath)
                history(hist, &ev, H_SAVE, hpath);
        }
        r = run_line(ctl, l);
        if (r != 0)
            break;
    }
    if (!line)
        putchar('\n');
    el_end(el);
    history_end(hist);
    return r < 0 ? r : 0;
}

static int scripted(struct pcictl *ctl)
{
    _cleanup_(freep) char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int r = 0;

    while ((n = getline(&buf, &cap, stdin)) >= 0) {
        buf[strcspn(buf, "\r\n")] = 0;
        r = run_line(ctl, buf);
        if (r != 0)
            break;
    }
    return r < 0 ? r : 0;
}

int cmd_monitor(struct pcictl *ctl, int argc, char **argv)
{
    int i = cmd_simple_args(ctl, argc, argv, 0, 0);

    if (i <= 0)
        return i;
    return isatty(STDIN_FILENO) ? interactive(ctl) : scripted(ctl);
}
