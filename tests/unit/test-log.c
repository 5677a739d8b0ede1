/* SPDX-License-Identifier: MIT */
/*
 * test-log.c — the log (daemon/log.c) on stderr: level names both ways, the level filter, the
 * "pcid: " line format, the cut of an over-long message (newline kept), and the target choice
 * from $JOURNAL_STREAM (only when it names stderr itself) and $PCID_LOG_TARGET.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tests/unit/unit.h"

struct level_row {
    const char *name;
    const char *text;
    int level; /* or -EINVAL */
};

/* clang-format off */
static const struct level_row level_rows[] = {
    {"err", "err", LOG_ERR},
    {"error alias", "error", LOG_ERR},
    {"warning", "warning", LOG_WARNING},
    {"notice", "notice", LOG_NOTICE},
    {"info", "info", LOG_INFO},
    {"debug", "debug", LOG_DEBUG},
    {"upper case refused", "INFO", -EINVAL},
    {"crit refused", "crit", -EINVAL},
    {"number refused", "6", -EINVAL},
    {"empty refused", "", -EINVAL},
};
/* clang-format on */

static void test_level(void **state)
{
    const struct level_row *r = *state;

    assert_int_equal(log_level_parse(r->text), r->level);
    if (r->level >= 0 && strcmp(r->text, "error") != 0)
        assert_string_equal(log_level_name(r->level), r->text);
}

/* Run fn with stderr sent to a temporary file; returns what was written (malloc'd). */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/pcid-test-log-XXXXXX", *out;
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    struct stat st;

    assert_true(fd >= 0 && saved >= 0);
    unlink(path);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_int_equal(fstat(fd, &st), 0);
    out = calloc(1, (size_t)st.st_size + 1);
    assert_non_null(out);
    assert_int_equal(pread(fd, out, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    return out;
}

static void emit_levels(void)
{
    log_set_level(LOG_NOTICE);
    log_error("an error %d", 1);
    log_notice("a notice");
    log_info("dropped: info is above notice");
    log_debug("dropped too");
    log_set_level(99); /* out of range: ignored */
    log_struct(LOG_INFO, LOG_ID_DEVICE_ADDED,
               (const struct log_field[]){{"PCID_BDF", "0000:00:03.0"}, {"PCID_DEVICE", NULL}}, 2,
               "still dropped");
    log_set_level(LOG_INFO);
    log_struct(LOG_INFO, LOG_ID_DEVICE_ADDED,
               (const struct log_field[]){{"PCID_BDF", "0000:00:03.0"}, {"PCID_DEVICE", NULL}}, 2,
               "hot-added e1000 at %s", "0000:00:03.0");
}

static void test_stderr(void **state)
{
    (void)state;
    log_open(LOG_TARGET_STDERR);
    assert_false(log_to_journal());
    char *out = capture(emit_levels);
    assert_string_equal(out, "pcid: an error 1\npcid: a notice\n"
                             "pcid: hot-added e1000 at 0000:00:03.0\n");
    free(out);
}

static void emit_long(void)
{
    char big[LOG_LINE_MAX * 2];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    log_error("%s", big);
}

static void test_cut(void **state)
{
    (void)state;
    log_open(LOG_TARGET_STDERR);
    char *out = capture(emit_long);
    size_t n = strlen(out);
    assert_true(n <= LOG_LINE_MAX + 8 && n > LOG_LINE_MAX - 8);
    assert_int_equal(out[n - 1], '\n');
    assert_non_null(strchr(out, '\n'));
    assert_ptr_equal(strchr(out, '\n'), out + n - 1); /* one line */
    free(out);
}

static void test_target(void **state)
{
    struct stat st;
    char js[64];

    (void)state;
    unsetenv("PCID_LOG_TARGET");
    unsetenv("JOURNAL_STREAM");
    log_open(LOG_TARGET_AUTO);
    assert_false(log_to_journal());
    /* $JOURNAL_STREAM naming another stream (a child's inherited value) is not the journal. */
    setenv("JOURNAL_STREAM", "1:2", 1);
    log_open(LOG_TARGET_AUTO);
    assert_false(log_to_journal());
    setenv("JOURNAL_STREAM", "garbage", 1);
    log_open(LOG_TARGET_AUTO);
    assert_false(log_to_journal());
    /* Naming stderr's device and inode: the journal. */
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    log_open(LOG_TARGET_AUTO);
    assert_true(log_to_journal());
    /* $PCID_LOG_TARGET forces either way; the explicit argument wins over both. */
    setenv("PCID_LOG_TARGET", "stderr", 1);
    log_open(LOG_TARGET_AUTO);
    assert_false(log_to_journal());
    unsetenv("JOURNAL_STREAM");
    setenv("PCID_LOG_TARGET", "journal", 1);
    log_open(LOG_TARGET_AUTO);
    assert_true(log_to_journal());
    log_open(LOG_TARGET_STDERR);
    assert_false(log_to_journal());
    unsetenv("PCID_LOG_TARGET");
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } stderr_rows[] = {{"levels and format"}}, cut_rows[] = {{"over-long message"}},
      target_rows[] = {{"JOURNAL_STREAM and PCID_LOG_TARGET"}};

    UNIT_ROWS(&s, level_rows, test_level);
    UNIT_ROWS(&s, stderr_rows, test_stderr);
    UNIT_ROWS(&s, cut_rows, test_cut);
    UNIT_ROWS(&s, target_rows, test_target);
    return unit_run(&s, "log");
}
