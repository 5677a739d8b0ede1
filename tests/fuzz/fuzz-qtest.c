/* SPDX-License-Identifier: MIT */
/*
 * fuzz-qtest — the access-socket protocol (QEMU's qtest text lines) on a vCPU of a `pc`
 * machine with virtio-net, virtio-blk and e1000: each input line is parsed and executed as a
 * guest would (config cycles, port and MMIO accesses, hotplug-controller ejects). The vCPU
 * threads are not started; the fuzzer's thread plays the vCPU. Bad lines get FAIL; crashes,
 * leaks and sanitizer reports are bugs.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/vcpu/qtest.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const devices[] = {"virtio-net-pci,id=net0,addr=3",
                                          "virtio-blk-pci,id=blk0,addr=4,drive=null0",
                                          "e1000,id=nic0,addr=5", NULL};
    struct fuzz_machine f;
    struct vcpus *vs;
    char *text = fuzz_strndup(data, size), *line, *save = NULL;
    char out[QTEST_MAX_LINE];
    bool intercept = false;

    fuzz_machine_new(&f, devices);
    if (vcpus_new(f.m, NULL, &(struct vcpus_config){.n = 1}, &vs) < 0)
        abort();
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strlen(line) < QTEST_MAX_LINE)
            qtest_line(vcpus_get(vs, 0), line, out, sizeof(out), &intercept);
    vcpus_free(vs);
    fuzz_machine_free(&f);
    free(text);
    return 0;
}
