# SPDX-License-Identifier: MIT
"""Events over QMP and over REST (GET /v1/events, Server-Sent Events), against a real pcid.

QMP clients and event streams get the same event objects; every event has an id in the
stream; a stream resumes after Last-Event-ID, says when events it asks for are gone
(events-lost), refuses a malformed id; DEVICE_UNPLUG_GUEST_ERROR comes when the guest refuses
an unplug (--guest-refuse-unplug) and the device stays; a stopping pcid ends streams at once.
"""

import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import PCID, TIME_FACTOR, Pcid  # noqa: E402

RING = 1024  # API_EVENT_RING


def data_of(events):
    return [(e['event'], e.get('data')) for e in events]


class Events(unittest.TestCase):
    maxDiff = None

    def test_same_payloads_on_qmp_and_sse(self):
        with Pcid(guest='cooperative') as d:
            s = d.events()
            self.assertEqual(s.status, 200)
            self.assertTrue(s.headers['Content-Type'].startswith('text/event-stream'))
            self.assertEqual(s.greeting(), 'pcid events, newest id 0')
            q = d.qmp()
            q.cmd('device_add', driver='virtio-net-pci', id='net0', addr='3')
            q.cmd('device_add', driver='e1000', addr='5')
            q.cmd('device_del', id='net0')
            qmp = q.wait_events(4, timeout=10 * TIME_FACTOR)
            sse = [s.next() for _ in range(4)]
            # The same objects, timestamps included, in the same order; ids 1, 2, ...
            self.assertEqual([e['data'] for e in sse], qmp)
            self.assertEqual([e['id'] for e in sse], [1, 2, 3, 4])
            self.assertEqual([e['event'] for e in sse], [e['event'] for e in qmp])
            self.assertEqual(data_of(qmp), [
                ('PCI_DEVICE_ADDED', {'device': 'net0', 'bdf': '0000:00:03.0'}),
                ('PCI_DEVICE_ADDED', {'bdf': '0000:00:05.0'}),
                ('DEVICE_DELETED', {'path': '/machine/peripheral/net0/virtio-backend'}),
                ('DEVICE_DELETED', {'device': 'net0', 'path': '/machine/peripheral/net0'}),
            ])
            # RESET too, and a second stream opened now sees only what comes after it.
            s2 = d.events()
            self.assertEqual(s2.greeting(), 'pcid events, newest id 4')
            q.cmd('system_reset')
            self.assertEqual(s.next()['event'], 'RESET')
            e = s2.next()
            self.assertEqual((e['id'], e['event'], e['data']['data']),
                             (5, 'RESET', {'guest': False, 'reason': 'host-qmp-system-reset'}))
            s.close()
            s2.close()
            q.close()

    def test_resume(self):
        with Pcid() as d:
            q = d.qmp()
            for i in range(5):
                q.cmd('device_add', driver='e1000', id='n%d' % i)
            # Resume after event 2: events 3..5, then (follow=false) the end.
            s = d.events(last_id=2, follow=False)
            got = []
            while (e := s.next()) is not None:
                got.append(e)
            self.assertEqual([e['id'] for e in got], [3, 4, 5])
            self.assertEqual([e['data']['data']['device'] for e in got], ['n2', 'n3', 'n4'])
            s.close()
            # Last-Event-ID: 0 is everything kept; following, new events come after them.
            s = d.events(last_id=0)
            self.assertEqual([s.next()['id'] for _ in range(5)], [1, 2, 3, 4, 5])
            q.cmd('device_del', id='n0')
            q.cmd('system_reset')
            e = s.next()
            self.assertEqual((e['id'], e['event']), (6, 'RESET'))
            e = s.next()
            self.assertEqual((e['id'], e['event'], e['data']['data']['device']),
                             (7, 'DEVICE_DELETED', 'n0'))
            s.close()
            q.close()
            # A malformed id is refused.
            for bad in ('x', '-1', '1.5', ''):
                status, body, _ = d.rest('GET', '/v1/events', headers={'Last-Event-ID': bad})
                self.assertEqual(status, 400, bad)
                self.assertIn('Last-Event-ID', body['error']['desc'])
            status, body, _ = d.rest('GET', '/v1/events?follow=sometimes')
            self.assertEqual(status, 400)

    def test_lost(self):
        """Events beyond the ring are announced as lost, then everything kept follows."""
        with Pcid() as d:
            q = d.qmp()
            total = RING + 100
            for _ in range(total):
                q.cmd('system_reset')  # one RESET each
            oldest = total - RING + 1
            s = d.events(last_id=5, follow=False)
            first = s.next()
            self.assertEqual(first['event'], 'events-lost')
            self.assertNotIn('id', first)
            self.assertEqual(first['data'], {'last-event-id': 5, 'oldest-id': oldest,
                                             'newest-id': total})
            ids = []
            while (e := s.next()) is not None:
                self.assertEqual(e['event'], 'RESET')
                ids.append(e['id'])
            self.assertEqual(ids, list(range(oldest, total + 1)))
            s.close()
            # Nothing lost when resuming from inside the ring.
            s = d.events(last_id=total - 2, follow=False)
            self.assertEqual([s.next()['id'], s.next()['id'], s.next()], [total - 1, total, None])
            s.close()
            # An id beyond the newest (an earlier pcid's) is lost too.
            s = d.events(last_id=total + 50, follow=False)
            self.assertEqual(s.next()['data']['last-event-id'], total + 50)
            self.assertEqual(s.next()['id'], oldest)
            s.close()
            q.close()

    def test_unplug_guest_error(self):
        """The guest refuses slot 5: DEVICE_UNPLUG_GUEST_ERROR, the device stays and may be
        deleted again; slot 6 is ejected as usual."""
        with Pcid(args=['--guest-refuse-unplug', '5'], guest='cooperative') as d:
            q = d.qmp()
            s = d.events()
            s.greeting()
            q.cmd('device_add', driver='e1000', id='stuck', addr='5')
            q.cmd('device_add', driver='e1000', id='free', addr='6')
            q.cmd('device_del', id='stuck')
            evs = q.wait_events(3, timeout=10 * TIME_FACTOR)
            self.assertEqual(data_of(evs[2:]), [
                ('DEVICE_UNPLUG_GUEST_ERROR', {'device': 'stuck',
                                               'path': '/machine/peripheral/stuck'})])
            sse = [s.next() for _ in range(3)]
            self.assertEqual([e['data'] for e in sse], evs)
            dev = q.cmd('query-pci-devices', id='stuck')[0]
            self.assertFalse(dev['pending-unplug'])
            # Again (the request was withdrawn, so it is accepted), and over REST with a wait.
            status, body, hdrs = d.rest('DELETE', '/v1/devices/stuck?wait=%d' % min(10 * TIME_FACTOR, 60))
            self.assertEqual(status, 409)
            self.assertIn('refused', body['error']['desc'])
            self.assertEqual(s.next()['event'], 'DEVICE_UNPLUG_GUEST_ERROR')
            self.assertEqual(hdrs['ETag'], '"%d"' % q.cmd('query-pci-machine')['generation'])
            # The other slot is ejected.
            status, body, _ = d.rest('DELETE', '/v1/devices/free?wait=%d' % min(10 * TIME_FACTOR, 60))
            self.assertEqual((status, body), (200, {'id': 'free', 'deleted': True}))
            self.assertEqual(s.next()['data']['data'], {'device': 'free',
                                                        'path': '/machine/peripheral/free'})
            # A reset still completes a pending removal of the refused slot.
            q.cmd('device_del', id='stuck')
            q.cmd('system_reset')
            self.assertEqual([e['id'] for e in q.cmd('query-pci-devices') if e['id']], [])
            s.close()
            q.close()

    def test_keepalive(self):
        """An idle stream gets a comment every 15 s (REST_SSE_KEEPALIVE_S)."""
        with Pcid() as d:
            s = d.events(timeout=30)
            s.greeting()
            t0 = time.time()
            line = s.resp.readline().decode()
            while line == '\n':
                line = s.resp.readline().decode()
            self.assertEqual(line, ': keepalive\n')
            self.assertGreaterEqual(time.time() - t0, 14)
            s.close()

    def test_refuse_option(self):
        """--guest-refuse-unplug takes hex slots 0..1f; anything else is a usage error."""
        for bad in ('20', 'x', '1,', ',1', '1,,2', '-1', ''):
            p = subprocess.run([PCID, '--guest-refuse-unplug', bad], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn('--guest-refuse-unplug takes hex slot numbers', p.stderr)

    def test_stop_ends_streams(self):
        d = Pcid().start()
        try:
            s = d.events()
            s.greeting()
            t0 = time.time()
            d.proc.send_signal(signal.SIGTERM)
            self.assertIsNone(s.next())
            self.assertEqual(d.proc.wait(timeout=10), 0)
            self.assertLess(time.time() - t0, 5 * TIME_FACTOR)
            s.close()
        finally:
            d.__exit__(None, None, None)


if __name__ == '__main__':
    unittest.main()
