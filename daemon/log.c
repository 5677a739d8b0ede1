/* SPDX-License-Identifier: MIT */
/*
 * log.c — journald or stderr (see log.h). The journal gets one datagram per message through
 * sd_journal_sendv(3); stderr gets one line per message through one write(2), so lines from
 * different threads never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#define LOG_MAX_FIELDS 16

static atomic_int log_level = LOG_INFO;
static atomic_bool log_journal;
static atomic_bool journal_error_sent;

static const char *const level_names[] = {
    [LOG_ERR] = "err",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* systemd.exec(5): $JOURNAL_STREAM is "DEVICE:INODE" of the stream stderr was connected to. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(enum log_target target)
{
    const char *forced = getenv("PCID_LOG_TARGET");

    if (target == LOG_TARGET_AUTO && forced) {
        if (strcmp(forced, "journal") == 0)
            target = LOG_TARGET_JOURNAL;
        else if (strcmp(forced, "stderr") == 0)
            target = LOG_TARGET_STDERR;
    }
    if (target == LOG_TARGET_AUTO)
        target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
    atomic_store(&log_journal, target == LOG_TARGET_JOURNAL);
}

bool log_to_journal(void)
{
    return atomic_load(&log_journal);
}

int log_level_parse(const char *name)
{
    if (!name)
        return -EINVAL;
    if (strcmp(name, "error") == 0)
        return LOG_ERR;
    for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
        if (level_names[l] && strcmp(level_names[l], name) == 0)
            return l;
    return -EINVAL;
}

const char *log_level_name(int level)
{
    if (level < LOG_ERR || level > LOG_DEBUG)
        return "?";
    return level_names[level];
}

void log_set_level(int level)
{
    if (level >= LOG_ERR && level <= LOG_DEBUG)
        atomic_store(&log_level, level);
}

int log_get_level(void)
{
    return atomic_load(&log_level);
}

/* "NAME=value" into buf; false when it does not fit (the field is then left out). */
static bool field(char *buf, size_t len, const char *name, const char *value)
{
    int n = snprintf(buf, len, "%s=%s", name, value);

    return n > 0 && (size_t)n < len;
}

static void send_journal(int priority, const char *message_id, const struct log_field *fields,
                         size_t n, const char *text)
{
    char bufs[LOG_MAX_FIELDS][LOG_LINE_MAX / 4], msg[LOG_LINE_MAX + 8], prio[32], id[48];
    struct iovec iov[LOG_MAX_FIELDS + 4];
    size_t k = 0;

    snprintf(msg, sizeof(msg), "MESSAGE=%s", text);
    iov[k++] = (struct iovec){msg, strlen(msg)};
    snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
    iov[k++] = (struct iovec){prio, strlen(prio)};
    iov[k++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=pcid", strlen("SYSLOG_IDENTIFIER=pcid")};
    if (message_id) {
        snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id);
        iov[k++] = (struct iovec){id, strlen(id)};
    }
    for (size_t i = 0; i < n && i < LOG_MAX_FIELDS; i++) {
        if (!fields[i].value || !field(bufs[i], sizeof(bufs[i]), fields[i].name, fields[i].value))
            continue;
        iov[k++] = (struct iovec){bufs[i], strlen(bufs[i])};
    }
    if (priority <= LOG_ERR)
        atomic_store(&journal_error_sent, true);
    if (sd_journal_sendv(iov, (int)k) < 0) {
        /* journald is gone (stopping?): fall back to stderr, which systemd still reads */
        dprintf(STDERR_FILENO, "pcid: %s\n", text);
    }
}

void log_struct(int priority, const char *message_id, const struct log_field *fields, size_t n,
                const char *fmt, ...)
{
    char text[LOG_LINE_MAX];
    va_list ap;

    if (priority > log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (!message_id && priority <= LOG_ERR)
        message_id = LOG_ID_ERROR;
    if (log_to_journal()) {
        send_journal(priority, message_id, fields, n, text);
        return;
    }
    /* One write: the line arrives whole even with other threads logging. */
    char line[LOG_LINE_MAX + 8];
    int len = snprintf(line, sizeof(line), "pcid: %s\n", text);

    if (len < 0)
        return;
    if ((size_t)len >= sizeof(line)) { /* cut: keep the newline */
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    if (write(STDERR_FILENO, line, (size_t)len) < 0) {
        /* nowhere left to report it */
    }
}

/*
 * journald files a native message under its unit (what `journalctl -u pcid` matches) by reading
 * the sender's cgroup when it reads the message; a process that is already gone by then leaves
 * the entry without a unit. An error is usually the last thing pcid says before it exits 78, so
 * at exit after an error give journald a moment (LOG_EXIT_WAIT_US) to read it while pcid still
 * exists.
 */
#define LOG_EXIT_WAIT_US 100000

__attribute__((destructor)) static void log_exit_wait(void)
{
    if (atomic_load(&journal_error_sent))
        usleep(LOG_EXIT_WAIT_US);
}
