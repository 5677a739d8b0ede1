/* SPDX-License-Identifier: MIT */
/*
 * backend.h — host-side block backends ("nodes"), kept apart from the guest-visible devices.
 *
 * pcid has one driver, null-co (QEMU's null block driver: every read returns zeroes, writes
 * are discarded; default size 1 GiB). A node is named by `node-name`, which must be an
 * identifier (letter first, then letters, digits, '-', '.', '_'), and can be used by one device
 * at a time. Messages follow QEMU 7.2's blockdev-add / blockdev-del.
 *
 * Threads: control plane, under the control lock.
 */
#ifndef PCID_MACHINE_BACKEND_H
#define PCID_MACHINE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "../util/error.h"

#define BACKEND_NULL_SIZE (1ull << 30) /* null-co default size, bytes */
#define BACKEND_MAX       1024         /* nodes per machine */

struct backend {
    char *node_name;
    char *driver;  /* "null-co" */
    uint64_t size; /* bytes */
    bool read_zeroes;
    uint64_t latency_ns;
    char *user; /* id of the device using it, NULL when free */
    struct backend *next;
};

struct backend_list {
    struct backend *head;
    unsigned count;
};

/*
 * backend_add() - create node `node_name` of `driver` with `size` bytes (0 = default).
 * Returns 0; -EINVAL (driver unknown, name malformed); -EEXIST (duplicate); -ENOSPC (limit);
 * with `err` set to QEMU's message.
 */
int backend_add(struct backend_list *l, const char *driver, const char *node_name, uint64_t size,
                bool read_zeroes, uint64_t latency_ns, struct error *err);

/* backend_del() - remove a free node. -ENOENT ("Failed to find node with node-name='X'"),
 * -EBUSY ("Node X is in use"). */
int backend_del(struct backend_list *l, const char *node_name, struct error *err);

/* backend_find() - the node or NULL. */
struct backend *backend_find(const struct backend_list *l, const char *node_name);

/* backend_claim()/backend_release() - mark a node used by device `user` / free again. */
int backend_claim(struct backend_list *l, const char *node_name, const char *user);
void backend_release(struct backend_list *l, const char *node_name);

/* backend_list_clear() - free every node. */
void backend_list_clear(struct backend_list *l);

/* True for a well-formed QEMU identifier (id_wellformed). */
bool id_wellformed(const char *id);

#endif
