/* SPDX-License-Identifier: MIT */
/*
 * service.c — the systemd service protocol (see service.h).
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "auth.h"
#include "log.h"

struct service {
    struct control *ctl;
    struct api *api;
    const struct config *initial; /* read at start, owned by main */
    struct config reloaded;       /* the last file SIGHUP read (empty before) */
    bool have_reloaded;
    const char *config_path;   /* --config, or NULL for the default file */
    const char *cmdline_level; /* --log-level, or NULL */
    sd_event_source *hup, *watchdog;
    uint64_t watchdog_usec;            /* WATCHDOG_USEC, 0 = none */
    int sub;                           /* control_subscribe handle */
    unsigned status_all, status_added; /* what the last STATUS= said */
    bool status_sent;
};

int service_listen_fds(struct pcid_options *o, char *why, size_t len)
{
    char **names = NULL;
    int n = sd_listen_fds_with_names(1, &names), r = 0;

    if (n <= 0) /* none, or $LISTEN_PID is another process's: not socket-activated */
        return 0;
    for (int i = 0; i < n && r == 0; i++) {
        const char *name = names && names[i] ? names[i] : "unknown";
        struct strv *list = strcmp(name, "qmp") == 0      ? &o->qmp
                            : strcmp(name, "rest") == 0   ? &o->rest
                            : strcmp(name, "access") == 0 ? &o->access
                                                          : NULL;
        char spec[32];

        if (!list) {
            snprintf(why, len,
                     "systemd passed socket fd %d named '%s'; pcid takes 'qmp', 'rest' and "
                     "'access' (set FileDescriptorName= in the socket unit)",
                     SD_LISTEN_FDS_START + i, name);
            r = -EINVAL;
            break;
        }
        snprintf(spec, sizeof(spec), "fd:%d", SD_LISTEN_FDS_START + i);
        r = strv_push(list, spec);
    }
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    return r < 0 ? r : n;
}

int service_setup(struct pcid_options *o, struct config *cfg)
{
    char why[CONFIG_WHY_MAX];
    int r = config_load(o->config, cfg, why, sizeof(why));

    if (r < 0) {
        log_error("%s", r == -ENOMEM ? strerror(ENOMEM) : why);
        return -1;
    }
    if (config_apply_runtime(&cfg->rt, o->log_level) < 0) {
        log_error("%s", strerror(ENOMEM));
        return -1;
    }
    if (cfg->rt.token)
        log_info("REST on TCP asks for the bearer token of %s", cfg->rt.token_file);
    if (config_merge_options(cfg, o) < 0) {
        log_error("%s", strerror(ENOMEM));
        return -1;
    }
    r = service_listen_fds(o, why, sizeof(why));
    if (r < 0) {
        log_error("%s", r == -ENOMEM ? strerror(ENOMEM) : why);
        return -1;
    }
    if (cfg->path)
        log_debug("configuration read from %s", cfg->path);
    return 0;
}

bool service_debug_commands(void)
{
    const char *v = getenv("PCID_DEBUG_COMMANDS");

    if (!v || strcmp(v, "1") != 0)
        return false;
    log_warning("test-only commands are enabled ($PCID_DEBUG_COMMANDS=1): x-debug-hang");
    return true;
}

static void send_status(struct service *s)
{
    struct machine *m = api_machine(s->api);
    unsigned all, added = 0;

    machine_lock(m);
    all = machine_device_count(m);
    for (struct machine_dev *md = m->devices; md; md = md->next)
        added += md->drv != NULL;
    machine_unlock(m);
    /* Events come in bursts (the cold plug's reach subscribers after READY=1): say a count
     * once, so a slow reader of $NOTIFY_SOCKET never gets a message per device. */
    if (s->status_sent && s->status_all == all && s->status_added == added)
        return;
    s->status_sent = true;
    s->status_all = all;
    s->status_added = added;
    sd_notifyf(0, "STATUS=machine %s: %u PCI functions (%u added)", m->type->name, all, added);
}

/* Device changes and resets: keep STATUS= current. */
static void on_event(void *opaque, json_t *event)
{
    const char *name = json_string_value(json_object_get(event, "event"));

    if (name && (strcmp(name, "PCI_DEVICE_ADDED") == 0 || strcmp(name, "DEVICE_DELETED") == 0 ||
                 strcmp(name, "RESET") == 0))
        send_status(opaque);
}

static int on_watchdog(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct service *s = userdata;
    struct machine *m = api_machine(s->api);

    /* Take the control lock too: a command stuck holding it stops the pings as surely as a
     * stuck loop does. */
    machine_lock(m);
    machine_unlock(m);
    sd_notify(0, "WATCHDOG=1");
    sd_event_now(control_event(s->ctl), CLOCK_MONOTONIC, &usec);
    sd_event_source_set_time(src, usec + s->watchdog_usec / 2);
    sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
    return 0;
}

static const struct config *current(const struct service *s)
{
    return s->have_reloaded ? &s->reloaded : s->initial;
}

static int on_hup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
    struct service *s = userdata;
    struct config next;
    char why[CONFIG_WHY_MAX], diff[256];
    int r;

    (void)src;
    (void)si;
    sd_notify(0, "RELOADING=1");
    r = config_load(s->config_path, &next, why, sizeof(why));
    if (r < 0) {
        log_error("reload refused, settings unchanged: %s", why);
        sd_notify(0, "READY=1");
        return 0;
    }
    if (!next.rt.token && auth_exposed()) {
        log_error("reload refused, settings unchanged: REST listens on a non-loopback address "
                  "and the new configuration has no bearer token (token-file or the credential "
                  "%s)",
                  CONFIG_CREDENTIAL_TOKEN);
        config_free(&next);
        sd_notify(0, "READY=1");
        return 0;
    }
    config_startup_diff(current(s), &next, diff, sizeof(diff));
    if (diff[0])
        log_notice("reload: %s changed in %s; start-up settings take effect at the next start",
                   diff, next.path ? next.path : CONFIG_DEFAULT_PATH);
    if (config_apply_runtime(&next.rt, s->cmdline_level) < 0)
        log_error("reload: %s; the previous bearer token stays", strerror(ENOMEM));
    if (s->have_reloaded)
        config_free(&s->reloaded);
    s->reloaded = next;
    s->have_reloaded = true;
    {
        char limits[512] = "";

        for (int i = 0; i < LIMIT_COUNT; i++) /* every limit, in limit.h's order */
            snprintf(limits + strlen(limits), sizeof(limits) - strlen(limits), "%s%s=%llu",
                     i ? " " : "", limit_def(i)->name, (unsigned long long)limit_get(i));
        log_struct(LOG_NOTICE, LOG_ID_RELOAD, NULL, 0,
                   "reloaded %s: log level %s, limits %s; REST token %s",
                   next.path ? next.path : "(no configuration file)",
                   log_level_name(log_get_level()), limits, auth_has_token() ? "set" : "none");
    }
    sd_notify(0, "READY=1");
    send_status(s);
    return 0;
}

int service_new(struct control *ctl, struct api *api, const struct config *cfg,
                const struct pcid_options *o, struct service **ret)
{
    struct service *s = calloc(1, sizeof(*s));
    sd_event *ev = control_event(ctl);
    int r;

    if (!s)
        return -ENOMEM;
    s->ctl = ctl;
    s->api = api;
    s->initial = cfg;
    s->config_path = o->config;
    s->cmdline_level = o->log_level;
    s->sub = -1;
    r = sd_event_add_signal(ev, &s->hup, SIGHUP, on_hup, s);
    if (r < 0)
        goto fail;
    r = s->sub = control_subscribe(ctl, on_event, s);
    if (r < 0)
        goto fail;
    if (sd_watchdog_enabled(0, &s->watchdog_usec) > 0 && s->watchdog_usec >= 2) {
        uint64_t now;

        sd_event_now(ev, CLOCK_MONOTONIC, &now);
        /* accuracy: 5% of the period (0 would let sd-event delay it up to 250 ms) */
        r = sd_event_add_time(ev, &s->watchdog, CLOCK_MONOTONIC, now + s->watchdog_usec / 2,
                              MAX(s->watchdog_usec / 40, (uint64_t)1), on_watchdog, s);
        if (r < 0)
            goto fail;
    }
    *ret = s;
    return 0;
fail:
    service_free(s);
    return r;
}

/* "unix:/run/pcid/qmp.sock (systemd)" for an "fd:N" spec; other specs as they are. */
static void describe(const char *spec, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";

    if (strncmp(spec, "fd:", 3) != 0 ||
        getsockname(atoi(spec + 3), (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(buf, len, "%s", spec);
        return;
    }
    if (ss.ss_family == AF_UNIX) {
        snprintf(buf, len, "unix:%s (systemd)", ((struct sockaddr_un *)&ss)->sun_path);
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(buf, len, "tcp:%s:%u (systemd)", host, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, len, "tcp:[%s]:%u (systemd)", host, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, len, "%s (systemd)", spec);
    }
}

static void join(const struct strv *l, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = 0;
    for (size_t i = 0; i < l->n && used < len; i++) {
        char one[160];

        describe(l->v[i], one, sizeof(one));
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", one);
        if (n > 0)
            used += (size_t)n;
    }
}

void service_ready(struct service *s, const struct pcid_options *o)
{
    struct machine *m = api_machine(s->api);
    char qmp[1024], rest[1024], access[1024];
    unsigned functions;

    machine_lock(m);
    functions = machine_device_count(m);
    machine_unlock(m);
    join(&o->qmp, qmp, sizeof(qmp));
    join(&o->rest, rest, sizeof(rest));
    join(&o->access, access, sizeof(access));
    sd_notify(0, "READY=1");
    send_status(s);
    log_struct(
        LOG_INFO, LOG_ID_START, NULL, 0,
        "ready (version %s): machine %s, %u functions, %u vCPUs, guest %s; QMP %s; REST %s%s%s%s",
        PCID_VERSION, m->type->name, functions, o->vcpus, o->guest, qmp, rest,
        o->access.n ? "; access " : "", access, s->watchdog ? "; watchdog on" : "");
}

void service_stopping(struct service *s)
{
    (void)s;
    sd_notify(0, "STOPPING=1");
    log_struct(LOG_INFO, LOG_ID_STOP, NULL, 0, "stopping");
}

void service_free(struct service *s)
{
    if (!s)
        return;
    if (s->sub >= 0)
        control_unsubscribe(s->ctl, s->sub);
    sd_event_source_disable_unref(s->hup);
    sd_event_source_disable_unref(s->watchdog);
    if (s->have_reloaded)
        config_free(&s->reloaded);
    free(s);
}

void service_device_note(void *opaque, const struct api_device_note *n)
{
    const struct log_field f[] = {
        {"PCID_DEVICE", n->id},
        {"PCID_BDF", n->bdf},
        {"PCID_DRIVER", n->driver},
        {"PCID_HOTPLUG", n->hotplug ? "1" : "0"},
    };
    char who[300];

    (void)opaque;
    snprintf(who, sizeof(who), "%s%s%s%s", n->driver, n->id ? " '" : "", n->id ? n->id : "",
             n->id ? "'" : "");
    if (n->added)
        log_struct(LOG_INFO, LOG_ID_DEVICE_ADDED, f, ARRAY_SIZE(f), "%s %s at %s",
                   n->hotplug ? "hot-added" : "cold-plugged", who, n->bdf);
    else
        log_struct(LOG_INFO, LOG_ID_DEVICE_REMOVED, f, ARRAY_SIZE(f), "removed %s from %s", who,
                   n->bdf);
}
