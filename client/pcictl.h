/* SPDX-License-Identifier: MIT */
/*
 * pcictl.h — what the files of pcictl share: choosing and calling the daemon's REST API
 * (rest.c), aligned text tables (table.c) and the commands (commands.c). pcictl.c parses the
 * global options and dispatches.
 *
 * Error contract: every function returns >= 0 or -errno, and by the time it returns an error
 * it has already told the user why on stderr (one line, "pcictl: ..."). main() maps the errno
 * to the exit code with pcictl_exit_code():
 *   -EINVAL                  usage error (bad option, argument or environment)  → 2
 *   -ENOTCONN                cannot reach the daemon                           → 3
 *   anything else            the daemon refused, bad reply, out of memory, I/O  → 1
 * Nothing else in pcictl may return -EINVAL or -ENOTCONN.
 */
#ifndef PCICTL_H
#define PCICTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#ifndef PCICTL_VERSION
#define PCICTL_VERSION "0.1.0"
#endif

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

enum pcictl_exit {
    PCICTL_EXIT_OK = 0,
    PCICTL_EXIT_REFUSED = 1,     /* the daemon said no, or its reply made no sense */
    PCICTL_EXIT_USAGE = 2,       /* bad options or arguments */
    PCICTL_EXIT_UNREACHABLE = 3, /* no daemon at the chosen address */
};

static inline void freep(void *p)
{
    free(*(void **)p);
}

/* json_decrefp() comes from jansson (>= 2.11 with GCC/Clang). */
#if JANSSON_VERSION_HEX < 0x020b00
static inline void json_decrefp(json_t **p)
{
    json_decref(*p);
}
#endif

/* Print "pcictl: <text>" to stderr. */
void pcictl_err(const char *fmt, ...) _printf_(1, 2);

/* Print "pcictl: <text> (try 'pcictl --help')" to stderr and return -EINVAL. */
int pcictl_usage_err(const char *fmt, ...) _printf_(1, 2);

/* The exit code (enum pcictl_exit) for a result `r` (>= 0 or -errno) of a command. */
int pcictl_exit_code(int r);

/* Write the full usage text to `f`. */
void pcictl_usage(FILE *f);

/* ---- rest.c ---- */

/* Where the daemon is: a base URL, and a unix socket path when it is reached over one. */
struct rest_target {
    char *base;   /* "http://127.0.0.1:8086" or "http://localhost"; no trailing '/' */
    char *socket; /* unix socket path, or NULL for TCP */
    char *where;  /* for messages: the socket path or the URL as given */
};

/* One HTTP reply; `body` is NUL-terminated (len excludes the NUL). */
struct rest_reply {
    long status;
    char *body;
    size_t len;
};

/*
 * rest_target_init() - choose the daemon: `url` (--url; "unix:/path" means a socket) or
 * `socket` (--socket), else $PCID_URL, else the default socket ($PCID_SOCKET, or
 * $XDG_RUNTIME_DIR/pcid/rest.sock when not root, or /run/pcid/rest.sock).
 * Returns 0, -EINVAL (both options given, URL not http(s)://, empty path) or -ENOMEM.
 */
int rest_target_init(struct rest_target *t, const char *url, const char *socket);

/* Free what rest_target_init() allocated; safe on a zeroed or already freed target. */
void rest_target_done(struct rest_target *t);

/* Free a reply's body; safe on a zeroed reply and usable with _cleanup_. */
void rest_reply_done(struct rest_reply *r);

/*
 * rest_call() - `method` `path` (starting "/v1/") with an optional JSON `body`, and check the
 * status. On HTTP >= 400 prints "pcictl: <desc>" from the error body (and, when `json`, the
 * body itself to stdout).
 * Returns 0 with *r filled (caller frees with rest_reply_done()), -ENOTCONN when the daemon
 * cannot be reached, -EREMOTEIO when it refused, -EPROTO for an unexpected 1xx/3xx status,
 * -ENOMEM.
 */
int rest_call(const struct rest_target *t, const char *method, const char *path, json_t *body,
              bool json, struct rest_reply *r);

/*
 * rest_request() - rest_call() with extra request headers: "Name: value" strings, NULL-
 * terminated (may be NULL). An "Accept:" among them replaces pcictl's default one.
 */
int rest_request(const struct rest_target *t, const char *method, const char *path, json_t *body,
                 const char *const *extra, bool json, struct rest_reply *r);

/*
 * rest_stream() - GET `path` (with `extra` headers, as rest_request()) and hand the body to
 * on_data(data, len, opaque) as it arrives, until pcid ends it. on_data returns >= 0 to go on
 * or -errno to stop. There is no overall time limit; a stream silent for 45 s counts as a lost
 * daemon (pcid writes to idle streams every 15 s).
 * Returns 0 when pcid ended the stream, on_data's error, -ENOTCONN (unreachable, or the
 * connection broke), -EREMOTEIO (pcid refused; message printed), -ENOMEM.
 */
int rest_stream(const struct rest_target *t, const char *path, const char *const *extra,
                int (*on_data)(const char *data, size_t len, void *opaque), void *opaque);

/*
 * rest_reply_json() - parse a reply body as JSON; `what` names the request for the message.
 * Returns 0 and a new reference in *ret, or -EBADMSG (not JSON; message printed).
 */
int rest_reply_json(const struct rest_reply *r, const char *what, json_t **ret);

/*
 * rest_escape_segment() - `s` percent-encoded for use as one URL path segment (keeps letters,
 * digits, "-._~:@" so BDFs stay readable). Returns a malloc'd string, or NULL if out of memory.
 */
char *rest_escape_segment(const char *s);

/*
 * rest_escape_query() - `s` percent-encoded for use as a query-string value.
 * Returns a malloc'd string, or NULL if out of memory.
 */
char *rest_escape_query(const char *s);

/* Pretty-print `v` to stdout with a 2-space indent and a newline. Returns 0 or -EIO. */
int print_json(const json_t *v);

/* ---- table.c ---- */

struct table;

/*
 * table_new() - a table with `ncols` columns named by `headers`.
 * Returns 0 and *ret, or -ENOMEM.
 */
int table_new(size_t ncols, const char *const *headers, struct table **ret);

/* Free a table; NULL is fine. */
void table_free(struct table *t);

static inline void table_freep(struct table **t)
{
    table_free(*t);
}

/*
 * table_add_row() - append a row of `ncols` cells (copied; NULL or "" prints as "-").
 * Returns 0 or -ENOMEM.
 */
int table_add_row(struct table *t, const char *const *cells);

/*
 * table_print() - write the header and rows to `f`, columns padded to their widest cell (in
 * characters, UTF-8 aware), two spaces apart, no trailing blanks. Returns 0 or -EIO.
 */
int table_print(const struct table *t, FILE *f);

/* ---- commands.c ---- */

/* What every command gets: the daemon and the --json flag. */
struct pcictl {
    struct rest_target target;
    bool json;
};

/*
 * The commands. Each takes its own argv (argv[0] is the command name), may accept --json
 * among its options (it sets ctl->json), and returns 0 or -errno per the contract above.
 */
int cmd_info(struct pcictl *ctl, int argc, char **argv);
int cmd_slots(struct pcictl *ctl, int argc, char **argv);
int cmd_add(struct pcictl *ctl, int argc, char **argv);
int cmd_del(struct pcictl *ctl, int argc, char **argv);
int cmd_caps(struct pcictl *ctl, int argc, char **argv);
int cmd_config(struct pcictl *ctl, int argc, char **argv);
int cmd_devices(struct pcictl *ctl, int argc, char **argv);
int cmd_qmp(struct pcictl *ctl, int argc, char **argv);
int cmd_machine(struct pcictl *ctl, int argc, char **argv);
int cmd_lspci(struct pcictl *ctl, int argc, char **argv);
int cmd_events(struct pcictl *ctl, int argc, char **argv);
int cmd_monitor(struct pcictl *ctl, int argc, char **argv);
/* state.c */
int cmd_state(struct pcictl *ctl, int argc, char **argv);
/* cmd_machine_dump() - `machine dump`: print the machine description (GET /v1/machine/description)
 * as JSON. Returns 0 or cmd_request()'s -errno. */
int cmd_machine_dump(struct pcictl *ctl);

#endif
