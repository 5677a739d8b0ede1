/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h — what the fuzz targets share: the libFuzzer entry point and a fresh `pc` machine.
 *
 * Each target defines LLVMFuzzerTestOneInput(). Built with -Dfuzz=true (clang), it links
 * libFuzzer; otherwise standalone.c supplies main(), which runs the files and directories
 * given on the command line once each (the committed seed corpora run that way in
 * `meson test`, suite fuzz-corpus).
 */
#ifndef PCID_TESTS_FUZZ_H
#define PCID_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "api/commands.h"
#include "daemon/machine/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A `pc` machine with its command layer, cold-plug finished (adds are hot-plugs), and a
 * null-co block backend `null0`; aborts on failure (the harness is broken, not the input). */
struct fuzz_machine {
    struct machine *m;
    struct api *api;
};
void fuzz_machine_new(struct fuzz_machine *f, const char *const *devices);
void fuzz_machine_free(struct fuzz_machine *f);

/* A NUL-terminated copy of the input (caller frees). */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
