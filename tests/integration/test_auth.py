# SPDX-License-Identifier: MIT
"""Access control (daemon/auth.h, docs/config.md "Access control"): unix sockets 0660 and never
asked for a token; with a token configured (token-file, or the systemd credential pcid.token)
every TCP request, loopback included, needs `Authorization: Bearer TOKEN` and gets 401 with
WWW-Authenticate and a JSON error otherwise, with nothing run; a non-loopback listener without
a token refuses to start (exit 78); a reload that would drop the token is refused, one that
changes it takes effect; each 401 is counted in /metrics."""

import http.client
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

from pcid_harness import PCID, TIME_FACTOR, Pcid, free_port
from schema_check import parse_prometheus, sample


def tcp(port, method, path, token=None, body=None, auth=None):
    """(status, parsed JSON or text, headers) of one request to 127.0.0.1:port."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10 * TIME_FACTOR)
    hdrs = {}
    if auth is not None:
        hdrs['Authorization'] = auth
    elif token is not None:
        hdrs['Authorization'] = 'Bearer ' + token
    data = None
    if body is not None:
        data = json.dumps(body)
        hdrs['Content-Type'] = 'application/json'
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    if resp.getheader('Content-Type', '').startswith('application/json'):
        return resp.status, json.loads(text), dict(resp.getheaders())
    return resp.status, text, dict(resp.getheaders())


class Auth(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='pcid-auth-')
        self.token = os.path.join(self.dir, 'token')
        self.cfg = os.path.join(self.dir, 'pcid.json')

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, path, text):
        with open(path, 'w') as f:
            f.write(text)

    def assert_401(self, reply, invalid):
        status, body, hdrs = reply
        self.assertEqual(status, 401, body)
        self.assertEqual(body['error']['class'], 'GenericError')
        self.assertTrue(body['error']['desc'])
        self.assertTrue(hdrs['WWW-Authenticate'].startswith('Bearer realm="pcid"'))
        self.assertEqual('error="invalid_token"' in hdrs['WWW-Authenticate'], invalid)

    def test_exposed_without_token_refused(self):
        """tcp:0.0.0.0 with no token anywhere: exit 78 naming the socket; nothing served."""
        self.write(self.cfg, '{}')
        port = free_port()
        env = dict(os.environ)
        env.pop('CREDENTIALS_DIRECTORY', None)
        qmp = os.path.join(self.dir, 'qmp.sock')
        r = subprocess.run([PCID, '--config', self.cfg, '--no-state', '--guest', 'none',
                            '--qmp', 'unix:' + qmp, '--rest', 'tcp:0.0.0.0:%d' % port],
                           capture_output=True, text=True, env=env, timeout=30 * TIME_FACTOR)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn('REST tcp:0.0.0.0:%d is not a loopback address and no bearer token' % port,
                      r.stderr)
        self.assertFalse(os.path.exists(qmp))
        # Loopback alone needs no token.
        with Pcid(args=['--config', self.cfg], env=env) as d:
            self.assertEqual(tcp(d.port, 'GET', '/v1/machine')[0], 200)

    def test_token_file(self):
        self.write(self.token, 's3cret-token\n')
        self.write(self.cfg, json.dumps({'token-file': self.token}))
        exposed = free_port()
        with Pcid(args=['--config', self.cfg, '--rest', 'tcp:0.0.0.0:%d' % exposed]) as d:
            for port in (exposed, d.port):  # loopback asks too
                self.assert_401(tcp(port, 'GET', '/v1/pci'), False)
                self.assert_401(tcp(port, 'GET', '/metrics'), False)
                self.assert_401(tcp(port, 'GET', '/v1/pci', token='s3cret-tokeN'), True)
                self.assert_401(tcp(port, 'GET', '/v1/pci', token='s3cret-token2'), True)
                self.assert_401(tcp(port, 'GET', '/v1/pci', auth='Basic czNjcmV0'), False)
                self.assertEqual(tcp(port, 'GET', '/v1/pci', token='s3cret-token')[0], 200)
                self.assertEqual(
                    tcp(port, 'GET', '/v1/pci', auth='bearer   s3cret-token')[0], 200)
            # A refused POST runs nothing.
            _, before, _ = d.rest('GET', '/v1/machine')
            self.assert_401(tcp(exposed, 'POST', '/v1/devices',
                                body={'driver': 'e1000', 'id': 'n1'}), False)
            self.assert_401(tcp(exposed, 'POST', '/v1/devices', token='nope',
                                body={'driver': 'e1000', 'id': 'n1'}), True)
            status, after, _ = d.rest('GET', '/v1/machine')  # unix: no token asked
            self.assertEqual(status, 200)
            self.assertEqual(after['generation'], before['generation'])
            self.assertEqual(d.rest('GET', '/v1/devices/n1')[0], 404)
            status, _, _ = tcp(exposed, 'POST', '/v1/devices', token='s3cret-token',
                               body={'driver': 'e1000', 'id': 'n1'})
            self.assertEqual(status, 201)
            # Counted: per port 3 missing (none, none on /metrics, Basic) and 2 invalid, then
            # one of each on the POST.
            _, text, _ = d.rest('GET', '/metrics')
            fams = parse_prometheus(text)
            self.assertEqual(sample(fams, 'pcid_rest_auth_failures_total', reason='missing'), 7)
            self.assertEqual(sample(fams, 'pcid_rest_auth_failures_total', reason='invalid'), 5)
            self.assertEqual(sample(fams, 'pcid_http_requests_total', route='/v1/pci',
                                    method='GET', code='401'), 8)
            self.assertEqual(sample(fams, 'pcid_http_requests_total', route='/v1/devices',
                                    method='POST', code='401'), 2)

            # A reload that drops the token is refused: the old one still rules.
            self.write(self.cfg, '{}')
            d.proc.send_signal(signal.SIGHUP)
            self.wait_log(d, 'reload refused, settings unchanged: REST listens on a '
                             'non-loopback address')
            self.assert_401(tcp(exposed, 'GET', '/v1/pci'), False)
            self.assertEqual(tcp(exposed, 'GET', '/v1/pci', token='s3cret-token')[0], 200)
            # A reload with a new token: the new one from now on, the old one refused.
            self.write(self.token, 'fresh\n')
            self.write(self.cfg, json.dumps({'token-file': self.token}))
            d.proc.send_signal(signal.SIGHUP)
            self.wait_log(d, 'REST token set')
            self.assert_401(tcp(exposed, 'GET', '/v1/pci', token='s3cret-token'), True)
            self.assertEqual(tcp(exposed, 'GET', '/v1/pci', token='fresh')[0], 200)

    def wait_log(self, d, text):
        deadline = time.time() + 10 * TIME_FACTOR
        while time.time() < deadline:
            if text in d.logtext():
                return
            time.sleep(0.05)
        self.fail('no %r in the log: %s' % (text, d.logtext()))

    def test_credential(self):
        """$CREDENTIALS_DIRECTORY/pcid.token (LoadCredential=) without any token-file."""
        creds = os.path.join(self.dir, 'creds')
        os.mkdir(creds)
        self.write(os.path.join(creds, 'pcid.token'), 'from-systemd\n')
        self.write(self.cfg, '{}')
        exposed = free_port()
        with Pcid(args=['--config', self.cfg, '--rest', 'tcp:0.0.0.0:%d' % exposed],
                  env={'CREDENTIALS_DIRECTORY': creds}) as d:
            self.assert_401(tcp(exposed, 'GET', '/v1/machine'), False)
            self.assertEqual(tcp(exposed, 'GET', '/v1/machine', token='from-systemd')[0], 200)
            self.assertEqual(d.rest('GET', '/v1/machine')[0], 200)

    def test_socket_modes(self):
        """Unix sockets pcid makes are 0660, in the group of its process."""
        with Pcid() as d:
            for path in (d.qmp_path, d.rest_path, d.access_path):
                st = os.stat(path)
                self.assertTrue(stat.S_ISSOCK(st.st_mode))
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o660, path)
                self.assertEqual(st.st_gid, os.getegid(), path)

    def test_documented(self):
        """Every operation of openapi.yaml documents the 401."""
        with Pcid() as d:
            _, doc, _ = d.rest('GET', '/v1/openapi.json')
        for path, ops in doc['paths'].items():
            for method, op in ops.items():
                if method not in ('get', 'post', 'delete'):
                    continue
                self.assertIn('401', op['responses'], '%s %s' % (method, path))
        self.assertEqual(doc['components']['securitySchemes']['bearer']['scheme'], 'bearer')


if __name__ == '__main__':
    unittest.main()
