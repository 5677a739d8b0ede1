/* SPDX-License-Identifier: MIT */
/*
 * fuzz-rest — the REST front door as a client reaches it: for each input a fresh `pc` machine
 * and a real libmicrohttpd server (rest.c, routes.c, sse.c) on an abstract unix socket, one
 * HTTP request built from the input, the reply read and dropped, the server stopped. The
 * input is laid out so that most of it reaches pcid's code rather than HTTP framing errors:
 *
 *   byte 0        method: GET, HEAD, POST, DELETE, PUT (modulo 5)
 *   to '\n'       the request target (path and query; bytes that HTTP cannot carry in a
 *                 request line become '_')
 *   to "\n\n"     header lines, "Name: value" (CR and NUL become '_'); Content-Type:
 *                 application/json is added unless one is given
 *   the rest      the body (sent with its Content-Length)
 *
 * Any crash, leak or sanitizer report is a bug; 4xx answers are the expected ones.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/rest/rest.h"
#include "fuzz.h"

#define REPLY_WAIT_MS 200 /* an event stream or DELETE ?wait= never ends by itself */

static int listen_abstract(struct sockaddr_un *sa, socklen_t *len)
{
    static unsigned serial;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        abort();
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    /* abstract name: sun_path[0] = 0 */
    int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "pcid-fuzz-rest-%d-%u",
                     (int)getpid(), serial++);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (bind(fd, (struct sockaddr *)sa, *len) < 0 || listen(fd, 4) < 0)
        abort();
    return fd;
}

/* Copy `n` bytes of `s` into `out`, replacing what `bad` says with '_'. */
static size_t clean(char *out, const uint8_t *s, size_t n, int (*bad)(int c))
{
    for (size_t i = 0; i < n; i++)
        out[i] = bad(s[i]) ? '_' : (char)s[i];
    return n;
}

static int bad_target(int c)
{
    return c <= ' ' || c == 0x7f;
}

static int bad_header(int c)
{
    return c == '\r' || c == 0 || c == '\n';
}

/* Build the request from the input; returns its malloc'd bytes and length. */
static char *build(const uint8_t *data, size_t size, size_t *len)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE", "PUT"};
    const uint8_t *p = data + 1, *end = data + size, *nl, *hend, *body;
    size_t cap = size * 2 + 256, o = 0;
    char *req = malloc(cap);
    bool has_type = false;

    if (!req)
        abort();
    o += (size_t)sprintf(req, "%s /", methods[data[0] % 5]);
    nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        nl = end;
    if (nl > p && *p == '/')
        p++; /* the '/' is ours */
    o += clean(req + o, p, (size_t)(nl - p), bad_target);
    o += (size_t)sprintf(req + o, " HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n");
    p = nl < end ? nl + 1 : end;
    hend = p; /* headers: [p, hend); the body starts after the blank line */
    if (hend < end && *hend == '\n')
        body = hend + 1; /* no headers */
    else {
        while (hend < end && !(hend + 1 < end && hend[0] == '\n' && hend[1] == '\n'))
            hend++;
        body = hend + 2 <= end ? hend + 2 : end;
    }
    while (p < hend) {
        const uint8_t *eol = memchr(p, '\n', (size_t)(hend - p));
        size_t n;

        if (!eol)
            eol = hend;
        n = (size_t)(eol - p);
        if (n >= 13 && strncasecmp((const char *)p, "content-type:", 13) == 0)
            has_type = true;
        if (n && !(n >= 15 && strncasecmp((const char *)p, "content-length:", 15) == 0)) {
            o += clean(req + o, p, n, bad_header);
            req[o++] = '\r';
            req[o++] = '\n';
        }
        p = eol + 1;
    }
    p = body;
    if (!has_type)
        o += (size_t)sprintf(req + o, "Content-Type: application/json\r\n");
    o += (size_t)sprintf(req + o, "Content-Length: %zu\r\n\r\n", (size_t)(end - p));
    memcpy(req + o, p, (size_t)(end - p));
    *len = o + (size_t)(end - p);
    return req;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const devices[] = {"virtio-net-pci,id=net0,addr=3", "e1000,id=nic0,addr=5",
                                          NULL};
    struct fuzz_machine f;
    struct rest_server *srv;
    struct sockaddr_un sa;
    socklen_t salen;
    char reply[65536], *req;
    size_t len, off = 0;
    int lfd, c;

    if (size < 1 || size > 256 * 1024)
        return 0;
    req = build(data, size, &len);
    fuzz_machine_new(&f, devices);
    lfd = listen_abstract(&sa, &salen);
    if (rest_server_new(f.api, lfd, &srv) < 0)
        abort();
    c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&sa, salen) < 0)
        abort();
    while (off < len) {
        ssize_t n = send(c, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may answer (413) and close before reading everything */
        off += (size_t)n;
    }
    shutdown(c, SHUT_WR);
    for (;;) {
        struct pollfd pfd = {.fd = c, .events = POLLIN};

        if (poll(&pfd, 1, REPLY_WAIT_MS) <= 0 || read(c, reply, sizeof(reply)) <= 0)
            break;
    }
    close(c);
    rest_server_free(srv);
    fuzz_machine_free(&f);
    free(req);
    return 0;
}
