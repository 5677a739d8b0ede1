#!/usr/bin/env python3
"""Record what a booted QEMU 7.2 shows after SeaBIOS configured its PCI devices.

Usage:
    python3 tests/tools/gen_booted_reference.py [--out DIR] [--only NAME]

For each variant below, QEMU runs the real SeaBIOS (not paused, no qtest), with SeaBIOS's
debug port captured (isa-debugcon at 0x402), until SeaBIOS has finished PCI setup; then
`info pci` and `query-pci` are recorded. A variant may then hot-add devices (which SeaBIOS
never configures) and reset, and is recorded again after the firmware ran once more.

Output, in tests/data/qemu/booted/ (see the README there):
    NAME.args.json        the pcid/QEMU arguments: machine, globals, blockdevs, devices, steps
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
    # pc with bridges: a pci-bridge with devices and a nested bridge behind it, an empty one
    # (SHPC: SeaBIOS reserves I/O and both memory kinds for hot-plug), one without SHPC.
    v['pc-bridges'] = {
        'blockdevs': [blk(0)],
        'devices': [
            'virtio-net-pci,id=n0,addr=0x3',
            'pci-bridge,id=b1,chassis_nr=1,addr=0x5',
            'virtio-net-pci,id=n1,bus=b1,addr=0x1',
            'e1000,id=e1,bus=b1,addr=0x2',
            'pci-bridge,id=b2,bus=b1,chassis_nr=2,addr=0x4',
            'virtio-blk-pci,id=d2,bus=b2,drive=null0,addr=0x3',
            'pci-bridge,id=b3,chassis_nr=3,addr=0x6',
            'pci-bridge,id=b4,chassis_nr=4,shpc=off,addr=0x7',
            'e1000,id=e0,addr=0x9',
        ],
    }
    # q35 as QEMU builds it: MCH, LPC, AHCI, SMBus.
    v['q35-bare'] = {'machine': 'q35', 'devices': []}
    # Root ports: with a modern-only virtio device (no I/O window), with an e1000 (I/O),
    # empty, with QEMU's resource-reserve properties, with hotplug=off, two functions of one
    # slot; a transitional virtio device on pcie.0 itself.
    v['q35-rootports'] = {
        'machine': 'q35',
        'blockdevs': [blk(0)],
        'devices': [
            'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0',
            'virtio-net-pci,id=n1,bus=rp1',
            'pcie-root-port,id=rp2,bus=pcie.0,chassis=1,slot=2,addr=05.0',
            'e1000,id=e2,bus=rp2',
            'pcie-root-port,id=rp3,bus=pcie.0,chassis=1,slot=3,addr=06.0',
            'virtio-blk-pci,id=d0,drive=null0,addr=07.0',
            'pcie-root-port,id=rp4,bus=pcie.0,chassis=1,slot=4,addr=08.0,'
            'io-reserve=8K,mem-reserve=8M,pref32-reserve=16M,bus-reserve=3',
            'pcie-root-port,id=rp5,bus=pcie.0,chassis=1,slot=5,addr=09.0,hotplug=off',
            'virtio-net-pci,id=n5,bus=rp5',
            'pcie-root-port,id=rp6,bus=pcie.0,chassis=1,slot=6,addr=0a.0,multifunction=on',
            'pcie-root-port,id=rp7,bus=pcie.0,chassis=1,slot=7,addr=0a.1',
            'e1000,id=e7,bus=rp7',
            'virtio-net-pci,id=n0,addr=0x2',
        ],
    }
    # A pci-bridge behind a pcie-pci-bridge, devices at each level, a bridge without SHPC.
    v['q35-bridges'] = {
        'machine': 'q35',
        'blockdevs': [blk(0)],
        'devices': [
            'pcie-pci-bridge,id=pb1,bus=pcie.0,addr=0x10',
            'e1000,id=e1,bus=pb1,addr=0x2',
            'pci-bridge,id=b2,bus=pb1,chassis_nr=2,addr=0x3',
            'virtio-net-pci,id=n2,bus=b2,addr=0x1',
            'virtio-blk-pci,id=d2,bus=b2,drive=null0,addr=0x5',
            'pci-bridge,id=b3,bus=pcie.0,chassis_nr=3,shpc=off,addr=0x11',
            'e1000,id=e3,bus=b3,addr=0x1',
            'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0',
            'pcie-pci-bridge,id=pb4,bus=rp1',
            'virtio-net-pci,id=n4,bus=pb4,addr=0x1',
        ],
    }
    # Enough I/O windows (4 KiB each) that the classic 0xc000-0xffff area is too small, and a
    # 64-bit prefetchable reservation too large for the 32-bit window: it goes above 4 GiB.
    devs = []
    for i in range(1, 6):
        devs += ['pci-bridge,id=b%d,bus=pcie.0,chassis_nr=%d,addr=0x%x' % (i, i, 0x10 + i),
                 'virtio-net-pci,id=n%d,bus=b%d,addr=0x1' % (i, i)]
    devs += ['pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0,pref64-reserve=2G',
             'virtio-net-pci,id=m1,bus=rp1',
             'pcie-root-port,id=rp2,bus=pcie.0,chassis=1,slot=2,addr=05.0,mem-reserve=256M',
             'virtio-net-pci,id=m0,addr=0x3']
    v['q35-windows'] = {'machine': 'q35', 'devices': devs}
    # Native hot-plug on cold-plugged ports and bridges (QEMU's -global): the firmware's work
    # is the same; hot-adds after boot are configured by the next one.
    v['q35-native'] = {
        'machine': 'q35',
        'globals': ['ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off'],
        'blockdevs': [blk(0)],
        'devices': [
            'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0',
            'pcie-root-port,id=rp2,bus=pcie.0,chassis=1,slot=2,addr=05.0',
            'e1000,id=e2,bus=rp2',
            'pcie-pci-bridge,id=pb,bus=pcie.0,addr=0x10',
            'virtio-blk-pci,id=d1,bus=pb,drive=null0,addr=0x1',
        ],
        'steps': [
            {'execute': 'device_add',
             'arguments': {'driver': 'virtio-net-pci', 'id': 'hn', 'bus': 'rp1'}},
            {'execute': 'device_add',
             'arguments': {'driver': 'e1000', 'id': 'he', 'bus': 'pb', 'addr': '0x2'}},
        ],
    }
    # Hot-add behind a root port and a bridge after boot (SeaBIOS does not see them), reset:
    # the firmware then configures everything.
    v['q35-reset'] = {
        'machine': 'q35',
        'blockdevs': [blk(0)],
        'devices': [
            'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0',
            'pcie-root-port,id=rp2,bus=pcie.0,chassis=1,slot=2,addr=05.0',
            'pci-bridge,id=b1,bus=pcie.0,chassis_nr=3,addr=0x6',
        ],
        'steps': [
            {'execute': 'device_add',
             'arguments': {'driver': 'virtio-blk-pci', 'id': 'hb', 'drive': 'null0',
                           'bus': 'rp2'}},
            {'execute': 'device_add',
             'arguments': {'driver': 'e1000', 'id': 'he', 'bus': 'b1', 'addr': '0x3'}},
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
    args = [QEMU, '-M', spec.get('machine', 'pc'), '-accel', 'tcg', '-nodefaults', '-display', 'none',
            '-serial', 'none', '-qmp', 'unix:%s,server=on,wait=off' % qmp_path,
            '-chardev', 'file,id=seabios,path=%s' % log_path,
            '-device', 'isa-debugcon,iobase=0x402,chardev=seabios']
    for g in spec.get('globals', []):
        args += ['-global', g]
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
