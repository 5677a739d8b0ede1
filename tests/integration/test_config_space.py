# SPDX-License-Identifier: MIT
"""Config space of every function, read over REST, byte for byte against QEMU 7.2's dumps.

The reference dumps (tests/data/reference/config/*.hex, lspci -x format) were read from a
paused QEMU right after the device was added. pcid's GET /v1/devices/{bdf}/config returns the
same format; the header line differs (lspci names devices from pci.ids) and is not compared.
Where lspci is installed, `lspci -F` must also decode pcid's dump exactly as QEMU's.
"""

import json
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


# (reference file, bdf, -device spec or None for a built-in). The shared dumps were taken
# after the machine's power-on reset, so the devices are cold-plugged: a reset matters (QEMU's
# e1000 sets Cache Line Size 0x10 when it is created and a reset clears it).
PC_CASES = [
    ('pc-00_00.0-i440FX-host-bridge.hex', '0000:00:00.0', None),
    ('pc-00_01.0-PIIX3-isa.hex', '0000:00:01.0', None),
    ('pc-00_01.1-piix3-ide.hex', '0000:00:01.1', None),
    ('pc-00_01.3-PIIX4_PM.hex', '0000:00:01.3', None),
    ('pc-00_03.0-virtio-net-pci-transitional.hex', '0000:00:03.0',
     'virtio-net-pci,id=net0,addr=0x3'),
    ('pc-00_06.0-e1000.hex', '0000:00:06.0', 'e1000,id=nic1,addr=6'),
]


class ConfigSpace(unittest.TestCase):
    maxDiff = None

    def read_config(self, d, bdf):
        status, text, hdrs = d.rest('GET', '/v1/devices/%s/config' % bdf)
        self.assertEqual(status, 200, text)
        self.assertTrue(hdrs['Content-Type'].startswith('text/plain'))
        self.assertTrue(text.startswith(bdf[5:] + ' '), text.splitlines()[0])
        return text

    def assert_same(self, text, ref_path):
        with open(ref_path) as f:
            want = hex_bytes(f.read())
        got = hex_bytes(text)
        self.assertEqual(len(got), len(want))
        self.assertEqual(diff(got, want), [], ref_path)

    def test_pc_reference(self):
        args = []
        for _, _, spec in PC_CASES:
            if spec:
                args += ['--device', spec]
        with Pcid(args=args) as d:
            for name, bdf, _ in PC_CASES:
                with self.subTest(name):
                    text = self.read_config(d, bdf)
                    self.assert_same(text, os.path.join(REF, name))
                    self.check_lspci(text, os.path.join(REF, name))

    def test_pc_generated_variants(self):
        """Every pc variant recorded by tests/tools/gen_qemu_reference.py, plugged the same way:
        hot (device_add), cold (--device) or hot then system_reset."""
        with open(os.path.join(QREF, 'variants.json')) as f:
            variants = [v for v in json.load(f) if 'properties' in v and
                        v['plug'] in ('hot', 'cold', 'hot+reset') and
                        not v['name'].startswith('q35')]
        self.assertGreater(len(variants), 30)
        for v in variants:
            with self.subTest(v['name']):
                rom = v['properties'].get('romfile', '')
                if rom.startswith('/') and not os.path.exists(rom):
                    self.skipTest('%s not installed' % rom)
                props = dict(v['properties'], driver=v['driver'], id='dut', addr='0x3')
                spec = ','.join([v['driver']] + ['%s=%s' % (k, val.replace(',', ',,'))
                                                 for k, val in props.items() if k != 'driver'])
                args = ['--blockdev', 'driver=null-co,node-name=null0']
                if v['plug'] == 'cold':
                    args += ['--device', spec]
                with Pcid(args=args) as d:
                    if v['plug'] != 'cold':
                        status, body, _ = d.rest('POST', '/v1/devices', props)
                        self.assertEqual(status, 201, body)
                    if v['plug'] == 'hot+reset':
                        d.qmp().cmd('system_reset')
                    text = self.read_config(d, '0000:00:03.0')
                    path = os.path.join(QREF, 'pc-%s.hex' % v['name'])
                    self.assert_same(text, path)
                    self.check_lspci(text, path)

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
