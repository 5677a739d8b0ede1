#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Record QEMU 7.2's answers to guest-access scripts, for pcid's differential access tests.

A script (tests/data/access/scripts/NAME.txt) is one step a line:

    # comment
    @machine pc                      machine type (default pc); first lines only
    @args -device e1000,id=n,addr=5  extra command-line arguments (-device, -blockdev)
    qmp {"execute": ...}             a QMP command; its reply and the interrupt lines that
                                     arrive within DRAIN seconds are recorded
    outl 0xcf8 0x80001800            any other line is sent on the qtest (access) socket; the
                                     reply and the IRQ lines before it are recorded

The output (tests/data/access/NAME.jsonl) has a header line {"machine", "args"} and then one
object per step: {"cmd", "reply", "irqs"}. tests/integration/test_access_replay.py replays it
against pcid (with --guest none, as QEMU runs paused here) and compares.

    python3 tests/tools/gen_access_reference.py [NAME ...]   # default: every script
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_harness import Qemu  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data', 'access')
SCRIPTS = os.path.join(DATA, 'scripts')
DRAIN = 0.2


def parse_script(path):
    machine, args, steps = 'pc', [], []
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            if line.startswith('@machine '):
                machine = line.split(None, 1)[1]
            elif line.startswith('@args '):
                args += line.split()[1:]
            else:
                steps.append(line)
    return machine, args, steps


def read_until_reply(q, timeout=10.0):
    """Lines from the qtest socket up to the OK/FAIL reply: (reply, [IRQ lines])."""
    irqs = []
    deadline = time.monotonic() + timeout
    while True:
        line = q._qt.readline(max(deadline - time.monotonic(), 0.01))
        if line is None:
            raise RuntimeError('qtest: no reply')
        if line.startswith('IRQ'):
            irqs.append(line)
            continue
        return line, irqs


def drain_irqs(q, seconds):
    irqs = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return irqs
        line = q._qt.readline(left)
        if line is None:
            return irqs
        if line.startswith('IRQ'):
            irqs.append(line)


def record(name):
    machine, args, steps = parse_script(os.path.join(SCRIPTS, name + '.txt'))
    out = [{'machine': machine, 'args': args}]
    with Qemu(machine, extra_args=args) as q:
        for cmd in steps:
            if cmd.startswith('qmp '):
                reply, _ = q.qmp(cmd[4:])
                irqs = drain_irqs(q, DRAIN)
            else:
                q._qt.send(cmd + '\n')
                reply, irqs = read_until_reply(q)
            out.append({'cmd': cmd, 'reply': reply, 'irqs': irqs})
    with open(os.path.join(DATA, name + '.jsonl'), 'w') as f:
        for obj in out:
            f.write(json.dumps(obj) + '\n')
    return len(steps)


def main(argv):
    names = argv or sorted(n[:-4] for n in os.listdir(SCRIPTS) if n.endswith('.txt'))
    for name in names:
        print('%s: %d steps' % (name, record(name)))


if __name__ == '__main__':
    main(sys.argv[1:])
