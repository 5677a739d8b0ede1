/* SPDX-License-Identifier: MIT */
/*
 * test-pci-addr.c — PCI addresses as users write them (daemon/hw/pci/pci_addr.c): QEMU's
 * `addr` property syntax (set_pci_devfn: sscanf "%x.%x%n" then "%x%n", glibc semantics) and
 * lspci's [DOMAIN:]BUS:SLOT.FN, with the formatter's round trip.
 */
#include <errno.h>
#include <string.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_addr.h"
#include "tests/unit/unit.h"

#define DF(s, f) PCI_DEVFN_OF(s, f)

/* ---- pci_devfn_parse --------------------------------------------------------------------- */

struct devfn_row {
    const char *name;
    const char *in;
    int expect; /* devfn, or -EINVAL */
};

/* clang-format off */
static const struct devfn_row devfn_rows[] = {
    {"5: slot 5", "5", DF(5, 0)},
    {"06.0", "06.0", DF(6, 0)},
    {"0x07", "0x07", DF(7, 0)},
    {"1f", "1f", DF(0x1f, 0)},
    {"0x3.1", "0x3.1", DF(3, 1)},
    {"1.5", "1.5", DF(1, 5)},
    {"0", "0", DF(0, 0)},
    {"1f.7: the last devfn", "1f.7", DF(0x1f, 7)},
    {"0x1f.0x7", "0x1f.0x7", DF(0x1f, 7)},
    {"16 is hex: slot 0x16", "16", DF(0x16, 0)},
    {"9: slot 9", "9", DF(9, 0)},
    {"leading blank accepted", " 5", DF(5, 0)},
    {"blank before the function accepted", "5. 1", DF(5, 1)},
    {"0x alone is 0 (glibc %x)", "0x", DF(0, 0)},
    {"+1d: sign accepted", "+1d", DF(0x1d, 0)},
    {"1b.0x1", "1b.0x1", DF(0x1b, 1)},
    {"0X1e", "0X1e", DF(0x1e, 0)},
    {"upper-case hex", "1F.7", DF(0x1f, 7)},
    {"trailing blank refused", "5 ", -EINVAL},
    {"trailing blank after function refused", "5.1 ", -EINVAL},
    {"-1 refused (wraps above 0x1f)", "-1", -EINVAL},
    {"1c. refused", "1c.", -EINVAL},
    {"function 8 refused", "3.8", -EINVAL},
    {"function -1 refused", "3.-1", -EINVAL},
    {"a.b refused (function 0xb)", "a.b", -EINVAL},
    {"20 refused (0x20)", "20", -EINVAL},
    {"0x20 refused", "0x20", -EINVAL},
    {"31 refused (0x31)", "31", -EINVAL},
    {"100 refused", "100", -EINVAL},
    {"empty refused", "", -EINVAL},
    {"blank only refused", " ", -EINVAL},
    {"not hex refused", "zz", -EINVAL},
    {"g refused", "g", -EINVAL},
    {"trailing junk refused", "05.1x", -EINVAL},
    {"two dots refused", "1.2.3", -EINVAL},
    {"colon form refused", "00:05.0", -EINVAL},
    {"dot first refused", ".1", -EINVAL},
};
/* clang-format on */

static void test_devfn(void **state)
{
    const struct devfn_row *r = *state;

    assert_int_equal(pci_devfn_parse(r->in), r->expect);
}

static void test_devfn_null(void **state)
{
    (void)state;
    assert_int_equal(pci_devfn_parse(NULL), -EINVAL);
}

/* ---- pci_bdf_parse ----------------------------------------------------------------------- */

struct bdf_row {
    const char *name;
    const char *in;
    int ret;
    uint16_t domain;
    uint8_t bus, devfn;
};

/* clang-format off */
static const struct bdf_row bdf_rows[] = {
    {"0000:00:03.0", "0000:00:03.0", 0, 0, 0, DF(3, 0)},
    {"00:03.0 without domain", "00:03.0", 0, 0, 0, DF(3, 0)},
    {"0001:02:1f.7", "0001:02:1f.7", 0, 1, 2, DF(0x1f, 7)},
    {"ffff:ff:1f.7: every field at its maximum", "ffff:ff:1f.7", 0, 0xffff, 0xff, DF(0x1f, 7)},
    {"upper-case hex", "0000:0A:1F.7", 0, 0, 0x0a, DF(0x1f, 7)},
    {"short fields", "0:0:3.1", 0, 0, 0, DF(3, 1)},
    {"short bus without domain", "1:3.1", 0, 0, 1, DF(3, 1)},
    {"slot 0x20 refused", "0000:00:20.0", -EINVAL},
    {"no function refused", "00:03", -EINVAL},
    {"function 8 refused", "00:03.8", -EINVAL},
    {"not hex refused", "zz:00.0", -EINVAL},
    {"four fields refused", "0:0:0:0.0", -EINVAL},
    {"trailing junk refused", "0000:00:03.0x", -EINVAL},
    {"trailing blank refused", "00:03.0 ", -EINVAL},
    {"leading blank refused", " 00:03.0", -EINVAL},
    {"five-digit domain refused", "00000:00:03.0", -EINVAL},
    {"three-digit bus refused", "0000:100:03.0", -EINVAL},
    {"three-digit bus without domain refused", "100:03.0", -EINVAL},
    {"three-digit slot refused", "00:003.0", -EINVAL},
    {"two-digit function refused", "00:03.07", -EINVAL},
    {"no bus refused", "3.0", -EINVAL},
    {"leading colon refused", ":00:03.0", -EINVAL},
    {"empty field refused", "0000::03.0", -EINVAL},
    {"negative function refused", "00:03.-1", -EINVAL},
    {"0x prefix refused", "0x00:03.0", -EINVAL},
    {"empty refused", "", -EINVAL},
};
/* clang-format on */

static void test_bdf(void **state)
{
    const struct bdf_row *r = *state;
    struct pci_bdf out = {.domain = 0xeeee, .bus = 0xee, .devfn = 0xee};

    assert_int_equal(pci_bdf_parse(r->in, &out), r->ret);
    if (r->ret < 0) {
        /* Untouched on failure. */
        assert_int_equal(out.domain, 0xeeee);
        assert_int_equal(out.bus, 0xee);
        assert_int_equal(out.devfn, 0xee);
        return;
    }
    assert_int_equal(out.domain, r->domain);
    assert_int_equal(out.bus, r->bus);
    assert_int_equal(out.devfn, r->devfn);
}

static void test_bdf_null(void **state)
{
    struct pci_bdf out;

    (void)state;
    assert_int_equal(pci_bdf_parse(NULL, &out), -EINVAL);
}

/* ---- pci_bdf_format and the round trip --------------------------------------------------- */

struct fmt_row {
    const char *name;
    uint16_t domain;
    uint8_t bus, devfn;
    const char *text;
};

/* clang-format off */
static const struct fmt_row fmt_rows[] = {
    {"host bridge", 0, 0, DF(0, 0), "0000:00:00.0"},
    {"slot 3", 0, 0, DF(3, 0), "0000:00:03.0"},
    {"function 7", 0, 0, DF(1, 7), "0000:00:01.7"},
    {"secondary bus", 0, 2, DF(0x1f, 7), "0000:02:1f.7"},
    {"all maxima", 0xffff, 0xff, DF(0x1f, 7), "ffff:ff:1f.7"},
    {"hex digits lower-case", 0xabcd, 0xef, DF(0x1a, 2), "abcd:ef:1a.2"},
};
/* clang-format on */

static void test_format(void **state)
{
    const struct fmt_row *r = *state;
    char buf[PCI_BDF_STRLEN + 4];
    struct pci_bdf back;

    memset(buf, 'x', sizeof(buf));
    assert_ptr_equal(pci_bdf_format(buf, r->domain, r->bus, r->devfn), buf);
    assert_string_equal(buf, r->text);
    assert_int_equal(strlen(buf), PCI_BDF_STRLEN - 1);
    /* Nothing written past PCI_BDF_STRLEN bytes. */
    for (size_t i = PCI_BDF_STRLEN; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 'x');

    assert_int_equal(pci_bdf_parse(buf, &back), 0);
    assert_int_equal(back.domain, r->domain);
    assert_int_equal(back.bus, r->bus);
    assert_int_equal(back.devfn, r->devfn);
}

/* Every devfn survives format → parse, and the devfn parser agrees on slot.fn. */
struct sweep_row {
    const char *name;
    uint8_t bus;
};

/* clang-format off */
static const struct sweep_row sweep_rows[] = {
    {"bus 0, all 256 devfns", 0},
    {"bus 0xff, all 256 devfns", 0xff},
};
/* clang-format on */

static void test_sweep(void **state)
{
    const struct sweep_row *r = *state;

    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        char buf[PCI_BDF_STRLEN], sf[8];
        struct pci_bdf back;

        pci_bdf_format(buf, 0, r->bus, (uint8_t)devfn);
        assert_int_equal(pci_bdf_parse(buf, &back), 0);
        assert_int_equal(back.bus, r->bus);
        assert_int_equal(back.devfn, devfn);
        snprintf(sf, sizeof(sf), "%02x.%x", PCI_SLOT_OF(devfn), PCI_FUNC_OF(devfn));
        assert_int_equal(pci_devfn_parse(sf), devfn);
    }
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } devfn_null_rows[] = {{"NULL refused"}}, bdf_null_rows[] = {{"NULL refused"}};

    UNIT_ROWS(&s, devfn_rows, test_devfn);
    UNIT_ROWS(&s, devfn_null_rows, test_devfn_null);
    UNIT_ROWS(&s, bdf_rows, test_bdf);
    UNIT_ROWS(&s, bdf_null_rows, test_bdf_null);
    UNIT_ROWS(&s, fmt_rows, test_format);
    UNIT_ROWS(&s, sweep_rows, test_sweep);
    return unit_run(&s, "pci-addr");
}
