# SPDX-License-Identifier: MIT
"""What pcid adds around q35 and PCI Express, tested through its front doors:

- the legacy MMR capability (x-legacy-mmr=on): the same legacy register script over BAR0 I/O
  and over the memory window gives identical results; the capability is where virtio_pci.h
  says; refusals for devices that cannot have it;
- versioned machine types: query-machines (QEMU's shape), pcid-pc-1.0 keeps the virtio default
  that 1.1 changed, byte for byte against QEMU's dumps of the same configurations;
- query-pci-slots over every bus (why a slot is not hot-pluggable) and query-pci-capabilities
  with extended capabilities;
- hot-add and removal behind a root port over REST with --guest none (removal at system_reset);
- the cooperative guest (the default) keeps the daemon working on q35.
"""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tools'))
sys.dont_write_bytecode = True
from pcid_harness import DATA, PCID, Guest, Pcid, QmpError  # noqa: E402
from qemu_harness import parse_lspci_x  # noqa: E402

RP1 = 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0'
QCFG = os.path.join(DATA, 'qemu', 'config')
PCIE = os.path.join(DATA, 'qemu', 'pcie', 'config')

IO_BASE = 0x1000
MMR_BASE = 0xc0000000

# A legacy driver's conversation (virtio 1.2 §4.1.4.10 offsets): (op, offset, size, value).
LEGACY_SCRIPT = [
    ('r', 0x00, 4), ('r', 0x04, 4), ('r', 0x0c, 2), ('r', 0x0e, 2), ('r', 0x12, 1),
    ('r', 0x13, 1), ('r', 0x01, 1), ('r', 0x02, 2), ('r', 0x00, 2),
    ('w', 0x12, 1, 0x01), ('w', 0x12, 1, 0x03), ('r', 0x12, 1),
    ('w', 0x04, 4, 0x00010020), ('r', 0x04, 4),
    ('w', 0x0e, 2, 0x0001), ('r', 0x0e, 2), ('r', 0x0c, 2), ('r', 0x08, 4),
    ('w', 0x08, 4, 0x00012345), ('r', 0x08, 4), ('w', 0x0e, 2, 0x0000), ('r', 0x08, 4),
    ('w', 0x0e, 2, 0x0400), ('r', 0x0e, 2),
    ('r', 0x14, 1), ('r', 0x15, 1), ('r', 0x16, 1), ('r', 0x17, 1), ('r', 0x18, 1),
    ('r', 0x19, 1), ('r', 0x14, 4), ('r', 0x18, 4), ('r', 0x1a, 2), ('r', 0x1c, 4),
    ('w', 0x14, 1, 0xaa), ('r', 0x14, 4),
    ('w', 0x10, 2, 0x0001), ('r', 0x10, 2), ('r', 0x13, 1), ('r', 0x13, 1),
    ('w', 0x12, 1, 0x07), ('r', 0x12, 1), ('w', 0x12, 1, 0x00), ('r', 0x12, 1),
    ('r', 0x04, 4), ('r', 0x08, 4),
]


def run_script(g, io):
    out = []
    for step in LEGACY_SCRIPT:
        op, off, size = step[:3]
        suffix = {1: 'b', 2: 'w', 4: 'l'}[size]
        if io:
            line = ('in%s 0x%x' % (suffix, IO_BASE + off) if op == 'r' else
                    'out%s 0x%x 0x%x' % (suffix, IO_BASE + off, step[3]))
        else:
            line = ('read%s 0x%x' % (suffix, MMR_BASE + off) if op == 'r' else
                    'write%s 0x%x 0x%x' % (suffix, MMR_BASE + off, step[3]))
        reply = g.cmd(line)
        if op == 'r':
            out.append((off, size, Guest.value(reply)))
    return out


def hex_of(path):
    with open(path) as f:
        return parse_lspci_x(f.read())[1]


class LegacyMmr(unittest.TestCase):
    maxDiff = None

    def setup_guest(self, d):
        g = Guest(d.access_path)
        g.enable_ecam()
        # port: bus 1, I/O window 0x1000-0x1fff, memory window 0xc0000000-0xc00fffff, decoding
        g.cfg_write(0, 0x20, 0x19, 1, 1)
        g.cfg_write(0, 0x20, 0x1a, 1, 1)
        g.cfg_write(0, 0x20, 0x1c, 0x10, 1)
        g.cfg_write(0, 0x20, 0x1d, 0x10, 1)
        g.cfg_write(0, 0x20, 0x20, 0xc000, 2)
        g.cfg_write(0, 0x20, 0x22, 0xc000, 2)
        g.cfg_write(0, 0x20, 0x04, 0x0003, 2)
        # device 01:00.0: BAR0 (I/O) and BAR3 (memory), decoding and bus mastering
        g.cfg_write(1, 0, 0x10, IO_BASE, 4)
        g.cfg_write(1, 0, 0x1c, MMR_BASE, 4)
        g.cfg_write(1, 0, 0x04, 0x0007, 2)
        return g

    def find_mmr_cap(self, g):
        off = 0x100
        for _ in range(64):
            hdr = g.read(g.ecam(1, 0, off), 4)
            if hdr & 0xffff == 0x000b:
                return off
            off = hdr >> 20
            if not off:
                break
        return None

    def test_same_registers_over_io_and_mmr(self):
        with Pcid(args=['--machine', 'q35', '--device', RP1, '--device',
                        'virtio-net-pci-transitional,id=n,bus=rp1,x-legacy-mmr=on']) as d:
            g = self.setup_guest(d)
            cap = self.find_mmr_cap(g)
            self.assertEqual(cap, 0x100)
            vsec = g.read(g.ecam(1, 0, cap + 4), 4)
            self.assertEqual((vsec & 0xffff, (vsec >> 16) & 0xf, vsec >> 20), (0x1af4, 1, 0x14))
            self.assertEqual(g.read(g.ecam(1, 0, cap + 8), 1), 10)   # cfg_type legacy-mmr
            self.assertEqual(g.read(g.ecam(1, 0, cap + 9), 1), 3)    # bar
            self.assertEqual(g.read(g.ecam(1, 0, cap + 12), 4), 0)   # offset
            self.assertEqual(g.read(g.ecam(1, 0, cap + 16), 4), 32)  # length: BAR0's size
            # The capability is read-only.
            g.write(g.ecam(1, 0, cap + 8), 0xffffffff, 4)
            self.assertEqual(g.read(g.ecam(1, 0, cap + 8), 1), 10)
            self.assertEqual(g.read(g.ecam(1, 0, 0x1c), 4), MMR_BASE)  # BAR3, 32-bit memory

            io = run_script(g, io=True)
            mmr = run_script(g, io=False)
            self.assertEqual(mmr, io)
            regs = dict(((o, s), v) for o, s, v in io[:6])
            self.assertNotEqual(regs[(0x00, 4)], 0)            # host features offered
            mac = [v for o, s, v in io if s == 1 and 0x14 <= o <= 0x19]
            self.assertEqual(mac, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
            # Past the block the window reads zeroes; the I/O BAR ends there.
            self.assertEqual(g.read(MMR_BASE + 0x20, 4), 0)
            self.assertEqual(g.read(MMR_BASE + 0xffc, 4), 0)

            caps = d.qmp().cmd('query-pci-capabilities', id='n')
            mmr_cap = [c for c in caps if c['extended'] and c['cap-id'] == 0x0b]
            self.assertEqual(len(mmr_cap), 1)
            self.assertEqual(mmr_cap[0]['offset'], 0x100)
            self.assertEqual(mmr_cap[0]['size'], 0x14)
            self.assertEqual(mmr_cap[0]['fields']['virtio-cfg-type'], 'legacy-mmr')
            self.assertEqual(mmr_cap[0]['fields']['bar'], 3)
            self.assertEqual(mmr_cap[0]['fields']['length'], 32)
            g.close()

    def test_after_aer(self):
        """With AER at 0x100 the capability follows it, linked from AER's next pointer."""
        with Pcid(args=['--machine', 'q35', '--device', RP1, '--device',
                        'virtio-net-pci,id=n,bus=rp1,disable-legacy=off,aer=on,'
                        'x-legacy-mmr=on']) as d:
            caps = [(c['cap-id'], c['offset']) for c in d.qmp().cmd('query-pci-capabilities',
                                                                    id='n') if c['extended']]
            self.assertEqual(caps, [(0x01, 0x100), (0x0b, 0x148)])

    def test_refusals(self):
        with Pcid(args=['--machine', 'q35', '--device', RP1]) as d:
            q = d.qmp()
            for args, msg in (
                    ({'driver': 'virtio-net-pci', 'bus': 'rp1', 'x-legacy-mmr': 'on'},
                     'x-legacy-mmr=on needs the legacy interface (disable-legacy=off or a '
                     '-transitional device)'),
                    ({'driver': 'virtio-net-pci-transitional', 'bus': 'rp1', 'x-legacy-mmr': 'on',
                      'disable-modern': 'on'},
                     'x-legacy-mmr=on needs a PCI Express function: a device with the modern '
                     'interface behind a PCIe port')):
                with self.assertRaises(QmpError) as e:
                    q.cmd('device_add', **args)
                self.assertEqual(e.exception.args[0]['desc'], msg)
            # nothing was added
            self.assertEqual([x['id'] for x in q.cmd('query-pci-devices') if x['id']], ['rp1'])
        with Pcid() as d:  # pc: no PCIe port to be behind
            with self.assertRaises(QmpError) as e:
                d.qmp().cmd('device_add', driver='virtio-net-pci-transitional',
                            **{'x-legacy-mmr': 'on'})
            self.assertIn('needs a PCI Express function', e.exception.args[0]['desc'])


class MachineVersions(unittest.TestCase):
    maxDiff = None

    def test_query_machines(self):
        with Pcid() as d:
            machines = d.qmp().cmd('query-machines')
        by_name = {m['name']: m for m in machines}
        self.assertEqual(sorted(by_name), ['pcid-pc-1.0', 'pcid-pc-1.1', 'pcid-q35-1.0',
                                           'pcid-q35-1.1'])
        self.assertEqual(by_name['pcid-pc-1.1'].get('alias'), 'pc')
        self.assertEqual(by_name['pcid-q35-1.1'].get('alias'), 'q35')
        self.assertTrue(by_name['pcid-pc-1.1'].get('is-default'))
        for name in ('pcid-pc-1.0', 'pcid-q35-1.0', 'pcid-q35-1.1'):
            self.assertNotIn('is-default', by_name[name])
        for name in ('pcid-pc-1.0', 'pcid-q35-1.0'):
            self.assertNotIn('alias', by_name[name])
        # QEMU 7.2's MachineInfo members, nothing else
        allowed = {'name', 'alias', 'is-default', 'cpu-max', 'hotpluggable-cpus',
                   'numa-mem-supported', 'deprecated', 'default-cpu-type', 'default-ram-id'}
        for m in machines:
            self.assertLessEqual(set(m), allowed)

    def config(self, machine, devices, bdf):
        args = ['--machine', machine] if machine else []
        for dev in devices:
            args += ['--device', dev]
        with Pcid(args=args) as d:
            status, text, _ = d.rest('GET', '/v1/devices/%s/config' % bdf)
            self.assertEqual(status, 200, text)
            return parse_lspci_x(text)[1]

    def test_pc_1_0_keeps_legacy_virtio(self):
        dev = 'virtio-net-pci,id=dut,addr=0x3'
        v10 = self.config('pcid-pc-1.0', [dev], '0000:00:03.0')
        v11 = self.config('pcid-pc-1.1', [dev], '0000:00:03.0')
        self.assertEqual(self.config('pc', [dev], '0000:00:03.0'), v11)
        self.assertEqual(self.config(None, [dev], '0000:00:03.0'), v11)  # pc is the default
        self.assertNotEqual(v10, v11)
        # byte for byte what QEMU 7.2 shows for the two defaults
        self.assertEqual(v10, hex_of(os.path.join(QCFG, 'pc-virtio-net-pci-disable-modern-true.hex')))
        self.assertEqual(v11, hex_of(os.path.join(QCFG, 'pc-virtio-net-pci.hex')))
        # the device ID tells a driver which interface it has
        self.assertEqual((v10[2] | v10[3] << 8, v11[2] | v11[3] << 8), (0x1000, 0x1000))
        # a user's property still wins over the version's default
        v10_modern = self.config('pcid-pc-1.0', [dev + ',disable-modern=off'], '0000:00:03.0')
        self.assertEqual(v10_modern, v11)

    def test_q35_1_0_behind_port(self):
        devs = [RP1, 'virtio-net-pci,id=dut,bus=rp1']
        args = ['--machine', 'pcid-q35-1.0']
        for dev in devs:
            args += ['--device', dev]
        with Pcid(args=args) as d:
            g = Guest(d.access_path)
            g.enable_ecam()
            g.cfg_write(0, 0x20, 0x19, 1, 1)
            g.cfg_write(0, 0x20, 0x1a, 1, 1)
            got = g.dump(1, 0, 4096, True)
            g.close()
        self.assertEqual(got, hex_of(os.path.join(PCIE, 'q35-rp1-virtio-net-pci-legacy-only.hex')))

    def test_unknown_machine(self):
        p = subprocess.run([PCID, '--machine', 'pc-1.0'], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 78)
        self.assertIn('unsupported machine type "pc-1.0"', p.stderr)


class SlotsAndCaps(unittest.TestCase):
    maxDiff = None

    def test_query_pci_slots(self):
        with Pcid(args=['--machine', 'q35', '--device', RP1]) as d:
            q = d.qmp()
            q.cmd('device_add', driver='pci-bridge', id='hb', bus='rp1', chassis_nr=3)
            buses = {b['bus-id']: b for b in q.cmd('query-pci-slots')}
            self.assertEqual(sorted(buses), ['hb', 'pcie.0', 'rp1'])
            root = buses['pcie.0']
            self.assertFalse(root['hotpluggable'])
            self.assertEqual(root['reason'], "Bus 'pcie.0' does not support hotplugging")
            self.assertEqual(root['slots'][31]['state'], 'builtin')
            self.assertEqual(root['slots'][4]['functions'][0]['id'], 'rp1')
            self.assertEqual(root['slots'][5]['reason'], "bus 'pcie.0' does not support hotplugging")
            rp = buses['rp1']
            self.assertEqual((rp['hotplug'], rp['express'], rp['bridge']['id']),
                             ('acpi', True, 'rp1'))
            self.assertEqual(len(rp['slots']), 32)
            self.assertEqual(rp['slots'][0]['state'], 'occupied')  # hb
            self.assertNotIn('note', rp['slots'][0])
            self.assertIn('device 0 only', rp['slots'][1]['note'])
            self.assertFalse(rp['reachable'])  # its number is still 0
            hb = buses['hb']
            self.assertEqual((hb['hotplug'], hb['express']), ('shpc', False))
            self.assertFalse(hb['slots'][0]['hotpluggable'])
            self.assertIn('serves slots 1-31', hb['slots'][0]['reason'])
            self.assertTrue(hb['slots'][1]['hotpluggable'])
            g = Guest(d.access_path)
            g.enable_ecam()
            g.cfg_write(0, 0x20, 0x19, 1, 1)
            g.cfg_write(0, 0x20, 0x1a, 1, 1)
            g.close()
            self.assertTrue({b['bus-id']: b for b in q.cmd('query-pci-slots')}['rp1']['reachable'])
            self.assertEqual([b['bus-id'] for b in q.cmd('query-pci-slots', bus='hb')], ['hb'])

    def test_root_port_capabilities(self):
        with Pcid(args=['--machine', 'q35', '--device', RP1]) as d:
            caps = d.qmp().cmd('query-pci-capabilities', id='rp1')
        got = [(c['name'], c['offset'], c['size'], c['extended'], c.get('version'))
               for c in caps]
        self.assertEqual(got, [
            ('Express', 0x54, 0x3c, False, None),
            ('MSI-X', 0x48, 12, False, None),
            ('Subsystem', 0x40, 8, False, None),
            ('Advanced Error Reporting', 0x100, 0x48, True, 2),
            ('Access Control Services', 0x148, 8, True, 1),
        ])
        exp = caps[0]['fields']
        self.assertEqual((exp['type'], exp['slot-number'], exp['hot-plug-capable'], exp['power'],
                          exp['power-indicator']), ('root-port', 1, True, 'off', 'off'))
        self.assertEqual(caps[3]['fields']['uncorrectable-severity'], 0x00462030)
        self.assertEqual(caps[4]['fields']['capability'], 0x5f)


class HotplugBehindPort(unittest.TestCase):
    def test_rest_add_and_remove(self):
        with Pcid(args=['--machine', 'q35', '--device', RP1]) as d:
            q = d.qmp()
            status, body, _ = d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'n1'})
            self.assertEqual(status, 400, body)
            self.assertIn("Bus 'pcie.0' does not support hotplugging", json.dumps(body))
            status, body, _ = d.rest('POST', '/v1/devices',
                                     {'driver': 'e1000', 'id': 'n1', 'bus': 'rp1'})
            self.assertEqual(status, 201, body)
            status, body, _ = d.rest('DELETE', '/v1/devices/n1')
            self.assertIn(status, (200, 202), body)
            # pending until the reset, as a paused QEMU
            self.assertIn('n1', [x['id'] for x in q.cmd('query-pci-devices')])
            with self.assertRaises(QmpError):
                q.cmd('device_del', id='n1')
            q.cmd('system_reset')
            q.wait_events(2)
            self.assertNotIn('n1', [x['id'] for x in q.cmd('query-pci-devices')])
            self.assertIn({'device': 'n1', 'path': '/machine/peripheral/n1'},
                          [e['data'] for e in q.events if e['event'] == 'DEVICE_DELETED'])


class CooperativeGuest(unittest.TestCase):
    def test_q35_with_the_default_guest(self):
        """The default guest boots q35 (bus numbers, windows); a device hot-added behind a port
        that ACPI manages (QEMU 7.2's default) waits for the next boot, as under a QEMU whose
        guest has no OS, and the firmware configures it then, inside the port's windows."""
        with Pcid(args=['--machine', 'q35', '--device', RP1], guest=None) as d:
            q = d.qmp()
            self.assertEqual(q.cmd('query-status')['status'], 'running')
            rp = q.cmd('query-pci')[0]['devices'][1]
            self.assertEqual(rp['qdev_id'], 'rp1')
            self.assertEqual(rp['pci_bridge']['bus']['secondary'], 1)
            q.cmd('device_add', driver='virtio-net-pci', id='n1', bus='rp1')
            time.sleep(0.1)
            n1 = rp_child(q)
            self.assertEqual({r['address'] for r in n1['regions']}, {-1})
            q.cmd('system_reset')
            n1 = rp_child(q)
            mem = rp_child(q, port=True)['pci_bridge']['bus']['memory_range']
            bar1 = [r for r in n1['regions'] if r['bar'] == 1][0]
            self.assertTrue(mem['base'] <= bar1['address'] <= mem['limit'], (bar1, mem))
            self.assertNotIn('firmware', d.logtext())


def rp_child(q, port=False):
    rp = [d for d in q.cmd('query-pci')[0]['devices'] if d.get('qdev_id') == 'rp1'][0]
    return rp if port else rp['pci_bridge']['devices'][0]


if __name__ == '__main__':
    unittest.main()
