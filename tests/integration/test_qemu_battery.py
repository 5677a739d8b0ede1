# SPDX-License-Identifier: MIT
"""Replay the large QMP battery recorded from QEMU 7.2 (tests/data/qemu/qmp, made by
tests/tools/gen_qemu_reference.py) against pcid: device_add/device_del with every address
form, property type, driver kind, bus, id form and ordering of checks, the multifunction
matrix, HMP commands and QMP protocol errors. Every difference is listed on failure.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import replay  # noqa: E402
from pcid_harness import Pcid  # noqa: E402

QMP = replay.data_path('qemu', 'qmp')
NULL = ['--blockdev', 'driver=null-co,node-name=null0',
        '--blockdev', 'driver=null-co,node-name=null1']

# Steps sent but not compared: their replies are facts of QEMU that pcid does not model.
IDENTITY = 'pcid reports its own version, commands and machine types'
NO_AHCI = 'pcid does not offer ich9-ahci as a pluggable driver on pc'
HMP_LISTING = "QEMU's monitor lists all of QEMU's commands and devices; pcid lists its own"
NOT_MODELLED = {
    'query-version': IDENTITY,
    'query-commands': IDENTITY,
    'query-machines': IDENTITY,
    'raw: two objects on one line': IDENTITY + ' (the second object is query-version)',
    'non-PCI pc-dimm': 'memory devices are outside pcid (PCI only)',
    'non-pluggable ich9-ahci': NO_AHCI,
    'ide-hd after ich9-ahci (np5) was hot-added': NO_AHCI,
    'cleanup (drivers): device_del np5': NO_AHCI,
    'cleanup (drivers): system_reset': NO_AHCI + ' (its removal event is missing)',
    'hmp: info': HMP_LISTING,
    'hmp: help info': HMP_LISTING,
    'hmp: device_add help': HMP_LISTING,
    'hmp: device_add e1000,help': HMP_LISTING + ' (property help text)',
    'hmp: info version': IDENTITY,
    'hmp: info qtree': 'pcid has no QOM tree of non-PCI devices',
}


class Battery(unittest.TestCase):
    maxDiff = None

    @unittest.skipUnless(os.path.exists(os.path.join(QMP, 'pc-battery.results.jsonl')),
                         'battery not generated')
    def test_pc_battery(self):
        steps = replay.load(os.path.join(QMP, 'pc-battery.results.jsonl'))
        with Pcid(args=NULL) as d:
            q = d.qmp()
            problems = replay.replay(q, steps, uncompared=NOT_MODELLED)
            self.assertEqual(problems, [], '\n'.join('%s: %s' % p for p in problems))
            with open(os.path.join(QMP, 'pc-battery.info-pci.txt')) as f:
                self.assertEqual(q.hmp('info pci').replace('\r\n', '\n'), f.read())
            with open(os.path.join(QMP, 'pc-battery.query-pci.json')) as f:
                self.assertEqual(q.cmd('query-pci'), json.load(f)['return'])


if __name__ == '__main__':
    unittest.main()
