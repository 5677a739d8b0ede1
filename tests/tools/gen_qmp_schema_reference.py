#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Record QEMU 7.2's query-qmp-schema for the commands and events pcid shares with it.

    tests/tools/gen_qmp_schema_reference.py [OUT]   (default tests/data/qemu/qmp/query-qmp-schema.json)

Starts qemu-system-x86_64 -M pc (paused, as qemu_harness does), asks query-qmp-schema and keeps
the entries of the commands and events below plus every type they reach, as QEMU returned them
(masked names included). tests/integration/test_schema.py compares pcid's introspection of
the same commands with it, structurally.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_harness import Qemu  # noqa: E402

SHARED = [
    'qmp_capabilities', 'query-version', 'query-commands', 'query-qmp-schema', 'query-status',
    'query-machines', 'system_reset', 'device_add', 'device_del', 'device-list-properties',
    'human-monitor-command', 'blockdev-add', 'blockdev-del', 'query-named-block-nodes',
    'query-pci', 'RESET', 'DEVICE_DELETED', 'DEVICE_UNPLUG_GUEST_ERROR',
]


def closure(schema, names):
    """The entries named, and every type they reach, in QEMU's order."""
    by = {e['name']: e for e in schema}
    keep = set()
    todo = [n for n in names if n in by]

    def refs(e):
        meta = e['meta-type']
        if meta in ('command', 'event'):
            return [e['arg-type'], e.get('ret-type')]
        if meta == 'array':
            return [e['element-type']]
        if meta == 'object':
            return ([m['type'] for m in e['members']] +
                    [v['type'] for v in e.get('variants', [])])
        if meta == 'alternate':
            return [m['type'] for m in e['members']]
        return []

    while todo:
        n = todo.pop()
        if n is None or n in keep or n not in by:
            continue
        keep.add(n)
        todo += refs(by[n])
    return [e for e in schema if e['name'] in keep]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), '..', 'data', 'qemu', 'qmp', 'query-qmp-schema.json')
    with Qemu('pc') as q:
        version = q.cmd('query-version')
        schema = q.cmd('query-qmp-schema')
    missing = [n for n in SHARED if n not in {e['name'] for e in schema}]
    if missing:
        sys.exit('QEMU lacks %s' % missing)
    with open(out, 'w') as f:
        json.dump({'qemu': version, 'entities': SHARED, 'schema': closure(schema, SHARED)}, f,
                  indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
