#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crash consistency (issue 7 item 5): rounds of a hot-add/remove storm over QMP, `kill -9` at
a random moment, restart on the same state directory, and check:

  1. machine.json parses (right after the kill, before pcid touches it again);
  2. every device whose device_add was acknowledged is present at the slot it was added to,
     unless its device_del was sent later (then present there, or absent);
  3. every device whose DEVICE_DELETED was seen is absent;
  4. nothing else was added: every present device is one the storm sent, at its slot;
  5. pcid restarts (never exit 78) and answers.

One pcid per round: the restart that checks round N is the start of round N+1. The cooperative
guest ejects (so removals complete asynchronously, as on a real guest).

    PCID=build/daemon/pcid tests/crash/crash.py --rounds 50        # CI (.ci/run)
    PCID=build/daemon/pcid tests/crash/crash.py --rounds 1000 --seed 7

Prints one JSON line with the totals; exits 1 on the first violation (with the round, the seed
and what was wrong). `--sabotage` checks the checker: after each kill it drops an acknowledged
device from machine.json (a lost save) and succeeds only if that is reported. Standard library
only.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
from pcid_harness import TIME_FACTOR, Pcid  # noqa: E402

SLOTS = list(range(0x05, 0x1f))  # bus 0 of `pc`: 00-02 onboard, 03-04 left alone


class Storm(threading.Thread):
    """Adds and removes e1000 functions on SLOTS until the connection dies."""

    def __init__(self, q, rng, serial, present):
        super().__init__(daemon=True)
        self.q, self.rng = q, rng
        self.serial = serial        # next device number (ids are never reused)
        self.slot_of = dict(present)  # id -> slot of what the storm believes exists
        self.acked_add = {}         # id -> slot: device_add answered {"return": {}}
        self.del_sent = set()       # ids whose device_del was sent
        self.deleted = set()        # ids whose DEVICE_DELETED was seen
        self.sent_add = {}          # id -> slot: every device_add sent
        self.commands = 0

    def note_events(self):
        for e in self.q.events:
            if e['event'] == 'DEVICE_DELETED' and e['data'].get('device'):
                self.deleted.add(e['data']['device'])
        self.q.events.clear()

    def run(self):
        try:
            while True:
                used = {s for i, s in self.slot_of.items() if i not in self.deleted}
                free = [s for s in SLOTS if s not in used]
                removable = [i for i in self.slot_of if i not in self.del_sent]
                if free and (not removable or self.rng.random() < 0.6):
                    slot = self.rng.choice(free)
                    dev = 'c%d' % self.serial
                    self.serial += 1
                    self.sent_add[dev] = slot
                    r = self.q.cmd_raw({'execute': 'device_add', 'arguments': {
                        'driver': 'e1000', 'id': dev, 'addr': '%x' % slot}})
                    if 'return' in r:
                        self.acked_add[dev] = slot
                        self.slot_of[dev] = slot
                elif removable:
                    dev = self.rng.choice(removable)
                    self.del_sent.add(dev)
                    r = self.q.cmd_raw({'execute': 'device_del', 'arguments': {'id': dev}})
                    if 'error' in r:  # already gone: nothing to wait for
                        self.deleted.add(dev)
                else:
                    self.q.wait_events(len(self.q.events) + 1, timeout=0.05)
                self.commands += 1
                self.note_events()
        except (OSError, EOFError, ValueError):
            pass
        self.note_events()


def present_devices(q):
    """id -> slot of every function with an id on bus 0."""
    out = {}
    for bus in q.cmd('query-pci'):
        for dev in bus['devices']:
            if dev.get('qdev_id'):
                out[dev['qdev_id']] = dev['slot']
    return out


def check(expected, storm, present, machine_json):
    """The invariants of this file's docstring; a list of violations."""
    bad = []
    try:
        with open(machine_json) as f:
            json.load(f)
    except (OSError, ValueError) as e:
        bad.append('machine.json does not parse after kill -9: %s' % e)
    if storm is None:
        return bad
    for dev, slot in storm.acked_add.items():
        if dev in storm.deleted:
            continue
        if dev in present and present[dev] != slot:
            bad.append('%s acknowledged at slot %x, found at %x' % (dev, slot, present[dev]))
        elif dev not in present and dev not in storm.del_sent:
            bad.append('%s: device_add acknowledged, absent after restart' % dev)
    for dev in storm.deleted:
        if dev in present:
            bad.append('%s: DEVICE_DELETED seen, present after restart' % dev)
    for dev, slot in present.items():
        want = storm.sent_add.get(dev, expected.get(dev))
        if want is None:
            bad.append('%s present but never added' % dev)
        elif want != slot:
            bad.append('%s present at %x, added at %x' % (dev, slot, want))
    return bad


def sabotage(path, storm):
    """Drop one acknowledged, never removed device from the description (a lost save)."""
    keep = [dev for dev in storm.acked_add if dev not in storm.del_sent]
    if not keep or not os.path.exists(path):
        return
    with open(path) as f:
        desc = json.load(f)
    desc['devices'] = [x for x in desc['devices'] if x.get('id') != keep[-1]]
    with open(path, 'w') as f:
        json.dump(desc, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rounds', type=int, default=50)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--max-storm', type=float, default=0.6,
                    help='longest storm before the kill, seconds (random from 0)')
    ap.add_argument('--sabotage', action='store_true',
                    help='drop an acknowledged device from machine.json after each kill; '
                         'exit 0 only if a violation is reported')
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    state = tempfile.mkdtemp(prefix='pcid-crash-')
    totals = {'seed': seed, 'rounds': 0, 'commands': 0, 'acked_adds': 0, 'deletes_seen': 0,
              'present_checked': 0, 'longest_round_s': 0.0}
    storm = None
    expected = {}  # id -> slot present at the start of the previous round
    serial = 0
    try:
        for rnd in range(a.rounds + 1):  # the last start only checks
            t0 = time.monotonic()
            d = Pcid(args=['--eject-delay', '%d' % rng.choice([0, 1, 5, 20])],
                     guest='cooperative', state_dir=os.path.join(state, 'st'))
            d.start()
            q = d.qmp()
            present = present_devices(q)
            mj = os.path.join(state, 'st', 'machine.json')
            bad = check(expected, storm, present, mj_copy) if rnd else []
            if bad:
                print(json.dumps({'round': rnd, 'seed': seed, 'violations': bad,
                                  'log': d.logtext()[-2000:]}, indent=1))
                d.proc.kill()
                return 0 if a.sabotage else 1
            if storm:
                totals['commands'] += storm.commands
                totals['acked_adds'] += len(storm.acked_add)
                totals['deletes_seen'] += len(storm.deleted)
                totals['present_checked'] += len(present)
                serial = storm.serial
            if rnd == a.rounds:
                d.stop()
                break
            expected = present
            storm = Storm(q, random.Random(rng.random()), serial, present)
            storm.start()
            time.sleep(rng.uniform(0, a.max_storm) * TIME_FACTOR)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            storm.join(10 * TIME_FACTOR)
            q.close()
            # Right after the kill, before the next start rewrites it.
            mj_copy = os.path.join(state, 'machine.json.after-kill')
            if os.path.exists(mj):
                shutil.copyfile(mj, mj_copy)
            else:
                with open(mj_copy, 'w') as f:
                    f.write('{}')
            if a.sabotage:
                sabotage(mj, storm)
            d.log.close()
            shutil.rmtree(d.dir, ignore_errors=True)
            totals['rounds'] += 1
            totals['longest_round_s'] = max(totals['longest_round_s'],
                                            round(time.monotonic() - t0, 3))
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print(json.dumps(totals))
    if a.sabotage:
        print('sabotage: no violation reported', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
