/* SPDX-License-Identifier: MIT */
/*
 * standalone.c — main() for a fuzz target built without libFuzzer: run each file given, and
 * each file in each directory given, through LLVMFuzzerTestOneInput once. Exit 0 when all ran
 * (a crash is the failure), 2 for an unreadable argument.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define FUZZ_MAX_INPUT (4 * 1024 * 1024)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (!f) {
        perror(path);
        return -1;
    }
    buf = malloc(FUZZ_MAX_INPUT);
    if (!buf) {
        fclose(f);
        return -1;
    }
    n = fread(buf, 1, FUZZ_MAX_INPUT, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned ran = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) < 0) {
            perror(argv[i]);
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]) < 0)
                return 2;
            ran++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;

        if (!d) {
            perror(argv[i]);
            return 2;
        }
        while ((e = readdir(d))) {
            char path[4096];

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (run_file(path) < 0) {
                closedir(d);
                return 2;
            }
            ran++;
        }
        closedir(d);
    }
    printf("%u inputs ran\n", ran);
    return 0;
}
