/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config-file — the configuration file (daemon/config.c) as `pcid --config FILE` and a
 * SIGHUP reload read it: the input is the file. A file that loads is merged under an empty
 * command line, its runtime settings applied, and it must report no start-up difference with
 * itself; a refused file must leave the config empty and say why, naming the file. Errors are
 * expected; crashes, leaks, hangs and sanitizer reports are bugs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/config.h"
#include "fuzz.h"

/* Not CHECK(): the check must hold in every build type. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz-config-file: %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], why[CONFIG_WHY_MAX] = "", diff[256];
    struct pcid_options o = {.guest = "cooperative", .vcpus = 2};
    struct config cfg;
    int fd = memfd_create("pcid-config", MFD_CLOEXEC), r;

    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    r = config_load(path, &cfg, why, sizeof(why));
    if (r < 0) {
        /* Nothing kept; the message names the file. */
        CHECK(!cfg.path && !cfg.root && !cfg.devices.n && !cfg.rt.token);
        CHECK(r == -ENOMEM || strncmp(why, path, strlen(path)) == 0);
    } else {
        CHECK(cfg.path && strcmp(cfg.path, path) == 0);
        CHECK(!(cfg.state_dir && cfg.no_state == 1));
        if (config_merge_options(&cfg, &o) == 0) {
            CHECK(o.devices.n == cfg.devices.n && o.blockdevs.n == cfg.blockdevs.n);
            CHECK(!(o.state_dir && o.no_state));
        }
        config_apply_runtime(&cfg.rt, NULL);
        CHECK(config_startup_diff(&cfg, &cfg, diff, sizeof(diff))[0] == 0);
        options_free(&o);
    }
    config_free(&cfg);
    close(fd);
    return 0;
}
