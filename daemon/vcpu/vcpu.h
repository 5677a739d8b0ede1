/* SPDX-License-Identifier: MIT */
/*
 * vcpu.h — vCPU threads: the hot path that serves guest accesses to the machine's devices.
 *
 * Each vCPU thread runs a loop that serves work posted to it (access-socket lines, the guest
 * model's steps, benchmark batches), its timers and its file descriptors, and reports an RCU
 * quiescent state (liburcu QSBR) after each piece of work. Accesses look devices up in a
 * topology snapshot the control plane publishes with RCU: a flat, sorted table of mapped
 * ranges (QEMU's FlatView) and buses by number, rebuilt when devices come or go, or a BAR,
 * the Command register or a bridge window changes. Until the new snapshot is published, a
 * vCPU that sees the map is stale takes a slow path over the live buses, so an access never
 * waits for the control plane. Register state with side effects is guarded by each device's
 * own lock; plain config reads take none. A removed device is freed after a grace period.
 *
 * Interrupts: INTx lines (GSIs) and MSI messages are delivered to a per-vCPU interrupt queue
 * (MSI by destination APIC ID, lines to vCPU 0); a vCPU's interrupt handler consumes them.
 *
 * Threads: vcpu_in/out/read/write only on a vCPU thread (the one passed in); vcpu_post and
 * vcpus_* from any thread unless noted.
 */
#ifndef PCID_VCPU_H
#define PCID_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "../machine/machine.h"

#define VCPU_MAX 64

struct vcpus;
struct vcpu;
struct control;

struct vcpus_config {
    unsigned n; /* vCPU threads, 1..VCPU_MAX */
    bool pin;   /* pin vCPU i to host CPU i mod ncpus */
};

/*
 * vcpus_new() - vCPU threads for machine `m` (not started). Registers itself as the machine's
 * platform and builds the first topology. `ctl` receives guest ejects and map rebuild
 * requests; it may be NULL (tests, benchmarks: rebuilds then happen on the calling thread).
 * Returns 0 and *ret, or -errno.
 */
int vcpus_new(struct machine *m, struct control *ctl, const struct vcpus_config *cfg,
              struct vcpus **ret);

/* vcpus_start() - start the threads. Returns 0 or -errno. */
int vcpus_start(struct vcpus *vs);

/* vcpus_free() - stop and join the threads, wait for pending reclamation, free. NULL ok. */
void vcpus_free(struct vcpus *vs);

/*
 * vcpus_on_reset() - call fn(arg) after every machine reset (system_reset), on the control
 * thread under the control lock; fn must only post work. Before vcpus_start.
 */
void vcpus_on_reset(struct vcpus *vs, void (*fn)(void *arg), void *arg);

unsigned vcpus_count(const struct vcpus *vs);
struct vcpu *vcpus_get(struct vcpus *vs, unsigned i);
unsigned vcpu_index(const struct vcpu *v);
struct vcpus *vcpu_set(struct vcpu *v);

/*
 * vcpus_rebuild() - rebuild and publish the topology now. Control plane, with the machine's
 * control lock held (machine_lock).
 */
void vcpus_rebuild(struct vcpus *vs);

/* Guest accesses, on vCPU `v`'s own thread. Sizes 1, 2, 4 (8 for memory). Unassigned port
 * reads return all-ones, unassigned memory reads 0 (QEMU's behaviour); writes are dropped. */
uint64_t vcpu_in(struct vcpu *v, uint16_t port, unsigned len);
void vcpu_out(struct vcpu *v, uint16_t port, uint64_t value, unsigned len);
uint64_t vcpu_read(struct vcpu *v, uint64_t addr, unsigned len);
void vcpu_write(struct vcpu *v, uint64_t addr, uint64_t value, unsigned len);

/*
 * vcpu_cfg_read() - a configuration read through mechanism #1 without touching the CF8 latch:
 * what `outl 0xcf8 ...; inl 0xcfc` returns, for firmware and benchmarks. vCPU thread.
 */
uint32_t vcpu_cfg_read(struct vcpu *v, uint8_t bus, uint8_t devfn, uint16_t offset, unsigned len);
void vcpu_cfg_write(struct vcpu *v, uint8_t bus, uint8_t devfn, uint16_t offset, uint32_t value,
                    unsigned len);

/* vcpu_quiescent() - report an RCU quiescent state (between accesses). vCPU thread. */
void vcpu_quiescent(struct vcpu *v);

typedef void (*vcpu_fn)(struct vcpu *v, void *arg);

/*
 * vcpu_post() - run fn(v, arg) on vCPU `v`'s thread, in order with other posted work.
 * Lock-free; any thread. Returns 0 or -ENOMEM.
 */
int vcpu_post(struct vcpu *v, vcpu_fn fn, void *arg);

/*
 * vcpu_timer() - on `v`'s own thread: run fn(v, arg) once, `delay_ns` from now. Returns an id
 * > 0 for vcpu_timer_cancel, or -ENOMEM.
 */
long vcpu_timer(struct vcpu *v, uint64_t delay_ns, vcpu_fn fn, void *arg);
void vcpu_timer_cancel(struct vcpu *v, long id);

/* On `v`'s own thread: watch `fd`; fn is called on events, also on `v`'s thread. */
typedef void (*vcpu_fd_fn)(struct vcpu *v, int fd, uint32_t events, void *arg);
int vcpu_watch_fd(struct vcpu *v, int fd, uint32_t events, vcpu_fd_fn fn, void *arg);
void vcpu_unwatch_fd(struct vcpu *v, int fd);

/* An interrupt delivered to a vCPU. */
struct vcpu_irq {
    enum { VCPU_IRQ_LINE, VCPU_IRQ_MSI } kind;
    unsigned gsi;  /* LINE */
    int level;     /* LINE: 0 or 1 */
    uint64_t addr; /* MSI */
    uint32_t data; /* MSI */
};

/* Interrupt consumers of a vCPU; called on its thread for each interrupt, in order. */
typedef void (*vcpu_irq_fn)(struct vcpu *v, const struct vcpu_irq *irq, void *arg);
int vcpu_add_irq_handler(struct vcpu *v, vcpu_irq_fn fn, void *arg);
void vcpu_remove_irq_handler(struct vcpu *v, vcpu_irq_fn fn, void *arg);

/* Current level of GSI `gsi` as the interrupt controller sees it (0/1), any thread. */
int vcpus_irq_level(struct vcpus *vs, unsigned gsi);

/*
 * vcpus_report_unplug_refused() - the guest refused to eject slot `slot` of bus number
 * `busnr` (the guest model's equivalent of ACPI _OST(eject request, failure)): post it to the
 * control plane, which withdraws the pending removal and emits DEVICE_UNPLUG_GUEST_ERROR
 * (machine_unplug_refused). vCPU thread; never waits for the control plane. A report that
 * cannot be posted (out of memory) is dropped: the removal then stays pending.
 */
void vcpus_report_unplug_refused(struct vcpus *vs, unsigned busnr, unsigned slot);

/* Accesses served, by kind, summed over all vCPUs (for metrics and tests). */
struct vcpu_stats {
    uint64_t pio_reads, pio_writes, mmio_reads, mmio_writes;
    uint64_t cfg_reads, cfg_writes; /* through 0xCF8/0xCFC or ECAM */
    uint64_t unassigned;            /* accesses nothing decoded */
    uint64_t slow_path;             /* lookups made while the published map was stale */
    uint64_t irqs, msis;            /* interrupts delivered */
    uint64_t topology_rebuilds;
};
void vcpus_stats(struct vcpus *vs, struct vcpu_stats *out);

#endif
