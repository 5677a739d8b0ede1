# SPDX-License-Identifier: MIT
"""Addresses that survive restarts, and device-state snapshots (docs/state.md).

Restart: a machine built over QMP comes back after a restart with every device at the same
address with the same properties (and as a reset machine: config space as after system_reset;
the cooperative guest's firmware enumerates it again). The saved description wins over
--device; --blockdev adds nodes; --machine-description FILE starts from a dump. Every refusal at
start (corrupt, truncated or newer description, unknown machine type or driver, a device that
cannot be created, a damaged backends.json or FILE, a state directory in use) exits 78 naming
the file and the problem, and leaves the state directory byte for byte and mtime for mtime as
it was. A removal is saved before DEVICE_DELETED goes out; a failed command writes nothing;
writes are atomic (a reader never sees a partial file, no temporary file stays).

Snapshots: state-save -> restart pcid -> state-load gives byte-identical config space (every
function, query-pci-config) and register state (read through the access socket: MSI-X table
and PBA, virtio common and legacy registers, e1000 registers), and saving again gives the same
file. Every refusal (bad names, missing, corrupt, newer format, bad config data, a device
missing or moved, a capability the device lacks, no state directory) changes neither the files
nor the machine.
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcid_harness import PCID, PCICTL, TIME_FACTOR, Pcid, QmpError  # noqa: E402

NET = 'virtio-net-pci,id=n0,addr=3,mac=02:00:00:00:00:01'
E1000 = 'e1000,id=e0,addr=4,mac=02:00:00:00:00:02'
BLK = 'virtio-blk-pci,id=b0,addr=5,drive=null0'
NULL0 = 'driver=null-co,node-name=null0'
SEED = ['--blockdev', NULL0, '--device', NET, '--device', E1000, '--device', BLK]

# Where the test programs the BARs (--guest none assigns nothing).
NET_IO, NET_MSIX, NET_MEM = 0xc040, 0xfebf1000, 0xfe000000
E1000_MEM = 0xfeb80000
BLK_IO = 0xc080


def tree(d):
    """Every file under d: relative path -> (bytes, mtime in ns)."""
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            with open(p, 'rb') as fh:
                out[os.path.relpath(p, d)] = (fh.read(), os.stat(p).st_mtime_ns)
    return out


def temps(d):
    return [f for _, _, files in os.walk(d) for f in files if '.tmp.' in f]


def qmp(q, command, /, **args):
    """A QMP command whose arguments may include 'name'."""
    r = q.cmd_raw({'execute': command, 'arguments': args} if args else {'execute': command})
    if 'error' in r:
        raise QmpError(r['error'])
    return r['return']


def qmp_error(q, command, /, **args):
    r = q.cmd_raw({'execute': command, 'arguments': args})
    assert 'error' in r, r
    return r['error']['desc']


class Access:
    """QEMU's qtest protocol on pcid's access socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10 * TIME_FACTOR)
        self.sock.connect(path)
        self.buf = b''

    def line(self, text):
        self.sock.sendall((text + '\n').encode())
        while True:
            while b'\n' not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError('access socket closed')
                self.buf += chunk
            reply, self.buf = self.buf.split(b'\n', 1)
            reply = reply.decode()
            if not reply.startswith('IRQ'):
                break
        if not reply.startswith('OK'):
            raise AssertionError('%s -> %s' % (text, reply))
        return int(reply.split()[1], 16) if len(reply.split()) > 1 else None

    def cfg_addr(self, devfn, off):
        self.line('outl 0xcf8 0x%x' % (0x80000000 | devfn << 8 | (off & 0xfc)))

    def cfg_write(self, devfn, off, val, size):
        self.cfg_addr(devfn, off)
        self.line('out%s 0x%x 0x%x' % ({1: 'b', 2: 'w', 4: 'l'}[size], 0xcfc + (off & 3), val))

    def close(self):
        self.sock.close()


def program(a):
    """What drivers leave behind in n0, e0 and b0: BARs, MSI-X, virtio and e1000 registers, and
    an e1000 interrupt raised."""
    # virtio-net: BARs, bus mastering, MSI-X on (vector 0 unmasked), a modern driver.
    a.cfg_write(0x18, 0x10, NET_IO, 4)
    a.cfg_write(0x18, 0x14, NET_MSIX, 4)
    a.cfg_write(0x18, 0x20, NET_MEM, 4)
    a.cfg_write(0x18, 0x3c, 11, 1)
    a.cfg_write(0x18, 0x04, 0x7, 2)
    a.cfg_write(0x18, 0x9a, 0x8000, 2)  # MSI-X Enable (capability at 0x98)
    a.line('writel 0x%x 0xfee00000' % NET_MSIX)
    a.line('writel 0x%x 0x4041' % (NET_MSIX + 8))
    a.line('writel 0x%x 0x0' % (NET_MSIX + 12))
    a.line('writel 0x%x 0xfee01000' % (NET_MSIX + 16))
    a.line('writel 0x%x 0x4042' % (NET_MSIX + 24))
    for off, val, size in [(0x14, 3, 'b'), (0x08, 1, 'l'), (0x0c, 1, 'l'), (0x10, 0, 'w'),
                           (0x16, 1, 'w'), (0x18, 128, 'w'), (0x1a, 1, 'w'),
                           (0x20, 0x12345000, 'l'), (0x24, 1, 'l'), (0x1c, 1, 'w'),
                           (0x16, 2, 'w')]:  # queue_select left at 2
        a.line('write%s 0x%x 0x%x' % (size, NET_MEM + off, val))
    a.line('writew 0x%x 0x0' % (NET_MEM + 0x3000))  # a kick on queue 0
    # e1000: registers, and INTA# raised (ICS with IMS).
    a.cfg_write(0x20, 0x10, E1000_MEM, 4)
    a.cfg_write(0x20, 0x04, 0x6, 2)
    for off, val in [(0x5214, 0xdeadbeef), (0x100, 0x8002), (0xd0, 0x4), (0xc8, 0x4)]:
        a.line('writel 0x%x 0x%x' % (E1000_MEM + off, val))
    # virtio-blk, legacy driver: features, a queue by PFN, status.
    a.cfg_write(0x28, 0x10, BLK_IO, 4)
    a.cfg_write(0x28, 0x04, 0x1, 2)
    a.line('outl 0x%x 0x200' % (BLK_IO + 4))
    a.line('outw 0x%x 0x0' % (BLK_IO + 14))
    a.line('outl 0x%x 0x12345' % (BLK_IO + 8))
    a.line('outb 0x%x 0x3' % (BLK_IO + 18))


def observe(d, a):
    """The machine as seen without side effects: every function's config space, the PCI
    listing, and registers read through the access socket."""
    q = d.qmp()
    out = {'pci': q.cmd('query-pci'), 'config': {}}
    for dev in q.cmd('query-pci-devices'):
        out['config'][dev['bdf']] = q.cmd('query-pci-config', bdf=dev['bdf'])['data']
    q.close()
    regs = []
    for off in range(0, 0x30, 4):
        regs.append(a.line('readl 0x%x' % (NET_MSIX + off)))
    regs.append(a.line('readq 0x%x' % (NET_MSIX + 0x800)))  # PBA
    for off, size in [(0x00, 'l'), (0x08, 'l'), (0x0c, 'l'), (0x10, 'w'), (0x12, 'w'),
                      (0x14, 'b'), (0x15, 'b'), (0x16, 'w'), (0x18, 'w'), (0x1a, 'w'),
                      (0x1c, 'w'), (0x20, 'l'), (0x24, 'l')]:
        regs.append(a.line('read%s 0x%x' % (size, NET_MEM + off)))
    for off in range(0, 8):
        regs.append(a.line('readb 0x%x' % (NET_MEM + 0x2000 + off)))  # MAC, status
    for off in [0x0, 0x8, 0x100, 0x400, 0xd0, 0x5400, 0x5404] + list(range(0x5200, 0x5220, 4)):
        regs.append(a.line('readl 0x%x' % (E1000_MEM + off)))
    for port, size in [(0, 'l'), (4, 'l'), (8, 'l'), (12, 'w'), (14, 'w'), (18, 'b')]:
        regs.append(a.line('in%s 0x%x' % (size, BLK_IO + port)))
    out['regs'] = regs
    return out


def queue_dump(a):
    """Queue 1's registers: selecting it is a write, so both sides run this at the same point."""
    a.line('writew 0x%x 0x1' % (NET_MEM + 0x16))
    vals = [a.line('read%s 0x%x' % (s, NET_MEM + o))
            for o, s in [(0x18, 'w'), (0x1a, 'w'), (0x1c, 'w'), (0x20, 'l'), (0x24, 'l')]]
    a.line('writew 0x%x 0x0' % (NET_MEM + 0x16))
    return vals


def snapshot_section(data, devfn, tag):
    """Offset and length of section `tag` of the function at `devfn` (docs/state.md)."""
    at = 32
    while at + 8 <= len(data):
        rtype, rlen = struct.unpack_from('<II', data, at)
        s, end = at + 8, at + 8 + rlen
        if rtype == 2 and data[s + 9] == devfn:
            while s < end:
                stag, _, slen = struct.unpack_from('<HHI', data, s)
                if stag == tag:
                    return s + 8, slen
                s += 8 + slen
        at = end
    raise AssertionError('no section %d of devfn %#x' % (tag, devfn))


def with_crc(data):
    data = bytearray(data)
    struct.pack_into('<I', data, 20, zlib.crc32(bytes(data[32:])) & 0xffffffff)
    return bytes(data)


class StateDir(unittest.TestCase):
    def setUp(self):
        self.sd = tempfile.mkdtemp(prefix='pcid-state-')

    def tearDown(self):
        shutil.rmtree(self.sd, ignore_errors=True)

    def run_pcid(self, *args, state_dir=None):
        """pcid that is expected to exit at once."""
        socks = tempfile.mkdtemp(prefix='pcid-socks-')
        env = dict(os.environ)
        env.pop('STATE_DIRECTORY', None)
        try:
            return subprocess.run(
                [PCID, '--qmp', 'unix:%s/q.sock' % socks, '--rest', 'unix:%s/r.sock' % socks,
                 '--guest', 'none'] +
                (['--state-dir', state_dir or self.sd] if state_dir is not False else []) +
                list(args), capture_output=True, text=True, timeout=20 * TIME_FACTOR, env=env)
        finally:
            shutil.rmtree(socks, ignore_errors=True)

    def read_json(self, name):
        with open(os.path.join(self.sd, name)) as f:
            return json.load(f)


class Restart(StateDir):
    def build(self, q):
        q.cmd('blockdev-add', driver='null-co', **{'node-name': 'null1', 'size': 1 << 20})
        q.cmd('device_add', driver='virtio-net-pci', id='net0', addr='5', mac='52:54:00:aa:bb:01')
        q.cmd('device_add', driver='e1000', id='nic0')  # first free slot, MAC chosen by pcid
        q.cmd('device_add', driver='virtio-blk-pci', id='disk1', drive='null1',
              **{'disable-legacy': 'on', 'vectors': 3})
        q.cmd('device_add', driver='e1000', id='f1', addr='0x6.1')
        q.cmd('device_add', driver='e1000', id='f0', addr='6.0', multifunction=True)
        q.cmd('device_add', driver='e1000-82545em', addr='9')  # no id

    def snapshot_of(self, q):
        return {'devices': q.cmd('query-pci-devices'), 'pci': q.cmd('query-pci'),
                'nodes': q.cmd('query-named-block-nodes'),
                'description': q.cmd('query-machine-description'),
                'info': q.hmp('info pci'),
                'config': {d['bdf']: q.cmd('query-pci-config', bdf=d['bdf'])['data']
                           for d in q.cmd('query-pci-devices')}}

    def test_restart_restores_devices(self):
        with Pcid(args=['--blockdev', NULL0], state_dir=self.sd) as d:
            q = d.qmp()
            self.build(q)
            # A restart is a reset of the machine: compare with the machine after one.
            q.cmd('system_reset')
            before = self.snapshot_of(q)
        self.assertEqual(sorted(os.listdir(self.sd)),
                         ['backends.json', 'machine.json', 'snapshots'][:2]
                         if not os.path.exists(os.path.join(self.sd, 'snapshots'))
                         else ['backends.json', 'machine.json', 'snapshots'])
        desc = self.read_json('machine.json')
        self.assertEqual(desc, before['description'])
        self.assertEqual([(x.get('id'), x['addr']) for x in desc['devices']],
                         [('net0', '05.0'), ('nic0', '02.0'), ('disk1', '03.0'), ('f1', '06.1'),
                          ('f0', '06.0'), (None, '09.0')])
        # Given as the user gave them; the MAC pcid chose is pinned apart.
        self.assertEqual(desc['devices'][1]['properties'], {})
        self.assertEqual(desc['devices'][1]['pinned'], {'mac': '52:54:00:12:34:56'})
        self.assertEqual(self.read_json('backends.json')['backends'][1],
                         {'node-name': 'null1', 'driver': 'null-co', 'size': 1 << 20,
                          'read-zeroes': False, 'latency-ns': 0})

        # No --blockdev, no --device: everything comes from the state directory.
        with Pcid(state_dir=self.sd) as d:
            q = d.qmp()
            after = self.snapshot_of(q)
            q.close()
        for key in before:
            self.assertEqual(after[key], before[key], key)

    def test_restart_then_new_nic_gets_another_mac(self):
        """A restored NIC keeps the default MAC pcid chose for it and holds it: a NIC added
        after the restart without a MAC gets the lowest 52:54:00:12:34:XX no NIC holds (QEMU's
        qemu_macaddr_default_if_unset), never a restored one's. Checked in the description
        and where the guest reads it (e1000 RAL0/RAH0, virtio-net's legacy config)."""
        def described(q):
            return {x['id']: x['pinned'].get('mac', x['properties'].get('mac'))
                    for x in q.cmd('query-machine-description')['devices']}

        def guest_sees(d, q):
            """Each NIC's MAC read over the access socket, BARs as the firmware set them."""
            q.cmd('system_reset')  # the firmware assigns BARs before the reply
            a = Access(d.access_path)
            out = {}
            try:
                for dev in q.cmd('query-pci')[0]['devices']:
                    if dev['class_info']['class'] != 0x200:  # Ethernet controllers only
                        continue
                    bar0 = [r for r in dev['regions'] if r['bar'] == 0][0]['address']
                    if dev['id']['vendor'] == 0x8086:  # e1000: RAL0/RAH0
                        lo, hi = (a.line('readl 0x%x' % (bar0 + o)) for o in (0x5400, 0x5404))
                        mac = struct.pack('<IH', lo, hi & 0xffff)
                    else:  # virtio-net, legacy I/O BAR0: config after 20 bytes (no MSI-X)
                        mac = bytes(a.line('inb 0x%x' % (bar0 + 0x14 + i)) for i in range(6))
                    out[dev['qdev_id']] = ':'.join('%02x' % b for b in mac)
            finally:
                a.close()
            return out

        with Pcid(state_dir=self.sd, guest='cooperative') as d:
            q = d.qmp()
            q.cmd('device_add', driver='e1000', id='a', addr='3')
            q.cmd('device_add', driver='virtio-net-pci', id='b', addr='4')
            q.cmd('device_add', driver='e1000', id='c', addr='5', mac='52:54:00:12:34:58')
            first = described(q)
            self.assertEqual(first, {'a': '52:54:00:12:34:56', 'b': '52:54:00:12:34:57',
                                     'c': '52:54:00:12:34:58'})
            self.assertEqual(guest_sees(d, q), first)
        with Pcid(state_dir=self.sd, guest='cooperative') as d:
            q = d.qmp()
            self.assertEqual(described(q), first)
            self.assertEqual(guest_sees(d, q), first)
            # A dry run chooses a MAC and gives it back.
            status, reply, _ = d.rest('POST', '/v1/devices', {'driver': 'e1000', 'dry-run': True})
            self.assertEqual(status, 200, reply)
            q.cmd('device_add', driver='e1000', id='d', addr='6')
            q.cmd('device_add', driver='virtio-net-pci', id='e', addr='7')
            got = described(q)
            self.assertEqual(got['d'], '52:54:00:12:34:59')
            self.assertEqual(got['e'], '52:54:00:12:34:5a')
            self.assertEqual(len(set(got.values())), 5, got)
            self.assertEqual(guest_sees(d, q), got)
            # A removal gives its MAC back: the lowest free one goes to the next NIC.
            q.cmd('device_del', id='b')
            deadline = time.time() + 10 * TIME_FACTOR
            while 'b' in described(q) and time.time() < deadline:
                time.sleep(0.02)
            q.cmd('device_add', driver='e1000', id='f', addr='8')
            self.assertEqual(described(q)['f'], '52:54:00:12:34:57')
            last = q.cmd('query-machine-description')
        with Pcid(state_dir=self.sd, guest='cooperative') as d:
            q = d.qmp()
            self.assertEqual(q.cmd('query-machine-description'), last)
            q.cmd('device_add', driver='e1000', id='g')
            got = described(q)
            self.assertEqual(got['g'], '52:54:00:12:34:5b')
            self.assertEqual(guest_sees(d, q), got)

    def test_restart_with_cooperative_guest(self):
        """The firmware enumerates the restored machine again: same BARs, same IRQ lines."""
        with Pcid(args=['--blockdev', NULL0], state_dir=self.sd, guest='cooperative') as d:
            q = d.qmp()
            self.build(q)
            q.cmd('system_reset')
            before = q.hmp('info pci')
            self.assertIn('BAR0: 32 bit memory at 0x', before)
        with Pcid(state_dir=self.sd, guest='cooperative') as d:
            q = d.qmp()
            self.assertEqual(q.hmp('info pci'), before)
            q.close()

    def test_description_wins_over_device(self):
        with Pcid(args=['--device', 'e1000,id=seed,addr=3'], state_dir=self.sd) as d:
            pass
        with Pcid(args=['--device', 'virtio-net-pci,id=other,addr=4'], state_dir=self.sd) as d:
            q = d.qmp()
            ids = [x['id'] for x in q.cmd('query-pci-devices') if x['id']]
            q.close()
            self.assertEqual(ids, ['seed'])
            self.assertEqual(d.stop(), 0)
            self.assertIn('1 seed device (--device or the configuration file) ignored: the '
                          'machine is restored from %s' % os.path.join(self.sd, 'machine.json'),
                          d.logtext())

    def test_blockdev_adds_nodes(self):
        with Pcid(args=['--blockdev', NULL0 + ',size=4096'], state_dir=self.sd):
            pass
        with Pcid(args=['--blockdev', NULL0, '--blockdev', 'driver=null-co,node-name=null2'],
                  state_dir=self.sd) as d:
            nodes = {n['node-name']: n['image']['virtual-size']
                     for n in d.qmp().cmd('query-named-block-nodes')}
            # null0 as saved (4096, not the default size); null2 added.
            self.assertEqual(nodes, {'null0': 4096, 'null2': 1 << 30})
            self.assertEqual([b['node-name'] for b in self.read_json('backends.json')['backends']],
                             ['null0', 'null2'])
            self.assertEqual(d.stop(), 0)
            self.assertIn("--blockdev %s ignored: node 'null0' is restored" % NULL0, d.logtext())

    def test_machine_description_file(self):
        with Pcid(args=['--blockdev', NULL0], state_dir=self.sd) as d:
            self.build(d.qmp())
            dump = d.pcictl('machine', 'dump', check=True).stdout
            devices = d.qmp().cmd('query-pci-devices')
        path = os.path.join(self.sd, 'dump.json')
        with open(path, 'w') as f:
            f.write(dump)
        # Without a state directory: the machine is FILE's.
        with Pcid(args=['--machine-description', path, '--blockdev', NULL0,
                        '--blockdev', 'driver=null-co,node-name=null1,size=1M'],
                  state_dir=False) as d:
            q = d.qmp()
            self.assertEqual(q.cmd('query-machine-description'), json.loads(dump))
            self.assertEqual(q.cmd('query-pci-devices'), devices)
        # With a state directory holding another machine: FILE wins and replaces it.
        other = tempfile.mkdtemp(prefix='pcid-state-')
        try:
            with Pcid(args=['--device', 'e1000,id=old'], state_dir=other):
                pass
            with Pcid(args=['--machine-description', path, '--blockdev', NULL0,
                            '--blockdev', 'driver=null-co,node-name=null1,size=1M'],
                      state_dir=other) as d:
                self.assertEqual(d.qmp().cmd('query-pci-devices'), devices)
            with open(os.path.join(other, 'machine.json')) as f:
                self.assertEqual(json.load(f), json.loads(dump))
        finally:
            shutil.rmtree(other)

    def test_no_state_writes_nothing(self):
        home = tempfile.mkdtemp(prefix='pcid-home-')
        try:
            with Pcid(args=['--device', 'e1000,id=e'], state_dir=False,
                      env={'HOME': home, 'XDG_STATE_HOME': os.path.join(home, 'state')}) as d:
                q = d.qmp()
                q.cmd('device_add', driver='e1000', id='x')
                self.assertEqual([x['id'] for x in
                                  q.cmd('query-machine-description')['devices']], ['e', 'x'])
                self.assertIn('runs without a state directory (--no-state)',
                              qmp_error(q, 'state-save', name='s'))
                self.assertEqual(q.cmd('query-state-snapshots'), [])
            self.assertEqual(os.listdir(home), [])
        finally:
            shutil.rmtree(home)
        p = self.run_pcid('--no-state', '--state-dir', self.sd, state_dir=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('--no-state and --state-dir', p.stderr)

    def test_removal_saved_before_device_deleted(self):
        # --guest none: device_del leaves the device pending, and described, until the reset.
        with Pcid(args=['--device', 'e1000,id=a', '--device', 'e1000,id=b'],
                  state_dir=self.sd) as d:
            q = d.qmp()
            q.cmd('device_del', id='a')
            self.assertEqual([x['id'] for x in self.read_json('machine.json')['devices']],
                             ['a', 'b'])
            q.cmd('system_reset')
            self.assertTrue(any(e['event'] == 'DEVICE_DELETED' for e in q.wait_events(2)))
            self.assertEqual([x['id'] for x in self.read_json('machine.json')['devices']], ['b'])
        # The cooperative guest ejects on its own: the file is current when the event arrives.
        with Pcid(args=['--eject-delay', '0'], state_dir=self.sd, guest='cooperative') as d:
            q = d.qmp()
            q.cmd('device_add', driver='virtio-net-pci', id='n')
            self.assertIn('n', [x.get('id') for x in self.read_json('machine.json')['devices']])
            q.cmd('device_del', id='n')
            deadline = time.time() + 5 * TIME_FACTOR
            while not any(e['event'] == 'DEVICE_DELETED' and e['data'].get('device') == 'n'
                          for e in q.events) and time.time() < deadline:
                q.wait_events(len(q.events) + 1, timeout=0.5)
            self.assertTrue(any(e['data'].get('device') == 'n' for e in q.events))
            self.assertEqual([x['id'] for x in self.read_json('machine.json')['devices']], ['b'])

    def test_failed_command_writes_nothing(self):
        with Pcid(args=['--blockdev', NULL0, '--device', 'e1000,id=a'], state_dir=self.sd) as d:
            q = d.qmp()
            before = tree(self.sd)
            for args in ({'driver': 'e1000', 'id': 'a'}, {'driver': 'e1000', 'addr': '0'},
                         {'driver': 'nosuch'}, {'driver': 'e1000', 'mitigation': 'maybe'}):
                with self.assertRaises(QmpError):
                    q.cmd('device_add', **args)
            with self.assertRaises(QmpError):
                q.cmd('blockdev-add', driver='null-co', **{'node-name': 'null0'})
            q.cmd('query-pci')
            self.assertEqual(tree(self.sd), before)

    def test_write_failure_is_reported_and_retried(self):
        with Pcid(state_dir=self.sd) as d:
            q = d.qmp()
            target = os.path.join(self.sd, 'machine.json')
            os.unlink(target)
            os.mkdir(target)  # the rename onto it fails
            with self.assertRaises(QmpError) as cm:
                q.cmd('device_add', driver='e1000', id='a')
            self.assertIn('the change was made but not saved: cannot write %s: Is a directory'
                          % target, cm.exception.args[0]['desc'])
            self.assertEqual(temps(self.sd), [])
            os.rmdir(target)
            q.cmd('device_add', driver='e1000', id='b')
            self.assertEqual([x['id'] for x in self.read_json('machine.json')['devices']],
                             ['a', 'b'])

    def test_atomic_writes(self):
        bad = []
        stop = threading.Event()

        def reader():
            path = os.path.join(self.sd, 'machine.json')
            while not stop.is_set():
                try:
                    with open(path) as f:
                        json.load(f)
                except FileNotFoundError:
                    pass
                except ValueError as e:
                    bad.append(str(e))

        with Pcid(args=['--eject-delay', '0'], state_dir=self.sd, guest='cooperative') as d:
            q = d.qmp()
            t = threading.Thread(target=reader)
            t.start()
            try:
                for i in range(15):
                    q.cmd('device_add', driver='e1000', id='e%d' % i)
                    q.cmd('device_del', id='e%d' % i)
                q.wait_events(30, timeout=10 * TIME_FACTOR)
            finally:
                stop.set()
                t.join()
            self.assertEqual(bad, [])
            self.assertEqual(temps(self.sd), [])
            self.assertEqual(self.read_json('machine.json')['devices'], [])
            self.assertEqual(os.stat(os.path.join(self.sd, 'machine.json')).st_mode & 0o777,
                             0o640)


class Surface(StateDir):
    """Persistence against the user surface: REST preconditions, dry runs, events with ids,
    DELETE ?wait=, the guest's refusals, metrics."""

    def metric(self, d, name):
        _, text, _ = d.rest('GET', '/metrics')
        for line in text.splitlines():
            if line.startswith(name + ' '):
                return float(line.split()[1])
        raise AssertionError('%s not in /metrics' % name)

    def test_precondition_and_dry_run_write_nothing(self):
        with Pcid(args=['--device', 'e1000,id=a,addr=3'], state_dir=self.sd) as d:
            before = tree(self.sd)
            time.sleep(0.01)  # an rewrite would show in the mtime
            for body, hdrs, want in (
                    ({'driver': 'e1000', 'id': 'b'}, {'If-Match': '"12345"'}, 412),
                    ({'driver': 'e1000', 'id': 'b', 'dry-run': True}, {}, 200),
                    ({'driver': 'e1000', 'id': 'b', 'dry-run': True}, {'If-Match': '*'}, 200),
                    ({'driver': 'e1000', 'id': 'a'}, {}, 409)):
                status, reply, _ = d.rest('POST', '/v1/devices', body, headers=hdrs)
                self.assertEqual(status, want, reply)
            status, _, _ = d.rest('DELETE', '/v1/devices/a', headers={'If-Match': '"12345"'})
            self.assertEqual(status, 412)
            status, _, _ = d.rest('POST', '/v1/qmp', {'execute': 'blockdev-add', 'arguments': {
                'driver': 'null-co', 'node-name': 'n'}}, headers={'If-Match': '"12345"'})
            self.assertEqual(status, 412)
            self.assertEqual(tree(self.sd), before)
            # The same requests, allowed: each is on disk when the reply comes.
            _, m, hdrs = d.rest('GET', '/v1/machine')
            status, _, _ = d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'b'},
                                  headers={'If-Match': hdrs['ETag']})
            self.assertEqual(status, 201)
            self.assertEqual([x['id'] for x in self.read_json('machine.json')['devices']],
                             ['a', 'b'])
            status, r, _ = d.rest('POST', '/v1/qmp', {'execute': 'blockdev-add', 'arguments': {
                'driver': 'null-co', 'node-name': 'n'}})
            self.assertEqual((status, r), (200, {'return': {}}))
            self.assertEqual([b['node-name'] for b in self.read_json('backends.json')['backends']],
                             ['n'])

    def test_removal_on_disk_before_its_event(self):
        """DEVICE_DELETED, on the REST stream (with its id) and as DELETE ?wait='s 200, comes
        after machine.json lost the device; the metrics count the removal too."""
        with Pcid(args=['--device', 'e1000,id=a,addr=3', '--device', 'e1000,id=b,addr=4',
                        '--eject-delay', '0'], state_dir=self.sd, guest='cooperative') as d:
            s = d.events()
            s.greeting()
            status, r, _ = d.rest('DELETE', '/v1/devices/a?wait=%d' % min(60, 10 * TIME_FACTOR))
            self.assertEqual((status, r), (200, {'id': 'a', 'deleted': True}))
            self.assertEqual([x['id'] for x in self.read_json('machine.json')['devices']], ['b'])
            ev = s.next()
            self.assertEqual((ev['event'], ev['data']['data']['device']), ('DEVICE_DELETED', 'a'))
            self.assertGreater(ev['id'], 0)
            # The stream's reader sees the file as it is once the event is out.
            status, _, _ = d.rest('DELETE', '/v1/devices/b')
            self.assertIn(status, (200, 202))
            ev = s.next()
            self.assertEqual(ev['event'], 'DEVICE_DELETED')
            self.assertEqual(self.read_json('machine.json')['devices'], [])
            s.close()
            self.assertEqual(self.metric(d, 'pcid_hotplug_total{op="unplug"}'), 2)
            self.assertEqual(self.metric(d, 'pcid_hotplug_unplug_duration_seconds_count'), 2)

    def test_refused_unplug_stays_described(self):
        with Pcid(args=['--device', 'e1000,id=a,addr=3', '--guest-refuse-unplug', '3',
                        '--eject-delay', '0'], state_dir=self.sd, guest='cooperative') as d:
            before = tree(self.sd)
            status, r, _ = d.rest('DELETE', '/v1/devices/a?wait=%d' % min(60, 10 * TIME_FACTOR))
            self.assertEqual(status, 409, r)
            self.assertEqual(tree(self.sd), before)
            self.assertEqual(self.metric(d, 'pcid_hotplug_total{op="unplug-refused"}'), 1)
            self.assertEqual(self.metric(d, 'pcid_hotplug_total{op="unplug"}'), 0)
        with Pcid(state_dir=self.sd) as d:
            self.assertEqual([x['id'] for x in d.qmp().cmd('query-pci-devices') if x['id']],
                             ['a'])


class StartRefusals(StateDir):
    """Exit 78, the file and the problem named, nothing written."""

    def write(self, name, text):
        path = os.path.join(self.sd, name)
        with open(path, 'w') as f:
            f.write(text)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # an mtime a rewrite would change
        return path

    def valid(self):
        with Pcid(args=['--blockdev', NULL0, '--device', NET, '--device', BLK],
                  state_dir=self.sd):
            pass
        with open(os.path.join(self.sd, 'machine.json')) as f:
            return f.read()

    def check_refused(self, want, *args):
        before = tree(self.sd)
        p = self.run_pcid(*args)
        self.assertEqual(p.returncode, 78, p.stderr)
        for w in want:
            self.assertIn(w, p.stderr)
        self.assertEqual(tree(self.sd), before)
        return p

    def test_description_refusals(self):
        text = self.valid()
        doc = json.loads(text)
        path = os.path.join(self.sd, 'machine.json')

        def variant(f):
            d = json.loads(text)
            f(d)
            return json.dumps(d)

        cases = [
            ('corrupt', text[:len(text) // 2], 'not a valid machine description: JSON error'),
            ('empty', '', 'not a valid machine description: JSON error'),
            ('not JSON', '\x00\x01garbage', 'not a valid machine description'),
            ('newer version', variant(lambda d: d.update(version=2)),
             'format version 2 is newer than this pcid supports (1)'),
            ('unknown driver', variant(lambda d: d['devices'][0].update(driver='nosuch')),
             "devices[0] ('n0'): unknown driver 'nosuch'"),
            ('unknown machine', variant(lambda d: d['machine'].update(type='q99')),
             "unknown machine type 'q99'"),
            ('same address twice',
             variant(lambda d: (d['devices'][1].update(addr=doc['devices'][0]['addr']),
                                d['devices'][1]['properties'].pop('addr'))),
             "devices[1] ('b0' at 03.0): PCI: slot 3 function 0 not available for "
             "virtio-blk-pci, in use by virtio-net-pci,id=n0"),
            ('property refused', variant(lambda d: d['devices'][0]['properties'].update(
                vectors='x')), "devices[0] ('n0' at 03.0): Parameter 'vectors' expects integer"),
        ]
        for name, content, problem in cases:
            with self.subTest(name):
                self.write('machine.json', content)
                self.check_refused([path + ': ' + problem])

    def test_backends_refusals(self):
        self.valid()
        path = os.path.join(self.sd, 'backends.json')
        for content, problem in [
                ('{"format": "pcid-backends", "version": 9, "backends": []}',
                 'format version 9 is newer than this pcid supports (1)'),
                ('{"format": "pcid-backends"', 'not a valid backend description: JSON error'),
                ('{"format": "pcid-backends", "version": 1, "backends": '
                 '[{"node-name": "null0", "driver": "qcow2"}]}',
                 "backends[0] ('null0'): Parameter 'driver' does not accept value 'qcow2'")]:
            with self.subTest(problem):
                self.write('backends.json', content)
                self.check_refused([path + ': ' + problem])

    def test_missing_backend(self):
        self.valid()
        os.unlink(os.path.join(self.sd, 'backends.json'))
        self.check_refused(["machine.json: devices[1] ('b0' at 05.0): Property "
                            "'virtio-blk-device.drive' can't find value 'null0'"])

    def test_description_file_refused(self):
        self.valid()
        bad = os.path.join(tempfile.mkdtemp(prefix='pcid-file-'), 'desc.json')
        try:
            with open(bad, 'w') as f:
                f.write('{"format": "pcid-machine", "version": 7}')
            self.check_refused([bad + ': format version 7 is newer'],
                               '--machine-description', bad)
            self.check_refused([bad + '.x does not exist'], '--machine-description', bad + '.x')
        finally:
            shutil.rmtree(os.path.dirname(bad))

    def test_damaged_description_never_replaced_by_file(self):
        text = self.valid()
        self.write('machine.json', text[:-20])
        dump = os.path.join(self.sd, 'dump.json')
        with open(dump, 'w') as f:
            f.write(text)
        self.check_refused([os.path.join(self.sd, 'machine.json') + ': not a valid machine'],
                           '--machine-description', dump)

    def test_not_a_file(self):
        os.mkdir(os.path.join(self.sd, 'machine.json'))
        self.check_refused([os.path.join(self.sd, 'machine.json') + ' is not a regular file'])

    def test_directory_in_use(self):
        with Pcid(args=['--device', 'e1000,id=a'], state_dir=self.sd) as d:
            self.check_refused(['the state directory %s is in use by another pcid' % self.sd])
            self.assertEqual([x['id'] for x in d.qmp().cmd('query-pci-devices') if x['id']],
                             ['a'])

    def test_stale_temporary_files_removed(self):
        self.valid()
        self.write('.machine.json.tmp.AbC123', '{"half')
        with Pcid(state_dir=self.sd):
            self.assertEqual(temps(self.sd), [])


class Snapshots(StateDir):
    def pcid(self, args=SEED):
        return Pcid(args=list(args), state_dir=self.sd)

    def test_round_trip_across_restart(self):
        d = self.pcid().start()
        try:
            a = Access(d.access_path)
            program(a)
            q = d.qmp()
            saved = observe(d, a)
            self.assertEqual(qmp(q, 'state-save', name='s1'),
                             {'name': 's1', 'devices': 7,
                              'size': os.path.getsize(os.path.join(self.sd, 'snapshots', 's1'))})
            self.assertEqual(observe(d, a), saved)  # saving changes nothing
            queues = queue_dump(a)
            a.close()
            q.close()
            self.assertEqual(d.stop(), 0)  # a clean stop (sanitizers report at exit)
        finally:
            d.__exit__(None, None, None)

        with Pcid(state_dir=self.sd) as d:  # the machine comes back from machine.json
            a = Access(d.access_path)
            fresh = observe(d, a)
            self.assertNotEqual(fresh['config'], saved['config'])
            status, body, _ = d.rest('POST', '/v1/state/load', {'name': 's1'})
            self.assertEqual((status, body['name'], body['devices']), (200, 's1', 7))
            loaded = observe(d, a)
            self.assertEqual(loaded['config'], saved['config'])
            self.assertEqual(loaded['pci'], saved['pci'])
            self.assertEqual(loaded['regs'], saved['regs'])
            # Saving again gives the same bytes.
            q = d.qmp()
            qmp(q, 'state-save', name='s2')
            q.close()
            with open(os.path.join(self.sd, 'snapshots', 's1'), 'rb') as f1, \
                    open(os.path.join(self.sd, 'snapshots', 's2'), 'rb') as f2:
                self.assertEqual(f1.read(), f2.read())
            self.assertEqual(queue_dump(a), queues)
            listing = d.pcictl('state', 'list', check=True).stdout.splitlines()
            self.assertEqual([x.split()[0] for x in listing], ['NAME', 's1', 's2'])
            a.close()

    def refused(self, d, a, name, want, via='qmp'):
        """Load `name`, expect `want` in the error; the files and the machine unchanged."""
        files = tree(self.sd)
        before = observe(d, a)
        if via == 'qmp':
            q = d.qmp()
            desc = qmp_error(q, 'state-load', name=name)
            q.close()
        else:
            status, body, _ = d.rest('POST', '/v1/state/load', {'name': name})
            desc = (status, body['error']['desc'])
        self.assertIn(want, desc if isinstance(desc, str) else desc[1])
        self.assertEqual(tree(self.sd), files)
        self.assertEqual(observe(d, a), before)
        return desc

    def patched(self, name, new, f):
        with open(os.path.join(self.sd, 'snapshots', name), 'rb') as fh:
            data = bytearray(fh.read())
        data = f(data)
        with open(os.path.join(self.sd, 'snapshots', new), 'wb') as fh:
            fh.write(data)

    def test_file_refusals(self):
        with self.pcid() as d:
            a = Access(d.access_path)
            program(a)
            q = d.qmp()
            qmp(q, 'state-save', name='s1')
            a.line('writel 0x%x 0x1' % (E1000_MEM + 0x5200))  # the machine moves on

            def flip(b):
                b[len(b) // 2] ^= 0x40
                return b

            def newer(b):
                struct.pack_into('<I', b, 8, 2)
                return b

            def vendor(b):
                off, _ = snapshot_section(b, 0x18, 3)
                b[off] ^= 1
                return bytearray(with_crc(b))

            def irq(b):
                off, _ = snapshot_section(b, 0x20, 4)
                b[off] = 7
                return bytearray(with_crc(b))

            self.patched('s1', 'flipped', flip)
            self.patched('s1', 'newer', newer)
            self.patched('s1', 'vendor', vendor)
            self.patched('s1', 'irq', irq)
            self.patched('s1', 'short', lambda b: b[:100])
            with open(os.path.join(self.sd, 'snapshots', 'text'), 'w') as fh:
                fh.write('{"not": "a snapshot"}')

            for name, want in [
                    ('flipped', "snapshot 'flipped': corrupt: checksum mismatch"),
                    ('newer', "snapshot 'newer': format version 2 is newer than this pcid "
                              "supports (1)"),
                    ('vendor', "snapshot 'vendor': device 'n0' (virtio-net-pci) at 00:03.0: bad "
                               "config data at offset 0x0: snapshot 0xf5, device 0xf4 (cmask "
                               "0xff, wmask 0x00, w1cmask 0x00)"),
                    ('irq', "device 'e0' (e1000) at 00:04.0: irq_state[0] is 7: must be 0 or 1"),
                    ('short', "snapshot 'short': corrupt: the header says"),
                    ('text', "snapshot 'text': not a pcid snapshot (bad magic)"),
                    ('nosuch', "snapshot 'nosuch': no such snapshot in %s/snapshots" % self.sd)]:
                with self.subTest(name):
                    self.refused(d, a, name, want)
            self.assertEqual(self.refused(d, a, 'nosuch', 'no such snapshot', via='rest')[0], 404)
            self.assertEqual(self.refused(d, a, 'vendor', 'bad config data', via='rest')[0], 409)
            self.assertEqual(self.refused(d, a, 'newer', 'is newer', via='rest')[0], 400)
            a.close()

    def test_name_refusals(self):
        with self.pcid() as d:
            a = Access(d.access_path)
            q = d.qmp()
            for name, want in [('', 'a snapshot name must not be empty'),
                               ('../x', "snapshot name '../x' contains '/'"),
                               ('a/b', "contains '/'"),
                               ('/etc/passwd', "contains '/'"),
                               ('.hidden', "snapshot name '.hidden' starts with '.'"),
                               ('.', "starts with '.'"),
                               ('x' * 65, 'is 65 bytes, longer than 64'),
                               ('a b', 'contains byte 0x20 at 1')]:
                with self.subTest(name):
                    files = tree(self.sd)
                    self.assertIn(want, qmp_error(q, 'state-save', name=name))
                    self.assertEqual(tree(self.sd), files)
                    self.refused(d, a, name, want)
            status, body, _ = d.rest('POST', '/v1/state/save', {'name': '../x'})
            self.assertEqual((status, body['error']['class']), (400, 'GenericError'))
            status, body, _ = d.rest('POST', '/v1/state/save', {'name': 1})
            self.assertEqual(status, 400)
            self.assertIn("Invalid parameter type for 'name'", body['error']['desc'])
            self.assertEqual(d.rest('GET', '/v1/state/save')[0], 405)
            self.assertEqual(d.rest('DELETE', '/v1/state')[0], 405)
            self.assertFalse(os.path.exists(os.path.join(self.sd, 'snapshots')))
            a.close()

    def test_machine_refusals(self):
        with self.pcid() as d:
            a = Access(d.access_path)
            program(a)
            q = d.qmp()
            qmp(q, 'state-save', name='s1')
            # A device gone: removed, the reset completes it (--guest none).
            q.cmd('device_del', id='e0')
            q.cmd('system_reset')
            program(a)
            self.refused(d, a, 's1', "snapshot 's1': device 'e0' (e1000) at 00:04.0 is missing "
                                     "from this machine")
            # ... back at another address.
            q.cmd('device_add', driver='e1000', id='e0', addr='6', mac='02:00:00:00:00:02')
            self.refused(d, a, 's1', "device 'e0' (e1000) at 00:04.0 is at 00:06.0 on this "
                                     "machine")
            # ... and where it was, but the snapshot lacks the one at 6.
            q.cmd('device_add', driver='e1000', id='e1', addr='4', mac='02:00:00:00:00:03')
            self.refused(d, a, 's1', "device 'e0' (e1000) at 00:04.0 is at 00:06.0")
            # A capability the device does not have: n0 again, without MSI-X.
            q.cmd('device_del', id='e1')
            q.cmd('device_del', id='e0')
            q.cmd('device_del', id='n0')
            q.cmd('system_reset')
            q.cmd('device_add', driver='e1000', id='e0', addr='4', mac='02:00:00:00:00:02')
            q.cmd('device_add', driver='virtio-net-pci', id='n0', addr='3', vectors=0,
                  mac='02:00:00:00:00:01')
            self.refused(d, a, 's1', "device 'n0' (virtio-net-pci) at 00:03.0: capability 0x11 "
                                     "at offset 0x98 (12 bytes) is not supported by the device")
            # With the machine as it was, the same snapshot loads.
            q.cmd('device_del', id='n0')
            q.cmd('system_reset')
            q.cmd('device_add', driver='virtio-net-pci', id='n0', addr='3',
                  mac='02:00:00:00:00:01')
            self.assertEqual(qmp(q, 'state-load', name='s1')['devices'], 7)
            a.close()

    def test_rest_and_pcictl(self):
        with self.pcid() as d:
            self.assertEqual(d.rest('GET', '/v1/state')[:2], (200, []))
            p = d.pcictl('state', 'save', 'one', check=True)
            self.assertRegex(p.stdout, r'^saved snapshot one \(7 devices, \d+ bytes\)$')
            status, body, _ = d.rest('GET', '/v1/state')
            self.assertEqual((status, [s['name'] for s in body]), (200, ['one']))
            self.assertEqual(body[0]['size'],
                             os.path.getsize(os.path.join(self.sd, 'snapshots', 'one')))
            p = d.pcictl('state', 'load', 'one', check=True)
            self.assertRegex(p.stdout, r'^loaded snapshot one \(7 devices, \d+ bytes\)$')
            p = d.pcictl('state', 'load', 'two')
            self.assertEqual(p.returncode, 1)
            self.assertIn("snapshot 'two': no such snapshot", p.stderr)
            p = d.pcictl('--json', 'state', 'list', check=True)
            self.assertEqual([s['name'] for s in json.loads(p.stdout)], ['one'])
            self.assertEqual(d.pcictl('state').returncode, 2)
            self.assertEqual(d.pcictl('state', 'frob', 'x').returncode, 2)
            self.assertEqual(d.pcictl('machine', 'show').returncode, 2)
            desc = json.loads(d.pcictl('machine', 'dump', check=True).stdout)
            self.assertEqual(desc, d.rest('GET', '/v1/machine/description')[1])
            self.assertEqual(desc, self.read_json('machine.json'))


if __name__ == '__main__':
    unittest.main()
