/* SPDX-License-Identifier: MIT */
/*
 * limit.h — the front doors' limits that a configuration file may set and SIGHUP may change
 * while pcid runs (see docs/config.md, "limits").
 *
 * Each limit has a name (the config file's key), a default (the value pcid has always used,
 * QMP_MAX_* and REST_MAX_* in the front doors' headers) and an inclusive range; a value outside
 * it is refused, never clamped. A change applies from the next use: a new QMP client, the next
 * QMP reply or event, the next REST request body; connections already open keep what they were
 * given when they opened (the QMP value limit is fixed per client at accept).
 *
 * Threads: limit_get() is a relaxed atomic load, safe anywhere (QMP on the control thread,
 * REST on libmicrohttpd's threads). limit_set() on the control thread (config load, SIGHUP).
 */
#ifndef PCID_LIMIT_H
#define PCID_LIMIT_H

#include <stdint.h>

enum limit_id {
    LIMIT_QMP_CLIENTS,          /* "qmp-clients": connections per QMP socket */
    LIMIT_QMP_VALUE_BYTES,      /* "qmp-value-bytes": one JSON value from a QMP client */
    LIMIT_QMP_OUTPUT_BYTES,     /* "qmp-output-bytes": unsent output per QMP client */
    LIMIT_QMP_VALUE_SECONDS,    /* "qmp-value-seconds": for a started QMP value to complete */
    LIMIT_REST_BODY_BYTES,      /* "rest-body-bytes": one REST request body (413 above) */
    LIMIT_REST_CLIENTS,         /* "rest-clients": connections per REST socket */
    LIMIT_REST_REQUEST_SECONDS, /* "rest-request-seconds": request line to complete request */
    LIMIT_REST_IDLE_SECONDS,    /* "rest-idle-seconds": a connection waiting for a request */
    LIMIT_DEVICES,              /* "devices": PCI functions per machine (machine_set_limits()) */
    LIMIT_BUSES,                /* "buses": PCI buses per machine (machine_set_limits()) */
    LIMIT_COUNT
};

struct limit_def {
    const char *name;       /* config key */
    uint64_t def, min, max; /* default and inclusive range */
};

/* limit_def() - the definition of `id` (LIMIT_COUNT or above: NULL). */
const struct limit_def *limit_def(enum limit_id id);

/* limit_find() - the id of the limit called `name`, or -ENOENT. */
int limit_find(const char *name);

/* limit_get() - the current value of `id` (its unit is in its name: a count or bytes). */
uint64_t limit_get(enum limit_id id);

/* limit_set() - set `id` to `value`. Returns 0, -ERANGE outside [min, max], -EINVAL bad id. */
int limit_set(enum limit_id id, uint64_t value);

#endif
