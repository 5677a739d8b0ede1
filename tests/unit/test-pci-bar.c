/* SPDX-License-Identifier: MIT */
/*
 * test-pci-bar.c — base address registers (daemon/hw/pci/pci_dev.c): sizing per PCI 3.0
 * §6.2.5.1/§6.2.5.2 as QEMU implements it (write all-ones, read back the size mask), refused
 * registrations, QEMU's pci_bar_address() rules, and pci_dev_update_mappings().
 */
#include <errno.h>

#include "daemon/hw/pci/pci.h"
#include "daemon/hw/pci/pci_bus.h"
#include "tests/unit/unit.h"

#define IO       PCI_BASE_ADDRESS_SPACE_IO
#define MEM32    PCI_BASE_ADDRESS_SPACE_MEMORY
#define MEM64    PCI_BASE_ADDRESS_MEM_TYPE_64
#define PREF     PCI_BASE_ADDRESS_MEM_PREFETCH
#define ROM      PCI_ROM_SLOT
#define NORMAL   PCI_HEADER_TYPE_NORMAL
#define BRIDGE   PCI_HEADER_TYPE_BRIDGE
#define UNMAPPED PCI_BAR_UNMAPPED

static const struct pci_dev_class fake_class = {.name = "fake"};

static void dev_free(void *p)
{
    pci_dev_destroy(p);
    free(p);
}

static void bus_free(void *p)
{
    pci_bus_free(p);
}

static struct pci_device *dev_new(struct unit_fix *f, uint8_t header)
{
    struct pci_device *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    assert_int_equal(pci_dev_init(d, &fake_class, PCI_CONFIG_SPACE_SIZE, header), 0);
    unit_defer(f, dev_free, d);
    pci_dev_set_ids(d, 0x8086, 0x100e, 0x03, 0x020000);
    return d;
}

/* ---- sizing: write, read back --------------------------------------------------------------- */

struct cfg_write {
    uint32_t off;
    unsigned len;
    uint32_t val;
};

struct size_row {
    const char *name;
    uint8_t header;
    int region;
    uint64_t size;
    uint8_t type;
    struct cfg_write w[2]; /* len 0 = unused */
    uint32_t rd_off;
    uint32_t expect;
};

/* clang-format off */
static const struct size_row size_rows[] = {
    {"I/O 32 B", NORMAL, 0, 32, IO, {{0x10, 4, 0xffffffff}}, 0x10, 0xffffffe1},
    {"I/O 4 B (smallest)", NORMAL, 1, 4, IO, {{0x14, 4, 0xffffffff}}, 0x14, 0xfffffffd},
    {"I/O 256 B (largest)", NORMAL, 2, 256, IO, {{0x18, 4, 0xffffffff}}, 0x18, 0xffffff01},
    {"mem32 4 KiB", NORMAL, 0, 0x1000, MEM32, {{0x10, 4, 0xffffffff}}, 0x10, 0xfffff000},
    {"mem32 16 B (smallest)", NORMAL, 3, 16, MEM32, {{0x1c, 4, 0xffffffff}}, 0x1c, 0xfffffff0},
    {"mem32 2 GiB (largest)", NORMAL, 0, 0x80000000, MEM32, {{0x10, 4, 0xffffffff}}, 0x10,
     0x80000000},
    {"mem32 prefetchable 1 MiB", NORMAL, 5, 0x100000, PREF, {{0x24, 4, 0xffffffff}}, 0x24,
     0xfff00008},
    {"mem64 pref 16 KiB low dword", NORMAL, 2, 0x4000, MEM64 | PREF,
     {{0x18, 4, 0xffffffff}, {0x1c, 4, 0xffffffff}}, 0x18, 0xffffc00c},
    {"mem64 pref 16 KiB high dword", NORMAL, 2, 0x4000, MEM64 | PREF,
     {{0x18, 4, 0xffffffff}, {0x1c, 4, 0xffffffff}}, 0x1c, 0xffffffff},
    {"mem64 8 GiB low dword", NORMAL, 4, 0x200000000ull, MEM64,
     {{0x20, 4, 0xffffffff}, {0x24, 4, 0xffffffff}}, 0x20, 0x00000004},
    {"mem64 8 GiB high dword", NORMAL, 4, 0x200000000ull, MEM64,
     {{0x20, 4, 0xffffffff}, {0x24, 4, 0xffffffff}}, 0x24, 0xfffffffe},
    {"ROM 256 KiB: enable bit writable", NORMAL, ROM, 0x40000, 0, {{0x30, 4, 0xffffffff}}, 0x30,
     0xfffc0001},
    {"ROM 256 KiB without enable", NORMAL, ROM, 0x40000, 0, {{0x30, 4, 0xfffc0000}}, 0x30,
     0xfffc0000},
    {"ROM reserved bits 1..10 read-only", NORMAL, ROM, 0x800, 0, {{0x30, 4, 0x000007fe}}, 0x30,
     0x00000000},
    {"bridge ROM at 0x38", BRIDGE, ROM, 0x10000, 0, {{0x38, 4, 0xffffffff}}, 0x38, 0xffff0001},
    {"bridge: 0x30 is not the ROM", BRIDGE, ROM, 0x10000, 0, {{0x30, 4, 0xffffffff}}, 0x30,
     0x00000000},
    {"bridge BAR1 mem32", BRIDGE, 1, 0x1000, MEM32, {{0x14, 4, 0xffffffff}}, 0x14, 0xfffff000},
    {"initial value is the type", NORMAL, 2, 0x4000, MEM64 | PREF, {{0}}, 0x18, 0x0000000c},
    {"zero clears address bits, type stays", NORMAL, 2, 0x4000, MEM64 | PREF,
     {{0x18, 4, 0xffffffff}, {0x18, 4, 0}}, 0x18, 0x0000000c},
    {"address bits below the size dropped", NORMAL, 0, 0x1000, MEM32, {{0x10, 4, 0xfebf1234}},
     0x10, 0xfebf1000},
    {"I/O address bit 1 reserved", NORMAL, 0, 32, IO, {{0x10, 4, 0x0000c05f}}, 0x10, 0x0000c041},
    {"byte write to bits 8..15", NORMAL, 0, 0x1000, MEM32, {{0x11, 1, 0xff}}, 0x10, 0x0000f000},
    {"byte write to bits 0..7 of a 4 KiB BAR", NORMAL, 0, 0x1000, MEM32, {{0x10, 1, 0xff}}, 0x10,
     0x00000000},
    {"word write to the upper half", NORMAL, 0, 0x1000, MEM32, {{0x12, 2, 0xfebf}}, 0x10,
     0xfebf0000},
    /* Unaligned writes are served (QEMU's rule): bytes 0x12-0x15 take what their masks allow. */
    {"unaligned dword across BAR0 and BAR1", NORMAL, 0, 0x1000, MEM32, {{0x12, 4, 0xffffffff}},
     0x10, 0xffff0000},
    {"neighbouring unregistered BAR stays 0", NORMAL, 0, 0x1000, MEM32, {{0x14, 4, 0xffffffff}},
     0x14, 0x00000000},
};
/* clang-format on */

static void test_sizing(void **state)
{
    struct unit_fix *f = *state;
    const struct size_row *r = f->row;
    struct pci_device *d = dev_new(f, r->header);

    assert_int_equal(pci_bar_register(d, r->region, r->size, r->type, NULL, NULL), 0);
    for (size_t i = 0; i < ARRAY_SIZE(r->w); i++)
        if (r->w[i].len)
            pci_dev_config_write(d, r->w[i].off, r->w[i].val, r->w[i].len);
    assert_int_equal(pci_dev_config_read(d, r->rd_off, 4), r->expect);
}

/* The masks a registration leaves behind. */
struct regmask_row {
    const char *name;
    uint8_t header;
    int region;
    uint64_t size;
    uint8_t type;
    uint32_t off;
    uint32_t wmask, cmask;
};

/* clang-format off */
static const struct regmask_row regmask_rows[] = {
    {"I/O 32 B", NORMAL, 0, 32, IO, 0x10, 0xffffffe0, 0xffffffff},
    {"mem32 4 KiB", NORMAL, 1, 0x1000, MEM32, 0x14, 0xfffff000, 0xffffffff},
    {"mem64 16 KiB low", NORMAL, 2, 0x4000, MEM64 | PREF, 0x18, 0xffffc000, 0xffffffff},
    {"mem64 16 KiB high", NORMAL, 2, 0x4000, MEM64 | PREF, 0x1c, 0xffffffff, 0xffffffff},
    {"ROM 256 KiB", NORMAL, ROM, 0x40000, 0, 0x30, 0xfffc0001, 0xffffffff},
    {"bridge ROM 64 KiB", BRIDGE, ROM, 0x10000, 0, 0x38, 0xffff0001, 0xffffffff},
};
/* clang-format on */

static void test_regmask(void **state)
{
    struct unit_fix *f = *state;
    const struct regmask_row *r = f->row;
    struct pci_device *d = dev_new(f, r->header);

    assert_int_equal(pci_bar_register(d, r->region, r->size, r->type, NULL, NULL), 0);
    assert_int_equal(le_get32(d->wmask + r->off), r->wmask);
    assert_int_equal(le_get32(d->cmask + r->off), r->cmask);
    assert_int_equal(le_get32(d->w1cmask + r->off), 0);
    assert_int_equal(d->bars[r->region].size, r->size);
    assert_true(d->bars[r->region].addr == UNMAPPED);
}

/* ---- pci_bar_offset -------------------------------------------------------------------------- */

struct offset_row {
    const char *name;
    uint8_t header;
    int region;
    uint32_t off;
};

/* clang-format off */
static const struct offset_row offset_rows[] = {
    {"BAR0", NORMAL, 0, 0x10}, {"BAR1", NORMAL, 1, 0x14}, {"BAR5", NORMAL, 5, 0x24},
    {"ROM, type 0", NORMAL, ROM, 0x30}, {"ROM, type 1", BRIDGE, ROM, 0x38},
    {"bridge BAR1", BRIDGE, 1, 0x14},
};
/* clang-format on */

static void test_offset(void **state)
{
    struct unit_fix *f = *state;
    const struct offset_row *r = f->row;
    struct pci_device *d = dev_new(f, r->header);

    assert_int_equal(pci_bar_offset(d, r->region), r->off);
}

/* ---- refused registrations ------------------------------------------------------------------ */

struct bar_decl {
    int region;
    uint64_t size;
    uint8_t type;
};

struct refuse_row {
    const char *name;
    uint8_t header;
    struct bar_decl pre[2]; /* registered first; size 0 = unused */
    struct bar_decl bar;
    int ret;
};

/* clang-format off */
static const struct refuse_row refuse_rows[] = {
    {"non power of two", NORMAL, {{0}}, {0, 0x3000, MEM32}, -EINVAL},
    {"size 0", NORMAL, {{0}}, {0, 0, MEM32}, -EINVAL},
    {"I/O 2 B too small", NORMAL, {{0}}, {0, 2, IO}, -EINVAL},
    {"mem 8 B too small", NORMAL, {{0}}, {0, 8, MEM32}, -EINVAL},
    {"I/O 512 B too large", NORMAL, {{0}}, {0, 512, IO}, -EINVAL},
    {"mem32 4 GiB too large", NORMAL, {{0}}, {0, 0x100000000ull, MEM32}, -EINVAL},
    {"mem64 in BAR5", NORMAL, {{0}}, {5, 0x1000, MEM64}, -EINVAL},
    {"ROM with I/O type", NORMAL, {{0}}, {ROM, 0x1000, IO}, -EINVAL},
    {"ROM with mem64 type", NORMAL, {{0}}, {ROM, 0x1000, MEM64}, -EINVAL},
    {"ROM with prefetch type", NORMAL, {{0}}, {ROM, 0x1000, PREF}, -EINVAL},
    {"region -1", NORMAL, {{0}}, {-1, 0x1000, MEM32}, -EINVAL},
    {"region 7", NORMAL, {{0}}, {7, 0x1000, MEM32}, -EINVAL},
    {"bridge BAR2", BRIDGE, {{0}}, {2, 0x1000, MEM32}, -EINVAL},
    {"taken", NORMAL, {{0, 0x1000, MEM32}}, {0, 0x1000, MEM32}, -EBUSY},
    {"ROM taken", NORMAL, {{ROM, 0x1000, 0}}, {ROM, 0x1000, 0}, -EBUSY},
    {"upper half of a 64-bit BAR", NORMAL, {{0, 0x1000, MEM64}}, {1, 0x1000, MEM32}, -EBUSY},
    {"upper half of a 64-bit BAR3", NORMAL, {{3, 0x1000, MEM64 | PREF}}, {4, 32, IO}, -EBUSY},
    {"64-bit whose upper half is taken", NORMAL, {{1, 32, IO}}, {0, 0x1000, MEM64}, -EBUSY},
    /* Accepted neighbours, to show the refusals above are about the slot. */
    {"BAR2 after a 64-bit BAR0", NORMAL, {{0, 0x1000, MEM64}}, {2, 0x1000, MEM32}, 0},
    {"mem64 in BAR4", NORMAL, {{0}}, {4, 0x4000, MEM64 | PREF}, 0},
    {"BAR1 after a 32-bit BAR0", NORMAL, {{0, 0x1000, MEM32}}, {1, 0x1000, MEM32}, 0},
    {"BAR1 after an I/O BAR0", NORMAL, {{0, 32, IO}}, {1, 0x1000, MEM32}, 0},
    {"bridge BAR1", BRIDGE, {{0}}, {1, 0x1000, MEM32}, 0},
    {"bridge ROM", BRIDGE, {{0}}, {ROM, 0x1000, 0}, 0},
    {"mem64 8 GiB", NORMAL, {{0}}, {0, 0x200000000ull, MEM64}, 0},
};
/* clang-format on */

static void test_refuse(void **state)
{
    struct unit_fix *f = *state;
    const struct refuse_row *r = f->row;
    struct pci_device *d = dev_new(f, r->header);
    uint8_t cfg[PCI_CONFIG_SPACE_SIZE], wmask[PCI_CONFIG_SPACE_SIZE];
    struct pci_bar bars[PCI_NUM_REGIONS];

    for (size_t i = 0; i < ARRAY_SIZE(r->pre); i++)
        if (r->pre[i].size)
            assert_int_equal(
                pci_bar_register(d, r->pre[i].region, r->pre[i].size, r->pre[i].type, NULL, NULL),
                0);
    memcpy(cfg, d->config, sizeof(cfg));
    memcpy(wmask, d->wmask, sizeof(wmask));
    memcpy(bars, d->bars, sizeof(bars));

    assert_int_equal(pci_bar_register(d, r->bar.region, r->bar.size, r->bar.type, NULL, NULL),
                     r->ret);
    if (r->ret < 0) {
        /* A refusal changes nothing. */
        assert_memory_equal(d->config, cfg, sizeof(cfg));
        assert_memory_equal(d->wmask, wmask, sizeof(wmask));
        assert_memory_equal(d->bars, bars, sizeof(bars));
    } else {
        assert_int_equal(d->bars[r->bar.region].size, r->bar.size);
    }
}

/* ---- pci_bar_address ------------------------------------------------------------------------- */

struct addr_row {
    const char *name;
    uint8_t header;
    int region; /* the BAR registered and queried */
    uint64_t size;
    uint8_t type;
    uint32_t lo, hi; /* guest writes to the BAR register (hi only for mem64) */
    uint16_t command;
    uint64_t expect;
};

/* clang-format off */
#define CMD_IO  PCI_COMMAND_IO
#define CMD_MEM PCI_COMMAND_MEMORY
static const struct addr_row addr_rows[] = {
    {"mem32 mapped", NORMAL, 0, 0x1000, MEM32, 0xfebf0000, 0, CMD_MEM, 0xfebf0000},
    {"mem32, decoders off", NORMAL, 0, 0x1000, MEM32, 0xfebf0000, 0, 0, UNMAPPED},
    {"mem32, only I/O decoding", NORMAL, 0, 0x1000, MEM32, 0xfebf0000, 0, CMD_IO, UNMAPPED},
    {"mem32 at address 0", NORMAL, 0, 0x1000, MEM32, 0, 0, CMD_MEM, UNMAPPED},
    {"mem32 low bits ignored", NORMAL, 0, 0x1000, MEM32, 0xfebf1800, 0, CMD_MEM, 0xfebf1000},
    {"mem32 last page below 4 GiB", NORMAL, 0, 0x1000, MEM32, 0xffffe000, 0, CMD_MEM, 0xffffe000},
    {"mem32 ending at 4 GiB unmapped", NORMAL, 0, 0x1000, MEM32, 0xfffff000, 0, CMD_MEM, UNMAPPED},
    {"mem32 after sizing unmapped", NORMAL, 0, 0x1000, MEM32, 0xffffffff, 0, CMD_MEM, UNMAPPED},
    {"I/O mapped", NORMAL, 1, 32, IO, 0xc040, 0, CMD_IO, 0xc040},
    {"I/O, only memory decoding", NORMAL, 1, 32, IO, 0xc040, 0, CMD_MEM, UNMAPPED},
    {"I/O at address 0", NORMAL, 1, 32, IO, 0, 0, CMD_IO, UNMAPPED},
    {"I/O after sizing unmapped", NORMAL, 1, 32, IO, 0xffffffff, 0, CMD_IO, UNMAPPED},
    {"mem64 below 4 GiB", NORMAL, 2, 0x4000, MEM64 | PREF, 0xfe000000, 0, CMD_MEM, 0xfe000000},
    {"mem64 above 4 GiB", NORMAL, 2, 0x4000, MEM64 | PREF, 0, 0x1, CMD_MEM, 0x100000000ull},
    {"mem64 ending at 4 GiB stays mapped", NORMAL, 2, 0x4000, MEM64 | PREF, 0xffffc000, 0,
     CMD_MEM, 0xffffc000},
    {"mem64 at address 0", NORMAL, 2, 0x4000, MEM64 | PREF, 0, 0, CMD_MEM, UNMAPPED},
    {"mem64 after sizing unmapped", NORMAL, 2, 0x4000, MEM64 | PREF, 0xffffffff, 0xffffffff,
     CMD_MEM, UNMAPPED},
    {"mem64, decoders off", NORMAL, 2, 0x4000, MEM64, 0, 0x1, CMD_IO, UNMAPPED},
    {"ROM enabled", NORMAL, ROM, 0x40000, 0, 0xfeb80001, 0, CMD_MEM, 0xfeb80000},
    {"ROM without its enable bit", NORMAL, ROM, 0x40000, 0, 0xfeb80000, 0, CMD_MEM, UNMAPPED},
    {"ROM enabled, memory decoding off", NORMAL, ROM, 0x40000, 0, 0xfeb80001, 0, CMD_IO,
     UNMAPPED},
    {"bridge ROM enabled", BRIDGE, ROM, 0x10000, 0, 0xfebe0001, 0, CMD_MEM, 0xfebe0000},
};
#undef CMD_IO
#undef CMD_MEM
/* clang-format on */

static void test_address(void **state)
{
    struct unit_fix *f = *state;
    const struct addr_row *r = f->row;
    struct pci_device *d = dev_new(f, r->header);
    uint32_t off;

    assert_int_equal(pci_bar_register(d, r->region, r->size, r->type, NULL, NULL), 0);
    off = pci_bar_offset(d, r->region);
    pci_dev_config_write(d, off, r->lo, 4);
    if (r->type & MEM64)
        pci_dev_config_write(d, off + 4, r->hi, 4);
    pci_dev_config_write(d, PCI_COMMAND, r->command, 2);
    assert_true(pci_bar_address(d, r->region) == r->expect);
    /* The write path keeps the decoded address current. */
    assert_true(d->bars[r->region].addr == r->expect);
}

/* An unregistered region never decodes, whatever its register holds. */
struct unreg_row {
    const char *name;
    int region;
};

/* clang-format off */
static const struct unreg_row unreg_rows[] = {
    {"BAR0", 0}, {"BAR3", 3}, {"BAR5", 5}, {"ROM", ROM},
};
/* clang-format on */

static void test_unregistered(void **state)
{
    struct unit_fix *f = *state;
    const struct unreg_row *r = f->row;
    struct pci_device *d = dev_new(f, NORMAL);

    le_set32(d->config + pci_bar_offset(d, r->region), 0xfebf0001);
    le_set16(d->config + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    assert_true(pci_bar_address(d, r->region) == UNMAPPED);
    assert_false(pci_dev_update_mappings(d));
}

/* ---- pci_dev_update_mappings ----------------------------------------------------------------- */

enum map_op { MAP_END = 0, MAP_POKE, MAP_GUEST };

/*
 * MAP_POKE stores `val` straight into config space (as a model or a snapshot load would) and
 * calls pci_dev_update_mappings(), expecting `ret`. MAP_GUEST writes through the guest path,
 * which remaps by itself and notifies the bus: `ret` is then the map_changed count so far.
 */
struct map_step {
    enum map_op op;
    uint32_t off;
    unsigned len;
    uint32_t val;
    int ret;
    uint64_t addr; /* BAR0's decoded address afterwards */
};

struct map_row {
    const char *name;
    bool no_bar; /* BAR0 left unregistered */
    struct map_step steps[6];
};

/* clang-format off */
#define POKE(o, l, v, r, a)  {MAP_POKE, o, l, v, r, a}
#define GUEST(o, l, v, n, a) {MAP_GUEST, o, l, v, n, a}
static const struct map_row map_rows[] = {
    {"nothing registered changes nothing", true,
     {POKE(0x10, 4, 0xfebf0000, false, UNMAPPED),
      POKE(0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, false, UNMAPPED)}},
    {"first enable maps", false,
     {POKE(0x10, 4, 0xfebf0000, false, UNMAPPED),
      POKE(0x04, 2, PCI_COMMAND_MEMORY, true, 0xfebf0000)}},
    {"second call reports no change", false,
     {POKE(0x10, 4, 0xfebf0000, false, UNMAPPED),
      POKE(0x04, 2, PCI_COMMAND_MEMORY, true, 0xfebf0000),
      POKE(0x04, 2, PCI_COMMAND_MEMORY, false, 0xfebf0000)}},
    {"move", false,
     {POKE(0x04, 2, PCI_COMMAND_MEMORY, false, UNMAPPED),
      POKE(0x10, 4, 0xfebf0000, true, 0xfebf0000),
      POKE(0x10, 4, 0xfebe0000, true, 0xfebe0000)}},
    {"bits below the size are no change", false,
     {POKE(0x04, 2, PCI_COMMAND_MEMORY, false, UNMAPPED),
      POKE(0x10, 4, 0xfebf0000, true, 0xfebf0000),
      POKE(0x10, 4, 0xfebf0ff0, false, 0xfebf0000)}},
    {"disable unmaps", false,
     {POKE(0x04, 2, PCI_COMMAND_MEMORY, false, UNMAPPED),
      POKE(0x10, 4, 0xfebf0000, true, 0xfebf0000),
      POKE(0x04, 2, 0, true, UNMAPPED)}},
    {"guest: BAR write while disabled is silent", false,
     {GUEST(0x10, 4, 0xfebf0000, 0, UNMAPPED)}},
    {"guest: enabling notifies once", false,
     {GUEST(0x10, 4, 0xfebf0000, 0, UNMAPPED),
      GUEST(0x04, 2, PCI_COMMAND_MEMORY, 1, 0xfebf0000),
      GUEST(0x04, 2, PCI_COMMAND_MEMORY, 1, 0xfebf0000)}},
    {"guest: same address again is silent", false,
     {GUEST(0x04, 2, PCI_COMMAND_MEMORY, 0, UNMAPPED),
      GUEST(0x10, 4, 0xfebf0000, 1, 0xfebf0000),
      GUEST(0x10, 4, 0xfebf0000, 1, 0xfebf0000)}},
    {"guest: sizing unmaps, restore remaps", false,
     {GUEST(0x04, 2, PCI_COMMAND_MEMORY, 0, UNMAPPED),
      GUEST(0x10, 4, 0xfebf0000, 1, 0xfebf0000),
      GUEST(0x10, 4, 0xffffffff, 2, UNMAPPED),
      GUEST(0x10, 4, 0xfebf0000, 3, 0xfebf0000)}},
    {"guest: Command byte write remaps", false,
     {GUEST(0x10, 4, 0xfebf0000, 0, UNMAPPED),
      GUEST(0x04, 1, PCI_COMMAND_MEMORY, 1, 0xfebf0000)}},
    {"guest: Command via dword at 0x04", false,
     {GUEST(0x10, 4, 0xfebf0000, 0, UNMAPPED),
      GUEST(0x04, 4, PCI_COMMAND_MEMORY, 1, 0xfebf0000)}},
    {"guest: device-specific write is silent", false,
     {GUEST(0x10, 4, 0xfebf0000, 0, UNMAPPED),
      GUEST(0x04, 2, PCI_COMMAND_MEMORY, 1, 0xfebf0000),
      GUEST(0x40, 4, 0xffffffff, 1, 0xfebf0000)}},
};
#undef POKE
#undef GUEST
/* clang-format on */

static int map_changes;

static void count_map_changed(void *opaque)
{
    (void)opaque;
    map_changes++;
}

static const struct pci_bus_ops count_ops = {.map_changed = count_map_changed};

static void test_mappings(void **state)
{
    struct unit_fix *f = *state;
    const struct map_row *r = f->row;
    struct pci_device *d = dev_new(f, NORMAL);
    struct pci_bus *bus;

    assert_int_equal(pci_bus_new("pci.0", false, true, &bus), 0);
    unit_defer(f, bus_free, bus);
    bus->ops = &count_ops;
    assert_int_equal(pci_bus_attach(bus, d, PCI_DEVFN_OF(3, 0)), 0);
    if (!r->no_bar)
        assert_int_equal(pci_bar_register(d, 0, 0x1000, MEM32, NULL, NULL), 0);
    map_changes = 0;

    for (const struct map_step *s = r->steps; s->op != MAP_END; s++) {
        if (s->op == MAP_POKE) {
            le_set(d->config + s->off, s->val, s->len);
            assert_int_equal(pci_dev_update_mappings(d), s->ret);
        } else {
            pci_dev_config_write(d, s->off, s->val, s->len);
            assert_int_equal(map_changes, s->ret);
        }
        assert_true(d->bars[0].addr == s->addr);
    }
}

int main(void)
{
    struct unit_suite s = {0};

    UNIT_ROWS_FIX(&s, size_rows, test_sizing);
    UNIT_ROWS_FIX(&s, regmask_rows, test_regmask);
    UNIT_ROWS_FIX(&s, offset_rows, test_offset);
    UNIT_ROWS_FIX(&s, refuse_rows, test_refuse);
    UNIT_ROWS_FIX(&s, addr_rows, test_address);
    UNIT_ROWS_FIX(&s, unreg_rows, test_unregistered);
    UNIT_ROWS_FIX(&s, map_rows, test_mappings);
    return unit_run(&s, "pci-bar");
}
