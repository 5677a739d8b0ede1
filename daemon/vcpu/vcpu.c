/* SPDX-License-Identifier: MIT */
/*
 * vcpu.c — vCPU threads: their loop (work, interrupts, timers, file descriptors), RCU
 * quiescent states, the platform hooks the machine calls, and reclamation after grace periods.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include "../control.h"
#include "vcpu_internal.h"

static void wake(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is saturated, a wakeup is pending anyway */
    }
}

/* ---- work, timers, fds, interrupts ---- */

int vcpu_post(struct vcpu *v, vcpu_fn fn, void *arg)
{
    struct vcpu_work *w = malloc(sizeof(*w));

    if (!w)
        return -ENOMEM;
    w->fn = fn;
    w->arg = arg;
    lf_push(&v->work, &w->node);
    wake(v->wakefd);
    return 0;
}

long vcpu_timer(struct vcpu *v, uint64_t delay_ns, vcpu_fn fn, void *arg)
{
    struct vcpu_timer *t = malloc(sizeof(*t)), **pp;

    if (!t)
        return -ENOMEM;
    t->id = ++v->next_timer_id;
    t->when = monotonic_ns() + delay_ns;
    t->fn = fn;
    t->arg = arg;
    for (pp = &v->timers; *pp && (*pp)->when <= t->when; pp = &(*pp)->next)
        ;
    t->next = *pp;
    *pp = t;
    return t->id;
}

void vcpu_timer_cancel(struct vcpu *v, long id)
{
    for (struct vcpu_timer **pp = &v->timers; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct vcpu_timer *t = *pp;
            *pp = t->next;
            free(t);
            return;
        }
    }
}

int vcpu_watch_fd(struct vcpu *v, int fd, uint32_t events, vcpu_fd_fn fn, void *arg)
{
    struct vcpu_fdwatch *w = calloc(1, sizeof(*w));
    struct epoll_event ev = {.events = events, .data.ptr = w};

    if (!w)
        return -ENOMEM;
    w->fd = fd;
    w->fn = fn;
    w->arg = arg;
    if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(w);
        return -errno;
    }
    w->next = v->fds;
    v->fds = w;
    return 0;
}

void vcpu_unwatch_fd(struct vcpu *v, int fd)
{
    for (struct vcpu_fdwatch **pp = &v->fds; *pp; pp = &(*pp)->next) {
        if ((*pp)->fd == fd) {
            struct vcpu_fdwatch *w = *pp;
            epoll_ctl(v->epfd, EPOLL_CTL_DEL, fd, NULL);
            *pp = w->next;
            /* An event for it may already be in this round's batch: keep it until then. */
            w->fn = NULL;
            vcpus_defer(v->vs, free, w);
            return;
        }
    }
}

int vcpu_add_irq_handler(struct vcpu *v, vcpu_irq_fn fn, void *arg)
{
    for (unsigned i = 0; i < VCPU_MAX_IRQ_HANDLERS; i++) {
        if (!v->handlers[i].fn) {
            v->handlers[i].arg = arg;
            __atomic_store_n(&v->handlers[i].fn, fn, __ATOMIC_RELEASE);
            return 0;
        }
    }
    return -ENOSPC;
}

void vcpu_remove_irq_handler(struct vcpu *v, vcpu_irq_fn fn, void *arg)
{
    for (unsigned i = 0; i < VCPU_MAX_IRQ_HANDLERS; i++)
        if (v->handlers[i].fn == fn && v->handlers[i].arg == arg)
            __atomic_store_n(&v->handlers[i].fn, NULL, __ATOMIC_RELEASE);
}

void vcpus_deliver_irq(struct vcpus *vs, unsigned cpu, const struct vcpu_irq *irq)
{
    struct vcpu *v = &vs->cpu[cpu % vs->n];
    struct vcpu_irq_item *it = malloc(sizeof(*it));

    if (!it)
        return; /* an interrupt lost to memory exhaustion; level lines are re-read anyway */
    it->irq = *irq;
    lf_push(&v->irqs, &it->node);
    wake(v->wakefd);
}

void vcpu_run_irqs(struct vcpu *v)
{
    struct lf_node *n = lf_take_fifo(&v->irqs);

    while (n) {
        struct vcpu_irq_item *it = container_of(n, struct vcpu_irq_item, node);

        n = n->next;
        if (it->irq.kind == VCPU_IRQ_MSI)
            STAT_INC(v, msis);
        else
            STAT_INC(v, irqs);
        for (unsigned i = 0; i < VCPU_MAX_IRQ_HANDLERS; i++) {
            vcpu_irq_fn fn = __atomic_load_n(&v->handlers[i].fn, __ATOMIC_ACQUIRE);
            if (fn)
                fn(v, &it->irq, v->handlers[i].arg);
        }
        free(it);
    }
}

static void run_work(struct vcpu *v)
{
    struct lf_node *n = lf_take_fifo(&v->work);

    while (n) {
        struct vcpu_work *w = container_of(n, struct vcpu_work, node);

        n = n->next;
        w->fn(v, w->arg);
        free(w);
        vcpu_quiescent(v);
    }
}

/* Run due timers; returns the ms until the next one, or -1. */
static int run_timers(struct vcpu *v)
{
    uint64_t now = monotonic_ns();

    while (v->timers && v->timers->when <= now) {
        struct vcpu_timer *t = v->timers;

        v->timers = t->next;
        t->fn(v, t->arg);
        free(t);
        vcpu_quiescent(v);
        now = monotonic_ns();
    }
    if (!v->timers)
        return -1;
    return (int)((v->timers->when - now + 999999) / 1000000);
}

void vcpu_quiescent(struct vcpu *v)
{
    tsan_release(&v->vs->rcu_hb);
    urcu_qsbr_quiescent_state();
}

static void *vcpu_main(void *arg)
{
    struct vcpu *v = arg;
    struct epoll_event evs[16];

    urcu_qsbr_register_thread();
    while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
        int timeout, n;

        vcpu_run_irqs(v);
        run_work(v);
        timeout = run_timers(v);
        vcpu_quiescent(v);
        /* Going idle: nothing of the topology is held across the wait. */
        urcu_qsbr_thread_offline();
        n = epoll_wait(v->epfd, evs, 16, timeout);
        urcu_qsbr_thread_online();
        for (int i = 0; i < n; i++) {
            struct vcpu_fdwatch *w = evs[i].data.ptr;
            uint64_t cnt;

            if (!w) {
                if (read(v->wakefd, &cnt, sizeof(cnt)) < 0) {
                    /* EAGAIN: already drained */
                }
                continue;
            }
            if (w->fn)
                w->fn(v, w->fd, evs[i].events, w->arg);
            vcpu_quiescent(v);
        }
    }
    urcu_qsbr_unregister_thread();
    return NULL;
}

/* ---- reclamation ---- */

struct reclaim_item {
    struct lf_node node;
    void (*fn)(void *);
    void *arg;
};

void vcpus_defer(struct vcpus *vs, void (*fn)(void *), void *arg)
{
    struct reclaim_item *it = malloc(sizeof(*it));

    if (!it)
        return; /* leak rather than free too early */
    it->fn = fn;
    it->arg = arg;
    lf_push(&vs->reclaim, &it->node);
    if (vs->reclaim_fd >= 0)
        wake(vs->reclaim_fd);
}

static void reclaim_batch(struct vcpus *vs, bool wait)
{
    struct lf_node *n = lf_take_fifo(&vs->reclaim);

    if (!n)
        return;
    if (wait)
        urcu_qsbr_synchronize_rcu();
    tsan_acquire(&vs->rcu_hb);
    while (n) {
        struct reclaim_item *it = container_of(n, struct reclaim_item, node);

        n = n->next;
        it->fn(it->arg);
        free(it);
    }
}

static void *reclaim_main(void *arg)
{
    struct vcpus *vs = arg;
    uint64_t cnt;

    while (!__atomic_load_n(&vs->reclaim_stop, __ATOMIC_ACQUIRE)) {
        if (read(vs->reclaim_fd, &cnt, sizeof(cnt)) < 0 && errno != EINTR)
            break;
        reclaim_batch(vs, true);
    }
    return NULL;
}

/* ---- the machine's platform ---- */

static void plat_irq_set(void *opaque, unsigned gsi, int level)
{
    struct vcpus *vs = opaque;
    struct vcpu_irq irq = {.kind = VCPU_IRQ_LINE, .gsi = gsi, .level = level};

    if (gsi >= VCPU_GSI_MAX)
        return;
    __atomic_store_n(&vs->gsi_level[gsi], level, __ATOMIC_RELEASE);
    /* Lines go to every vCPU: each one's consumers (guest model, access socket) see them. */
    for (unsigned i = 0; i < vs->n; i++)
        vcpus_deliver_irq(vs, i, &irq);
}

static void plat_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct vcpus *vs = opaque;
    struct vcpu_irq irq = {.kind = VCPU_IRQ_MSI, .addr = addr, .data = data};

    /* x86 MSI: destination APIC ID in address bits 19:12 (Intel SDM vol. 3, 10.11.1). */
    vcpus_deliver_irq(vs, (unsigned)((addr >> 12) & 0xff), &irq);
}

static void plat_map_changed(void *opaque)
{
    struct vcpus *vs = opaque;

    __atomic_fetch_add(&vs->map_version, 1, __ATOMIC_ACQ_REL);
    if (vs->rebuild_fd >= 0)
        wake(vs->rebuild_fd);
}

struct eject_msg {
    struct vcpus *vs;
    struct pci_bus *bus;
    unsigned slot;
};

/* Taking the lock completes the slot's removal (and any other ejected since), unless a
 * command already did: machine_lock() runs machine_complete_ejects(). */
static void handle_eject(void *msgp)
{
    struct eject_msg *msg = msgp;

    machine_lock(msg->vs->m);
    machine_unlock(msg->vs->m);
    free(msg);
}

static void plat_eject(void *opaque, struct pci_bus *bus, unsigned slot)
{
    struct vcpus *vs = opaque;
    struct eject_msg *msg;
    uint32_t bit = 1u << slot, old;

    /* Gone for the guest now: hide the slot and make every vCPU drop its ranges. A second
     * eject of a slot already on its way is a no-op, as in QEMU. */
    old = __atomic_fetch_or(&bus->ejecting, bit, __ATOMIC_ACQ_REL);
    if (old & bit)
        return;
    plat_map_changed(vs);
    if (!vs->ctl) {
        /* No control thread (tests): finish the removal here, as QEMU does on the vCPU. */
        machine_lock(vs->m); /* completes the removal */
        machine_unlock(vs->m);
        return;
    }
    msg = malloc(sizeof(*msg));
    if (msg) {
        *msg = (struct eject_msg){vs, bus, slot};
        if (control_post(vs->ctl, handle_eject, msg) == 0)
            return;
        free(msg);
    }
    /* Out of memory: the eject is lost, the device stays (as if the guest never wrote). */
    __atomic_fetch_and(&bus->ejecting, ~bit, __ATOMIC_RELEASE);
    plat_map_changed(vs);
}

struct refused_msg {
    struct vcpus *vs;
    unsigned busnr, slot;
};

static void handle_refused(void *msgp)
{
    struct refused_msg *msg = msgp;
    struct machine *m = msg->vs->m;

    machine_lock(m);
    for (unsigned b = 0; b < m->n_buses; b++)
        if (pci_bus_num(m->buses[b]) == msg->busnr)
            machine_unplug_refused(m, m->buses[b], msg->slot);
    machine_unlock(m);
    free(msg);
}

void vcpus_report_unplug_refused(struct vcpus *vs, unsigned busnr, unsigned slot)
{
    struct refused_msg *msg = malloc(sizeof(*msg));

    if (!msg)
        return;
    *msg = (struct refused_msg){vs, busnr, slot};
    if (!vs->ctl) {
        handle_refused(msg); /* no control thread (tests): the caller is the control plane */
        return;
    }
    if (control_post(vs->ctl, handle_refused, msg) < 0)
        free(msg);
}

static void plat_topology_changed(void *opaque)
{
    vcpus_rebuild(opaque);
}

static void plat_defer_free(void *opaque, void (*fn)(void *), void *arg)
{
    vcpus_defer(opaque, fn, arg);
}

static void plat_reset(void *opaque)
{
    struct vcpus *vs = opaque;

    if (vs->reset_fn)
        vs->reset_fn(vs->reset_arg);
}

static const struct machine_platform vcpus_platform = {
    .reset = plat_reset,
    .irq_set = plat_irq_set,
    .msi = plat_msi,
    .map_changed = plat_map_changed,
    .eject = plat_eject,
    .topology_changed = plat_topology_changed,
    .defer_free = plat_defer_free,
};

static void on_rebuild(void *opaque)
{
    struct vcpus *vs = opaque;

    machine_lock(vs->m);
    vcpus_rebuild(vs);
    machine_unlock(vs->m);
}

void vcpus_rebuild(struct vcpus *vs)
{
    struct topology *t = topo_build(vs), *old;

    if (!t)
        return; /* out of memory: the stale map stays and lookups take the slow path */
    old = __atomic_exchange_n(&vs->topo, t, __ATOMIC_ACQ_REL);
    __atomic_fetch_add(&vs->rebuilds, 1, __ATOMIC_RELAXED);
    if (old)
        vcpus_defer(vs, (void (*)(void *))topo_free, old);
}

/* ---- lifecycle ---- */

int vcpus_new(struct machine *m, struct control *ctl, const struct vcpus_config *cfg,
              struct vcpus **ret)
{
    struct vcpus *vs;

    if (!cfg->n || cfg->n > VCPU_MAX)
        return -EINVAL;
    vs = calloc(1, sizeof(*vs));
    if (!vs)
        return -ENOMEM;
    vs->m = m;
    vs->ctl = ctl;
    vs->n = cfg->n;
    vs->pin = cfg->pin;
    vs->rebuild_fd = -1;
    vs->reclaim_fd = eventfd(0, EFD_CLOEXEC);
    vs->cpu = aligned_alloc(64, sizeof(*vs->cpu) * cfg->n);
    if (!vs->cpu || vs->reclaim_fd < 0) {
        vcpus_free(vs);
        return -ENOMEM;
    }
    memset(vs->cpu, 0, sizeof(*vs->cpu) * cfg->n);
    for (unsigned i = 0; i < cfg->n; i++) {
        struct vcpu *v = &vs->cpu[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

        v->vs = vs;
        v->index = i;
        v->epfd = epoll_create1(EPOLL_CLOEXEC);
        v->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (v->epfd < 0 || v->wakefd < 0 || epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->wakefd, &ev) < 0) {
            vcpus_free(vs);
            return -errno;
        }
    }
    if (ctl) {
        int r = control_add_wakeup(ctl, on_rebuild, vs, &vs->rebuild_fd);
        if (r < 0) {
            vcpus_free(vs);
            return r;
        }
    }
    if (pthread_create(&vs->reclaim_thread, NULL, reclaim_main, vs) != 0) {
        vcpus_free(vs);
        return -EAGAIN;
    }
    vs->reclaim_running = true;
    machine_lock(m);
    machine_set_platform(m, &vcpus_platform, vs);
    vcpus_rebuild(vs);
    machine_unlock(m);
    *ret = vs;
    return 0;
}

int vcpus_start(struct vcpus *vs)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    for (unsigned i = 0; i < vs->n; i++) {
        struct vcpu *v = &vs->cpu[i];

        if (pthread_create(&v->thread, NULL, vcpu_main, v) != 0)
            return -EAGAIN;
        v->running = true;
        if (vs->pin && ncpu > 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(i % (unsigned)ncpu, &set);
            pthread_setaffinity_np(v->thread, sizeof(set), &set);
        }
    }
    return 0;
}

void vcpus_free(struct vcpus *vs)
{
    if (!vs)
        return;
    for (unsigned i = 0; vs->cpu && i < vs->n; i++) {
        struct vcpu *v = &vs->cpu[i];

        __atomic_store_n(&v->stop, 1, __ATOMIC_RELEASE);
        if (v->running) {
            wake(v->wakefd);
            pthread_join(v->thread, NULL);
        }
    }
    /* No vCPU posts any more: run the ejects they posted now, while vs exists (shutdown could
     * otherwise leave one for control_free(), after vs is gone). */
    if (vs->ctl)
        control_flush_posted(vs->ctl);
    if (vs->m) {
        machine_lock(vs->m);
        machine_set_platform(vs->m, NULL, NULL);
        machine_unlock(vs->m);
    }
    if (vs->reclaim_running) {
        __atomic_store_n(&vs->reclaim_stop, 1, __ATOMIC_RELEASE);
        wake(vs->reclaim_fd);
        pthread_join(vs->reclaim_thread, NULL);
    }
    if (vs->ctl && vs->rebuild_fd >= 0)
        control_remove_wakeup(vs->ctl, vs->rebuild_fd);
    reclaim_batch(vs, false); /* no vCPU runs any more */
    for (unsigned i = 0; vs->cpu && i < vs->n; i++) {
        struct vcpu *v = &vs->cpu[i];
        struct lf_node *n;

        while (v->timers) {
            struct vcpu_timer *t = v->timers;
            v->timers = t->next;
            free(t);
        }
        while (v->fds) {
            struct vcpu_fdwatch *w = v->fds;
            v->fds = w->next;
            free(w);
        }
        for (n = lf_take_fifo(&v->work); n;) {
            struct lf_node *next = n->next;
            free(container_of(n, struct vcpu_work, node));
            n = next;
        }
        for (n = lf_take_fifo(&v->irqs); n;) {
            struct lf_node *next = n->next;
            free(container_of(n, struct vcpu_irq_item, node));
            n = next;
        }
        if (v->epfd > 0)
            close(v->epfd);
        if (v->wakefd > 0)
            close(v->wakefd);
    }
    topo_free(vs->topo);
    if (vs->reclaim_fd >= 0)
        close(vs->reclaim_fd);
    free(vs->cpu);
    free(vs);
}

void vcpus_on_reset(struct vcpus *vs, void (*fn)(void *arg), void *arg)
{
    vs->reset_fn = fn;
    vs->reset_arg = arg;
}

unsigned vcpus_count(const struct vcpus *vs)
{
    return vs->n;
}

struct vcpu *vcpus_get(struct vcpus *vs, unsigned i)
{
    return i < vs->n ? &vs->cpu[i] : NULL;
}

unsigned vcpu_index(const struct vcpu *v)
{
    return v->index;
}

struct vcpus *vcpu_set(struct vcpu *v)
{
    return v->vs;
}

int vcpus_irq_level(struct vcpus *vs, unsigned gsi)
{
    return gsi < VCPU_GSI_MAX ? __atomic_load_n(&vs->gsi_level[gsi], __ATOMIC_ACQUIRE) : 0;
}

void vcpus_stats(struct vcpus *vs, struct vcpu_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < vs->n; i++) {
        const struct vcpu_counters *c = &vs->cpu[i].c;
#define ADD(f) out->f += __atomic_load_n(&c->f, __ATOMIC_RELAXED)
        ADD(pio_reads);
        ADD(pio_writes);
        ADD(mmio_reads);
        ADD(mmio_writes);
        ADD(cfg_reads);
        ADD(cfg_writes);
        ADD(unassigned);
        ADD(slow_path);
        ADD(irqs);
        ADD(msis);
#undef ADD
    }
    out->topology_rebuilds = __atomic_load_n(&vs->rebuilds, __ATOMIC_RELAXED);
}
