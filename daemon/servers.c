/* SPDX-License-Identifier: MIT */
#include "servers.h"

#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

int servers_open(struct servers *sv, const struct pcid_options *o, struct control *ctl,
                 struct api *api, struct vcpus *vs)
{
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
        if (fd < 0 || rest_server_new(api, fd, &sv->rest[i]) < 0)
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
