#!/usr/bin/env python3
"""Record QEMU 7.2's q35 / PCI Express / bridge behaviour into tests/data/qemu/pcie/.

Run through gen_qemu_reference.py (`--only pcie`) or directly:

    python3 tests/tools/gen_pcie_reference.py [--out DIR] [-j N]

What it writes (deterministic; two runs give identical files):

  config/NAME.hex        config space of one function, `lspci -x` format (256 bytes through
                         CF8/CFC, or 4096 through ECAM at 0xb0000000 for PCI Express
                         functions), with `NAME.hex.lspci-vvv.txt` beside it
  config/NAME.masks.json write probe of every byte (256 or 4096): read, write 0xff, read,
                         write 0x00, read, write the original back (same method and keys as
                         the pc masks of gen_qemu_reference.py)
  cases.json             every capture: machine, command line, how the function was reached
  qmp/bridges-battery.results.jsonl
                         device_add / device_del / system_reset behind root ports and bridges
                         (the same line format as the other batteries)

Standard library only.
"""

import argparse
import concurrent.futures
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

from qemu_harness import Qemu, to_lspci_x  # noqa: E402
import gen_qemu_reference as G  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, 'tests', 'data', 'qemu', 'pcie')
ECAM = G.ECAM_BASE
RP1 = 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0'


def enable_ecam(q):
    q.cfg_write(0, 0x00, 0x60, ECAM | 1, 4)   # MCH PCIEXBAR: base, 256 MiB, enable


def set_bus(q, bus, devfn, secondary, subordinate):
    """Program a bridge's secondary/subordinate bus numbers through ECAM."""
    q.ecam_write(ECAM, bus, devfn, 0x19, secondary, 1)
    q.ecam_write(ECAM, bus, devfn, 0x1a, subordinate, 1)


def reader(q, bus, devfn, ecam):
    if ecam:
        return (lambda off, n: q.ecam_read(ECAM, bus, devfn, off, n),
                lambda off, v, n: q.ecam_write(ECAM, bus, devfn, off, v, n))
    return (lambda off, n: q.cfg_read(bus, devfn, off, n),
            lambda off, v, n: q.cfg_write(bus, devfn, off, v, n))


def dump(q, bus, devfn, size, ecam):
    rd, _ = reader(q, bus, devfn, ecam)
    out = bytearray()
    for off in range(0, size, 4):
        out += rd(off, 4).to_bytes(4, 'little')
    return bytes(out)


def probe(q, bus, devfn, size, ecam):
    """The byte-wise write probe of gen_qemu_reference.probe_masks, over `size` bytes."""
    rd, wr = reader(q, bus, devfn, ecam)
    before = dump(q, bus, devfn, size, ecam)
    raw = []
    for off in range(size):
        orig = rd(off, 1)
        wr(off, 0xff, 1)
        aff = rd(off, 1)
        wr(off, 0x00, 1)
        a00 = rd(off, 1)
        wr(off, orig, 1)
        raw.append((orig, aff, a00))
    after = dump(q, bus, devfn, size, ecam)
    nr = [{'offset': '0x%03x' % o, 'before': '0x%02x' % before[o], 'after': '0x%02x' % after[o]}
          for o in range(size) if before[o] != after[o]]
    return before, raw, nr


def masks_doc(label, size, ecam, before, raw, nr):
    rw_mask = bytearray(size)
    w1c_mask = bytearray(size)
    summary, groups, bytes_out = [], [], {}
    for off, (orig, aff, a00) in enumerate(raw):
        if aff == orig and a00 == orig:
            continue
        rw, ro, w1c, other = G.classify_bits(orig, aff, a00)
        rw_mask[off] = rw
        w1c_mask[off] = w1c
        ent = {'orig': '0x%02x' % orig, 'after_ff': '0x%02x' % aff, 'after_00': '0x%02x' % a00,
               'rw_bits': '0x%02x' % rw, 'ro_bits': '0x%02x' % ro}
        s = 'rw=0x%02x' % rw
        if w1c:
            ent['w1c_candidate_bits'] = '0x%02x' % w1c
            s += ' w1c?=0x%02x' % w1c
        if other:
            ent['odd_bits'] = '0x%02x' % other
            s += ' odd=0x%02x' % other
        if w1c or other:
            bytes_out['0x%03x' % off] = ent  # plain read/write bytes are in rw_mask
        if groups and groups[-1][1] == off - 1 and groups[-1][2] == s:
            groups[-1][1] = off
        else:
            groups.append([off, off, s])
    for a, b, t in groups:
        summary.append(('0x%03x: ' % a if a == b else '0x%03x-0x%03x: ' % (a, b)) + t)

    def lines(buf):
        return ['%03x: %s' % (o, ' '.join('%02x' % x for x in buf[o:o + 16]))
                for o in range(0, size, 16) if any(buf[o:o + 16])]

    return {
        'device': label,
        'size': size,
        'method': 'byte writes through %s: read, write 0xff, read, write 0x00, read, write the '
                  'original back. rw_mask: bits that read 1 after 0xff and 0 after 0x00 (rows '
                  'of zeros left out); w1c_candidate_mask: bits that were 1 and read 0 after '
                  'both writes; bytes_with_side_effects: every byte with such bits or with '
                  'odd_bits (anything else: side effects), with its three reads.'
                  % ('ECAM' if ecam else 'CF8/CFC'),
        'bytes_with_side_effects': bytes_out,
        'summary': summary,
        'rw_mask': lines(rw_mask),
        'w1c_candidate_mask': lines(w1c_mask),
        'not_restored_after_byte_probe': nr,
    }


# A capture: (name, machine, -device list, setup, target bus, devfn, size, masks?)
# setup: 'ecam' enables ECAM; ('bus', bus, devfn, sec, sub) programs a bridge.
def cases():
    rp = lambda extra='': 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0' + extra
    c = []
    # the q35 built-ins: 256 bytes through CF8/CFC (the probe must not move ECAM under itself)
    for name, devfn in (('mch', 0x00), ('ich9-lpc', 0xf8), ('ich9-ahci', 0xfa),
                        ('ich9-smb', 0xfb)):
        c.append(('q35-%s' % name, 'q35', [], [], 0, devfn, 256, True, True))
    # root ports: empty, variants (4 KiB through ECAM)
    c.append(('q35-rp', 'q35', [rp()], ['ecam'], 0, 0x20, 4096, True, True))
    for tag, extra in (('chassis2-slot5-port3', None),
                       ('hotplug-off', ',hotplug=off'),
                       ('native-hotplug-off', ',x-native-hotplug=off'),
                       ('pcp-off', ',power_controller_present=off'),
                       ('acs-off', ',disable-acs=on'),
                       ('speed-2_5-width-1', ',x-speed=2_5,x-width=1'),
                       ('speed-8-width-4', ',x-speed=8,x-width=4'),
                       ('multifunction-on', ',multifunction=on')):
        dev = rp(extra) if extra else \
            'pcie-root-port,id=rp1,bus=pcie.0,chassis=2,slot=5,port=3,addr=04.0'
        c.append(('q35-rp-%s' % tag, 'q35', [dev], ['ecam'], 0, 0x20, 4096, True, False))
    # root port with a device at reset (populated) and behind it
    c.append(('q35-rp-populated', 'q35', [rp(), 'virtio-net-pci,id=dut,bus=rp1'],
              ['ecam'], 0, 0x20, 4096, True, False))
    # conventional bridges
    c.append(('q35-pci-bridge', 'q35', ['pci-bridge,id=b1,chassis_nr=1,addr=05.0'],
              ['ecam'], 0, 0x28, 4096, True, True))
    for tag, extra in (('shpc-off', ',shpc=off'), ('msi-off', ',msi=off'), ('msi-on', ',msi=on'),
                       ('chassis7', '')):
        dev = 'pci-bridge,id=b1,chassis_nr=%d,addr=05.0%s' % (7 if tag == 'chassis7' else 1, extra)
        c.append(('q35-pci-bridge-%s' % tag, 'q35', [dev], ['ecam'], 0, 0x28, 4096, True, False))
    c.append(('pc-pci-bridge', 'pc', ['pci-bridge,id=b1,chassis_nr=1,addr=05.0'], [], 0, 0x28,
              256, True, True))
    c.append(('q35-pcie-pci-bridge', 'q35', ['pcie-pci-bridge,id=pb1,addr=06.0'], ['ecam'], 0,
              0x30, 4096, True, True))
    c.append(('q35-pcie-pci-bridge-msi-off', 'q35', ['pcie-pci-bridge,id=pb1,addr=06.0,msi=off'],
              ['ecam'], 0, 0x30, 4096, True, False))
    c.append(('q35-rp1-pcie-pci-bridge', 'q35', [rp(), 'pcie-pci-bridge,id=pb1,bus=rp1'],
              ['ecam', ('bus', 0, 0x20, 1, 1)], 1, 0x00, 4096, True, False))
    c.append(('q35-rp1-pci-bridge', 'q35', [rp(), 'pci-bridge,id=b1,bus=rp1,chassis_nr=2'],
              ['ecam', ('bus', 0, 0x20, 1, 1)], 1, 0x00, 4096, True, False))
    # endpoints behind bridges and on pcie.0
    nets = (('virtio-net-pci-transitional', 'virtio-net-pci-transitional,id=dut'),
            ('virtio-net-pci-disable-legacy-off', 'virtio-net-pci,id=dut,disable-legacy=off'),
            ('virtio-net-pci-legacy-only',
             'virtio-net-pci,id=dut,disable-modern=on,disable-legacy=off'),
            ('virtio-net-pci-aer-on', 'virtio-net-pci,id=dut,aer=on'),
            ('virtio-blk-pci-transitional', 'virtio-blk-pci-transitional,id=dut,drive=null0'),
            ('e1000', 'e1000,id=dut'))
    for tag, dev in nets:
        c.append(('q35-rp1-%s' % tag, 'q35', [rp(), dev + ',bus=rp1'],
                  ['ecam', ('bus', 0, 0x20, 1, 1)], 1, 0x00, 4096, False, False))
    # x-pcie-extcap-init=off: the dword at 0x100 stays writable (write-probed)
    c.append(('q35-rp1-virtio-net-pci-extcap-init-off', 'q35',
              [rp(), 'virtio-net-pci,id=dut,bus=rp1,x-pcie-extcap-init=off'],
              ['ecam', ('bus', 0, 0x20, 1, 1)], 1, 0x00, 4096, True, False))
    c.append(('q35-pcie.0-virtio-net-pci', 'q35', ['virtio-net-pci,id=dut,addr=03.0'], ['ecam'], 0,
              0x18, 4096, False, False))
    c.append(('q35-pb1-virtio-net-pci', 'q35',
              ['pcie-pci-bridge,id=pb1,addr=06.0', 'virtio-net-pci,id=dut,bus=pb1,addr=01.0'],
              ['ecam', ('bus', 0, 0x30, 2, 2)], 2, 0x08, 4096, False, False))
    c.append(('q35-b1-e1000', 'q35',
              ['pci-bridge,id=b1,chassis_nr=1,addr=05.0', 'e1000,id=dut,bus=b1,addr=02.0'],
              ['ecam', ('bus', 0, 0x28, 3, 3)], 3, 0x10, 4096, False, False))
    return c


def capture(out, case):
    name, machine, devs, setup, bus, devfn, size, masks, pristine = case
    cfgdir = os.path.join(out, 'config')
    args = []
    for d in devs:
        args += ['-device', d]
    rec = {'name': name, 'machine': machine, 'devices': devs, 'target':
           '%02x:%02x.%x' % (bus, devfn >> 3, devfn & 7), 'bus': bus, 'devfn': devfn,
           'size': size, 'access': 'ECAM' if 'ecam' in setup else 'CF8/CFC',
           'setup': [list(x) if isinstance(x, tuple) else [x] for x in setup],
           'pristine': pristine, 'masks': masks}
    with Qemu(machine, extra_args=args) as q:
        if pristine:
            data = dump(q, bus, devfn, 256, False)
            p = os.path.join(cfgdir, '%s.pristine.hex' % name)
            G.write_text(p, to_lspci_x('%s (pristine, CF8/CFC)' % rec['target'], data))
            G.lspci_vvv(p)
        ecam = False
        for s in setup:
            if s == 'ecam':
                enable_ecam(q)
                ecam = True
            else:
                set_bus(q, *s[1:])
                rec.setdefault('writes', []).append('bridge %02x:%02x.%x secondary=%d '
                                                    'subordinate=%d' % (s[1], s[2] >> 3, s[2] & 7,
                                                                        s[3], s[4]))
        data = dump(q, bus, devfn, size if ecam else 256, ecam)
        p = os.path.join(cfgdir, '%s.hex' % name)
        G.write_text(p, to_lspci_x('%s %s' % (rec['target'], ' '.join(devs) or machine), data))
        G.lspci_vvv(p)
        if masks:
            before, raw, nr = probe(q, bus, devfn, size if ecam else 256, ecam)
            G.write_json(os.path.join(cfgdir, '%s.masks.json' % name),
                         masks_doc(rec['target'] + ' ' + name, size if ecam else 256, ecam,
                                   before, raw, nr))
            rec['mask_probe_restored'] = not nr
        rec['qemu_output'] = q.log_text()
    return rec


# ===================================================================== battery
def battery_bridges(out):
    """device_add/del behind root ports and bridges (q35 and pc)."""
    recs = []
    cold = ['-device', RP1, '-device', 'pci-bridge,id=b1,chassis_nr=2,addr=05.0',
            '-device', 'pcie-pci-bridge,id=pb1,addr=06.0'] + G.NULL1
    with Qemu('q35', extra_args=cold) as q:
        B = G.Battery(q)
        add = B.add_args
        D = G.D
        ddel = lambda label, did: B.case(label, {'execute': 'device_del',
                                                 'arguments': {'id': did}}, drain=0.2)
        # cold-plugged bridges: every slot takes hot-plug
        add('b1: e1000 addr=0', D('e1000', id='e0', bus='b1', addr='0'))
        add('b1: e1000 no addr', D('e1000', id='e1', bus='b1'))
        add('b1: e1000 addr=0x1f', D('e1000', id='e2', bus='b1', addr='0x1f'))
        add('b1: fn1 while fn0 present', D('e1000', id='e3', bus='b1', addr='0.1'))
        add('b1: addr=4.1 (fn0 empty)', D('e1000', id='e4', bus='b1', addr='4.1'))
        add('b1: addr=4.0 without multifunction', D('e1000', id='e5', bus='b1', addr='4.0'))
        add('b1: addr=4.0 multifunction=on', D('e1000', id='e6', bus='b1', addr='4.0',
                                               multifunction='on'))
        add('pb1: virtio-net-pci addr=0', D('virtio-net-pci', id='v0', bus='pb1', addr='0'))
        add('pb1: virtio-blk-pci no addr', D('virtio-blk-pci', id='v1', bus='pb1',
                                             drive='null1'))
        add('pb1: unknown property', D('e1000', id='x1', bus='pb1', foo='1'))
        add('pb1: bad addr', D('e1000', id='x2', bus='pb1', addr='zz'))
        # bridges and ports as hot-plugged devices
        add('pci-bridge without chassis_nr (hot)', D('pci-bridge', id='hb0', bus='rp1'))
        add('pci-bridge chassis_nr=0 (hot)', D('pci-bridge', id='hb0', bus='rp1', chassis_nr=0))
        add('pci-bridge behind rp1 (hot)', D('pci-bridge', id='hb', bus='rp1', chassis_nr=3))
        add('hb: e1000 addr=0 (SHPC slot 0)', D('e1000', id='h0', bus='hb', addr='0'))
        add('hb: e1000 no addr (SHPC, auto = slot 0)', D('e1000', id='h1', bus='hb'))
        add('hb: e1000 addr=3', D('e1000', id='h3', bus='hb', addr='3'))
        add('hb: e1000 addr=3.1', D('e1000', id='h31', bus='hb', addr='3.1'))
        add('hb: bad addr (before SHPC check)', D('e1000', id='h9', bus='hb', addr='zz'))
        add('hb: addr 3 in use (before SHPC check)', D('e1000', id='h8', bus='hb', addr='3'))
        add('pcie-root-port on b1 (conventional bus)', D('pcie-root-port', id='rpx', bus='b1',
                                                         chassis=9, slot=9))
        add('pcie-root-port on pb1', D('pcie-root-port', id='rpy', bus='pb1', chassis=9, slot=8))
        add('pcie-pci-bridge on b1', D('pcie-pci-bridge', id='pbx', bus='b1'))
        add('pcie-root-port duplicate chassis/slot', D('pcie-root-port', id='rpz', bus='rp1',
                                                      chassis=1, slot=1))
        add('pcie-root-port on pcie.0 (hot)', D('pcie-root-port', id='rpw', chassis=8, slot=8))
        add('pci-bridge shpc=off behind b1 (hot)', D('pci-bridge', id='hs', bus='b1',
                                                    chassis_nr=4, shpc='off', addr='8'))
        add('hs: e1000 (no hotplug controller)', D('e1000', id='s0', bus='hs', addr='1'))
        add('pcie-pci-bridge behind b1 slot 9', D('pcie-pci-bridge', id='hpb', bus='b1',
                                                  addr='9'))
        add('hpb: e1000 addr=0', D('e1000', id='p0', bus='hpb', addr='0'))
        add('hpb: e1000 addr=2', D('e1000', id='p2', bus='hpb', addr='2'))
        B.case('query-pci (bus numbers 0: nothing behind bridges)', {'execute': 'query-pci'})
        B.hmp('info pci (bus numbers 0)', 'info pci')
        ddel('device_del hb (bridge with a device behind it)', 'hb')
        ddel('device_del e0 (b1 slot 0)', 'e0')
        ddel('device_del e6 (b1 slot 4 fn0)', 'e6')
        ddel('device_del v0 (pb1)', 'v0')
        B.reset('system_reset (completes removals)')
        B.case('qom-list /machine/peripheral', {'execute': 'qom-list',
                                                 'arguments': {'path': '/machine/peripheral'}})
        ddel('device_del rp1 (cold-plugged port on pcie.0)', 'rp1')
        ddel('device_del b1 (cold-plugged bridge on pcie.0)', 'b1')
        ddel('device_del hpb (hot-plugged bridge behind b1)', 'hpb')
        B.reset('system_reset 2')
        B.case('query-pci final', {'execute': 'query-pci'})
        B.hmp('info pci final', 'info pci')
        recs = B.records
    with Qemu('pc', extra_args=['-device', 'pci-bridge,id=b1,chassis_nr=1,addr=05.0']) as q:
        B = G.Battery(q)
        add = B.add_args
        D = G.D
        add('pc b1: e1000 addr=0', D('e1000', id='e0', bus='b1', addr='0'))
        add('pc: pcie-root-port on pci.0', D('pcie-root-port', id='rp', chassis=3, slot=3))
        add('pc rp: e1000', D('e1000', id='e1', bus='rp'))
        add('pc: pci-bridge hot on pci.0', D('pci-bridge', id='hb', chassis_nr=2, addr='7'))
        add('pc hb: e1000 no addr', D('e1000', id='h0', bus='hb'))
        add('pc hb: e1000 addr=1', D('e1000', id='h1', bus='hb', addr='1'))
        add('pc: pcie-pci-bridge on pci.0', D('pcie-pci-bridge', id='pb', addr='8'))
        B.case('query-pci', {'execute': 'query-pci'})
        recs += [dict(r, label='pc: ' + r['label']) for r in B.records]
    # QEMU sends DEVICE_DELETED from an RCU callback, so RESET may come before or after them;
    # record it first (where pcid and most runs of QEMU put it) to stay deterministic.
    for r in recs:
        ev = r['other_lines_received']
        r['other_lines_received'] = ([x for x in ev if '"RESET"' in x] +
                                     [x for x in ev if '"RESET"' not in x])
    with open(os.path.join(out, 'qmp', 'bridges-battery.results.jsonl'), 'w') as f:
        for r in recs:
            f.write(json.dumps(r) + '\n')
    return len(recs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('-j', '--jobs', type=int, default=2)
    a = ap.parse_args(argv)
    out = os.path.abspath(a.out)
    for sub in ('config', 'qmp'):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for n in os.listdir(d):
            os.remove(os.path.join(d, n))
    recs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        futs = [ex.submit(capture, out, c) for c in cases()]
        futs.append(ex.submit(battery_bridges, out))
        for f in futs:
            r = f.result()
            if isinstance(r, dict):
                recs.append(r)
    G.write_json(os.path.join(out, 'cases.json'), sorted(recs, key=lambda r: r['name']))
    print('pcie: %d captures' % len(recs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
