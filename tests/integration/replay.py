# SPDX-License-Identifier: MIT
"""Replay a recorded QEMU QMP session (one JSON object per line: label, request, reply,
other_lines_received) against pcid and report every difference.

Comparison rules (the issue's): replies as JSON values; error classes identical; error texts
identical except for the wording of JSON parse errors; event lines compared without their
timestamps. pcid's own PCI_DEVICE_ADDED event (QEMU has none, and QEMU clients ignore unknown
events) is dropped from the stream before comparing.
"""

import json
import os

SKIP_LABEL_PREFIXES = ('qom-',)
# QOM paths of QEMU's built-in chipset objects are QEMU internals pcid does not mirror.
SKIP_REQUEST_MARKERS = ('/machine/unattached', '/machine/i440fx', '"qom-')


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def skipped(step):
    return (step['label'].startswith(SKIP_LABEL_PREFIXES) or
            any(m in step['request'] for m in SKIP_REQUEST_MARKERS))


def strip_ts(obj):
    obj = dict(obj)
    obj.pop('timestamp', None)
    return obj


def next_line(q):
    """Next line from pcid, skipping pcid-only events."""
    while True:
        obj = json.loads(q.readline())
        if obj.get('event') == 'PCI_DEVICE_ADDED':
            continue
        return obj


def compare(got, want):
    """None when equal under the rules, else a short explanation."""
    if 'error' in want:
        if 'error' not in got:
            return 'expected error %s, got %s' % (want['error'], got)
        if got['error']['class'] != want['error']['class']:
            return 'class %s != %s' % (got['error']['class'], want['error']['class'])
        wd, gd = want['error']['desc'], got['error']['desc']
        if wd.startswith('JSON parse error'):
            if not gd.startswith('JSON parse error'):
                return 'desc %r is not a JSON parse error' % gd
        elif gd != wd:
            return 'desc %r != %r' % (gd, wd)
        if got.get('id') != want.get('id'):
            return 'id %r != %r' % (got.get('id'), want.get('id'))
        return None
    if 'event' in want:
        return None if strip_ts(got) == strip_ts(want) else 'event %s != %s' % (got, want)
    return None if got == want else 'reply %s != %s' % (got, want)


def drain(q, timeout=0.3):
    """Read and drop whatever pcid still sends within `timeout` seconds."""
    q.sock.settimeout(timeout)
    try:
        while True:
            next_line(q)
    except (TimeoutError, OSError):
        pass
    finally:
        q.sock.settimeout(10)


def replay(q, steps, on_step=None, skip=skipped, uncompared=()):
    """Run the steps; return [(label, problem)] for every step that differed.

    Steps for which skip(step) is true are not sent. Steps labelled in `uncompared` are sent
    (so the machine's state follows the recording) but what comes back is not compared.
    """
    problems = []
    for step in steps:
        if skip(step):
            continue
        q.send_raw(step['request'] + '\n')
        want = json.loads(step['reply'])
        got = next_line(q)
        # Events QEMU delivered before its reply may arrive after ours: match by kind.
        while 'event' in got and 'event' not in want:
            got = next_line(q)
        if step['label'] in uncompared:
            drain(q)
            continue
        why = compare(got, want)
        if why:
            problems.append((step['label'], why))
        for other in step.get('other_lines_received', []):
            q.sock.settimeout(2)
            try:
                line = next_line(q)
            except (TimeoutError, OSError):
                problems.append((step['label'], 'missing later line %s' % other))
                continue
            finally:
                q.sock.settimeout(10)
            why = compare(line, json.loads(other))
            if why:
                problems.append((step['label'] + ' (later line)', why))
        if on_step:
            on_step(step)
    return problems


def data_path(*parts):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', *parts)
