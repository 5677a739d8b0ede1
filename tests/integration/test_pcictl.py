# SPDX-License-Identifier: MIT
"""pcictl against a real pcid: every command, tables for people, --json for scripts, the
daemon's message on refusal and the documented exit codes (0 ok, 1 refused, 2 usage,
3 unreachable)."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import PCICTL, Pcid  # noqa: E402


class Pcictl(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.d = Pcid(args=['--blockdev', 'driver=null-co,node-name=null0']).start()
        cls.q = cls.d.qmp()

    @classmethod
    def tearDownClass(cls):
        cls.q.close()
        cls.d.__exit__(None, None, None)

    def tearDown(self):
        for dev in self.q.cmd('query-pci-devices'):
            if dev['hotpluggable'] and not dev['pending-unplug']:
                self.q.cmd('device_del', id=dev['id'] or dev['path'])
        self.q.cmd('system_reset')

    def run_ok(self, *args):
        p = self.d.pcictl(*args)
        self.assertEqual(p.returncode, 0, '%s: %s' % (args, p.stderr))
        return p.stdout

    def test_add_and_info(self):
        out = self.run_ok('add', 'virtio-net-pci', '--id', 'net0', '--addr', '0x3',
                          'mac=52:54:00:12:34:56')
        self.assertIn('net0', out)
        self.assertIn('0000:00:03.0', out)
        dev = self.q.cmd('query-pci-devices', id='net0')[0]
        self.assertEqual(dev['properties'], {'addr': '0x3', 'mac': '52:54:00:12:34:56'})
        text = self.run_ok('info', 'pci')
        self.assertEqual(text, self.q.hmp('info pci').replace('\r\n', '\n'))
        js = json.loads(self.run_ok('--json', 'info', 'pci'))
        self.assertEqual(js['text'], text)

    def test_add_json_and_bus(self):
        out = json.loads(self.run_ok('--json', 'add', 'e1000', '--id', 'n1', '--bus', 'pci.0'))
        self.assertEqual(out, {'id': 'n1', 'bdf': '0000:00:02.0', 'driver': 'e1000'})

    def test_refused(self):
        self.run_ok('add', 'e1000', '--id', 'a', '--addr', '5')
        p = self.d.pcictl('add', 'e1000', '--id', 'b', '--addr', '5')
        self.assertEqual(p.returncode, 1)
        self.assertIn('PCI: slot 5 function 0 not available for e1000, in use by e1000,id=a',
                      p.stderr)
        p = self.d.pcictl('del', 'nosuch')
        self.assertEqual(p.returncode, 1)
        self.assertIn("Device 'nosuch' not found", p.stderr)
        # Refusals changed nothing.
        self.assertEqual([d['id'] for d in self.q.cmd('query-pci-devices') if d['id']], ['a'])

    def test_usage_and_unreachable(self):
        p = self.d.pcictl('frobnicate')
        self.assertEqual(p.returncode, 2)
        p = self.d.pcictl('add')
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([PCICTL, '--socket', '/nonexistent/pcid.sock', 'devices'],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 3)
        self.assertIn('cannot reach pcid', p.stderr)

    def test_slots(self):
        self.run_ok('add', 'e1000', '--id', 'nic', '--addr', '4')
        out = self.run_ok('slots')
        lines = out.splitlines()
        self.assertTrue(lines[0].split()[:4] == ['BUS', 'SLOT', 'STATE', 'HOTPLUG'], lines[0])
        row = [l for l in lines if ' 00:04 ' in ' %s ' % l][0]
        self.assertIn('occupied', row)
        self.assertIn('nic', row)
        free = self.run_ok('slots', '--free').splitlines()
        self.assertEqual(len(free) - 1, 32 - 3)  # slots 0, 1 built in; 4 taken
        self.assertTrue(all('free' in l for l in free[1:]))
        js = json.loads(self.run_ok('--json', 'slots'))
        self.assertEqual(js, self.q.cmd('query-pci-slots'))

    def test_devices_caps_config(self):
        self.run_ok('add', 'virtio-blk-pci', '--id', 'blk0', '--addr', '7', 'drive=null0')
        devs = self.run_ok('devices')
        self.assertIn('0000:00:07.0', devs)
        self.assertIn('blk0', devs)
        caps = self.run_ok('caps', 'blk0')
        self.assertIn('MSI-X', caps)
        self.assertIn('Vendor Specific', caps)
        js = json.loads(self.run_ok('--json', 'caps', '0000:00:07.0'))
        self.assertEqual(js, self.q.cmd('query-pci-capabilities', id='blk0'))
        cfg = self.run_ok('config', 'blk0')
        self.assertTrue(cfg.startswith('00:07.0 '))
        self.assertIn('00: f4 1a 01 10', cfg)

    def test_del(self):
        self.run_ok('add', 'e1000', '--id', 'gone', '--addr', '8')
        out = self.run_ok('del', 'gone')
        self.assertIn('gone', out)
        self.assertTrue(self.q.cmd('query-pci-devices', id='gone')[0]['pending-unplug'])

    def test_qmp(self):
        out = json.loads(self.run_ok('qmp', 'query-status'))
        self.assertEqual(out['return']['status'], 'prelaunch')
        p = self.d.pcictl('qmp', 'nosuch-command')
        self.assertEqual(p.returncode, 1)

    def test_env_url(self):
        env = dict(os.environ, PCID_URL='http://127.0.0.1:%d' % self.d.port)
        p = subprocess.run([PCICTL, '--json', 'devices'], capture_output=True, text=True,
                           env=env, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)), 4)

    def test_version(self):
        self.assertEqual(self.run_ok('--version').strip(), 'pcictl 0.1.0')


if __name__ == '__main__':
    unittest.main()
