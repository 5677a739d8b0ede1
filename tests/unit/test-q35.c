/* SPDX-License-Identifier: MIT */
/*
 * test-q35.c — the q35 machine and what the machine layer builds around bridges
 * (daemon/machine/q35.c, machine_types.c, hotplug.c, daemon/hw/pci/mch.c): the machine types
 * and their compat properties, the MCH's PCIEXBAR decoding and the ECAM window it publishes,
 * q35's INTx routing to PIRQs, GSIs and the LPC's ISA routes, bus names and the hotplug
 * controller each bridge bus gets, the walk order of buses, QEMU 7.2's refusals on pcie.0 and
 * behind bridges, and removals (ACPI pending until reset, SHPC and PCIe at once when the guest
 * never saw the slot).
 */
#include <errno.h>
#include <string.h>

#include "api/commands.h"
#include "daemon/hw/pci/ich9.h"
#include "daemon/hw/pci/mch.h"
#include "daemon/machine/machine.h"
#include "tests/unit/unit.h"

/* ---- machine types and compat properties ----------------------------------------------------- */

struct type_row {
    const char *name;
    const char *lookup; /* NULL = the default */
    const char *type, *alias, *family, *version;
    bool is_default;
    size_t ncompat;
};

/* clang-format off */
static const struct type_row type_rows[] = {
    {"default is pcid-pc-1.1", NULL, "pcid-pc-1.1", "pc", "pc", "1.1", true, 0},
    {"pc alias", "pc", "pcid-pc-1.1", "pc", "pc", "1.1", true, 0},
    {"pcid-pc-1.0 keeps the old virtio default", "pcid-pc-1.0", "pcid-pc-1.0", NULL, "pc", "1.0",
     false, 2},
    {"q35 alias", "q35", "pcid-q35-1.1", "q35", "q35", "1.1", false, 0},
    {"pcid-q35-1.0", "pcid-q35-1.0", "pcid-q35-1.0", NULL, "q35", "1.0", false, 2},
    {"unknown", "pc-i440fx-7.2", NULL, NULL, NULL, NULL, false, 0},
    {"empty name", "", NULL, NULL, NULL, NULL, false, 0},
};
/* clang-format on */

static void test_types(void **state)
{
    const struct type_row *r = *state;
    const struct machine_type *t = machine_type_find(r->lookup);
    size_t n = 0;

    if (!r->type) {
        assert_null(t);
        return;
    }
    assert_non_null(t);
    assert_string_equal(t->name, r->type);
    if (r->alias)
        assert_string_equal(t->alias, r->alias);
    else
        assert_null(t->alias);
    assert_string_equal(t->family, r->family);
    assert_string_equal(t->version, r->version);
    assert_int_equal(t->is_default, r->is_default);
    while (machine_compat_at(t, n))
        n++;
    assert_int_equal(n, r->ncompat);
}

/* Exactly one default; names and aliases unique; listed newest first within a family. */
static void test_type_table(void **state)
{
    int defaults = 0;

    (void)state;
    for (size_t i = 0; machine_type_at(i); i++) {
        const struct machine_type *t = machine_type_at(i);

        defaults += t->is_default;
        for (size_t j = 0; j < i; j++) {
            const struct machine_type *o = machine_type_at(j);

            assert_false(streq(t->name, o->name));
            assert_false(t->alias && o->alias && streq(t->alias, o->alias));
            if (streq(t->family, o->family))
                assert_true(strcmp(o->version, t->version) > 0);
        }
        assert_ptr_equal(machine_type_find(t->name), t);
    }
    assert_int_equal(defaults, 1);
}

struct compat_row {
    const char *name;
    const char *type;
    size_t i;
    const char *driver, *prop, *value; /* NULL driver = past the end */
};

/* clang-format off */
static const struct compat_row compat_rows[] = {
    {"1.0: virtio-pci disable-modern=on", "pcid-pc-1.0", 0, "virtio-pci", "disable-modern", "on"},
    {"1.0: virtio-pci disable-legacy=off", "pcid-pc-1.0", 1, "virtio-pci", "disable-legacy",
     "off"},
    {"1.0: end", "pcid-pc-1.0", 2, NULL, NULL, NULL},
    {"q35 1.0 the same", "pcid-q35-1.0", 0, "virtio-pci", "disable-modern", "on"},
    {"1.1: nothing", "pcid-pc-1.1", 0, NULL, NULL, NULL},
};
/* clang-format on */

static void test_compat(void **state)
{
    const struct compat_row *r = *state;
    const struct machine_compat_prop *p = machine_compat_at(machine_type_find(r->type), r->i);

    if (!r->driver) {
        assert_null(p);
        return;
    }
    assert_non_null(p);
    assert_string_equal(p->driver, r->driver);
    assert_string_equal(p->property, r->prop);
    assert_string_equal(p->value, r->value);
}

/* ---- a machine with a command layer, and what the platform sees --------------------------------
 */

#define NGSI 24

struct q {
    struct machine *m;
    struct api *api;
    int gsi[NGSI];
    int gsi_calls;
};

static void plat_irq(void *opaque, unsigned gsi, int level)
{
    struct q *q = opaque;

    assert_true(gsi < NGSI);
    q->gsi[gsi] = level;
    q->gsi_calls++;
}

static const struct machine_platform plat = {.irq_set = plat_irq};

static void q_free(void *p)
{
    struct q *q = p;

    api_free(q->api);
    machine_free(q->m);
    free(q);
}

/* A machine of `type` with `cold` (-device texts, NULL-terminated), started. */
static struct q *q_new(struct unit_fix *f, const char *type, const char *const *cold)
{
    struct q *q = calloc(1, sizeof(*q));
    struct api_options o = {0};
    struct error err = {0};

    assert_non_null(q);
    assert_int_equal(machine_new(type, &q->m, &err), 0);
    assert_int_equal(api_new(q->m, &o, &q->api), 0);
    unit_defer(f, q_free, q);
    machine_set_platform(q->m, &plat, q);
    machine_lock(q->m);
    for (; cold && *cold; cold++) {
        int r = api_device_add_spec(q->api, *cold, false, &err);

        if (r < 0)
            fail_msg("%s: %s", *cold, err.desc);
    }
    machine_unlock(q->m);
    api_start(q->api);
    return q;
}

/* A hot-plug (device_add); returns 0 or -errno with the message in `msg`. */
static int q_hotplug(struct q *q, const char *spec, char *msg, size_t len)
{
    struct error err = {0};
    int r;

    machine_lock(q->m);
    r = api_device_add_spec(q->api, spec, true, &err);
    machine_unlock(q->m);
    snprintf(msg, len, "%s", r < 0 ? err.desc : "");
    return r;
}

static int q_exec(struct q *q, const char *cmd, json_t *args, char *msg, size_t len)
{
    struct error err = {0};
    json_t *ret = NULL;
    int r = api_execute(q->api, cmd, args, &ret, &err);

    json_decref(args);
    json_decref(ret);
    if (msg)
        snprintf(msg, len, "%s", r < 0 ? err.desc : "");
    return r;
}

static struct pci_device *q_dev(struct q *q, const char *id)
{
    struct machine_dev *md = machine_find_device(q->m, id);

    assert_non_null(md);
    return md->pci;
}

static struct pci_device *q_builtin(struct q *q, uint8_t devfn)
{
    struct pci_device *d = machine_root_bus(q->m)->devices[devfn];

    assert_non_null(d);
    return d;
}

static void cfg_write(struct pci_device *d, uint32_t off, uint32_t val, unsigned len)
{
    pthread_mutex_lock(&d->lock);
    pci_dev_config_write(d, off, val, len);
    pthread_mutex_unlock(&d->lock);
}

/* ---- PCIEXBAR: decoding and the published window ------------------------------------------- */

struct ecam_row {
    const char *name;
    uint64_t pciexbar;
    bool ok, enabled;
    uint64_t base, size;
};

/* clang-format off */
static const struct ecam_row ecam_rows[] = {
    {"QEMU's default, disabled", 0xb0000000, true, false, 0xb0000000, 256 << 20},
    {"enabled, 256 MiB", 0xb0000001, true, true, 0xb0000000, 256 << 20},
    {"256 MiB ignores bits 27:26", 0xbc000001, true, true, 0xb0000000, 256 << 20},
    {"128 MiB keeps bit 27", 0xb8000003, true, true, 0xb8000000, 128 << 20},
    {"64 MiB keeps bit 26", 0xb4000005, true, true, 0xb4000000, 64 << 20},
    {"above 4 GiB (bits 35:32)", 0x800000001ull, true, true, 0x800000000ull, 256 << 20},
    {"bits above 35 are not address", 0xf0000000b0000001ull, true, true, 0xb0000000, 256 << 20},
    {"reserved length: ignored", 0xb0000007, false, false, 0, 0},
};
/* clang-format on */

static void test_ecam_decode(void **state)
{
    const struct ecam_row *r = *state;
    bool en = false;
    uint64_t base = 0, size = 0;

    assert_int_equal(mch_ecam_decode(r->pciexbar, &en, &base, &size), r->ok);
    if (!r->ok)
        return;
    assert_int_equal(en, r->enabled);
    assert_int_equal(base, r->base);
    assert_int_equal(size, r->size);
}

/* Guest writes to PCIEXBAR move the window the vCPUs decode; reset puts it back. */
struct window_row {
    const char *name;
    uint32_t lo, hi; /* written to 0x60 and 0x64 (hi first) */
    bool enabled;
    uint64_t base, size;
};

/* clang-format off */
static const struct window_row window_rows[] = {
    {"as firmware enables it", 0xb0000001, 0, true, 0xb0000000, 256 << 20},
    {"moved and shrunk", 0xe0000005, 0, true, 0xe0000000, 64 << 20},
    {"disabled again", 0xb0000000, 0, false, 0xb0000000, 256 << 20},
    {"above 4 GiB", 0x00000001, 0x8, true, 0x800000000ull, 256 << 20},
    {"reserved length leaves the reset window", 0xe0000007, 0, false, 0xb0000000, 256 << 20},
};
/* clang-format on */

static void test_ecam_window(void **state)
{
    struct unit_fix *f = *state;
    const struct window_row *r = f->row;
    struct q *q = q_new(f, "q35", NULL);
    struct pci_device *mch = q_builtin(q, 0);
    uint64_t base, size;
    bool en;

    /* After reset: QEMU's default, disabled. */
    en = machine_ecam_decode(__atomic_load_n(&q->m->ecam, __ATOMIC_ACQUIRE), &base, &size);
    assert_false(en);
    assert_int_equal(pci_dev_config_read(mch, MCH_PCIEXBAR, 4), 0xb0000000);

    cfg_write(mch, MCH_PCIEXBAR + 4, r->hi, 4);
    cfg_write(mch, MCH_PCIEXBAR, r->lo, 4);
    en = machine_ecam_decode(__atomic_load_n(&q->m->ecam, __ATOMIC_ACQUIRE), &base, &size);
    assert_int_equal(en, r->enabled);
    if (r->enabled || r->base != 0xb0000000) {
        assert_int_equal(base, r->base);
        assert_int_equal(size, r->size);
    }
    q_exec(q, "system_reset", NULL, NULL, 0);
    en = machine_ecam_decode(__atomic_load_n(&q->m->ecam, __ATOMIC_ACQUIRE), &base, &size);
    assert_false(en);
}

/* ---- INTx: slot and pin to PIRQ, GSI 16 + PIRQ, the LPC's ISA routes ----------------------------
 */

struct intx_row {
    const char *name;
    const char *dev;  /* cold-plugged, id "d" */
    const char *port; /* or NULL */
    int pin;
    unsigned gsi;
    uint8_t route; /* LPC route register of that PIRQ (0 = leave disabled) */
    int isa;       /* ISA IRQ expected to follow, -1 none */
};

/* clang-format off */
static const struct intx_row intx_rows[] = {
    {"slot 2 INTA -> PIRQG", "virtio-net-pci,id=d,addr=02.0", NULL, 0, 22, 0, -1},
    {"slot 3 INTA -> PIRQH", "virtio-net-pci,id=d,addr=03.0", NULL, 0, 23, 0, -1},
    {"slot 4 INTA -> PIRQE", "virtio-net-pci,id=d,addr=04.0", NULL, 0, 20, 0, -1},
    {"slot 4 INTD -> PIRQH", "virtio-net-pci,id=d,addr=04.0", NULL, 3, 23, 0, -1},
    {"slot 24 INTB -> PIRQF", "virtio-net-pci,id=d,addr=18.0", NULL, 1, 21, 0, -1},
    {"slot 25 INTA -> PIRQA (D25IR)", "virtio-net-pci,id=d,addr=19.0", NULL, 0, 16, 0, -1},
    {"slot 29 INTC -> PIRQC", "virtio-net-pci,id=d,addr=1d.0", NULL, 2, 18, 0, -1},
    {"slot 30 INTA -> PIRQE (D30IR)", "virtio-net-pci,id=d,addr=1e.0", NULL, 0, 20, 0, -1},
    {"slot 31 INTB -> PIRQB", "virtio-net-pci,id=d,addr=1f.1", NULL, 1, 17, 0, -1},
    {"behind a root port at 05.0: the port's slot", "virtio-net-pci,id=d,bus=rp",
     "pcie-root-port,id=rp,chassis=1,slot=1,addr=05.0", 0, 21, 0, -1},
    {"behind a root port, INTB swizzled", "virtio-net-pci,id=d,bus=rp",
     "pcie-root-port,id=rp,chassis=1,slot=1,addr=05.0", 1, 22, 0, -1},
    {"routed to ISA IRQ 11", "virtio-net-pci,id=d,addr=02.0", NULL, 0, 22, 0x0b, 11},
    {"route disabled (bit 7): GSI only", "virtio-net-pci,id=d,addr=02.0", NULL, 0, 22, 0x8b, -1},
};
/* clang-format on */

static void test_intx(void **state)
{
    struct unit_fix *f = *state;
    const struct intx_row *r = f->row;
    const char *cold[] = {r->port ? r->port : r->dev, r->port ? r->dev : NULL, NULL};
    struct q *q = q_new(f, "q35", cold);
    struct pci_device *d = q_dev(q, "d");
    struct pci_device *lpc = q_builtin(q, PCI_DEVFN_OF(31, 0));
    unsigned pirq = r->gsi - 16;
    uint8_t route_reg = pirq < 4 ? ICH9_LPC_PIRQA_ROUT + pirq : ICH9_LPC_PIRQE_ROUT + pirq - 4;

    assert_int_equal(pci_dev_config_read(lpc, route_reg, 1), ICH9_LPC_PIRQ_OFF);
    if (r->route)
        cfg_write(lpc, route_reg, r->route, 1);
    memset(q->gsi, 0, sizeof(q->gsi));
    pci_dev_set_irq(d, r->pin, 1);
    for (unsigned g = 0; g < NGSI; g++)
        assert_int_equal(q->gsi[g], g == r->gsi || (int)g == r->isa);
    assert_int_equal(ich9_lpc_pirq_irq(lpc, pirq), r->isa);
    pci_dev_set_irq(d, r->pin, 0);
    for (unsigned g = 0; g < NGSI; g++)
        assert_int_equal(q->gsi[g], 0);
}

/* Two functions on one PIRQ: the line stays up until both are down (wired OR). */
static void test_intx_shared(void **state)
{
    struct unit_fix *f = *state;
    const char *cold[] = {"virtio-net-pci,id=a,addr=02.0", "virtio-net-pci,id=b,addr=06.0", NULL};
    struct q *q = q_new(f, "q35", cold);

    pci_dev_set_irq(q_dev(q, "a"), 0, 1);
    pci_dev_set_irq(q_dev(q, "b"), 0, 1);
    assert_int_equal(q->gsi[22], 1);
    pci_dev_set_irq(q_dev(q, "a"), 0, 0);
    assert_int_equal(q->gsi[22], 1);
    pci_dev_set_irq(q_dev(q, "b"), 0, 0);
    assert_int_equal(q->gsi[22], 0);
}

/* ---- bus names, hotplug controllers, walk order ------------------------------------------------
 */

struct bus_row {
    const char *name;
    const char *type;
    const char *cold[4];
    const char *hot[2];
    const char *buses;      /* names in machine_buses_dfs() order, comma separated */
    const char *hotplug[6]; /* per bus in that order: "none", "acpi", "shpc", "pcie" */
};

/* clang-format off */
static const struct bus_row bus_rows[] = {
    {"bare q35", "q35", {NULL}, {NULL}, "pcie.0", {"none"}},
    {"bare pc", "pc", {NULL}, {NULL}, "pci.0", {"acpi"}},
    {"root ports by id, newest first", "q35",
     {"pcie-root-port,id=rp1,chassis=1,slot=1,addr=04.0",
      "pcie-root-port,id=rp2,chassis=1,slot=2,addr=05.0", NULL}, {NULL},
     "pcie.0,rp2,rp1", {"none", "acpi", "acpi"}},
    /* QEMU names an unnamed bus by its type with a counter from 0, so the first root port's
     * bus is "pcie.0" like the root bus. */
    {"unnamed buses: pcie.N and pci.N counters", "q35",
     {"pcie-root-port,chassis=1,slot=1", "pcie-root-port,chassis=1,slot=2",
      "pci-bridge,chassis_nr=3", NULL}, {NULL},
     "pcie.0,pci.0,pcie.1,pcie.0", {"none", "acpi", "acpi", "acpi"}},
    {"children follow their parent", "q35",
     {"pcie-root-port,id=rp1,chassis=1,slot=1,addr=04.0", "pcie-pci-bridge,id=pb,bus=rp1",
      "pci-bridge,id=b2,chassis_nr=2,bus=pb,addr=03.0", "pcie-root-port,id=rp2,chassis=1,slot=2"},
     {NULL}, "pcie.0,rp2,rp1,pb,b2", {"none", "acpi", "acpi", "acpi", "acpi"}},
    {"hotplug=off: no controller", "q35",
     {"pcie-root-port,id=rp1,chassis=1,slot=1,hotplug=off", NULL}, {NULL}, "pcie.0,rp1",
     {"none", "none"}},
    {"hot-plugged: the bridge's own controllers", "q35",
     {"pcie-root-port,id=rp1,chassis=1,slot=1", "pcie-root-port,id=rp3,chassis=1,slot=3", NULL},
     {"pcie-root-port,id=rp2,chassis=1,slot=2,bus=rp1", "pcie-pci-bridge,id=pb,bus=rp3"},
     "pcie.0,rp3,pb,rp1,rp2", {"none", "acpi", "shpc", "acpi", "pcie"}},
    {"hot-plugged pci-bridge without SHPC: none", "pc", {NULL},
     {"pci-bridge,id=b,chassis_nr=1,shpc=off", NULL}, "pci.0,b", {"acpi", "none"}},
};
/* clang-format on */

static const char *hotplug_name(enum pci_hotplug h)
{
    static const char *const names[] = {"none", "acpi", "shpc", "pcie"};

    return names[h];
}

static void test_buses(void **state)
{
    struct unit_fix *f = *state;
    const struct bus_row *r = f->row;
    struct q *q = q_new(f, r->type, r->cold);
    struct pci_bus *order[MACHINE_MAX_BUSES];
    char names[256] = "", msg[ERROR_DESC_MAX];
    unsigned n;

    for (size_t i = 0; i < ARRAY_SIZE(r->hot) && r->hot[i]; i++)
        if (q_hotplug(q, r->hot[i], msg, sizeof(msg)) < 0)
            fail_msg("%s: %s", r->hot[i], msg);
    n = machine_buses_dfs(q->m, order);
    assert_int_equal(n, q->m->n_buses);
    for (unsigned i = 0; i < n; i++) {
        if (i)
            strcat(names, ",");
        strcat(names, order[i]->name);
        assert_non_null(r->hotplug[i]);
        assert_string_equal(hotplug_name(order[i]->hotplug), r->hotplug[i]);
        assert_int_equal(order[i]->hotpluggable, order[i]->hotplug != PCI_HOTPLUG_NONE);
    }
    assert_string_equal(names, r->buses);
}

/* ---- refusals (QEMU 7.2's messages) ------------------------------------------------------------
 */

struct refuse_row {
    const char *name;
    const char *type;
    const char *cold[3];
    const char *hot[2]; /* the last one is refused */
    const char *msg;
};

/* clang-format off */
static const struct refuse_row refuse_rows[] = {
    {"pcie.0 takes no hot-plug", "q35", {NULL}, {"virtio-net-pci,id=n", NULL},
     "Bus 'pcie.0' does not support hotplugging"},
    {"a root port with hotplug=off", "q35",
     {"pcie-root-port,id=rp1,chassis=1,slot=1,hotplug=off", NULL},
     {"virtio-net-pci,id=n,bus=rp1", NULL}, "Bus 'rp1' does not support hotplugging"},
    {"SHPC slot 0 (auto placement picks it)", "q35", {"pcie-root-port,id=rp1,chassis=1,slot=1"},
     {"pcie-pci-bridge,id=pb,bus=rp1", "virtio-net-pci,id=n,bus=pb"},
     "Unsupported PCI slot 0 for standard hotplug controller. Valid slots are between 1 and 31."},
    {"hot pci-bridge with shpc=off", "pc", {NULL},
     {"pci-bridge,id=b,chassis_nr=1,shpc=off", "virtio-net-pci,id=n,bus=b"},
     "Bus 'b' does not support hotplugging"},
    {"pci-bridge without a chassis", "pc", {NULL}, {"pci-bridge,id=b", NULL},
     "Bridge chassis not specified. Each bridge is required to be assigned a unique chassis id "
     "> 0."},
    {"chassis and slot taken", "q35", {"pcie-root-port,id=rp1,chassis=1,slot=1,addr=04.0"},
     {"pcie-root-port,id=rp2,chassis=1,slot=1,bus=rp1", NULL},
     "Can't add chassis slot, error -16"},
    {"behind a port, 00.0 is every slot's function 0", "q35",
     {"pcie-root-port,id=rp1,chassis=1,slot=1", "virtio-net-pci,id=a,bus=rp1,addr=00.0"},
     {"virtio-net-pci,id=n,bus=rp1,addr=01.0", NULL},
     "PCI: slot 0 function 0 already occupied by virtio-net-pci, new func virtio-net-pci cannot be "
     "exposed to guest."},
    {"unknown bus", "q35", {NULL}, {"virtio-net-pci,id=n,bus=nope", NULL},
     "Bus 'nope' not found"},
    {"aer_log_max above 128", "q35", {"pcie-root-port,id=rp1,chassis=1,slot=1"},
     {"pcie-root-port,id=rp2,chassis=1,slot=2,bus=rp1,aer_log_max=129", NULL},
     "Invalid aer_log_max 129. The max number of aer log is 128"},
    {"the chassis check comes before aer_log_max", "q35",
     {"pcie-root-port,id=rp1,chassis=1,slot=1"},
     {"pcie-root-port,id=rp2,chassis=1,slot=1,bus=rp1,aer_log_max=129", NULL},
     "Can't add chassis slot, error -16"},
};
/* clang-format on */

static void test_refuse(void **state)
{
    struct unit_fix *f = *state;
    const struct refuse_row *r = f->row;
    struct q *q = q_new(f, r->type, r->cold);
    size_t n = r->hot[1] ? 2 : 1;
    unsigned devices;
    char msg[ERROR_DESC_MAX];

    if (n == 2 && q_hotplug(q, r->hot[0], msg, sizeof(msg)) < 0)
        fail_msg("%s: %s", r->hot[0], msg);
    devices = machine_device_count(q->m);
    assert_true(q_hotplug(q, r->hot[n - 1], msg, sizeof(msg)) < 0);
    assert_string_equal(msg, r->msg);
    /* A refusal changes nothing. */
    assert_int_equal(machine_device_count(q->m), devices);
    assert_null(machine_find_device(q->m, "n"));
}

/* ---- PCIDevice compat properties reach the models (checked against QEMU 7.2) --------------- */

struct compat_bits_row {
    const char *name;
    const char *dev; /* hot-plugged behind the hot-plugged 2.5 GT/s port rp1 */
    uint16_t lnksta; /* rp1's Link Status after the plug */
};

/* clang-format off */
static const struct compat_bits_row compat_bits_rows[] = {
    {"x-pcie-lnksta-dllla=on: DLL Link Active", "virtio-net-pci,id=n,bus=rp1", 0x2011},
    {"x-pcie-lnksta-dllla=off on a port without DLL Active reporting",
     "virtio-net-pci,id=n,bus=rp1,x-pcie-lnksta-dllla=off", 0x0011},
};
/* clang-format on */

static void test_compat_bits(void **state)
{
    struct unit_fix *f = *state;
    const struct compat_bits_row *r = f->row;
    const char *cold[] = {"pcie-root-port,id=rp0,chassis=1,slot=9", NULL};
    struct q *q = q_new(f, "q35", cold);
    char msg[ERROR_DESC_MAX];

    assert_int_equal(q_hotplug(q, "pcie-root-port,id=rp1,chassis=1,slot=1,bus=rp0,x-speed=2_5", msg,
                               sizeof(msg)),
                     0);
    assert_int_equal(q_hotplug(q, r->dev, msg, sizeof(msg)), 0);
    assert_int_equal(pci_dev_config_read(q_dev(q, "rp1"), 0x54 + PCI_EXP_LNKSTA, 2), r->lnksta);
}

/* ---- removal ------------------------------------------------------------------------------------
 */

struct del_row {
    const char *name;
    const char *cold[2];
    const char *hot[2];
    const char *del;
    bool gone_now;   /* device_del removes at once */
    bool gone_reset; /* after system_reset */
};

/* clang-format off */
static const struct del_row del_rows[] = {
    {"behind a cold root port (ACPI): pending until reset",
     {"pcie-root-port,id=rp1,chassis=1,slot=1", NULL}, {"virtio-net-pci,id=n,bus=rp1", NULL},
     "n", false, true},
    {"cold-plugged behind a cold root port: the same", {"pcie-root-port,id=rp1,chassis=1,slot=1",
     "virtio-net-pci,id=n,bus=rp1"}, {NULL}, "n", false, true},
    {"behind a hot-plugged root port, slot never powered by the guest: at once",
     {"pcie-root-port,id=rp0,chassis=1,slot=1", NULL},
     {"pcie-root-port,id=rp1,chassis=1,slot=2,bus=rp0", "virtio-net-pci,id=n,bus=rp1"}, "n",
     true, true},
    {"behind a hot-plugged bridge (SHPC), slot never enabled: at once",
     {"pcie-root-port,id=rp0,chassis=1,slot=1", NULL},
     {"pcie-pci-bridge,id=pb,bus=rp0", "virtio-net-pci,id=n,bus=pb,addr=01.0"}, "n", true, true},
    {"a root port on pcie.0 cannot go", {"pcie-root-port,id=rp1,chassis=1,slot=1", NULL}, {NULL},
     "rp1", false, false},
};
/* clang-format on */

static void test_del(void **state)
{
    struct unit_fix *f = *state;
    const struct del_row *r = f->row;
    struct q *q = q_new(f, "q35", r->cold);
    char msg[ERROR_DESC_MAX];
    int ret;

    for (size_t i = 0; i < ARRAY_SIZE(r->hot) && r->hot[i]; i++)
        if (q_hotplug(q, r->hot[i], msg, sizeof(msg)) < 0)
            fail_msg("%s: %s", r->hot[i], msg);
    ret = q_exec(q, "device_del", json_pack("{s:s}", "id", r->del), msg, sizeof(msg));
    if (!r->gone_now && !r->gone_reset) {
        /* On pcie.0: "Bus 'pcie.0' does not support hotplugging". */
        assert_true(ret < 0);
        assert_string_equal(msg, "Bus 'pcie.0' does not support hotplugging");
        assert_non_null(machine_find_device(q->m, r->del));
        return;
    }
    assert_int_equal(ret, 0);
    machine_lock(q->m);
    assert_int_equal(machine_find_device(q->m, r->del) == NULL, r->gone_now);
    machine_unlock(q->m);
    assert_int_equal(q_exec(q, "system_reset", NULL, NULL, 0), 0);
    machine_lock(q->m);
    assert_int_equal(machine_find_device(q->m, r->del) == NULL, r->gone_reset);
    machine_unlock(q->m);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } table_row[] = {{"invariants"}};

    UNIT_ROWS(&s, type_rows, test_types);
    UNIT_ROWS(&s, table_row, test_type_table);
    UNIT_ROWS(&s, compat_rows, test_compat);
    UNIT_ROWS(&s, ecam_rows, test_ecam_decode);
    UNIT_ROWS_FIX(&s, window_rows, test_ecam_window);
    UNIT_ROWS_FIX(&s, intx_rows, test_intx);
    UNIT_ROWS_FIX(&s, table_row, test_intx_shared);
    UNIT_ROWS_FIX(&s, bus_rows, test_buses);
    UNIT_ROWS_FIX(&s, refuse_rows, test_refuse);
    UNIT_ROWS_FIX(&s, del_rows, test_del);
    UNIT_ROWS_FIX(&s, compat_bits_rows, test_compat_bits);
    return unit_run(&s, "q35");
}
