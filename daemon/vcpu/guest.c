/* SPDX-License-Identifier: MIT */
/*
 * guest.c — the cooperative guest on vCPU 0: firmware at boot, then the ACPI hotplug driver.
 * See guest.h. Everything it does to the machine is a guest access on vCPU 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "../hw/pci/acpi_pcihp.h"
#include "firmware.h"
#include "guest.h"
#include "guest_hp.h"

#define GPE0_STS (ACPI_GPE0_BASE + 0)
#define GPE0_EN  (ACPI_GPE0_BASE + 2)

struct guest_slot {
    struct guest *g;
    unsigned slot;
    long timer; /* pending eject, or 0 */
};

struct guest {
    struct vcpus *vs;
    struct vcpu *v; /* vCPU 0 */
    struct guest_config cfg;
    struct fw_platform plat; /* vCPU 0 only */
    struct guest_slot slots[PCI_SLOT_MAX];
    struct hp hp; /* native hot-plug drivers, vCPU 0 only */
    FILE *log;
    /* Boot completion: boots requested and finished, in order (guest_boot, resets). */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t boots_requested, boots_done;
    /* Counters: written on vCPU 0, read anywhere (relaxed atomics). */
    struct guest_stats st;
};

#define STAT_ADD(g, f, n) __atomic_fetch_add(&(g)->st.f, (n), __ATOMIC_RELAXED)

static void eject_timer(struct vcpu *v, void *arg)
{
    struct guest_slot *s = arg;
    struct guest *g = s->g;
    uint32_t bit = 1u << s->slot;

    s->timer = 0;
    vcpu_out(v, ACPI_PCIHP_BASE + ACPI_PCIHP_SEL, 0, 4);
    /* Still requested? A reset may have finished the removal already. */
    if (!((uint32_t)vcpu_in(v, ACPI_PCIHP_BASE + ACPI_PCIHP_DOWN, 4) & bit))
        return;
    if (g->cfg.refuse_unplug & bit) {
        vcpus_report_unplug_refused(g->vs, 0, s->slot); /* _OST(0x03, failure) */
        STAT_ADD(g, refused, 1);
        return;
    }
    firmware_release_slot(v, &g->plat, 0, s->slot);
    hp_unbind_gone(&g->hp);
    vcpu_out(v, ACPI_PCIHP_BASE + ACPI_PCIHP_EJECT, bit, 4); /* _EJ0 */
    STAT_ADD(g, ejects, 1);
}

/* The GPE handler: what QEMU's _E01 method (PCNT) and the OS's notify handlers do. */
static void handle_gpe(struct vcpu *v, void *arg)
{
    struct guest *g = arg;
    uint16_t sts = (uint16_t)vcpu_in(v, GPE0_STS, 2);
    uint32_t up, down;

    if (!(sts & ACPI_GPE_PCI_HOTPLUG))
        return;
    vcpu_out(v, GPE0_STS, ACPI_GPE_PCI_HOTPLUG, 2); /* write 1 to clear, before reading */
    STAT_ADD(g, sci, 1);
    vcpu_out(v, ACPI_PCIHP_BASE + ACPI_PCIHP_SEL, 0, 4);
    up = (uint32_t)vcpu_in(v, ACPI_PCIHP_BASE + ACPI_PCIHP_UP, 4);
    down = (uint32_t)vcpu_in(v, ACPI_PCIHP_BASE + ACPI_PCIHP_DOWN, 4);
    for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++) {
        struct guest_slot *s = &g->slots[slot];

        if (up & (1u << slot)) {
            firmware_assign_slot(v, &g->plat, 0, slot); /* Notify(device check) */
            STAT_ADD(g, hotadds, 1);
            hp_scan(&g->hp); /* a bridge brings its own hot-plug controller */
        }
        if ((down & (1u << slot)) && !s->timer) { /* Notify(eject request) */
            long id = vcpu_timer(v, g->cfg.eject_delay_ns, eject_timer, s);

            s->timer = id > 0 ? id : 0;
            if (id <= 0)
                eject_timer(v, s); /* no memory for a timer: eject now */
        }
    }
}

static void on_irq(struct vcpu *v, const struct vcpu_irq *irq, void *arg)
{
    struct guest *g = arg;

    if (irq->kind == VCPU_IRQ_LINE && irq->gsi == ACPI_SCI_IRQ && irq->level)
        vcpu_post(v, handle_gpe, arg);
    hp_irq(&g->hp, irq);
}

static void boot(struct vcpu *v, void *arg)
{
    struct guest *g = arg;
    int rc;

    for (unsigned slot = 0; slot < PCI_SLOT_MAX; slot++)
        if (g->slots[slot].timer) {
            vcpu_timer_cancel(v, g->slots[slot].timer);
            g->slots[slot].timer = 0;
        }
    hp_reset(&g->hp);
    rc = firmware_run(v, &g->plat);
    if (g->log)
        fflush(g->log);
    __atomic_store_n(&g->st.firmware_rc, rc, __ATOMIC_RELAXED);
    STAT_ADD(g, boots, 1);
    if (rc >= 0 && g->plat.host_vendor == 0x8086 && g->plat.host_device == 0x1237) {
        /* The OS enables the hotplug GPE, then looks at what happened while it booted. */
        uint16_t en = (uint16_t)vcpu_in(v, GPE0_EN, 2);

        vcpu_out(v, GPE0_EN, en | ACPI_GPE_PCI_HOTPLUG, 2);
        handle_gpe(v, g);
    }
    if (rc >= 0)
        hp_scan(&g->hp);
    if (g->log)
        fflush(g->log);
    pthread_mutex_lock(&g->lock);
    g->boots_done++;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

/* Post a boot to vCPU 0 and wait until it has run, at most `timeout_ms`. Returns 0,
 * -ETIMEDOUT or -ENOMEM. */
static int run_boot(struct guest *g, unsigned timeout_ms)
{
    struct timespec deadline;
    uint64_t target;
    int r = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g->lock);
    target = ++g->boots_requested;
    if (vcpu_post(g->v, boot, g) < 0) {
        g->boots_requested--;
        pthread_mutex_unlock(&g->lock);
        return -ENOMEM;
    }
    while (g->boots_done < target && r == 0)
        r = pthread_cond_timedwait(&g->cond, &g->lock, &deadline);
    pthread_mutex_unlock(&g->lock);
    return r == ETIMEDOUT ? -ETIMEDOUT : 0;
}

/* After system_reset: the firmware runs again before the command returns, so what the
 * management sees next is the configured machine. vCPUs never wait on the control plane, so
 * waiting for vCPU 0 here cannot deadlock; the bound covers a vCPU stuck in a long batch. */
static void on_reset(void *arg)
{
    run_boot(arg, GUEST_BOOT_TIMEOUT_MS);
}

int guest_new(struct vcpus *vs, const struct guest_config *cfg, struct guest **ret)
{
    struct guest *g;
    int r;

    *ret = NULL;
    if (cfg->mode == GUEST_NONE)
        return 0;
    g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->vs = vs;
    g->v = vcpus_get(vs, 0);
    g->cfg = *cfg;
    g->plat.pirq_devfn = -1;
    pthread_condattr_t ca;

    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &ca);
    pthread_condattr_destroy(&ca);
    for (unsigned i = 0; i < PCI_SLOT_MAX; i++)
        g->slots[i] = (struct guest_slot){.g = g, .slot = i};
    hp_init(&g->hp, g->v, &g->plat, cfg->eject_delay_ns, cfg->acpi_bridge_hotplug, &g->st);
    if (cfg->firmware_log) {
        g->log = fopen(cfg->firmware_log, "we");
        if (!g->log) {
            r = -errno;
            guest_free(g);
            return r;
        }
        g->plat.log = g->log;
    }
    r = vcpu_add_irq_handler(g->v, on_irq, g);
    if (r < 0) {
        guest_free(g);
        return r;
    }
    vcpus_on_reset(vs, on_reset, g);
    *ret = g;
    return 0;
}

int guest_boot(struct guest *g)
{
    int r;

    if (!g)
        return 0;
    r = run_boot(g, GUEST_BOOT_TIMEOUT_MS);
    if (r < 0)
        return r;
    return __atomic_load_n(&g->st.firmware_rc, __ATOMIC_RELAXED);
}

void guest_stats(struct guest *g, struct guest_stats *out)
{
    *out = (struct guest_stats){0};
    if (!g)
        return;
    out->boots = __atomic_load_n(&g->st.boots, __ATOMIC_RELAXED);
    out->hotadds = __atomic_load_n(&g->st.hotadds, __ATOMIC_RELAXED);
    out->ejects = __atomic_load_n(&g->st.ejects, __ATOMIC_RELAXED);
    out->refused = __atomic_load_n(&g->st.refused, __ATOMIC_RELAXED);
    out->sci = __atomic_load_n(&g->st.sci, __ATOMIC_RELAXED);
    out->slot_events = __atomic_load_n(&g->st.slot_events, __ATOMIC_RELAXED);
    out->firmware_rc = __atomic_load_n(&g->st.firmware_rc, __ATOMIC_RELAXED);
}

void guest_free(struct guest *g)
{
    if (!g)
        return;
    free(g->plat.res);
    if (g->log)
        fclose(g->log);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
