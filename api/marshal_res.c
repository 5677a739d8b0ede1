/* SPDX-License-Identifier: MIT */
/*
 * marshal_res.c — resources to JSON: the INTx route of a slot's pins with the functions that
 * share each line (query-pci-slots), and a bus's windows with their accounting
 * (query-pci-slots per bus, query-pci-buses / GET /v1/buses). The rules are
 * daemon/machine/resources.h's.
 */
#include <errno.h>
#include <stdlib.h>

#include "../daemon/hw/pci/pci_addr.h"
#include "marshal.h"

static const char *const pin_names[PCI_NUM_PINS] = {"INTA", "INTB", "INTC", "INTD"};

const char *marshal_pin_name(int pin)
{
    return pin >= 0 && pin < PCI_NUM_PINS ? pin_names[pin] : "?";
}

void marshal_pirq_name(unsigned link, char buf[8])
{
    snprintf(buf, 8, "PIRQ%c", 'A' + (char)(link & 7));
}

int marshal_intx_users(const struct machine *m, struct marshal_intx_users *out)
{
    *out = (struct marshal_intx_users){0};
    out->v = calloc(m->n_devices ? m->n_devices : 1, sizeof(*out->v));
    if (!out->v)
        return -ENOMEM;
    for (const struct machine_dev *md = m->devices; md; md = md->next)
        if (out->n < m->n_devices && machine_dev_intx(m, md->pci, &out->v[out->n].route) == 0)
            out->v[out->n++].d = md->pci;
    return 0;
}

void marshal_intx_users_free(struct marshal_intx_users *u)
{
    free(u->v);
    u->v = NULL;
    u->n = 0;
}

unsigned marshal_intx_sharers(const struct marshal_intx_users *u, const struct pci_bus *bus,
                              unsigned slot, unsigned link)
{
    unsigned n = 0;

    for (size_t i = 0; i < u->n; i++)
        if (u->v[i].route.link.link == link &&
            !(u->v[i].d->bus == bus && PCI_SLOT_OF(u->v[i].d->devfn) == slot))
            n++;
    return n;
}

json_t *marshal_intx_routes(const struct machine *m, const struct pci_bus *bus, unsigned slot,
                            const struct marshal_intx_users *u)
{
    json_t *list = json_array();

    for (int pin = 0; list && pin < PCI_NUM_PINS; pin++) {
        struct machine_intx_route r;
        json_t *shared = json_array(), *o;
        char pirq[8];

        machine_intx_route(m, bus, slot, pin, &r);
        marshal_pirq_name(r.link.link, pirq);
        for (size_t i = 0; u && i < u->n; i++) {
            const struct pci_device *d = u->v[i].d;
            char bdf[PCI_BDF_STRLEN];
            json_t *s;

            /* The slot's own functions are its occupant, not another device on its line. */
            if (u->v[i].route.link.link != r.link.link ||
                (d->bus == bus && PCI_SLOT_OF(d->devfn) == slot))
                continue;
            s = json_pack("{s:s,s:s,s:s}", "bdf",
                          pci_bdf_format(bdf, 0, pci_bus_num(d->bus), d->devfn), "driver", d->name,
                          "pin", marshal_pin_name(u->v[i].route.pin));
            json_object_set_new(s, "id", d->id ? json_string(d->id) : json_null());
            json_array_append_new(shared, s);
        }
        o = json_pack("{s:s,s:i,s:s,s:i,s:s,s:o}", "pin", pin_names[pin], "root-slot", r.root_slot,
                      "root-pin", marshal_pin_name(r.root_pin), "bridges", r.bridges, "pirq", pirq,
                      "shared-with", shared);
        json_object_set_new(o, "irq", r.link.irq >= 0 ? json_integer(r.link.irq) : json_null());
        json_object_set_new(o, "gsi", r.link.gsi >= 0 ? json_integer(r.link.gsi) : json_null());
        json_array_append_new(list, o);
    }
    return list;
}

json_t *marshal_bus_windows(const struct machine *m, const struct pci_bus *bus)
{
    struct machine_window w[MACHINE_WINS];
    json_t *list;

    if (machine_bus_windows(m, bus, w) < 0)
        return NULL;
    list = json_array();
    for (enum machine_win k = 0; list && k < MACHINE_WINS; k++) {
        json_t *o;

        if (!w[k].present)
            continue;
        o = json_pack("{s:s,s:b}", "type", machine_win_name(k), "assigned", w[k].assigned);
        if (k == MACHINE_WIN_PREF)
            json_object_set_new(o, "64bit", json_boolean(w[k].is64));
        if (w[k].assigned) {
            json_object_set_new(o, "base", json_integer((json_int_t)w[k].base));
            json_object_set_new(o, "limit", json_integer((json_int_t)w[k].limit));
            json_object_set_new(o, "size", json_integer((json_int_t)(w[k].limit - w[k].base + 1)));
            json_object_set_new(o, "used", json_integer((json_int_t)w[k].used));
            json_object_set_new(o, "free", json_integer((json_int_t)w[k].free));
            json_object_set_new(o, "largest-free", json_integer((json_int_t)w[k].largest_free));
            if (w[k].largest_free)
                json_object_set_new(o, "largest-free-base",
                                    json_integer((json_int_t)w[k].largest_base));
        }
        json_array_append_new(list, o);
    }
    return list;
}
