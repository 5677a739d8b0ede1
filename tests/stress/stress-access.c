/* SPDX-License-Identifier: MIT */
/*
 * stress-access — vCPUs read every function's config space while the control plane adds and
 * removes devices underneath, through the daemon's real paths: the control thread (sd-event)
 * running, commands through api_execute() (as QMP and REST call it), removals completed by a
 * vCPU writing the ACPI eject register, system resets now and then.
 *
 * Each vCPU sweeps bus 0 (256 functions), reading the vendor/device dword both through
 * 0xCF8/0xCFC and directly, and checks every value is all-ones (no function) or the IDs of a
 * device that can be there. vCPU 1 also programs the BARs and Command register of the devices
 * it finds and reads their MMIO, so the map changes and BAR handlers run while devices go. vCPU
 * 0 ejects whatever has a removal pending (0xAE04 -> 0xAE08).
 *
 * Bounded: --seconds S (default 2) or --ops N churn operations, whichever ends first. Exit 0
 * when every read was consistent and work was done on both sides; 1 otherwise. Meant to run
 * under AddressSanitizer and ThreadSanitizer too (CI does; see .ci/run).
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/commands.h"
#include "daemon/control.h"
#include "daemon/machine/machine.h"
#include "daemon/vcpu/vcpu.h"

#define CHURN_SLOT_FIRST 2
#define CHURN_SLOT_LAST  31
#define MMIO_BASE        0xe0000000ull /* where vCPU 1 puts churned BARs: slot * 1 MiB */

struct stress {
    struct machine *m;
    struct api *api;
    struct control *ctl;
    struct vcpus *vs;
    double seconds;
    unsigned long max_ops;
    int stop;          /* vCPUs: stop sweeping */
    unsigned sweepers; /* vCPUs still sweeping */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* results */
    uint64_t reads, bad, sweeps, mmio_reads, ejects;
    unsigned long ops, adds, dels, resets, rejected;
    uint32_t bad_value;
    unsigned bad_devfn;
};

/* Every vendor/device dword a function on bus 0 may read back. */
static const uint32_t valid_ids[] = {
    0xffffffffu,                                        /* no function */
    0x12378086u, 0x70008086u, 0x70108086u, 0x71138086u, /* pc built-ins */
    0x100e8086u,                                        /* e1000 */
    0x10001af4u,                                        /* virtio-net-pci (transitional) */
    0x10411af4u,                                        /* virtio-net-pci-non-transitional */
};

static bool id_valid(uint32_t id)
{
    for (size_t i = 0; i < sizeof(valid_ids) / sizeof(valid_ids[0]); i++)
        if (id == valid_ids[i])
            return true;
    return false;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void check(struct stress *s, uint32_t id, unsigned devfn)
{
    __atomic_fetch_add(&s->reads, 1, __ATOMIC_RELAXED);
    if (!id_valid(id)) {
        __atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&s->bad_value, id, __ATOMIC_RELAXED);
        __atomic_store_n(&s->bad_devfn, devfn, __ATOMIC_RELAXED);
    }
}

/* vCPU 1: give a found device's first two BARs addresses, turn decoding on, read them. */
static void program_and_read(struct stress *s, struct vcpu *v, unsigned devfn)
{
    uint64_t base = MMIO_BASE + (uint64_t)(devfn >> 3) * 0x100000;

    vcpu_cfg_write(v, 0, (uint8_t)devfn, 0x10, (uint32_t)base, 4);
    vcpu_cfg_write(v, 0, (uint8_t)devfn, 0x14, (uint32_t)(base + 0x80000), 4);
    vcpu_cfg_write(v, 0, (uint8_t)devfn, 0x04, 0x0007, 2);
    vcpu_read(v, base + 0x8, 4);
    vcpu_read(v, base + 0x80000, 4);
    vcpu_write(v, base + 0x80000 + 0xc, 0, 4); /* MSI-X table entry 0 data, or e1000 space */
    __atomic_fetch_add(&s->mmio_reads, 2, __ATOMIC_RELAXED);
}

static void sweep(struct vcpu *v, void *arg)
{
    struct stress *s = arg;
    unsigned idx = vcpu_index(v);

    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        for (unsigned devfn = 0; devfn < 256; devfn++) {
            uint32_t id;

            vcpu_out(v, 0xcf8, 0x80000000u | devfn << 8, 4);
            id = (uint32_t)vcpu_in(v, 0xcfc, 4);
            check(s, id, devfn);
            check(s, vcpu_cfg_read(v, 0, (uint8_t)devfn, 0, 4), devfn);
            if (idx == 1 && id != 0xffffffffu && (devfn >> 3) >= CHURN_SLOT_FIRST)
                program_and_read(s, v, devfn);
        }
        if (idx == 0) {
            uint32_t down;

            vcpu_out(v, 0xae10, 0, 4);
            down = (uint32_t)vcpu_in(v, 0xae04, 4);
            if (down) {
                vcpu_out(v, 0xae08, down, 4);
                __atomic_fetch_add(&s->ejects, 1, __ATOMIC_RELAXED);
            }
        }
        __atomic_fetch_add(&s->sweeps, 1, __ATOMIC_RELAXED);
        vcpu_quiescent(v);
    }
    pthread_mutex_lock(&s->lock);
    s->sweepers--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static int execute(struct stress *s, const char *cmd, json_t *args)
{
    json_t *ret = NULL;
    struct error err = {0};
    int r = api_execute(s->api, cmd, args, &ret, &err);

    json_decref(args);
    json_decref(ret);
    return r;
}

static void exit_loop(void *arg)
{
    control_exit(arg, 0);
}

/* The control plane's client (a REST thread's role): device_add, device_del, system_reset. */
static void *churn_main(void *arg)
{
    struct stress *s = arg;
    uint64_t end = now_ns() + (uint64_t)(s->seconds * 1e9);
    unsigned seed = 12345;
    static const char *const drivers[] = {"e1000", "virtio-net-pci",
                                          "virtio-net-pci-non-transitional"};

    while (now_ns() < end && s->ops < s->max_ops) {
        unsigned slot = CHURN_SLOT_FIRST + rand_r(&seed) % (CHURN_SLOT_LAST - CHURN_SLOT_FIRST + 1);
        unsigned what = rand_r(&seed) % 100;
        char id[16], addr[8];

        snprintf(id, sizeof(id), "d%u", slot);
        snprintf(addr, sizeof(addr), "0x%x", slot);
        if (what < 1) {
            if (execute(s, "system_reset", json_object()) == 0)
                s->resets++;
        } else if (what < 55) {
            if (execute(s, "device_add",
                        json_pack("{s:s,s:s,s:s}", "driver", drivers[rand_r(&seed) % 3], "id", id,
                                  "addr", addr)) == 0)
                s->adds++;
            else
                s->rejected++; /* slot busy or id in use: a clean error, nothing changed */
        } else {
            if (execute(s, "device_del", json_pack("{s:s}", "id", id)) == 0)
                s->dels++;
            else
                s->rejected++;
        }
        s->ops++;
    }
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&s->lock);
    while (s->sweepers)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    control_post(s->ctl, exit_loop, s->ctl);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seconds", required_argument, NULL, 's'},
        {"ops", required_argument, NULL, 'o'},
        {0},
    };
    struct stress s = {.seconds = 2.0, .max_ops = 1000000};
    struct error err = {0};
    pthread_t churn;
    int opt, ok;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 's')
            s.seconds = atof(optarg);
        else if (opt == 'o')
            s.max_ops = strtoul(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: stress-access [--seconds S] [--ops N]\n");
            return 2;
        }
    }
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    if (machine_new("pc", &s.m, &err) < 0 ||
        api_new(s.m, &(struct api_options){.guest_running = true}, &s.api) < 0 ||
        control_new(s.api, &s.ctl) < 0 ||
        vcpus_new(s.m, s.ctl, &(struct vcpus_config){.n = 2}, &s.vs) < 0) {
        fprintf(stderr, "stress-access: cannot build the machine\n");
        return 1;
    }
    api_start(s.api);
    if (vcpus_start(s.vs) < 0)
        return 1;
    s.sweepers = 2;
    for (unsigned i = 0; i < 2; i++)
        vcpu_post(vcpus_get(s.vs, i), sweep, &s);
    if (pthread_create(&churn, NULL, churn_main, &s) != 0)
        return 1;
    control_run(s.ctl); /* until the churn thread is done */
    pthread_join(churn, NULL);

    struct vcpu_stats st;
    vcpus_stats(s.vs, &st);
    vcpus_free(s.vs);
    control_free(s.ctl);
    api_free(s.api);
    machine_free(s.m);

    ok = s.bad == 0 && s.reads > 0 && s.adds > 0 && s.dels > 0 && s.ejects > 0;
    printf("{\"ok\": %s, \"seconds\": %.1f, \"churn_ops\": %lu, \"adds\": %lu, \"dels\": %lu, "
           "\"resets\": %lu, \"rejected\": %lu, \"ejects\": %llu, \"sweeps\": %llu, "
           "\"config_reads\": %llu, \"bad_reads\": %llu, \"mmio_accesses\": %llu, "
           "\"slow_path\": %llu, \"topology_rebuilds\": %llu}\n",
           ok ? "true" : "false", s.seconds, s.ops, s.adds, s.dels, s.resets, s.rejected,
           (unsigned long long)s.ejects, (unsigned long long)s.sweeps, (unsigned long long)s.reads,
           (unsigned long long)s.bad, (unsigned long long)s.mmio_reads,
           (unsigned long long)st.slow_path, (unsigned long long)st.topology_rebuilds);
    if (s.bad)
        fprintf(stderr, "stress-access: devfn %02x.%u read 0x%08x\n", s.bad_devfn >> 3,
                s.bad_devfn & 7, s.bad_value);
    return ok ? 0 : 1;
}
