/* SPDX-License-Identifier: MIT */
/*
 * main.c — pcid's entry point: it only orchestrates. Parse options, build the machine and the
 * command layer, cold-plug backends and devices, open the QMP and REST sockets, run the control
 * loop until SIGTERM, tear down.
 * Exit status: 0 after a clean stop, 1 on a runtime failure, 2 for bad usage, 78 (EX_CONFIG)
 * for a configuration that cannot start (unknown machine, bad --device, socket in use).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/commands.h"
#include "control.h"
#include "monitor/qmp.h"
#include "options.h"
#include "rest/rest.h"

#define EXIT_USAGE  2
#define EXIT_CONFIG 78

#define MAX_SERVERS 16

static int cold_plug(struct api *api, const struct pcid_options *o)
{
    struct machine *m = api_machine(api);
    struct error err = {0};

    for (size_t i = 0; i < o->blockdevs.n; i++) {
        if (api_blockdev_add_spec(api, o->blockdevs.v[i], &err) < 0) {
            fprintf(stderr, "pcid: --blockdev %s: %s\n", o->blockdevs.v[i], err.desc);
            return -1;
        }
    }
    for (size_t i = 0; i < o->devices.n; i++) {
        int r;

        machine_lock(m);
        r = api_device_add_spec(api, o->devices.v[i], false, &err);
        machine_unlock(m);
        if (r < 0) {
            fprintf(stderr, "pcid: --device %s: %s\n", o->devices.v[i], err.desc);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct pcid_options o;
    struct machine *m = NULL;
    struct api *api = NULL;
    struct control *ctl = NULL;
    struct qmp_server *qmp[MAX_SERVERS] = {0};
    struct rest_server *rest[MAX_SERVERS] = {0};
    const char *made[2 * MAX_SERVERS] = {0}; /* unix sockets this process created */
    size_t n_made = 0;
    struct error err = {0};
    int r, status = EXIT_CONFIG;
    char why[512];

    r = options_parse(argc, argv, &o);
    if (r != 0) {
        options_free(&o);
        return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
    }
    if (options_apply_defaults(&o) < 0 || o.qmp.n > MAX_SERVERS || o.rest.n > MAX_SERVERS) {
        fprintf(stderr, "pcid: too many sockets or out of memory\n");
        goto out;
    }
    if (machine_new(o.machine, &m, &err) < 0) {
        fprintf(stderr, "pcid: %s\n", err.desc);
        goto out;
    }
    if (api_new(m, &(struct api_options){.guest_running = false}, &api) < 0 ||
        control_new(api, &ctl) < 0) {
        fprintf(stderr, "pcid: cannot start the control loop\n");
        status = EXIT_FAILURE;
        goto out;
    }
    if (cold_plug(api, &o) < 0)
        goto out;
    api_start(api);

    for (size_t i = 0; i < o.qmp.n; i++) {
        int fd = listen_spec(o.qmp.v[i], why, sizeof(why));
        if (fd >= 0 && strncmp(o.qmp.v[i], "unix:", 5) == 0)
            made[n_made++] = o.qmp.v[i] + 5;
        if (fd < 0 || qmp_server_new(ctl, fd, &qmp[i]) < 0) {
            fprintf(stderr, "pcid: QMP: %s\n", fd < 0 ? why : "cannot serve");
            goto out;
        }
    }
    for (size_t i = 0; i < o.rest.n; i++) {
        int fd = listen_spec(o.rest.v[i], why, sizeof(why));
        if (fd >= 0 && strncmp(o.rest.v[i], "unix:", 5) == 0)
            made[n_made++] = o.rest.v[i] + 5;
        if (fd < 0 || rest_server_new(api, fd, &rest[i]) < 0) {
            fprintf(stderr, "pcid: REST: %s\n", fd < 0 ? why : "cannot serve");
            goto out;
        }
    }
    fprintf(stderr, "pcid %s: machine %s, %u functions; QMP %s; REST %s%s%s\n", PCID_VERSION,
            m->type->name, machine_device_count(m), o.qmp.v[0], o.rest.v[0],
            o.rest.n > 1 ? ", " : "", o.rest.n > 1 ? o.rest.v[1] : "");

    r = control_run(ctl);
    status = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

out:
    for (size_t i = 0; i < MAX_SERVERS; i++) {
        rest_server_free(rest[i]);
        qmp_server_free(qmp[i]);
    }
    for (size_t i = 0; i < n_made; i++)
        unlink(made[i]);
    control_free(ctl);
    api_free(api);
    machine_free(m);
    options_free(&o);
    return status;
}
