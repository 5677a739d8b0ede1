/* SPDX-License-Identifier: MIT */
/*
 * test-config.c — the configuration file (daemon/config.c): every key read into the right
 * place, device and blockdev objects turned into the command line's syntax (escaping commas),
 * every refusal naming the file and the key with nothing kept, the command line's precedence,
 * the state settings (state-dir, no-state) and how the command line replaces them,
 * the runtime settings applied (log level, limits back to default when absent), and the list
 * of start-up settings a reload reports as changed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "tests/unit/unit.h"

#define MAX_SPECS 4

/* Write `text` to a new temporary file; returns its malloc'd path. */
static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/pcid-test-config-XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void unlink_free(void *p)
{
    unlink(p);
    free(p);
}

static void config_free_p(void *p)
{
    config_free(p);
    free(p);
}

/* Load `text` as a file; the config and the file are freed after the case. */
static struct config *load(struct unit_fix *f, const char *text, int *r, char *why, size_t len)
{
    char *path = unit_defer(f, unlink_free, write_temp(text));
    struct config *cfg = calloc(1, sizeof(*cfg));

    assert_non_null(cfg);
    unit_defer(f, config_free_p, cfg);
    *r = config_load(path, cfg, why, len);
    return cfg;
}

struct ok_row {
    const char *name;
    const char *json;
    const char *machine, *guest, *firmware_log;
    long vcpus, eject_delay_ms;
    const char *qmp0, *rest1, *access0;
    const char *blockdevs[MAX_SPECS];
    const char *devices[MAX_SPECS];
    const char *globals[MAX_SPECS];
    int log_level;
    enum limit_id limit;
    uint64_t limit_value; /* 0: `limit` not set */
    const char *state_dir;
    const char *no_state; /* "true", "false", or NULL: not in the file */
};

/* clang-format off */
static const struct ok_row ok_rows[] = {
    {"empty object", "{}", .vcpus = -1, .eject_delay_ms = -1, .log_level = -1},
    {"scalars", "{\"machine\": \"pc\", \"guest\": \"none\", \"vcpus\": 4, \"eject-delay-ms\": 0,"
     " \"firmware-log\": \"/tmp/fw.log\"}",
     "pc", "none", "/tmp/fw.log", 4, 0, .log_level = -1},
    {"range ends", "{\"vcpus\": 64, \"eject-delay-ms\": 60000}", .vcpus = 64,
     .eject_delay_ms = 60000, .log_level = -1},
    {"sockets", "{\"sockets\": {\"qmp\": [\"unix:/run/q.sock\"], \"rest\": [\"unix:/run/r.sock\","
     " \"tcp:127.0.0.1:9000\"], \"access\": [\"unix:/run/a.sock\"]}}",
     .vcpus = -1, .eject_delay_ms = -1, .qmp0 = "unix:/run/q.sock", .rest1 = "tcp:127.0.0.1:9000",
     .access0 = "unix:/run/a.sock", .log_level = -1},
    {"device strings kept as they are", "{\"devices\": [\"e1000,id=n1,addr=5\", \"virtio-net-pci\"]}",
     .vcpus = -1, .eject_delay_ms = -1, .devices = {"e1000,id=n1,addr=5", "virtio-net-pci"},
     .log_level = -1},
    {"device object: driver first, values as text",
     "{\"devices\": [{\"id\": \"n1\", \"driver\": \"e1000\", \"addr\": 5, \"multifunction\": true,"
     " \"rombar\": false}]}",
     .vcpus = -1, .eject_delay_ms = -1,
     .devices = {"driver=e1000,id=n1,addr=5,multifunction=on,rombar=off"}, .log_level = -1},
    {"globals", "{\"globals\": [\"ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off\"]}",
     .vcpus = -1, .eject_delay_ms = -1,
     .globals = {"ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"}, .log_level = -1},
    {"commas in values are doubled", "{\"devices\": [{\"driver\": \"e1000\", \"id\": \"a,b\"}]}",
     .vcpus = -1, .eject_delay_ms = -1, .devices = {"driver=e1000,id=a,,b"}, .log_level = -1},
    {"blockdev object and string",
     "{\"blockdevs\": [{\"driver\": \"null-co\", \"node-name\": \"d0\", \"size\": 1024},"
     " \"driver=null-co,node-name=d1\"]}",
     .vcpus = -1, .eject_delay_ms = -1,
     .blockdevs = {"driver=null-co,node-name=d0,size=1024", "driver=null-co,node-name=d1"},
     .log_level = -1},
    {"log level", "{\"log-level\": \"debug\"}", .vcpus = -1, .eject_delay_ms = -1,
     .log_level = LOG_DEBUG},
    {"log level error alias", "{\"log-level\": \"error\"}", .vcpus = -1, .eject_delay_ms = -1,
     .log_level = LOG_ERR},
    {"limit", "{\"limits\": {\"qmp-clients\": 3}}", .vcpus = -1, .eject_delay_ms = -1,
     .log_level = -1, .limit = LIMIT_QMP_CLIENTS, .limit_value = 3},
    {"limit at its maximum", "{\"limits\": {\"rest-body-bytes\": 67108864}}", .vcpus = -1,
     .eject_delay_ms = -1, .log_level = -1, .limit = LIMIT_REST_BODY_BYTES,
     .limit_value = 67108864},
    {"qmp value seconds", "{\"limits\": {\"qmp-value-seconds\": 1}}", .vcpus = -1,
     .eject_delay_ms = -1, .log_level = -1, .limit = LIMIT_QMP_VALUE_SECONDS, .limit_value = 1},
    {"rest request seconds", "{\"limits\": {\"rest-request-seconds\": 5}}", .vcpus = -1,
     .eject_delay_ms = -1, .log_level = -1, .limit = LIMIT_REST_REQUEST_SECONDS,
     .limit_value = 5},
    {"rest idle seconds", "{\"limits\": {\"rest-idle-seconds\": 120}}", .vcpus = -1,
     .eject_delay_ms = -1, .log_level = -1, .limit = LIMIT_REST_IDLE_SECONDS, .limit_value = 120},
    {"devices", "{\"limits\": {\"devices\": 16}}", .vcpus = -1, .eject_delay_ms = -1,
     .log_level = -1, .limit = LIMIT_DEVICES, .limit_value = 16},
    {"buses", "{\"limits\": {\"buses\": 2}}", .vcpus = -1, .eject_delay_ms = -1,
     .log_level = -1, .limit = LIMIT_BUSES, .limit_value = 2},
    {"rest clients", "{\"limits\": {\"rest-clients\": 2}}", .vcpus = -1, .eject_delay_ms = -1,
     .log_level = -1, .limit = LIMIT_REST_CLIENTS, .limit_value = 2},
    {"state directory", "{\"state-dir\": \"/srv/pcid\"}", .vcpus = -1, .eject_delay_ms = -1,
     .log_level = -1, .state_dir = "/srv/pcid"},
    {"no state", "{\"no-state\": true}", .vcpus = -1, .eject_delay_ms = -1, .log_level = -1,
     .no_state = "true"},
    {"no-state false with a directory", "{\"no-state\": false, \"state-dir\": \"/srv/p\"}",
     .vcpus = -1, .eject_delay_ms = -1, .log_level = -1, .state_dir = "/srv/p",
     .no_state = "false"},
};
/* clang-format on */

static void check_specs(const struct strv *got, const char *const *want)
{
    size_t n = 0;

    while (n < MAX_SPECS && want[n]) {
        assert_true(n < got->n);
        assert_string_equal(got->v[n], want[n]);
        n++;
    }
    assert_int_equal(got->n, n);
}

static void check_str(const char *got, const char *want)
{
    if (want)
        assert_string_equal(got, want);
    else
        assert_null(got);
}

static void test_ok(void **state)
{
    struct unit_fix *f = *state;
    const struct ok_row *row = f->row;
    char why[CONFIG_WHY_MAX] = "";
    int r;
    struct config *cfg = load(f, row->json, &r, why, sizeof(why));

    if (r != 0)
        fail_msg("%s", why);
    assert_non_null(cfg->path);
    check_str(cfg->machine, row->machine);
    check_str(cfg->guest, row->guest);
    check_str(cfg->firmware_log, row->firmware_log);
    assert_int_equal(cfg->vcpus, row->vcpus);
    assert_int_equal(cfg->eject_delay_ms, row->eject_delay_ms);
    check_str(cfg->qmp.n ? cfg->qmp.v[0] : NULL, row->qmp0);
    check_str(cfg->rest.n > 1 ? cfg->rest.v[1] : NULL, row->rest1);
    check_str(cfg->access.n ? cfg->access.v[0] : NULL, row->access0);
    check_specs(&cfg->blockdevs, row->blockdevs);
    check_specs(&cfg->devices, row->devices);
    check_specs(&cfg->globals, row->globals);
    check_str(cfg->state_dir, row->state_dir);
    assert_int_equal(cfg->no_state, !row->no_state ? -1 : streq(row->no_state, "true"));
    assert_int_equal(cfg->rt.log_level, row->log_level);
    for (int i = 0; i < LIMIT_COUNT; i++) {
        bool set = row->limit_value && (int)row->limit == i;
        assert_int_equal(cfg->rt.has_limit[i], set);
        if (set)
            assert_int_equal(cfg->rt.limit[i], row->limit_value);
    }
}

struct bad_row {
    const char *name;
    const char *json;
    const char *why; /* expected after "FILE: " */
};

/* clang-format off */
static const struct bad_row bad_rows[] = {
    {"not JSON", "{", "line 1 column 1: string or '}' expected near end of file"},
    {"trailing garbage", "{} x", "line 1 column 4: end of file expected near 'x'"},
    {"duplicate key", "{\"vcpus\": 1, \"vcpus\": 2}", "duplicate object key"},
    {"not an object", "[]", "must hold a JSON object"},
    {"unknown key", "{\"machnie\": \"pc\"}", "unknown key 'machnie' (known: machine,"},
    {"unknown socket kind", "{\"sockets\": {\"hmp\": []}}",
     "unknown key 'sockets.hmp' (known: qmp, rest, access)"},
    {"unknown limit", "{\"limits\": {\"qmp-client\": 1}}",
     "unknown key 'limits.qmp-client' (known: qmp-clients, qmp-value-bytes, qmp-output-bytes, "
     "qmp-value-seconds, rest-body-bytes, rest-clients, rest-request-seconds, rest-idle-seconds, "
     "devices, buses)"},
    {"machine not a string", "{\"machine\": 1}", "'machine' must be a non-empty string"},
    {"machine empty", "{\"machine\": \"\"}", "'machine' must be a non-empty string"},
    {"guest unknown", "{\"guest\": \"windows\"}",
     "'guest' must be \"cooperative\" or \"none\", not 'windows'"},
    {"vcpus zero", "{\"vcpus\": 0}", "'vcpus' must be an integer from 1 to 64"},
    {"vcpus too many", "{\"vcpus\": 65}", "'vcpus' must be an integer from 1 to 64"},
    {"vcpus as text", "{\"vcpus\": \"2\"}", "'vcpus' must be an integer from 1 to 64"},
    {"vcpus real", "{\"vcpus\": 2.0}", "'vcpus' must be an integer from 1 to 64"},
    {"eject delay negative", "{\"eject-delay-ms\": -1}",
     "'eject-delay-ms' must be an integer from 0 to 60000"},
    {"eject delay too long", "{\"eject-delay-ms\": 60001}",
     "'eject-delay-ms' must be an integer from 0 to 60000"},
    {"sockets not an object", "{\"sockets\": []}", "'sockets' must be an object"},
    {"socket list not a list", "{\"sockets\": {\"qmp\": \"unix:/q\"}}",
     "'sockets.qmp' must be a list of at most 16 socket names"},
    {"qmp on tcp", "{\"sockets\": {\"qmp\": [\"tcp:127.0.0.1:1\"]}}",
     "'sockets.qmp[0]' must be unix:PATH, not 'tcp:127.0.0.1:1'"},
    {"rest without a kind", "{\"sockets\": {\"rest\": [\"unix:/r\", \"/tmp/r\"]}}",
     "'sockets.rest[1]' must be tcp:HOST:PORT or unix:PATH, not '/tmp/r'"},
    {"unix without a path", "{\"sockets\": {\"access\": [\"unix:\"]}}",
     "'sockets.access[0]' must be unix:PATH, not 'unix:'"},
    {"socket not a string", "{\"sockets\": {\"rest\": [8086]}}",
     "'sockets.rest[0]' must be a non-empty string"},
    {"limits not an object", "{\"limits\": 1}", "'limits' must be an object"},
    {"limit below range", "{\"limits\": {\"qmp-clients\": 0}}",
     "'limits.qmp-clients' must be an integer from 1 to 1024"},
    {"qmp value seconds above range", "{\"limits\": {\"qmp-value-seconds\": 3601}}",
     "'limits.qmp-value-seconds' must be an integer from 1 to 3600"},
    {"rest request seconds below range", "{\"limits\": {\"rest-request-seconds\": 0}}",
     "'limits.rest-request-seconds' must be an integer from 1 to 3600"},
    {"rest idle seconds above range", "{\"limits\": {\"rest-idle-seconds\": 3601}}",
     "'limits.rest-idle-seconds' must be an integer from 1 to 3600"},
    {"devices above range", "{\"limits\": {\"devices\": 8193}}",
     "'limits.devices' must be an integer from 1 to 8192"},
    {"buses above range", "{\"limits\": {\"buses\": 257}}",
     "'limits.buses' must be an integer from 1 to 256"},
    {"buses below range", "{\"limits\": {\"buses\": 0}}",
     "'limits.buses' must be an integer from 1 to 256"},
    {"rest clients above range", "{\"limits\": {\"rest-clients\": 1025}}",
     "'limits.rest-clients' must be an integer from 1 to 1024"},
    {"limit above range", "{\"limits\": {\"qmp-value-bytes\": 67108865}}",
     "'limits.qmp-value-bytes' must be an integer from 4096 to 67108864"},
    {"limit not an integer", "{\"limits\": {\"rest-body-bytes\": \"1M\"}}",
     "'limits.rest-body-bytes' must be an integer from 4096 to 67108864"},
    {"log level unknown", "{\"log-level\": \"verbose\"}",
     "'log-level' must be err, warning, notice, info or debug, not 'verbose'"},
    {"globals not a list", "{\"globals\": \"PIIX4_PM.x=on\"}",
     "'globals' must be a list of at most 64 entries"},
    {"global not a string", "{\"globals\": [1]}", "'globals[0]' must be a non-empty string"},
    {"devices not a list", "{\"devices\": {}}", "'devices' must be a list of at most 8192 entries"},
    {"device a number", "{\"devices\": [\"e1000\", 5]}",
     "'devices[1]' must be a string (\"driver,key=value\") or an object"},
    {"device empty string", "{\"devices\": [\"\"]}", "'devices[0]' must be a non-empty string"},
    {"device without a driver", "{\"devices\": [{\"id\": \"n1\"}]}",
     "'devices[0].driver' must be a non-empty string"},
    {"device property a list", "{\"devices\": [{\"driver\": \"e1000\", \"addr\": [5]}]}",
     "'devices[0].addr' must be a string, an integer or a boolean"},
    {"device property null", "{\"devices\": [{\"driver\": \"e1000\", \"id\": null}]}",
     "'devices[0].id' must be a string, an integer or a boolean"},
    {"device property name with a comma", "{\"devices\": [{\"driver\": \"e1000\", \"a,b\": 1}]}",
     "'devices[0]': property name 'a,b' is not valid"},
    {"device property name with =", "{\"devices\": [{\"driver\": \"e1000\", \"a=b\": 1}]}",
     "'devices[0]': property name 'a=b' is not valid"},
    {"blockdev without a driver", "{\"blockdevs\": [{\"node-name\": \"x\"}]}",
     "'blockdevs[0].driver' must be a non-empty string"},
    {"token file missing", "{\"token-file\": \"/nonexistent/pcid-token\"}",
     "'token-file' /nonexistent/pcid-token: No such file or directory"},
    {"token file a directory", "{\"token-file\": \"/tmp\"}", "'token-file' /tmp: Is a directory"},
    {"state-dir empty", "{\"state-dir\": \"\"}", "'state-dir' must be a non-empty string"},
    {"state-dir not a string", "{\"state-dir\": true}", "'state-dir' must be a non-empty string"},
    {"no-state not a boolean", "{\"no-state\": 1}", "'no-state' must be true or false"},
    {"state-dir and no-state", "{\"state-dir\": \"/srv/p\", \"no-state\": true}",
     "'state-dir' and 'no-state': true exclude each other"},
};
/* clang-format on */

static void test_bad(void **state)
{
    struct unit_fix *f = *state;
    const struct bad_row *row = f->row;
    char why[CONFIG_WHY_MAX] = "", want[CONFIG_WHY_MAX];
    int r;
    struct config *cfg = load(f, row->json, &r, why, sizeof(why));

    assert_int_equal(r, -EINVAL);
    /* The message names the file, then the problem. */
    assert_non_null(strstr(why, "/tmp/pcid-test-config-"));
    snprintf(want, sizeof(want), ": %s", row->why);
    if (!strstr(why, want))
        fail_msg("got \"%s\", want \"...%s\"", why, want);
    /* Nothing is kept from a refused file. */
    assert_null(cfg->path);
    assert_null(cfg->root);
    assert_null(cfg->machine);
    assert_int_equal(cfg->devices.n + cfg->blockdevs.n + cfg->qmp.n + cfg->rest.n, 0);
    assert_int_equal(cfg->rt.log_level, -1);
    assert_null(cfg->rt.token);
    assert_null(cfg->state_dir);
    assert_int_equal(cfg->no_state, -1);
}

/* Files that cannot be read at all. */
static void test_missing(void **state)
{
    struct config cfg;
    char why[CONFIG_WHY_MAX];

    (void)state;
    assert_int_equal(config_load("/nonexistent/pcid.json", &cfg, why, sizeof(why)), -ENOENT);
    assert_string_equal(why, "/nonexistent/pcid.json: No such file or directory");
    assert_int_equal(config_load("/tmp", &cfg, why, sizeof(why)), -EISDIR);
    assert_string_equal(why, "/tmp: Is a directory");
    assert_null(cfg.path);
}

static void rmdir_free(void *p)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/fifo", (char *)p);
    unlink(path);
    rmdir(p);
    free(p);
}

/* A FIFO (or a device) named as the file or the token file is refused at once, never waited
 * on: opening one for reading would block pcid's start or its reload until a writer came. */
static void test_fifo(void **state)
{
    struct unit_fix *f = *state;
    char *dir = unit_defer(f, rmdir_free, strdup("/tmp/pcid-test-fifo-XXXXXX"));
    char fifo[512], json[600], why[CONFIG_WHY_MAX];
    struct config cfg;
    int r;

    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(config_load(fifo, &cfg, why, sizeof(why)), -EINVAL);
    assert_null(cfg.path);
    snprintf(json, sizeof(json), "{\"token-file\": \"%s\"}", fifo);
    load(f, json, &r, why, sizeof(why));
    assert_int_equal(r, -EINVAL);
    assert_non_null(strstr(why, "'token-file'"));
}

static void test_too_big(void **state)
{
    struct unit_fix *f = *state;
    size_t n = CONFIG_MAX_BYTES + 1;
    char *text = unit_defer(f, free, malloc(n + 1)), why[CONFIG_WHY_MAX];
    int r;

    assert_non_null(text);
    memset(text, ' ', n);
    text[0] = '{';
    text[n - 1] = '}';
    text[n] = 0;
    load(f, text, &r, why, sizeof(why));
    assert_int_equal(r, -EFBIG);
    assert_non_null(strstr(why, ": larger than the 1 MiB a configuration file may have"));
    text[n - 2] = '}'; /* exactly the limit is fine */
    text[n - 1] = 0;
    struct config *ok = load(f, text, &r, why, sizeof(why));
    assert_int_equal(r, 0);
    assert_non_null(ok->path);
}

static void test_token(void **state)
{
    struct unit_fix *f = *state;
    char *tok = unit_defer(f, unlink_free, write_temp("s3cret\n")), json[256], why[CONFIG_WHY_MAX];
    char *empty = unit_defer(f, unlink_free, write_temp("\n"));
    int r;

    snprintf(json, sizeof(json), "{\"token-file\": \"%s\"}", tok);
    struct config *cfg = load(f, json, &r, why, sizeof(why));
    assert_int_equal(r, 0);
    assert_string_equal(cfg->rt.token, "s3cret");
    assert_string_equal(cfg->rt.token_file, tok);
    snprintf(json, sizeof(json), "{\"token-file\": \"%s\"}", empty);
    load(f, json, &r, why, sizeof(why));
    assert_int_equal(r, -EINVAL);
    assert_non_null(strstr(why, "empty, or holds a NUL byte"));
}

/* The systemd credential pcid.token: used when the file names no token-file (also with no
 * file at all), the file's token-file wins over it, and an empty credential is an error. */
static void test_credential(void **state)
{
    struct unit_fix *f = *state;
    char dir[] = "/tmp/pcid-test-cred-XXXXXX", cred[64], json[256], why[CONFIG_WHY_MAX];
    char *tok = unit_defer(f, unlink_free, write_temp("from-file\n"));
    struct config none = {0};
    FILE *fp;
    int r;

    assert_non_null(mkdtemp(dir));
    snprintf(cred, sizeof(cred), "%s/pcid.token", dir);
    fp = fopen(cred, "w");
    assert_non_null(fp);
    fputs("from-credential\n", fp);
    fclose(fp);
    setenv("CREDENTIALS_DIRECTORY", dir, 1);

    struct config *cfg = load(f, "{}", &r, why, sizeof(why));
    assert_int_equal(r, 0);
    assert_string_equal(cfg->rt.token, "from-credential");
    assert_string_equal(cfg->rt.token_file, cred);
    snprintf(json, sizeof(json), "{\"token-file\": \"%s\"}", tok);
    cfg = load(f, json, &r, why, sizeof(why));
    assert_int_equal(r, 0);
    assert_string_equal(cfg->rt.token, "from-file");
    /* an absent default file: the credential still counts */
    if (access(CONFIG_DEFAULT_PATH, F_OK) < 0) {
        assert_int_equal(config_load(NULL, &none, why, sizeof(why)), 0);
        assert_string_equal(none.rt.token, "from-credential");
        config_free(&none);
    }
    fp = fopen(cred, "w");
    assert_non_null(fp);
    fclose(fp);
    load(f, "{}", &r, why, sizeof(why));
    assert_int_equal(r, -EINVAL);
    assert_non_null(strstr(why, "credential"));
    assert_non_null(strstr(why, "empty, or holds a NUL byte"));

    unsetenv("CREDENTIALS_DIRECTORY");
    unlink(cred);
    rmdir(dir);
    cfg = load(f, "{}", &r, why, sizeof(why));
    assert_int_equal(r, 0);
    assert_null(cfg->rt.token);
}

/* The command line wins; its lists replace the file's. */
static void test_merge(void **state)
{
    struct unit_fix *f = *state;
    char why[CONFIG_WHY_MAX];
    int r;
    struct config *cfg =
        load(f,
             "{\"machine\": \"pc\", \"guest\": \"none\", \"vcpus\": 3, \"eject-delay-ms\": 7,"
             " \"firmware-log\": \"/tmp/fw\", \"devices\": [\"e1000\"], \"blockdevs\":"
             " [\"driver=null-co,node-name=a\"], \"sockets\": {\"qmp\": [\"unix:/q\"]}}",
             &r, why, sizeof(why));
    struct pcid_options o = {.guest = "cooperative", .vcpus = 2, .eject_delay_ms = 20};

    assert_int_equal(r, 0);
    /* Nothing given on the command line: the file's values. */
    assert_int_equal(config_merge_options(cfg, &o), 0);
    assert_string_equal(o.machine, "pc");
    assert_string_equal(o.guest, "none");
    assert_int_equal(o.vcpus, 3);
    assert_int_equal(o.eject_delay_ms, 7);
    assert_string_equal(o.firmware_log, "/tmp/fw");
    assert_int_equal(o.devices.n, 1);
    assert_int_equal(o.qmp.n, 1);
    options_free(&o);

    /* Everything given: the command line's values, the file's lists dropped. */
    o = (struct pcid_options){.machine = "q35",
                              .guest = "cooperative",
                              .vcpus = 1,
                              .eject_delay_ms = 20,
                              .firmware_log = "/tmp/other",
                              .given = OPT_GIVEN_GUEST | OPT_GIVEN_VCPUS | OPT_GIVEN_EJECT_DELAY};
    assert_int_equal(strv_push(&o.devices, "virtio-net-pci"), 0);
    assert_int_equal(strv_push(&o.qmp, "unix:/mine"), 0);
    assert_int_equal(config_merge_options(cfg, &o), 0);
    assert_string_equal(o.machine, "q35");
    assert_string_equal(o.guest, "cooperative");
    assert_int_equal(o.vcpus, 1);
    assert_int_equal(o.eject_delay_ms, 20);
    assert_string_equal(o.firmware_log, "/tmp/other");
    assert_int_equal(o.devices.n, 1);
    assert_string_equal(o.devices.v[0], "virtio-net-pci");
    assert_int_equal(o.qmp.n, 1);
    assert_string_equal(o.qmp.v[0], "unix:/mine");
    assert_int_equal(o.blockdevs.n, 1); /* not given: the file's */
    options_free(&o);
}

/* The state settings: the file's unless the command line names either. */
struct state_row {
    const char *name;
    const char *json;
    const char *cli_dir; /* --state-dir, or NULL */
    int cli_none;        /* --no-state */
    const char *dir;     /* expected o.state_dir */
    int none;            /* expected o.no_state */
};

/* clang-format off */
static const struct state_row state_rows[] = {
    {"file's directory", "{\"state-dir\": \"/f\"}", NULL, 0, "/f", 0},
    {"file's no-state", "{\"no-state\": true}", NULL, 0, NULL, 1},
    {"nothing anywhere", "{}", NULL, 0, NULL, 0},
    {"--state-dir over the file's no-state", "{\"no-state\": true}", "/c", 0, "/c", 0},
    {"--state-dir over the file's directory", "{\"state-dir\": \"/f\"}", "/c", 0, "/c", 0},
    {"--no-state over the file's directory", "{\"state-dir\": \"/f\"}", NULL, 1, NULL, 1},
};
/* clang-format on */

static void test_state_merge(void **state)
{
    struct unit_fix *f = *state;
    const struct state_row *row = f->row;
    char why[CONFIG_WHY_MAX];
    int r;
    struct config *cfg = load(f, row->json, &r, why, sizeof(why));
    struct pcid_options o = {.state_dir = row->cli_dir, .no_state = row->cli_none};

    assert_int_equal(r, 0);
    assert_int_equal(config_merge_options(cfg, &o), 0);
    check_str(o.state_dir, row->dir);
    assert_int_equal(o.no_state, row->none);
    options_free(&o);
}

static void test_runtime(void **state)
{
    struct unit_fix *f = *state;
    char why[CONFIG_WHY_MAX];
    int r;
    struct config *cfg = load(f, "{\"log-level\": \"warning\", \"limits\": {\"qmp-clients\": 2}}",
                              &r, why, sizeof(why));
    struct config empty;

    assert_int_equal(r, 0);
    limit_set(LIMIT_REST_BODY_BYTES, 8192);
    assert_int_equal(config_apply_runtime(&cfg->rt, NULL), 0);
    assert_int_equal(log_get_level(), LOG_WARNING);
    assert_int_equal(limit_get(LIMIT_QMP_CLIENTS), 2);
    /* A limit the file does not set is back at its default. */
    assert_int_equal(limit_get(LIMIT_REST_BODY_BYTES), limit_def(LIMIT_REST_BODY_BYTES)->def);
    /* The command line's level wins. */
    assert_int_equal(config_apply_runtime(&cfg->rt, "debug"), 0);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    /* No file: defaults. */
    assert_int_equal(config_load("/nonexistent-dir-pcid/x.json", &empty, why, sizeof(why)),
                     -ENOENT);
    assert_int_equal(config_apply_runtime(&empty.rt, NULL), 0);
    assert_int_equal(log_get_level(), LOG_INFO);
    assert_int_equal(limit_get(LIMIT_QMP_CLIENTS), limit_def(LIMIT_QMP_CLIENTS)->def);
}

struct diff_row {
    const char *name;
    const char *a, *b;
    const char *diff;
};

/* clang-format off */
static const struct diff_row diff_rows[] = {
    {"same", "{\"machine\": \"pc\", \"log-level\": \"info\"}",
     "{\"machine\": \"pc\", \"log-level\": \"debug\", \"limits\": {\"qmp-clients\": 1}}", ""},
    {"machine added", "{}", "{\"machine\": \"pc\"}", "machine"},
    {"several", "{\"vcpus\": 1, \"devices\": [\"e1000\"]}",
     "{\"vcpus\": 2, \"devices\": [\"e1000\", \"e1000\"], \"sockets\": {\"rest\": [\"unix:/r\"]}}",
     "vcpus, sockets.rest, devices"},
    {"device order matters", "{\"devices\": [\"a\", \"b\"]}", "{\"devices\": [\"b\", \"a\"]}",
     "devices"},
    {"globals", "{}", "{\"globals\": [\"PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off\"]}",
     "globals"},
    {"state settings", "{\"state-dir\": \"/a\"}", "{\"no-state\": true}",
     "state-dir, no-state"},
};
/* clang-format on */

static void test_diff(void **state)
{
    struct unit_fix *f = *state;
    const struct diff_row *row = f->row;
    char why[CONFIG_WHY_MAX], buf[256];
    int ra, rb;
    struct config *a = load(f, row->a, &ra, why, sizeof(why));
    struct config *b = load(f, row->b, &rb, why, sizeof(why));

    assert_int_equal(ra, 0);
    assert_int_equal(rb, 0);
    assert_string_equal(config_startup_diff(a, b, buf, sizeof(buf)), row->diff);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } missing_rows[] = {{"missing or a directory"}}, big_rows[] = {{"1 MiB and one byte"}},
      token_rows[] = {{"read and checked"}}, cred_rows[] = {{"systemd credential"}},
      merge_rows[] = {{"command line wins"}}, runtime_rows[] = {{"log level and limits"}},
      fifo_rows[] = {{"file and token file"}};

    UNIT_ROWS_FIX(&s, ok_rows, test_ok);
    UNIT_ROWS_FIX(&s, bad_rows, test_bad);
    UNIT_ROWS(&s, missing_rows, test_missing);
    UNIT_ROWS_FIX(&s, big_rows, test_too_big);
    UNIT_ROWS_FIX(&s, fifo_rows, test_fifo);
    UNIT_ROWS_FIX(&s, token_rows, test_token);
    UNIT_ROWS_FIX(&s, cred_rows, test_credential);
    UNIT_ROWS_FIX(&s, merge_rows, test_merge);
    UNIT_ROWS_FIX(&s, state_rows, test_state_merge);
    UNIT_ROWS_FIX(&s, runtime_rows, test_runtime);
    UNIT_ROWS_FIX(&s, diff_rows, test_diff);
    return unit_run(&s, "config");
}
