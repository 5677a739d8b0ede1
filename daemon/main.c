/* SPDX-License-Identifier: MIT */
/*
 * main.c — pcid's entry point: it only orchestrates. Parse options and the configuration file,
 * build the machine, the command layer and the vCPUs, cold-plug backends and devices, open the
 * sockets, tell systemd it is ready, run the control loop until SIGTERM, tear down in reverse.
 * Exit status: 0 after a clean stop, 1 on a runtime failure, 2 for bad usage, 78 (EX_CONFIG)
 * for a configuration that cannot start (unknown machine, bad --device, socket in use, a bad
 * or missing configuration file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/commands.h"
#include "log.h"
#include "servers.h"
#include "service.h"
#include "vcpu/guest.h"
#include "vcpu/vcpu.h"

#define EXIT_USAGE  2
#define EXIT_CONFIG 78

static int cold_plug(struct api *api, const struct pcid_options *o)
{
    struct error err = {0};
    for (size_t i = 0; i < o->blockdevs.n; i++) {
        if (api_blockdev_add_spec(api, o->blockdevs.v[i], &err) < 0) {
            log_error("blockdev %s: %s", o->blockdevs.v[i], err.desc);
            return -1;
        }
    }
    for (size_t i = 0; i < o->devices.n; i++) {
        int r;

        machine_lock(api_machine(api));
        r = api_device_add_spec(api, o->devices.v[i], false, &err);
        machine_unlock(api_machine(api));
        if (r < 0) {
            log_error("device %s: %s", o->devices.v[i], err.desc);
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
    struct vcpus *vs = NULL;
    struct guest *guest = NULL;
    struct servers sv = {0};
    struct service *svc = NULL;
    struct config cfg = {0};
    struct error err = {0};
    int r, status = EXIT_CONFIG;

    log_open(LOG_TARGET_AUTO);
    r = options_parse(argc, argv, &o);
    if (r != 0) {
        options_free(&o);
        return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
    }
    if (service_setup(&o, &cfg) < 0) /* config file, its runtime settings, systemd's sockets */
        goto out;
    if (options_apply_defaults(&o) < 0 || o.qmp.n > MAX_SERVERS || o.rest.n > MAX_SERVERS ||
        o.access.n > MAX_SERVERS) {
        log_error("too many sockets or out of memory");
        goto out;
    }
    if (machine_new(o.machine, &m, &err) < 0) {
        log_error("%s", err.desc);
        goto out;
    }
    bool cooperative = strcmp(o.guest, "cooperative") == 0;
    if (api_new(m,
                &(struct api_options){.guest_running = cooperative,
                                      .debug_commands = service_debug_commands(),
                                      .device_note = service_device_note},
                &api) < 0 ||
        control_new(api, &ctl) < 0 ||
        vcpus_new(m, ctl, &(struct vcpus_config){.n = o.vcpus}, &vs) < 0) {
        log_error("cannot start the control loop or the vCPUs");
        status = EXIT_FAILURE;
        goto out;
    }
    r = guest_new(vs,
                  &(struct guest_config){.mode = cooperative ? GUEST_COOPERATIVE : GUEST_NONE,
                                         .eject_delay_ns = o.eject_delay_ms * 1000000ULL,
                                         .firmware_log = o.firmware_log},
                  &guest);
    if (r < 0) {
        log_error("--firmware-log %s: %s", o.firmware_log, strerror(-r));
        goto out;
    }
    /* Issue 5(b) hook — RESTORE: the saved machine description is restored here (it wins over
     * cold_plug's devices), before the sockets open and before READY=1 below. */
    if (cold_plug(api, &o) < 0)
        goto out;
    api_start(api);
    if (vcpus_start(vs) < 0)
        goto out;
    /* The guest's firmware runs before any socket opens: clients see a booted machine. */
    r = guest_boot(guest);
    if (r < 0)
        log_error("the guest's firmware failed: %s", strerror(-r));
    if (servers_open(&sv, &o, ctl, api, vs) < 0)
        goto out;
    if (service_new(ctl, api, &cfg, &o, &svc) < 0) {
        log_error("cannot set up the systemd notifications");
        status = EXIT_FAILURE;
        goto out;
    }
    service_ready(svc, &o); /* READY=1: sockets open, machine built */

    r = control_run(ctl);
    service_stopping(svc);
    status = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

out:
    service_free(svc);
    servers_close_front(&sv);
    vcpus_free(vs);
    guest_free(guest);
    servers_close_access(&sv);
    control_free(ctl);
    api_free(api);
    machine_free(m);
    options_free(&o);
    config_free(&cfg);
    return status;
}
