/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void fuzz_machine_new(struct fuzz_machine *f, const char *const *devices)
{
    struct error err = {0};

    if (machine_new("pc", &f->m, &err) < 0 ||
        api_new(f->m, &(struct api_options){.guest_running = false}, &f->api) < 0 ||
        api_blockdev_add_spec(f->api, "driver=null-co,node-name=null0", &err) < 0) {
        fprintf(stderr, "fuzz: cannot build the machine: %s\n", err.desc);
        abort();
    }
    machine_lock(f->m);
    for (size_t i = 0; devices && devices[i]; i++)
        if (api_device_add_spec(f->api, devices[i], false, &err) < 0) {
            fprintf(stderr, "fuzz: %s: %s\n", devices[i], err.desc);
            abort();
        }
    machine_unlock(f->m);
    api_start(f->api);
}

void fuzz_machine_free(struct fuzz_machine *f)
{
    api_free(f->api);
    machine_free(f->m);
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}
