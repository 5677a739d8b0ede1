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
 * --machine q35: the same over a q35 machine with root ports rp2-rp9 cold-plugged at slots
 * 2-9. vCPU 0 enables the MMCONFIG window (MCH PCIEXBAR) and gives each root port its bus
 * numbers again whenever a reset cleared them; every vCPU sweeps bus 0 and buses 2-9 through
 * ECAM and directly; the churn adds and removes functions behind the ports (e1000,
 * virtio-net-pci, pcie-pci-bridge — a bridge's own bus joins and leaves the tree while vCPUs
 * route through it), removals completing at system_reset (ACPI hotplug, as QEMU 7.2).
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
#define Q35_PORT_FIRST   2             /* q35: root ports rpN at 00:N.0, secondary bus N */
#define Q35_PORT_LAST    9
#define Q35_ECAM         0xb0000000ull /* PCIEXBAR as firmware sets it */
#define MCH_PCIEXBAR     0x60

struct stress {
    struct machine *m;
    struct api *api;
    struct control *ctl;
    struct vcpus *vs;
    double seconds;
    unsigned long max_ops;
    bool q35;
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
    0x29c08086u, 0x29188086u, 0x29228086u, 0x29308086u, /* q35 built-ins */
    0x000c1b36u, 0x000e1b36u,                           /* pcie-root-port, pcie-pci-bridge */
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

/* q35, vCPU 0: what firmware does, again after every reset: MMCONFIG on, port bus numbers. */
static void q35_firmware(struct vcpu *v)
{
    if (vcpu_cfg_read(v, 0, 0, MCH_PCIEXBAR, 4) != (uint32_t)Q35_ECAM + 1)
        vcpu_cfg_write(v, 0, 0, MCH_PCIEXBAR, (uint32_t)Q35_ECAM + 1, 4);
    for (unsigned slot = Q35_PORT_FIRST; slot <= Q35_PORT_LAST; slot++)
        if (vcpu_cfg_read(v, 0, (uint8_t)(slot << 3), PCI_SECONDARY_BUS, 1) != slot)
            vcpu_cfg_write(v, 0, (uint8_t)(slot << 3), PCI_PRIMARY_BUS, slot << 8 | slot << 16, 4);
}

/* q35: the buses behind the ports, through ECAM (a window that is off reads all-ones) and the
 * direct path. */
static void q35_sweep_ports(struct stress *s, struct vcpu *v)
{
    for (unsigned bus = Q35_PORT_FIRST; bus <= Q35_PORT_LAST; bus++) {
        for (unsigned devfn = 0; devfn < 256; devfn += 8) {
            uint64_t a = Q35_ECAM + ((uint64_t)bus << 20) + ((uint64_t)devfn << 12);

            uint32_t id = (uint32_t)vcpu_read(v, a, 4);

            /* After a reset the window is off until vCPU 0 turns it on again: unassigned
             * memory reads 0, as in QEMU. */
            check(s, id ? id : 0xffffffffu, bus << 8 | devfn);
            check(s, vcpu_cfg_read(v, (uint8_t)bus, (uint8_t)devfn, 0, 4), bus << 8 | devfn);
        }
    }
}

static void sweep(struct vcpu *v, void *arg)
{
    struct stress *s = arg;
    unsigned idx = vcpu_index(v);

    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        if (s->q35) {
            if (idx == 0)
                q35_firmware(v);
            q35_sweep_ports(s, v);
        }
        for (unsigned devfn = 0; devfn < 256; devfn++) {
            uint32_t id;

            vcpu_out(v, 0xcf8, 0x80000000u | devfn << 8, 4);
            id = (uint32_t)vcpu_in(v, 0xcfc, 4);
            check(s, id, devfn);
            check(s, vcpu_cfg_read(v, 0, (uint8_t)devfn, 0, 4), devfn);
            if (!s->q35 && idx == 1 && id != 0xffffffffu && (devfn >> 3) >= CHURN_SLOT_FIRST)
                program_and_read(s, v, devfn);
        }
        if (idx == 0 && !s->q35) {
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
    static const char *const q35_drivers[] = {"e1000", "virtio-net-pci", "pcie-pci-bridge"};
    unsigned first = s->q35 ? Q35_PORT_FIRST : CHURN_SLOT_FIRST;
    unsigned last = s->q35 ? Q35_PORT_LAST : CHURN_SLOT_LAST;
    /* q35 removals wait for a reset (ACPI): reset more often. */
    unsigned reset_pct = s->q35 ? 3 : 1;

    while (now_ns() < end && s->ops < s->max_ops) {
        unsigned slot = first + rand_r(&seed) % (last - first + 1);
        unsigned what = rand_r(&seed) % 100;
        char id[16], addr[8], bus[16];
        json_t *args;

        snprintf(id, sizeof(id), "d%u", slot);
        snprintf(addr, sizeof(addr), "0x%x", slot);
        snprintf(bus, sizeof(bus), "rp%u", slot);
        if (what < reset_pct) {
            if (execute(s, "system_reset", json_object()) == 0)
                s->resets++;
        } else if (what < 55) {
            if (s->q35)
                args = json_pack("{s:s,s:s,s:s}", "driver", q35_drivers[rand_r(&seed) % 3], "id",
                                 id, "bus", bus);
            else
                args = json_pack("{s:s,s:s,s:s}", "driver", drivers[rand_r(&seed) % 3], "id", id,
                                 "addr", addr);
            if (execute(s, "device_add", args) == 0)
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

/* q35: the cold-plugged root ports the churn works behind. */
static int add_ports(struct stress *s)
{
    struct error err = {0};
    char spec[96];
    int r = 0;

    machine_lock(s->m);
    for (unsigned slot = Q35_PORT_FIRST; slot <= Q35_PORT_LAST && r == 0; slot++) {
        snprintf(spec, sizeof(spec), "pcie-root-port,id=rp%u,chassis=1,slot=%u,addr=0x%x", slot,
                 slot, slot);
        r = api_device_add_spec(s->api, spec, false, &err);
    }
    machine_unlock(s->m);
    if (r < 0)
        fprintf(stderr, "stress-access: %s\n", err.desc);
    return r;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seconds", required_argument, NULL, 's'},
        {"ops", required_argument, NULL, 'o'},
        {"machine", required_argument, NULL, 'm'},
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
        else if (opt == 'm' && (!strcmp(optarg, "pc") || !strcmp(optarg, "q35")))
            s.q35 = !strcmp(optarg, "q35");
        else {
            fprintf(stderr, "usage: stress-access [--seconds S] [--ops N] [--machine pc|q35]\n");
            return 2;
        }
    }
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    if (machine_new(s.q35 ? "q35" : "pc", &s.m, &err) < 0 ||
        api_new(s.m, &(struct api_options){.guest_running = true}, &s.api) < 0 ||
        (s.q35 && add_ports(&s) < 0) || control_new(s.api, &s.ctl) < 0 ||
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

    /* pc removals complete through the guest's eject; q35's (ACPI) at reset. */
    ok = s.bad == 0 && s.reads > 0 && s.adds > 0 && s.dels > 0 &&
         (s.q35 ? s.resets > 0 : s.ejects > 0);
    printf("{\"ok\": %s, \"seconds\": %.1f, \"churn_ops\": %lu, \"adds\": %lu, \"dels\": %lu, "
           "\"resets\": %lu, \"rejected\": %lu, \"ejects\": %llu, \"sweeps\": %llu, "
           "\"config_reads\": %llu, \"bad_reads\": %llu, \"mmio_accesses\": %llu, "
           "\"slow_path\": %llu, \"topology_rebuilds\": %llu}\n",
           ok ? "true" : "false", s.seconds, s.ops, s.adds, s.dels, s.resets, s.rejected,
           (unsigned long long)s.ejects, (unsigned long long)s.sweeps, (unsigned long long)s.reads,
           (unsigned long long)s.bad, (unsigned long long)s.mmio_reads,
           (unsigned long long)st.slow_path, (unsigned long long)st.topology_rebuilds);
    if (s.bad)
        fprintf(stderr, "stress-access: %02x:%02x.%u read 0x%08x\n", s.bad_devfn >> 8,
                (s.bad_devfn >> 3) & 0x1f, s.bad_devfn & 7, s.bad_value);
    return ok ? 0 : 1;
}
