/* SPDX-License-Identifier: MIT */
/*
 * test-snapshot.c — device-state snapshots (daemon/state/snapshot.c, docs/state.md): a machine
 * whose devices a guest has programmed (config space, BARs, virtio and e1000 registers, MSI-X
 * table, an asserted INTx) saves to an image that loads into a fresh machine with the same
 * devices and saves again byte for byte; and every refusal — the file's own faults, a newer
 * format, another machine, a device missing, moved, extra or of another driver, a capability
 * the device lacks or the snapshot lacks, QEMU's "Bad config data", a bad irq_state, MSI-X or
 * register state a model rejects — names the device and offset and changes nothing: the
 * machine's own snapshot is the same bytes before and after.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <string.h>

#include "api/commands.h"
#include "daemon/hw/pci/msix.h"
#include "daemon/hw/virtio/virtio_pci.h"
#include "daemon/state/snapshot.h"
#include "tests/unit/unit.h"

#define NET         "virtio-net-pci,id=n0,addr=3,mac=02:00:00:00:00:01"
#define NET_NOMX    "virtio-net-pci,id=n0,addr=3,mac=02:00:00:00:00:01,vectors=0"
#define E1000       "e1000,id=e0,addr=4,mac=02:00:00:00:00:02"
#define BLK         "virtio-blk-pci,id=b0,addr=5,drive=null0"
#define NET_DEVFN   0x18
#define E1000_DEVFN 0x20

struct rig {
    struct machine *m;
    struct api *api;
};

static void rig_free(void *p)
{
    struct rig *r = p;

    api_free(r->api);
    machine_free(r->m);
    free(r);
}

/* A `pc` with a null-co node and the -device specs `devs` (NULL-terminated), started. */
static struct rig *rig_new(struct unit_fix *f, const char *const *devs)
{
    struct rig *r = calloc(1, sizeof(*r));
    struct error err = {0};

    assert_non_null(r);
    assert_int_equal(machine_new("pc", &r->m, &err), 0);
    assert_int_equal(api_new(r->m, NULL, &r->api), 0);
    unit_defer(f, rig_free, r);
    assert_int_equal(api_blockdev_add_spec(r->api, "driver=null-co,node-name=null0", &err), 0);
    for (; *devs; devs++) {
        machine_lock(r->m);
        if (api_device_add_spec(r->api, *devs, false, &err) < 0)
            fail_msg("%s: %s", *devs, err.desc);
        machine_unlock(r->m);
    }
    api_start(r->api);
    return r;
}

static struct pci_device *dev_at(struct rig *r, uint8_t devfn)
{
    struct pci_device *d = machine_root_bus(r->m)->devices[devfn];

    assert_non_null(d);
    return d;
}

/* Guest accesses, under the device lock as a vCPU makes them. */
static void cfgw(struct pci_device *d, uint32_t off, uint32_t val, unsigned len)
{
    pthread_mutex_lock(&d->lock);
    pci_dev_config_write(d, off, val, len);
    pthread_mutex_unlock(&d->lock);
}

static void barw(struct pci_device *d, int bar, uint64_t off, uint64_t val, unsigned len)
{
    pthread_mutex_lock(&d->lock);
    d->bars[bar].ops->write(d->bars[bar].opaque, off, val, len);
    pthread_mutex_unlock(&d->lock);
}

static uint64_t barr(struct pci_device *d, int bar, uint64_t off, unsigned len)
{
    uint64_t v;

    pthread_mutex_lock(&d->lock);
    v = d->bars[bar].ops->read(d->bars[bar].opaque, off, len);
    pthread_mutex_unlock(&d->lock);
    return v;
}

/* The function at `devfn` if it is a `driver`, else NULL (machines differ between rows). */
static struct pci_device *dev_if(struct rig *r, uint8_t devfn, const char *driver)
{
    struct pci_device *d = machine_root_bus(r->m)->devices[devfn];

    return d && streq(d->name, driver) ? d : NULL;
}

static void program_net(struct pci_device *n)
{
    cfgw(n, PCI_BASE_ADDRESS_0, 0xc041, 4);
    cfgw(n, PCI_BASE_ADDRESS_4, 0xfe000000, 4);
    cfgw(n, PCI_INTERRUPT_LINE, 11, 1);
    cfgw(n, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    if (n->msix) { /* on with vector 0 unmasked, vector 1 masked */
        cfgw(n, PCI_BASE_ADDRESS_1, 0xfebf1000, 4);
        cfgw(n, n->msix->cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
        barw(n, 1, 0, 0xfee00000, 4);
        barw(n, 1, 8, 0x4041, 4);
        barw(n, 1, 12, 0, 4);
        barw(n, 1, 16 + 12, 1, 4);
    }
    barw(n, 4, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
    barw(n, 4, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    barw(n, 4, VIRTIO_PCI_COMMON_GF, 1, 4); /* VIRTIO_F_VERSION_1 */
    barw(n, 4, VIRTIO_PCI_COMMON_MSIX, 0, 2);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_SIZE, 128, 2);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_DESCLO, 0x12345000, 4);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_DESCHI, 0x1, 4);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_SELECT, 700, 2); /* a queue the device lacks keeps registers */
    barw(n, 4, VIRTIO_PCI_COMMON_Q_AVAILLO, 0xabc, 4);
    barw(n, 4, VIRTIO_PCI_NOTIFY_OFFSET, 0, 2); /* a kick on queue 0 */
}

static void program_e1000(struct pci_device *e)
{
    cfgw(e, PCI_BASE_ADDRESS_0, 0xfeb80000, 4);
    cfgw(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    barw(e, 0, 0x5200 + 4 * 5, 0xdeadbeef, 4); /* MTA[5] */
    barw(e, 0, 0x100, 0x8002, 4);              /* RCTL */
    barw(e, 0, 0x10010, 0x55aa55aa, 4);        /* packet buffer */
    barw(e, 0, 0xd0, 0x4, 4);                  /* IMS */
    barw(e, 0, 0xc8, 0x4, 4);                  /* ICS: INTA# up */
    assert_int_equal(e->irq_state[0], 1);
}

static void program_blk(struct pci_device *b)
{
    cfgw(b, PCI_BASE_ADDRESS_0, 0xc081, 4);
    cfgw(b, PCI_COMMAND, PCI_COMMAND_IO, 2);
    barw(b, 0, VIRTIO_PCI_GUEST_FEATURES, 1u << 9, 4);
    barw(b, 0, VIRTIO_PCI_QUEUE_SEL, 0, 2);
    barw(b, 0, VIRTIO_PCI_QUEUE_PFN, 0x12345, 4);
    barw(b, 0, VIRTIO_PCI_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
}

/* What drivers leave behind: enough of everything that a lost byte shows. */
static void program(struct rig *r)
{
    struct pci_device *d;

    if ((d = dev_if(r, NET_DEVFN, "virtio-net-pci")))
        program_net(d);
    if ((d = dev_if(r, E1000_DEVFN, "e1000")))
        program_e1000(d);
    if ((d = dev_if(r, PCI_DEVFN_OF(5, 0), "virtio-blk-pci")))
        program_blk(d);
}

static struct sbuf encode(struct rig *r)
{
    struct sbuf b = {0};
    struct error err = {0};
    unsigned n;

    machine_lock(r->m);
    assert_int_equal(snapshot_encode(r->m, &b, &n, &err), 0);
    machine_unlock(r->m);
    assert_int_equal(n, r->m->n_devices);
    return b;
}

static int apply(struct rig *r, const struct sbuf *b, struct error *err)
{
    unsigned n;
    int ret;

    machine_lock(r->m);
    ret = snapshot_apply(r->m, b->p, b->len, &n, err);
    machine_unlock(r->m);
    return ret;
}

static void sbuf_freep(void *p)
{
    sbuf_free(p);
    free(p);
}

static struct sbuf *keep(struct unit_fix *f, struct sbuf b)
{
    struct sbuf *p = malloc(sizeof(*p));

    assert_non_null(p);
    *p = b;
    return unit_defer(f, sbuf_freep, p);
}

static const char *const devs_std[] = {NET, E1000, BLK, NULL};

/* ---- round trip -------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    struct unit_fix *f = *state;
    struct rig *a = rig_new(f, devs_std), *b = rig_new(f, devs_std);
    struct sbuf *sa, *sb, *fresh;
    struct error err = {0};
    struct pci_device *n, *e;

    program(a);
    sa = keep(f, encode(a));
    fresh = keep(f, encode(b));
    assert_true(sa->len != fresh->len || memcmp(sa->p, fresh->p, sa->len) != 0);

    if (apply(b, sa, &err) < 0)
        fail_msg("%s", err.desc);
    sb = keep(f, encode(b));
    assert_int_equal(sb->len, sa->len);
    assert_memory_equal(sb->p, sa->p, sa->len);

    /* And as a guest reads it back. */
    n = dev_at(b, NET_DEVFN);
    e = dev_at(b, E1000_DEVFN);
    assert_true(msix_enabled(n));
    assert_int_equal(barr(n, 1, 8, 4), 0x4041);
    assert_int_equal(barr(n, 4, VIRTIO_PCI_COMMON_STATUS, 1),
                     VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    barw(n, 4, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
    assert_int_equal(barr(n, 4, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x12345000);
    assert_int_equal(barr(n, 4, VIRTIO_PCI_COMMON_Q_SIZE, 2), 128);
    assert_int_equal(barr(e, 0, 0x5200 + 20, 4), 0xdeadbeef);
    assert_int_equal(barr(e, 0, 0x10010, 4), 0x55aa55aa);
    assert_int_equal(e->irq_state[0], 1);
    assert_int_equal(pci_bar_addr(e, 0), 0xfeb80000);
}

/* A machine loads its own snapshot and stays as it was. */
static void test_idempotent(void **state)
{
    struct unit_fix *f = *state;
    struct rig *a = rig_new(f, devs_std);
    struct sbuf *s1, *s2;
    struct error err = {0};

    program(a);
    s1 = keep(f, encode(a));
    assert_int_equal(apply(a, s1, &err), 0);
    s2 = keep(f, encode(a));
    assert_int_equal(s2->len, s1->len);
    assert_memory_equal(s2->p, s1->p, s1->len);
}

/* ---- refusals ----------------------------------------------------------------------------- */

/* The file offset of section `tag` of the function at `devfn`, and its length. */
static uint8_t *section(struct sbuf *b, uint8_t devfn, uint16_t tag, uint32_t *len)
{
    size_t at = SNAPSHOT_HEADER_SIZE;

    while (at + 8 <= b->len) {
        uint32_t type = le_get32(b->p + at), rlen = le_get32(b->p + at + 4);
        size_t s = at + 8, end = at + 8 + rlen;

        if (type == SNAPSHOT_REC_DEVICE && b->p[s + 8 + 1] == devfn) {
            while (s + 8 <= end) {
                uint32_t slen = le_get32(b->p + s + 4);

                if (le_get16(b->p + s) == tag) {
                    *len = slen;
                    return b->p + s + 8;
                }
                s += 8 + slen;
            }
        }
        at = end;
    }
    fail_msg("no section %u for devfn 0x%x", tag, devfn);
    return NULL;
}

static void fix_crc(struct sbuf *b)
{
    le_set32(b->p + 20, crc32_ieee(0, b->p + SNAPSHOT_HEADER_SIZE, b->len - SNAPSHOT_HEADER_SIZE));
}

struct refusal_row {
    const char *name;
    const char *const *saved; /* devices of the machine that saved */
    const char *const *loads; /* devices of the machine that loads */
    void (*mutate)(struct sbuf *b);
    const char *want; /* substring of the error */
    int ret;
};

static void m_magic(struct sbuf *b)
{
    b->p[0] ^= 0xff;
}

static void m_newer(struct sbuf *b)
{
    le_set32(b->p + 8, SNAPSHOT_VERSION + 1);
}

static void m_flip(struct sbuf *b)
{
    b->p[b->len / 2] ^= 0x10;
}

static void m_truncate(struct sbuf *b)
{
    b->len -= 10;
}

static void m_machine(struct sbuf *b)
{
    /* The machine record's type string "pcid-pc-1.1" follows its u32 type, u32 length, u16 length.
     */
    memcpy(b->p + SNAPSHOT_HEADER_SIZE + 10, "px", 2);
    fix_crc(b);
}

static void m_vendor(struct sbuf *b)
{
    uint32_t n;

    section(b, NET_DEVFN, SNAPSHOT_SEC_CONFIG, &n)[PCI_VENDOR_ID] ^= 0x01;
    fix_crc(b);
}

static void m_cap_offset(struct sbuf *b)
{
    uint32_t n;
    uint8_t *c = section(b, NET_DEVFN, SNAPSHOT_SEC_CAPS, &n);
    uint16_t count = le_get16(c);

    /* The last entry (MSI-X, the newest capability, heads the list: so the first) moves. */
    (void)count;
    le_set16(c + 2 + 2, (uint16_t)(le_get16(c + 2 + 2) + 4));
    fix_crc(b);
}

static void m_irq(struct sbuf *b)
{
    uint32_t n;

    section(b, E1000_DEVFN, SNAPSHOT_SEC_IRQ, &n)[0] = 2;
    fix_crc(b);
}

static void m_no_irq(struct sbuf *b)
{
    uint32_t n;

    /* The e1000 (no MSI-X) record's irq_state section retagged as MSI-X: the tags still
     * ascend, but a required section is missing (found by fuzz-snapshot: a crash before). */
    le_set16(section(b, E1000_DEVFN, SNAPSHOT_SEC_IRQ, &n) - 8, SNAPSHOT_SEC_MSIX);
    fix_crc(b);
}

static void m_msix_newer(struct sbuf *b)
{
    uint32_t n;

    le_set32(section(b, NET_DEVFN, SNAPSHOT_SEC_MSIX, &n), MSIX_STATE_VERSION + 1);
    fix_crc(b);
}

static void m_msix_ctrl(struct sbuf *b)
{
    uint32_t n;

    /* u32 version, u16 vectors, then vector 0's control at 12. */
    section(b, NET_DEVFN, SNAPSHOT_SEC_MSIX, &n)[4 + 2 + 12] = 0x02;
    fix_crc(b);
}

static void m_model_newer(struct sbuf *b)
{
    uint32_t n;

    le_set32(section(b, E1000_DEVFN, SNAPSHOT_SEC_MODEL, &n), 99);
    fix_crc(b);
}

static void m_queue_sel(struct sbuf *b)
{
    uint32_t n;

    /* u32 version, then status, isr, generation, flags, u16 queue_select. */
    le_set16(section(b, NET_DEVFN, SNAPSHOT_SEC_MODEL, &n) + 4 + 4, 5000);
    fix_crc(b);
}

static void m_features(struct sbuf *b)
{
    uint32_t n;

    /* accepted features: byte 24 of the virtio state. */
    le_set64(section(b, NET_DEVFN, SNAPSHOT_SEC_MODEL, &n) + 4 + 24, 1ull << 63);
    fix_crc(b);
}

static void m_e1000_order(struct sbuf *b)
{
    uint32_t n;
    uint8_t *p = section(b, E1000_DEVFN, SNAPSHOT_SEC_MODEL, &n) + 4;

    /* The first sparse register index past the register file. */
    le_set32(p + 4, 0x4000);
    fix_crc(b);
}

static const char *const devs_e1000_moved[] = {NET, "e1000,id=e0,addr=6,mac=02:00:00:00:00:02", BLK,
                                               NULL};
static const char *const devs_no_e1000[] = {NET, BLK, NULL};
static const char *const devs_extra[] = {NET, E1000, BLK, "e1000,id=x,addr=7", NULL};
static const char *const devs_other_driver[] = {
    NET, "virtio-net-pci,id=e0,addr=4,mac=02:00:00:00:00:03", BLK, NULL};
static const char *const devs_no_msix[] = {NET_NOMX, E1000, BLK, NULL};

/* clang-format off */
static const struct refusal_row refusal_rows[] = {
    {"bad magic", devs_std, devs_std, m_magic, "not a pcid snapshot (bad magic)", -EINVAL},
    {"newer format version", devs_std, devs_std, m_newer,
     "format version 2 is newer than this pcid supports (1)", -EINVAL},
    {"checksum", devs_std, devs_std, m_flip, "corrupt: checksum mismatch", -EINVAL},
    {"truncated", devs_std, devs_std, m_truncate, "corrupt: the header says", -EINVAL},
    {"another machine type", devs_std, devs_std, m_machine,
     "a snapshot of machine type pxid-pc-1.1 1.1, this machine is pcid-pc-1.1 1.1", -EBUSY},
    {"device missing", devs_std, devs_no_e1000, NULL,
     "device 'e0' (e1000) at 00:04.0 is missing from this machine", -EBUSY},
    {"device at another address", devs_std, devs_e1000_moved, NULL,
     "device 'e0' (e1000) at 00:04.0 is at 00:06.0 on this machine", -EBUSY},
    {"device not in the snapshot", devs_std, devs_extra, NULL,
     "device 'x' (e1000) at 00:07.0 is not in the snapshot", -EBUSY},
    {"another driver at the address", devs_std, devs_other_driver, NULL,
     "device 'e0' (e1000) at 00:04.0: that address holds virtio-net-pci", -EBUSY},
    {"capability the device lacks", devs_std, devs_no_msix, NULL,
     "device 'n0' (virtio-net-pci) at 00:03.0: capability 0x11 at offset 0x98 (12 bytes) is "
     "not supported by the device", -EBUSY},
    {"capability the snapshot lacks", devs_no_msix, devs_std, NULL,
     "device 'n0' (virtio-net-pci) at 00:03.0: the device's capability 0x11 at offset 0x98 is "
     "missing from the snapshot", -EBUSY},
    {"capability moved", devs_std, devs_std, m_cap_offset,
     "at 00:03.0: capability 0x11 at offset 0x9c (12 bytes) is not supported", -EBUSY},
    {"bad config data", devs_std, devs_std, m_vendor,
     "device 'n0' (virtio-net-pci) at 00:03.0: bad config data at offset 0x0: snapshot 0xf5, "
     "device 0xf4 (cmask 0xff, wmask 0x00, w1cmask 0x00)", -EBUSY},
    {"irq_state not 0/1", devs_std, devs_std, m_irq,
     "device 'e0' (e1000) at 00:04.0: irq_state[0] is 2: must be 0 or 1", -EINVAL},
    {"irq_state section missing", devs_std, devs_std, m_no_irq,
     "corrupt: device record at file offset", -EINVAL},
    {"newer MSI-X format", devs_std, devs_std, m_msix_newer,
     "at 00:03.0: MSI-X state format version 2 is newer than this pcid supports (1)", -EINVAL},
    {"MSI-X vector control", devs_std, devs_std, m_msix_ctrl,
     "vector 0 control 0x00000002 has bits other than Mask set", -EINVAL},
    {"newer register state format", devs_std, devs_std, m_model_newer,
     "device 'e0' (e1000) at 00:04.0: register state format version 99 is newer than this pcid "
     "supports (1)", -EINVAL},
    {"virtio queue_select out of range", devs_std, devs_std, m_queue_sel,
     "virtio state at byte 4: queue_select 5000 is not below 1024", -EINVAL},
    {"virtio features never offered", devs_std, devs_std, m_features,
     "virtio state at byte 24: features 0x8000000000000000 were never offered", -EINVAL},
    {"e1000 register index", devs_std, devs_std, m_e1000_order,
     "e1000 state at byte 4: register index 0x4000 out of order or not below 0x4000", -EINVAL},
};
/* clang-format on */

static void test_refusal(void **state)
{
    struct unit_fix *f = *state;
    const struct refusal_row *row = f->row;
    struct rig *a = rig_new(f, row->saved), *b = rig_new(f, row->loads);
    struct sbuf *s, *before, *after;
    struct error err = {0};
    int ret;

    program(a);
    program(b);
    s = keep(f, encode(a));
    if (row->mutate)
        row->mutate(s);
    before = keep(f, encode(b));
    ret = apply(b, s, &err);
    if (ret == 0 || !strstr(err.desc, row->want))
        fail_msg("got %d \"%s\", want \"%s\"", ret, err.desc, row->want);
    assert_int_equal(ret, row->ret);
    after = keep(f, encode(b));
    assert_int_equal(after->len, before->len);
    assert_memory_equal(after->p, before->p, before->len);
}

/* QEMU's rule covers only what the guest cannot write: a different Interrupt Line loads. */
static void test_writable_bytes_load(void **state)
{
    struct unit_fix *f = *state;
    struct rig *a = rig_new(f, devs_std), *b = rig_new(f, devs_std);
    struct sbuf *s;
    struct error err = {0};
    uint32_t n;

    program(a);
    s = keep(f, encode(a));
    section(s, NET_DEVFN, SNAPSHOT_SEC_CONFIG, &n)[PCI_INTERRUPT_LINE] = 5;
    fix_crc(s);
    assert_int_equal(apply(b, s, &err), 0);
    assert_int_equal(pci_dev_config_read(dev_at(b, NET_DEVFN), PCI_INTERRUPT_LINE, 1), 5);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"all"}};

    UNIT_ROWS_FIX(&s, one, test_round_trip);
    UNIT_ROWS_FIX(&s, one, test_idempotent);
    UNIT_ROWS_FIX(&s, refusal_rows, test_refusal);
    UNIT_ROWS_FIX(&s, one, test_writable_bytes_load);
    return unit_run(&s, "snapshot");
}
