# SPDX-License-Identifier: MIT
"""Config space of every function, read over REST, byte for byte against QEMU 7.2's dumps.

The reference dumps (tests/data/reference/config/*.hex, lspci -x format) were read from a
paused QEMU right after the device was added. pcid's GET /v1/devices/{bdf}/config returns the
same format; the header line differs (lspci names devices from pci.ids) and is not compared.
Where lspci is installed, `lspci -F` must also decode pcid's dump exactly as QEMU's.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import DATA, Pcid  # noqa: E402

REF = os.path.join(DATA, 'reference', 'config')
QREF = os.path.join(DATA, 'qemu', 'config')

ROW = re.compile(r'^([0-9a-f]{2,3}):((?: [0-9a-f]{2}){16})$')


def hex_bytes(text):
    """The bytes of an lspci -x dump (header line and blank lines ignored)."""
    out = bytearray()
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if m:
            assert int(m.group(1), 16) == len(out), 'rows out of order'
            out += bytes(int(b, 16) for b in m.group(2).split())
    return bytes(out)


def diff(a, b):
    return ['0x%02x: pcid %02x qemu %02x' % (i, x, y) for i, (x, y) in enumerate(zip(a, b))
            if x != y]


# (reference file, bdf, device_add arguments or None for a built-in)
PC_CASES = [
    ('pc-00_00.0-i440FX-host-bridge.hex', '0000:00:00.0', None),
    ('pc-00_01.0-PIIX3-isa.hex', '0000:00:01.0', None),
    ('pc-00_01.1-piix3-ide.hex', '0000:00:01.1', None),
    ('pc-00_01.3-PIIX4_PM.hex', '0000:00:01.3', None),
    ('pc-00_03.0-virtio-net-pci-transitional.hex', '0000:00:03.0',
     {'driver': 'virtio-net-pci', 'id': 'net0', 'addr': '0x3'}),
    ('pc-00_06.0-e1000.hex', '0000:00:06.0', {'driver': 'e1000', 'id': 'nic1', 'addr': '6'}),
]


class ConfigSpace(unittest.TestCase):
    maxDiff = None

    def check_case(self, d, ref_path, bdf, args):
        if args:
            status, body, _ = d.rest('POST', '/v1/devices', args)
            self.assertEqual(status, 201, body)
            self.assertEqual(body['bdf'], bdf)
        status, text, hdrs = d.rest('GET', '/v1/devices/%s/config' % bdf)
        self.assertEqual(status, 200, text)
        self.assertTrue(hdrs['Content-Type'].startswith('text/plain'))
        self.assertTrue(text.startswith(bdf[5:] + ' '), text.splitlines()[0])
        with open(ref_path) as f:
            want = hex_bytes(f.read())
        got = hex_bytes(text)
        self.assertEqual(len(got), len(want))
        self.assertEqual(diff(got, want), [], ref_path)
        return text

    def test_pc_reference(self):
        with Pcid() as d:
            for name, bdf, args in PC_CASES:
                with self.subTest(name):
                    text = self.check_case(d, os.path.join(REF, name), bdf, args)
                    self.check_lspci(text, os.path.join(REF, name))

    @unittest.skipUnless(os.path.isdir(QREF), 'generated QEMU dumps not present')
    def test_pc_generated_variants(self):
        """Every pc-*.hex QEMU variant the generator recorded (tests/data/qemu/config)."""
        import json
        index = os.path.join(QREF, 'index.json')
        if not os.path.exists(index):
            self.skipTest('no index.json in generated dumps')
        with open(index) as f:
            cases = json.load(f)
        for case in cases:
            if case.get('machine') != 'pc' or not case.get('hotplug', True):
                continue
            with self.subTest(case['file']):
                args = case.get('device')
                extra = []
                if args and args.get('driver') == 'virtio-blk-pci':
                    extra = ['--blockdev', 'driver=null-co,node-name=null0']
                with Pcid(args=extra) as d:
                    self.check_case(d, os.path.join(QREF, case['file']), case['bdf'], args)

    def check_lspci(self, text, ref_path):
        lspci = shutil.which('lspci')
        if not lspci:
            return
        with tempfile.NamedTemporaryFile('w', suffix='.hex') as f:
            f.write(text)
            f.flush()
            got = subprocess.run([lspci, '-F', f.name, '-vvv'], capture_output=True, text=True)
        want = subprocess.run([lspci, '-F', ref_path, '-vvv'], capture_output=True, text=True)
        self.assertEqual(got.returncode, 0, got.stderr)
        # lspci warns about kernel-module lookups it cannot do here; anything else is a defect.
        noise = [l for l in got.stderr.splitlines() if 'libkmod' not in l]
        self.assertEqual(noise, [])
        # The first line names the device from pci.ids, identically for identical IDs.
        self.assertEqual(got.stdout, want.stdout, ref_path)


if __name__ == '__main__':
    unittest.main()
