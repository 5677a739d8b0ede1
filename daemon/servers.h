/* SPDX-License-Identifier: MIT */
/*
 * servers.h — the front doors main() opens: QMP, REST and access sockets from the options.
 * Unix sockets this process created are removed on close (never one it found in use).
 * Main thread only.
 */
#ifndef PCID_SERVERS_H
#define PCID_SERVERS_H

#include "control.h"
#include "monitor/qmp.h"
#include "options.h"
#include "rest/rest.h"
#include "vcpu/qtest.h"

#define MAX_SERVERS 16

struct servers {
    struct qmp_server *qmp[MAX_SERVERS];
    struct rest_server *rest[MAX_SERVERS];
    struct qtest_server *access[MAX_SERVERS];
    const char *made[3 * MAX_SERVERS];
    size_t n_made;
};

/* servers_open() - open every socket of `o` and serve it. Returns 0, or -1 after printing
 * what failed (the caller exits 78). */
int servers_open(struct servers *sv, const struct pcid_options *o, struct control *ctl,
                 struct api *api, struct vcpus *vs);

/* servers_close_front() - stop QMP and REST (before the vCPUs stop). */
void servers_close_front(struct servers *sv);

/* servers_close_access() - close the access sockets and remove our unix sockets (after). */
void servers_close_access(struct servers *sv);

#endif
