# SPDX-License-Identifier: MIT
"""Start a real pcid and talk to it over its sockets: QMP (unix), REST (unix and TCP).

Used by every integration test. Standard library only.

    with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0']) as d:
        q = d.qmp()                      # negotiated QMP client
        q.cmd('device_add', driver='e1000', id='n1')
        status, body = d.rest('GET', '/v1/pci')
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PCID = os.environ.get('PCID', os.path.join(os.path.dirname(__file__), '..', '..', 'build',
                                           'daemon', 'pcid'))
PCICTL = os.environ.get('PCICTL', os.path.join(os.path.dirname(PCID), '..', 'client', 'pcictl'))
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
# Sanitizer builds run several times slower: CI sets PCID_TEST_TIME_FACTOR for them, and
# timeouts and timing limits in the tests scale by it.
TIME_FACTOR = float(os.environ.get('PCID_TEST_TIME_FACTOR', '1'))


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class QmpError(Exception):
    pass


class Qmp:
    """A QMP client on a unix socket. Replies and events are read line by line (CRLF)."""

    def __init__(self, path, negotiate=True, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b''
        self.events = []
        self.greeting = json.loads(self.readline())
        if negotiate:
            r = self.cmd_raw({'execute': 'qmp_capabilities'})
            if 'return' not in r:
                raise QmpError(r)

    def readline(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('pcid closed the QMP connection')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode()

    def send_raw(self, text):
        if isinstance(text, str):
            text = text.encode()
        self.sock.sendall(text)

    def read_reply(self):
        """Next non-event line as JSON; events seen meanwhile go to self.events."""
        while True:
            line = self.readline()
            obj = json.loads(line)
            if 'event' in obj:
                self.events.append(obj)
                continue
            return obj

    def cmd_raw(self, obj):
        self.send_raw(json.dumps(obj) + '\n')
        return self.read_reply()

    def cmd(self, execute, /, **args):
        """Run `execute` with `args` (any name, 'name' included); its return, or QmpError."""
        req = {'execute': execute}
        if args:
            req['arguments'] = args
        r = self.cmd_raw(req)
        if 'error' in r:
            raise QmpError(r['error'])
        return r['return']

    def hmp(self, line):
        return self.cmd('human-monitor-command', **{'command-line': line})

    def wait_events(self, n, timeout=5.0):
        """Collect events until n have arrived (counting those already seen)."""
        deadline = time.time() + timeout
        self.sock.settimeout(0.2)
        try:
            while len(self.events) < n and time.time() < deadline:
                try:
                    line = self.readline()
                except socket.timeout:
                    continue
                obj = json.loads(line)
                if 'event' in obj:
                    self.events.append(obj)
        finally:
            self.sock.settimeout(10)
        return self.events

    def close(self):
        self.sock.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class SseStream:
    """GET /v1/events on the REST unix socket, read event by event (Server-Sent Events)."""

    def __init__(self, path, last_id=None, follow=True, timeout=10):
        self.conn = UnixHTTPConnection(path, timeout=timeout)
        headers = {} if last_id is None else {'Last-Event-ID': str(last_id)}
        self.conn.request('GET', '/v1/events' + ('' if follow else '?follow=false'),
                          headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = dict(self.resp.getheaders())
        self.comments = []

    def next(self):
        """The next event as {'id', 'event', 'data'} (data parsed as JSON), or None at the
        end of the stream. Comments seen on the way go to self.comments."""
        ev = {}
        data = []
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode().rstrip('\r\n')
            if not line:
                if data or ev:
                    ev['data'] = json.loads('\n'.join(data)) if data else None
                    return ev
                continue
            if line.startswith(':'):
                self.comments.append(line[1:].strip())
                continue
            field, _, value = line.partition(':')
            value = value[1:] if value.startswith(' ') else value
            if field == 'data':
                data.append(value)
            elif field == 'id':
                ev['id'] = int(value)
            elif field == 'event':
                ev['event'] = value

    def greeting(self):
        """Read up to the stream's opening comment; returns it."""
        while not self.comments:
            line = self.resp.readline().decode()
            if line.startswith(':'):
                self.comments.append(line[1:].strip())
        return self.comments[0]

    def close(self):
        self.conn.close()


class Pcid:
    """A pcid process with private sockets; stopped (SIGTERM) on exit.

    State: by default a private state directory inside the instance's temporary directory
    (removed on exit), so a test never reads or writes the user's real one. state_dir=PATH uses
    PATH (for restarts: the test owns and removes it), state_dir=False runs with --no-state.
    $STATE_DIRECTORY (which would win over --state-dir) is removed from the child's environment
    unless `env` sets it.
    """

    def __init__(self, args=(), guest='none', env=None, state_dir=None):
        self.dir = tempfile.mkdtemp(prefix='pcid-test-')
        self.qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.rest_path = os.path.join(self.dir, 'rest.sock')
        self.access_path = os.path.join(self.dir, 'access.sock')
        self.port = free_port()
        self.args = [PCID, '--qmp', 'unix:' + self.qmp_path, '--rest', 'unix:' + self.rest_path,
                     '--rest', 'tcp:127.0.0.1:%d' % self.port,
                     '--access', 'unix:' + self.access_path]
        if state_dir is False:
            self.state_dir = None
            self.args += ['--no-state']
        else:
            self.state_dir = state_dir or os.path.join(self.dir, 'state')
            self.args += ['--state-dir', self.state_dir]
        self.args += list(args)
        if guest:
            self.args += ['--guest', guest]
        self.env = dict(os.environ)
        self.env.pop('STATE_DIRECTORY', None)
        self.env.update(env or {})
        self.proc = None
        self.log = None

    def start(self):
        # O_APPEND: pcid shares this file's offset, which logtext() moves when it reads.
        self.log = open(os.path.join(self.dir, 'pcid.log'), 'a+')
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        deadline = time.time() + 10 * TIME_FACTOR
        # Every socket is open once pcid logs "ready (" (after the unix sockets, the TCP ones
        # too); a log level above info hides the line, then the unix sockets must do.
        quiet = any(a in ('err', 'warning', 'notice') for a in self.args)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('pcid exited %d: %s' % (self.proc.returncode, self.logtext()))
            if os.path.exists(self.qmp_path) and os.path.exists(self.rest_path):
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(self.rest_path)
                    s.close()
                    if quiet or ': ready (' in self.logtext():
                        return self
                except OSError:
                    pass
            time.sleep(0.02)
        raise RuntimeError('pcid did not open its sockets: ' + self.logtext())

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def qmp(self, negotiate=True):
        return Qmp(self.qmp_path, negotiate)

    def rest(self, method, path, body=None, tcp=False, headers=None, raw=False):
        """Returns (status, parsed JSON or text, response headers)."""
        conn = (http.client.HTTPConnection('127.0.0.1', self.port, timeout=10) if tcp
                else UnixHTTPConnection(self.rest_path))
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.setdefault('Content-Type', 'application/json')
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        ctype = resp.getheader('Content-Type', '')
        if not raw and ctype.startswith('application/json'):
            return resp.status, json.loads(text), dict(resp.getheaders())
        return resp.status, text, dict(resp.getheaders())

    def events(self, last_id=None, follow=True, timeout=10):
        """An SSE stream of GET /v1/events (see SseStream)."""
        return SseStream(self.rest_path, last_id, follow, timeout)

    def pcictl(self, *args, check=False):
        """Run pcictl against this daemon's REST unix socket."""
        p = subprocess.run([PCICTL, '--socket', self.rest_path] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check and p.returncode != 0:
            raise RuntimeError('pcictl %s: %d %s' % (args, p.returncode, p.stderr))
        return p

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        died = self.proc is not None and self.proc.poll() is not None  # before we stopped it
        self.stop()
        report = None
        if self.log:
            # A sanitizer build reports races, leaks and undefined behaviour on pcid's stderr:
            # any report fails the test that ran this daemon.
            text = self.logtext()
            if 'Sanitizer' in text or 'runtime error:' in text:
                report = text
            if ((exc and exc[0]) or died) and text:
                # The test failed: what pcid said is part of the story (a crash, a sanitizer
                # report, a refusal).
                sys.stderr.write('--- pcid log (%s) ---\n%s--- end of pcid log ---\n' %
                                 (' '.join(self.args[7:]), text[-20000:]))
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if report and not (exc and exc[0]):
            raise AssertionError('pcid reported a defect:\n' + report)


class Guest:
    """The access socket (QEMU's qtest text protocol) as a guest driver uses it: port and memory
    accesses, configuration cycles through 0xCF8/0xCFC or ECAM. Lines are pipelined: batch()
    sends many and collects their replies in order; IRQ lines are kept in self.irqs."""

    ECAM = 0xb0000000

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout * TIME_FACTOR)
        self.sock.connect(path)
        self.buf = b''
        self.irqs = []

    def _line(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('access socket closed')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode()

    def batch(self, lines):
        self.sock.sendall(''.join(l + '\n' for l in lines).encode())
        out = []
        while len(out) < len(lines):
            line = self._line()
            if line.startswith('IRQ'):
                self.irqs.append(line)
            else:
                out.append(line)
        return out

    def cmd(self, line):
        reply = self.batch([line])[0]
        if not reply.startswith('OK'):
            raise RuntimeError('%s -> %s' % (line, reply))
        return reply

    @staticmethod
    def value(reply):
        return int(reply.split()[1], 16)

    def read(self, addr, size):
        return self.value(self.cmd('read%s 0x%x' % ({1: 'b', 2: 'w', 4: 'l', 8: 'q'}[size], addr)))

    def write(self, addr, value, size):
        self.cmd('write%s 0x%x 0x%x' % ({1: 'b', 2: 'w', 4: 'l', 8: 'q'}[size], addr, value))

    def enable_ecam(self):
        self.batch(['outl 0xcf8 0x80000060', 'outl 0xcfc 0x%x' % (self.ECAM | 1)])

    def ecam(self, bus, devfn, off):
        return self.ECAM + (bus << 20 | devfn << 12 | off)

    @staticmethod
    def cf8(bus, devfn, off):
        return 0x80000000 | bus << 16 | devfn << 8 | (off & 0xfc)

    def cfg_lines_read(self, bus, devfn, off, size, ecam):
        if ecam:
            return ['read%s 0x%x' % ({1: 'b', 2: 'w', 4: 'l'}[size], self.ecam(bus, devfn, off))]
        return ['outl 0xcf8 0x%x' % self.cf8(bus, devfn, off),
                'in%s 0x%x' % ({1: 'b', 2: 'w', 4: 'l'}[size], 0xcfc + (off & 3))]

    def cfg_lines_write(self, bus, devfn, off, val, size, ecam):
        if ecam:
            return ['write%s 0x%x 0x%x' % ({1: 'b', 2: 'w', 4: 'l'}[size],
                                           self.ecam(bus, devfn, off), val)]
        return ['outl 0xcf8 0x%x' % self.cf8(bus, devfn, off),
                'out%s 0x%x 0x%x' % ({1: 'b', 2: 'w', 4: 'l'}[size], 0xcfc + (off & 3), val)]

    def cfg_write(self, bus, devfn, off, val, size, ecam=True):
        self.batch(self.cfg_lines_write(bus, devfn, off, val, size, ecam))

    def dump(self, bus, devfn, size, ecam):
        """Config space with dword reads, as the QEMU recordings were taken."""
        lines = []
        for off in range(0, size, 4):
            lines += self.cfg_lines_read(bus, devfn, off, 4, ecam)
        replies = [r for r in self.batch(lines) if len(r.split()) > 1]
        out = bytearray()
        for r in replies:
            out += self.value(r).to_bytes(8, 'little')[:4]
        return bytes(out)

    def probe(self, bus, devfn, size, ecam):
        """The byte-wise write probe of tests/tools/gen_pcie_reference.py: for each byte read,
        write 0xff, read, write 0x00, read, write the original back. Returns (orig, after_ff,
        after_00) per byte. Each byte's steps depend on its original value, so the byte is read
        first, then the rest of its steps go out in one batch."""
        raw = []
        for off in range(size):
            rd = self.cfg_lines_read(bus, devfn, off, 1, ecam)
            orig = self.value(self.batch(rd)[-1])
            lines = (self.cfg_lines_write(bus, devfn, off, 0xff, 1, ecam) + rd +
                     self.cfg_lines_write(bus, devfn, off, 0x00, 1, ecam) + rd +
                     self.cfg_lines_write(bus, devfn, off, orig, 1, ecam))
            replies = self.batch(lines)
            vals = [self.value(r) for r in replies if len(r.split()) > 1]
            raw.append((orig, vals[0], vals[1]))
        return raw

    def close(self):
        self.sock.close()
