#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate the seed corpora of fuzz-description and fuzz-snapshot from a running pcid.

    PCID=build/daemon/pcid python3 tests/fuzz/gen-state-seeds.py

fuzz-description: machine.json documents pcid wrote (byte 0x00 first) and backends.json ones
(0x01), plus a few that pcid refuses. fuzz-snapshot: snapshots pcid saved of the machine the
target builds (same drivers, ids, addresses), fresh and after a guest programmed BARs, MSI-X,
virtio and e1000 registers and raised INTx; each once with flags 0x01 (the target fixes the
CRC) and once with 0x00; plus a snapshot of another machine and damaged files.
"""

import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
from pcid_harness import Pcid  # noqa: E402

CORPUS = os.path.join(HERE, 'corpus')
# The machine fuzz-snapshot.c builds.
DEVICES = ['virtio-net-pci,id=net0,addr=3', 'virtio-blk-pci,id=blk0,addr=4,drive=null0',
           'e1000,id=nic0,addr=5', 'virtio-net-pci,id=net1,addr=6,disable-legacy=on']
NULL0 = 'driver=null-co,node-name=null0'


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


class Access:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.buf = b''

    def line(self, text):
        self.s.sendall((text + '\n').encode())
        while True:
            while b'\n' not in self.buf:
                self.buf += self.s.recv(65536)
            reply, self.buf = self.buf.split(b'\n', 1)
            if not reply.startswith(b'IRQ'):
                return reply.decode()

    def cfg(self, devfn, off, val, size):
        self.line('outl 0xcf8 0x%x' % (0x80000000 | devfn << 8 | (off & 0xfc)))
        self.line('out%s 0x%x 0x%x' % ({1: 'b', 2: 'w', 4: 'l'}[size], 0xcfc + (off & 3), val))


def program(a):
    """BARs, bus mastering, MSI-X, a modern virtio driver, e1000 registers, INTA# raised."""
    net_io, net_msix, net_mem = 0xc040, 0xfebf1000, 0xfe000000
    a.cfg(0x18, 0x10, net_io, 4)
    a.cfg(0x18, 0x14, net_msix, 4)
    a.cfg(0x18, 0x20, net_mem, 4)
    a.cfg(0x18, 0x3c, 11, 1)
    a.cfg(0x18, 0x04, 0x7, 2)
    a.cfg(0x18, 0x9a, 0x8000, 2)
    a.line('writel 0x%x 0xfee00000' % net_msix)
    a.line('writel 0x%x 0x4041' % (net_msix + 8))
    a.line('writel 0x%x 0x0' % (net_msix + 12))
    for off, val, size in [(0x14, 3, 'b'), (0x08, 1, 'l'), (0x0c, 1, 'l'), (0x10, 0, 'w'),
                           (0x16, 1, 'w'), (0x18, 128, 'w'), (0x1a, 1, 'w'),
                           (0x20, 0x12345000, 'l'), (0x24, 1, 'l'), (0x1c, 1, 'w')]:
        a.line('write%s 0x%x 0x%x' % (size, net_mem + off, val))
    a.line('writew 0x%x 0x0' % (net_mem + 0x3000))
    e1000_mem = 0xfeb80000
    a.cfg(0x28, 0x10, e1000_mem, 4)
    a.cfg(0x28, 0x04, 0x6, 2)
    for off, val in [(0x5214, 0xdeadbeef), (0x100, 0x8002), (0xd0, 0x4), (0xc8, 0x4)]:
        a.line('writel 0x%x 0x%x' % (e1000_mem + off, val))
    blk_io = 0xc080
    a.cfg(0x20, 0x10, blk_io, 4)
    a.cfg(0x20, 0x04, 0x1, 2)
    a.line('outl 0x%x 0x200' % (blk_io + 4))
    a.line('outw 0x%x 0x0' % (blk_io + 14))
    a.line('outl 0x%x 0x12345' % (blk_io + 8))
    a.line('outb 0x%x 0x3' % (blk_io + 18))


def snapshot_seeds():
    args = ['--blockdev', NULL0] + sum((['--device', d] for d in DEVICES), [])
    with Pcid(args=args) as d:
        q = d.qmp()
        q.cmd('state-save', name='fresh')
        a = Access(d.access_path)
        program(a)
        q.cmd('state-save', name='programmed')
        files = {}
        for name in ('fresh', 'programmed'):
            with open(os.path.join(d.state_dir, 'snapshots', name), 'rb') as f:
                files[name] = f.read()
    with Pcid(args=['--device', DEVICES[0]]) as d:
        d.qmp().cmd('state-save', name='other')
        with open(os.path.join(d.state_dir, 'snapshots', 'other'), 'rb') as f:
            files['other-machine'] = f.read()
    for name, data in files.items():
        write('fuzz-snapshot', name + '-crc', b'\x01' + data)
        write('fuzz-snapshot', name, b'\x00' + data)
    p = files['programmed']
    write('fuzz-snapshot', 'truncated', b'\x01' + p[:len(p) // 2])
    write('fuzz-snapshot', 'bad-magic', b'\x01' + b'PCIDSNAQ' + p[8:])
    write('fuzz-snapshot', 'newer', b'\x01' + p[:8] + struct.pack('<I', 2) + p[12:])
    write('fuzz-snapshot', 'bad-crc', b'\x00' + p[:-1] + bytes([p[-1] ^ 1]))


def description_seeds():
    with Pcid(args=['--blockdev', NULL0]) as d:
        q = d.qmp()
        q.cmd('blockdev-add', driver='null-co', **{'node-name': 'null1', 'size': 1 << 20})
        q.cmd('device_add', driver='virtio-net-pci', id='net0', addr='5',
              mac='52:54:00:aa:bb:01')
        q.cmd('device_add', driver='e1000', id='nic0')
        q.cmd('device_add', driver='virtio-blk-pci', id='disk1', drive='null1',
              **{'disable-legacy': 'on', 'vectors': 3})
        q.cmd('device_add', driver='e1000', id='f1', addr='0x6.1')
        q.cmd('device_add', driver='e1000', id='f0', addr='6.0', multifunction=True)
        q.cmd('device_add', driver='e1000-82545em', addr='9')
        q.cmd('device_add', driver='virtio-net-pci-non-transitional', bus='pci.0',
              romfile='', **{'acpi-index': 7})
        q.close()
        with open(os.path.join(d.state_dir, 'machine.json'), 'rb') as f:
            machine = f.read()
        with open(os.path.join(d.state_dir, 'backends.json'), 'rb') as f:
            backends = f.read()
    write('fuzz-description', 'machine', b'\x00' + machine)
    write('fuzz-description', 'backends', b'\x01' + backends)
    write('fuzz-description', 'empty-machine', b'\x00{"format": "pcid-machine", "version": 1, '
          b'"machine": {"type": "pc", "version": "1.0"}, "devices": []}\n')
    write('fuzz-description', 'newer',
          b'\x00' + machine.replace(b'"version": 1', b'"version": 2', 1))
    write('fuzz-description', 'unknown-driver',
          b'\x00' + machine.replace(b'"e1000"', b'"e1001"', 1))
    write('fuzz-description', 'truncated', b'\x00' + machine[:len(machine) // 2])
    write('fuzz-description', 'same-address', b'\x00' + machine.replace(b'"09.0"', b'"05.0"'))


if __name__ == '__main__':
    # Writes its seeds over the old ones; inputs fuzzing found (no-irq-section, ...) stay.
    snapshot_seeds()
    description_seeds()
    for t in ('fuzz-description', 'fuzz-snapshot'):
        print(t, sorted(os.listdir(os.path.join(CORPUS, t))))
