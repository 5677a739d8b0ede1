/* SPDX-License-Identifier: MIT */
/*
 * store.c — the state directory on disk (see store.h).
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_MARK ".tmp."

int store_resolve_dir(const char *opt, char **ret, const char **source)
{
    const char *env = getenv("STATE_DIRECTORY"), *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char *p = NULL;
    int r;

    if (env && *env && *env != ':') {
        *source = "$STATE_DIRECTORY";
        r = asprintf(&p, "%.*s", (int)strcspn(env, ":"), env); /* first of a list */
    } else if (opt) {
        *source = "--state-dir";
        r = asprintf(&p, "%s", opt);
    } else if (geteuid() == 0) {
        *source = "default";
        r = asprintf(&p, "/var/lib/pcid");
    } else if (xdg && xdg[0] == '/') {
        *source = "default";
        r = asprintf(&p, "%s/pcid", xdg);
    } else {
        if (!home || home[0] != '/') {
            struct passwd *pw = getpwuid(geteuid());

            home = pw ? pw->pw_dir : NULL;
        }
        if (!home || home[0] != '/')
            return -ENOENT;
        *source = "default";
        r = asprintf(&p, "%s/.local/state/pcid", home);
    }
    if (r < 0)
        return -ENOMEM;
    *ret = p;
    return 0;
}

static int fail(struct error *err, int e, const char *what, const char *path)
{
    error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INTERNAL, "%s %s: %s", what, path, strerror(e));
    return -e;
}

/* mkdir -p: parents 0755, the last component `mode`. */
static int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Remove ".NAME.tmp.XXXXXX" files a crashed writer left in `dir` (absent dir: nothing). */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && strstr(e->d_name, TMP_MARK) && e->d_name[1] &&
            e->d_name[1] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

int store_prepare_dir(const char *dir, struct error *err)
{
    struct stat st;
    int r = mkdir_p(dir, 0750);

    if (r < 0)
        return fail(err, -r, "cannot create the state directory", dir);
    if (stat(dir, &st) < 0)
        return fail(err, errno, "cannot use the state directory", dir);
    if (!S_ISDIR(st.st_mode))
        return fail(err, ENOTDIR, "cannot use the state directory", dir);
    return 0;
}

int store_lock_dir(const char *dir, struct error *err)
{
    char sub[PATH_MAX];
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

    if (fd < 0)
        return fail(err, errno, "cannot open the state directory", dir);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            error_conflict(err, "the state directory %s is in use by another pcid", dir);
            return -EBUSY;
        }
        return fail(err, e, "cannot lock the state directory", dir);
    }
    /* Ours alone now: what a crashed writer left can go. */
    remove_stale_temps(dir);
    snprintf(sub, sizeof(sub), "%s/%s", dir, STORE_SNAPSHOT_DIR);
    remove_stale_temps(sub);
    return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int store_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                       struct error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd = -1, dfd = -1, e = 0;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
        snprintf(tmp, sizeof(tmp), "%s/.%s" TMP_MARK "XXXXXX", dir, name) >= (int)sizeof(tmp))
        return fail(err, ENAMETOOLONG, "cannot write", path);
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return fail(err, errno, "cannot create", dir);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail(err, errno, "cannot open", dir);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        close(dfd);
        return fail(err, e, "cannot write", path);
    }
    if (fchmod(fd, 0640) < 0)
        e = errno;
    if (!e)
        e = -write_all(fd, data, len);
    if (!e && fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        close(dfd);
        return fail(err, e, "cannot write", path);
    }
    /* The rename is durable once the directory is. */
    if (fsync(dfd) < 0)
        e = errno;
    close(dfd);
    if (e)
        return fail(err, e, "cannot sync the directory of", path);
    return 0;
}

int store_read(const char *path, size_t max, char **data, size_t *len, struct error *err)
{
    struct stat st;
    char *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), e;

    if (fd < 0) {
        e = errno;
        if (e == ENOENT) {
            error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_NOT_FOUND, "%s does not exist", path);
            return -ENOENT;
        }
        return fail(err, e, "cannot read", path);
    }
    if (fstat(fd, &st) < 0) {
        e = errno;
        close(fd);
        return fail(err, e, "cannot read", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return error_invalid(err, "%s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        error_invalid(err, "%s is %lld bytes, larger than the limit of %zu bytes", path,
                      (long long)st.st_size, max);
        return -EFBIG;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return fail(err, ENOMEM, "cannot read", path);
    }
    while (got <= max) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            free(buf);
            close(fd);
            return fail(err, e, "cannot read", path);
        }
        if (n == 0 || got + (size_t)n > (size_t)st.st_size)
            break; /* end, or the file grew: take what stat promised */
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    *data = buf;
    *len = got;
    return 0;
}

int store_name_check(const char *name, struct error *err)
{
    size_t n = strlen(name);

    if (!n)
        return error_invalid(err, "a snapshot name must not be empty");
    if (strchr(name, '/'))
        return error_invalid(err,
                             "snapshot name '%s' contains '/': a snapshot name is a plain file "
                             "name in the state directory's snapshots/",
                             name);
    if (name[0] == '.')
        return error_invalid(err, "snapshot name '%s' starts with '.'", name);
    if (n > STORE_NAME_MAX)
        return error_invalid(err, "snapshot name '%.16s...' is %zu bytes, longer than %d", name, n,
                             STORE_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+'))
            return error_invalid(err,
                                 "snapshot name '%s' contains byte 0x%02x at %zu: use letters, "
                                 "digits, '.', '_', '-' and '+'",
                                 name, c, i);
    }
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct store_entry *)a)->name, ((const struct store_entry *)b)->name);
}

int store_list(const char *dir, struct store_entry **ret, struct error *err)
{
    char path[PATH_MAX];
    struct store_entry *v = NULL;
    struct dirent *e;
    size_t n = 0, cap = 0;
    DIR *d;

    *ret = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, STORE_SNAPSHOT_DIR);
    d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return fail(err, errno, "cannot list", path);
    }
    while ((e = readdir(d)) && n < STORE_LIST_MAX) {
        struct stat st;

        if (store_name_check(e->d_name, NULL) < 0 ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            struct store_entry *nv;

            cap = cap ? cap * 2 : 16;
            nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                free(v);
                closedir(d);
                return fail(err, ENOMEM, "cannot list", path);
            }
            v = nv;
        }
        memcpy(v[n].name, e->d_name, strlen(e->d_name) + 1); /* checked: fits */
        v[n].size = (uint64_t)st.st_size;
        v[n].mtime = st.st_mtim;
        n++;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof(*v), entry_cmp);
    *ret = v;
    return (int)n;
}
