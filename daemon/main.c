/* SPDX-License-Identifier: MIT */
/*
 * main.c — pcid's entry point: it only orchestrates. Parse options, build the machine, the
 * command layer and the vCPUs, cold-plug backends and devices, open the sockets, run the control
 * loop until SIGTERM, tear down in reverse.
 * Exit status: 0 after a clean stop, 1 on a runtime failure, 2 for bad usage, 78 (EX_CONFIG)
 * for a configuration that cannot start (unknown machine, bad --device, socket in use).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/commands.h"
#include "servers.h"
#include "vcpu/guest.h"
#include "vcpu/vcpu.h"

#define EXIT_USAGE  2
#define EXIT_CONFIG 78

static int cold_plug(struct api *api, const struct pcid_options *o)
{
    struct error err = {0};
    for (size_t i = 0; i < o->blockdevs.n; i++) {
        if (api_blockdev_add_spec(api, o->blockdevs.v[i], &err) < 0) {
            fprintf(stderr, "pcid: --blockdev %s: %s\n", o->blockdevs.v[i], err.desc);
            return -1;
        }
    }
    for (size_t i = 0; i < o->devices.n; i++) {
        int r;

        machine_lock(api_machine(api));
        r = api_device_add_spec(api, o->devices.v[i], false, &err);
        machine_unlock(api_machine(api));
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
    struct vcpus *vs = NULL;
    struct guest *guest = NULL;
    struct servers sv = {0};
    struct error err = {0};
    int r, status = EXIT_CONFIG;

    r = options_parse(argc, argv, &o);
    if (r != 0) {
        options_free(&o);
        return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
    }
    if (options_apply_defaults(&o) < 0 || o.qmp.n > MAX_SERVERS || o.rest.n > MAX_SERVERS ||
        o.access.n > MAX_SERVERS) {
        fprintf(stderr, "pcid: too many sockets or out of memory\n");
        goto out;
    }
    if (machine_new(o.machine, &m, &err) < 0) {
        fprintf(stderr, "pcid: %s\n", err.desc);
        goto out;
    }
    for (size_t i = 0; i < o.globals.n; i++) {
        r = machine_set_global(m, o.globals.v[i], &err);
        if (r < 0) {
            fprintf(stderr, "pcid: --global %s: %s\n", o.globals.v[i], err.desc);
            goto out;
        }
        if (r > 0)
            fprintf(stderr, "pcid: warning: global %s not used\n", o.globals.v[i]);
    }
    bool cooperative = strcmp(o.guest, "cooperative") == 0;
    if (api_new(m, &(struct api_options){.guest_running = cooperative}, &api) < 0 ||
        control_new(api, &ctl) < 0 ||
        vcpus_new(m, ctl, &(struct vcpus_config){.n = o.vcpus}, &vs) < 0) {
        fprintf(stderr, "pcid: cannot start the control loop or the vCPUs\n");
        status = EXIT_FAILURE;
        goto out;
    }
    r = guest_new(vs,
                  &(struct guest_config){.mode = cooperative ? GUEST_COOPERATIVE : GUEST_NONE,
                                         .eject_delay_ns = o.eject_delay_ms * 1000000ULL,
                                         .firmware_log = o.firmware_log,
                                         .acpi_bridge_hotplug = m->acpi_bridge_hotplug},
                  &guest);
    if (r < 0) {
        fprintf(stderr, "pcid: --firmware-log %s: %s\n", o.firmware_log, strerror(-r));
        goto out;
    }
    if (cold_plug(api, &o) < 0)
        goto out;
    api_start(api);
    if (vcpus_start(vs) < 0)
        goto out;
    /* The guest's firmware runs before any socket opens: clients see a booted machine. */
    r = guest_boot(guest);
    if (r < 0)
        fprintf(stderr, "pcid: the guest's firmware failed: %s\n", strerror(-r));
    unsigned functions = machine_device_count(m); /* before other threads may change it */
    if (servers_open(&sv, &o, ctl, api, vs) < 0)
        goto out;
    fprintf(stderr, "pcid %s: machine %s, %u functions, %u vCPUs, guest %s; QMP %s; REST %s%s%s\n",
            PCID_VERSION, m->type->name, functions, o.vcpus, o.guest, o.qmp.v[0], o.rest.v[0],
            o.rest.n > 1 ? ", " : "", o.rest.n > 1 ? o.rest.v[1] : "");

    r = control_run(ctl);
    status = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

out:
    servers_close_front(&sv);
    vcpus_free(vs);
    guest_free(guest);
    servers_close_access(&sv);
    control_free(ctl);
    api_free(api);
    machine_free(m);
    options_free(&o);
    return status;
}
