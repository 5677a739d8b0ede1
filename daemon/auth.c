/* SPDX-License-Identifier: MIT */
/*
 * auth.c — the REST bearer token (see auth.h): one copy behind a mutex, a comparison whose time
 * depends only on what the client sent, and the loopback test for listening sockets.
 */
#include "auth.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static char *token;      /* under token_lock */
static size_t token_len; /* under token_lock */
static uint64_t failures[3];
static unsigned exposed;

int auth_set_token(const char *t)
{
    char *copy = NULL, *old;
    size_t old_len;

    if (t && *t) {
        copy = strdup(t);
        if (!copy)
            return -ENOMEM;
    }
    pthread_mutex_lock(&token_lock);
    old = token;
    old_len = token_len;
    token = copy;
    token_len = copy ? strlen(copy) : 0;
    pthread_mutex_unlock(&token_lock);
    if (old) {
        explicit_bzero(old, old_len);
        free(old);
    }
    return 0;
}

bool auth_has_token(void)
{
    bool r;

    pthread_mutex_lock(&token_lock);
    r = token != NULL;
    pthread_mutex_unlock(&token_lock);
    return r;
}

bool auth_token_equal(const char *given, size_t glen, const char *t, size_t tlen)
{
    /* Walk the whole of `given`, folding every difference into `acc`; the index wraps over
     * the token so the walk never depends on where (or whether) the two differ. */
    volatile unsigned char acc = 0;
    size_t len_diff = glen ^ tlen;

    if (!tlen)
        return false;
    for (size_t i = 0; i < glen; i++)
        acc |= (unsigned char)given[i] ^ (unsigned char)t[i % tlen];
    return (acc | (len_diff != 0)) == 0;
}

enum auth_verdict auth_check_bearer(const char *value)
{
    enum auth_verdict v = AUTH_OK;
    const char *cred = NULL;

    if (value && strncasecmp(value, "Bearer", 6) == 0 && value[6] == ' ') {
        cred = value + 6;
        while (*cred == ' ')
            cred++;
    }
    pthread_mutex_lock(&token_lock);
    if (token) {
        if (!cred || !*cred)
            v = AUTH_MISSING;
        else if (!auth_token_equal(cred, strlen(cred), token, token_len))
            v = AUTH_INVALID;
    }
    pthread_mutex_unlock(&token_lock);
    if (v != AUTH_OK)
        __atomic_fetch_add(&failures[v], 1, __ATOMIC_RELAXED);
    return v;
}

uint64_t auth_failures(enum auth_verdict v)
{
    if (v != AUTH_MISSING && v != AUTH_INVALID)
        return 0;
    return __atomic_load_n(&failures[v], __ATOMIC_RELAXED);
}

int auth_listener_kind(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    switch (ss.ss_family) {
    case AF_UNIX:
        return AUTH_LISTENER_UNIX;
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

        return (ntohl(in->sin_addr.s_addr) >> 24) == 127 ? AUTH_LISTENER_LOOPBACK
                                                         : AUTH_LISTENER_EXPOSED;
    }
    case AF_INET6: {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;

        if (IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127))
            return AUTH_LISTENER_LOOPBACK;
        return AUTH_LISTENER_EXPOSED;
    }
    default:
        return -EAFNOSUPPORT;
    }
}

void auth_note_exposed(void)
{
    __atomic_fetch_add(&exposed, 1, __ATOMIC_RELAXED);
}

unsigned auth_exposed(void)
{
    return __atomic_load_n(&exposed, __ATOMIC_RELAXED);
}
