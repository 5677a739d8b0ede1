/* SPDX-License-Identifier: MIT */
/*
 * pcictl.c — the command-line client of pcid: parses the global options (--json, --url,
 * --socket, --help, --version), chooses the daemon, runs one command against its REST API
 * and exits 0 (ok), 1 (pcid refused or replied nonsense), 2 (usage error) or 3 (pcid
 * unreachable). See pcictl_usage() for the commands.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include <curl/curl.h>

#include "pcictl.h"

void pcictl_err(const char *fmt, ...)
{
    va_list ap;

    fputs("pcictl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int pcictl_usage_err(const char *fmt, ...)
{
    va_list ap;

    fputs("pcictl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (try 'pcictl --help')\n", stderr);
    return -EINVAL;
}

int pcictl_exit_code(int r)
{
    if (r >= 0)
        return PCICTL_EXIT_OK;
    if (r == -EINVAL)
        return PCICTL_EXIT_USAGE;
    if (r == -ENOTCONN)
        return PCICTL_EXIT_UNREACHABLE;
    return PCICTL_EXIT_REFUSED;
}

void pcictl_usage(FILE *f)
{
    fputs("Usage: pcictl [--json] [--url URL | --socket PATH] COMMAND [ARGS]\n"
          "\n"
          "Control pcid, the PCI bus emulator, through its REST API.\n"
          "\n"
          "Commands:\n"
          "  machine                       show the machine: type, generation, buses\n"
          "  machine dump                  print the machine description (JSON; pcid\n"
          "                                --machine-description FILE starts from it)\n"
          "  info pci                      show the PCI buses as QEMU's 'info pci' does\n"
          "  slots [--free] [--bus NAME]   list the slots of each bus and what is in them\n"
          "  devices                       list the PCI devices\n"
          "  add DRIVER [--id ID] [--addr ADDR] [--bus BUS] [--dry-run] [KEY=VALUE ...]\n"
          "                                hot-plug a device (device_add)\n"
          "  del ID|BDF [--wait SECONDS]   unplug a device (device_del), optionally wait\n"
          "  caps ID|BDF                   list a device's PCI capabilities\n"
          "  config ID|BDF                 dump a device's config space (lspci -xxx format)\n"
          "  lspci [-x|-xxx|-xxxx] [-s [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]]]\n"
          "                                list functions and dump config space as lspci;\n"
          "                                'lspci -F FILE' decodes the dump\n"
          "  events [--after ID] [--no-follow]\n"
          "                                follow pcid's events; resume after event ID\n"
          "  monitor                       QEMU's human monitor: an interactive prompt with\n"
          "                                history and completion (or lines from stdin)\n"
          "  qmp COMMAND [JSON-ARGS]       run a QMP command and print its reply\n"
          "  state save NAME               save every device's state as snapshot NAME\n"
          "  state load NAME               load snapshot NAME (all or nothing)\n"
          "  state list                    list the snapshots\n"
          "  help                          show this help\n"
          "\n"
          "Options:\n"
          "  --json          print the daemon's JSON replies instead of tables\n"
          "  --url URL       reach pcid at URL (http://HOST:PORT, or unix:/PATH)\n"
          "  --socket PATH   reach pcid over the unix socket PATH\n"
          "  -h, --help      show this help\n"
          "  -V, --version   show the version\n"
          "\n"
          "Without --url or --socket, pcictl uses $PCID_URL (a URL or unix:/PATH), else the\n"
          "socket $PCID_SOCKET, else $XDG_RUNTIME_DIR/pcid/rest.sock (when not root), else\n"
          "/run/pcid/rest.sock.\n"
          "\n"
          "Exit status: 0 ok, 1 pcid refused the request (or replied nonsense), 2 usage error,\n"
          "3 pcid unreachable (or it ended a followed event stream).\n",
          f);
}

struct command {
    const char *name;
    int (*run)(struct pcictl *ctl, int argc, char **argv);
};

static const struct command commands[] = {
    {"machine", cmd_machine}, {"info", cmd_info},       {"slots", cmd_slots},
    {"devices", cmd_devices}, {"add", cmd_add},         {"del", cmd_del},
    {"caps", cmd_caps},       {"config", cmd_config},   {"lspci", cmd_lspci},
    {"events", cmd_events},   {"monitor", cmd_monitor}, {"qmp", cmd_qmp},
    {"state", cmd_state},
};

static void pcictl_done(struct pcictl *ctl)
{
    rest_target_done(&ctl->target);
}

/* Parse the global options, then run the command. Returns 0 or -errno (pcictl.h). */
static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},         {"url", required_argument, NULL, 'u'},
        {"socket", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {0},
    };
    _cleanup_(pcictl_done) struct pcictl ctl = {0};
    const char *url = NULL, *socket = NULL;
    int c, e;

    opterr = 0;
    /* "+": stop at the command, whose options are its own. */
    while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctl.json = true;
            break;
        case 'u':
            url = optarg;
            break;
        case 's':
            socket = optarg;
            break;
        case 'h':
            pcictl_usage(stdout);
            return 0;
        case 'V':
            puts("pcictl " PCICTL_VERSION);
            return 0;
        case ':':
            return pcictl_usage_err("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return pcictl_usage_err("unknown option '-%c'", optopt);
            return pcictl_usage_err("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return pcictl_usage_err("no command given");
    if (!strcmp(argv[optind], "help")) {
        pcictl_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[optind], commands[i].name))
            continue;
        e = rest_target_init(&ctl.target, url, socket);
        if (e < 0)
            return e;
        return commands[i].run(&ctl, argc - optind, argv + optind);
    }
    return pcictl_usage_err("unknown command '%s'", argv[optind]);
}

int main(int argc, char **argv)
{
    int r;

    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        pcictl_err("cannot initialize libcurl");
        return PCICTL_EXIT_REFUSED;
    }
    r = run(argc, argv);
    curl_global_cleanup();
    if (fflush(stdout) || ferror(stdout)) {
        pcictl_err("cannot write to standard output: %s", strerror(errno));
        if (r >= 0)
            r = -EIO;
    }
    return pcictl_exit_code(r);
}
