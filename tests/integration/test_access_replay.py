# SPDX-License-Identifier: MIT
"""Replay guest-access scripts recorded from QEMU 7.2 (tests/data/access/*.jsonl, made by
tests/tools/gen_access_reference.py) against pcid's access socket and QMP, and compare every
reply: qtest replies to the letter, QMP replies as JSON values (error texts except JSON parse
wording), and the interrupt lines (IRQ raise/lower) each step produced.

pcid runs with --guest none, as QEMU runs paused (-S) when recording.
"""

import glob
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import replay  # noqa: E402
from pcid_harness import Pcid  # noqa: E402

ACCESS = replay.data_path('access')
DRAIN = 0.2


class AccessSocket:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b''

    def readline(self, timeout=10):
        self.sock.settimeout(timeout)
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('access socket closed')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode()

    def send(self, line):
        self.sock.sendall((line + '\n').encode())

    def until_reply(self):
        irqs = []
        while True:
            line = self.readline()
            if line.startswith('IRQ'):
                irqs.append(line)
            else:
                return line, irqs

    def drain(self, seconds):
        irqs = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                line = self.readline(max(deadline - time.time(), 0.01))
            except (TimeoutError, socket.timeout):
                break
            if line.startswith('IRQ'):
                irqs.append(line)
        return irqs

    def close(self):
        self.sock.close()


def pcid_args(qemu_args):
    out = []
    for i, a in enumerate(qemu_args):
        if a in ('-device', '-blockdev', '-global'):
            out += ['-' + a, qemu_args[i + 1]]
    return out


def replay_file(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    header, steps = lines[0], lines[1:]
    problems = []
    args = pcid_args(header['args']) + ['--machine', header['machine']]
    with Pcid(args=args) as d:
        q = d.qmp()
        a = AccessSocket(d.access_path)
        for n, step in enumerate(steps, 1):
            cmd = step['cmd']
            if cmd.startswith('qmp '):
                q.send_raw(cmd[4:] + '\n')
                got = replay.next_line(q)
                while 'event' in got:
                    got = replay.next_line(q)
                why = replay.compare(got, json.loads(step['reply']))
                irqs = a.drain(DRAIN)
            else:
                a.send(cmd)
                reply, irqs = a.until_reply()
                why = None if reply == step['reply'] else '%r != %r' % (reply, step['reply'])
            if why:
                problems.append('step %d (%s): %s' % (n, cmd, why))
            if irqs != step['irqs']:
                problems.append('step %d (%s): irqs %s != %s' % (n, cmd, irqs, step['irqs']))
        a.close()
        q.close()
    return problems


class AccessReplay(unittest.TestCase):
    maxDiff = None

    def test_scripts(self):
        files = sorted(glob.glob(os.path.join(ACCESS, '*.jsonl')))
        self.assertGreater(len(files), 0, 'no recorded access scripts')
        for path in files:
            with self.subTest(os.path.basename(path)):
                problems = replay_file(path)
                self.assertEqual(problems, [], '\n'.join(problems))


if __name__ == '__main__':
    unittest.main()
