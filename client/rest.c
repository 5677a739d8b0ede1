/* SPDX-License-Identifier: MIT */
/*
 * rest.c — pcictl's side of pcid's REST API: choosing the daemon (option, environment or
 * default socket), one HTTP request per call through libcurl (TCP or unix socket, connect
 * timeout 5 s, total 30 s), and turning error replies into one line for the user.
 * Errors follow pcictl.h: -EINVAL for a bad address, -ENOTCONN when the daemon cannot be
 * reached, -EREMOTEIO when it refused, -EBADMSG for a reply that is not JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pcictl.h"

#define CONNECT_TIMEOUT_S 5L
#define TOTAL_TIMEOUT_S   30L
#define STREAM_IDLE_S     45L         /* an event stream silent this long has lost its daemon */
#define REPLY_MAX         (64u << 20) /* no pcid reply comes near this; a runaway one stops */
#define SOCKET_NAME       "pcid/rest.sock"
#define SOCKET_SYSTEM     "/run/" SOCKET_NAME

static void curl_easy_cleanupp(CURL **c)
{
    if (*c)
        curl_easy_cleanup(*c);
}

static void curl_slist_free_allp(struct curl_slist **l)
{
    curl_slist_free_all(*l);
}

/* Set the target to unix socket `path`. */
static int target_socket(struct rest_target *t, const char *path, const char *source)
{
    if (!*path)
        return pcictl_usage_err("%s: empty socket path", source);
    t->base = strdup("http://localhost");
    t->socket = strdup(path);
    t->where = strdup(path);
    return t->base && t->socket && t->where ? 0 : -ENOMEM;
}

/* Set the target from `spec`: "unix:/path" or an http(s) URL; `source` names it in messages. */
static int target_spec(struct rest_target *t, const char *spec, const char *source)
{
    size_t n = strlen(spec);
    const char *host;

    if (!strncmp(spec, "unix:", 5))
        return target_socket(t, spec + 5, source);
    if (!strncasecmp(spec, "http://", 7))
        host = spec + 7;
    else if (!strncasecmp(spec, "https://", 8))
        host = spec + 8;
    else
        return pcictl_usage_err("%s: '%s' is not an http:// or https:// URL", source, spec);
    if (!*host || *host == '/')
        return pcictl_usage_err("%s: '%s' has no host", source, spec);
    while (n > 0 && spec[n - 1] == '/')
        n--;
    t->base = strndup(spec, n);
    t->where = strndup(spec, n);
    return t->base && t->where ? 0 : -ENOMEM;
}

int rest_target_init(struct rest_target *t, const char *url, const char *socket)
{
    const char *env;
    _cleanup_(freep) char *path = NULL;

    *t = (struct rest_target){0};
    if (url && socket)
        return pcictl_usage_err("--url and --socket exclude each other");
    if (url)
        return target_spec(t, url, "--url");
    if (socket)
        return target_socket(t, socket, "--socket");
    env = getenv("PCID_URL");
    if (env && *env)
        return target_spec(t, env, "PCID_URL");
    env = getenv("PCID_SOCKET");
    if (env && *env)
        return target_socket(t, env, "PCID_SOCKET");
    env = getenv("XDG_RUNTIME_DIR");
    if (geteuid() != 0 && env && *env) {
        if (asprintf(&path, "%s/%s", env, SOCKET_NAME) < 0) {
            path = NULL;
            return -ENOMEM;
        }
        return target_socket(t, path, "XDG_RUNTIME_DIR");
    }
    return target_socket(t, SOCKET_SYSTEM, "default");
}

void rest_target_done(struct rest_target *t)
{
    free(t->base);
    free(t->socket);
    free(t->where);
    *t = (struct rest_target){0};
}

void rest_reply_done(struct rest_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* The growing reply body the write callback fills. */
struct sink {
    char *p;
    size_t len, cap;
    int err; /* -ENOMEM or -EMSGSIZE once the callback gave up */
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct sink *s = opaque;
    size_t n = size * nmemb;

    if (s->len + n + 1 > REPLY_MAX) {
        s->err = -EMSGSIZE;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *p;

        while (cap < s->len + n + 1)
            cap *= 2;
        p = realloc(s->p, cap);
        if (!p) {
            s->err = -ENOMEM;
            return 0;
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = 0;
    return n;
}

/* Tell the user the transfer failed; the OS error is added when curl's text lacks it. */
static int report_transfer(const struct rest_target *t, CURL *c, CURLcode rc, const char *errbuf)
{
    const char *text = *errbuf ? errbuf : curl_easy_strerror(rc);
    long os_errno = 0;

    /* Over a socket curl's detail names "localhost port 80", which only misleads. */
    if (t->socket && rc == CURLE_COULDNT_CONNECT)
        text = curl_easy_strerror(rc);

    if (rc == CURLE_OUT_OF_MEMORY) {
        pcictl_err("out of memory");
        return -ENOMEM;
    }
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno > 0 && !strstr(text, strerror((int)os_errno)))
        pcictl_err("cannot reach pcid at %s: %s (%s)", t->where, text, strerror((int)os_errno));
    else
        pcictl_err("cannot reach pcid at %s: %s", t->where, text);
    return -ENOTCONN;
}

/*
 * The request headers: `extra` ("Name: value" lines, NULL-terminated, may be NULL), then
 * Accept (unless `extra` has one), Expect (empty: no 100 Continue wait before a body) and, with
 * a body, Content-Type. Returns the list or NULL (no memory).
 */
static struct curl_slist *headers(const char *const *extra, bool body)
{
    struct curl_slist *hdrs = NULL, *h;
    bool accept = false;
    const char *defaults[] = {"Accept: application/json, text/plain",
                              "Expect:", body ? "Content-Type: application/json" : NULL};

    for (size_t i = 0; extra && extra[i]; i++) {
        accept |= !strncasecmp(extra[i], "Accept:", 7);
        h = curl_slist_append(hdrs, extra[i]);
        if (!h)
            goto nomem;
        hdrs = h;
    }
    for (size_t i = accept ? 1 : 0; i < 3 && defaults[i]; i++) {
        h = curl_slist_append(hdrs, defaults[i]);
        if (!h)
            goto nomem;
        hdrs = h;
    }
    return hdrs;
nomem:
    curl_slist_free_all(hdrs);
    return NULL;
}

/* The options every request shares. */
static void common_setopt(CURL *c, const struct rest_target *t, const char *url,
                          struct curl_slist *hdrs, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pcictl/" PCICTL_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* pcid is local: never through a proxy */
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (t->socket)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, t->socket);
}

/* One HTTP exchange; any status is success here. Returns 0, -ENOTCONN, -EMSGSIZE or -ENOMEM. */
static int perform(const struct rest_target *t, const char *method, const char *url,
                   const char *body, const char *const *extra, struct rest_reply *r)
{
    _cleanup_(curl_easy_cleanupp) CURL *c = curl_easy_init();
    _cleanup_(curl_slist_free_allp) struct curl_slist *hdrs = headers(extra, body != NULL);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink s = {0};
    CURLcode rc;

    if (!c || !hdrs)
        return -ENOMEM;
    common_setopt(c, t, url, hdrs, errbuf);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }

    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        free(s.p);
        if (s.err == -EMSGSIZE)
            pcictl_err("reply from pcid at %s is larger than %u MiB", t->where, REPLY_MAX >> 20);
        else if (s.err == -ENOMEM)
            pcictl_err("out of memory");
        return s.err ? s.err : report_transfer(t, c, rc, errbuf);
    }
    if (!s.p) {
        s.p = strdup("");
        if (!s.p)
            return -ENOMEM;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->body = s.p;
    r->len = s.len;
    return 0;
}

/* Print the daemon's refusal: its error desc, or the status and the start of the body. */
static void report_refusal(const char *method, const char *path, const struct rest_reply *r,
                           bool json)
{
    _cleanup_(json_decrefp) json_t *root = json_loadb(r->body, r->len, 0, NULL);
    json_t *error = json_object_get(root, "error");
    const char *desc = json_string_value(json_object_get(error, "desc"));
    const char *cls = json_string_value(json_object_get(error, "class"));
    size_t line = strcspn(r->body, "\r\n"); /* a text body: show its first line */

    if (json && root)
        print_json(root);
    fflush(stdout);
    if (desc && *desc)
        pcictl_err("%s", desc);
    else if (cls)
        pcictl_err("pcid refused %s %s: %s (HTTP %ld)", method, path, cls, r->status);
    else if (r->len && !root)
        pcictl_err("pcid refused %s %s (HTTP %ld): %.*s", method, path, r->status,
                   (int)(line > 200 ? 200 : line), r->body);
    else
        pcictl_err("pcid refused %s %s (HTTP %ld)", method, path, r->status);
}

int rest_call(const struct rest_target *t, const char *method, const char *path, json_t *body,
              bool json, struct rest_reply *r)
{
    return rest_request(t, method, path, body, NULL, json, r);
}

int rest_request(const struct rest_target *t, const char *method, const char *path, json_t *body,
                 const char *const *extra, bool json, struct rest_reply *r)
{
    _cleanup_(freep) char *url = NULL;
    _cleanup_(freep) char *text = NULL;
    int ret;

    *r = (struct rest_reply){0};
    if (asprintf(&url, "%s%s", t->base, path) < 0) {
        url = NULL;
        return -ENOMEM;
    }
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text)
            return -ENOMEM;
    }
    ret = perform(t, method, url, text, extra, r);
    if (ret < 0)
        return ret;
    if (r->status >= 400) {
        report_refusal(method, path, r, json);
        rest_reply_done(r);
        return -EREMOTEIO;
    }
    if (r->status < 200 || r->status >= 300) {
        pcictl_err("unexpected HTTP %ld reply to %s %s", r->status, method, path);
        rest_reply_done(r);
        return -EPROTO;
    }
    return 0;
}

int rest_reply_json(const struct rest_reply *r, const char *what, json_t **ret)
{
    json_error_t e;

    *ret = json_loadb(r->body, r->len, JSON_DECODE_ANY, &e);
    if (*ret)
        return 0;
    if (!r->len)
        pcictl_err("reply to %s is empty, expected JSON", what);
    else
        pcictl_err("reply to %s is not valid JSON: %s (line %d, column %d)", what, e.text, e.line,
                   e.column);
    return -EBADMSG;
}

/* Percent-encode `s`, keeping alphanumerics and the characters in `keep`. */
static char *escape(const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *p = out;

    if (!out)
        return NULL;
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
            strchr(keep, *q)) {
            *p++ = (char)*q;
        } else {
            *p++ = '%';
            *p++ = hex[*q >> 4];
            *p++ = hex[*q & 15];
        }
    }
    *p = 0;
    return out;
}

char *rest_escape_segment(const char *s)
{
    /* "." and ".." are dot-segments, not names: encode them so they stay names. */
    if (!strcmp(s, ".") || !strcmp(s, ".."))
        return strdup(s[1] ? "%2E%2E" : "%2E");
    return escape(s, "-._~:@");
}

char *rest_escape_query(const char *s)
{
    return escape(s, "-._~");
}

int print_json(const json_t *v)
{
    if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) < 0 || fputc('\n', stdout) < 0) {
        pcictl_err("cannot write to standard output");
        return -EIO;
    }
    return 0;
}

/* A stream in progress: the caller's callback, and the status once known. */
struct stream {
    CURL *c;
    int (*on_data)(const char *data, size_t len, void *opaque);
    void *opaque;
    int err;         /* the callback's error, once it stopped the transfer */
    struct sink bad; /* the body of a refusal (HTTP >= 300) */
};

static size_t stream_write(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct stream *st = opaque;
    size_t n = size * nmemb;
    long status = 0;

    curl_easy_getinfo(st->c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300)
        return sink_write(data, size, nmemb, &st->bad);
    st->err = st->on_data(data, n, st->opaque);
    return st->err < 0 ? 0 : n;
}

int rest_stream(const struct rest_target *t, const char *path, const char *const *extra,
                int (*on_data)(const char *data, size_t len, void *opaque), void *opaque)
{
    _cleanup_(curl_easy_cleanupp) CURL *c = curl_easy_init();
    _cleanup_(curl_slist_free_allp) struct curl_slist *hdrs = headers(extra, false);
    _cleanup_(freep) char *url = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct stream st = {.c = c, .on_data = on_data, .opaque = opaque};
    struct rest_reply r = {0};
    CURLcode rc;

    if (!c || !hdrs || asprintf(&url, "%s%s", t->base, path) < 0)
        return -ENOMEM;
    common_setopt(c, t, url, hdrs, errbuf);
    /* No overall limit: a stream lasts until pcid ends it. pcid writes at least every
     * 15 s, so a stream silent for STREAM_IDLE_S has lost its daemon. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STREAM_IDLE_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
    rc = curl_easy_perform(c);
    if (st.err < 0) {
        free(st.bad.p);
        return st.err;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (r.status >= 300) {
        r.body = st.bad.p ? st.bad.p : strdup("");
        r.len = st.bad.len;
        if (!r.body)
            return -ENOMEM;
        report_refusal("GET", path, &r, false);
        rest_reply_done(&r);
        return -EREMOTEIO;
    }
    free(st.bad.p);
    if (rc != CURLE_OK)
        return report_transfer(t, c, rc, errbuf);
    return 0;
}
