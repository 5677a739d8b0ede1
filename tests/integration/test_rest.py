# SPDX-License-Identifier: MIT
"""REST routes of the walking skeleton, against a real pcid.

Every route is checked for its status, the shape of its body, and at least one value against
the machine's state (cross-checked through QMP where that is the source of truth). Errors must
be JSON {"error": {"class", "desc"}} with the documented status, never HTML.
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import Pcid  # noqa: E402

NULL0 = ['--blockdev', 'driver=null-co,node-name=null0']


def is_error(body, cls):
    return (isinstance(body, dict) and set(body) == {'error'} and
            body['error']['class'] == cls and isinstance(body['error']['desc'], str))


class Rest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.d = Pcid(args=NULL0).start()
        cls.q = cls.d.qmp()

    @classmethod
    def tearDownClass(cls):
        cls.q.close()
        cls.d.__exit__(None, None, None)

    def add(self, **args):
        return self.d.rest('POST', '/v1/devices', args)

    def tearDown(self):
        # Leave the machine bare for the next test: request removals, reset to complete them.
        for dev in self.q.cmd('query-pci-devices'):
            if dev['hotpluggable'] and not dev['pending-unplug']:
                # device_del takes an id or, for a device without one, its QOM path.
                self.q.cmd('device_del', id=dev['id'] or dev['path'])
        self.q.cmd('system_reset')

    def test_pci(self):
        status, body, hdrs = self.d.rest('GET', '/v1/pci')
        self.assertEqual(status, 200)
        self.assertTrue(hdrs['Content-Type'].startswith('application/json'))
        self.assertEqual([b['bus'] for b in body], [0])
        self.assertEqual([(x['slot'], x['function']) for x in body[0]['devices']],
                         [(0, 0), (1, 0), (1, 1), (1, 3)])
        self.assertEqual(self.add(driver='e1000', id='e1', addr='9')[0], 201)
        status, body, _ = self.d.rest('GET', '/v1/pci', tcp=True)
        e1 = [x for x in body[0]['devices'] if x['qdev_id'] == 'e1'][0]
        self.assertEqual((e1['slot'], e1['id']['vendor'], e1['id']['device']), (9, 0x8086, 0x100e))
        self.assertEqual(body, self.q.cmd('query-pci'))

    def test_pci_text(self):
        self.add(driver='virtio-net-pci', id='net0', addr='3')
        status, text, hdrs = self.d.rest('GET', '/v1/pci/text')
        self.assertEqual(status, 200)
        self.assertTrue(hdrs['Content-Type'].startswith('text/plain'))
        self.assertNotIn('\r', text)
        self.assertTrue(text.startswith('  Bus  0, device   0, function 0:\n'))
        self.assertIn('  Bus  0, device   3, function 0:\n', text)
        self.assertIn('      id "net0"\n', text)
        self.assertEqual(text, self.q.hmp('info pci').replace('\r\n', '\n'))

    def test_slots(self):
        self.add(driver='virtio-net-pci', id='net0', addr='3')
        self.add(driver='e1000', id='f1', addr='5.1')
        status, body, _ = self.d.rest('GET', '/v1/slots')
        self.assertEqual(status, 200)
        self.assertEqual(len(body), 1)
        bus = body[0]
        self.assertEqual((bus['bus'], bus['bus-id'], bus['hotpluggable']), (0, 'pci.0', True))
        slots = {s['slot']: s for s in bus['slots']}
        self.assertEqual(sorted(slots), list(range(32)))
        for s in bus['slots']:
            self.assertEqual(set(s) - {'reason'}, {'slot', 'state', 'hotpluggable', 'functions',
                                                        'intx'})
        self.assertEqual(slots[0]['state'], 'builtin')
        self.assertEqual(slots[1]['state'], 'builtin')
        self.assertEqual([f['driver'] for f in slots[1]['functions']],
                         ['PIIX3', 'piix3-ide', 'PIIX4_PM'])
        self.assertFalse(slots[1]['hotpluggable'])
        self.assertIn('reason', slots[1])
        self.assertEqual(slots[2]['state'], 'free')
        self.assertNotIn('reason', slots[2])
        self.assertTrue(slots[2]['hotpluggable'])
        self.assertEqual(slots[3]['state'], 'occupied')
        self.assertEqual(slots[3]['functions'][0]['id'], 'net0')
        self.assertEqual(slots[3]['functions'][0]['bdf'], '0000:00:03.0')
        self.assertIn('virtio-net-pci,id=net0', slots[3]['reason'])
        # Only function 1 present: occupied, and the reason says function 0 must come last.
        self.assertEqual(slots[5]['state'], 'occupied')
        self.assertIn('function 0', slots[5]['reason'])
        status, one, _ = self.d.rest('GET', '/v1/slots?bus=pci.0')
        self.assertEqual((status, one), (200, body))
        status, err, _ = self.d.rest('GET', '/v1/slots?bus=nosuch')
        self.assertEqual(status, 400)
        self.assertTrue(is_error(err, 'GenericError'))
        self.assertEqual(err['error']['desc'], "Bus 'nosuch' not found")

    def test_devices(self):
        status, body, _ = self.add(driver='virtio-net-pci', id='net0', addr='0x3',
                                   mac='52:54:00:12:34:56')
        self.assertEqual(status, 201)
        self.assertIn('checked', body.pop('resources'))
        self.assertEqual(body, {'id': 'net0', 'bdf': '0000:00:03.0', 'driver': 'virtio-net-pci'})
        status, body, _ = self.add(driver='e1000')
        self.assertEqual((status, body['id'], body['bdf']), (201, None, '0000:00:02.0'))

        status, devs, _ = self.d.rest('GET', '/v1/devices')
        self.assertEqual(status, 200)
        self.assertEqual([x['bdf'] for x in devs],
                         ['0000:00:00.0', '0000:00:01.0', '0000:00:01.1', '0000:00:01.3',
                          '0000:00:02.0', '0000:00:03.0'])
        net0 = devs[-1]
        self.assertEqual(net0['id'], 'net0')
        self.assertEqual(net0['driver'], 'virtio-net-pci')
        self.assertEqual(net0['properties'], {'addr': '0x3', 'mac': '52:54:00:12:34:56'})
        self.assertFalse(net0['pending-unplug'])
        self.assertEqual(net0['path'], '/machine/peripheral/net0')

        for key in ('net0', '0000:00:03.0', '00:03.0'):
            status, one, _ = self.d.rest('GET', '/v1/devices/' + key)
            self.assertEqual((status, one), (200, net0), key)
        status, err, _ = self.d.rest('GET', '/v1/devices/nosuch')
        self.assertEqual(status, 404)
        self.assertTrue(is_error(err, 'DeviceNotFound'))
        status, err, _ = self.d.rest('GET', '/v1/devices/0000:00:1f.0')
        self.assertEqual(status, 404)

    def test_add_errors(self):
        self.add(driver='virtio-net-pci', id='net0', addr='3')
        cases = [
            ({'driver': 'e1000', 'id': 'x', 'addr': '3'}, 409, 'GenericError',
             'PCI: slot 3 function 0 not available for e1000, in use by virtio-net-pci,id=net0'),
            ({'driver': 'e1000', 'id': 'net0'}, 409, 'GenericError', "Duplicate device ID 'net0'"),
            ({'driver': 'e1000', 'id': 'x', 'addr': 'zz'}, 400, 'GenericError',
             "Property 'e1000.addr' doesn't take value 'zz'"),
            ({'driver': 'nosuch'}, 400, 'GenericError', "'nosuch' is not a valid device model name"),
            ({'id': 'x'}, 400, 'GenericError', "Parameter 'driver' is missing"),
            ({'driver': 'virtio-blk-pci', 'id': 'b'}, 400, 'GenericError', 'drive property not set'),
        ]
        for args, status, cls, desc in cases:
            got_status, body, _ = self.add(**args)
            self.assertEqual(got_status, status, args)
            self.assertTrue(is_error(body, cls), body)
            self.assertEqual(body['error']['desc'], desc)
        # Nothing changed: only the built-ins and net0.
        self.assertEqual(len(self.q.cmd('query-pci')[0]['devices']), 5)

    def test_transport_errors(self):
        status, body, _ = self.d.rest('POST', '/v1/devices', '{"driver": ')
        self.assertEqual(status, 400)
        self.assertTrue(body['error']['desc'].startswith('JSON parse error'))
        status, body, _ = self.d.rest('POST', '/v1/devices', '[1]')
        self.assertEqual(status, 400)
        status, body, _ = self.d.rest('POST', '/v1/devices', '{"driver":"e1000"}',
                                      headers={'Content-Type': 'text/plain'})
        self.assertEqual(status, 415)
        self.assertTrue(is_error(body, 'GenericError'))
        big = '{"driver": "e1000", "x": "' + 'a' * (1024 * 1024) + '"}'
        status, body, _ = self.d.rest('POST', '/v1/devices', big)
        self.assertEqual(status, 413)
        self.assertTrue(is_error(body, 'GenericError'))
        status, body, hdrs = self.d.rest('PUT', '/v1/pci')
        self.assertEqual(status, 405)
        self.assertIn('GET', hdrs.get('Allow', ''))
        self.assertTrue(is_error(body, 'GenericError'))
        status, body, _ = self.d.rest('GET', '/v2/nothing')
        self.assertEqual(status, 404)
        self.assertTrue(is_error(body, 'GenericError'))
        # Still serving, state intact.
        self.assertEqual(len(self.q.cmd('query-pci')[0]['devices']), 4)

    def test_delete(self):
        self.add(driver='virtio-net-pci', id='net0', addr='3')
        status, body, _ = self.d.rest('DELETE', '/v1/devices/net0')
        self.assertEqual((status, body), (202, {'id': 'net0', 'pending': True}))
        status, one, _ = self.d.rest('GET', '/v1/devices/net0')
        self.assertTrue(one['pending-unplug'])
        status, body, _ = self.d.rest('DELETE', '/v1/devices/net0')
        self.assertEqual(status, 409)
        self.assertEqual(body['error']['desc'], 'Device net0 is already in the process of unplug')
        status, body, _ = self.d.rest('DELETE', '/v1/devices/nosuch')
        self.assertEqual(status, 404)
        self.assertTrue(is_error(body, 'DeviceNotFound'))
        # A reset completes the pending removal (no guest runs).
        status, body, _ = self.d.rest('POST', '/v1/qmp', {'execute': 'system_reset'})
        self.assertEqual((status, body), (200, {'return': {}}))
        status, _, _ = self.d.rest('GET', '/v1/devices/net0')
        self.assertEqual(status, 404)

    def test_capabilities(self):
        self.add(driver='virtio-net-pci', id='net0', addr='3')
        status, caps, _ = self.d.rest('GET', '/v1/devices/net0/capabilities')
        self.assertEqual(status, 200)
        self.assertEqual([(c['offset'], c['cap-id'], c['name']) for c in caps],
                         [(0x98, 0x11, 'MSI-X'), (0x84, 9, 'Vendor Specific'),
                          (0x70, 9, 'Vendor Specific'), (0x60, 9, 'Vendor Specific'),
                          (0x50, 9, 'Vendor Specific'), (0x40, 9, 'Vendor Specific')])
        msix = caps[0]
        self.assertEqual((msix['size'], msix['extended']), (12, False))
        self.assertEqual(msix['fields'], {'enabled': False, 'function-mask': False,
                                          'table-size': 4, 'table-bar': 1, 'table-offset': 0,
                                          'pba-bar': 1, 'pba-offset': 0x800})
        notify = caps[2]
        self.assertEqual(notify['fields'], {'virtio-cfg-type': 'notify', 'bar': 4,
                                            'offset': 0x3000, 'length': 0x1000,
                                            'notify-off-multiplier': 4})
        status, same, _ = self.d.rest('GET', '/v1/devices/0000:00:03.0/capabilities')
        self.assertEqual((status, same), (200, caps))
        status, none, _ = self.d.rest('GET', '/v1/devices/0000:00:00.0/capabilities')
        self.assertEqual((status, none), (200, []))

    def test_config(self):
        self.add(driver='e1000', id='nic1', addr='6')
        status, text, hdrs = self.d.rest('GET', '/v1/devices/nic1/config')
        self.assertEqual(status, 200)
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith('00:06.0 Ethernet controller'))
        # A hot-added e1000 keeps the Cache Line Size (0x0c) its model sets until a reset, as
        # in QEMU 7.2.
        self.assertEqual(lines[1], '00: 86 80 0e 10 00 00 00 00 03 00 00 02 10 00 00 00')
        self.assertEqual(len([l for l in lines[1:] if l]), 16)

    def test_qmp_route(self):
        status, body, _ = self.d.rest('POST', '/v1/qmp', {'execute': 'query-status', 'id': 7})
        self.assertEqual(status, 200)
        self.assertEqual(body, {'return': {'status': 'prelaunch', 'singlestep': False,
                                           'running': False}, 'id': 7})
        status, body, _ = self.d.rest('POST', '/v1/qmp', {'execute': 'nosuch'})
        self.assertEqual(status, 200)
        self.assertEqual(body['error']['class'], 'CommandNotFound')
        status, body, _ = self.d.rest('POST', '/v1/qmp', {'arguments': {}})
        self.assertEqual(status, 200)
        self.assertEqual(body['error']['desc'], "QMP input lacks member 'execute'")

    @unittest.skipUnless(shutil.which('curl'), 'curl not installed')
    def test_curl(self):
        """The way the docs drive it: curl over TCP and over the unix socket."""
        base = 'http://127.0.0.1:%d' % self.d.port
        out = subprocess.run(['curl', '-sS', '-X', 'POST', '-H', 'Content-Type: application/json',
                              '-d', '{"driver":"e1000","id":"c1","addr":"0x7"}',
                              '-w', '\n%{http_code}', base + '/v1/devices'],
                             capture_output=True, text=True, check=True).stdout
        body, code = out.rsplit('\n', 1)
        self.assertEqual(code, '201')
        self.assertEqual(json.loads(body)['bdf'], '0000:00:07.0')
        out = subprocess.run(['curl', '-sS', '--unix-socket', self.d.rest_path,
                              'http://localhost/v1/pci/text'],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn('id "c1"', out)
        out = subprocess.run(['curl', '-sS', '-X', 'DELETE', '-w', '\n%{http_code}',
                              base + '/v1/devices/c1'], capture_output=True, text=True).stdout
        self.assertEqual(out.rsplit('\n', 1)[1], '202')


if __name__ == '__main__':
    unittest.main()
