/* SPDX-License-Identifier: MIT */
/*
 * bench-access — the cost of a guest access on the hot path, with and without the control
 * plane changing the topology underneath.
 *
 * A `pc` machine with virtio-net-pci at 00:03.0 and virtio-blk-pci at 00:04.0 is booted by the
 * cooperative guest's firmware (so BARs are mapped as on a booted QEMU). Then, for each case,
 * 1 or 2 vCPU threads each run batches of 1,000 accesses for --seconds, timing each batch with
 * one clock read on either side; optionally a control thread meanwhile hot-adds and ejects
 * devices (e1000, virtio-net-pci) in slots 0x10-0x17 at --churn operations per second, through
 * the same command layer and eject path as QMP and the guest use. Cases:
 *
 *   cfg_cf8     a configuration read by mechanism #1: outl 0xcf8 + inl 0xcfc (two port
 *               accesses, what a guest does for every config read; `pc` has no ECAM)
 *   cfg_direct  the configuration read alone (vcpu_cfg_read: the access behind 0xcfc or ECAM)
 *   mmio_common a 16-bit MMIO read of a virtio device's common config num_queues (BAR4 +
 *               0x12): vCPU 0 reads virtio-net's (00:03.0), vCPU 1 virtio-blk's (00:04.0), as
 *               each vCPU drives its own device; register state is under each device's lock
 *
 * With --machine q35 the machine is q35 with virtio-net-pci at 00:03.0, a root port at 00:04.0
 * with virtio-net-pci behind it (bus 1), and root ports at slots 0x10-0x17 for the churn (which
 * then hot-adds behind them and ejects their slot). Firmware's part is done directly: PCIEXBAR
 * enables the MMCONFIG window at 0xb0000000, the port at 00:04.0 gets bus 1. The cases are
 * cfg_cf8, cfg_direct and:
 *
 *   cfg_ecam      the same configuration read of 00:03.0 as one MMIO read in the ECAM window
 *   cfg_ecam_bus1 the configuration read of 01:00.0 (behind the root port) through ECAM
 *
 * Output: one JSON line per case and thread count and churn rate:
 *   {"case", "threads", "churn_ops_s", "ns_median", "ns_p99", "ops_s", ...}
 * ns_* are per access, over all batches of all threads; ops_s is accesses per second summed
 * over the threads. Targets (issue 3): cfg median <= 15 ns; 2 threads >= 1.8x one thread with
 * churn; p99 <= 1000 ns.
 *
 * Each case runs --repeat times (default 3) and the median of each figure is printed.
 *
 * Usage: bench-access [--seconds S] [--churn OPS] [--case NAME] [--threads N] [--repeat R]
 *                     [--machine pc|q35]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/commands.h"
#include "daemon/machine/machine.h"
#include "daemon/vcpu/guest.h"
#include "daemon/vcpu/vcpu.h"

#define BATCH       1000
#define MAX_SAMPLES (4 * 1000 * 1000)
#define CHURN_SLOT0 0x10
#define CHURN_SLOTS 8

#define Q35_ECAM 0xb0000000ull

enum bench_case {
    CASE_CFG_CF8,
    CASE_CFG_DIRECT,
    CASE_MMIO_COMMON,
    CASE_CFG_ECAM,
    CASE_CFG_ECAM_BUS1,
    CASE_N
};
static const char *const case_names[CASE_N] = {"cfg_cf8", "cfg_direct", "mmio_common", "cfg_ecam",
                                               "cfg_ecam_bus1"};

struct bench {
    struct machine *m;
    struct api *api;
    struct vcpus *vs;
    struct guest *guest;
    bool q35;
    uint64_t common_cfg[2]; /* guest-physical address of 00:03.0's and 00:04.0's common config */
    /* the run in progress */
    enum bench_case c;
    double seconds;
    unsigned threads;
    pthread_barrier_t start;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned finished;
    int stop_churn;
    uint64_t churn_done;
};

struct worker {
    struct bench *b;
    double *samples; /* ns per access, one per batch */
    size_t n;
    uint64_t accesses;
    uint64_t t0, t1;
    uint64_t sink;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One batch of accesses; returns a value that depends on every read. */
static uint64_t batch(struct vcpu *v, const struct bench *b)
{
    uint64_t acc = 0;

    switch (b->c) {
    case CASE_CFG_CF8:
        for (unsigned i = 0; i < BATCH; i++) {
            vcpu_out(v, 0xcf8, 0x80001800u | ((i & 15u) << 2), 4); /* 00:03.0, dwords 0-15 */
            acc += vcpu_in(v, 0xcfc, 4);
        }
        break;
    case CASE_CFG_DIRECT:
        for (unsigned i = 0; i < BATCH; i++)
            acc += vcpu_cfg_read(v, 0, 0x18, (uint16_t)((i & 15u) << 2), 4);
        break;
    case CASE_MMIO_COMMON:
        for (unsigned i = 0; i < BATCH; i++)
            acc += vcpu_read(v, b->common_cfg[vcpu_index(v) & 1] + 0x12, 2);
        break;
    case CASE_CFG_ECAM: /* 00:03.0: bus 0, devfn 0x18 */
        for (unsigned i = 0; i < BATCH; i++)
            acc += vcpu_read(v, Q35_ECAM + (0x18u << 12) + ((i & 15u) << 2), 4);
        break;
    case CASE_CFG_ECAM_BUS1: /* 01:00.0 */
        for (unsigned i = 0; i < BATCH; i++)
            acc += vcpu_read(v, Q35_ECAM + (1u << 20) + ((i & 15u) << 2), 4);
        break;
    default:
        break;
    }
    return acc;
}

static void measure(struct vcpu *v, void *arg)
{
    struct worker *w = arg;
    struct bench *b = w->b;
    uint64_t end;

    pthread_barrier_wait(&b->start);
    w->t0 = now_ns();
    end = w->t0 + (uint64_t)(b->seconds * 1e9);
    for (uint64_t t = w->t0; t < end && w->n < MAX_SAMPLES;) {
        uint64_t t1;

        w->sink += batch(v, b);
        t1 = now_ns();
        w->samples[w->n++] = (double)(t1 - t) / BATCH;
        w->accesses += BATCH;
        vcpu_quiescent(v); /* as the vCPU loop does between pieces of work */
        t = now_ns();
    }
    w->t1 = now_ns();
    pthread_mutex_lock(&b->lock);
    b->finished++;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

/* The control plane: hot-add into the churn slots and eject them, `rate` operations/s. */
struct churn {
    struct bench *b;
    double rate;
};

/* Remove what the churn put in `slot`: pc's root bus slot, or q35's port cp<slot> (its device
 * 0). Under the control lock. */
static void churn_eject(struct bench *b, unsigned slot)
{
    char name[16];
    struct pci_bus *bus;

    if (!b->q35) {
        machine_eject_slot(b->m, machine_root_bus(b->m), slot);
        return;
    }
    snprintf(name, sizeof(name), "cp%u", slot);
    bus = machine_find_bus(b->m, name);
    if (bus)
        machine_eject_slot(b->m, bus, 0);
}

static void *churn_main(void *arg)
{
    struct churn *c = arg;
    struct bench *b = c->b;
    uint64_t period = (uint64_t)(1e9 / c->rate), next = now_ns();
    unsigned op = 0;

    while (!__atomic_load_n(&b->stop_churn, __ATOMIC_ACQUIRE)) {
        unsigned slot = CHURN_SLOT0 + (op / 2) % CHURN_SLOTS;
        struct error err = {0};
        char spec[96];

        machine_lock(b->m);
        if (op % 2 == 0) {
            if (b->q35)
                snprintf(spec, sizeof(spec), "%s,id=churn%u,bus=cp%u",
                         (op / 2) % 2 ? "e1000" : "virtio-net-pci", slot, slot);
            else
                snprintf(spec, sizeof(spec), "%s,id=churn%u,addr=0x%x",
                         (op / 2) % 2 ? "e1000" : "virtio-net-pci", slot, slot);
            if (api_device_add_spec(b->api, spec, true, &err) < 0)
                fprintf(stderr, "churn: %s\n", err.desc);
        } else {
            churn_eject(b, slot);
        }
        machine_unlock(b->m);
        __atomic_fetch_add(&b->churn_done, 1, __ATOMIC_RELAXED);
        op++;
        next += period;
        uint64_t t = now_ns();
        if (next > t) {
            struct timespec ts = {.tv_sec = (time_t)((next - t) / 1000000000ull),
                                  .tv_nsec = (long)((next - t) % 1000000000ull)};
            nanosleep(&ts, NULL);
        }
    }
    /* Leave the churn slots empty for the next case. */
    machine_lock(b->m);
    for (unsigned s = 0; s < CHURN_SLOTS; s++)
        churn_eject(b, CHURN_SLOT0 + s);
    machine_unlock(b->m);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

struct result {
    double median, p99, max, ops_s;
    size_t batches;
    uint64_t churn_done;
};

static int run_once(struct bench *b, enum bench_case c, unsigned threads, double churn_rate,
                    struct result *res)
{
    struct worker w[VCPU_MAX] = {0};
    struct churn ch = {.b = b, .rate = churn_rate};
    pthread_t churn_thread;
    double *all, ops_s, wall = 0;
    size_t n_all = 0;
    uint64_t accesses = 0;

    b->c = c;
    b->threads = threads;
    b->finished = 0;
    b->stop_churn = 0;
    b->churn_done = 0;
    pthread_barrier_init(&b->start, NULL, threads + 1);
    for (unsigned i = 0; i < threads; i++) {
        w[i].b = b;
        w[i].samples = malloc(MAX_SAMPLES * sizeof(double));
        if (!w[i].samples)
            return -ENOMEM;
        vcpu_post(vcpus_get(b->vs, i), measure, &w[i]);
    }
    if (churn_rate > 0 && pthread_create(&churn_thread, NULL, churn_main, &ch) != 0)
        return -EAGAIN;
    pthread_barrier_wait(&b->start);
    pthread_mutex_lock(&b->lock);
    while (b->finished < threads)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    if (churn_rate > 0) {
        __atomic_store_n(&b->stop_churn, 1, __ATOMIC_RELEASE);
        pthread_join(churn_thread, NULL);
    }
    pthread_barrier_destroy(&b->start);

    for (unsigned i = 0; i < threads; i++)
        n_all += w[i].n;
    all = malloc((n_all ? n_all : 1) * sizeof(double));
    if (!all)
        return -ENOMEM;
    n_all = 0;
    for (unsigned i = 0; i < threads; i++) {
        memcpy(all + n_all, w[i].samples, w[i].n * sizeof(double));
        n_all += w[i].n;
        accesses += w[i].accesses;
        if ((double)(w[i].t1 - w[i].t0) / 1e9 > wall)
            wall = (double)(w[i].t1 - w[i].t0) / 1e9;
        free(w[i].samples);
    }
    qsort(all, n_all, sizeof(double), cmp_double);
    ops_s = wall > 0 ? (double)accesses / wall : 0;
    *res = (struct result){.median = n_all ? all[n_all / 2] : 0,
                           .p99 = n_all ? all[(size_t)((double)n_all * 0.99)] : 0,
                           .max = n_all ? all[n_all - 1] : 0,
                           .ops_s = ops_s,
                           .batches = n_all,
                           .churn_done = b->churn_done};
    free(all);
    return 0;
}

static double median_of(double *v, unsigned n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return v[n / 2];
}

/* Run a case `repeat` times and print the median of each figure (this machine is a VM whose
 * speed drifts by tens of percent from one second to the next). */
static int run_case(struct bench *b, enum bench_case c, unsigned threads, double churn_rate,
                    unsigned repeat)
{
    double med[16], p99[16], mx[16], ops[16];
    size_t batches = 0;
    uint64_t churn_done = 0;

    for (unsigned i = 0; i < repeat; i++) {
        struct result r;
        int err = run_once(b, c, threads, churn_rate, &r);

        if (err < 0)
            return err;
        med[i] = r.median;
        p99[i] = r.p99;
        mx[i] = r.max;
        ops[i] = r.ops_s;
        batches += r.batches;
        churn_done += r.churn_done;
    }
    printf("{\"case\": \"%s\", \"threads\": %u, \"churn_ops_s\": %.0f, \"ns_median\": %.2f, "
           "\"ns_p99\": %.2f, \"ns_max\": %.2f, \"ops_s\": %.0f, \"repeats\": %u, "
           "\"batches\": %zu, \"churn_ops_done\": %llu}\n",
           case_names[c], threads, churn_rate, median_of(med, repeat), median_of(p99, repeat),
           median_of(mx, repeat), median_of(ops, repeat), repeat, batches,
           (unsigned long long)churn_done);
    fflush(stdout);
    return 0;
}

/* Firmware's part on q35, done directly under the device locks: the MMCONFIG window on, bus
 * numbers 1 for the port at 00:04.0. */
static void q35_firmware(struct bench *b)
{
    struct pci_bus *root = machine_root_bus(b->m);
    struct pci_device *mch = root->devices[0], *rp = root->devices[0x20];

    pthread_mutex_lock(&mch->lock);
    pci_dev_config_write(mch, 0x60, (uint32_t)Q35_ECAM | 1, 4);
    pthread_mutex_unlock(&mch->lock);
    pthread_mutex_lock(&rp->lock);
    pci_dev_config_write(rp, PCI_PRIMARY_BUS, 1u << 8 | 1u << 16, 4);
    pthread_mutex_unlock(&rp->lock);
}

static int setup_q35(struct bench *b)
{
    struct error err = {0};
    char spec[96];

    if (machine_new("q35", &b->m, &err) < 0 ||
        api_new(b->m, &(struct api_options){.guest_running = true}, &b->api) < 0 ||
        vcpus_new(b->m, NULL, &(struct vcpus_config){.n = 2}, &b->vs) < 0) {
        fprintf(stderr, "bench-access: cannot build the machine: %s\n", err.desc);
        return -1;
    }
    machine_lock(b->m);
    for (unsigned i = 0; i < 3 + CHURN_SLOTS; i++) {
        if (i == 0)
            snprintf(spec, sizeof(spec), "virtio-net-pci,id=net0,addr=0x3");
        else if (i == 1)
            snprintf(spec, sizeof(spec), "pcie-root-port,id=rp1,chassis=1,slot=1,addr=0x4");
        else if (i == 2)
            snprintf(spec, sizeof(spec), "virtio-net-pci,id=net1,bus=rp1");
        else
            snprintf(spec, sizeof(spec), "pcie-root-port,id=cp%u,chassis=2,slot=%u,addr=0x%x",
                     CHURN_SLOT0 + i - 3, i, CHURN_SLOT0 + i - 3);
        if (api_device_add_spec(b->api, spec, false, &err) < 0) {
            machine_unlock(b->m);
            fprintf(stderr, "bench-access: %s\n", err.desc);
            return -1;
        }
    }
    machine_unlock(b->m);
    api_start(b->api);
    if (vcpus_start(b->vs) < 0)
        return -1;
    q35_firmware(b);
    machine_lock(b->m);
    vcpus_rebuild(b->vs);
    machine_unlock(b->m);
    return 0;
}

static int setup(struct bench *b)
{
    struct error err = {0};
    static const char *const devices[] = {"virtio-net-pci,id=net0,addr=0x3",
                                          "virtio-blk-pci,id=blk0,addr=0x4,drive=null0"};
    uint32_t lo, hi;
    int r;

    if (machine_new("pc", &b->m, &err) < 0 ||
        api_new(b->m, &(struct api_options){.guest_running = true}, &b->api) < 0 ||
        vcpus_new(b->m, NULL, &(struct vcpus_config){.n = 2}, &b->vs) < 0) {
        fprintf(stderr, "bench-access: cannot build the machine: %s\n", err.desc);
        return -1;
    }
    r = guest_new(b->vs, &(struct guest_config){.mode = GUEST_COOPERATIVE}, &b->guest);
    if (r < 0)
        return r;
    if (api_blockdev_add_spec(b->api, "driver=null-co,node-name=null0", &err) < 0)
        return -1;
    machine_lock(b->m);
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        if (api_device_add_spec(b->api, devices[i], false, &err) < 0) {
            machine_unlock(b->m);
            fprintf(stderr, "bench-access: %s\n", err.desc);
            return -1;
        }
    machine_unlock(b->m);
    api_start(b->api);
    if (vcpus_start(b->vs) < 0 || guest_boot(b->guest) < 0)
        return -1;
    /* Where the firmware put BAR4 (64-bit) of 00:03.0 and 00:04.0; the common config is at
     * offset 0. */
    for (unsigned i = 0; i < 2; i++) {
        const uint8_t *cfg = b->m->buses[0]->devices[0x18 + 8 * i]->config;

        lo = le_get32(cfg + 0x20);
        hi = le_get32(cfg + 0x24);
        b->common_cfg[i] = ((uint64_t)hi << 32 | lo) & ~0xfull;
        if (!b->common_cfg[i]) {
            fprintf(stderr, "bench-access: the firmware did not map BAR4 of 00:0%u.0\n", 3 + i);
            return -1;
        }
    }
    /* The firmware's BAR writes made the map stale; with no control thread here, publish the
     * rebuilt map now (the daemon's control thread does this on its own). */
    machine_lock(b->m);
    vcpus_rebuild(b->vs);
    machine_unlock(b->m);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seconds", required_argument, NULL, 's'}, {"churn", required_argument, NULL, 'c'},
        {"case", required_argument, NULL, 'k'},    {"threads", required_argument, NULL, 't'},
        {"repeat", required_argument, NULL, 'r'},  {"machine", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},          {0},
    };
    struct bench b = {.seconds = 1.0};
    double churn = 1000;
    const char *only = NULL;
    unsigned only_threads = 0, repeat = 3;
    int opt;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            b.seconds = atof(optarg);
            break;
        case 'c':
            churn = atof(optarg);
            break;
        case 'k':
            only = optarg;
            break;
        case 't':
            only_threads = (unsigned)atoi(optarg);
            break;
        case 'r':
            repeat = (unsigned)atoi(optarg);
            break;
        case 'm':
            if (strcmp(optarg, "pc") && strcmp(optarg, "q35")) {
                fprintf(stderr, "bench-access: --machine pc or q35\n");
                return 2;
            }
            b.q35 = !strcmp(optarg, "q35");
            break;
        default:
            fprintf(stderr, "usage: bench-access [--seconds S] [--churn OPS] [--case NAME] "
                            "[--threads N] [--repeat R] [--machine pc|q35]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (b.seconds <= 0 || b.seconds > 600 || churn <= 0 || churn > 1e6 || repeat < 1 ||
        repeat > 15) {
        fprintf(stderr, "bench-access: --seconds 0..600, --churn 0..1e6, --repeat 1..15\n");
        return 2;
    }
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    if ((b.q35 ? setup_q35(&b) : setup(&b)) < 0)
        return 1;
    for (int c = 0; c < CASE_N; c++) {
        if (only && strcmp(only, case_names[c]) != 0)
            continue;
        /* pc has no ECAM; q35 has no firmware here to map the virtio BARs. */
        if (b.q35 ? c == CASE_MMIO_COMMON : c >= CASE_CFG_ECAM)
            continue;
        for (unsigned threads = 1; threads <= 2; threads++) {
            if (only_threads && threads != only_threads)
                continue;
            for (int with_churn = 0; with_churn <= 1; with_churn++)
                if (run_case(&b, (enum bench_case)c, threads, with_churn ? churn : 0, repeat) < 0)
                    return 1;
        }
    }
    vcpus_free(b.vs);
    if (b.guest)
        guest_free(b.guest);
    api_free(b.api);
    machine_free(b.m);
    return 0;
}
