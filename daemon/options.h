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
    unsigned vcpus;
};

/*
 * options_parse() - parse argv into *o (strings point into argv or are owned by o).
 * Returns 0 to run, 1 when --help/--version was printed (exit 0), -EINVAL after printing a
 * usage error (exit 2).
 */
int options_parse(int argc, char **argv, struct pcid_options *o);

/* options_apply_defaults() - fill the default sockets; returns 0 or -errno (no run dir). */
int options_apply_defaults(struct pcid_options *o);

void options_free(struct pcid_options *o);

/*
 * listen_spec() - open a listening socket for "unix:PATH" (stale socket replaced, mode 0660,
 * parent directory created 0750) or "tcp:HOST:PORT". Returns the fd or -errno; on error
 * `why` (len bytes) says what failed.
 */
int listen_spec(const char *spec, char *why, size_t len);

#endif
