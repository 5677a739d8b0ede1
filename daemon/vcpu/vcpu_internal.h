/* SPDX-License-Identifier: MIT */
/*
 * vcpu_internal.h — what the files of the vCPU layer share: the thread, the set, and the
 * published topology. Not for use outside daemon/vcpu/.
 */
#ifndef PCID_VCPU_INTERNAL_H
#define PCID_VCPU_INTERNAL_H

#include <pthread.h>

#include "../util/lfstack.h"
#include "vcpu.h"

#define VCPU_MAX_IRQ_HANDLERS 8
#define VCPU_GSI_MAX          256

/* ThreadSanitizer cannot see liburcu's grace periods; these annotations state them. */
#if defined(__SANITIZE_THREAD__)
#define PCID_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PCID_TSAN 1
#endif
#endif
#ifdef PCID_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(a) __tsan_acquire(a)
#define tsan_release(a) __tsan_release(a)
#else
#define tsan_acquire(a) ((void)(a))
#define tsan_release(a) ((void)(a))
#endif

struct vcpu_work {
    struct lf_node node;
    vcpu_fn fn;
    void *arg;
};

struct vcpu_irq_item {
    struct lf_node node;
    struct vcpu_irq irq;
};

struct vcpu_timer {
    struct vcpu_timer *next;
    long id;
    uint64_t when;
    vcpu_fn fn;
    void *arg;
};

struct vcpu_fdwatch {
    struct vcpu_fdwatch *next;
    int fd;
    vcpu_fd_fn fn;
    void *arg;
};

/* Per-vCPU counters: written by the vCPU only, read by anyone (relaxed atomics). */
struct vcpu_counters {
    uint64_t pio_reads, pio_writes, mmio_reads, mmio_writes, cfg_reads, cfg_writes;
    uint64_t unassigned, slow_path, irqs, msis;
};

struct vcpu {
    struct vcpus *vs;
    unsigned index;
    pthread_t thread;
    bool running;
    int epfd, wakefd;
    struct lf_node *work;      /* struct vcpu_work, lock-free */
    struct lf_node *irqs;      /* struct vcpu_irq_item, lock-free */
    struct vcpu_timer *timers; /* own thread only, sorted by `when` */
    long next_timer_id;
    struct vcpu_fdwatch *fds; /* own thread only */
    struct {
        vcpu_irq_fn fn;
        void *arg;
    } handlers[VCPU_MAX_IRQ_HANDLERS]; /* own thread, or before start */
    uint32_t cf8;                      /* CONFIG_ADDRESS latch of mechanism #1 (one per vCPU) */
    struct vcpu_counters c;
    int stop;
} __attribute__((aligned(64)));

/* A mapped range of the flat view: [base, last] decodes; offsets count from `origin` (the
 * BAR's address: a bridge window may show only part of a BAR). */
struct topo_range {
    uint64_t base, last;
    uint64_t origin;
    const struct pci_region_ops *ops;
    void *opaque;
    struct pci_device *dev; /* NULL for a chipset block */
    int region;
};

/* An immutable snapshot, published with RCU. */
struct topology {
    uint64_t version;                /* map_version it was built at */
    struct pci_bus *root;            /* the root bus (bus-number routing starts there) */
    struct pci_bus *bus_by_num[256]; /* where a config cycle for each bus number goes */
    struct pci_bus **buses;          /* every bus, for the slow path */
    unsigned n_buses;
    struct topo_range *io, *mem; /* sorted by base */
    unsigned n_io, n_mem;
    struct machine_io chipset[MACHINE_MAX_IO];
    unsigned n_chipset;
    bool conf1;
    /* The chipset's MMIO range: the MMCONFIG (ECAM) window as the snapshot saw it, and the
     * machine's live word for a vCPU that finds the snapshot stale. */
    uint64_t ecam_base, ecam_size; /* size 0: no window */
    const uint64_t *ecam_live;
};

struct vcpus {
    struct machine *m;
    struct control *ctl;
    unsigned n;
    struct vcpu *cpu;
    bool pin;
    struct topology *topo; /* published: __atomic acquire/release */
    uint64_t map_version;  /* bumped by every map change */
    int rebuild_fd;        /* wakes the control thread to rebuild */
    void *rebuild_source;  /* sd_event_source */
    int gsi_level[VCPU_GSI_MAX];
    uint64_t rebuilds;
    /* Reclamation: frees after a grace period. */
    pthread_t reclaim_thread;
    bool reclaim_running;
    int reclaim_fd;
    struct lf_node *reclaim;
    int reclaim_stop;
    char rcu_hb;                 /* ThreadSanitizer's view of quiescent states */
    void (*reset_fn)(void *arg); /* set before start */
    void *reset_arg;
};

/* topology.c */
struct topology *topo_build(struct vcpus *vs);
void topo_free(struct topology *t);
static inline struct topology *topo_get(struct vcpus *vs)
{
    return __atomic_load_n(&vs->topo, __ATOMIC_ACQUIRE);
}
static inline bool topo_fresh(struct vcpus *vs, const struct topology *t)
{
    return t->version == __atomic_load_n(&vs->map_version, __ATOMIC_ACQUIRE);
}
/* The range of `t` containing addr, or NULL (binary search). */
const struct topo_range *topo_find(const struct topo_range *r, unsigned n, uint64_t addr);
/* The bus a config cycle for `num` reaches (the live tree when the snapshot is stale). */
struct pci_bus *topo_bus(struct vcpus *vs, const struct topology *t, uint8_t num, bool *slow);
/* The MMCONFIG window to decode now: the snapshot's, or the live one when it is stale. Returns
 * false when there is none. */
static inline bool topo_ecam(struct vcpus *vs, const struct topology *t, uint64_t *base,
                             uint64_t *size)
{
    if (topo_fresh(vs, t)) {
        *base = t->ecam_base;
        *size = t->ecam_size;
        return t->ecam_size != 0;
    }
    return t->ecam_live &&
           machine_ecam_decode(__atomic_load_n(t->ecam_live, __ATOMIC_ACQUIRE), base, size);
}
/* The BAR decoding `addr` now, looked up over the live devices (slow path). */
bool topo_slow_find(const struct topology *t, bool io, uint64_t addr, struct topo_range *out);

/* vcpu.c */
void vcpus_defer(struct vcpus *vs, void (*fn)(void *arg), void *arg);
void vcpus_deliver_irq(struct vcpus *vs, unsigned cpu, const struct vcpu_irq *irq);
/* Hand this vCPU's queued interrupts to its consumers now (on its thread). */
void vcpu_run_irqs(struct vcpu *v);

#define STAT_INC(v, field) __atomic_store_n(&(v)->c.field, (v)->c.field + 1, __ATOMIC_RELAXED)

#endif
