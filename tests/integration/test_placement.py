# SPDX-License-Identifier: MIT
"""Issue 9: INTx routes in query-pci-slots, bus windows and their accounting, device_add's fit
check (refusal, allow-unassigned, dry-run), and prefer: own-irq - on pc and q35, QMP and REST."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcid_harness import Pcid  # noqa: E402

PINS = ['INTA', 'INTB', 'INTC', 'INTD']
ROM_4M = 4 << 20


def expected_route(machine, path, slot, pin):
    """The rule from the specs, written independently of pcid: PCI-to-PCI Bridge 1.2 §9.1
    swizzle at each bridge (path: the bridges' slots, nearest first), then the chipset's map
    (pc: QEMU pci_slot_get_pirq, link (slot - 1 + pin) mod 4; q35: ich9_lpc_map_irq)."""
    for bridge_slot in path:
        pin = (pin + slot) % 4
        slot = bridge_slot
    if machine == 'pc':
        link = (slot - 1 + pin) % 4
    elif slot == 30:
        link = pin + 4
    elif slot >= 25:
        link = pin
    else:
        link = (slot + pin) % 4 + 4
    return slot, pin, 'PIRQ' + 'ABCDEFGH'[link]


def bus_of(slots, name):
    return next(b for b in slots if b['bus-id'] == name)


def window(buses, name, kind):
    return next(w for w in bus_of(buses, name)['windows'] if w['type'] == kind)


class Routing(unittest.TestCase):
    def check(self, machine, args, buses):
        with Pcid(args=['--machine', machine] + args, guest='cooperative') as d:
            q = d.qmp()
            slots = q.cmd('query-pci-slots')
            for name, path in buses.items():
                for s in bus_of(slots, name)['slots']:
                    for e in s['intx']:
                        want = expected_route(machine, path, s['slot'], PINS.index(e['pin']))
                        got = (e['root-slot'], PINS.index(e['root-pin']), e['pirq'])
                        self.assertEqual(got, (want[0], want[1], want[2]), (name, s['slot'], e))
                        self.assertEqual(e['bridges'], len(path))
            # The IRQ reported is what the firmware programmed: every present function's
            # Interrupt Line equals the irq of its slot's pin.
            pci = {}

            def walk(devs):
                for dev in devs:
                    pci[(dev['bus'], dev['slot'], dev['function'])] = dev
                    walk(dev.get('pci_bridge', {}).get('devices', []))
            walk(q.cmd('query-pci')[0]['devices'])
            checked = 0
            for b in slots:
                for s in b['slots']:
                    for f in s['functions']:
                        dev = pci[(b['bus'], s['slot'], f['function'])]
                        # Built-in chipset functions have their own quirks (PIIX4 PM: SCI 9).
                        if dev['irq_pin'] == 0 or f['builtin']:
                            continue
                        route = s['intx'][dev['irq_pin'] - 1]
                        self.assertEqual(route['irq'], dev['irq'], (b['bus-id'], s['slot']))
                        checked += 1
            self.assertGreater(checked, 0)
            return q, slots

    def test_pc_root_one_and_two_bridges(self):
        q, slots = self.check('pc', ['--device', 'pci-bridge,id=br1,chassis_nr=1,addr=5',
                                     '--device', 'pci-bridge,id=br2,chassis_nr=2,bus=br1,addr=3',
                                     '--device', 'e1000,id=n1,bus=br2,addr=2'],
                              {'pci.0': [], 'br1': [5], 'br2': [3, 5]})
        # n1 (br2 slot 2 INTA) reaches root slot 5 as INTB (((0+2)%4+3)%4 = 1): anything else on
        # that PIRQ line lists it.
        _, _, link = expected_route('pc', [3, 5], 2, 0)
        sharers = [e['shared-with'] for s in bus_of(slots, 'pci.0')['slots']
                   for e in s['intx'] if e['pirq'] == link and s['slot'] != 5]
        self.assertTrue(sharers)
        for lst in sharers:
            self.assertIn('n1', [x['id'] for x in lst])

    def test_q35_root_one_and_two_bridges(self):
        self.check('q35', ['--device', 'pcie-root-port,id=rp1,chassis=1,addr=4',
                           '--device', 'pcie-root-port,id=rp2,chassis=2,addr=0x1c',
                           '--device', 'pci-bridge,id=br1,chassis_nr=3,bus=rp2'],
                   {'pcie.0': [], 'rp1': [4], 'rp2': [0x1c], 'br1': [0, 0x1c]})


class Fit(unittest.TestCase):
    def fill(self, d, bus, add):
        """Add e1000s to `bus` with `add` until the fit check refuses; returns (added, reply)."""
        n = 0
        while n < 31:
            ok, reply = add({'driver': 'e1000', 'bus': bus, 'id': 'f%d' % n})
            if not ok:
                return n, reply
            n += 1
        self.fail('bus %s never ran out' % bus)

    def expected_count(self, free, sizes):
        """Device after device, each BAR (largest first) at the lowest naturally aligned free
        address of an empty window of `free` bytes (first fit): how many devices fit whole."""
        used, n = [], 0
        while True:
            for sz in sorted(sizes, reverse=True):
                a = 0
                while any(lo < a + sz and a < hi for lo, hi in used):
                    a += sz
                if a + sz > free:
                    return n
                used.append((a, a + sz))
            n += 1

    def sizes(self, report, kind='mem'):
        return [b['size'] for b in report['bars'] if b['window'] == kind]

    def run_fill(self, machine, args, bus, via):
        with Pcid(args=['--machine', machine] + args, guest='cooperative') as d:
            q = d.qmp()

            def add_qmp(a):
                r = q.cmd_raw({'execute': 'device_add', 'arguments': a})
                if 'return' in r and 'allow-unassigned' not in a:
                    self.assertEqual(r['return'], {})  # QEMU's reply when pcid's args are absent
                return 'return' in r, r

            def add_rest(a):
                st, body, _ = d.rest('POST', '/v1/devices', a)
                return st == 201, (st, body)
            add = add_qmp if via == 'qmp' else add_rest
            st, buses, _ = d.rest('GET', '/v1/buses')
            self.assertEqual(st, 200)
            mem = window(buses, bus, 'mem')
            self.assertTrue(mem['assigned'])
            self.assertEqual(mem['used'], 0)
            st, dry, _ = d.rest('POST', '/v1/devices', {'driver': 'e1000', 'bus': bus,
                                                        'dry-run': True})
            self.assertEqual(st, 200, dry)
            self.assertTrue(dry['resources']['checked'])
            self.assertTrue(dry['resources']['fits'])
            want = self.expected_count(mem['free'], self.sizes(dry['resources']))
            self.assertGreater(want, 0)
            before = len(q.cmd('query-pci-devices'))
            n, reply = self.fill(d, bus, add)
            self.assertEqual(n, want)
            text = reply['error']['desc'] if via == 'qmp' else reply[1]['error']['desc']
            if via == 'rest':
                self.assertEqual(reply[0], 409)
            self.assertIn("does not fit the memory window of bus '%s'" % bus, text)
            self.assertIn("of 'e1000'", text)
            self.assertIn('allow-unassigned', text)
            # Refused: nothing changed.
            self.assertEqual(len(q.cmd('query-pci-devices')), before + n)
            # The dry run reports the same refusal.
            st, body, _ = d.rest('POST', '/v1/devices', {'driver': 'e1000', 'bus': bus,
                                                         'dry-run': True})
            self.assertEqual(st, 409, body)
            # allow-unassigned adds it and says what the guest will not get.
            ok, reply = add({'driver': 'e1000', 'bus': bus, 'id': 'late',
                             'allow-unassigned': True})
            self.assertTrue(ok, reply)
            res = reply['return']['resources'] if via == 'qmp' else reply[1]['resources']
            self.assertFalse(res['fits'])
            self.assertIn('note', res)
            self.assertTrue(res['unassigned'])
            self.assertEqual(len(q.cmd('query-pci-devices')), before + n + 1)

    PC = ['--device', 'pci-bridge,id=br1,chassis_nr=1,addr=5']
    Q35 = ['--device', 'pcie-root-port,id=rp1,chassis=1,addr=4',
           '--device', 'pci-bridge,id=br1,chassis_nr=3,bus=rp1']

    def test_pc_bridge_qmp(self):
        self.run_fill('pc', self.PC, 'br1', 'qmp')

    def test_pc_bridge_rest(self):
        self.run_fill('pc', self.PC, 'br1', 'rest')

    def test_q35_behind_root_port_qmp(self):
        self.run_fill('q35', self.Q35, 'br1', 'qmp')

    def test_q35_behind_root_port_rest(self):
        self.run_fill('q35', self.Q35, 'br1', 'rest')

    def test_root_port_too_small(self):
        """The port's windows are fixed after boot: a BAR larger than its memory window is
        refused (QMP and REST), allow-unassigned adds it, and once the guest configured the
        slot the BAR still has no address while the others do."""
        # Native PCIe hot-plug on the port, so the guest configures the slot at once.
        with Pcid(args=['--machine', 'q35', '--device', 'pcie-root-port,id=rp1,chassis=1',
                        '--global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off'],
                  guest='cooperative') as d:
            q = d.qmp()
            big = {'driver': 'e1000', 'bus': 'rp1', 'id': 'n1', 'romsize': ROM_4M}
            r = q.cmd_raw({'execute': 'device_add', 'arguments': big})
            self.assertIn('ROM BAR', r['error']['desc'])
            self.assertIn('4 MiB', r['error']['desc'])
            st, body, _ = d.rest('POST', '/v1/devices', big)
            self.assertEqual(st, 409, body)
            self.assertNotIn('n1', [x['id'] for x in q.cmd('query-pci-devices')])
            st, body, _ = d.rest('POST', '/v1/devices', dict(big, **{'allow-unassigned': True}))
            self.assertEqual(st, 201, body)
            self.assertEqual(body['resources']['unassigned'], [1, 6])
            fits = [b['bar'] for b in body['resources']['bars'] if b['fits']]
            self.assertEqual(fits, [0])
            # The cooperative guest configures the slot: BAR 0 (128 KiB) gets an address in
            # the port's memory window, the 4 MiB ROM none.
            for _ in range(200):
                mem = window(q.cmd('query-pci-buses'), 'rp1', 'mem')
                if mem['used']:
                    break
                time.sleep(0.05)
            self.assertEqual(mem['used'], 128 << 10)
            self.assertEqual(mem['largest-free'], 1 << 20)

    def test_guest_none_unchecked(self):
        with Pcid(args=['--machine', 'q35', '--device', 'pcie-root-port,id=rp1,chassis=1'],
                  guest='none') as d:
            q = d.qmp()
            buses = q.cmd('query-pci-buses')
            self.assertFalse(window(buses, 'rp1', 'mem')['assigned'])
            r = q.cmd('device_add', driver='e1000', bus='rp1', id='n1', romsize=ROM_4M,
                      **{'allow-unassigned': False})
            self.assertFalse(r['resources']['checked'])
            self.assertIn('--guest none', r['resources']['reason'])


class OwnIrq(unittest.TestCase):
    def test_pc_prefer_own_irq(self):
        with Pcid(args=['--machine', 'pc'], guest='cooperative') as d:
            q = d.qmp()
            # Slot 6 INTA drives PIRQB (as free slot 2), slot 7 PIRQC (as free slot 3); slot 1's
            # PIIX4 PM is on PIRQA (as free slot 5): slot 4 (PIRQD) is the lowest unshared one.
            q.cmd('device_add', driver='e1000', id='a', addr='6')
            q.cmd('device_add', driver='e1000', id='b', addr='7')
            slots = bus_of(q.cmd('query-pci-slots'), 'pci.0')['slots']
            free = [s for s in slots if s['state'] == 'free' and s['hotpluggable']]
            unshared = [s['slot'] for s in free if not s['intx'][0]['shared-with']]
            default = free[0]['slot']
            self.assertTrue(free[0]['intx'][0]['shared-with'])  # the default rule shares
            self.assertTrue(unshared)
            r = q.cmd('device_add', driver='e1000', id='c', prefer='own-irq')
            p = r['placement']
            self.assertTrue(p['applied'])
            self.assertEqual(p['bdf'], '0000:00:%02x.0' % unshared[0])
            self.assertNotEqual(unshared[0], default)
            got = bus_of(q.cmd('query-pci-slots'), 'pci.0')['slots'][unshared[0]]
            self.assertEqual([f['id'] for f in got['functions']], ['c'])
            self.assertEqual([x['id'] for x in got['intx'][0]['shared-with']
                              if x['id'] in ('a', 'b')], [])
            # Every line in use now: the default rule places it, and the reply says so (REST).
            for i in range(8):
                st, body, _ = d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'x%d' % i,
                                                             'prefer': 'own-irq'})
                self.assertEqual(st, 201, body)
                if not body['placement']['applied']:
                    break
            self.assertFalse(body['placement']['applied'])
            self.assertIn('default rule', body['placement']['note'])
            r = q.cmd_raw({'execute': 'device_add', 'arguments': {
                'driver': 'e1000', 'prefer': 'own-irq', 'addr': '9'}})
            self.assertIn("only without 'addr'", r['error']['desc'])
            r = q.cmd_raw({'execute': 'device_add', 'arguments': {
                'driver': 'e1000', 'prefer': 'fast'}})
            self.assertIn("'prefer'", r['error']['desc'])


if __name__ == '__main__':
    unittest.main()
