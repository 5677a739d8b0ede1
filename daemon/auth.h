/* SPDX-License-Identifier: MIT */
/*
 * auth.h — REST access control: the bearer token and the listeners it guards.
 *
 * The rules (docs/config.md, "Access control"):
 *   - Unix sockets are guarded by their file mode (0660, the group of pcid's process) and
 *     never ask for a token.
 *   - When a token is configured, every request on a TCP listener, loopback included, must
 *     carry `Authorization: Bearer TOKEN`; without it, or with another token, the answer is
 *     401 with `WWW-Authenticate: Bearer` and a JSON error, and nothing runs.
 *   - A TCP listener on anything but a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)
 *     needs a token: pcid refuses to start without one (exit 78), and a reload that would
 *     drop the token is refused.
 * The token comes from the configuration file's "token-file", else from the systemd credential
 * `pcid.token` ($CREDENTIALS_DIRECTORY/pcid.token, LoadCredential=); see config.h. It is at
 * most CONFIG_MAX_TOKEN bytes; comparison takes time that depends on the presented length
 * only, never on the token's content or where the first difference is.
 *
 * Threads: auth_set_token() on the main or control thread (start, SIGHUP); auth_check_bearer()
 * on libmicrohttpd's threads; the token is swapped and read under a mutex of its own.
 */
#ifndef PCID_AUTH_H
#define PCID_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a listening socket is, for the rules above. */
enum auth_listener {
    AUTH_LISTENER_UNIX,     /* AF_UNIX: file permissions guard it, no token asked */
    AUTH_LISTENER_LOOPBACK, /* TCP on a loopback address: token asked if one is configured */
    AUTH_LISTENER_EXPOSED,  /* TCP on any other address: a token is required to start */
};

/* Outcome of auth_check_bearer(). */
enum auth_verdict {
    AUTH_OK,      /* no token configured, or the right one presented */
    AUTH_MISSING, /* a token is configured and the request has no Bearer credentials */
    AUTH_INVALID, /* Bearer credentials that are not the token */
};

/*
 * auth_set_token() - make `token` (NUL-terminated, copied; NULL or "" = none) the token from
 * now on. The previous copy is wiped. Returns 0 or -ENOMEM (the old token stays then).
 */
int auth_set_token(const char *token);

/* auth_has_token() - whether a token is configured. */
bool auth_has_token(void);

/*
 * auth_token_equal() - compare `given` (glen bytes) with `token` (tlen bytes, tlen > 0) in
 * time that depends on glen only: every byte of `given` is looked at, with no early exit.
 * Returns true when both are equal in length and content.
 */
bool auth_token_equal(const char *given, size_t glen, const char *token, size_t tlen);

/*
 * auth_check_bearer() - check an Authorization header value (`value`, NULL when absent)
 * against the configured token: scheme "Bearer" (any case), one or more spaces, the token.
 * Counts the failures for auth_failures(). Safe on any thread.
 */
enum auth_verdict auth_check_bearer(const char *value);

/* auth_failures() - the 401s counted so far for `v` (AUTH_MISSING or AUTH_INVALID). */
uint64_t auth_failures(enum auth_verdict v);

/*
 * auth_listener_kind() - classify the listening socket `fd` by getsockname(2). Returns an
 * enum auth_listener, or -errno (getsockname failed, or a family pcid does not serve:
 * -EAFNOSUPPORT).
 */
int auth_listener_kind(int fd);

/*
 * auth_note_exposed() / auth_exposed() - count the non-loopback TCP listeners opened (so a
 * reload knows it must keep a token). Main thread at start; read on the control thread.
 */
void auth_note_exposed(void);
unsigned auth_exposed(void);

#endif
