/* SPDX-License-Identifier: MIT */
/*
 * schema.h — what the build generates from api/schema/ (gen_schema.py): the QMP schema as
 * query-qmp-schema returns it, the argument rules of every command, the event names, and the
 * OpenAPI document served at GET /v1/openapi.json. One source of truth each: edit
 * api/schema/qmp-schema.json or api/schema/openapi.yaml, never the generated C.
 *
 * Everything here is constant data; safe from any thread.
 */
#ifndef PCID_API_SCHEMA_H
#define PCID_API_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

/* The JSON kind an argument must have (QAPI's input visitor). */
enum api_arg_kind {
    API_ARG_STR,    /* 'str' */
    API_ARG_INT,    /* 'int' and every sized integer */
    API_ARG_BOOL,   /* 'bool' */
    API_ARG_NUMBER, /* 'number': integer or real */
    API_ARG_NULL,   /* 'null' */
    API_ARG_ANY,    /* 'any', alternates */
    API_ARG_ENUM,   /* a string among `values` */
    API_ARG_ARRAY,  /* [T] */
    API_ARG_OBJECT, /* struct or union */
};

/* One top-level argument of a command, in schema order. Tables end with {0}. */
struct api_schema_arg {
    const char *name;
    enum api_arg_kind kind;
    bool optional;
    const char *const *values; /* API_ARG_ENUM: NULL-terminated; else NULL */
};

/*
 * A command of the schema; `args` NULL means free-form ("gen": false, as device_add). `debug`:
 * the entry has "if": "PCID_DEBUG_COMMANDS", a test-only command that exists only when the
 * daemon runs with that variable set to 1 (api_options.debug_commands).
 */
struct api_schema_command {
    const char *name;
    const struct api_schema_arg *args;
    bool debug;
};

/*
 * query-qmp-schema's return value: a JSON array of SchemaInfo, compact. The first leaves the
 * test-only commands out; the second, for a daemon that has them, lists them too.
 */
extern const char api_schema_introspection[];
extern const char api_schema_introspection_debug[];

/* Every command of the schema, in schema order; ends with {0}. */
extern const struct api_schema_command api_schema_commands[];

/* Every event name of the schema; ends with NULL. */
extern const char *const api_schema_events[];

/* The OpenAPI 3.1 document (api/schema/openapi.yaml) as compact JSON. */
extern const char api_schema_openapi[];

/* api_schema_command_find() - the schema entry of command `name`, or NULL. */
const struct api_schema_command *api_schema_command_find(const char *name);

/* api_schema_has_event() - whether `name` is an event of the schema. */
bool api_schema_has_event(const char *name);

#endif
