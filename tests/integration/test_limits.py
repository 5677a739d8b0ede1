# SPDX-License-Identifier: MIT
"""Limits (docs/pcid.8 LIMITS): each rejection refused cleanly and counted in
pcid_limit_rejections_total{limit}: REST body (413), QMP value size, nesting and time, QMP and
REST clients per socket, slow and idle REST clients, devices and buses (configured and the 256
buses of a machine); a slow QMP client cannot stop others from being served."""

import http.client
import json
import os
import socket
import tempfile
import time
import unittest

from pcid_harness import TIME_FACTOR, Pcid, Qmp, UnixHTTPConnection
from schema_check import parse_prometheus, sample


def rejections(d, limit, tcp=False):
    _, text, _ = d.rest('GET', '/metrics', tcp=tcp)
    return sample(parse_prometheus(text), 'pcid_limit_rejections_total', limit=limit)


def config_file(limits):
    """A temporary configuration file with `limits` (the caller unlinks it)."""
    cfg = tempfile.NamedTemporaryFile('w', suffix='.json', delete=False)
    json.dump({'limits': limits}, cfg)
    cfg.close()
    return cfg.name


def wait_for(fn, timeout=5.0):
    """Poll fn() until it is true (returns its value) or `timeout` seconds pass (returns it)."""
    deadline = time.time() + timeout * TIME_FACTOR
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.05)


def closed_by_peer(sock, timeout=5.0):
    """True when the peer closes `sock` within `timeout` seconds (reads and drops data)."""
    sock.settimeout(timeout * TIME_FACTOR)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionError:
        return True
    except socket.timeout:
        return False


class Limits(unittest.TestCase):
    def test_rest_clients(self):
        """rest-clients: 2 — a third connection on the same socket is closed at once and
        counted; once one is closed the socket serves again; the TCP socket has its own 2."""
        cfg = config_file({'rest-clients': 2})
        try:
            with Pcid(args=['--config', cfg]) as d:
                # Two keep-alive connections that have been served hold both slots (retried:
                # the harness's start-up probe may not be cleaned up yet, and is refused).
                held = []
                while len(held) < 2:
                    c = UnixHTTPConnection(d.rest_path)
                    try:
                        c.request('GET', '/v1/machine')
                        r = c.getresponse()
                        r.read()
                        self.assertEqual(r.status, 200)
                        held.append(c)
                    except (OSError, http.client.HTTPException):
                        c.close()
                        time.sleep(0.05)
                # The TCP listener has its own connections to count.
                base = rejections(d, 'rest-clients', tcp=True)
                extra = socket.socket(socket.AF_UNIX)
                extra.connect(d.rest_path)
                self.assertTrue(closed_by_peer(extra))
                extra.close()
                self.assertEqual(rejections(d, 'rest-clients', tcp=True), base + 1)
                for c in held:
                    c.close()
                # Served again once pcid has seen them close (each refusal before that counts).
                refused = []

                def served():
                    try:
                        return d.rest('GET', '/v1/machine')[0] == 200
                    except (OSError, http.client.HTTPException):
                        refused.append(1)
                        return False
                self.assertTrue(wait_for(served))
                self.assertEqual(rejections(d, 'rest-clients', tcp=True), base + 1 + len(refused))
        finally:
            os.unlink(cfg)

    def test_front_doors(self):
        cfg = tempfile.NamedTemporaryFile('w', suffix='.json', delete=False)
        json.dump({'limits': {'qmp-clients': 3}}, cfg)
        cfg.close()
        try:
            with Pcid(args=['--config', cfg.name]) as d:
                for name in ('qmp-clients', 'qmp-value-bytes', 'qmp-nesting',
                             'rest-body-bytes', 'devices', 'buses', 'qmp-output-bytes'):
                    self.assertEqual(rejections(d, name), 0, name)
                status, body, _ = d.rest('POST', '/v1/devices',
                                         b'{"driver": "e1000", "id": "' + b'a' * (1 << 20) + b'"}')
                self.assertEqual(status, 413)
                self.assertEqual(rejections(d, 'rest-body-bytes'), 1)

                q = d.qmp()
                q.send_raw(b'"' + b'a' * (1 << 20) + b'"\n')
                self.assertIn('value too large', q.read_reply()['error']['desc'])
                q.send_raw(b'[' * 1100 + b']' * 1100 + b'\n')
                self.assertIn('nesting too deep', q.read_reply()['error']['desc'])
                self.assertEqual(rejections(d, 'qmp-value-bytes'), 1)
                self.assertEqual(rejections(d, 'qmp-nesting'), 1)

                # A slow client (connected, sending nothing) holds a slot, yet the others are
                # served; past the configured 3 a connection is closed at once and counted.
                slow = socket.socket(socket.AF_UNIX)
                slow.connect(d.qmp_path)
                q2 = d.qmp()
                with self.assertRaises((EOFError, ConnectionError)):
                    Qmp(d.qmp_path, timeout=10 * TIME_FACTOR)
                self.assertEqual(rejections(d, 'qmp-clients'), 1)
                self.assertIn('status', q2.cmd('query-status'))
                slow.close()
                q2.close()
                q.close()
        finally:
            os.unlink(cfg.name)

    def test_qmp_value_seconds(self):
        """qmp-value-seconds: 2 — a value begun and not finished within 2 s gets an error
        line, the connection is closed and counted; an idle client (or one that sent only
        whitespace), and a value completed in time, are left alone."""
        cfg = config_file({'qmp-value-seconds': 2})
        try:
            with Pcid(args=['--config', cfg]) as d:
                idle = d.qmp()
                blank = d.qmp()
                blank.send_raw(b'  \r\n')
                slow = d.qmp()
                slow.send_raw(b'{"execute": "query-status"')
                t0 = time.time()
                r = slow.read_reply()
                self.assertIn('not complete within 2 s', r['error']['desc'])
                self.assertGreaterEqual(time.time() - t0, 1.8)
                with self.assertRaises((EOFError, ConnectionError)):
                    slow.readline()
                slow.close()
                self.assertEqual(rejections(d, 'qmp-value-seconds'), 1)
                # In time, though split over reads (0.5 s apart: 1.5 s of margin for a loaded
        # machine): served. Then the next value starts afresh.
                on_time = d.qmp()
                on_time.send_raw(b'{"execute": ')
                time.sleep(0.5)
                on_time.send_raw(b'"query-status"}{"execute": ')
                self.assertIn('return', on_time.read_reply())
                time.sleep(0.5)
                on_time.send_raw(b'"query-status"}\n')
                self.assertIn('return', on_time.read_reply())
                # A bare top-level token waits for its delimiter, under the same rule.
                tok = d.qmp()
                tok.send_raw(b'12')
                self.assertIn('not complete', tok.read_reply()['error']['desc'])
                tok.close()
                time.sleep(0.5)
                for q in (idle, blank, on_time):
                    self.assertIn('status', q.cmd('query-status'))
                    q.close()
                self.assertEqual(rejections(d, 'qmp-value-seconds'), 2)
        finally:
            os.unlink(cfg)

    def test_devices_and_buses_configured(self):
        """devices: 7, buses: 2 on the pc machine (4 built-in functions, 1 bus): a cold-plugged
        e1000 and a bridge fit, a second bridge is refused by the bus limit, one more e1000 fits
        and the next is refused by the device limit — each refusal counted, nothing changed."""
        cfg = config_file({'devices': 7, 'buses': 2})
        try:
            with Pcid(args=['--config', cfg, '--device', 'e1000,id=cold,addr=3'],
                      state_dir=False) as d:
                q = d.qmp()
                self.assertEqual(len(q.cmd('query-pci')[0]['devices']), 5)
                q.cmd('device_add', driver='pci-bridge', id='br1', addr='4', chassis_nr=1)
                before = q.cmd('query-pci')
                r = q.cmd_raw({'execute': 'device_add', 'arguments': {
                    'driver': 'pci-bridge', 'id': 'br2', 'addr': '5', 'chassis_nr': 2}})
                self.assertEqual(r['error']['desc'], 'Bus limit reached (2 buses per machine)')
                self.assertEqual(q.cmd('query-pci'), before)
                q.cmd('device_add', driver='e1000', id='n1', addr='5')
                before = q.cmd('query-pci')
                status, body, _ = d.rest('POST', '/v1/devices',
                                         {'driver': 'e1000', 'id': 'n2', 'addr': '6'})
                self.assertEqual(status, 409)
                self.assertEqual(body['error']['desc'],
                                 'Device limit reached (7 functions per machine)')
                self.assertEqual(q.cmd('query-pci'), before)
                self.assertEqual(rejections(d, 'buses'), 1)
                self.assertEqual(rejections(d, 'devices'), 1)
                q.close()
        finally:
            os.unlink(cfg)

    def test_devices_lowered_below_cold_plug(self):
        """A limit below what the command line cold-plugs does not stop pcid from starting
        (the saved machine and cold-plug devices are bound only by the compile-time
        maxima); it refuses the next device_add."""
        cfg = config_file({'devices': 4})
        try:
            with Pcid(args=['--config', cfg, '--device', 'e1000,id=cold,addr=3'],
                      state_dir=False) as d:
                q = d.qmp()
                self.assertEqual(len(q.cmd('query-pci')[0]['devices']), 5)
                r = q.cmd_raw({'execute': 'device_add', 'arguments': {
                    'driver': 'e1000', 'id': 'n1', 'addr': '4'}})
                self.assertEqual(r['error']['desc'],
                                 'Device limit reached (4 functions per machine)')
                self.assertEqual(rejections(d, 'devices'), 1)
                q.close()
        finally:
            os.unlink(cfg)

    def test_rest_slow_clients(self):
        """rest-request-seconds: 1, rest-idle-seconds: 2 — a client trickling its headers is
        closed about 1 s after its request line (rest-request-seconds), one trickling a body
        likewise; a connection sending nothing, or trickling its request line, is closed after
        2 s (rest-idle-seconds), as is a served keep-alive connection left idle; a request that
        arrives in time is served; each closure counted."""
        cfg = config_file({'rest-request-seconds': 1, 'rest-idle-seconds': 2})
        try:
            with Pcid(args=['--config', cfg]) as d:
                def trickle(first):
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(d.rest_path)
                    s.sendall(first)
                    return s

                t0 = time.time()
                headers = trickle(b'GET /v1/machine HTTP/1.1\r\nHost: x\r\n')
                body = trickle(b'POST /v1/devices HTTP/1.1\r\nHost: x\r\n'
                               b'Content-Type: application/json\r\nContent-Length: 100\r\n'
                               b'\r\n{"dri')
                nothing = trickle(b'')
                line = trickle(b'GET /v1/mach')
                # Bytes keep arriving (an inactivity timeout never fires) ...
                for _ in range(3):
                    time.sleep(0.25)
                    headers.sendall(b'X-A: b\r\n')
                    body.sendall(b'v')
                    line.sendall(b'i')
                # ... yet the slow requests are closed about 1 s after their request line.
                self.assertTrue(closed_by_peer(headers, 2))
                self.assertTrue(closed_by_peer(body, 2))
                self.assertLess(time.time() - t0, 1.9)
                self.assertEqual(rejections(d, 'rest-request-seconds', tcp=True), 2)
                # A request in time, over a keep-alive connection, then left idle.
                c = UnixHTTPConnection(d.rest_path)
                c.request('GET', '/v1/machine')
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                self.assertTrue(closed_by_peer(nothing, 3))
                self.assertTrue(closed_by_peer(line, 3))
                self.assertGreaterEqual(time.time() - t0, 1.8)
                self.assertTrue(closed_by_peer(c.sock, 3))
                c.close()
                self.assertEqual(rejections(d, 'rest-idle-seconds', tcp=True), 3)
                self.assertEqual(d.rest('GET', '/v1/machine')[0], 200)
                for s in (headers, body, nothing, line):
                    s.close()
        finally:
            os.unlink(cfg)

    def test_256_buses(self):
        """Bridges until the machine has 256 buses: the next is refused with a clear error,
        counted, and changes nothing."""
        with Pcid(state_dir=False) as d:
            q = d.qmp()
            n_bridges = 0
            parents = ['pci.0']
            slots = {'pci.0': list(range(3, 32))}
            while n_bridges < 255:
                parent = parents[0]
                if not slots[parent]:
                    parents.pop(0)
                    continue
                slot = slots[parent].pop(0)
                bid = 'br%d' % n_bridges
                q.cmd('device_add', driver='pci-bridge', id=bid, bus=parent, addr='%x' % slot,
                      chassis_nr=n_bridges + 1)
                parents.append(bid)
                slots[bid] = list(range(1, 32))
                n_bridges += 1
            _, machine, _ = d.rest('GET', '/v1/machine')
            before = q.cmd('query-pci')
            r = q.cmd_raw({'execute': 'device_add', 'arguments': {
                'driver': 'pci-bridge', 'id': 'one-too-many', 'bus': 'br254', 'addr': '1f',
                'chassis_nr': 1}})
            self.assertEqual(r['error']['class'], 'GenericError')
            self.assertIn('Bus limit reached (256 buses per machine)', r['error']['desc'])
            self.assertEqual(rejections(d, 'buses'), 1)
            self.assertEqual(q.cmd('query-pci'), before)
            _, after, _ = d.rest('GET', '/v1/machine')
            self.assertEqual(after['generation'], machine['generation'])
            q.close()


if __name__ == '__main__':
    unittest.main()
