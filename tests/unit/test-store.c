/* SPDX-License-Identifier: MIT */
/*
 * test-store.c — the state directory on disk (daemon/state/store.c): which directory, snapshot
 * names, atomic replacement (content, mode, no temporary left, the target untouched when the
 * write fails), bounded reads, listings, and the lock that keeps a second pcid out (and clears
 * what a crashed writer left).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/state/store.h"
#include "tests/unit/unit.h"

static void rm_rf(void *p)
{
    char cmd[4200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)p);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", (char *)p);
    free(p);
}

static char *tmpdir(struct unit_fix *f)
{
    char *d = strdup("/tmp/pcid-store-XXXXXX");

    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return unit_defer(f, rm_rf, d);
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[8192];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static bool exists(const char *dir, const char *name)
{
    char path[8192];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Entries of `dir` whose name holds ".tmp.". */
static int temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

/* ---- names ------------------------------------------------------------------------------- */

struct name_row {
    const char *name;
    const char *snapshot;
    const char *want; /* NULL: accepted */
};

#define LONG64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* clang-format off */
static const struct name_row name_rows[] = {
    {"plain", "s1", NULL},
    {"every allowed character", "A.b-c_d+9", NULL},
    {"64 bytes", LONG64, NULL},
    {"empty", "", "a snapshot name must not be empty"},
    {"path separator", "a/b", "snapshot name 'a/b' contains '/'"},
    {"parent directory", "../x", "contains '/'"},
    {"absolute path", "/etc/passwd", "contains '/'"},
    {"leading dot", ".hidden", "snapshot name '.hidden' starts with '.'"},
    {"dot", ".", "starts with '.'"},
    {"dot dot", "..", "starts with '.'"},
    {"65 bytes", LONG64 "a", "is 65 bytes, longer than 64"},
    {"space", "a b", "contains byte 0x20 at 1"},
    {"backslash", "a\\b", "contains byte 0x5c at 1"},
    {"newline", "a\n", "contains byte 0x0a at 1"},
    {"not ASCII", "caf\xc3\xa9", "contains byte 0xc3 at 3"},
};
/* clang-format on */

static void test_name(void **state)
{
    const struct name_row *row = *state;
    struct error err = {0};
    int r = store_name_check(row->snapshot, &err);

    if (!row->want) {
        assert_int_equal(r, 0);
        return;
    }
    assert_int_equal(r, -EINVAL);
    if (!strstr(err.desc, row->want))
        fail_msg("got \"%s\", want \"%s\"", err.desc, row->want);
}

/* ---- atomic writes ------------------------------------------------------------------------ */

static void test_write(void **state)
{
    struct unit_fix *f = *state;
    char *dir = tmpdir(f), path[4096], *data = NULL;
    struct error err = {0};
    struct stat st;
    size_t len;

    assert_int_equal(store_write_atomic(dir, "machine.json", "{}\n", 3, &err), 0);
    assert_int_equal(store_write_atomic(dir, "machine.json", "{\"a\": 1}\n", 9, &err), 0);
    snprintf(path, sizeof(path), "%s/machine.json", dir);
    assert_int_equal(store_read(path, 100, &data, &len, &err), 0);
    assert_int_equal(len, 9);
    assert_string_equal(data, "{\"a\": 1}\n");
    free(data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(temps(dir), 0);

    /* A missing snapshots/ is created (one level). */
    snprintf(path, sizeof(path), "%s/snapshots", dir);
    assert_int_equal(store_write_atomic(path, "s1", "x", 1, &err), 0);
    assert_true(exists(path, "s1"));
}

/* The rename cannot replace a directory: the target stays, no temporary is left. */
static void test_write_fails_cleanly(void **state)
{
    struct unit_fix *f = *state;
    char *dir = tmpdir(f), sub[1024];
    struct error err = {0};

    snprintf(sub, sizeof(sub), "%s/machine.json", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    put(sub, "inside", "keep");
    assert_true(store_write_atomic(dir, "machine.json", "{}", 2, &err) < 0);
    assert_non_null(strstr(err.desc, "cannot write"));
    assert_non_null(strstr(err.desc, "machine.json"));
    assert_true(exists(sub, "inside"));
    assert_int_equal(temps(dir), 0);

    /* A state "directory" that is a file. */
    err = (struct error){0};
    put(dir, "file", "x");
    snprintf(sub, sizeof(sub), "%s/file", dir);
    assert_true(store_write_atomic(sub, "machine.json", "{}", 2, &err) < 0);
    assert_true(store_prepare_dir(sub, &(struct error){0}) < 0);
}

/* ---- reads -------------------------------------------------------------------------------- */

static void test_read(void **state)
{
    struct unit_fix *f = *state;
    char *dir = tmpdir(f), path[4096], *data = NULL;
    struct error err = {0};
    size_t len = 0;

    put(dir, "four", "1234");
    snprintf(path, sizeof(path), "%s/four", dir);
    assert_int_equal(store_read(path, 3, &data, &len, &err), -EFBIG);
    assert_non_null(strstr(err.desc, "larger than the limit of 3 bytes"));
    assert_null(data);
    assert_int_equal(store_read(path, 4, &data, &len, &(struct error){0}), 0);
    assert_int_equal(len, 4);
    assert_string_equal(data, "1234");
    free(data);

    err = (struct error){0};
    snprintf(path, sizeof(path), "%s/absent", dir);
    assert_int_equal(store_read(path, 4, &data, &len, &err), -ENOENT);
    assert_int_equal(err.kind, ERROR_KIND_NOT_FOUND);

    err = (struct error){0};
    assert_int_equal(store_read(dir, 4, &data, &len, &err), -EINVAL);
    assert_non_null(strstr(err.desc, "is not a regular file"));
}

/* ---- listing ------------------------------------------------------------------------------ */

static void test_list(void **state)
{
    struct unit_fix *f = *state;
    char *dir = tmpdir(f), sub[1024];
    struct store_entry *v = NULL;
    struct error err = {0};
    int n;

    assert_int_equal(store_list(dir, &v, &err), 0); /* no snapshots/ yet */
    snprintf(sub, sizeof(sub), "%s/snapshots", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    put(sub, "b", "bb");
    put(sub, "a", "a");
    put(sub, ".hidden", "x");
    put(sub, ".b.tmp.123456", "x");
    put(sub, "bad name", "x");
    snprintf(sub, sizeof(sub), "%s/snapshots/dir", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    n = store_list(dir, &v, &err);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "a");
    assert_int_equal(v[0].size, 1);
    assert_string_equal(v[1].name, "b");
    assert_int_equal(v[1].size, 2);
    assert_true(v[1].mtime.tv_sec > 0);
    free(v);
}

/* ---- the lock ----------------------------------------------------------------------------- */

static void test_lock(void **state)
{
    struct unit_fix *f = *state;
    char *dir = tmpdir(f), sub[1024];
    struct error err = {0};
    int fd, fd2;

    put(dir, ".machine.json.tmp.AbCdEf", "half");
    put(dir, "machine.json", "{}");
    snprintf(sub, sizeof(sub), "%s/snapshots", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    put(sub, ".s1.tmp.123456", "half");
    put(sub, "s1", "whole");

    fd = store_lock_dir(dir, &err);
    assert_true(fd >= 0);
    assert_false(exists(dir, ".machine.json.tmp.AbCdEf"));
    assert_false(exists(sub, ".s1.tmp.123456"));
    assert_true(exists(dir, "machine.json"));
    assert_true(exists(sub, "s1"));

    fd2 = store_lock_dir(dir, &err);
    assert_int_equal(fd2, -EBUSY);
    assert_non_null(strstr(err.desc, "is in use by another pcid"));
    close(fd);
    fd2 = store_lock_dir(dir, &(struct error){0});
    assert_true(fd2 >= 0);
    close(fd2);
}

/* ---- where -------------------------------------------------------------------------------- */

struct where_row {
    const char *name;
    const char *env_state, *env_xdg, *env_home; /* NULL: unset */
    const char *opt;
    const char *want, *source; /* for a non-root user; root gets /var/lib/pcid by default */
};

/* clang-format off */
static const struct where_row where_rows[] = {
    {"$STATE_DIRECTORY wins over --state-dir", "/srv/a", "/x", "/h", "/opt/d", "/srv/a",
     "$STATE_DIRECTORY"},
    {"first of a $STATE_DIRECTORY list", "/srv/a:/srv/b", NULL, "/h", NULL, "/srv/a",
     "$STATE_DIRECTORY"},
    {"--state-dir", NULL, "/x", "/h", "/opt/d", "/opt/d", "--state-dir"},
    {"empty $STATE_DIRECTORY is unset", "", NULL, "/h", "/opt/d", "/opt/d", "--state-dir"},
    {"$XDG_STATE_HOME", NULL, "/x", "/h", NULL, "/x/pcid", "default"},
    {"relative $XDG_STATE_HOME is ignored", NULL, "rel", "/h", NULL, "/h/.local/state/pcid",
     "default"},
    {"$HOME", NULL, NULL, "/h", NULL, "/h/.local/state/pcid", "default"},
};
/* clang-format on */

static void setenv_or_unset(const char *name, const char *v)
{
    if (v)
        setenv(name, v, 1);
    else
        unsetenv(name);
}

static void test_where(void **state)
{
    const struct where_row *row = *state;
    const char *source = NULL;
    char *dir = NULL;
    bool by_default = !row->env_state || !*row->env_state ? !row->opt : false;

    setenv_or_unset("STATE_DIRECTORY", row->env_state);
    setenv_or_unset("XDG_STATE_HOME", row->env_xdg);
    setenv_or_unset("HOME", row->env_home);
    assert_int_equal(store_resolve_dir(row->opt, &dir, &source), 0);
    if (by_default && geteuid() == 0) {
        assert_string_equal(dir, "/var/lib/pcid");
    } else {
        assert_string_equal(dir, row->want);
        assert_string_equal(source, row->source);
    }
    free(dir);
    unsetenv("STATE_DIRECTORY");
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"all"}};

    UNIT_ROWS(&s, name_rows, test_name);
    UNIT_ROWS_FIX(&s, one, test_write);
    UNIT_ROWS_FIX(&s, one, test_write_fails_cleanly);
    UNIT_ROWS_FIX(&s, one, test_read);
    UNIT_ROWS_FIX(&s, one, test_list);
    UNIT_ROWS_FIX(&s, one, test_lock);
    UNIT_ROWS(&s, where_rows, test_where);
    return unit_run(&s, "store");
}
