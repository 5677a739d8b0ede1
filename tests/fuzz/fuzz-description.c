/* SPDX-License-Identifier: MIT */
/*
 * fuzz-description — the machine description loader, as pcid runs it at start (state.c): the
 * first byte picks the document, the rest is the file.
 *   even: machine.json, through --machine-description: read (store_read), parsed and
 *         validated (description_parse), then every device restored into a fresh `pc` machine
 *         (state_restore: device_add with the properties given and the values pinned);
 *   odd:  backends.json: parsed (description_parse_backends), then each backend added with
 *         blockdev-add, as a restore does.
 * A description that restores is a fixed point: the machine's own description, restored into
 * another fresh machine (the first one gone, as across a restart), describes that machine
 * identically, and parses. A violation aborts; so do crashes, leaks and sanitizer reports.
 * Refusals are expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/state/description.h"
#include "daemon/state/state.h"
#include "fuzz.h"

/* A machine with its command layer, in the cold-plug phase (as main.c builds it), and the
 * block backends null0 and null1 (as backends.json or --blockdev would give them). */
static void machine_open(struct fuzz_machine *f)
{
    struct error err = {0};

    if (machine_new("pc", &f->m, &err) < 0 ||
        api_new(f->m, &(struct api_options){.guest_running = false}, &f->api) < 0 ||
        api_blockdev_add_spec(f->api, "driver=null-co,node-name=null0", &err) < 0 ||
        api_blockdev_add_spec(f->api, "driver=null-co,node-name=null1,size=1M", &err) < 0) {
        fprintf(stderr, "fuzz-description: cannot build the machine: %s\n", err.desc);
        abort();
    }
}

/* Restore the description `text` (`len` bytes) into a fresh machine, as pcid
 * --no-state --machine-description FILE does (FILE in memory, a memfd). Returns 0 with *f
 * built, or -errno (nothing built). */
static int restore(const void *text, size_t len, struct fuzz_machine *f)
{
    struct state *st = NULL;
    struct error err = {0};
    char path[64];
    int fd = memfd_create("machine.json", MFD_CLOEXEC), r;

    if (fd < 0 || (len && write(fd, text, len) != (ssize_t)len))
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    r = state_open(&(struct state_config){.none = true, .description = path}, &st, &err);
    close(fd);
    if (r < 0)
        return r;
    machine_open(f);
    r = state_restore(st, f->api, NULL, 0, NULL, 0, &err);
    state_free(st);
    if (r < 0) {
        fuzz_machine_free(f);
        return r;
    }
    api_start(f->api);
    return 0;
}

static char *describe(struct fuzz_machine *f)
{
    json_t *doc = description_build(f->m);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    json_decref(doc);
    if (!text)
        abort();
    return text;
}

static void machine_json(const uint8_t *data, size_t size)
{
    struct fuzz_machine f, g;
    struct description *parsed = NULL;
    struct error err = {0};
    char *first, *second;

    if (restore(data, size, &f) < 0)
        return;
    first = describe(&f);
    fuzz_machine_free(&f);
    if (description_parse(first, strlen(first), &parsed, &err) < 0) {
        fprintf(stderr,
                "fuzz-description: a restored machine's description does not parse: %s\n%s\n",
                err.desc, first);
        abort();
    }
    description_free(parsed);
    if (restore(first, strlen(first), &g) < 0) {
        fprintf(stderr, "fuzz-description: a restored machine's description does not restore\n%s\n",
                first);
        abort();
    }
    second = describe(&g);
    fuzz_machine_free(&g);
    if (strcmp(first, second)) {
        fprintf(stderr, "fuzz-description: not a fixed point:\n%s\n---\n%s\n", first, second);
        abort();
    }
    free(first);
    free(second);
}

static void backends_json(const uint8_t *data, size_t size)
{
    struct fuzz_machine f;
    struct error err = {0};
    json_t *list = NULL, *b, *ret;
    size_t i;

    if (description_parse_backends((const char *)data, size, &list, &err) < 0)
        return;
    machine_open(&f);
    json_array_foreach(list, i, b)
    {
        ret = NULL;
        err = (struct error){0};
        api_execute(f.api, "blockdev-add", b, &ret, &err);
        json_decref(ret);
    }
    json_decref(list);
    fuzz_machine_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        backends_json(data + 1, size - 1);
    else
        machine_json(data + 1, size - 1);
    return 0;
}
