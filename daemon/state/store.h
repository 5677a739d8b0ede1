/* SPDX-License-Identifier: MIT */
/*
 * store.h — pcid's state directory on disk: where it is, atomic file replacement, bounded
 * reads, snapshot names and listings.
 *
 * Where: $STATE_DIRECTORY (systemd's StateDirectory=; the first of a ':' list), else
 * --state-dir DIR, else /var/lib/pcid as root, else $XDG_STATE_HOME/pcid (absolute only),
 * else ~/.local/state/pcid. --no-state runs without one (the caller's choice).
 *
 * Layout: machine.json (guest side), backends.json (host side), snapshots/NAME (device state).
 * Temporary files are ".NAME.tmp.XXXXXX" next to their target; a name starting with '.' is never
 * a state file, so a stale one (a crash between create and rename) is removed at start.
 *
 * Atomicity: store_write_atomic() writes a temporary file, fsyncs it, renames it over the target
 * and fsyncs the directory, so after a crash the target holds the old or the new content, never
 * a mix, and a reader never sees a partial file.
 *
 * Errors: -errno with `err` set to a sentence naming the path (ERROR_KIND_INTERNAL for I/O,
 * INVALID for bad names and oversized files, NOT_FOUND for a missing file). Library code: no
 * logging. Threads: any; the caller serializes writers of one file (the control lock).
 */
#ifndef PCID_STATE_STORE_H
#define PCID_STATE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../util/error.h"

#define STORE_MACHINE_FILE  "machine.json"
#define STORE_BACKENDS_FILE "backends.json"
#define STORE_SNAPSHOT_DIR  "snapshots"
#define STORE_NAME_MAX      64   /* bytes of a snapshot name */
#define STORE_LIST_MAX      4096 /* snapshots a listing returns */

/*
 * store_resolve_dir() - the state directory by the rules above, ignoring --no-state.
 * @opt: --state-dir or NULL. *ret receives a malloc'd path and *source where it came from
 * ("$STATE_DIRECTORY", "--state-dir", "default"). Returns 0, -ENOENT (no home directory to
 * derive a default from), -ENOMEM.
 */
int store_resolve_dir(const char *opt, char **ret, const char **source);

/*
 * store_prepare_dir() - create `dir` (and its parents) if missing, mode 0750; refuse a path
 * that is not a directory.
 * Returns 0 or -errno with `err` set.
 */
int store_prepare_dir(const char *dir, struct error *err);

/*
 * store_lock_dir() - take an exclusive advisory lock (flock) on `dir` for the life of the
 * returned descriptor, so two pcid processes never share a state directory; then remove the
 * stale temporary files in it and in its snapshots/. Returns the fd
 * (close it to release), -EBUSY when another process holds it, or -errno; `err` set.
 */
int store_lock_dir(const char *dir, struct error *err);

/*
 * store_write_atomic() - replace `dir`/`name` with `len` bytes (mode 0640) atomically (see
 * above). `name` is a plain file name. Creates `dir` when missing (one level). Returns 0, or
 * -errno with `err` set ("cannot write PATH: ..."); on failure the target is untouched and no
 * temporary file is left.
 */
int store_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                       struct error *err);

/*
 * store_read() - read a whole regular file of at most `max` bytes into a malloc'd buffer with
 * a NUL after the last byte (*data, *len). Returns 0; -ENOENT (absent, NOT_FOUND), -EFBIG
 * (larger than max), -EINVAL (not a regular file), other -errno; `err` names the path.
 */
int store_read(const char *path, size_t max, char **data, size_t *len, struct error *err);

/*
 * store_name_check() - is `name` a snapshot name: 1..STORE_NAME_MAX bytes of letters, digits,
 * '.', '_', '-', '+', not starting with '.' (no path separators, no hidden or temporary files).
 * Returns 0 or -EINVAL with `err` saying which rule failed.
 */
int store_name_check(const char *name, struct error *err);

/* One snapshot in a listing. */
struct store_entry {
    char name[STORE_NAME_MAX + 1];
    uint64_t size;         /* bytes */
    struct timespec mtime; /* last modification */
};

/*
 * store_list() - the snapshots in `dir`/snapshots (regular files with valid names), sorted by
 * name, at most STORE_LIST_MAX. *ret is malloc'd (NULL when none). A missing snapshots/
 * directory is an empty list. Returns the count or -errno with `err` set.
 */
int store_list(const char *dir, struct store_entry **ret, struct error *err);

#endif
