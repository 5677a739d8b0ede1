#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The cooperative guest, end to end: firmware at start and after reset matches a booted QEMU
7.2 (SeaBIOS 1.16.2), the OS configures hot-added devices and ejects unplugged ones, so
device_del completes with DEVICE_DELETED.

Booted references: tests/data/reference/booted/ (from ../shared) and tests/data/qemu/booted/
(made by tests/tools/gen_booted_reference.py: pc and q35, root ports, bridges behind bridges,
windows large enough for 64-bit placement). Each is compared on `info pci`, `query-pci`, the
firmware's `PCI: map device` lines and its whole PCI setup log against SeaBIOS's own.
"""

import json
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcid_harness import DATA, TIME_FACTOR, Pcid  # noqa: E402

REF = os.path.join(DATA, 'reference', 'booted')
GEN = os.path.join(DATA, 'qemu', 'booted')

# The devices of ../shared/reference/booted (see its README).
SHARED = {
    'pc_booted': {
        'blockdevs': ['driver=null-co,node-name=null0'],
        'devices': ['virtio-net-pci,id=net0,addr=0x3',
                    'virtio-blk-pci,id=blk0,addr=0x4,drive=null0',
                    'e1000,id=nic1,addr=0x5',
                    'virtio-net-pci,id=net1,addr=0x6,disable-legacy=on,disable-modern=off'],
    },
    'pc_booted_bare': {'blockdevs': [], 'devices': []},
}


def variants():
    out = []
    for name, spec in SHARED.items():
        out.append((name, spec, os.path.join(REF, name)))
    for f in sorted(os.listdir(GEN)):
        if f.endswith('.args.json'):
            name = f[:-len('.args.json')]
            with open(os.path.join(GEN, f)) as fh:
                out.append((name, json.load(fh), os.path.join(GEN, name)))
    return out


def read_json(path):
    obj = json.loads(read(path))
    return obj['return'] if isinstance(obj, dict) and 'return' in obj else obj


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def map_lines(text):
    return [ln for ln in text.splitlines() if ln.startswith('PCI: map device')]


def pci_setup_lines(text):
    """SeaBIOS's PCI setup, as its log shows it: from the bus init to 'No VGA devices found'
    (what pciinit.c prints at debug level 1, and the PIIX/ICH9 and pmtimer lines within)."""
    lines = text.splitlines()
    start = lines.index('=== PCI bus & bridge init ===')
    end = lines.index('PCI: No VGA devices found', start)
    return lines[start:end + 1]


def pcid_args(spec, log):
    args = ['--firmware-log', log]
    if 'machine' in spec:
        args += ['--machine', spec['machine']]
    for g in spec.get('globals', []):
        args += ['--global', g]
    for b in spec.get('blockdevs', []):
        args += ['--blockdev', b]
    for d in spec['devices']:
        args += ['--device', d]
    return args


def bar_ranges(query_pci):
    """(kind, start, end, who) for every mapped BAR in a query-pci reply."""
    out = []
    for d in all_devices(query_pci):
        if True:
            for r in d.get('regions', []):
                if r['address'] in (-1, 0xffffffffffffffff):
                    continue
                kind = 'io' if r['type'] == 'io' else 'mem'
                out.append((kind, r['address'], r['address'] + r['size'] - 1,
                            '%s bar %d' % (d.get('qdev_id'), r['bar'])))
    return out


class Booted(unittest.TestCase):
    maxDiff = None

    def test_boot_matches_qemu(self):
        for name, spec, base in variants():
            with self.subTest(variant=name):
                log = os.path.join(os.environ.get('TMPDIR', '/tmp'),
                                   'pcid-fw-%d-%s.log' % (os.getpid(), name))
                try:
                    with Pcid(args=pcid_args(spec, log), guest='cooperative') as d:
                        q = d.qmp()
                        self.assertEqual(q.cmd('query-status')['status'], 'running')
                        self.assertEqual(q.hmp('info pci').replace('\r\n', '\n'),
                                         read(base + '.info-pci.txt'))
                        self.assertEqual(q.cmd('query-pci'),
                                         read_json(base + '.query-pci.json'))
                        if os.path.exists(base + '.seabios.log'):
                            ref = read(base + '.seabios.log')
                            # The firmware's log up to its first reboot: the BAR placements,
                            # then the whole PCI setup line by line (bus numbers, bridge
                            # windows, quirks).
                            first = ref.split('SeaBIOS (version', 2)[1]
                            self.assertEqual(map_lines(read(log)), map_lines(first))
                            self.assertEqual(pci_setup_lines(read(log)), pci_setup_lines(first))
                        if 'steps' in spec:
                            self.run_steps_and_reset(q, spec, base)
                finally:
                    if os.path.exists(log):
                        os.unlink(log)

    def run_steps_and_reset(self, q, spec, base):
        deleting = []
        for step in spec['steps']:
            q.cmd(step['execute'], **step.get('arguments', {}))
            if step['execute'] == 'device_del':
                deleting.append(step['arguments']['id'])
        # The guest ejects what was unplugged; a booted QEMU without an OS does it at reset.
        for dev in deleting:
            wait_deleted(q, dev)
        q.cmd('system_reset')
        # system_reset returns once the firmware has run again.
        self.assertEqual(q.hmp('info pci').replace('\r\n', '\n'),
                         read(base + '.reset.info-pci.txt'))
        self.assertEqual(q.cmd('query-pci'), read_json(base + '.reset.query-pci.json'))

    def test_guest_none_is_paused(self):
        spec = SHARED['pc_booted']
        with Pcid(args=sum([['--blockdev', b] for b in spec['blockdevs']], []) +
                  sum([['--device', x] for x in spec['devices']], []), guest='none') as d:
            q = d.qmp()
            self.assertEqual(q.cmd('query-status'),
                             {'status': 'prelaunch', 'singlestep': False, 'running': False})
            # Nothing configured a BAR: every one is unmapped, as under a paused QEMU.
            regions = [r for bus in q.cmd('query-pci') for dev in bus['devices']
                       for r in dev.get('regions', [])]
            self.assertTrue(regions)
            self.assertEqual({r['address'] for r in regions}, {-1})


def wait_deleted(q, dev_id, timeout=5.0):
    """Wait for DEVICE_DELETED {device: dev_id}; returns the seconds it took."""
    timeout *= TIME_FACTOR
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        for e in q.events:
            if e['event'] == 'DEVICE_DELETED' and e['data'].get('device') == dev_id:
                q.events.remove(e)
                return time.monotonic() - t0
        q.wait_events(len(q.events) + 1, timeout=0.2)
    raise AssertionError('no DEVICE_DELETED for %s within %.1f s' % (dev_id, timeout))


def all_devices(query_pci):
    """Every function of a query-pci reply, behind bridges too, in QEMU's order."""
    out = []

    def walk(devices):
        for d in devices:
            out.append(d)
            walk(d.get('pci_bridge', {}).get('devices', []))
    for bus in query_pci:
        walk(bus['devices'])
    return out


def find_dev(q, dev_id):
    for d in all_devices(q.cmd('query-pci')):
        if d.get('qdev_id') == dev_id:
            return d
    return None


def wait_configured(q, dev_id, timeout=5.0):
    """Wait until the guest has assigned every BAR of dev_id; returns its query-pci entry."""
    deadline = time.monotonic() + timeout * TIME_FACTOR
    while time.monotonic() < deadline:
        d = find_dev(q, dev_id)
        if d and d['regions'] and all(r['address'] != -1 for r in d['regions']
                                      if r['bar'] != 6):
            return d
        time.sleep(0.01)
    raise AssertionError('the guest did not configure %s: %s' % (dev_id, find_dev(q, dev_id)))


class Hotplug(unittest.TestCase):
    def test_device_del_completes(self):
        with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0',
                        '--device', 'virtio-net-pci,id=net0,addr=0x3'],
                  guest='cooperative') as d:
            q = d.qmp()
            timings = []
            for i in range(5):
                q.cmd('device_add', driver='virtio-blk-pci', id='hb', drive='null0')
                wait_configured(q, 'hb')
                t0 = time.monotonic()
                q.cmd('device_del', id='hb')
                wait_deleted(q, 'hb')
                timings.append(time.monotonic() - t0)
                self.assertIsNone(find_dev(q, 'hb'))
            # Default eject delay 20 ms: well under a second each time.
            self.assertLess(max(timings), 0.5 * TIME_FACTOR, timings)
            # The event carries the device and its QOM path, as QEMU's does.
            q.cmd('device_add', driver='e1000', id='he', addr='0x9')
            wait_configured(q, 'he')
            q.events.clear()
            q.cmd('device_del', id='he')
            wait_deleted_event = None
            deadline = time.monotonic() + 5 * TIME_FACTOR
            while wait_deleted_event is None and time.monotonic() < deadline:
                q.wait_events(len(q.events) + 1, timeout=0.2)
                for e in q.events:
                    if e['event'] == 'DEVICE_DELETED' and 'device' in e['data']:
                        wait_deleted_event = e
            self.assertEqual(wait_deleted_event['data'],
                             {'device': 'he', 'path': '/machine/peripheral/he'})

    def test_hotadd_gets_free_resources(self):
        spec = SHARED['pc_booted']
        with Pcid(args=pcid_args(spec, '/dev/null'), guest='cooperative') as d:
            q = d.qmp()
            before = bar_ranges(q.cmd('query-pci'))
            q.cmd('device_add', driver='virtio-net-pci', id='h1')
            q.cmd('device_add', driver='e1000', id='h2', addr='0x1f')
            h1 = wait_configured(q, 'h1')
            wait_configured(q, 'h2')
            after = bar_ranges(q.cmd('query-pci'))
            # Booted devices keep their addresses; nothing overlaps.
            self.assertTrue(set(before) <= set(after))
            for kind in ('io', 'mem'):
                rs = sorted(r for r in after if r[0] == kind)
                for a, b in zip(rs, rs[1:]):
                    self.assertLess(a[2], b[1], 'overlap: %s %s' % (a, b))
            # Within the firmware's windows, and an interrupt line from the PIRQ routing
            # (slot 2, pin A: link B = IRQ 10).
            for r in after:
                if r[0] == 'io':
                    self.assertGreaterEqual(r[1], 0xc000)
                else:
                    self.assertTrue(0x80000000 <= r[1] and r[2] < 0xfec00000, r)
            self.assertEqual(h1['slot'], 2)
            self.assertEqual(h1['irq'], 10)
            self.assertEqual(h1['irq_pin'], 1)
            # Removing and adding again reuses the same addresses (nothing leaks).
            first = [(r['bar'], r['address']) for r in h1['regions']]
            q.cmd('device_del', id='h1')
            wait_deleted(q, 'h1')
            q.cmd('device_add', driver='virtio-net-pci', id='h1')
            again = wait_configured(q, 'h1')
            self.assertEqual([(r['bar'], r['address']) for r in again['regions']], first)

    def test_eject_delay_is_configurable(self):
        with Pcid(args=['--eject-delay', '300'], guest='cooperative') as d:
            q = d.qmp()
            q.cmd('device_add', driver='e1000', id='e')
            wait_configured(q, 'e')
            t0 = time.monotonic()
            q.cmd('device_del', id='e')
            # Still there before the delay (checked only if this machine was quick enough to
            # look in time), gone after it.
            present = find_dev(q, 'e') is not None
            if time.monotonic() - t0 < 0.25:
                self.assertTrue(present)
            wait_deleted(q, 'e')
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_reset_cancels_pending_ejects(self):
        # A reset while the guest waits to eject: the reset finishes the removal; the guest's
        # stale eject must not remove a device added to the same slot afterwards.
        with Pcid(args=['--eject-delay', '400'], guest='cooperative') as d:
            q = d.qmp()
            q.cmd('device_add', driver='e1000', id='a', addr='0x7')
            wait_configured(q, 'a')
            q.cmd('device_del', id='a')
            q.cmd('system_reset')
            wait_deleted(q, 'a')
            q.cmd('device_add', driver='e1000', id='b', addr='0x7')
            wait_configured(q, 'b')
            time.sleep(0.6)
            self.assertIsNotNone(find_dev(q, 'b'))


class AccessSocket(unittest.TestCase):
    def qtest(self, path):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(path)
        f = s.makefile('rw', newline='\n')
        return s, f

    def test_config_reads_and_eject_over_access_socket(self):
        spec = SHARED['pc_booted']
        with Pcid(args=pcid_args(spec, '/dev/null'), guest='cooperative') as d:
            s, f = self.qtest(d.access_path)

            def cmd(line):
                f.write(line + '\n')
                f.flush()
                while True:
                    reply = f.readline().strip()
                    if not reply.startswith('IRQ'):
                        return reply
            # Empty slot 00:1f.0: all-ones; 00:03.0: virtio-net's vendor/device.
            self.assertEqual(cmd('outl 0xcf8 0x8000f800'), 'OK')
            self.assertEqual(cmd('inl 0xcfc'), 'OK 0xffffffff')
            self.assertEqual(cmd('outl 0xcf8 0x80001800'), 'OK')
            self.assertEqual(cmd('inl 0xcfc'), 'OK 0x10001af4')
            # BAR0 of 00:03.0 as the firmware set it (I/O at 0xc0c0).
            self.assertEqual(cmd('outl 0xcf8 0x80001810'), 'OK')
            self.assertEqual(cmd('inl 0xcfc'), 'OK 0xc0c1')
            # device_del, then the eject written by this client instead of the guest (the
            # guest waits 20 ms; this write races it and either removes the device).
            q = d.qmp()
            q.cmd('device_del', id='nic1')
            self.assertEqual(cmd('outl 0xae08 0x20'), 'OK')
            wait_deleted(q, 'nic1')
            self.assertEqual(cmd('outl 0xcf8 0x80002800'), 'OK')
            self.assertEqual(cmd('inl 0xcfc'), 'OK 0xffffffff')
            s.close()

    def test_monitor_config_reads_have_no_side_effects(self):
        # virtio's PCI-cfg access window (virtio 1.2 §4.1.4.9) runs on a guest read of its
        # pci_cfg_data; query-pci-config must show the bytes without running it.
        with Pcid(args=['--device', 'virtio-net-pci,id=n,addr=0x3'], guest='none') as d:
            q = d.qmp()
            data = bytes.fromhex(q.cmd('query-pci-config', id='n')['data'])
            cap = data[0x34]
            while cap and not (data[cap] == 0x09 and data[cap + 3] == 5):  # vendor, PCI cfg
                cap = data[cap + 1]
            self.assertTrue(cap, 'no VIRTIO_PCI_CAP_PCI_CFG capability')
            s, f = self.qtest(d.access_path)
            # Window onto BAR4 offset 0x1000 (the ISR), 1 byte; then put 0xab in pci_cfg_data
            # (the write goes through to the read-only ISR and leaves the byte as written).
            cmds = ['outl 0xcf8 0x%08x' % (0x80001800 | (cap + 4)), 'outb 0xcfc 4',
                    'outl 0xcf8 0x%08x' % (0x80001800 | (cap + 8)), 'outl 0xcfc 0x1000',
                    'outl 0xcf8 0x%08x' % (0x80001800 | (cap + 12)), 'outl 0xcfc 1',
                    'outl 0xcf8 0x%08x' % (0x80001800 | (cap + 16)), 'outb 0xcfc 0xab']
            f.write(''.join(c + '\n' for c in cmds))
            f.flush()
            for _ in cmds:
                self.assertEqual(f.readline().strip(), 'OK')
            for _ in range(2):
                data = bytes.fromhex(q.cmd('query-pci-config', id='n')['data'])
                self.assertEqual(data[cap + 16], 0xab)
            # A guest read runs the window: the ISR (0) replaces the byte.
            f.write('inb 0xcfc\n')
            f.flush()
            self.assertEqual(f.readline().strip(), 'OK 0x0000')
            data = bytes.fromhex(q.cmd('query-pci-config', id='n')['data'])
            self.assertEqual(data[cap + 16], 0x00)
            s.close()

    def test_eject_over_access_socket_without_guest(self):
        with Pcid(args=['--device', 'e1000,id=e,addr=0x4'], guest='none') as d:
            q = d.qmp()
            s, f = self.qtest(d.access_path)
            q.cmd('device_del', id='e')
            time.sleep(0.1)
            self.assertIsNotNone(find_dev(q, 'e'))  # no guest: the removal waits
            f.write('inl 0xae04\noutl 0xae08 0x10\n')
            f.flush()
            self.assertEqual(f.readline().strip(), 'OK 0x0010')
            self.assertEqual(f.readline().strip(), 'OK')
            wait_deleted(q, 'e')
            s.close()


if __name__ == '__main__':
    unittest.main()
