# SPDX-License-Identifier: MIT
"""Replay QEMU 7.2's recorded QMP sessions (tests/data/reference/qmp) against pcid.

Each step sends exactly the recorded request and compares what comes back: replies as JSON
values, error classes identical, error texts identical except for the wording of JSON parse
errors (the issue allows that). Steps that use QOM (qom-get, qom-list, QOM paths of built-in
chipset objects) are QEMU internals and are skipped. `info pci` and `query-pci` are compared
with the recorded files at the points where they were recorded, and the events after
system_reset with the recorded events. pcid runs with --guest none, like QEMU paused with -S.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import DATA, Pcid  # noqa: E402

REF = os.path.join(DATA, 'reference', 'qmp')


def load_steps(name):
    with open(os.path.join(REF, name)) as f:
        return [json.loads(line) for line in f if line.strip()]


def qom_step(step):
    return (step['label'].startswith('qom-') or '/machine/unattached' in step['request'] or
            '/machine/i440fx' in step['request'])


def strip_timestamp(ev):
    ev = dict(ev)
    ev.pop('timestamp', None)
    return ev


class Replay(unittest.TestCase):
    maxDiff = None

    def check_reply(self, step, got, want):
        label = step['label']
        if 'error' in want:
            self.assertIn('error', got, '%s: expected an error, got %s' % (label, got))
            self.assertEqual(got['error']['class'], want['error']['class'], label)
            if not want['error']['desc'].startswith('JSON parse error'):
                self.assertEqual(got['error']['desc'], want['error']['desc'], label)
            else:
                self.assertTrue(got['error']['desc'].startswith('JSON parse error'), label)
            self.assertEqual(got.get('id'), want.get('id'), label)
        elif 'event' in want:
            self.assertEqual(strip_timestamp(got), strip_timestamp(want), label)
        else:
            self.assertEqual(got, want, label)

    def replay(self, d, q, steps, checkpoints=None):
        checkpoints = checkpoints or {}
        for step in steps:
            if qom_step(step):
                continue
            q.send_raw(step['request'] + '\n')
            got = json.loads(q.readline())
            while 'event' in got and 'event' not in json.loads(step['reply']):
                q.events.append(got)
                got = json.loads(q.readline())
            self.check_reply(step, got, json.loads(step['reply']))
            for other in step.get('other_lines_received', []):
                line = json.loads(q.readline())
                self.check_reply(step, line, json.loads(other))
                if 'event' in line:
                    q.events.append(line)
            if step['label'] in checkpoints:
                checkpoints[step['label']](d, q)

    def compare_pci(self, q, stem):
        with open(os.path.join(REF, stem + '.info-pci.txt')) as f:
            want_text = f.read()
        got_text = q.hmp('info pci').replace('\r\n', '\n')
        self.assertEqual(got_text, want_text, stem)
        path = os.path.join(REF, stem + '.query-pci.json')
        if os.path.exists(path):
            with open(path) as f:
                want = json.load(f)['return']
            self.assertEqual(q.cmd('query-pci'), want, stem)

    def test_negotiation(self):
        with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0']) as d:
            q = d.qmp(negotiate=False)
            self.assertEqual(set(q.greeting['QMP']), {'version', 'capabilities'})
            self.assertEqual(q.greeting['QMP']['capabilities'], [])
            self.assertTrue(q.greeting['QMP']['version']['package'].startswith('pcid '))
            self.replay(d, q, load_steps('pc_negotiation.results.jsonl'))

    def test_bare(self):
        with Pcid() as d:
            self.compare_pci(d.qmp(), 'pc_bare')

    def test_hotplug(self):
        checkpoints = {
            'auto1(no addr)': lambda d, q: self.compare_pci(q, 'pc_hotplug'),
            'device_del mf0 (function 0 of multifunction slot)':
                lambda d, q: self.compare_pci(q, 'pc_after_device_del'),
        }
        with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0']) as d:
            q = d.qmp()
            self.replay(d, q, load_steps('pc_hotplug.results.jsonl'), checkpoints)
            with open(os.path.join(REF, 'pc_device_del.events.json')) as f:
                want = [strip_timestamp(e[1]) for e in json.load(f)['events_after_system_reset']]
            # PCI_DEVICE_ADDED is pcid's own event (QEMU has none); a QEMU client ignores it.
            q.wait_events(len(want) + 7)
            got = [strip_timestamp(e) for e in q.events if e['event'] != 'PCI_DEVICE_ADDED']
            self.assertEqual(got, want)
            self.compare_pci(q, 'pc_after_device_del_and_system_reset')

    def test_errors(self):
        with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0']) as d:
            q = d.qmp()
            self.replay(d, q, load_steps('pc_errors.results.jsonl'))


if __name__ == '__main__':
    unittest.main()
