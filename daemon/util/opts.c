/* SPDX-License-Identifier: MIT */
#include "opts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Copy a value up to the next single ',' turning ",," into ','; advance *pp past it. */
static char *read_value(const char **pp)
{
    const char *p = *pp;
    char *v = malloc(strlen(p) + 1), *o = v;

    if (!v)
        return NULL;
    while (*p) {
        if (*p == ',') {
            if (p[1] != ',')
                break;
            p++;
        }
        *o++ = *p++;
    }
    *o = 0;
    *pp = p;
    return v;
}

int opts_parse(const char *spec, const char *implied_key, opts_fn fn, void *opaque)
{
    const char *p = spec;
    bool first = true;
    int r = 0;

    while (p && *p && r == 0) {
        size_t len = strcspn(p, "=,");
        char *key, *value;

        if (first && implied_key && p[len] != '=') {
            key = strdup(implied_key);
            value = read_value(&p);
        } else {
            key = strndup(p, len);
            p += len;
            if (*p == '=') {
                p++;
                value = read_value(&p);
            } else if (key && strncmp(key, "no", 2) == 0 && key[2]) {
                memmove(key, key + 2, strlen(key + 2) + 1);
                value = strdup("off");
            } else {
                value = strdup("on");
            }
        }
        first = false;
        if (!key || !value)
            r = -ENOMEM;
        else if (*key)
            r = fn(opaque, key, value);
        free(key);
        free(value);
        if (p && *p == ',')
            p++;
    }
    return r;
}
