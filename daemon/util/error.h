/* SPDX-License-Identifier: MIT */
/*
 * error.h — a user-facing error: a class and a sentence.
 *
 * Contract: functions whose failure a user must read (device_add, property parsing, placement)
 * take `struct error *err` as their last parameter and return -errno. They fill `err` once, at
 * the place that knows the context; `err` may be NULL (the caller only wants the errno) and is
 * untouched on success. Only the command layer (api/) turns a `struct error` into the QMP/REST
 * JSON error object. Safe on any thread; no allocation.
 */
#ifndef PCID_ERROR_H
#define PCID_ERROR_H

#include "util.h"

/* The QMP error classes pcid uses, with the REST status each maps to (api/commands.c). */
enum error_class {
    ERROR_CLASS_NONE = 0,
    ERROR_CLASS_GENERIC,           /* "GenericError" */
    ERROR_CLASS_COMMAND_NOT_FOUND, /* "CommandNotFound" */
    ERROR_CLASS_DEVICE_NOT_FOUND,  /* "DeviceNotFound" */
};

/* What kind of refusal, so REST can pick a status: a conflict (409) or plain bad input (400). */
enum error_kind {
    ERROR_KIND_INVALID = 0, /* bad input */
    ERROR_KIND_CONFLICT,    /* occupied slot, duplicate id, pending unplug, in use */
    ERROR_KIND_LIMIT,       /* a configured limit was reached */
    ERROR_KIND_INTERNAL,    /* pcid failed (I/O error writing state, out of memory) */
    ERROR_KIND_NOT_FOUND,   /* a named thing (snapshot) does not exist (REST 404) */
};

#define ERROR_DESC_MAX 512

struct error {
    enum error_class cls;
    enum error_kind kind;
    char desc[ERROR_DESC_MAX];
};

/*
 * error_setf() - record the first error: class `cls`, kind `kind`, printf-style text.
 * @err: may be NULL (nothing recorded). An error already recorded is kept (the first one is
 *       the cause; later ones are consequences).
 * Returns -EINVAL for ERROR_KIND_INVALID, -EBUSY for CONFLICT, -ENOSPC for LIMIT, -EIO for
 * INTERNAL, -ENOENT for NOT_FOUND, so callers can `return error_setf(...)`.
 */
int error_setf(struct error *err, enum error_class cls, enum error_kind kind, const char *fmt, ...)
    _printf_(4, 5);

/* Shorthands for the common cases: a GenericError of kind INVALID or CONFLICT. */
#define error_invalid(err, ...)                                                                    \
    error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_INVALID, __VA_ARGS__)
#define error_conflict(err, ...)                                                                   \
    error_setf(err, ERROR_CLASS_GENERIC, ERROR_KIND_CONFLICT, __VA_ARGS__)

static inline bool error_is_set(const struct error *err)
{
    return err && err->cls != ERROR_CLASS_NONE;
}

/* The QMP class name for `cls` ("GenericError", ...). */
const char *error_class_name(enum error_class cls);

#endif
