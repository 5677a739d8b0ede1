/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static int kind_errno(enum error_kind kind)
{
    switch (kind) {
    case ERROR_KIND_CONFLICT:
        return -EBUSY;
    case ERROR_KIND_LIMIT:
        return -ENOSPC;
    case ERROR_KIND_INTERNAL:
        return -EIO;
    case ERROR_KIND_NOT_FOUND:
        return -ENOENT;
    case ERROR_KIND_INVALID:
    default:
        return -EINVAL;
    }
}

int error_setf(struct error *err, enum error_class cls, enum error_kind kind, const char *fmt, ...)
{
    va_list ap;

    if (!err || err->cls != ERROR_CLASS_NONE)
        return kind_errno(kind);
    err->cls = cls;
    err->kind = kind;
    va_start(ap, fmt);
    vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
    va_end(ap);
    return kind_errno(kind);
}

const char *error_class_name(enum error_class cls)
{
    switch (cls) {
    case ERROR_CLASS_COMMAND_NOT_FOUND:
        return "CommandNotFound";
    case ERROR_CLASS_DEVICE_NOT_FOUND:
        return "DeviceNotFound";
    case ERROR_CLASS_GENERIC:
    case ERROR_CLASS_NONE:
    default:
        return "GenericError";
    }
}
