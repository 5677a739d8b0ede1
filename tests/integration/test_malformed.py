# SPDX-License-Identifier: MIT
"""A battery of malformed requests on both front doors (issue 7): truncated, oversized, wrong
types, deep nesting, invalid UTF-8, unknown fields, huge numbers, NUL bytes (QMP's device_add
drops an argument that is null, a list or an object, and an id that is not a string, exactly
as QEMU does — tests/data/qemu — so those are not errors there). Each gets a
structured error — QMP {"error": {"class", "desc"}}, REST a 4xx with the same JSON body — and
afterwards the daemon answers and its state is unchanged: query-pci, the machine description,
the topology generation and machine.json byte for byte."""

import json
import os
import socket
import unittest

from pcid_harness import TIME_FACTOR, Pcid

BIG = 1024 * 1024 + 16  # over the default qmp-value-bytes and rest-body-bytes (1 MiB)
DEEP = 100000


def qmp_args(args):
    return json.dumps({'execute': 'device_add', 'arguments': args}).encode()


# (name, bytes sent on a negotiated QMP connection, followed by a newline)
QMP_CASES = [
    ('truncated then bad', b'{"execute": "device_add", "arguments": {"driver": "e1000"]'),
    ('control character in a string', b'{"execute": "device_add", "arguments":'
     b' {"driver": "e1000\x01"}}'),
    ('stray close', b'}'),
    ('bare word', b'device_add'),
    ('oversized value', b'{"execute": "device_add", "arguments": {"driver": "e1000", "id": "'
     + b'a' * BIG + b'"}}'),
    ('oversized nesting', b'[' * BIG + b']' * BIG),
    ('not an object', b'[1, 2, 3]'),
    ('execute is a number', b'{"execute": 5}'),
    ('execute is null', b'{"execute": null}'),
    ('arguments is a list', b'{"execute": "device_add", "arguments": []}'),
    ('driver is a number', qmp_args({'driver': 5})),
    ('id is a bool, addr bad', qmp_args({'driver': 'e1000', 'id': True, 'addr': 'zz'})),
    ('device_del id is a list', b'{"execute": "device_del", "arguments": {"id": ["x"]}}'),
    ('deep nesting', b'[' * DEEP + b']' * DEEP),
    ('deep nesting in arguments', b'{"execute": "device_add", "arguments": {"driver": "e1000",'
     b' "x": ' + b'[' * DEEP + b']' * DEEP + b'}}'),
    ('invalid UTF-8 in id', b'{"execute": "device_add", "arguments": {"driver": "e1000",'
     b' "id": "\xff\xfe"}}'),
    ('invalid UTF-8 in key', b'{"exe\xc3cute": "query-pci"}'),
    ('overlong UTF-8', b'{"execute": "device_add", "arguments": {"driver": "e\xc1\xa5"}}'),
    ('unknown top-level member', b'{"execute": "query-pci", "bogus": 1}'),
    ('unknown argument', qmp_args({'driver': 'e1000', 'bogus-property': 'on'})),
    ('unknown command', b'{"execute": "no-such-command"}'),
    ('huge float addr', b'{"execute": "device_add", "arguments": {"driver": "e1000",'
     b' "addr": 1e400}}'),
    ('2**70 addr', qmp_args({'driver': 'e1000', 'addr': 2 ** 70})),
    ('negative addr', qmp_args({'driver': 'e1000', 'addr': -1})),
    ('huge number string', qmp_args({'driver': 'e1000', 'addr': '0x' + 'f' * 40})),
    ('huge vectors', qmp_args({'driver': 'virtio-net-pci', 'vectors': 2 ** 64})),
    ('NUL inside a string', b'{"execute": "device_add", "arguments": {"driver": "e1000",'
     b' "id": "a\\u0000b"}}'),
    ('raw NUL byte', b'{"execute": "query-pci\x00"}'),
    ('NUL bytes only', b'\x00\x00\x00'),
    ('duplicate key', b'{"execute": "device_add", "execute": "device_add",'
     b' "arguments": {"driver": "e1000"}}'),
]


class Malformed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Pcid(args=['--device', 'e1000,id=keep,addr=5'], guest='cooperative').start()

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def snapshot(self):
        q = self.d.qmp()
        try:
            pci = q.cmd('query-pci')
            desc = q.cmd('query-machine-description')
        finally:
            q.close()
        status, machine, _ = self.d.rest('GET', '/v1/machine')
        self.assertEqual(status, 200)
        path = os.path.join(self.d.state_dir, 'machine.json')
        with open(path, 'rb') as f:
            saved = f.read()
        return {'pci': pci, 'desc': desc, 'generation': machine['generation'], 'file': saved}

    def assert_error(self, obj, where):
        self.assertIn('error', obj, where)
        self.assertEqual(set(obj['error']), {'class', 'desc'}, where)
        self.assertIsInstance(obj['error']['class'], str, where)
        self.assertTrue(obj['error']['desc'], where)

    def qmp_case(self, q, name, data, n):
        """Send data, then a marker command; every reply before the marker is an error and
        there is at least one."""
        q.sock.settimeout(30 * TIME_FACTOR)
        q.send_raw(data + b'\n{"execute": "query-status", "id": "sync-%d"}\n' % n)
        replies = []
        while True:
            r = q.read_reply()
            if r.get('id') == 'sync-%d' % n:
                self.assertIn('return', r, name)
                break
            replies.append(r)
        self.assertTrue(replies, '%s: no error reply' % name)
        for r in replies:
            self.assert_error(r, name)

    def test_qmp(self):
        """Each case on a connection of its own (a value left open, by design, swallows what
        follows on its connection: json_stream.h), then all of them on one connection."""
        before = self.snapshot()
        for n, (name, data) in enumerate(QMP_CASES):
            with self.subTest(name=name):
                q = self.d.qmp()
                self.qmp_case(q, name, data, n)
                q.close()
        q = self.d.qmp()
        for n, (name, data) in enumerate(QMP_CASES):
            with self.subTest(name=name, connection='shared'):
                self.qmp_case(q, name, data, n)
        q.close()
        self.assertEqual(self.snapshot(), before)

    def test_qmp_truncated_then_closed(self):
        """A value cut off by the client closing: no reply, nothing changes, others unaffected."""
        before = self.snapshot()
        for data in (b'{"execute": "device_add", "arguments": {"driver": "e1000", "id": "t"',
                     b'{"execute": "device_add", "arguments": {"driver": "e1000", "id": "t"}',
                     b'{"exec', b'"unterminated', b'[' * 1000, b'[' * BIG,
                     b'{"execute": "device_add", "arguments": {"driver": "e1000\n"}}'):
            q = self.d.qmp()
            q.send_raw(data)
            q.sock.shutdown(socket.SHUT_WR)
            q.sock.settimeout(10 * TIME_FACTOR)
            rest = b''
            while True:
                chunk = q.sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            for line in rest.split(b'\n'):
                if line.strip():
                    self.assert_error(json.loads(line), repr(data[:40]))
            q.close()
        self.assertEqual(self.snapshot(), before)

    def rest_cases(self):
        """(name, method, path, body bytes or None, content type, statuses allowed). POST
        /v1/qmp answers a well-formed JSON object with 200 and the QMP reply (openapi.yaml):
        an error object there is the structured error."""
        dev = '/v1/devices'
        cases = [
            ('truncated body', 'POST', dev, b'{"driver": "e1000"', None, {400}),
            ('oversized body', 'POST', dev, b'{"driver": "e1000", "id": "' + b'a' * BIG + b'"}',
             None, {413}),
            ('oversized qmp body', 'POST', '/v1/qmp', b'[' * BIG, None, {413}),
            ('body is a list', 'POST', dev, b'[]', None, {400}),
            ('body is a string', 'POST', dev, b'"e1000"', None, {400}),
            ('empty body', 'POST', dev, b'', None, {400}),
            ('driver is a number', 'POST', dev, b'{"driver": 5}', None, {400}),
            ('id is a list', 'POST', dev, b'{"driver": "e1000", "id": []}', None, {400}),
            ('property is an object', 'POST', dev, b'{"driver": "e1000", "mac": {}}', None,
             {400}),
            ('deep nesting', 'POST', dev, b'[' * DEEP + b']' * DEEP, None, {400}),
            ('deep nesting in a field', 'POST', dev, b'{"driver": "e1000", "x": '
             + b'[' * DEEP + b']' * DEEP + b'}', None, {400}),
            ('invalid UTF-8', 'POST', dev, b'{"driver": "e1000", "id": "\xff"}', None, {400}),
            ('overlong UTF-8', 'POST', dev, b'{"driver": "\xc1\xa5"}', None, {400}),
            ('unknown field', 'POST', dev, b'{"driver": "e1000", "bogus-property": 1}', None,
             {400}),
            ('huge float', 'POST', dev, b'{"driver": "e1000", "addr": 1e400}', None, {400}),
            ('2**70', 'POST', dev, b'{"driver": "e1000", "addr": %d}' % 2 ** 70, None, {400}),
            ('NUL escaped', 'POST', dev, b'{"driver": "e1000", "id": "a\\u0000b"}', None, {400}),
            ('raw NUL', 'POST', dev, b'{"driver": "e1000\x00"}', None, {400}),
            ('NUL only', 'POST', dev, b'\x00', None, {400}),
            ('wrong content type', 'POST', dev, b'{"driver": "e1000"}', 'text/plain', {415}),
            ('qmp: not an object', 'POST', '/v1/qmp', b'[1]', None, {400}),
            ('qmp: execute a number', 'POST', '/v1/qmp', b'{"execute": 1}', None, {200}),
            ('qmp: unknown member', 'POST', '/v1/qmp', b'{"execute": "query-pci", "x": 1}',
             None, {200}),
            ('qmp: arguments a list', 'POST', '/v1/qmp', b'{"execute": "query-pci",'
             b' "arguments": []}', None, {200}),
            ('qmp: device_add wrong type', 'POST', '/v1/qmp',
             b'{"execute": "device_add", "arguments": {"driver": 5}}', None, {200}),
            ('id is null', 'POST', dev, b'{"driver": "e1000", "id": null}', None, {400}),
            ('id is a number', 'POST', dev, b'{"driver": "e1000", "id": 5}', None, {400}),
            ('save: name wrong type', 'POST', '/v1/state/save', b'{"name": 5}', None, {400}),
            ('save: unknown field', 'POST', '/v1/state/save', b'{"name": "a", "x": 1}', None,
             {400}),
            ('load: huge name', 'POST', '/v1/state/load', b'{"name": "' + b'n' * 100000 + b'"}',
             None, {400, 404}),
            ('delete: invalid UTF-8 id', 'DELETE', '/v1/devices/%ff%fe', None, None, {400, 404}),
            ('delete: NUL in id', 'DELETE', '/v1/devices/a%00b', None, None, {400, 404}),
            ('delete: bad wait', 'DELETE', '/v1/devices/keep?wait=1e400', None, None, {400}),
            ('delete: wait 2**70', 'DELETE', '/v1/devices/keep?wait=%d' % 2 ** 70, None, None,
             {400}),
            ('get: huge BDF', 'GET', '/v1/devices/0000:ff:ff.ff', None, None, {400, 404}),
        ]
        return cases

    def test_rest(self):
        before = self.snapshot()
        for name, method, path, body, ctype, want in self.rest_cases():
            with self.subTest(name=name):
                headers = {}
                if body is not None:
                    headers['Content-Type'] = ctype or 'application/json'
                status, reply, hdrs = self.d.rest(method, path, body=body, headers=headers,
                                                  raw=True)
                self.assertIn(status, want, '%s: %s' % (name, reply[:300]))
                self.assertTrue(hdrs.get('Content-Type', '').startswith('application/json'),
                                name)
                self.assert_error(json.loads(reply), name)
        self.assertEqual(self.snapshot(), before)

    def test_rest_truncated_request(self):
        """A body shorter than its Content-Length, then the client goes: no change, others
        served."""
        before = self.snapshot()
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10 * TIME_FACTOR)
        s.connect(self.d.rest_path)
        s.sendall(b'POST /v1/devices HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Content-Length: 100\r\n\r\n{"driver": "e1000", "id": "t"}')
        s.close()
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10 * TIME_FACTOR)
        s.connect(self.d.rest_path)
        s.sendall(b'POST /v1/devices HTTP/1.1\r\nHost: x\r\nContent-Len')  # headers cut off
        s.close()
        self.assertEqual(self.snapshot(), before)


if __name__ == '__main__':
    unittest.main()
