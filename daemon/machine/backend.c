/* SPDX-License-Identifier: MIT */
#include "backend.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool id_wellformed(const char *id)
{
    if (!id || !isalpha((unsigned char)id[0]))
        return false;
    for (const char *p = id + 1; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-._", *p))
            return false;
    return true;
}

struct backend *backend_find(const struct backend_list *l, const char *node_name)
{
    for (struct backend *b = l->head; b; b = b->next)
        if (streq(b->node_name, node_name))
            return b;
    return NULL;
}

static void backend_free(struct backend *b)
{
    if (!b)
        return;
    free(b->node_name);
    free(b->driver);
    free(b->user);
    free(b);
}

int backend_add(struct backend_list *l, const char *driver, const char *node_name, uint64_t size,
                bool read_zeroes, uint64_t latency_ns, struct error *err)
{
    struct backend *b, **tail;

    if (!streq(driver, "null-co"))
        return error_invalid(err, "Parameter 'driver' does not accept value '%s'", driver);
    if (!node_name)
        return error_invalid(err, "A block device must be given a node-name");
    if (!id_wellformed(node_name))
        return error_invalid(err, "Invalid node-name: '%s'", node_name);
    if (backend_find(l, node_name)) {
        error_conflict(err, "Duplicate nodes with node-name='%s'", node_name);
        return -EEXIST;
    }
    if (l->count >= BACKEND_MAX)
        return error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_LIMIT,
                          "Too many block nodes (limit %d)", BACKEND_MAX);

    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->node_name = strdup(node_name);
    b->driver = strdup(driver);
    if (!b->node_name || !b->driver) {
        backend_free(b);
        return -ENOMEM;
    }
    b->size = size ? size : BACKEND_NULL_SIZE;
    b->read_zeroes = read_zeroes;
    b->latency_ns = latency_ns;
    for (tail = &l->head; *tail; tail = &(*tail)->next)
        ;
    *tail = b;
    l->count++;
    return 0;
}

int backend_del(struct backend_list *l, const char *node_name, struct error *err)
{
    for (struct backend **pp = &l->head; *pp; pp = &(*pp)->next) {
        struct backend *b = *pp;

        if (!streq(b->node_name, node_name))
            continue;
        if (b->user)
            return error_conflict(err, "Node %s is in use", node_name);
        *pp = b->next;
        backend_free(b);
        l->count--;
        return 0;
    }
    error_invalid(err, "Failed to find node with node-name='%s'", node_name);
    return -ENOENT;
}

int backend_claim(struct backend_list *l, const char *node_name, const char *user)
{
    struct backend *b = backend_find(l, node_name);
    char *u;

    if (!b)
        return -ENOENT;
    if (b->user)
        return -EBUSY;
    u = strdup(user ? user : "");
    if (!u)
        return -ENOMEM;
    b->user = u;
    return 0;
}

void backend_release(struct backend_list *l, const char *node_name)
{
    struct backend *b = backend_find(l, node_name);

    if (b) {
        free(b->user);
        b->user = NULL;
    }
}

void backend_list_clear(struct backend_list *l)
{
    struct backend *b = l->head;

    while (b) {
        struct backend *n = b->next;
        backend_free(b);
        b = n;
    }
    l->head = NULL;
    l->count = 0;
}
