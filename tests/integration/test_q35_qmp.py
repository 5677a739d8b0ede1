# SPDX-License-Identifier: MIT
"""q35, root ports and bridges over QMP against QEMU 7.2's recordings.

- `info pci` and `query-pci` of a bare q35 and of q35 with a root port given by --device equal
  tests/data/reference/qmp/q35_bare.* and q35_rp1_bare.*;
- a device hot-added behind the root port is invisible in both until the port's secondary bus
  number is set, then nested under the bridge exactly as QEMU shows it (tests/data/qemu/qmp/
  q35-rp1-<driver>.secondary-bus-1.*);
- the q35 battery (tests/data/qemu/qmp/q35-battery.results.jsonl: hot-plug on pcie.0, behind a
  root port, placement and multifunction rules behind it, device_del and system_reset) and the
  bridges battery (tests/data/qemu/pcie/qmp/bridges-battery.results.jsonl: pci-bridge and
  pcie-pci-bridge buses, cold and hot-plugged bridges, SHPC slot rules, removal of a bridge with
  devices behind it, pc with bridges) replay with identical replies and events.
pcid runs with --guest none, as QEMU paused with -S.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import replay  # noqa: E402
from pcid_harness import DATA, Guest, Pcid  # noqa: E402

REF = os.path.join(DATA, 'reference', 'qmp')
QMP = os.path.join(DATA, 'qemu', 'qmp')
PCIE_QMP = os.path.join(DATA, 'qemu', 'pcie', 'qmp')
RP1 = 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0'
NULLS = ['--blockdev', 'driver=null-co,node-name=null0',
         '--blockdev', 'driver=null-co,node-name=null1']

NO_E1000E = 'pcid does not model e1000e'
Q35_UNCOMPARED = {
    'pcie.0: e1000e': NO_E1000E + " (QEMU knows the driver, so the bus refusal comes first)",
    'rp1: third device without addr': NO_E1000E,
    'cleanup: device_del r1b': NO_E1000E,
    'cleanup: system_reset': NO_E1000E + ' (r1b is not there to be deleted)',
    'e1000e behind rp1': NO_E1000E,
}


def read(path):
    with open(path) as f:
        return f.read()


class Q35Qmp(unittest.TestCase):
    maxDiff = None

    def compare_pci(self, q, info_path, query_path):
        self.assertEqual(q.hmp('info pci').replace('\r\n', '\n'), read(info_path))
        self.assertEqual(q.cmd('query-pci'), json.loads(read(query_path))['return'])

    def test_bare(self):
        with Pcid(args=['--machine', 'q35']) as d:
            self.compare_pci(d.qmp(), os.path.join(REF, 'q35_bare.info-pci.txt'),
                             os.path.join(REF, 'q35_bare.query-pci.json'))

    def test_root_port_by_device(self):
        with Pcid(args=['--machine', 'q35', '--device', RP1]) as d:
            self.compare_pci(d.qmp(), os.path.join(REF, 'q35_rp1_bare.info-pci.txt'),
                             os.path.join(REF, 'q35_rp1_bare.query-pci.json'))

    def test_device_behind_root_port(self):
        for driver, props in (('virtio-net-pci', {}), ('virtio-blk-pci', {'drive': 'null0'}),
                              ('e1000', {})):
            with self.subTest(driver), Pcid(args=['--machine', 'q35', '--device', RP1] +
                                            NULLS) as d:
                q = d.qmp()
                bare = q.cmd('query-pci')
                q.cmd('device_add', driver=driver, id='dut', bus='rp1', **props)
                # Nothing behind the port shows while its secondary bus number is 0.
                self.assertEqual(q.cmd('query-pci'), bare)
                g = Guest(d.access_path)
                g.enable_ecam()
                g.cfg_write(0, 0x20, 0x19, 1, 1)
                g.cfg_write(0, 0x20, 0x1a, 1, 1)
                g.close()
                stem = os.path.join(QMP, 'q35-rp1-%s.secondary-bus-1' % driver)
                self.compare_pci(q, stem + '.info-pci.txt', stem + '.query-pci.json')

    def replay(self, path, args, uncompared=()):
        with Pcid(args=args) as d:
            q = d.qmp()
            problems = replay.replay(q, replay.load(path), uncompared=uncompared)
            self.assertEqual(problems, [], '\n'.join('%s: %s' % p for p in problems))

    def test_q35_battery(self):
        self.replay(os.path.join(QMP, 'q35-battery.results.jsonl'),
                    ['--machine', 'q35', '--device', RP1] + NULLS, Q35_UNCOMPARED)

    def test_bridges_battery(self):
        steps = replay.load(os.path.join(PCIE_QMP, 'bridges-battery.results.jsonl'))
        q35 = [s for s in steps if not s['label'].startswith('pc: ')]
        pc = [s for s in steps if s['label'].startswith('pc: ')]
        for name, machine, devices, part in (
                ('q35', 'q35', [RP1, 'pci-bridge,id=b1,chassis_nr=2,addr=05.0',
                                'pcie-pci-bridge,id=pb1,addr=06.0'], q35),
                ('pc', 'pc', ['pci-bridge,id=b1,chassis_nr=1,addr=05.0'], pc)):
            args = ['--machine', machine] + NULLS
            for dev in devices:
                args += ['--device', dev]
            with self.subTest(name), Pcid(args=args) as d:
                q = d.qmp()
                problems = replay.replay(q, part)
                self.assertEqual(problems, [], '\n'.join('%s: %s' % p for p in problems))


if __name__ == '__main__':
    unittest.main()
