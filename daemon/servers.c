/* SPDX-License-Identifier: MIT */
#include "servers.h"

#include "auth.h"
#include "config.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../api/metrics.h"
#include "vcpu/vcpu.h"

/* Open the listening socket of `spec`; remember unix sockets we created. */
static int open_socket(struct servers *sv, const char *kind, const char *spec)
{
    char why[512] = "";
    int fd = listen_spec(spec, why, sizeof(why));

    if (fd < 0)
        log_error("%s: %s", kind, why);
    else if (strncmp(spec, "unix:", 5) == 0)
        sv->made[sv->n_made++] = spec + 5;
    return fd;
}

/* /metrics: the vCPUs' access counters, summed at scrape time (nothing on the hot path). */
static void vcpu_metrics(void *opaque, FILE *out)
{
    struct vcpu_stats st;

    vcpus_stats(opaque, &st);
    const struct {
        const char *kind;
        uint64_t n;
    } acc[] = {
        {"pio_read", st.pio_reads},     {"pio_write", st.pio_writes}, {"mmio_read", st.mmio_reads},
        {"mmio_write", st.mmio_writes}, {"cfg_read", st.cfg_reads},   {"cfg_write", st.cfg_writes},
    };

    api_metrics_family(out, "pcid_vcpu_accesses_total", "counter",
                       "Guest accesses served by the vCPUs, by kind (port I/O, MMIO, config "
                       "space through 0xCF8/0xCFC or ECAM).");
    for (size_t i = 0; i < ARRAY_SIZE(acc); i++)
        fprintf(out, "pcid_vcpu_accesses_total{kind=\"%s\"} %llu\n", acc[i].kind,
                (unsigned long long)acc[i].n);
    api_metrics_family(out, "pcid_vcpu_unassigned_accesses_total", "counter",
                       "Guest accesses nothing decoded (reads return all-ones or 0).");
    fprintf(out, "pcid_vcpu_unassigned_accesses_total %llu\n", (unsigned long long)st.unassigned);
    api_metrics_family(out, "pcid_vcpu_slow_path_lookups_total", "counter",
                       "Lookups made while the published address map was stale.");
    fprintf(out, "pcid_vcpu_slow_path_lookups_total %llu\n", (unsigned long long)st.slow_path);
    api_metrics_family(out, "pcid_interrupts_total", "counter",
                       "Interrupts delivered to the vCPUs, by kind.");
    fprintf(out, "pcid_interrupts_total{kind=\"intx\"} %llu\n", (unsigned long long)st.irqs);
    fprintf(out, "pcid_interrupts_total{kind=\"msi\"} %llu\n", (unsigned long long)st.msis);
    api_metrics_family(out, "pcid_topology_rebuilds_total", "counter",
                       "Topology snapshots published to the vCPUs.");
    fprintf(out, "pcid_topology_rebuilds_total %llu\n", (unsigned long long)st.topology_rebuilds);
    api_metrics_family(out, "pcid_vcpus", "gauge", "vCPU threads.");
    fprintf(out, "pcid_vcpus %u\n", vcpus_count(opaque));
}

int servers_open(struct servers *sv, const struct pcid_options *o, struct control *ctl,
                 struct api *api, struct vcpus *vs)
{
    if (api_metrics_add_collector(api, vcpu_metrics, vs) < 0)
        return -1;
    /* Guest side first: once a management socket answers, the access sockets exist too. */
    for (size_t i = 0; i < o->access.n; i++) {
        int fd = open_socket(sv, "access", o->access.v[i]);
        if (fd < 0 || qtest_server_new(vs, fd, &sv->access[i]) < 0)
            return -1;
    }
    for (size_t i = 0; i < o->qmp.n; i++) {
        int fd = open_socket(sv, "QMP", o->qmp.v[i]);
        if (fd < 0 || qmp_server_new(ctl, fd, &sv->qmp[i]) < 0)
            return -1;
    }
    for (size_t i = 0; i < o->rest.n; i++) {
        int fd = open_socket(sv, "REST", o->rest.v[i]);
        if (fd < 0)
            return -1;
        if (auth_listener_kind(fd) == AUTH_LISTENER_EXPOSED) {
            if (!auth_has_token()) {
                log_error("REST %s is not a loopback address and no bearer token is configured "
                          "(token-file in the configuration file, or the systemd credential %s): "
                          "refusing to start",
                          o->rest.v[i], CONFIG_CREDENTIAL_TOKEN);
                close(fd);
                return -1;
            }
            auth_note_exposed();
        }
        if (rest_server_new(api, fd, &sv->rest[i]) < 0)
            return -1;
    }
    return 0;
}

void servers_close_front(struct servers *sv)
{
    for (size_t i = 0; i < MAX_SERVERS; i++) {
        rest_server_free(sv->rest[i]);
        sv->rest[i] = NULL;
        qmp_server_free(sv->qmp[i]);
        sv->qmp[i] = NULL;
    }
}

void servers_close_access(struct servers *sv)
{
    for (size_t i = 0; i < MAX_SERVERS; i++) {
        qtest_server_free(sv->access[i]);
        sv->access[i] = NULL;
    }
    for (size_t i = 0; i < sv->n_made; i++)
        unlink(sv->made[i]);
    sv->n_made = 0;
}
