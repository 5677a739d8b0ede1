/* SPDX-License-Identifier: MIT */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../api/commands.h"
#include "log.h"
#include "vcpu/guest.h"

static const char usage[] =
    "Usage: pcid [OPTIONS]\n"
    "Host emulated PCI/PCIe buses and manage them over QMP and REST.\n\n"
    "  --machine TYPE          machine type (default: pc; see query-machines)\n"
    "  --device SPEC           cold-plug a device, QEMU -device syntax, repeatable\n"
    "                          e.g. virtio-net-pci,id=net0,addr=0x3\n"
    "  --blockdev SPEC         add a block backend: driver=null-co,node-name=NAME\n"
    "  --global DRIVER.PROP=VALUE\n"
    "                          a chipset property, QEMU -global syntax, repeatable; e.g.\n"
    "                          ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off (native\n"
    "                          PCIe/SHPC hot-plug on cold-plugged ports and bridges)\n"
    "  --qmp unix:PATH         serve QMP on a unix socket, repeatable\n"
    "  --rest tcp:HOST:PORT | unix:PATH\n"
    "                          serve REST, repeatable\n"
    "  --guest cooperative | none\n"
    "                          cooperative (default): firmware configures the devices at start\n"
    "                          and after reset, an OS ejects unplugged devices; none: no guest\n"
    "                          runs, as QEMU with -S (removals wait for a reset)\n"
    "  --eject-delay MS        how long the cooperative guest takes to eject (default 20,\n"
    "                          0..60000)\n"
    "  --guest-refuse-unplug SLOT[,SLOT...]\n"
    "                          the cooperative guest refuses to eject these slots of bus 0\n"
    "                          (hex, 0..1f): device_del ends in DEVICE_UNPLUG_GUEST_ERROR\n"
    "  --firmware-log PATH     write the firmware's SeaBIOS-style log to PATH\n"
    "  --vcpus N               vCPU threads serving guest accesses (default 2)\n"
    "  --access unix:PATH      serve guest accesses (QEMU's qtest protocol) on a socket\n"
    "  --state-dir DIR         keep the machine description and snapshots in DIR\n"
    "                          ($STATE_DIRECTORY wins; default /var/lib/pcid as root, else\n"
    "                          $XDG_STATE_HOME/pcid or ~/.local/state/pcid)\n"
    "  --no-state              run without a state directory: nothing is saved\n"
    "  --machine-description FILE\n"
    "                          build the machine from FILE (a machine.json) instead of the\n"
    "                          saved description or --device\n"
    "  --config FILE           read settings from a JSON file (default /etc/pcid/pcid.json,\n"
    "                          skipped when absent); command-line options override it\n"
    "  --log-level LEVEL       err, warning, notice, info (default) or debug\n"
    "  -h, --help              show this help\n"
    "  --version               show the version\n\n"
    "Default sockets: RUNDIR/qmp.sock, RUNDIR/rest.sock and tcp:127.0.0.1:8086, where RUNDIR\n"
    "is $RUNTIME_DIRECTORY, /run/pcid (root), $XDG_RUNTIME_DIR/pcid or /tmp/pcid-UID.\n"
    "Sockets systemd passes (FileDescriptorName=qmp, rest, access) replace the defaults.\n";

int strv_push(struct strv *s, const char *v)
{
    char **n = realloc(s->v, (s->n + 1) * sizeof(*n));

    if (!n)
        return -ENOMEM;
    s->v = n;
    s->v[s->n] = strdup(v);
    if (!s->v[s->n])
        return -ENOMEM;
    s->n++;
    return 0;
}

void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void options_free(struct pcid_options *o)
{
    strv_free(&o->devices);
    strv_free(&o->blockdevs);
    strv_free(&o->globals);
    strv_free(&o->qmp);
    strv_free(&o->rest);
    strv_free(&o->access);
}

/* "3,0x1f,a": a mask of slots (hex, as QEMU's addr) into *mask (added to it). */
static int parse_slots(const char *s, uint32_t *mask)
{
    const char *p = s;

    do {
        char *end;
        unsigned long slot;

        if (!isxdigit((unsigned char)*p))
            return -EINVAL;
        slot = strtoul(p, &end, 16);
        if (end == p || slot > 0x1f || (*end && *end != ','))
            return -EINVAL;
        *mask |= 1u << slot;
        p = *end ? end + 1 : end;
    } while (*p);
    return p[-1] == ',' ? -EINVAL : 0;
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "pcid: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'pcid --help'.\n");
    return -EINVAL;
}

int options_parse(int argc, char **argv, struct pcid_options *o)
{
    enum {
        OPT_MACHINE = 256,
        OPT_DEVICE,
        OPT_BLOCKDEV,
        OPT_QMP,
        OPT_REST,
        OPT_GUEST,
        OPT_VCPUS,
        OPT_VERSION,
        OPT_ACCESS,
        OPT_EJECT_DELAY,
        OPT_FIRMWARE_LOG,
        OPT_REFUSE_UNPLUG,
        OPT_STATE_DIR,
        OPT_NO_STATE,
        OPT_MACHINE_DESCRIPTION,
        OPT_CONFIG,
        OPT_LOG_LEVEL,
        OPT_GLOBAL,
    };
    static const struct option longopts[] = {
        {"machine", required_argument, NULL, OPT_MACHINE},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"blockdev", required_argument, NULL, OPT_BLOCKDEV},
        {"qmp", required_argument, NULL, OPT_QMP},
        {"rest", required_argument, NULL, OPT_REST},
        {"guest", required_argument, NULL, OPT_GUEST},
        {"vcpus", required_argument, NULL, OPT_VCPUS},
        {"access", required_argument, NULL, OPT_ACCESS},
        {"eject-delay", required_argument, NULL, OPT_EJECT_DELAY},
        {"firmware-log", required_argument, NULL, OPT_FIRMWARE_LOG},
        {"guest-refuse-unplug", required_argument, NULL, OPT_REFUSE_UNPLUG},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"no-state", no_argument, NULL, OPT_NO_STATE},
        {"machine-description", required_argument, NULL, OPT_MACHINE_DESCRIPTION},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"global", required_argument, NULL, OPT_GLOBAL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {0},
    };
    int c, r = 0;

    *o = (struct pcid_options){
        .guest = "cooperative", .vcpus = 2, .eject_delay_ms = GUEST_EJECT_DELAY_DEFAULT_MS};
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1 && r == 0) {
        switch (c) {
        case OPT_MACHINE:
            o->machine = optarg;
            break;
        case OPT_DEVICE:
            r = strv_push(&o->devices, optarg);
            break;
        case OPT_BLOCKDEV:
            r = strv_push(&o->blockdevs, optarg);
            break;
        case OPT_GLOBAL:
            r = strv_push(&o->globals, optarg);
            break;
        case OPT_QMP:
            if (strncmp(optarg, "unix:", 5) != 0 || !optarg[5])
                return bad("--qmp takes unix:PATH, not '%s'", optarg);
            r = strv_push(&o->qmp, optarg);
            break;
        case OPT_REST:
            if ((strncmp(optarg, "unix:", 5) != 0 || !optarg[5]) && strncmp(optarg, "tcp:", 4) != 0)
                return bad("--rest takes tcp:HOST:PORT or unix:PATH, not '%s'", optarg);
            r = strv_push(&o->rest, optarg);
            break;
        case OPT_ACCESS:
            if (strncmp(optarg, "unix:", 5) != 0 || !optarg[5])
                return bad("--access takes unix:PATH, not '%s'", optarg);
            r = strv_push(&o->access, optarg);
            break;
        case OPT_GUEST:
            if (strcmp(optarg, "none") != 0 && strcmp(optarg, "cooperative") != 0)
                return bad("--guest: unknown guest mode '%s' (cooperative, none)", optarg);
            o->guest = optarg;
            o->given |= OPT_GIVEN_GUEST;
            break;
        case OPT_EJECT_DELAY: {
            char *end;
            unsigned long ms = strtoul(optarg, &end, 10);
            if (!*optarg || *end || optarg[0] == '-' || ms > GUEST_EJECT_DELAY_MAX_MS)
                return bad("--eject-delay takes milliseconds from 0 to 60000, not '%s'", optarg);
            o->eject_delay_ms = (unsigned)ms;
            o->given |= OPT_GIVEN_EJECT_DELAY;
            break;
        }
        case OPT_FIRMWARE_LOG:
            o->firmware_log = optarg;
            break;
        case OPT_REFUSE_UNPLUG:
            if (parse_slots(optarg, &o->refuse_unplug) < 0)
                return bad("--guest-refuse-unplug takes hex slot numbers 0..1f separated by "
                           "commas, not '%s'",
                           optarg);
            break;
        case OPT_STATE_DIR:
            if (!*optarg)
                return bad("--state-dir takes a directory%s", "");
            o->state_dir = optarg;
            break;
        case OPT_NO_STATE:
            o->no_state = 1;
            break;
        case OPT_MACHINE_DESCRIPTION:
            o->machine_description = optarg;
            break;
        case OPT_CONFIG:
            if (!*optarg)
                return bad("--config takes a file name%s", "");
            o->config = optarg;
            break;
        case OPT_LOG_LEVEL:
            if (log_level_parse(optarg) < 0)
                return bad("--log-level: unknown level '%s' (err, warning, notice, info, debug)",
                           optarg);
            o->log_level = optarg;
            break;
        case OPT_VCPUS: {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || n < 1 || n > 64)
                return bad("--vcpus takes a number from 1 to 64, not '%s'", optarg);
            o->vcpus = (unsigned)n;
            o->given |= OPT_GIVEN_VCPUS;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 1;
        case OPT_VERSION:
            printf("pcid %s\n", PCID_VERSION);
            return 1;
        default:
            return bad("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (r < 0)
        return r;
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (o->no_state && o->state_dir)
        return bad("--no-state and --state-dir %s exclude each other", o->state_dir);
    return 0;
}

static int run_dir(char *buf, size_t len)
{
    const char *rd = getenv("RUNTIME_DIRECTORY"), *xdg = getenv("XDG_RUNTIME_DIR");

    if (rd && *rd)
        snprintf(buf, len, "%.*s", (int)strcspn(rd, ":"), rd); /* first of a list */
    else if (geteuid() == 0)
        snprintf(buf, len, "/run/pcid");
    else if (xdg && *xdg)
        snprintf(buf, len, "%s/pcid", xdg);
    else
        snprintf(buf, len, "/tmp/pcid-%u", (unsigned)geteuid());
    return 0;
}

int options_apply_defaults(struct pcid_options *o)
{
    char dir[PATH_MAX], spec[PATH_MAX + 16];
    int r = 0;

    run_dir(dir, sizeof(dir));
    if (!o->qmp.n) {
        snprintf(spec, sizeof(spec), "unix:%s/qmp.sock", dir);
        r = strv_push(&o->qmp, spec);
    }
    if (!o->rest.n && r == 0) {
        snprintf(spec, sizeof(spec), "unix:%s/rest.sock", dir);
        r = strv_push(&o->rest, spec);
        if (r == 0)
            r = strv_push(&o->rest, "tcp:127.0.0.1:8086");
    }
    return r;
}

static int mkdir_parent(const char *path)
{
    char dir[PATH_MAX];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int listen_unix(const char *path, char *why, size_t len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd, r;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(why, len, "socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    r = mkdir_parent(path);
    if (r < 0) {
        snprintf(why, len, "cannot create the directory of %s: %s", path, strerror(-r));
        return r;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        r = -errno;
        snprintf(why, len, "cannot make a socket for %s: %s", path, strerror(-r));
        return r;
    }
    /* Replace a stale socket from an earlier run, but never a live one. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
        snprintf(why, len, "%s is in use by a running server", path);
        close(fd);
        return -EADDRINUSE;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
        listen(fd, 64) < 0) {
        r = -errno;
        snprintf(why, len, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return r;
    }
    return fd;
}

static int listen_tcp(const char *hostport, char *why, size_t len)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int fd, r, one = 1;

    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof(host)) {
        snprintf(why, len, "tcp:%s is not HOST:PORT", hostport);
        return -EINVAL;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    r = getaddrinfo(host, colon + 1, &hints, &ai);
    if (r) {
        snprintf(why, len, "tcp:%s: %s", hostport, gai_strerror(r));
        return -EINVAL;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        r = -errno;
        snprintf(why, len, "cannot make a socket for tcp:%s: %s", hostport, strerror(-r));
        freeaddrinfo(ai);
        return r;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        r = -errno;
        snprintf(why, len, "cannot listen on tcp:%s: %s", hostport, strerror(errno));
        close(fd);
        freeaddrinfo(ai);
        return r;
    }
    freeaddrinfo(ai);
    return fd;
}

/* A listening stream socket inherited from systemd (sd_listen_fds(3)). */
static int listen_fd(const char *num, char *why, size_t len)
{
    int type = 0, listening = 0, fd;
    socklen_t l1 = sizeof(type), l2 = sizeof(listening);
    char *end;
    long n = strtol(num, &end, 10);

    if (!*num || *end || n < 3 || n > INT_MAX) {
        snprintf(why, len, "fd:%s is not an inherited file descriptor", num);
        return -EINVAL;
    }
    fd = (int)n;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l2) < 0 || type != SOCK_STREAM ||
        !listening) {
        snprintf(why, len, "fd %d passed by systemd is not a listening stream socket", fd);
        return -ENOTSOCK;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        snprintf(why, len, "fd %d: %s", fd, strerror(errno));
        return -errno;
    }
    return fd;
}

int listen_spec(const char *spec, char *why, size_t len)
{
    if (strncmp(spec, "fd:", 3) == 0)
        return listen_fd(spec + 3, why, len);
    if (strncmp(spec, "unix:", 5) == 0)
        return listen_unix(spec + 5, why, len);
    if (strncmp(spec, "tcp:", 4) == 0)
        return listen_tcp(spec + 4, why, len);
    snprintf(why, len, "unknown socket kind: %s", spec);
    return -EINVAL;
}
