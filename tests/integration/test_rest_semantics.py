# SPDX-License-Identifier: MIT
"""REST semantics beyond single routes, against a real pcid: the topology generation as ETag on
every read, If-Match on every write (412 and nothing changes), device_add's dry run,
DELETE ?wait=, GET /v1/machine, HEAD.
"""

import http.client
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import TIME_FACTOR, Pcid, UnixHTTPConnection  # noqa: E402

NULL0 = ['--blockdev', 'driver=null-co,node-name=null0']
READS = ['/v1/machine', '/v1/pci', '/v1/pci/text', '/v1/slots', '/v1/devices',
         '/v1/devices/0000:00:00.0', '/v1/devices/0000:00:00.0/capabilities',
         '/v1/devices/0000:00:00.0/config']


class Semantics(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.d = Pcid(args=NULL0).start()  # no guest: removals wait for a reset
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

    def gen(self):
        status, m, hdrs = self.d.rest('GET', '/v1/machine')
        self.assertEqual(hdrs['ETag'], '"%d"' % m['generation'])
        return m['generation']

    def newest_event(self):
        s = self.d.events(follow=False)
        n = int(s.greeting().rsplit(' ', 1)[1])
        s.close()
        return n

    def etags(self):
        return {p: self.d.rest('GET', p)[2].get('ETag') for p in READS}

    def test_generation(self):
        g = self.gen()
        self.assertEqual(set(self.etags().values()), {'"%d"' % g})
        status, body, hdrs = self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'a'})
        self.assertEqual((status, hdrs['ETag']), (201, '"%d"' % (g + 1)))
        self.assertEqual(set(self.etags().values()), {'"%d"' % (g + 1)})
        # Refusals, dry runs and reads change nothing.
        self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'a'})
        self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'dry-run': True})
        self.q.cmd('query-pci')
        self.assertEqual(self.gen(), g + 1)
        # An unplug request bumps it, and so does the removal (one per function).
        status, body, hdrs = self.d.rest('DELETE', '/v1/devices/a')
        self.assertEqual((status, hdrs['ETag']), (202, '"%d"' % (g + 2)))
        self.q.cmd('system_reset')
        self.assertEqual(self.gen(), g + 3)
        # QMP and HMP changes count the same way.
        self.q.hmp('device_add e1000,id=b')
        self.assertEqual(self.gen(), g + 4)
        self.assertEqual(self.q.cmd('query-pci-machine')['generation'], g + 4)

    def test_if_match(self):
        g = self.gen()
        before = self.q.cmd('query-pci-devices')
        for tag in ('"%d"' % (g + 7), 'W/"%d"' % g, 'garbage', '"%d' % g, '""'):
            for method, path, body in (('POST', '/v1/devices', {'driver': 'e1000', 'id': 'x'}),
                                       ('DELETE', '/v1/devices/0000:00:00.0', None),
                                       ('POST', '/v1/qmp', {'execute': 'device_add', 'arguments':
                                                            {'driver': 'e1000', 'id': 'y'}})):
                status, err, hdrs = self.d.rest(method, path, body, headers={'If-Match': tag})
                self.assertEqual(status, 412, (tag, method, path, err))
                self.assertEqual(hdrs['ETag'], '"%d"' % g)
                self.assertIn('generation %d' % g, err['error']['desc'])
        self.assertEqual(self.q.cmd('query-pci-devices'), before)
        self.assertEqual(self.gen(), g)
        # The current tag, a list holding it, or * let the write through.
        for i, tag in enumerate(('"%d"' % g, '"1000", "%d"' % (g + 1), '*')):
            status, body, hdrs = self.d.rest('POST', '/v1/devices',
                                             {'driver': 'e1000', 'id': 'ok%d' % i},
                                             headers={'If-Match': tag})
            self.assertEqual(status, 201, (tag, body))
        g = self.gen()
        status, body, _ = self.d.rest('DELETE', '/v1/devices/ok0', headers={'If-Match': '"%d"' % g})
        self.assertEqual(status, 202)
        # Reads ignore If-Match.
        status, _, _ = self.d.rest('GET', '/v1/pci', headers={'If-Match': '"12345"'})
        self.assertEqual(status, 200)

    def test_dry_run(self):
        g = self.gen()
        newest = self.newest_event()
        slots = self.q.cmd('query-pci-slots')
        cases = [
            ({'driver': 'e1000'}, 200, '0000:00:02.0'),
            ({'driver': 'e1000', 'addr': '0x9', 'id': 'n9'}, 200, '0000:00:09.0'),
            ({'driver': 'virtio-blk-pci', 'drive': 'null0', 'id': 'b'}, 200, '0000:00:02.0'),
            ({'driver': 'virtio-blk-pci', 'drive': 'null0', 'id': 'c'}, 200, '0000:00:02.0'),
            ({'driver': 'e1000', 'addr': '0x1'}, 409, None),
            ({'driver': 'nosuch'}, 400, None),
        ]
        for args, status, bdf in cases:
            got, body, _ = self.d.rest('POST', '/v1/devices', dict(args, **{'dry-run': True}))
            self.assertEqual(got, status, (args, body))
            if bdf:
                # The fit report (docs/api.md "Resources") comes with the place.
                self.assertIn('checked', body.pop('resources'))
                self.assertEqual(body, {'bdf': bdf, 'driver': args['driver'],
                                        'id': args.get('id'), 'dry-run': True})
            else:
                # The same refusal a real add gets.
                self.assertEqual(body, self.d.rest('POST', '/v1/devices', args)[1])
        # Nothing changed: no device, no drive claimed, no event, same generation.
        self.assertEqual(self.q.cmd('query-pci-slots'), slots)
        self.assertEqual(self.gen(), g)
        self.assertEqual(self.q.cmd('query-named-block-nodes')[0]['users'], [])
        self.assertEqual(self.newest_event(), newest)
        # The real add takes the address the dry run named.
        status, body, _ = self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'addr': '0x9',
                                                              'id': 'n9'})
        self.assertEqual((status, body['bdf']), (201, '0000:00:09.0'))
        status, body, _ = self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'dry-run': 1})
        self.assertEqual(status, 400)
        status, body, _ = self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'dry-run': True},
                                      headers={'If-Match': '"999"'})
        self.assertEqual(status, 412)

    def test_delete_wait(self):
        self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'w'})
        for bad in ('61', '-1', 'nan', 'inf', '', '1s'):
            status, body, _ = self.d.rest('DELETE', '/v1/devices/w?wait=' + bad)
            self.assertEqual(status, 400, bad)
            self.assertIn("'wait'", body['error']['desc'])
        self.assertFalse(self.q.cmd('query-pci-devices', id='w')[0]['pending-unplug'])
        # No guest: the wait runs out, 202.
        t0 = time.time()
        status, body, _ = self.d.rest('DELETE', '/v1/devices/w?wait=0.3')
        self.assertEqual((status, body), (202, {'id': 'w', 'pending': True}))
        self.assertGreaterEqual(time.time() - t0, 0.3)
        # A reset while a request waits completes the removal: 200.
        self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'v'})
        result = {}

        def waiter():
            result['r'] = self.d.rest('DELETE', '/v1/devices/v?wait=%d'
                                      % min(20 * TIME_FACTOR, 60))
        t = threading.Thread(target=waiter)
        t.start()
        deadline = time.time() + 10
        while not self.q.cmd('query-pci-devices', id='v')[0]['pending-unplug']:
            self.assertLess(time.time(), deadline)
            time.sleep(0.01)
        # Other requests are served while one waits.
        self.assertEqual(self.d.rest('GET', '/v1/machine')[0], 200)
        self.q.cmd('system_reset')
        t.join(30)
        status, body, hdrs = result['r']
        self.assertEqual((status, body), (200, {'id': 'v', 'deleted': True}))
        self.assertEqual(hdrs['ETag'], '"%d"' % self.gen())

    def test_delete_by_bdf(self):
        """A function without an id is deleted by BDF (device_del gets its QOM path)."""
        status, body, _ = self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'addr': '7'})
        status, body, _ = self.d.rest('DELETE', '/v1/devices/0000:00:07.0')
        self.assertEqual(status, 202)
        self.assertTrue(body['id'].startswith('/machine/peripheral-anon/device['))
        self.assertTrue(self.q.cmd('query-pci-devices', bdf='0000:00:07.0')[0]['pending-unplug'])

    def test_machine(self):
        status, m, _ = self.d.rest('GET', '/v1/machine')
        self.assertEqual(status, 200)
        self.assertEqual((m['type'], m['alias'], m['version']), ('pcid-pc-1.1', 'pc', '0.1.0'))
        self.assertEqual(m['buses'], [{'name': 'pci.0', 'number': 0, 'express': False,
                                       'hotpluggable': True, 'parent': None, 'slots': 32,
                                       'functions': 4}])
        self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'addr': '4.1'})
        status, m2, _ = self.d.rest('GET', '/v1/machine')
        self.assertEqual((m2['functions'], m2['buses'][0]['functions']), (5, 5))
        self.assertEqual(m2['generation'], m['generation'] + 1)

    def test_head(self):
        for path in ('/v1/pci', '/v1/machine', '/v1/events'):
            conn = UnixHTTPConnection(self.d.rest_path, timeout=5)
            conn.request('HEAD', path)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200, path)
            self.assertEqual(resp.read(), b'')
            if path != '/v1/events':
                self.assertRegex(resp.getheader('ETag'), r'^"[0-9]+"$')
            conn.close()

    def test_tcp_and_unix_agree(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.d.port, timeout=5)
        conn.request('GET', '/v1/machine')
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.getheader('ETag'), '"%d"' % self.gen())
        conn.close()


if __name__ == '__main__':
    unittest.main()
