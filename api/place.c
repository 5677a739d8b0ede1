/* SPDX-License-Identifier: MIT */
/*
 * place.c — device_add's view of resources: whether a device's BARs fit the free space of its
 * bus's windows (refused unless "allow-unassigned"), and the "prefer": "own-irq" slot choice.
 * The rules are daemon/machine/resources.h's; the replies are described in docs/api.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../daemon/hw/pci/pci_addr.h"
#include "internal.h"
#include "marshal.h"

/* "4 MiB", "64 KiB", "256 B": sizes are powers of two here. */
static const char *size_text(uint64_t n, char buf[32])
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;

    while (u + 1 < sizeof(unit) / sizeof(unit[0]) && n >= 1024 && !(n & 1023)) {
        n >>= 10;
        u++;
    }
    snprintf(buf, 32, "%llu %s", (unsigned long long)n, unit[u]);
    return buf;
}

static const char *kind_text(enum machine_win k)
{
    return k == MACHINE_WIN_IO ? "I/O" : k == MACHINE_WIN_PREF ? "prefetchable memory" : "memory";
}

static json_t *bars_json(const struct machine_fit *f)
{
    json_t *list = json_array();

    for (unsigned i = 0; list && i < f->n; i++) {
        const struct machine_fit_bar *b = &f->bars[i];
        json_t *o = json_pack("{s:i,s:s,s:I,s:b,s:s,s:b}", "bar", b->bar, "type",
                              machine_win_name(b->kind), "size", (json_int_t)b->size, "64bit",
                              b->is64, "window", machine_win_name(b->window), "fits", b->fits);

        if (b->fits)
            json_object_set_new(o, "address", json_integer((json_int_t)b->addr));
        json_array_append_new(list, o);
    }
    return list;
}

/* The refusal: which BAR, its size, the window and what is free there. */
static int fit_error(struct api *api, const struct pci_bus *bus, const struct machine_fit *f,
                     const char *driver, struct error *err)
{
    const struct machine_fit_bar *b = &f->bars[f->first_fail];
    struct machine_window w[MACHINE_WINS];
    char sz[32], fr[32], bar[16];
    const struct machine_window *win;

    if (machine_bus_windows(api->m, bus, w) < 0)
        return -ENOMEM;
    win = &w[b->window];
    if (b->bar == PCI_ROM_SLOT)
        snprintf(bar, sizeof(bar), "ROM BAR");
    else
        snprintf(bar, sizeof(bar), "BAR %d", b->bar);
    if (!win->assigned)
        return error_conflict(err,
                              "%s of '%s' (%s %s) does not fit: bus '%s' has no %s window "
                              "(the firmware assigned none); add \"allow-unassigned\": true to "
                              "add the device without it",
                              bar, driver, size_text(b->size, sz), kind_text(b->kind), bus->name,
                              kind_text(b->window));
    return error_conflict(err,
                          "%s of '%s' (%s %s) does not fit the %s window of bus '%s' "
                          "(0x%llx-0x%llx, largest free aligned block %s); add "
                          "\"allow-unassigned\": true to add the device without it",
                          bar, driver, size_text(b->size, sz), kind_text(b->kind),
                          kind_text(b->window), bus->name, (unsigned long long)win->base,
                          (unsigned long long)win->limit, size_text(win->largest_free, fr));
}

int api_fit(struct api *api, const struct pci_bus *bus, uint8_t devfn, const struct pci_device *d,
            const char *driver, bool hotplug, bool allow_unassigned, json_t **report,
            struct error *err)
{
    struct machine_fit f;
    json_t *unassigned;
    int blocking = -1, r;

    *report = NULL;
    if (!hotplug) {
        *report = json_pack("{s:b,s:s}", "checked", false, "reason",
                            "cold-plugged: the firmware sizes every window at boot to hold it");
        return *report ? 0 : -ENOMEM;
    }
    if (!api->opts.guest_running) {
        *report = json_pack("{s:b,s:s}", "checked", false, "reason",
                            "no guest runs (--guest none): nothing assigns addresses until a "
                            "guest configures the machine, and its firmware sizes the windows "
                            "to hold what is present");
        return *report ? 0 : -ENOMEM;
    }
    {
        struct machine_window w[MACHINE_WINS];
        bool any = false;

        if (machine_bus_windows(api->m, bus, w) < 0)
            return -ENOMEM;
        for (unsigned k = 0; k < MACHINE_WINS; k++)
            any |= w[k].assigned;
        if (!any) {
            /* A bridge the guest has not configured yet: it sizes its windows when it does. */
            *report = json_pack("{s:b,s:s}", "checked", false, "reason",
                                "the guest has not configured the bridge of this bus yet: its "
                                "windows are sized when it does");
            return *report ? 0 : -ENOMEM;
        }
    }
    r = machine_fit_check(api->m, bus, devfn, d, &f);
    if (r < 0)
        return r;
    /* An I/O BAR where the bus forwards no I/O at all (SeaBIOS gives an empty PCIe port none)
     * stays unassigned without refusing: PCI Express endpoints must not depend on I/O
     * resources (PCIe Base 4.0 §1.3.2.2), and guests run such devices behind ports. */
    for (unsigned i = 0; i < f.n; i++) {
        const struct machine_fit_bar *b = &f.bars[i];

        if (b->fits || (b->kind == MACHINE_WIN_IO && b->closed))
            continue;
        if (blocking < 0 || b->size > f.bars[blocking].size)
            blocking = (int)i;
    }
    if (blocking >= 0 && !allow_unassigned) {
        f.first_fail = blocking;
        return fit_error(api, bus, &f, driver, err);
    }
    unassigned = json_array();
    for (unsigned i = 0; i < f.n; i++)
        if (!f.bars[i].fits)
            json_array_append_new(unassigned, json_integer(f.bars[i].bar));
    *report = json_pack("{s:b,s:b,s:o,s:o}", "checked", true, "fits", f.first_fail < 0, "bars",
                        bars_json(&f), "unassigned", unassigned);
    if (*report && blocking >= 0)
        json_object_set_new(*report, "note",
                            json_string("added with \"allow-unassigned\": the guest sees the BARs "
                                        "listed in \"unassigned\" without an address, as on real "
                                        "hardware whose bridge windows are too small"));
    else if (*report && f.first_fail >= 0)
        json_object_set_new(*report, "note",
                            json_string("the I/O BARs listed in \"unassigned\" get no address: "
                                        "the bus forwards no I/O (PCI Express endpoints must work "
                                        "without I/O resources)"));
    return *report ? 0 : -ENOMEM;
}

int api_prefer_own_irq(struct api *api, const struct pci_bus *bus, const struct pci_device *d,
                       bool hotplug, int *devfn, json_t **report)
{
    struct marshal_intx_users users;
    int pin = pci_dev_irq_pin(d); /* 0-3, -1: none */
    const char *why = NULL;
    char pirq[8], bdf[PCI_BDF_STRLEN];
    int chosen = -1;

    *report = NULL;
    if (pin < 0) {
        why = "the device uses no INTx pin: the default rule placed it";
    } else {
        if (marshal_intx_users(api->m, &users) < 0)
            return -ENOMEM;
        for (unsigned s = 0; s < PCI_SLOT_MAX && chosen < 0; s++) {
            struct pci_place p = {.devfn = PCI_DEVFN_OF(s, 0), .hotplug = hotplug};
            struct machine_intx_route r;

            if (hotplug && !(bus->hotplug_slots & (1u << s)))
                continue;
            if (pci_bus_place(bus, &p) != PCI_PLACE_OK)
                continue;
            machine_intx_route(api->m, bus, s, pin, &r);
            if (!marshal_intx_sharers(&users, bus, s, r.link.link))
                chosen = (int)s;
        }
        marshal_intx_users_free(&users);
        if (chosen < 0)
            why = "every free slot's INTx line is shared with a present device: the default "
                  "rule placed it";
    }
    if (chosen >= 0)
        *devfn = PCI_DEVFN_OF((unsigned)chosen, 0);
    {
        struct machine_intx_route r = {0};

        if (pin >= 0)
            machine_intx_route(api->m, bus, PCI_SLOT_OF((uint8_t)*devfn), pin, &r);
        marshal_pirq_name(r.link.link, pirq);
        *report = json_pack("{s:s,s:s,s:b}", "prefer", "own-irq", "bdf",
                            pci_bdf_format(bdf, 0, pci_bus_num(bus), (uint8_t)*devfn), "applied",
                            chosen >= 0);
        if (*report && pin >= 0) {
            json_object_set_new(*report, "pin", json_string(marshal_pin_name(pin)));
            json_object_set_new(*report, "pirq", json_string(pirq));
        }
        if (*report && why)
            json_object_set_new(*report, "note", json_string(why));
    }
    return *report ? 0 : -ENOMEM;
}
