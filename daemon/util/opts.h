/* SPDX-License-Identifier: MIT */
/*
 * opts.h — QEMU's option syntax ("QemuOpts"): "key=value,key2=value2", as used by -device,
 * -blockdev and HMP's device_add.
 *
 * A value runs to the next single ',' (",," is a literal comma). With an implied key (e.g.
 * "driver" for -device), a first element without '=' is that key's value ("e1000,id=n1"). A
 * later element without '=' is a flag: "key" means key=on and "nokey" key=off.
 * Pure function, any thread.
 */
#ifndef PCID_UTIL_OPTS_H
#define PCID_UTIL_OPTS_H

#include <stddef.h>

/* Called for each key/value in order; a non-zero return stops the parse and is returned. */
typedef int (*opts_fn)(void *opaque, const char *key, const char *value);

/*
 * opts_parse() - parse `spec`, calling fn for each element.
 * @implied_key: the key of a first element without '=', or NULL.
 * Returns 0, -ENOMEM, or fn's first non-zero return.
 */
int opts_parse(const char *spec, const char *implied_key, opts_fn fn, void *opaque);

#endif
