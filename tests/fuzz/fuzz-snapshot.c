/* SPDX-License-Identifier: MIT */
/*
 * fuzz-snapshot — the device-state snapshot loader (snapshot_apply: the file's framing and
 * CRC, the match with the machine, each function's checks, then the load) against a `pc`
 * machine with every device model: virtio-net (transitional and modern-only), virtio-blk and
 * e1000, ids and addresses as the seed corpus was saved from (tests/fuzz/gen-seeds.py).
 *
 * Input: a flags byte, then the file. Flags bit 0: first make the header's CRC and file size
 * agree with the bytes (so mutations reach past the checksum); without it the file is loaded
 * as it is.
 * After a load that succeeded: every function's capability list is well formed; the machine's
 * own snapshot loads back, and saving again gives the same bytes (a load is idempotent). A
 * violation aborts; so do crashes, leaks and sanitizer reports. Refusals are expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/hw/pci/pci_cap.h"
#include "daemon/state/snapshot.h"
#include "fuzz.h"

static void encode(struct fuzz_machine *f, struct sbuf *out)
{
    struct error err = {0};
    unsigned n;

    if (snapshot_encode(f->m, out, &n, &err) < 0) {
        fprintf(stderr, "fuzz-snapshot: the machine cannot save itself: %s\n", err.desc);
        abort();
    }
}

static void check_caps(struct fuzz_machine *f)
{
    struct pci_cap_entry e[SNAPSHOT_MAX_CAPS];

    for (struct machine_dev *md = f->m->devices; md; md = md->next) {
        if (pci_cap_walk(md->pci, e, SNAPSHOT_MAX_CAPS, NULL) < 0) {
            fprintf(stderr, "fuzz-snapshot: %s: capability list malformed after a load\n",
                    md->pci->name);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const devices[] = {
        "virtio-net-pci,id=net0,addr=3", "virtio-blk-pci,id=blk0,addr=4,drive=null0",
        "e1000,id=nic0,addr=5", "virtio-net-pci,id=net1,addr=6,disable-legacy=on", NULL};
    struct fuzz_machine f;
    struct sbuf own = {0}, again = {0};
    struct error err = {0};
    uint8_t *file;
    unsigned n;
    int r;

    if (size < 1 || size - 1 > SNAPSHOT_MAX_SIZE)
        return 0;
    file = malloc(size);
    if (!file)
        abort();
    memcpy(file, data + 1, size - 1);
    if ((data[0] & 1) && size - 1 >= SNAPSHOT_HEADER_SIZE) {
        le_set64(file + SNAPSHOT_HDR_FILELEN, size - 1);
        le_set32(file + SNAPSHOT_HDR_CRC,
                 crc32_ieee(0, file + SNAPSHOT_HEADER_SIZE, size - 1 - SNAPSHOT_HEADER_SIZE));
    }
    fuzz_machine_new(&f, devices);
    machine_lock(f.m);
    r = snapshot_apply(f.m, file, size - 1, &n, &err);
    if (r == 0) {
        check_caps(&f);
        encode(&f, &own);
        err = (struct error){0};
        if (snapshot_apply(f.m, own.p, own.len, &n, &err) < 0) {
            fprintf(stderr, "fuzz-snapshot: the machine's own snapshot is refused: %s\n", err.desc);
            abort();
        }
        encode(&f, &again);
        if (own.len != again.len || memcmp(own.p, again.p, own.len)) {
            fprintf(stderr, "fuzz-snapshot: loading the machine's own snapshot changed it\n");
            abort();
        }
    }
    machine_unlock(f.m);
    sbuf_free(&own);
    sbuf_free(&again);
    fuzz_machine_free(&f);
    free(file);
    return 0;
}
