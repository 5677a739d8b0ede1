# SPDX-License-Identifier: MIT
"""q35, PCI Express and bridge config spaces against QEMU 7.2, read as a guest reads them.

Every capture of tests/data/qemu/pcie/cases.json (made by tests/tools/gen_pcie_reference.py) is
redone on pcid with the same machine and --device list: the same configuration writes (ECAM
enabled through the MCH's PCIEXBAR, bridge bus numbers), then the same dword reads through
CF8/CFC or ECAM (4 KiB for PCI Express functions), compared byte for byte; where QEMU's write
probe was recorded, the same probe runs on pcid and must find the same writable bits,
write-1-to-clear bits, side effects and bytes left changed. The shared reference dumps of the
MCH, LPC and root port (tests/data/reference/config) are checked the same way, and `lspci -F`
must decode pcid's 4 KiB dumps of a root port and of a device behind it exactly as QEMU's.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tools'))
sys.dont_write_bytecode = True
from pcid_harness import DATA, Guest, Pcid  # noqa: E402
import gen_pcie_reference as gen  # noqa: E402
from qemu_harness import parse_lspci_x, to_lspci_x  # noqa: E402

PCIE = os.path.join(DATA, 'qemu', 'pcie')
REF = os.path.join(DATA, 'reference', 'config')
NULL0 = ['--blockdev', 'driver=null-co,node-name=null0']


def load_cases():
    with open(os.path.join(PCIE, 'cases.json')) as f:
        return json.load(f)


def hex_of(path):
    with open(path) as f:
        return parse_lspci_x(f.read())[1]


def diff(got, want):
    return ['0x%03x: pcid %02x qemu %02x' % (i, a, b) for i, (a, b) in enumerate(zip(got, want))
            if a != b] + (['size %d != %d' % (len(got), len(want))] if len(got) != len(want)
                          else [])


def pcid_args(case):
    args = ['--machine', case['machine']] + NULL0
    for d in case['devices']:
        args += ['--device', d]
    return args


def setup(g, case):
    ecam = False
    for step in case['setup']:
        if step[0] == 'ecam':
            g.enable_ecam()
            ecam = True
        else:
            _, bus, devfn, sec, sub = step
            g.cfg_write(bus, devfn, 0x19, sec, 1)
            g.cfg_write(bus, devfn, 0x1a, sub, 1)
    return ecam


class Q35Config(unittest.TestCase):
    maxDiff = None

    def run_case(self, case):
        with Pcid(args=pcid_args(case)) as d:
            g = Guest(d.access_path)
            bus, devfn = case['bus'], case['devfn']
            if case['pristine']:
                want = hex_of(os.path.join(PCIE, 'config', case['name'] + '.pristine.hex'))
                self.assertEqual(diff(g.dump(bus, devfn, 256, False), want), [], 'pristine')
            ecam = setup(g, case)
            size = case['size'] if ecam else 256
            got = g.dump(bus, devfn, size, ecam)
            self.assertEqual(diff(got, hex_of(os.path.join(PCIE, 'config', case['name'] + '.hex'))),
                             [], 'dump')
            if case['masks']:
                raw = g.probe(bus, devfn, size, ecam)
                after = g.dump(bus, devfn, size, ecam)
                nr = [{'offset': '0x%03x' % o, 'before': '0x%02x' % got[o],
                       'after': '0x%02x' % after[o]} for o in range(size) if got[o] != after[o]]
                mine = gen.masks_doc('', size, ecam, got, raw, nr)
                with open(os.path.join(PCIE, 'config', case['name'] + '.masks.json')) as f:
                    want = json.load(f)
                for key in ('rw_mask', 'w1c_candidate_mask', 'bytes_with_side_effects',
                            'not_restored_after_byte_probe'):
                    self.assertEqual(mine[key], want[key], key)
            g.close()

    def test_cases(self):
        cases = load_cases()
        self.assertGreater(len(cases), 25)
        for case in cases:
            with self.subTest(case['name']):
                self.run_case(case)

    def test_shared_reference(self):
        """The dumps in tests/data/reference/config: MCH and LPC before any write (256 bytes),
        the root port through ECAM after the bus-number writes (4 KiB), populated at reset."""
        rp1 = 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0'
        with Pcid(args=['--machine', 'q35', '--device', rp1,
                        '--device', 'virtio-net-pci,bus=rp1']) as d:
            g = Guest(d.access_path)
            for name, devfn in (('q35-pristine-00_00.0-mch-host-bridge.hex', 0x00),
                                ('q35-pristine-00_1f.0-ICH9-LPC.hex', 0xf8),
                                ('q35-pristine-00_04.0-pcie-root-port-rp1.hex', 0x20)):
                with self.subTest(name):
                    self.assertEqual(diff(g.dump(0, devfn, 256, False),
                                          hex_of(os.path.join(REF, name))), [])
            g.enable_ecam()
            g.cfg_write(0, 0x20, 0x19, 1, 1)
            g.cfg_write(0, 0x20, 0x1a, 1, 1)
            with self.subTest('root port, 4 KiB'):
                self.assertEqual(diff(g.dump(0, 0x20, 4096, True),
                                      hex_of(os.path.join(REF,
                                                          'q35-00_04.0-pcie-root-port-rp1.hex'))),
                                 [])
            # A conventional function reads all-ones from 0x100 up through ECAM.
            for devfn in (0x00, 0xf8):
                self.assertEqual(g.dump(0, devfn, 4096, True)[256:], b'\xff' * 3840)
            g.close()

    def test_lspci_reads_pcid_dumps(self):
        """lspci -F decodes pcid's 4 KiB dumps of a root port and of the virtio device behind
        it without complaint, exactly as it decodes QEMU's."""
        lspci = shutil.which('lspci')
        if not lspci:
            self.skipTest('lspci not installed')
        case = next(c for c in load_cases() if c['name'] == 'q35-rp1-virtio-net-pci-transitional')
        with Pcid(args=pcid_args(case)) as d:
            g = Guest(d.access_path)
            setup(g, case)
            dumps = {'q35-rp1-virtio-net-pci-transitional': ('01:00.0', g.dump(1, 0, 4096, True)),
                     'root port': ('00:04.0', g.dump(0, 0x20, 4096, True))}
            g.close()
        # The port is populated by a PCIe function at reset, as in the shared reference.
        want = {'q35-rp1-virtio-net-pci-transitional':
                os.path.join(PCIE, 'config', 'q35-rp1-virtio-net-pci-transitional.hex'),
                'root port': os.path.join(REF, 'q35-00_04.0-pcie-root-port-rp1.hex')}
        for name, (bdf, data) in dumps.items():
            with self.subTest(name), tempfile.NamedTemporaryFile('w', suffix='.hex') as f:
                f.write(to_lspci_x(bdf + ' pcid', data))
                f.flush()
                got = subprocess.run([lspci, '-F', f.name, '-vvv'], capture_output=True,
                                     text=True)
                ref = subprocess.run([lspci, '-F', want[name], '-vvv'], capture_output=True,
                                     text=True)
                self.assertEqual(got.returncode, 0, got.stderr)
                self.assertEqual([l for l in got.stderr.splitlines() if 'libkmod' not in l], [])
                if name == 'root port':
                    self.assertIn('Capabilities: [100 v2] Advanced Error Reporting', got.stdout)
                self.assertEqual(got.stdout, ref.stdout)


if __name__ == '__main__':
    unittest.main()
