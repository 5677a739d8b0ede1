/* SPDX-License-Identifier: MIT */
/*
 * lfstack.h — a lock-free LIFO of intrusive nodes (multiple producers, one consumer that takes
 * everything at once). Producers never block; the consumer gets the batch in FIFO order.
 * Header-only; any thread. Used where a vCPU must hand something to another thread without
 * waiting on a lock (work, interrupts, messages to the control thread, deferred frees).
 */
#ifndef PCID_UTIL_LFSTACK_H
#define PCID_UTIL_LFSTACK_H

#include <stdbool.h>
#include <stddef.h>

struct lf_node {
    struct lf_node *next;
};

/* lf_push() - add `n` (owned by the stack until taken). */
static inline void lf_push(struct lf_node **head, struct lf_node *n)
{
    struct lf_node *old = __atomic_load_n(head, __ATOMIC_RELAXED);

    do {
        n->next = old;
    } while (!__atomic_compare_exchange_n(head, &old, n, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* lf_take_fifo() - take every node, oldest first (NULL when empty). */
static inline struct lf_node *lf_take_fifo(struct lf_node **head)
{
    struct lf_node *n = __atomic_exchange_n(head, NULL, __ATOMIC_ACQUIRE), *rev = NULL;

    while (n) {
        struct lf_node *next = n->next;
        n->next = rev;
        rev = n;
        n = next;
    }
    return rev;
}

#endif
