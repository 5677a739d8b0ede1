/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config — sequences of guest accesses against every device model of a `pc` machine
 * (the built-ins, virtio-net transitional and modern-only, virtio-blk, e1000), after the
 * cooperative guest's firmware has mapped their BARs: configuration reads and writes through
 * the vCPU access path, and MMIO and port I/O reads and writes inside their BARs (or anywhere
 * in I/O space, which reaches the chipset's hotplug and GPE registers too).
 *
 * Input: 9-byte operations {kind, target, offset (2, LE), length code, value (4, LE)}.
 * After every operation, for every function still present:
 *   - bits a guest cannot write (wmask and w1cmask clear) hold their initial value, except the
 *     bits a device itself drives (Status.Interrupt; a model's read-hook window, see
 *     pci_device.read_hook_start);
 *   - the capability list is well formed (pointers dword-aligned in 0x40-0xfc, no cycle) and
 *     the same list as at the start.
 * A violation aborts; so do crashes, leaks and sanitizer reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/vcpu/firmware.h"
#include "daemon/vcpu/vcpu.h"
#include "fuzz.h"

#define OP_SIZE  9
#define MAX_OPS  512
#define MAX_CAPS 48

struct baseline {
    struct pci_device *d; /* NULL: nothing at this devfn at the start */
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t caps[MAX_CAPS][2]; /* offset, id */
    unsigned n_caps;
};

static const uint8_t devfns[] = {0x00, 0x08, 0x09, 0x0b, 0x18, 0x20, 0x28, 0x30};

/* Walk the capability list; returns the count, or -1 when it is malformed. */
static int walk_caps(const uint8_t *cfg, uint8_t out[MAX_CAPS][2])
{
    unsigned n = 0;
    uint8_t seen[256] = {0};

    if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
        return 0;
    for (unsigned p = cfg[PCI_CAPABILITY_LIST] & ~3u; p; p = cfg[p + 1] & ~3u) {
        if (p < 0x40 || p > 0xfc || seen[p] || n == MAX_CAPS)
            return -1;
        seen[p] = 1;
        out[n][0] = (uint8_t)p;
        out[n][1] = cfg[p];
        n++;
    }
    return (int)n;
}

static void snapshot(struct pci_device *d, struct baseline *b)
{
    int n;

    b->d = d;
    pci_dev_config_copy(d, b->config, 0, PCI_CONFIG_SPACE_SIZE);
    n = walk_caps(b->config, b->caps);
    if (n < 0) {
        fprintf(stderr, "fuzz-config: malformed capability list at start\n");
        abort();
    }
    b->n_caps = (unsigned)n;
}

static void check(struct pci_bus *bus, struct baseline *base)
{
    for (size_t i = 0; i < sizeof(devfns); i++) {
        struct baseline *b = &base[i];
        struct pci_device *d = bus->devices[devfns[i]];
        uint8_t cfg[PCI_CONFIG_SPACE_SIZE], caps[MAX_CAPS][2];
        int n;

        if (!d || d != b->d)
            continue; /* gone (ejected) or never there */
        pci_dev_config_copy(d, cfg, 0, PCI_CONFIG_SPACE_SIZE);
        for (unsigned off = 0; off < PCI_CONFIG_SPACE_SIZE; off++) {
            uint8_t ro = (uint8_t) ~(d->wmask[off] | d->w1cmask[off]);

            if (off == PCI_STATUS)
                ro &= (uint8_t)~PCI_STATUS_INTERRUPT; /* driven by the device's INTx state */
            if (d->cls && d->cls->config_read && off >= d->read_hook_start &&
                off < d->read_hook_end)
                ro = 0; /* the model fills this window itself */
            if ((cfg[off] & ro) != (b->config[off] & ro)) {
                fprintf(stderr,
                        "fuzz-config: %02x.%u: read-only bits at 0x%02x changed: 0x%02x -> "
                        "0x%02x (ro mask 0x%02x)\n",
                        devfns[i] >> 3, devfns[i] & 7, off, b->config[off], cfg[off], ro);
                abort();
            }
        }
        n = walk_caps(cfg, caps);
        if (n != (int)b->n_caps || memcmp(caps, b->caps, (size_t)n * 2)) {
            fprintf(stderr, "fuzz-config: %02x.%u: capability list changed or malformed\n",
                    devfns[i] >> 3, devfns[i] & 7);
            abort();
        }
    }
}

static void run_op(struct vcpu *v, const struct fw_platform *p, const uint8_t *op)
{
    static const unsigned lens[4] = {1, 2, 4, 8};
    unsigned kind = op[0] % 6, len = lens[op[4] & 3];
    uint8_t devfn = devfns[op[1] % sizeof(devfns)];
    uint16_t off = (uint16_t)(op[2] | op[3] << 8);
    uint64_t val =
        (uint64_t)op[5] | (uint64_t)op[6] << 8 | (uint64_t)op[7] << 16 | (uint64_t)op[8] << 24;
    uint64_t addr = off;

    if (kind >= 2 && p->n_res) { /* inside a BAR the firmware assigned */
        const struct fw_res *r = &p->res[op[1] % p->n_res];
        addr = r->base + off % r->size;
        if ((kind >= 4) != (r->kind == FW_IO))
            addr = off; /* I/O kinds go to port space */
    }
    switch (kind) {
    case 0:
        vcpu_cfg_write(v, 0, devfn, off & 0xff, (uint32_t)val, len > 4 ? 4 : len);
        break;
    case 1:
        vcpu_cfg_read(v, 0, devfn, off & 0xff, len > 4 ? 4 : len);
        break;
    case 2:
        vcpu_write(v, addr, val, len);
        break;
    case 3:
        vcpu_read(v, addr, len);
        break;
    case 4:
        vcpu_out(v, (uint16_t)addr, val, len > 4 ? 4 : len);
        break;
    case 5:
        vcpu_in(v, (uint16_t)addr, len > 4 ? 4 : len);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const devices[] = {
        "virtio-net-pci,id=net0,addr=3", "virtio-blk-pci,id=blk0,addr=4,drive=null0",
        "e1000,id=nic0,addr=5", "virtio-net-pci,id=net1,addr=6,disable-legacy=on", NULL};
    struct fuzz_machine f;
    struct vcpus *vs;
    struct vcpu *v;
    struct fw_platform plat = {.pirq_devfn = -1};
    struct baseline base[sizeof(devfns)] = {0};
    struct pci_bus *bus;

    fuzz_machine_new(&f, devices);
    if (vcpus_new(f.m, NULL, &(struct vcpus_config){.n = 1}, &vs) < 0)
        abort();
    v = vcpus_get(vs, 0);
    if (firmware_run(v, &plat) < 0)
        abort();
    bus = machine_root_bus(f.m);
    for (size_t i = 0; i < sizeof(devfns); i++)
        if (bus->devices[devfns[i]])
            snapshot(bus->devices[devfns[i]], &base[i]);
    for (size_t i = 0; i + OP_SIZE <= size && i / OP_SIZE < MAX_OPS; i += OP_SIZE) {
        run_op(v, &plat, data + i);
        check(bus, base);
    }
    fw_platform_clear(&plat);
    vcpus_free(vs);
    fuzz_machine_free(&f);
    return 0;
}
