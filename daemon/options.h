/* SPDX-License-Identifier: MIT */
/*
 * options.h — pcid's command line, its defaults, and the listening sockets it asks for.
 *
 * Defaults a newcomer can use as is: machine `pc`; QMP on RUNDIR/qmp.sock; REST on
 * RUNDIR/rest.sock and on 127.0.0.1:8086, where RUNDIR is $RUNTIME_DIRECTORY, else /run/pcid as
 * root, else $XDG_RUNTIME_DIR/pcid, else /tmp/pcid-UID. Giving any --qmp (--rest) replaces the
 * default QMP (REST) sockets.
 */
#ifndef PCID_OPTIONS_H
#define PCID_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

struct strv {
    char **v;
    size_t n;
};

struct pcid_options {
    const char *machine;      /* NULL = the default type */
    struct strv devices;      /* --device specs, QEMU -device syntax */
    struct strv blockdevs;    /* --blockdev specs */
    struct strv globals;      /* --global DRIVER.PROP=VALUE, QEMU -global syntax */
    struct strv qmp;          /* "unix:PATH" */
    struct strv rest;         /* "tcp:HOST:PORT" or "unix:PATH" */
    struct strv access;       /* "unix:PATH": qtest access sockets */
    const char *guest;        /* "cooperative" (default) or "none" */
    unsigned eject_delay_ms;  /* the cooperative guest's delay before an eject */
    const char *firmware_log; /* --firmware-log PATH, or NULL */
    uint32_t refuse_unplug;   /* --guest-refuse-unplug: slots of bus 0 the guest will not eject */
    unsigned vcpus;
    /* Persistence (daemon/state/state.h). */
    const char *state_dir;           /* --state-dir DIR, or NULL */
    int no_state;                    /* --no-state */
    const char *machine_description; /* --machine-description FILE, or NULL */
    /* The service (daemon/service.h, daemon/config.h). */
    const char *config;    /* --config FILE, or NULL: the default file (config.h), optional */
    const char *log_level; /* --log-level LEVEL, or NULL: the config file's, else info */
    unsigned given;        /* OPT_GIVEN_*: scalars the command line set (a config file fills
                            * the others; lists count as given when not empty) */
};

#define OPT_GIVEN_GUEST       (1u << 0)
#define OPT_GIVEN_VCPUS       (1u << 1)
#define OPT_GIVEN_EJECT_DELAY (1u << 2)

/*
 * options_parse() - parse argv into *o (strings point into argv or are owned by o).
 * Returns 0 to run, 1 when --help/--version was printed (exit 0), -EINVAL after printing a
 * usage error (exit 2).
 */
int options_parse(int argc, char **argv, struct pcid_options *o);

/* options_apply_defaults() - fill the default sockets; returns 0 or -errno (no run dir). */
int options_apply_defaults(struct pcid_options *o);

void options_free(struct pcid_options *o);

/* strv_push() - append a copy of `v`. Returns 0 or -ENOMEM. strv_free() empties the list. */
int strv_push(struct strv *s, const char *v);
void strv_free(struct strv *s);

/*
 * listen_spec() - open a listening socket for "unix:PATH" (stale socket replaced, mode 0660,
 * parent directory created 0750) or "tcp:HOST:PORT", or take over "fd:N", a listening stream
 * socket passed by systemd (service.h; made non-blocking and close-on-exec). Returns the fd or
 * -errno; on error `why` (len bytes) says what failed.
 */
int listen_spec(const char *spec, char *why, size_t len);

#endif
