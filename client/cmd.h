/* SPDX-License-Identifier: MIT */
/*
 * cmd.h — helpers the command files (commands.c, control.c) share. Errors follow pcictl.h.
 */
#ifndef PCICTL_CMD_H
#define PCICTL_CMD_H

#include "pcictl.h"

/*
 * cmd_bad_option() - report getopt_long()'s complaint `c` ('?' unknown option, ':' missing
 * value) about command `cmd`. Returns -EINVAL.
 */
int cmd_bad_option(const char *cmd, int c, char **argv);

#define CMD_OPTION_NEXT 1 /* cmd_common_option(): handled, go on parsing */

/*
 * cmd_common_option() - the options every command has, for getopt_long()'s result `c` that a
 * command did not handle itself: 'j' (--json) sets ctl->json, 'h' (--help) prints the usage,
 * anything else is reported with cmd_bad_option(). Returns CMD_OPTION_NEXT to go on parsing,
 * 0 when the command is done (help shown), or -EINVAL.
 */
int cmd_common_option(struct pcictl *ctl, int c, char **argv);

/*
 * cmd_simple_args() - parse the options of a command that has only --json and --help, and
 * check it has between `min` and `max` positional arguments.
 * Returns the index of the first positional argument (>= 1), 0 when --help was printed (the
 * command is done), or -EINVAL.
 */
int cmd_simple_args(struct pcictl *ctl, int argc, char **argv, int min, int max);

/*
 * cmd_request() - `method` `path` with optional JSON `body`, expecting a 2xx JSON reply.
 * Returns 0 with *ret (new reference) and, if `status` is not NULL, the HTTP status; or
 * -ENOTCONN, -EREMOTEIO, -EPROTO, -EBADMSG, -ENOMEM (messages printed).
 */
int cmd_request(struct pcictl *ctl, const char *method, const char *path, json_t *body,
                long *status, json_t **ret);

/* cmd_request_hdr() - cmd_request() with extra request headers (rest_request()). */
int cmd_request_hdr(struct pcictl *ctl, const char *method, const char *path, json_t *body,
                    const char *const *headers, long *status, json_t **ret);

/*
 * cmd_hmp() - run one human monitor command line through POST /v1/qmp; *text receives the
 * monitor's output (malloc'd, LF line ends). Returns 0 or -errno (messages printed; a QMP
 * error is -EREMOTEIO).
 */
int cmd_hmp(struct pcictl *ctl, const char *line, char **text);

/*
 * cmd_device_path() - "/v1/devices/<dev><suffix>" with `dev` (an id or BDF) escaped.
 * Returns a malloc'd string, or NULL if out of memory.
 */
char *cmd_device_path(const char *dev, const char *suffix);

#endif
