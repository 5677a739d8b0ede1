/* SPDX-License-Identifier: MIT */
/*
 * test-qdev.c — property parsing on the real drivers (daemon/hw/qdev.c): QEMU 7.2's accepted
 * spellings and its exact messages per property type, defaults from qdev_opts_new(), and the
 * driver/type registry.
 */
#include <errno.h>

#include "daemon/hw/qdev.h"
#include "daemon/hw/virtio/virtio_pci.h"
#include "daemon/util/error.h"
#include "tests/unit/unit.h"

#define E1000 (&e1000_driver)
#define VNET  (&virtio_net_pci_driver)
#define VBLK  (&virtio_blk_pci_driver)

struct opts_holder {
    const struct qdev_driver *drv;
    void *opts;
};

static void opts_free(void *p)
{
    struct opts_holder *h = p;

    qdev_opts_free(h->drv, h->opts);
    free(h);
}

static void *opts_new(struct unit_fix *f, const struct qdev_driver *drv)
{
    struct opts_holder *h = calloc(1, sizeof(*h));

    assert_non_null(h);
    h->drv = drv;
    assert_int_equal(qdev_opts_new(drv, &h->opts), 0);
    assert_non_null(h->opts);
    unit_defer(f, opts_free, h);
    return h->opts;
}

/* Block backends the fake machine has: "hd0" free. */
static int fake_drive_lookup(void *opaque, const char *name, const char **user)
{
    (void)opaque;
    (void)user;
    return streq(name, "hd0") ? 0 : -ENOENT;
}

static const struct qdev_env fake_env = {.drive_lookup = fake_drive_lookup};

/* ---- qdev_prop_set ------------------------------------------------------------------------ */

struct set_row {
    const char *name;
    const struct qdev_driver *drv;
    const char *prop, *value;
    int ret;
    const char *text; /* on success: qdev_prop_get() afterwards; on failure: the message */
    bool with_env;
};

/* clang-format off */
static const struct set_row set_rows[] = {
    /* bool: QEMU's qapi_bool_parse(). */
    {"bool on", E1000, "multifunction", "on", 0, "on"},
    {"bool yes", E1000, "multifunction", "yes", 0, "on"},
    {"bool true", E1000, "multifunction", "true", 0, "on"},
    {"bool y", E1000, "multifunction", "y", 0, "on"},
    {"bool off", E1000, "autonegotiation", "off", 0, "off"},
    {"bool no", E1000, "autonegotiation", "no", 0, "off"},
    {"bool false", E1000, "autonegotiation", "false", 0, "off"},
    {"bool n", E1000, "autonegotiation", "n", 0, "off"},
    {"bool ON refused", E1000, "multifunction", "ON", -EINVAL,
     "Parameter 'multifunction' expects 'on' or 'off'"},
    {"bool maybe refused", E1000, "multifunction", "maybe", -EINVAL,
     "Parameter 'multifunction' expects 'on' or 'off'"},
    {"bool 1 refused", E1000, "multifunction", "1", -EINVAL,
     "Parameter 'multifunction' expects 'on' or 'off'"},
    {"bool empty refused", E1000, "multifunction", "", -EINVAL,
     "Parameter 'multifunction' expects 'on' or 'off'"},
    {"bool with a blank refused", E1000, "multifunction", "on ", -EINVAL,
     "Parameter 'multifunction' expects 'on' or 'off'"},
    /* bit64 (virtio feature switches) parse as bool. */
    {"bit off", VNET, "csum", "off", 0, "off"},
    {"bit on", VNET, "mq", "on", 0, "on"},
    {"bit maybe refused", VNET, "csum", "maybe", -EINVAL,
     "Parameter 'csum' expects 'on' or 'off'"},
    /* uint32: qemu_strtou64 base 0, whole string, then the range. */
    {"uint32 0x10", VNET, "vectors", "0x10", 0, "16"},
    {"uint32 decimal", VNET, "vectors", "3", 0, "3"},
    {"uint32 octal 010", VNET, "vectors", "010", 0, "8"},
    {"uint32 leading blank", VNET, "vectors", " 16", 0, "16"},
    {"uint32 maximum", VNET, "vectors", "4294967295", 0, "4294967295"},
    {"uint32 abc refused", VNET, "vectors", "abc", -EINVAL, "Parameter 'vectors' expects integer"},
    {"uint32 empty refused", VNET, "vectors", "", -EINVAL, "Parameter 'vectors' expects integer"},
    {"uint32 trailing blank refused", VNET, "vectors", "16 ", -EINVAL,
     "Parameter 'vectors' expects integer"},
    {"uint32 trailing junk refused", VNET, "vectors", "16k", -EINVAL,
     "Parameter 'vectors' expects integer"},
    {"uint32 -1 refused", VNET, "vectors", "-1", -EINVAL, "Parameter 'vectors' expects uint32_t"},
    {"uint32 99999999999 refused", VNET, "vectors", "99999999999", -EINVAL,
     "Parameter 'vectors' expects uint32_t"},
    {"uint32 4294967296 refused", VNET, "vectors", "4294967296", -EINVAL,
     "Parameter 'vectors' expects uint32_t"},
    {"uint32 beyond 64 bits refused", VNET, "vectors", "18446744073709551616", -EINVAL,
     "Parameter 'vectors' expects integer"},
    {"uint32 rombar 0", E1000, "rombar", "0", 0, "0"},
    {"uint32 acpi-index hex", E1000, "acpi-index", "0x10", 0, "16"},
    /* uint16 */
    {"uint16 1024", VNET, "rx_queue_size", "1024", 0, "1024"},
    {"uint16 65536 refused", VNET, "rx_queue_size", "65536", -EINVAL,
     "Parameter 'rx_queue_size' expects uint16_t"},
    /* int32 */
    {"int32 -5", E1000, "bootindex", "-5", 0, "-5"},
    {"int32 minimum", E1000, "bootindex", "-2147483648", 0, "-2147483648"},
    {"int32 2147483648 refused", E1000, "bootindex", "2147483648", -EINVAL,
     "Parameter 'bootindex' expects int32_t"},
    {"int32 -2147483649 refused", E1000, "bootindex", "-2147483649", -EINVAL,
     "Parameter 'bootindex' expects int32_t"},
    {"int32 x refused", E1000, "bootindex", "x", -EINVAL, "Parameter 'bootindex' expects integer"},
    /* OnOffAuto */
    {"OnOffAuto on", VNET, "disable-legacy", "on", 0, "on"},
    {"OnOffAuto off", VNET, "disable-legacy", "off", 0, "off"},
    {"OnOffAuto auto", VNET, "disable-legacy", "auto", 0, "auto"},
    {"OnOffAuto maybe refused", VNET, "disable-legacy", "maybe", -EINVAL,
     "Parameter 'disable-legacy' does not accept value 'maybe'"},
    {"OnOffAuto ON refused", VNET, "disable-legacy", "ON", -EINVAL,
     "Parameter 'disable-legacy' does not accept value 'ON'"},
    {"OnOffAuto yes refused", VBLK, "write-cache", "yes", -EINVAL,
     "Parameter 'write-cache' does not accept value 'yes'"},
    /* mac: owner is the QEMU type that has the property. */
    {"mac with colons", E1000, "mac", "52:54:00:12:34:56", 0, "52:54:00:12:34:56"},
    {"mac with dashes, mixed case", E1000, "mac", "52-54-00-AB-cd-EF", 0, "52:54:00:ab:cd:ef"},
    {"mac zz:zz refused", E1000, "mac", "zz:zz", -EINVAL,
     "Property 'e1000.mac' doesn't take value 'zz:zz'"},
    {"mac five octets refused", E1000, "mac", "52:54:00:12:34", -EINVAL,
     "Property 'e1000.mac' doesn't take value '52:54:00:12:34'"},
    {"mac seven octets refused", E1000, "mac", "52:54:00:12:34:56:78", -EINVAL,
     "Property 'e1000.mac' doesn't take value '52:54:00:12:34:56:78'"},
    {"mac one-digit octet refused", E1000, "mac", "52:54:0:12:34:56", -EINVAL,
     "Property 'e1000.mac' doesn't take value '52:54:0:12:34:56'"},
    {"mac empty refused", E1000, "mac", "", -EINVAL, "Property 'e1000.mac' doesn't take value ''"},
    {"virtio-net mac owned by virtio-net-device", VNET, "mac", "zz:zz", -EINVAL,
     "Property 'virtio-net-device.mac' doesn't take value 'zz:zz'"},
    /* devfn */
    {"addr 06.0", E1000, "addr", "06.0", 0, "06.0"},
    {"addr 0x3.1", E1000, "addr", "0x3.1", 0, "03.1"},
    {"addr 16 is slot 0x16", E1000, "addr", "16", 0, "16.0"},
    {"addr zz refused", E1000, "addr", "zz", -EINVAL,
     "Property 'e1000.addr' doesn't take value 'zz'"},
    {"addr 20 refused", E1000, "addr", "20", -EINVAL,
     "Property 'e1000.addr' doesn't take value '20'"},
    {"virtio-net addr owned by the driver", VNET, "addr", "zz", -EINVAL,
     "Property 'virtio-net-pci.addr' doesn't take value 'zz'"},
    /* strings */
    {"romfile", E1000, "romfile", "foo.rom", 0, "foo.rom"},
    {"romfile empty", E1000, "romfile", "", 0, ""},
    /* drive: must name an existing block backend */
    {"drive found", VBLK, "drive", "hd0", 0, "hd0", true},
    {"drive unknown refused", VBLK, "drive", "hd9", -EINVAL,
     "Property 'virtio-blk-device.drive' can't find value 'hd9'", true},
    {"drive without a machine refused", VBLK, "drive", "hd0", -EINVAL,
     "Property 'virtio-blk-device.drive' can't find value 'hd0'"},
    /* unknown and read-only */
    {"unknown property", E1000, "foo", "1", -ENOENT, "Property 'e1000.foo' not found"},
    {"unknown property on virtio-net-pci", VNET, "foo", "1", -ENOENT,
     "Property 'virtio-net-pci.foo' not found"},
    {"names are case-sensitive", E1000, "MAC", "52:54:00:12:34:56", -ENOENT,
     "Property 'e1000.MAC' not found"},
    {"type is not writable", E1000, "type", "x", -EINVAL, "Property 'e1000.type' is not writable"},
};
/* clang-format on */

static void test_set(void **state)
{
    struct unit_fix *f = *state;
    const struct set_row *r = f->row;
    void *opts = opts_new(f, r->drv);
    const struct qdev_prop *p = qdev_prop_find(r->drv, r->prop);
    struct error err = {0};
    char before[64] = "", after[64] = "";
    int ret;

    if (p)
        qdev_prop_get(p, opts, before, sizeof(before));
    ret = qdev_prop_set(r->drv, opts, r->prop, r->value, r->with_env ? &fake_env : NULL, &err);
    assert_int_equal(ret, r->ret);
    if (ret == 0) {
        assert_false(error_is_set(&err));
        assert_non_null(p);
        qdev_prop_get(p, opts, after, sizeof(after));
        assert_string_equal(after, r->text);
        return;
    }
    assert_true(error_is_set(&err));
    assert_int_equal(err.cls, ERROR_CLASS_GENERIC);
    assert_int_equal(err.kind, ERROR_KIND_INVALID);
    assert_string_equal(err.desc, r->text);
    /*
     * A refused value leaves the option as it was. A MAC is the exception, as in QEMU's
     * set_mac(): the octets before the bad one are stored, but `set` stays false, so the model
     * still picks its default address.
     */
    if (p && p->type == QDEV_PROP_MAC) {
        assert_false(((const struct qdev_mac *)((const char *)opts + p->offset))->set);
    } else if (p) {
        qdev_prop_get(p, opts, after, sizeof(after));
        assert_string_equal(after, before);
    }
}

/* Refusals without an error object (err may be NULL): only the errno. */
/* clang-format off */
static const struct set_row no_err_rows[] = {
    {"bool refused", E1000, "multifunction", "maybe", -EINVAL},
    {"uint32 refused", VNET, "vectors", "-1", -EINVAL},
    {"mac refused", E1000, "mac", "zz:zz", -EINVAL},
    {"unknown property", E1000, "foo", "1", -ENOENT},
    {"accepted", E1000, "addr", "5", 0, "05.0"},
};
/* clang-format on */

static void test_set_no_err(void **state)
{
    struct unit_fix *f = *state;
    const struct set_row *r = f->row;
    void *opts = opts_new(f, r->drv);

    assert_int_equal(qdev_prop_set(r->drv, opts, r->prop, r->value, NULL, NULL), r->ret);
    if (r->ret == 0) {
        char buf[64];

        qdev_prop_get(qdev_prop_find(r->drv, r->prop), opts, buf, sizeof(buf));
        assert_string_equal(buf, r->text);
    }
}

/* ---- sequences: later values replace earlier ones, the first error is kept ------------------ */

struct seq_row {
    const char *name;
    const struct qdev_driver *drv;
    struct {
        const char *prop, *value;
        int ret;
    } sets[3];
    const char *prop;  /* read back afterwards */
    const char *text;  /* its value */
    const char *error; /* err.desc afterwards, NULL = none */
};

/* clang-format off */
static const struct seq_row seq_rows[] = {
    {"string replaced (old one freed)", E1000,
     {{"romfile", "a.rom", 0}, {"romfile", "b.rom", 0}}, "romfile", "b.rom", NULL},
    {"mac replaced", E1000,
     {{"mac", "52:54:00:00:00:01", 0}, {"mac", "52:54:00:00:00:02", 0}}, "mac",
     "52:54:00:00:00:02", NULL},
    {"first error kept", VNET,
     {{"vectors", "abc", -EINVAL}, {"disable-legacy", "maybe", -EINVAL}}, "vectors",
     "4294967295", "Parameter 'vectors' expects integer"},
    {"success after an error keeps the error", E1000,
     {{"foo", "1", -ENOENT}, {"addr", "5", 0}}, "addr", "05.0",
     "Property 'e1000.foo' not found"},
    {"bit set then cleared", VNET, {{"mq", "on", 0}, {"mq", "off", 0}}, "mq", "off", NULL},
    {"bits are independent", VNET, {{"csum", "off", 0}, {"gso", "off", 0}}, "guest_csum", "on",
     NULL},
};
/* clang-format on */

static void test_seq(void **state)
{
    struct unit_fix *f = *state;
    const struct seq_row *r = f->row;
    void *opts = opts_new(f, r->drv);
    struct error err = {0};
    char buf[64];

    for (size_t i = 0; i < ARRAY_SIZE(r->sets) && r->sets[i].prop; i++)
        assert_int_equal(qdev_prop_set(r->drv, opts, r->sets[i].prop, r->sets[i].value, NULL, &err),
                         r->sets[i].ret);
    assert_non_null(qdev_prop_find(r->drv, r->prop));
    qdev_prop_get(qdev_prop_find(r->drv, r->prop), opts, buf, sizeof(buf));
    assert_string_equal(buf, r->text);
    if (r->error)
        assert_string_equal(err.desc, r->error);
    else
        assert_false(error_is_set(&err));
}

/* ---- defaults ---------------------------------------------------------------------------- */

struct default_row {
    const char *name;
    const struct qdev_driver *drv;
    const char *prop;
    const char *text;
};

/* clang-format off */
static const struct default_row default_rows[] = {
    {"e1000 addr -1 (pick a slot)", E1000, "addr", "-1"},
    {"e1000 rombar 1", E1000, "rombar", "1"},
    {"e1000 romsize unset", E1000, "romsize", "4294967295"},
    {"e1000 romfile unset", E1000, "romfile", ""},
    {"e1000 multifunction off", E1000, "multifunction", "off"},
    {"e1000 autonegotiation on", E1000, "autonegotiation", "on"},
    {"e1000 bootindex -1", E1000, "bootindex", "-1"},
    {"e1000 mac unset", E1000, "mac", "00:00:00:00:00:00"},
    {"e1000 acpi-index 0", E1000, "acpi-index", "0"},
    {"virtio-net-pci vectors unset", VNET, "vectors", "4294967295"},
    {"virtio-net-pci disable-legacy auto", VNET, "disable-legacy", "auto"},
    {"virtio-net-pci disable-modern off", VNET, "disable-modern", "off"},
    {"virtio-net-pci ioeventfd on", VNET, "ioeventfd", "on"},
    {"virtio-net-pci csum on", VNET, "csum", "on"},
    {"virtio-net-pci mq off", VNET, "mq", "off"},
    {"virtio-net-pci event_idx on", VNET, "event_idx", "on"},
    {"virtio-net-pci packed off", VNET, "packed", "off"},
    {"virtio-net-pci rx_queue_size 256", VNET, "rx_queue_size", "256"},
    {"virtio-net-pci x-txburst 256", VNET, "x-txburst", "256"},
    {"virtio-net-pci rsc_interval 300000", VNET, "rsc_interval", "300000"},
    {"virtio-net-pci addr -1", VNET, "addr", "-1"},
    {"virtio-blk-pci num-queues auto", VBLK, "num-queues", "65535"},
    {"virtio-blk-pci write-cache auto", VBLK, "write-cache", "auto"},
    {"virtio-blk-pci drive unset", VBLK, "drive", ""},
};
/* clang-format on */

static void test_default(void **state)
{
    struct unit_fix *f = *state;
    const struct default_row *r = f->row;
    void *opts = opts_new(f, r->drv);
    const struct qdev_prop *p = qdev_prop_find(r->drv, r->prop);
    char buf[64];

    assert_non_null(p);
    qdev_prop_get(p, opts, buf, sizeof(buf));
    assert_string_equal(buf, r->text);
}

/* The same defaults seen through the option structures the models read. */
struct struct_row {
    const char *name;
    const struct qdev_driver *drv;
};

/* clang-format off */
static const struct struct_row struct_rows[] = {
    {"e1000", E1000},
    {"virtio-net-pci", VNET},
    {"virtio-blk-pci", VBLK},
};
/* clang-format on */

static void test_struct_defaults(void **state)
{
    struct unit_fix *f = *state;
    const struct struct_row *r = f->row;
    const struct pci_dev_opts *o = opts_new(f, r->drv);

    assert_int_equal(o->addr, -1);
    assert_int_equal(o->rombar, 1);
    assert_int_equal(o->romsize, UINT32_MAX);
    assert_false(o->multifunction);
    assert_null(o->romfile);
    if (r->drv != E1000) {
        const struct virtio_pci_opts *v = (const void *)o;

        assert_int_equal(v->vectors, VIRTIO_VECTORS_UNSPECIFIED);
        assert_int_equal(v->disable_legacy, QDEV_AUTO);
        assert_false(v->disable_modern);
    }
}

/* ---- registry ----------------------------------------------------------------------------- */

struct kind_row {
    const char *name;
    const char *type;
    enum qdev_type_kind kind;
    const char *bus;
};

/* clang-format off */
static const struct kind_row kind_rows[] = {
    {"e1000 is a driver", "e1000", QDEV_TYPE_DRIVER, NULL},
    {"virtio-net-pci is a driver", "virtio-net-pci", QDEV_TYPE_DRIVER, NULL},
    {"virtio-blk-pci is a driver", "virtio-blk-pci", QDEV_TYPE_DRIVER, NULL},
    {"pci-device is abstract", "pci-device", QDEV_TYPE_ABSTRACT, NULL},
    {"virtio-pci is abstract", "virtio-pci", QDEV_TYPE_ABSTRACT, NULL},
    {"i440FX is not pluggable", "i440FX", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"PIIX3 is not pluggable", "PIIX3", QDEV_TYPE_NOT_PLUGGABLE, NULL},
    {"usb-tablet needs usb-bus", "usb-tablet", QDEV_TYPE_OTHER_BUS, "usb-bus"},
    {"virtio-net-device needs virtio-bus", "virtio-net-device", QDEV_TYPE_OTHER_BUS,
     "virtio-bus"},
    {"unknown", "no-such-device", QDEV_TYPE_UNKNOWN, NULL},
    {"case-sensitive", "E1000", QDEV_TYPE_UNKNOWN, NULL},
    {"empty", "", QDEV_TYPE_UNKNOWN, NULL},
};
/* clang-format on */

static void test_kind(void **state)
{
    const struct kind_row *r = *state;
    const char *bus = "untouched";

    assert_int_equal(qdev_type_kind(r->type, &bus), r->kind);
    if (r->kind == QDEV_TYPE_OTHER_BUS)
        assert_string_equal(bus, r->bus);
    if (r->kind == QDEV_TYPE_DRIVER) {
        assert_non_null(qdev_driver_find(r->type));
        assert_string_equal(qdev_driver_find(r->type)->name, r->type);
    } else {
        assert_null(qdev_driver_find(r->type));
    }
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, set_rows, test_set);
    UNIT_ROWS_FIX(&s, no_err_rows, test_set_no_err);
    UNIT_ROWS_FIX(&s, seq_rows, test_seq);
    UNIT_ROWS_FIX(&s, default_rows, test_default);
    UNIT_ROWS_FIX(&s, struct_rows, test_struct_defaults);
    UNIT_ROWS(&s, kind_rows, test_kind);
    return unit_run(&s, "qdev");
}
