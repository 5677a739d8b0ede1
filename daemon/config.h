/* SPDX-License-Identifier: MIT */
/*
 * config.h — the configuration file: `--config FILE`, default CONFIG_DEFAULT_PATH.
 *
 * A JSON object (docs/config.md) with the start-up settings the command line has — machine,
 * vcpus, guest, eject-delay-ms, firmware-log, sockets {qmp, rest, access}, blockdevs, devices,
 * state-dir, no-state — and the settings SIGHUP may change while pcid runs: log-level,
 * limits {...}, token-file. Devices and blockdevs are strings in the command line's syntax or
 * objects of device_add / blockdev-add arguments. Any key pcid does not know is refused,
 * naming the key and the file; so is a value of the wrong type or out of its range, and
 * "state-dir" together with "no-state": true. Nothing is applied from a file that has an
 * error.
 *
 * Precedence: a command-line option wins over the file; a list given on the command line
 * (--device, --blockdev, --qmp, --rest, --access) replaces the file's list of that kind;
 * --state-dir or --no-state replaces both of the file's state settings. Devices and blockdevs
 * of the file are seeds exactly like --device and --blockdev: a machine description saved in
 * the state directory wins over them (daemon/state/state.h).
 *
 * Limits: the file is at most CONFIG_MAX_BYTES; lists hold at most CONFIG_MAX_DEVICES devices,
 * CONFIG_MAX_BLOCKDEVS backends, CONFIG_MAX_GLOBALS globals and CONFIG_MAX_SOCKETS sockets of
 * each kind; a token file is at most CONFIG_MAX_TOKEN bytes.
 *
 * The REST bearer token (auth.h): the file's "token-file", else the systemd credential
 * $CREDENTIALS_DIRECTORY/CONFIG_CREDENTIAL_TOKEN when that exists (also without a file). Either
 * is read at load and at every reload; empty, NUL bytes or unreadable is an error.
 *
 * Errors: -ENOENT (an explicit file is missing), -EINVAL (bad content), -EFBIG, -errno of
 * open/read, -ENOMEM; the text in `why` names the file and the key. Main thread / control
 * thread only (not thread-safe).
 */
#ifndef PCID_CONFIG_H
#define PCID_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit.h"
#include "options.h"

#define CONFIG_DEFAULT_PATH  "/etc/pcid/pcid.json"
#define CONFIG_MAX_BYTES     (1024 * 1024)
#define CONFIG_MAX_DEVICES   8192
#define CONFIG_MAX_BLOCKDEVS 1024
#define CONFIG_MAX_SOCKETS   16
#define CONFIG_MAX_GLOBALS   64
#define CONFIG_MAX_TOKEN     4096
#define CONFIG_WHY_MAX       1024 /* size for the `why` buffers below */
/* The systemd credential read when the file has no "token-file" (LoadCredential=pcid.token). */
#define CONFIG_CREDENTIAL_TOKEN "pcid.token"

/* What SIGHUP may change while pcid runs. */
struct config_runtime {
    int log_level;               /* LOG_ERR..LOG_DEBUG, or -1: not in the file */
    bool has_limit[LIMIT_COUNT]; /* the file sets this limit */
    uint64_t limit[LIMIT_COUNT]; /* its value, in range */
    char *token_file;            /* "token-file" or the credential's path, or NULL */
    char *token;                 /* its content (trailing newline removed), or NULL */
};

struct config {
    char *path;   /* the file read, or NULL when the default file is absent */
    json_t *root; /* the parsed file; owns the strings below */
    /* Start-up settings (read once; a SIGHUP reload only reports that they changed). */
    const char *machine, *guest, *firmware_log; /* NULL when not in the file */
    long vcpus, eject_delay_ms;                 /* -1 when not in the file */
    const char *state_dir;                      /* "state-dir", or NULL */
    int no_state;                               /* "no-state": 1 true, 0 false, -1 absent */
    struct strv qmp, rest, access;              /* socket specs */
    struct strv blockdevs, devices;             /* specs in the command line's syntax */
    struct strv globals;                        /* "DRIVER.PROP=VALUE", as --global */
    struct config_runtime rt;
};

/*
 * config_load() - read and check `path` (NULL: CONFIG_DEFAULT_PATH, which may be absent: then
 * *cfg is empty and 0 is returned). On error *cfg is empty and `why` says what is wrong.
 * Returns 0 or -errno (see above).
 */
int config_load(const char *path, struct config *cfg, char *why, size_t len);

/* config_free() - free what config_load() filled; *cfg is empty after. NULL-safe. */
void config_free(struct config *cfg);

/*
 * config_merge_options() - fill what the command line left unset in `o` from `cfg` (strings
 * in `o` then point into cfg, which must outlive o). Returns 0 or -ENOMEM.
 */
int config_merge_options(const struct config *cfg, struct pcid_options *o);

/*
 * config_apply_runtime() - apply log level, limits and the REST token from `rt`. A log level
 * given on the command line (`cmdline_level`, or NULL) wins over the file's; a limit the file
 * does not set goes back to its default; no token clears it. Returns 0 (every value was
 * range-checked at load), or -ENOMEM copying the token (the old one stays).
 */
int config_apply_runtime(const struct config_runtime *rt, const char *cmdline_level);

/*
 * config_startup_diff() - the names of the start-up settings that differ between `a` and `b`
 * ("machine", "sockets.qmp", "devices", ...), comma-separated into buf (empty: none).
 * Returns buf.
 */
char *config_startup_diff(const struct config *a, const struct config *b, char *buf, size_t len);

#endif
