#!/usr/bin/env python3
"""Record what a booted QEMU 7.2 shows after SeaBIOS configured its PCI devices.

Usage:
    python3 tests/tools/gen_booted_reference.py [--out DIR] [--only NAME]

For each variant below, QEMU runs the real SeaBIOS (not paused, no qtest), with SeaBIOS's
debug port captured (isa-debugcon at 0x402), until SeaBIOS has finished PCI setup; then
`info pci` and `query-pci` are recorded. A variant may then hot-add devices (which SeaBIOS
never configures) and reset, and is recorded again after the firmware ran once more.

Output, in tests/data/qemu/booted/ (see the README there):
    NAME.args.json        the pcid/QEMU arguments: blockdevs, devices, steps
    NAME.info-pci.txt     `info pci` after boot (CRLF turned into LF)
    NAME.query-pci.json   `query-pci` after boot
    NAME.seabios.log      SeaBIOS's debug output
    NAME.reset.info-pci.txt / .reset.query-pci.json   after the steps and system_reset

Standard library only. Deterministic for a given QEMU and SeaBIOS build.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, 'tests', 'data', 'qemu', 'booted')
QEMU = os.environ.get('QEMU', 'qemu-system-x86_64')
BOOT_DONE = 'PCI: No VGA devices found'   # SeaBIOS logs it right after pci_setup()


def blk(i):
    return 'driver=null-co,node-name=null%d' % i


def variants():
    v = {}
    # A mix of models, properties and slots, some picked by the bus.
    v['mix'] = {
        'blockdevs': [blk(0), blk(1)],
        'devices': [
            'e1000,id=e0,addr=0x2',
            'virtio-net-pci,id=n0,vectors=0,addr=0x3',
            'virtio-blk-pci,id=b0,drive=null0,disable-legacy=on,addr=0x4',
            'e1000-82545em,id=e1,addr=0x1f',
            'virtio-net-pci,id=n1,romfile=,addr=0x10',
            'e1000,id=e2,romfile=,addr=0x9',
            'virtio-net-pci-non-transitional,id=n2,addr=0xa',
            'virtio-blk-pci,id=b1,drive=null1,disable-modern=on',
            'virtio-net-pci,id=n3,mq=on,vectors=10',
            'e1000-82544gc,id=e3',
        ],
    }
    # Functions of one slot.
    v['multifunction'] = {
        'blockdevs': [blk(0)],
        'devices': [
            'virtio-net-pci,id=f0,addr=0x5.0,multifunction=on',
            'e1000,id=f1,addr=0x5.1',
            'virtio-blk-pci,id=f2,drive=null0,addr=0x5.2',
            'virtio-net-pci,id=f7,addr=0x5.7,disable-legacy=on',
            'e1000,id=solo,addr=0x6',
        ],
    }
    # 128 legacy virtio-blk I/O BARs of 0x80 bytes: 16 KiB, too much for 0xc000-0xffff, so
    # SeaBIOS starts I/O at 0x1000.
    devs, bds = [], []
    for slot in range(2, 18):
        for fn in range(8):
            i = (slot - 2) * 8 + fn
            bds.append(blk(i))
            devs.append('virtio-blk-pci,id=d%d,drive=null%d,addr=0x%x.%d%s'
                        % (i, i, slot, fn, ',multifunction=on' if fn == 0 else ''))
    v['io-low'] = {'blockdevs': bds, 'devices': devs}
    # Hot-add after boot (SeaBIOS does not see it), then reset: the firmware configures all.
    v['reset'] = {
        'blockdevs': [blk(0)],
        'devices': ['virtio-net-pci,id=n0,addr=0x3', 'e1000,id=e0,addr=0x8'],
        'steps': [
            {'execute': 'device_add',
             'arguments': {'driver': 'virtio-blk-pci', 'id': 'hb', 'drive': 'null0'}},
            {'execute': 'device_add',
             'arguments': {'driver': 'e1000', 'id': 'he', 'addr': '0x1e'}},
            {'execute': 'device_del', 'arguments': {'id': 'e0'}},
        ],
    }
    return v


class Qmp:
    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b''
        self.readobj()  # greeting
        self.cmd('qmp_capabilities')

    def readobj(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('QEMU closed QMP')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd_obj(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b'\n')
        while True:
            r = self.readobj()
            if 'event' not in r:
                return r

    def cmd(self, name, **args):
        r = self.cmd_obj({'execute': name, 'arguments': args})
        if 'return' not in r:
            raise RuntimeError('%s: %s' % (name, r))
        return r['return']


def wait_log(path, count, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                if f.read().count(BOOT_DONE) >= count:
                    time.sleep(0.5)  # let SeaBIOS finish its current step
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise RuntimeError('SeaBIOS did not finish PCI setup in %d s' % timeout)


def record(name, spec, out):
    tmp = tempfile.mkdtemp(prefix='booted-')
    qmp_path = os.path.join(tmp, 'qmp.sock')
    log_path = os.path.join(tmp, 'seabios.log')
    args = [QEMU, '-M', 'pc', '-accel', 'tcg', '-nodefaults', '-display', 'none',
            '-serial', 'none', '-qmp', 'unix:%s,server=on,wait=off' % qmp_path,
            '-chardev', 'file,id=seabios,path=%s' % log_path,
            '-device', 'isa-debugcon,iobase=0x402,chardev=seabios']
    for b in spec.get('blockdevs', []):
        args += ['-blockdev', b]
    for d in spec['devices']:
        args += ['-device', d]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(qmp_path):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('QEMU did not start: %s' % proc.stdout.read().decode())
            time.sleep(0.02)
        q = Qmp(qmp_path)
        wait_log(log_path, 1)
        base = os.path.join(out, name)
        with open(base + '.args.json', 'w') as f:
            json.dump(spec, f, indent=1)
            f.write('\n')
        with open(base + '.info-pci.txt', 'w') as f:
            f.write(q.cmd('human-monitor-command', **{'command-line': 'info pci'})
                    .replace('\r\n', '\n'))
        with open(base + '.query-pci.json', 'w') as f:
            json.dump(q.cmd('query-pci'), f, indent=1)
            f.write('\n')
        if 'steps' in spec:
            for step in spec['steps']:
                r = q.cmd_obj(step)
                if 'return' not in r:
                    raise RuntimeError('%s: %s' % (step, r))
            q.cmd('system_reset')
            wait_log(log_path, 2)
            with open(base + '.reset.info-pci.txt', 'w') as f:
                f.write(q.cmd('human-monitor-command', **{'command-line': 'info pci'})
                        .replace('\r\n', '\n'))
            with open(base + '.reset.query-pci.json', 'w') as f:
                json.dump(q.cmd('query-pci'), f, indent=1)
                f.write('\n')
        q.cmd('quit')
        proc.wait(timeout=30)
        shutil.copy(log_path, base + '.seabios.log')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--only')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, spec in variants().items():
        if a.only and name != a.only:
            continue
        t = time.monotonic()
        record(name, spec, a.out)
        print('%-16s %.1f s' % (name, time.monotonic() - t))
    return 0


if __name__ == '__main__':
    sys.exit(main())
