/* SPDX-License-Identifier: MIT */
/*
 * log.h — pcid's log: journald's native protocol with structured fields when stderr is the
 * journal, plain "pcid: text" lines on stderr otherwise.
 *
 * Target: log_open() picks the journal when $JOURNAL_STREAM names the device and inode of
 * stderr (systemd.exec(5), "$JOURNAL_STREAM": that is how a service learns its stderr is
 * connected to journald), stderr otherwise. $PCID_LOG_TARGET=journal|stderr forces one.
 *
 * Levels are syslog's (LOG_ERR 3 .. LOG_DEBUG 7); messages with a priority above the current
 * level (default LOG_INFO) are dropped. Every message to the journal carries MESSAGE=,
 * PRIORITY=, SYSLOG_IDENTIFIER=pcid; messages of a known kind carry a fixed MESSAGE_ID= (the
 * LOG_ID_* below, each a 128-bit id made once with `systemd-id128 new`, never to change):
 * `journalctl MESSAGE_ID=...` finds them. Device events add PCID_DEVICE= (the id, when there is
 * one), PCID_BDF= ("0000:00:03.0"), PCID_DRIVER= and PCID_HOTPLUG= (1 after machine start).
 * Every LOG_ERR message carries LOG_ID_ERROR unless it has a kind of its own.
 *
 * At exit after an error went to the journal, pcid waits 100 ms so that journald can still
 * file the entry under pcid's unit (it reads the sender's cgroup when it reads the message).
 *
 * Threads: every function is safe on any thread (sd_journal_sendv(3) is; a stderr line is one
 * write(2)). Not for a vCPU's hot path. Messages longer than LOG_LINE_MAX bytes are cut.
 */
#ifndef PCID_LOG_H
#define PCID_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "util/util.h"

#define LOG_ID_START          "1e387948ea754ec881c34debf4c3fa0c" /* pcid started (READY=1) */
#define LOG_ID_STOP           "c8712644a52d4f4289f913919d354b6d" /* pcid stopping */
#define LOG_ID_DEVICE_ADDED   "b84a718617b64b3694ee9ff6b7ddba1e" /* hot-add (and cold-plug) */
#define LOG_ID_DEVICE_REMOVED "bc0ed71e017a43c989374f242d929fae" /* hot-remove completed */
#define LOG_ID_ERROR          "40989bb70348413a9b1d72fcac572ed2" /* any error */
#define LOG_ID_RELOAD         "5afa4d4ea6284c01882a1d5623e085a3" /* SIGHUP reload applied */

#define LOG_LINE_MAX 4096 /* bytes of one message, longer ones are cut */

enum log_target {
    LOG_TARGET_AUTO = 0, /* the journal when stderr is the journal, else stderr */
    LOG_TARGET_STDERR,
    LOG_TARGET_JOURNAL,
};

/* One structured field: NAME (upper case, as journald wants) and its value. */
struct log_field {
    const char *name;
    const char *value;
};

/*
 * log_open() - choose where messages go. LOG_TARGET_AUTO follows $PCID_LOG_TARGET, then
 * $JOURNAL_STREAM against fstat(2) of stderr. Call once, early, on the main thread.
 */
void log_open(enum log_target target);

/* log_to_journal() - true when messages go to journald's native protocol. */
bool log_to_journal(void);

/*
 * log_level_parse() - a level name: "err" (or "error"), "warning", "notice", "info", "debug".
 * Returns LOG_ERR..LOG_DEBUG, or -EINVAL for anything else.
 */
int log_level_parse(const char *name);

/* log_level_name() - the name log_level_parse() takes for LOG_ERR..LOG_DEBUG ("?" otherwise). */
const char *log_level_name(int level);

/* log_set_level() / log_get_level() - the most verbose priority logged (LOG_ERR..LOG_DEBUG). */
void log_set_level(int level);
int log_get_level(void);

/*
 * log_struct() - log one message at `priority` (LOG_ERR..LOG_DEBUG).
 * @message_id: a LOG_ID_* or NULL (LOG_ERR messages then get LOG_ID_ERROR).
 * @fields, @n: extra journal fields (fields with a NULL value are left out); on stderr only
 *              the text is printed.
 */
void log_struct(int priority, const char *message_id, const struct log_field *fields, size_t n,
                const char *fmt, ...) _printf_(5, 6);

#define log_error(...)   log_struct(LOG_ERR, NULL, NULL, 0, __VA_ARGS__)
#define log_warning(...) log_struct(LOG_WARNING, NULL, NULL, 0, __VA_ARGS__)
#define log_notice(...)  log_struct(LOG_NOTICE, NULL, NULL, 0, __VA_ARGS__)
#define log_info(...)    log_struct(LOG_INFO, NULL, NULL, 0, __VA_ARGS__)
#define log_debug(...)   log_struct(LOG_DEBUG, NULL, NULL, 0, __VA_ARGS__)

#endif
