/* SPDX-License-Identifier: MIT */
/*
 * fuzz-text — the text parsers a user reaches: the first byte picks one, the rest is its input.
 *   0: an HMP command line (human-monitor-command: info pci, device_add SPEC, device_del ID, ...)
 *   1: a -device spec (QemuOpts syntax, then every property parser of the driver named)
 *   2: a -blockdev spec
 *   3: PCI addresses: devfn ("3", "0x1f.7") and BDF ("0000:00:03.0") parsing
 * on a fresh `pc` machine. Errors are expected; crashes, leaks and sanitizer reports are bugs.
 */
#include <jansson.h>
#include <stdlib.h>

#include "daemon/hw/pci/pci_addr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const devices[] = {"virtio-net-pci,id=net0,addr=3", NULL};
    struct fuzz_machine f;
    struct error err = {0};
    json_t *ret = NULL;
    char *text;

    if (size < 1)
        return 0;
    text = fuzz_strndup(data + 1, size - 1);
    fuzz_machine_new(&f, devices);
    switch (data[0] % 4) {
    case 0: {
        json_t *args = json_pack("{s:s}", "command-line", text);

        api_execute(f.api, "human-monitor-command", args, &ret, &err);
        json_decref(args);
        break;
    }
    case 1:
        machine_lock(f.m);
        api_device_add_spec(f.api, text, true, &err);
        machine_unlock(f.m);
        break;
    case 2:
        api_blockdev_add_spec(f.api, text, &err);
        break;
    case 3: {
        struct pci_bdf bdf;
        char buf[PCI_BDF_STRLEN];

        pci_devfn_parse(text);
        if (pci_bdf_parse(text, &bdf) == 0)
            pci_bdf_format(buf, bdf.domain, bdf.bus, bdf.devfn);
        break;
    }
    }
    json_decref(ret);
    fuzz_machine_free(&f);
    free(text);
    return 0;
}
