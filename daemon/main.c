/* SPDX-License-Identifier: MIT */
/*
 * main.c — pcid's entry point: it only orchestrates. Parse options and the configuration file,
 * read the state directory, build the machine, the command layer and the vCPUs, restore (or
 * seed) backends and devices, open the sockets, tell systemd it is ready, run the control loop
 * until SIGTERM, tear down in reverse.
 * Exit status: 0 after a clean stop, 1 on a runtime failure, 2 for bad usage, 78 (EX_CONFIG)
 * for a configuration that cannot start (unknown machine, bad --device, socket in use, a bad
 * or missing configuration file, a damaged or newer machine description).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/commands.h"
#include "log.h"
#include "servers.h"
#include "service.h"
#include "state/state.h"
#include "vcpu/guest.h"
#include "vcpu/vcpu.h"

#define EXIT_USAGE  2
#define EXIT_CONFIG 78

int main(int argc, char **argv)
{
    struct pcid_options o;
    struct machine *m = NULL;
    struct api *api = NULL;
    struct control *ctl = NULL;
    struct vcpus *vs = NULL;
    struct guest *guest = NULL;
    struct servers sv = {0};
    struct state *st = NULL;
    struct service *svc = NULL;
    struct config cfg = {0};
    struct error err = {0};
    char why[512];
    int r, status = EXIT_CONFIG;

    log_open(LOG_TARGET_AUTO);
    r = options_parse(argc, argv, &o);
    if (r != 0) {
        options_free(&o);
        return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
    }
    /* The configuration file under the command line (its devices and blockdevs join o's as
     * seeds), its log level and limits, and the sockets systemd passed. */
    if (service_setup(&o, &cfg) < 0)
        goto out;
    if (options_apply_defaults(&o) < 0 || o.qmp.n > MAX_SERVERS || o.rest.n > MAX_SERVERS ||
        o.access.n > MAX_SERVERS) {
        log_error("too many sockets or out of memory");
        goto out;
    }
    if (api_schema_check(why, sizeof(why)) < 0) { /* a command without schema, or the reverse */
        log_error("built inconsistently: %s", why);
        status = EXIT_FAILURE;
        goto out;
    }
    if (state_open(&(struct state_config){.dir = o.state_dir,
                                          .none = o.no_state,
                                          .description = o.machine_description,
                                          .machine = o.machine},
                   &st, &err) < 0 ||
        machine_new(state_machine_type(st), &m, &err) < 0) {
        log_error("%s", err.desc);
        goto out;
    }
    for (size_t i = 0; i < o.globals.n; i++) {
        r = machine_set_global(m, o.globals.v[i], &err);
        if (r < 0) {
            log_error("--global %s: %s", o.globals.v[i], err.desc);
            goto out;
        }
        if (r > 0)
            log_warning("global %s not used: the %s machine has no such device", o.globals.v[i],
                        m->type->family);
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
                                         .firmware_log = o.firmware_log,
                                         .refuse_unplug = o.refuse_unplug,
                                         .acpi_bridge_hotplug = m->acpi_bridge_hotplug},
                  &guest);
    if (r < 0) {
        log_error("--firmware-log %s: %s", o.firmware_log, strerror(-r));
        goto out;
    }
    /* The saved machine wins; --device/--blockdev and the file's devices only seed. */
    if (state_restore(st, api, o.blockdevs.v, o.blockdevs.n, o.devices.v, o.devices.n, &err) < 0) {
        log_error("%s", err.desc);
        goto out;
    }
    api_start(api);
    if (state_attach(st, api, &err) < 0) { /* the state directory cannot be written */
        log_error("%s", err.desc);
        status = EXIT_FAILURE;
        goto out;
    }
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
    service_ready(svc, &o); /* READY=1: state restored, firmware run, sockets open */

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
    state_free(st);
    machine_free(m);
    options_free(&o);
    config_free(&cfg);
    return status;
}
