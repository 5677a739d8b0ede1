/* SPDX-License-Identifier: MIT */
/*
 * test-auth.c — the REST bearer token (daemon/auth.c): the comparison (equal only for the same
 * length and bytes, whatever the position of a difference), the Authorization header's forms,
 * the failure counters, and the classification of listening sockets (unix, loopback, exposed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/auth.h"
#include "tests/unit/unit.h"

struct eq_row {
    const char *name, *given, *token;
    bool equal;
};

/* clang-format off */
static const struct eq_row eq_rows[] = {
    {"same", "s3cret", "s3cret", true},
    {"first byte differs", "x3cret", "s3cret", false},
    {"last byte differs", "s3creT", "s3cret", false},
    {"prefix of the token", "s3cre", "s3cret", false},
    {"token is a prefix", "s3cret!", "s3cret", false},
    {"token repeated", "s3crets3cret", "s3cret", false},
    {"empty given", "", "s3cret", false},
    {"case differs", "S3CRET", "s3cret", false},
};
/* clang-format on */

static void test_equal(void **state)
{
    const struct eq_row *r = *state;

    assert_int_equal(auth_token_equal(r->given, strlen(r->given), r->token, strlen(r->token)),
                     r->equal);
}

static void test_empty_token(void **state)
{
    (void)state;
    assert_false(auth_token_equal("", 0, "", 0)); /* no token never matches */
}

struct bearer_row {
    const char *name, *header; /* header NULL: absent */
    enum auth_verdict v;
};

/* clang-format off */
static const struct bearer_row bearer_rows[] = {
    {"right token", "Bearer s3cret", AUTH_OK},
    {"scheme in any case", "bearer s3cret", AUTH_OK},
    {"several spaces", "BEARER   s3cret", AUTH_OK},
    {"no header", NULL, AUTH_MISSING},
    {"empty header", "", AUTH_MISSING},
    {"scheme only", "Bearer", AUTH_MISSING},
    {"scheme and space", "Bearer ", AUTH_MISSING},
    {"basic scheme", "Basic czNjcmV0", AUTH_MISSING},
    {"no space", "Bearers3cret", AUTH_MISSING},
    {"wrong token", "Bearer s3creT", AUTH_INVALID},
    {"token with trailing junk", "Bearer s3cret x", AUTH_INVALID},
    {"longer token", "Bearer s3cret2", AUTH_INVALID},
};
/* clang-format on */

static void test_bearer(void **state)
{
    const struct bearer_row *r = *state;
    uint64_t before = auth_failures(r->v);

    assert_int_equal(auth_set_token("s3cret"), 0);
    assert_true(auth_has_token());
    assert_int_equal(auth_check_bearer(r->header), r->v);
    if (r->v != AUTH_OK)
        assert_int_equal(auth_failures(r->v), before + 1);
    assert_int_equal(auth_set_token(NULL), 0);
}

/* Without a token every request passes, counted as nothing. */
static void test_no_token(void **state)
{
    (void)state;
    assert_int_equal(auth_set_token(""), 0);
    assert_false(auth_has_token());
    uint64_t m = auth_failures(AUTH_MISSING), i = auth_failures(AUTH_INVALID);
    assert_int_equal(auth_check_bearer(NULL), AUTH_OK);
    assert_int_equal(auth_check_bearer("Bearer anything"), AUTH_OK);
    assert_int_equal(auth_failures(AUTH_MISSING), m);
    assert_int_equal(auth_failures(AUTH_INVALID), i);
    assert_int_equal(auth_failures(AUTH_OK), 0);
    /* a new token replaces the old one */
    assert_int_equal(auth_set_token("one"), 0);
    assert_int_equal(auth_set_token("two"), 0);
    assert_int_equal(auth_check_bearer("Bearer one"), AUTH_INVALID);
    assert_int_equal(auth_check_bearer("Bearer two"), AUTH_OK);
    assert_int_equal(auth_set_token(NULL), 0);
}

struct listener_row {
    const char *name;
    int family;
    const char *addr; /* NULL: AF_UNIX */
    int kind;
};

/* clang-format off */
static const struct listener_row listener_rows[] = {
    {"unix", AF_UNIX, NULL, AUTH_LISTENER_UNIX},
    {"127.0.0.1", AF_INET, "127.0.0.1", AUTH_LISTENER_LOOPBACK},
    {"127.1.2.3", AF_INET, "127.1.2.3", AUTH_LISTENER_LOOPBACK},
    {"0.0.0.0", AF_INET, "0.0.0.0", AUTH_LISTENER_EXPOSED},
    {"::1", AF_INET6, "::1", AUTH_LISTENER_LOOPBACK},
    {"::", AF_INET6, "::", AUTH_LISTENER_EXPOSED},
};
/* clang-format on */

static void test_listener(void **state)
{
    const struct listener_row *r = *state;
    int fd = socket(r->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        skip(); /* no IPv6 here */
        return;
    }
    if (r->family == AF_INET) {
        struct sockaddr_in in = {.sin_family = AF_INET};
        inet_pton(AF_INET, r->addr, &in.sin_addr);
        assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    } else if (r->family == AF_INET6) {
        struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
        inet_pton(AF_INET6, r->addr, &in6.sin6_addr);
        if (bind(fd, (struct sockaddr *)&in6, sizeof(in6)) < 0) {
            close(fd);
            skip();
            return;
        }
    } /* an unbound AF_UNIX socket still reports its family */
    assert_int_equal(auth_listener_kind(fd), r->kind);
    close(fd);
}

static void test_listener_bad_fd(void **state)
{
    (void)state;
    assert_int_equal(auth_listener_kind(-1), -EBADF);
}

static void test_exposed_count(void **state)
{
    (void)state;
    unsigned n = auth_exposed();
    auth_note_exposed();
    assert_int_equal(auth_exposed(), n + 1);
}

int main(void)
{
    struct CMUnitTest
        tests[ARRAY_SIZE(eq_rows) + ARRAY_SIZE(bearer_rows) + ARRAY_SIZE(listener_rows) + 4];
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(eq_rows); i++)
        tests[n++] =
            (struct CMUnitTest){eq_rows[i].name, test_equal, NULL, NULL, (void *)&eq_rows[i]};
    for (size_t i = 0; i < ARRAY_SIZE(bearer_rows); i++)
        tests[n++] = (struct CMUnitTest){bearer_rows[i].name, test_bearer, NULL, NULL,
                                         (void *)&bearer_rows[i]};
    for (size_t i = 0; i < ARRAY_SIZE(listener_rows); i++)
        tests[n++] = (struct CMUnitTest){listener_rows[i].name, test_listener, NULL, NULL,
                                         (void *)&listener_rows[i]};
    tests[n++] = (struct CMUnitTest){"empty token", test_empty_token, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"no token", test_no_token, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"bad fd", test_listener_bad_fd, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"exposed count", test_exposed_count, NULL, NULL, NULL};
    return _cmocka_run_group_tests("auth", tests, n, NULL, NULL);
}
