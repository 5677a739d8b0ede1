/* SPDX-License-Identifier: MIT */
/*
 * service.h — pcid as a systemd service: sockets systemd passes, readiness, status, the
 * watchdog, reload on SIGHUP, and shutdown notice (sd_listen_fds_with_names(3), sd_notify(3),
 * sd_watchdog_enabled(3); the unit files are in units/, docs/systemd.md explains them).
 *
 * Without systemd everything degrades to what a plain daemon does: no $LISTEN_FDS means pcid
 * opens its own sockets, no $NOTIFY_SOCKET makes every notification a no-op, no $WATCHDOG_USEC
 * means no watchdog timer; SIGHUP still reloads the configuration file.
 *
 * What is sent, and when:
 *   READY=1       once, after the saved machine is restored from the state directory (or
 *                 seeded), the guest's firmware has run and the sockets are open —
 *                 service_ready(), main.c calls it last; again after each reload.
 *   STATUS=       "machine TYPE: N PCI functions (U added)" at READY and after every
 *                 device change or reset.
 *   WATCHDOG=1    every WATCHDOG_USEC/2 from a timer of the control loop, sent only after the
 *                 timer has taken and released the control lock: a stuck loop or a command
 *                 stuck holding the lock both stop the pings, and systemd restarts pcid.
 *   RELOADING=1   on SIGHUP, before the configuration file is read again.
 *   STOPPING=1    when the control loop ends (SIGTERM, SIGINT) — service_stopping().
 *
 * Threads: everything here on the main/control thread, except service_device_note() (any
 * thread, under the control lock).
 */
#ifndef PCID_SERVICE_H
#define PCID_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "../api/commands.h"
#include "config.h"
#include "control.h"
#include "options.h"

struct service;

/*
 * service_listen_fds() - take the sockets systemd passed ($LISTEN_FDS, $LISTEN_FDNAMES): one
 * named "qmp" serves QMP, "rest" REST (unix or TCP), "access" guest accesses. They are added
 * to `o` as "fd:N" specs, so they replace that kind's default sockets (sockets given on the
 * command line or in the configuration file are opened as well). Call before
 * options_apply_defaults(). Returns how many were taken, or -EINVAL with `why` set for a
 * socket with any other name (FileDescriptorName= missing), -ENOMEM.
 */
int service_listen_fds(struct pcid_options *o, char *why, size_t len);

/*
 * service_setup() - everything before the machine is built: read the configuration file
 * (o->config, else the optional default), merge it under the command line, apply its log level
 * and limits, and take systemd's sockets (service_listen_fds). `cfg` receives the file and must
 * outlive `o`. Returns 0, or -1 after logging what is wrong (the caller exits 78).
 */
int service_setup(struct pcid_options *o, struct config *cfg);

/*
 * service_debug_commands() - true when $PCID_DEBUG_COMMANDS is "1": the test-only commands
 * (x-debug-hang) exist. Logs a warning when they do.
 */
bool service_debug_commands(void);

/*
 * service_new() - install the SIGHUP reload, the watchdog timer and the STATUS updates on the
 * control loop. `cfg` is the configuration read at start (not owned, must outlive the
 * service); `o` the options (for the file name and the command-line log level).
 * Returns 0 and *ret, or -errno.
 */
int service_new(struct control *ctl, struct api *api, const struct config *cfg,
                const struct pcid_options *o, struct service **ret);

/*
 * service_ready() - send READY=1 and STATUS=, and log the start (LOG_ID_START) with the
 * machine, the vCPUs and the sockets of `o`.
 */
void service_ready(struct service *s, const struct pcid_options *o);

/* service_stopping() - send STOPPING=1 and log the stop (LOG_ID_STOP). */
void service_stopping(struct service *s);

/* service_free() - remove what service_new() installed. NULL is fine. */
void service_free(struct service *s);

/*
 * service_device_note() - api_device_note_fn that logs a device added or removed, with
 * LOG_ID_DEVICE_ADDED / LOG_ID_DEVICE_REMOVED and PCID_DEVICE=, PCID_BDF=, PCID_DRIVER=,
 * PCID_HOTPLUG=. A removal arrives with its DEVICE_DELETED, after the machine description was
 * saved without the device; devices restored at start arrive as cold-plugged additions.
 * `opaque` is unused. Any thread.
 */
void service_device_note(void *opaque, const struct api_device_note *n);

#endif
