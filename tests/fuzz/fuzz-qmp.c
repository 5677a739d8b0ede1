/* SPDX-License-Identifier: MIT */
/*
 * fuzz-qmp — the QMP input path behind the socket: the byte stream is split into JSON values
 * (json_stream.c, QEMU's streamer rules), each value is parsed and, when it is a command
 * object, run through the command layer (api_execute: schema checks, then the handler) on a
 * fresh `pc` machine with a virtio-net and an e1000. Any crash, leak or sanitizer report is a
 * bug; errors are the expected answer to most inputs.
 */
#include <jansson.h>
#include <stdlib.h>

#include "daemon/monitor/json_stream.h"
#include "fuzz.h"

#define VALUE_MAX (64 * 1024) /* smaller than the daemon's 1 MiB: same code, faster runs */

static void on_value(void *opaque, enum json_stream_event ev, const char *text, size_t len)
{
    struct fuzz_machine *f = opaque;
    json_t *v, *args, *ret = NULL;
    const char *name;
    struct error err = {0};

    if (ev != JSON_STREAM_VALUE)
        return;
    v = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (!v)
        return;
    name = json_string_value(json_object_get(v, "execute"));
    args = json_object_get(v, "arguments");
    if (name && (!args || json_is_object(args))) {
        api_execute(f->api, name, args, &ret, &err);
        json_decref(ret);
    }
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const devices[] = {"virtio-net-pci,id=net0,addr=3", "e1000,id=nic0,addr=5",
                                          NULL};
    struct fuzz_machine f;
    struct json_stream s;

    fuzz_machine_new(&f, devices);
    json_stream_init(&s, VALUE_MAX, on_value, &f);
    json_stream_feed(&s, (const char *)data, size);
    json_stream_free(&s);
    fuzz_machine_free(&f);
    return 0;
}
