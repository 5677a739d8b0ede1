/* SPDX-License-Identifier: MIT */
/*
 * test-description.c — the machine description (daemon/state/description.c, docs/state.md):
 * what a machine's description holds (user-created devices only, properties as given, the
 * values the model chose pinned apart, bus and address of each), that it parses back to the
 * same devices, and every document the parser refuses, with the element it names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/commands.h"
#include "daemon/state/description.h"
#include "tests/unit/unit.h"

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

static struct rig *rig_new(struct unit_fix *f, const char *const *devs)
{
    struct rig *r = calloc(1, sizeof(*r));
    struct error err = {0};

    assert_non_null(r);
    assert_int_equal(machine_new("pc", &r->m, &err), 0);
    assert_int_equal(api_new(r->m, NULL, &r->api), 0);
    unit_defer(f, rig_free, r);
    assert_int_equal(
        api_blockdev_add_spec(r->api, "driver=null-co,node-name=null0,size=4096", &err), 0);
    for (; *devs; devs++) {
        machine_lock(r->m);
        if (api_device_add_spec(r->api, *devs, false, &err) < 0)
            fail_msg("%s: %s", *devs, err.desc);
        machine_unlock(r->m);
    }
    return r;
}

static void decref(void *p)
{
    json_decref(p);
}

static void desc_free(void *p)
{
    description_free(p);
}

static const char *pv(const struct machine_prop *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (streq(v[i].name, name))
            return v[i].value;
    return NULL;
}

static void test_build_and_parse(void **state)
{
    static const char *const devs[] = {
        "virtio-net-pci,id=n0,mac=02:00:00:00:00:01,addr=0x3",
        "e1000,id=e0",
        "virtio-blk-pci,drive=null0,bus=pci.0",
        "e1000,id=f1,addr=6.1",
        "e1000,id=f0,addr=6.0,multifunction=on",
        NULL,
    };
    struct unit_fix *f = *state;
    struct rig *r = rig_new(f, devs);
    json_t *doc = unit_defer(f, decref, description_build(r->m)), *d;
    struct description *p = NULL;
    struct error err = {0};
    char *text;

    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "pcid-machine");
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "devices")), 5); /* no built-ins */

    /* The user's address text is kept as given; the placement is the entry's. */
    d = json_array_get(json_object_get(doc, "devices"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "addr")), "03.0");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "properties"), "addr")), "0x3");
    assert_int_equal(json_object_size(json_object_get(d, "pinned")), 0); /* MAC given */
    /* e1000 without a MAC: the one it chose is pinned, not reported as given. */
    d = json_array_get(json_object_get(doc, "devices"), 1);
    assert_string_equal(json_string_value(json_object_get(d, "addr")), "02.0");
    assert_null(json_object_get(json_object_get(d, "properties"), "mac"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "pinned"), "mac")),
                        "52:54:00:12:34:56");
    d = json_array_get(json_object_get(doc, "devices"), 2);
    assert_null(json_object_get(d, "id"));

    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    assert_non_null(text);
    assert_int_equal(description_parse(text, strlen(text), &p, &err), 0);
    free(text);
    unit_defer(f, desc_free, p);
    assert_string_equal(p->type->name, "pcid-pc-1.1");
    assert_int_equal(p->n, 5);
    assert_string_equal(p->devs[0].drv->name, "virtio-net-pci");
    assert_string_equal(p->devs[0].id, "n0");
    assert_int_equal(p->devs[0].devfn, 0x18);
    assert_string_equal(pv(p->devs[0].props, p->devs[0].n_props, "mac"), "02:00:00:00:00:01");
    assert_string_equal(pv(p->devs[1].pins, p->devs[1].n_pins, "mac"), "52:54:00:12:34:56");
    assert_null(p->devs[2].id);
    assert_string_equal(pv(p->devs[2].props, p->devs[2].n_props, "bus"), "pci.0");
    assert_int_equal(p->devs[3].devfn, PCI_DEVFN_OF(6, 1));
    assert_int_equal(p->devs[4].devfn, PCI_DEVFN_OF(6, 0));
    assert_string_equal(pv(p->devs[4].props, p->devs[4].n_props, "multifunction"), "on");
}

static void test_backends(void **state)
{
    static const char *const none[] = {NULL};
    struct unit_fix *f = *state;
    struct rig *r = rig_new(f, none);
    json_t *doc = unit_defer(f, decref, description_build_backends(r->m)), *list = NULL, *b;
    struct error err = {0};
    char *text = json_dumps(doc, 0);

    assert_non_null(text);
    assert_int_equal(description_parse_backends(text, strlen(text), &list, &err), 0);
    free(text);
    unit_defer(f, decref, list);
    assert_int_equal(json_array_size(list), 1);
    b = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(b, "node-name")), "null0");
    assert_string_equal(json_string_value(json_object_get(b, "driver")), "null-co");
    assert_int_equal(json_integer_value(json_object_get(b, "size")), 4096);
}

/* ---- refusals ----------------------------------------------------------------------------- */

struct bad_row {
    const char *name;
    const char *doc;
    const char *want;
};

#define HEAD "{\"format\": \"pcid-machine\", \"version\": 1, "
#define PC   "\"machine\": {\"type\": \"pc\", \"version\": \"1.1\"}, "
#define DEV(x)                                                                                     \
    HEAD PC "\"devices\": [{\"driver\": \"e1000\", \"id\": \"x\", \"bus\": \"pci.0\", "            \
            "\"addr\": \"03.0\"" x "}]}"

/* clang-format off */
static const struct bad_row bad_rows[] = {
    {"not JSON", "{\"format\": ", "not a valid machine description: JSON error at line 1"},
    {"not an object", "[]", "the document is not a JSON object"},
    {"empty file", "", "not a valid machine description: JSON error"},
    {"duplicate member", HEAD PC "\"devices\": [], \"devices\": []}", "duplicate object key"},
    {"another format", "{\"format\": \"x\", \"version\": 1}",
     "\"format\" is \"x\", expected \"pcid-machine\""},
    {"no format", "{\"version\": 1}", "\"format\" is missing, expected \"pcid-machine\""},
    {"newer version", "{\"format\": \"pcid-machine\", \"version\": 2}",
     "format version 2 is newer than this pcid supports (1)"},
    {"version 0", "{\"format\": \"pcid-machine\", \"version\": 0}",
     "\"version\" must be an integer >= 1"},
    {"version as text", "{\"format\": \"pcid-machine\", \"version\": \"1\"}",
     "\"version\" must be an integer >= 1"},
    {"unexpected member", HEAD PC "\"devices\": [], \"extra\": 1}",
     "the document: unexpected member \"extra\""},
    {"machine missing", HEAD "\"devices\": []}", "\"machine\" must be an object"},
    {"unknown machine type", HEAD "\"machine\": {\"type\": \"q99\", \"version\": \"1.0\"}, "
     "\"devices\": []}", "unknown machine type 'q99'"},
    {"unknown machine version", HEAD "\"machine\": {\"type\": \"pc\", \"version\": \"9.9\"}, "
     "\"devices\": []}", "machine type 'pc' version '9.9' is not supported (this pcid has "
     "version '1.1', '1.0')"},
    {"devices not an array", HEAD PC "\"devices\": {}}", "\"devices\" must be an array"},
    {"device not an object", HEAD PC "\"devices\": [1]}", "devices[0] is not an object"},
    {"unknown driver", HEAD PC "\"devices\": [{\"driver\": \"nosuch\", \"id\": \"x\", "
     "\"bus\": \"pci.0\", \"addr\": \"03.0\"}]}", "devices[0] ('x'): unknown driver 'nosuch'"},
    {"driver missing", HEAD PC "\"devices\": [{\"bus\": \"pci.0\", \"addr\": \"03.0\"}]}",
     "devices[0].driver must be a string"},
    {"bad address", HEAD PC "\"devices\": [{\"driver\": \"e1000\", \"bus\": \"pci.0\", "
     "\"addr\": \"zz\"}]}", "devices[0].addr must be an address such as \"03.0\""},
    {"bad id", HEAD PC "\"devices\": [{\"driver\": \"e1000\", \"id\": \"1x\", "
     "\"bus\": \"pci.0\", \"addr\": \"03.0\"}]}", "devices[0].id must be an identifier"},
    {"bus missing", HEAD PC "\"devices\": [{\"driver\": \"e1000\", \"addr\": \"03.0\"}]}",
     "devices[0].bus must be a string"},
    {"property not text", DEV(", \"properties\": {\"mitigation\": false}"),
     "devices[0].properties.mitigation must be a string"},
    {"driver as a property", DEV(", \"properties\": {\"driver\": \"e1000\"}"),
     "devices[0].properties.driver belongs in the device entry"},
    {"pinned address", DEV(", \"pinned\": {\"addr\": \"04.0\"}"),
     "devices[0].pinned.addr belongs in the device entry"},
    {"given address elsewhere", DEV(", \"properties\": {\"addr\": \"4\"}"),
     "devices[0].properties.addr '4' is not devices[0].addr '03.0'"},
    {"given bus elsewhere", DEV(", \"properties\": {\"bus\": \"pci.1\"}"),
     "devices[0].properties.bus 'pci.1' is not devices[0].bus 'pci.0'"},
    {"unexpected device member", DEV(", \"hotplugged\": true"),
     "devices[0]: unexpected member \"hotplugged\""},
};
/* clang-format on */

static void test_bad(void **state)
{
    const struct bad_row *row = *state;
    struct description *d = NULL;
    struct error err = {0};
    int r = description_parse(row->doc, strlen(row->doc), &d, &err);

    assert_int_equal(r, -EINVAL);
    assert_null(d);
    if (!strstr(err.desc, row->want))
        fail_msg("got \"%s\", want \"%s\"", err.desc, row->want);
}

/* A description keeps the machine type version it was written with: the alias it names
 * resolves to the newest version, its version field picks the type. */
struct version_row {
    const char *name;
    const char *type, *version, *want;
};

static const struct version_row version_rows[] = {
    {"pc newest", "pc", "1.1", "pcid-pc-1.1"},
    {"pc alias, old version", "pc", "1.0", "pcid-pc-1.0"},
    {"full name", "pcid-pc-1.0", "1.0", "pcid-pc-1.0"},
    {"full name, other version", "pcid-pc-1.1", "1.0", "pcid-pc-1.0"},
    {"q35 alias, old version", "q35", "1.0", "pcid-q35-1.0"},
    {"q35 newest", "pcid-q35-1.1", "1.1", "pcid-q35-1.1"},
};

static void test_versions(void **state)
{
    const struct version_row *row = *state;
    struct description *d = NULL;
    struct error err = {0};
    char doc[256];

    snprintf(doc, sizeof(doc),
             HEAD "\"machine\": {\"type\": \"%s\", \"version\": \"%s\"}, \"devices\": []}",
             row->type, row->version);
    assert_int_equal(description_parse(doc, strlen(doc), &d, &err), 0);
    assert_string_equal(d->type->name, row->want);
    assert_string_equal(d->type->version, row->version);
    description_free(d);
}

#define BHEAD "{\"format\": \"pcid-backends\", \"version\": 1, \"backends\": "

/* clang-format off */
static const struct bad_row bad_backend_rows[] = {
    {"machine description instead", HEAD PC "\"devices\": []}",
     "not a valid backend description: \"format\" is \"pcid-machine\", expected "
     "\"pcid-backends\""},
    {"newer version", "{\"format\": \"pcid-backends\", \"version\": 3, \"backends\": []}",
     "format version 3 is newer than this pcid supports (1)"},
    {"not an array", BHEAD "{}}", "\"backends\" must be an array"},
    {"node-name missing", BHEAD "[{\"driver\": \"null-co\"}]}",
     "backends[0]: node-name and driver must be strings"},
    {"size as text", BHEAD "[{\"node-name\": \"a\", \"driver\": \"null-co\", \"size\": \"1G\"}]}",
     "backends[0].size must be an integer"},
    {"read-zeroes as text", BHEAD "[{\"node-name\": \"a\", \"driver\": \"null-co\", "
     "\"read-zeroes\": \"on\"}]}", "backends[0].read-zeroes must be a boolean"},
    {"unexpected member", BHEAD "[{\"node-name\": \"a\", \"driver\": \"null-co\", \"x\": 1}]}",
     "backends[0]: unexpected member \"x\""},
};
/* clang-format on */

static void test_bad_backends(void **state)
{
    const struct bad_row *row = *state;
    struct error err = {0};
    json_t *list = NULL;

    assert_int_equal(description_parse_backends(row->doc, strlen(row->doc), &list, &err), -EINVAL);
    assert_null(list);
    if (!strstr(err.desc, row->want))
        fail_msg("got \"%s\", want \"%s\"", err.desc, row->want);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"all"}};

    UNIT_ROWS_FIX(&s, one, test_build_and_parse);
    UNIT_ROWS_FIX(&s, one, test_backends);
    UNIT_ROWS(&s, bad_rows, test_bad);
    UNIT_ROWS(&s, version_rows, test_versions);
    UNIT_ROWS(&s, bad_backend_rows, test_bad_backends);
    return unit_run(&s, "description");
}
