#!/usr/bin/env python3
"""Regenerate tests/data/qemu/ from the real qemu-system-x86_64 (7.2).

Usage:
    python3 tests/tools/gen_qemu_reference.py [--out DIR] [--only config|qmp|pcie]
                                              [--verify-only] [-j N]

`--only pcie` runs gen_pcie_reference.py (q35, PCI Express, bridges) into DIR/pcie.

Everything written is deterministic (event timestamps are normalised to
{"seconds": 0, "microseconds": 0}); running it twice must give identical
files.  Standard library only.  See tests/data/qemu/README.md.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # keep tests/tools free of __pycache__

from qemu_harness import Qemu, QmpError, to_lspci_x, parse_lspci_x  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, 'tests', 'data', 'qemu')
SHARED_REF = os.environ.get('PCID_SHARED_REFERENCE',
                            os.path.join(os.path.dirname(REPO), 'shared', 'reference'))

ECAM_BASE = 0xb0000000
NULL1 = ['-blockdev', 'driver=null-co,node-name=null1']
ROOT_PORT = ['-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0']

_TS_RE = re.compile(r'"timestamp": \{"seconds": \d+, "microseconds": \d+\}')


def norm_ts(line):
    return _TS_RE.sub('"timestamp": {"seconds": 0, "microseconds": 0}', line)


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=1) + '\n')


def lspci_vvv(hex_path):
    p = subprocess.run(['lspci', '-F', hex_path, '-vvv'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    text = p.stdout.decode('utf-8', 'replace')
    if p.returncode != 0 or not text.strip():
        text += p.stderr.decode('utf-8', 'replace')
    write_text(hex_path + '.lspci-vvv.txt', text)


def efi_virtio_rom():
    for p in ('/usr/share/qemu/efi-virtio.rom', '/usr/lib/ipxe/qemu/efi-virtio.rom'):
        if os.path.exists(p):
            return p
    return None


# ===================================================================== config
# (name, driver, properties, plug) -- plug is 'hot' (device_add at 00:03.0
# on a running -S QEMU) or 'cold' (-device on the command line).
def pc_variants():
    v = [
        ('virtio-net-pci', 'virtio-net-pci', {}, 'hot'),
        ('virtio-net-pci-disable-legacy-on', 'virtio-net-pci', {'disable-legacy': 'on'}, 'hot'),
        ('virtio-net-pci-disable-modern-true', 'virtio-net-pci', {'disable-modern': 'true'}, 'hot'),
        ('virtio-net-pci-disable-legacy-on-disable-modern-false', 'virtio-net-pci',
         {'disable-legacy': 'on', 'disable-modern': 'false'}, 'hot'),
    ]
    for n in (0, 1, 8, 64, 200, 3000):
        v.append(('virtio-net-pci-vectors-%d' % n, 'virtio-net-pci', {'vectors': str(n)}, 'hot'))
    v += [
        ('virtio-net-pci-mq-on', 'virtio-net-pci', {'mq': 'on'}, 'hot'),
        ('virtio-net-pci-mq-on-vectors-10', 'virtio-net-pci', {'mq': 'on', 'vectors': '10'}, 'hot'),
        ('virtio-net-pci-host_mtu-1500', 'virtio-net-pci', {'host_mtu': '1500'}, 'hot'),
        ('virtio-net-pci-page-per-vq-on', 'virtio-net-pci', {'page-per-vq': 'on'}, 'hot'),
        ('virtio-net-pci-modern-pio-notify-on', 'virtio-net-pci', {'modern-pio-notify': 'on'}, 'hot'),
        ('virtio-net-pci-romfile-empty', 'virtio-net-pci', {'romfile': ''}, 'hot'),
        ('virtio-net-pci-rombar0-coldplug', 'virtio-net-pci', {'rombar': '0'}, 'cold'),
        ('virtio-net-pci-coldplug', 'virtio-net-pci', {}, 'cold'),
        ('virtio-net-pci-hotplug-then-reset', 'virtio-net-pci', {}, 'hot+reset'),
        ('virtio-net-pci-multifunction-on', 'virtio-net-pci', {'multifunction': 'on'}, 'hot'),
        ('virtio-net-pci-mac-525400aabbcc', 'virtio-net-pci', {'mac': '52:54:00:aa:bb:cc'}, 'hot'),
        ('virtio-blk-pci', 'virtio-blk-pci', {'drive': 'null0'}, 'hot'),
        ('virtio-blk-pci-num-queues-4', 'virtio-blk-pci', {'drive': 'null0', 'num-queues': '4'}, 'hot'),
        ('virtio-blk-pci-vectors-5', 'virtio-blk-pci', {'drive': 'null0', 'vectors': '5'}, 'hot'),
        ('virtio-blk-pci-disable-legacy-on', 'virtio-blk-pci',
         {'drive': 'null0', 'disable-legacy': 'on'}, 'hot'),
        ('virtio-blk-pci-disable-modern-true', 'virtio-blk-pci',
         {'drive': 'null0', 'disable-modern': 'true'}, 'hot'),
    ]
    rom = efi_virtio_rom()
    if rom:
        v.append(('virtio-blk-pci-romfile-efi-virtio', 'virtio-blk-pci',
                  {'drive': 'null0', 'romfile': rom}, 'hot'))
    v += [
        ('e1000', 'e1000', {}, 'hot'),
        ('e1000-coldplug', 'e1000', {}, 'cold'),
        ('e1000-hotplug-then-reset', 'e1000', {}, 'hot+reset'),
        ('e1000-romfile-empty', 'e1000', {'romfile': ''}, 'hot'),
        ('e1000-mac-525400aabbcc', 'e1000', {'mac': '52:54:00:aa:bb:cc'}, 'hot'),
        ('e1000-multifunction-on', 'e1000', {'multifunction': 'on'}, 'hot'),
    ]
    return v


PC_BUILTINS = [  # (name, devfn, header)
    ('00_00.0-i440FX', 0x00, '00:00.0 Host bridge: i440FX'),
    ('00_01.0-PIIX3', 0x08, '00:01.0 ISA bridge: PIIX3'),
    ('00_01.1-piix3-ide', 0x09, '00:01.1 IDE interface: piix3-ide'),
    ('00_01.3-PIIX4_PM', 0x0b, '00:01.3 Bridge: PIIX4_PM'),
]

Q35_BUILTINS = [
    ('00_00.0-mch', 0x00, '00:00.0 Host bridge: mch'),
    ('00_1f.0-ICH9-LPC', 0xf8, '00:1f.0 ISA bridge: ICH9-LPC'),
    ('00_1f.2-ich9-ahci', 0xfa, '00:1f.2 SATA controller: ich9-ahci'),
    ('00_1f.3-ICH9-SMB', 0xfb, '00:1f.3 SMBus: ICH9-SMB'),
]

Q35_RP1_DRIVERS = [
    ('virtio-net-pci', {}),
    ('virtio-blk-pci', {'drive': 'null0'}),
    ('e1000e', {}),
    ('e1000', {}),
]


def props_to_cmdline(driver, props):
    parts = [driver]
    for k, v in props.items():
        parts.append('%s=%s' % (k, v))
    return ','.join(parts)


def probe_masks(q, bus, devfn):
    """Byte-wise write probing of a 256-byte config space (CF8/CFC).

    For each byte: read orig; write 0xff, read; write 0x00, read; write
    orig back.  Returns (per-byte dict, restore-check list).
    """
    before = q.dump_config(bus, devfn, 256)
    raw = []
    for off in range(256):
        orig = q.cfg_read(bus, devfn, off, 1)
        q.cfg_write(bus, devfn, off, 0xff, 1)
        aff = q.cfg_read(bus, devfn, off, 1)
        q.cfg_write(bus, devfn, off, 0x00, 1)
        a00 = q.cfg_read(bus, devfn, off, 1)
        q.cfg_write(bus, devfn, off, orig, 1)
        raw.append((orig, aff, a00))
    after = q.dump_config(bus, devfn, 256)
    not_restored = []
    for off in range(256):
        if before[off] != after[off]:
            not_restored.append({'offset': '0x%02x' % off, 'before': '0x%02x' % before[off],
                                 'after': '0x%02x' % after[off]})
    return before, raw, not_restored


def classify_bits(orig, aff, a00):
    rw = aff & ~a00 & 0xff                 # followed both writes
    ro = ~(orig ^ aff) & ~(orig ^ a00) & 0xff  # never changed
    w1c = orig & ~aff & ~a00 & 0xff        # 1 -> 0 on writing 1, stayed 0
    other = 0xff & ~(rw | ro | w1c)
    return rw, ro, w1c, other


def masks_json(label, before, raw, not_restored, bars, bars_not_restored):
    bytes_out = {}
    summary = []
    groups = []   # [first, last, text]
    rw_mask = bytearray(256)
    w1c_mask = bytearray(256)
    for off, (orig, aff, a00) in enumerate(raw):
        if aff == orig and a00 == orig:
            continue
        rw, ro, w1c, other = classify_bits(orig, aff, a00)
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
        bytes_out['0x%02x' % off] = ent
        if groups and groups[-1][1] == off - 1 and groups[-1][2] == s:
            groups[-1][1] = off
        else:
            groups.append([off, off, s])
    for a, b, t in groups:
        summary.append(('0x%02x: ' % a if a == b else '0x%02x-0x%02x: ' % (a, b)) + t)

    def lines(buf):
        return ['%02x: %s' % (o, ' '.join('%02x' % b for b in buf[o:o + 16]))
                for o in range(0, 256, 16)]

    return {
        'device': label,
        'method': 'byte writes through CF8/CFC: write 0xff, read, write 0x00, read, '
                  'write original back; bytes listed only if a read-back differed from orig. '
                  'rw_bits: read back 1 after 0xff and 0 after 0x00; ro_bits: never changed; '
                  'w1c_candidate_bits: were 1, read 0 after writing 0xff and stayed 0; '
                  'odd_bits: anything else. A bit that is 0 and write-1-to-clear '
                  'cannot be seen by this probe.',
        'bytes': bytes_out,
        'summary': summary,
        'rw_mask': lines(rw_mask),
        'w1c_candidate_mask': lines(w1c_mask),
        'not_restored_after_byte_probe': not_restored,
        'bars': bars,
        'not_restored_after_bar_sizing': bars_not_restored,
    }


def size_bars(q, bus, devfn):
    """BAR sizing for 0x10..0x24 and the ROM BAR at 0x30; restores each."""
    before = q.dump_config(bus, devfn, 256)
    out = []
    off = 0x10
    idx = 0
    while off <= 0x24:
        orig = q.cfg_read(bus, devfn, off, 4)
        q.cfg_write(bus, devfn, off, 0xffffffff, 4)
        rb = q.cfg_read(bus, devfn, off, 4)
        q.cfg_write(bus, devfn, off, orig, 4)
        ent = {'bar': idx, 'offset': '0x%02x' % off, 'orig': '0x%08x' % orig,
               'readback_after_write_ffffffff': '0x%08x' % rb}
        step = 4
        if rb == 0:
            ent['kind'] = 'unimplemented'
        elif rb & 1:
            mask = rb & 0xfffffffc
            ent['kind'] = 'io'
            ent['size'] = ((~mask) & 0xffffffff) + 1 if mask else None
        else:
            typ = (rb >> 1) & 3
            pref = bool(rb & 8)
            mask = rb & 0xfffffff0
            if typ == 2 and off < 0x24:
                uorig = q.cfg_read(bus, devfn, off + 4, 4)
                q.cfg_write(bus, devfn, off + 4, 0xffffffff, 4)
                urb = q.cfg_read(bus, devfn, off + 4, 4)
                q.cfg_write(bus, devfn, off + 4, uorig, 4)
                ent['orig_upper'] = '0x%08x' % uorig
                ent['readback_upper_after_write_ffffffff'] = '0x%08x' % urb
                ent['kind'] = 'mem64'
                full = (urb << 32) | mask
                ent['prefetchable'] = pref
                ent['size'] = ((~full) & 0xffffffffffffffff) + 1
                step = 8
            else:
                ent['kind'] = 'mem32' if typ == 0 else 'mem-type%d' % typ
                ent['prefetchable'] = pref
                ent['size'] = ((~mask) & 0xffffffff) + 1
        out.append(ent)
        off += step
        idx += step // 4
    orig = q.cfg_read(bus, devfn, 0x30, 4)
    q.cfg_write(bus, devfn, 0x30, 0xffffffff, 4)
    rb = q.cfg_read(bus, devfn, 0x30, 4)
    q.cfg_write(bus, devfn, 0x30, orig, 4)
    ent = {'bar': 'rom', 'offset': '0x30', 'orig': '0x%08x' % orig,
           'readback_after_write_ffffffff': '0x%08x' % rb}
    if rb == 0:
        ent['kind'] = 'unimplemented'
    else:
        ent['kind'] = 'rom'
        ent['size'] = ((~(rb & 0xfffff800)) & 0xffffffff) + 1
    out.append(ent)
    after = q.dump_config(bus, devfn, 256)
    nr = [{'offset': '0x%02x' % o, 'before': '0x%02x' % before[o], 'after': '0x%02x' % after[o]}
          for o in range(256) if before[o] != after[o]]
    return out, nr


def gen_pc_variant(out, variant):
    name, driver, props, plug = variant
    cfgdir = os.path.join(out, 'config')
    rec = {'name': name, 'driver': driver, 'properties': props, 'plug': plug}
    extra = []
    if plug == 'cold':
        cl = props_to_cmdline(driver, dict({'addr': '0x3', 'id': 'dut'}, **props))
        extra = ['-device', cl]
        rec['command_line_device'] = cl
    with Qemu('pc', extra_args=extra) as q:
        if plug.startswith('hot'):
            args = {'driver': driver, 'id': 'dut', 'addr': '0x3'}
            args.update(props)
            req = {'execute': 'device_add', 'arguments': args}
            reply, other = q.qmp(req)
            rec['request'] = json.dumps(req)
            rec['reply'] = reply
            if reply is None or 'error' in json.loads(reply):
                rec['result'] = 'refused'
                rec['qemu_output'] = q.log_text()
                return rec
        if plug == 'hot+reset':
            q.cmd('system_reset')
            q.drain(1.0, quiet=0.3)
        rec['result'] = 'ok'
        data = q.dump_config(0, 0x18, 256)
        header = '00:03.0 %s' % props_to_cmdline(driver, props).replace(',', ' ')
        hex_path = os.path.join(cfgdir, 'pc-%s.hex' % name)
        write_text(hex_path, to_lspci_x(header, data))
        lspci_vvv(hex_path)
        before, raw, nr = probe_masks(q, 0, 0x18)
        if before != data:
            rec['note'] = 'config changed between dump and mask probe'
        bars, bnr = size_bars(q, 0, 0x18)
        write_json(os.path.join(cfgdir, 'pc-%s.masks.json' % name),
                   masks_json(header, before, raw, nr, bars, bnr))
        rec['qemu_output'] = q.log_text()
        rec['mask_probe_restored'] = not nr
        rec['bar_sizing_restored'] = not bnr
    return rec


def gen_pc_builtin(out, b):
    name, devfn, header = b
    cfgdir = os.path.join(out, 'config')
    with Qemu('pc') as q:
        data = q.dump_config(0, devfn, 256)
        hex_path = os.path.join(cfgdir, 'pc-%s.hex' % name)
        write_text(hex_path, to_lspci_x(header, data))
        lspci_vvv(hex_path)
        before, raw, nr = probe_masks(q, 0, devfn)
        bars, bnr = size_bars(q, 0, devfn)
        write_json(os.path.join(cfgdir, 'pc-%s.masks.json' % name),
                   masks_json(header, before, raw, nr, bars, bnr))
        return {'name': name, 'plug': 'builtin', 'result': 'ok', 'qemu_output': q.log_text(),
                'mask_probe_restored': not nr, 'bar_sizing_restored': not bnr}


def gen_q35_builtins(out):
    cfgdir = os.path.join(out, 'config')
    recs = []
    with Qemu('q35') as q:
        for name, devfn, header in Q35_BUILTINS:
            data = q.dump_config(0, devfn, 256)
            hex_path = os.path.join(cfgdir, 'q35-%s.hex' % name)
            write_text(hex_path, to_lspci_x(header, data))
            lspci_vvv(hex_path)
            recs.append({'name': 'q35-' + name, 'plug': 'builtin', 'result': 'ok'})
    return recs


def q35_enable_ecam(q):
    q.cfg_write(0, 0x00, 0x60, ECAM_BASE | 1, 4)   # MCH PCIEXBAR: base, enable
    q.cfg_write(0, 0x20, 0x19, 1, 1)               # root port 00:04.0 secondary bus
    q.cfg_write(0, 0x20, 0x1a, 1, 1)               # subordinate bus


def gen_q35_rootport(out):
    cfgdir = os.path.join(out, 'config')
    with Qemu('q35', extra_args=ROOT_PORT) as q:
        pristine = q.dump_config(0, 0x20, 256)
        hp = os.path.join(cfgdir, 'q35-00_04.0-pcie-root-port.pristine.hex')
        write_text(hp, to_lspci_x('00:04.0 PCI bridge: pcie-root-port', pristine))
        lspci_vvv(hp)
        q35_enable_ecam(q)
        data = q.dump_config(0, 0x20, 4096, ecam_base=ECAM_BASE)
        hp = os.path.join(cfgdir, 'q35-00_04.0-pcie-root-port.hex')
        write_text(hp, to_lspci_x('00:04.0 PCI bridge: pcie-root-port', data))
        lspci_vvv(hp)
    return {'name': 'q35-00_04.0-pcie-root-port', 'plug': 'cold', 'result': 'ok'}


def gen_q35_rp1(out, drv):
    driver, props = drv
    cfgdir = os.path.join(out, 'config')
    rec = {'name': 'q35-rp1-' + driver, 'driver': driver, 'properties': props,
           'plug': 'hot (bus=rp1)'}
    with Qemu('q35', extra_args=ROOT_PORT) as q:
        args = {'driver': driver, 'id': 'dut', 'bus': 'rp1'}
        args.update(props)
        req = {'execute': 'device_add', 'arguments': args}
        reply, _ = q.qmp(req)
        rec['request'] = json.dumps(req)
        rec['reply'] = reply
        if reply is None or 'error' in json.loads(reply):
            rec['result'] = 'refused'
            return rec
        rec['result'] = 'ok'
        q35_enable_ecam(q)
        data = q.dump_config(1, 0x00, 4096, ecam_base=ECAM_BASE)
        hp = os.path.join(cfgdir, 'q35-rp1-%s.hex' % driver)
        header = '01:00.0 %s' % props_to_cmdline(driver, props).replace(',', ' ')
        write_text(hp, to_lspci_x(header, data))
        lspci_vvv(hp)
        rp = q.dump_config(0, 0x20, 4096, ecam_base=ECAM_BASE)
        hp = os.path.join(cfgdir, 'q35-rp1-%s.00_04.0-pcie-root-port.hex' % driver)
        write_text(hp, to_lspci_x('00:04.0 PCI bridge: pcie-root-port (with %s behind it)'
                                  % driver, rp))
        lspci_vvv(hp)
        # how info pci / query-pci show a device behind a bridge whose
        # secondary bus number is set (it is 0, i.e. hidden, until written)
        qdir = os.path.join(out, 'qmp')
        write_text(os.path.join(qdir, 'q35-rp1-%s.secondary-bus-1.info-pci.txt' % driver),
                   q.hmp('info pci').replace('\r\n', '\n'))
        reply, _ = q.qmp({'execute': 'query-pci'})
        write_text(os.path.join(qdir, 'q35-rp1-%s.secondary-bus-1.query-pci.json' % driver),
                   reply + '\n')
        rec['qemu_output'] = q.log_text()
    return rec


def gen_q35_rp1_coldplug(out):
    """virtio-net-pci cold-plugged behind rp1: the port is populated at reset."""
    cfgdir = os.path.join(out, 'config')
    with Qemu('q35', extra_args=ROOT_PORT + ['-device', 'virtio-net-pci,bus=rp1,id=dut']) as q:
        pristine = q.dump_config(0, 0x20, 256)
        hp = os.path.join(cfgdir, 'q35-00_04.0-pcie-root-port.populated-coldplug.pristine.hex')
        write_text(hp, to_lspci_x('00:04.0 PCI bridge: pcie-root-port (virtio-net-pci '
                                  'cold-plugged behind it)', pristine))
        lspci_vvv(hp)
        q35_enable_ecam(q)
        data = q.dump_config(1, 0x00, 4096, ecam_base=ECAM_BASE)
        hp = os.path.join(cfgdir, 'q35-rp1-virtio-net-pci-coldplug.hex')
        write_text(hp, to_lspci_x('01:00.0 virtio-net-pci (cold-plugged)', data))
        lspci_vvv(hp)
        rp = q.dump_config(0, 0x20, 4096, ecam_base=ECAM_BASE)
        hp = os.path.join(cfgdir, 'q35-00_04.0-pcie-root-port.populated-coldplug.hex')
        write_text(hp, to_lspci_x('00:04.0 PCI bridge: pcie-root-port (virtio-net-pci '
                                  'cold-plugged behind it)', rp))
        lspci_vvv(hp)
        return {'name': 'q35-rp1-virtio-net-pci-coldplug', 'plug': 'cold (bus=rp1)',
                'result': 'ok', 'qemu_output': q.log_text()}


def gen_config(out, jobs):
    tasks = []
    for v in pc_variants():
        tasks.append((gen_pc_variant, v))
    for b in PC_BUILTINS:
        tasks.append((gen_pc_builtin, b))
    for d in Q35_RP1_DRIVERS:
        tasks.append((gen_q35_rp1, d))
    tasks.append((gen_q35_rootport, None))
    tasks.append((gen_q35_rp1_coldplug, None))
    tasks.append((gen_q35_builtins, None))
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = []
        for fn, arg in tasks:
            futs.append(ex.submit(fn, out) if arg is None else ex.submit(fn, out, arg))
        for f in futs:
            r = f.result()
            results.extend(r if isinstance(r, list) else [r])
    write_json(os.path.join(out, 'config', 'variants.json'), results)
    return results


# ==================================================================== battery
class Battery:
    """Records {label, request, reply, other_lines_received} per case."""

    def __init__(self, q):
        self.q = q
        self.records = []
        self.live = []   # ids of devices successfully added and not yet deleted
        self.n = 0

    def case(self, label, request, drain=0.0, timeout=None, quiet=None):
        """Send one request; record it.  Well-formed requests get exactly
        one reply, so no draining unless asked (asynchronous events);
        raw text may produce several replies: drain 0.2 s after it."""
        if timeout is None:
            timeout = 10.0 if isinstance(request, dict) else 3.0
        text = request if isinstance(request, str) else json.dumps(request)
        if isinstance(request, str):
            try:
                well_formed = isinstance(json.loads(text), dict)
            except ValueError:
                well_formed = False
            if not well_formed:
                drain = max(drain, 0.2)
        reply, other = self.q.qmp(text, timeout=timeout, drain=drain, quiet=quiet)
        self.records.append({'label': label, 'request': text, 'reply': reply,
                             'other_lines_received': [norm_ts(x) for x in other]})
        return json.loads(reply) if reply else None

    def add(self, label, driver=None, _id=None, **props):
        args = {}
        if driver is not None:
            args['driver'] = driver
        if _id is not None:
            args['id'] = _id
        args.update(props)
        return self.add_args(label, args)

    def add_args(self, label, args):
        r = self.case(label, {'execute': 'device_add', 'arguments': args})
        if r is not None and 'return' in r:
            did = args.get('id')
            self.live.append(did if isinstance(did, str) and did else None)
        return r

    def hmp(self, label, line, drain=0.0, quiet=None):
        return self.case(label, {'execute': 'human-monitor-command',
                                 'arguments': {'command-line': line}}, drain=drain, quiet=quiet)

    def existing(self, ids):
        """Which of ids exist under /machine/peripheral (not recorded)."""
        have = {x['name'] for x in self.q.cmd('qom-list', path='/machine/peripheral')}
        return [i for i in ids if i in have]

    def reset(self, label='system_reset'):
        # RESET comes with the reply, DEVICE_DELETED events some ms later
        return self.case(label, {'execute': 'system_reset'}, drain=2.0, quiet=0.3)

    def cleanup(self, why):
        """device_del every live device, then system_reset (completes them)."""
        anon = 0
        named = [d for d in self.live if d is not None]
        anon = len(self.live) - len(named)
        for did in self.existing(named):
            self.case('cleanup (%s): device_del %s' % (why, did),
                      {'execute': 'device_del', 'arguments': {'id': did}})
        if anon:
            # anonymous devices: delete through /machine/peripheral-anon
            r = self.q.cmd('qom-list', path='/machine/peripheral-anon')
            for p in sorted(x['name'] for x in r if x['type'].startswith('child<')):
                self.case('cleanup (%s): device_del anon %s' % (why, p),
                          {'execute': 'device_del',
                           'arguments': {'id': '/machine/peripheral-anon/' + p}})
        self.live = []
        self.reset('cleanup (%s): system_reset' % why)


def D(driver, **kw):
    """device_add arguments helper: D('e1000', id='x', addr='3')."""
    a = {'driver': driver}
    a.update(kw)
    return a


def load_reference_errors():
    path = os.path.join(SHARED_REF, 'qmp', 'pc_errors.results.jsonl')
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def battery_pc(out):
    qmpdir = os.path.join(out, 'qmp')
    q = Qemu('pc', extra_args=NULL1)
    try:
        B = Battery(q)
        add = B.add_args
        dev_del = lambda label, args: B.case(label, {'execute': 'device_del', 'arguments': args})

        # ---- 1. replay of the shared reference pc_errors battery (overlap check)
        for rec in load_reference_errors():
            req = rec['request']
            r = B.case('pc_errors: ' + rec['label'], req)
            try:
                obj = json.loads(req)
            except ValueError:
                obj = None
            if (isinstance(obj, dict) and obj.get('execute') == 'device_add' and r
                    and 'return' in r):
                B.live.append(obj['arguments'].get('id'))
            if (isinstance(obj, dict) and obj.get('execute') == 'device_del' and r
                    and 'return' in r):
                did = obj['arguments']['id'].rsplit('/', 1)[-1]
                if did in B.live:
                    B.live.remove(did)
        B.cleanup('after pc_errors replay')
        B.hmp('info pci after cleanup (bare bus)', 'info pci')

        # ---- 2. QMP protocol
        B.case('query-version', {'execute': 'query-version'})
        B.case('query-status', {'execute': 'query-status'})
        B.case('query-commands', {'execute': 'query-commands'})
        B.case('query-machines', {'execute': 'query-machines'})
        B.case('qmp_capabilities again', {'execute': 'qmp_capabilities'})
        B.case('qmp_capabilities again with enable []',
               {'execute': 'qmp_capabilities', 'arguments': {'enable': []}})
        B.case('unknown command', {'execute': 'nosuchcmd'})
        B.case('missing execute', {'arguments': {}})
        B.case('missing execute, only id', {'id': 1})
        B.case('empty object', {})
        B.case('execute not a string (int)', {'execute': 1})
        B.case('execute not a string (null)', {'execute': None})
        B.case('execute not a string (list)', {'execute': ['query-status']})
        B.case('execute empty string', {'execute': ''})
        B.case('arguments not an object (list)', {'execute': 'query-pci', 'arguments': []})
        B.case('arguments not an object (string)', {'execute': 'query-pci', 'arguments': 'x'})
        B.case('arguments not an object (null)', {'execute': 'query-pci', 'arguments': None})
        B.case('unexpected top-level key', {'execute': 'query-status', 'foo': 1})
        B.case('unexpected top-level key before execute', {'foo': 1, 'execute': 'query-status'})
        B.case('exec-oob without oob capability', {'exec-oob': 'query-status'})
        B.case('unexpected argument to query-pci', {'execute': 'query-pci', 'arguments': {'x': 1}})
        B.case('query-pci arguments {}', {'execute': 'query-pci', 'arguments': {}})
        B.case('id echo: string', {'execute': 'query-status', 'id': 'req-1'})
        B.case('id echo: int', {'execute': 'query-status', 'id': 42})
        B.case('id echo: object', {'execute': 'query-status', 'id': {'a': [1, 'b']}})
        B.case('id echo: null', {'execute': 'query-status', 'id': None})
        B.case('id echo: float', {'execute': 'query-status', 'id': 1.5})
        B.case('id echo: bool', {'execute': 'query-status', 'id': True})
        B.case('id echo on error', {'execute': 'nosuchcmd', 'id': 'e-1'})
        B.case('id echo on missing execute', {'id': 'e-2', 'arguments': {}})
        B.case('id echo on bad arguments', {'execute': 'query-pci', 'arguments': [], 'id': 'e-3'})
        B.case('device_del id=5 (int)', {'execute': 'device_del', 'arguments': {'id': 5}})
        B.case('device_del id=true', {'execute': 'device_del', 'arguments': {'id': True}})
        B.case('device_del id=null', {'execute': 'device_del', 'arguments': {'id': None}})
        B.case('human-monitor-command command-line=5',
               {'execute': 'human-monitor-command', 'arguments': {'command-line': 5}})
        B.case('human-monitor-command cpu-index="0"',
               {'execute': 'human-monitor-command',
                'arguments': {'command-line': 'info pci', 'cpu-index': '0'}})
        B.case('human-monitor-command cpu-index=99',
               {'execute': 'human-monitor-command',
                'arguments': {'command-line': 'info version', 'cpu-index': 99}})
        B.case('human-monitor-command missing command-line',
               {'execute': 'human-monitor-command', 'arguments': {}})
        B.case('device_add driver=5', {'execute': 'device_add', 'arguments': {'driver': 5}})
        B.case('device_add arguments not object', {'execute': 'device_add', 'arguments': []})
        B.case('query-pci extra arg and id', {'execute': 'query-pci', 'arguments': {'bus': 0},
                                              'id': 7})
        B.case('raw: missing value', '{"execute": }')
        B.case('raw: wrong closer', '{"execute": "query-status"]')
        B.case('raw: not json', 'hello')
        B.case('raw: extra closing brace', '{"execute": "query-status"}}')
        B.case('raw: two objects on one line',
               '{"execute": "query-status"}{"execute": "query-version"}')
        B.case('raw: array', '[1]')
        B.case('raw: string', '"abc"')
        B.case('raw: number', '5')
        B.case('raw: null', 'null')
        B.case('raw: single-quoted', "{'execute': 'query-status'}")
        B.case('raw: object split by newline', '{"execute": "query-status"\n}')
        B.case('raw: trailing comma', '{"execute": "query-status",}')
        B.case('raw: duplicate key', '{"execute": "nosuchcmd", "execute": "query-status"}')
        B.case('raw: unterminated string then closing',
               '{"execute": "query-status\n"}')
        B.case('raw: bad escape', '{"execute": "query-\\qstatus"}')
        B.case('raw: unicode escape', '{"execute": "query-\\u0073tatus"}')
        B.case('raw: integer overflow id',
               '{"execute": "query-status", "id": 123456789012345678901234567890}')
        B.case('raw: CRLF terminated', '{"execute": "query-status"}\r')

        # ---- 3. addr forms (JSON strings and other JSON types)
        addr_round1 = ['5', '06.0', '0x07', '1f', '0x3.1', '0x', '-1', '+1d', '1c.', '1b.0x1',
                       '0X1e', '3.8', '20', '0x20', '0x1f.7', '0a.', '.1', '', '0x3.', 'g',
                       '0x0b.0x2', '12.03', '0x1_0']
        def add_addr(label, args):
            r = add(label, args)
            if r is not None and 'return' in r and isinstance(args.get('id'), str):
                B.case('qom-get %s.addr' % args['id'], {'execute': 'qom-get', 'arguments': {
                    'path': '/machine/peripheral/' + args['id'], 'property': 'addr'}})

        for i, a in enumerate(addr_round1):
            add_addr('addr %r' % a, D('e1000', id='ad%d' % i, addr=a))
        addr_json = [('JSON number 1.5', 1.5), ('JSON int 9', 9), ('JSON int 16', 16),
                     ('JSON int 0', 0), ('JSON int -1', -1), ('JSON int 256', 256),
                     ('JSON int 255', 255), ('JSON true', True), ('JSON false', False),
                     ('JSON null', None), ('JSON []', []), ('JSON {}', {})]
        for i, (lab, a) in enumerate(addr_json):
            add_addr('addr %s' % lab, D('e1000', id='aj%d' % i, addr=a))
        B.cleanup('addr round 1')
        add_addr("addr ' 5'", D('e1000', id='as1', addr=' 5'))
        add_addr('addr JSON int 31', D('e1000', id='as2', addr=31))
        add_addr('addr JSON int 248 (0x1f.0 as devfn)', D('e1000', id='as6', addr=248))
        add_addr("addr '0X0d'", D('e1000', id='as3', addr='0X0d'))
        add_addr("addr '0x1F'", D('e1000', id='as7', addr='0x1F'))
        B.cleanup('addr round 2')
        add_addr("addr '5 '", D('e1000', id='as4', addr='5 '))
        add_addr("addr '0xd '", D('e1000', id='as5', addr='0xd '))
        add_addr("addr '1f.7'", D('e1000', id='as8', addr='1f.7'))
        add_addr("addr '0x1e.0x7'", D('e1000', id='as9', addr='0x1e.0x7'))
        B.cleanup('addr round 3')

        # ---- 4. property value types
        for i, v in enumerate(['maybe', 'ON', 'yes', 'y', 'true', 'no', 'n', 'false', 'off',
                               'on', 'On', '1', '0', '', True, False, 1, None]):
            add('bool multifunction=%s' % json.dumps(v), D('e1000', id='bo%d' % i, multifunction=v))
        B.cleanup('bool')
        for i, v in enumerate(['abc', '-1', '99999999999', '0x10', '010', ' 5', '5 ', '',
                               '4294967295', '4294967296', '2048', '2049', '+5', '5k',
                               '1e3', 5, -1, 4294967296, 2.5, True]):
            add('uint32 vectors=%s' % json.dumps(v), D('virtio-net-pci', id='ve%d' % i, vectors=v))
            if i % 8 == 7:
                B.cleanup('uint32 part')
        B.cleanup('uint32')
        for i, v in enumerate(['maybe', 'auto', 'on', 'off', 'ON', 'Auto', 'yes', 'true', '',
                               True, False, 1]):
            add('OnOffAuto disable-legacy=%s' % json.dumps(v),
                D('virtio-net-pci', id='ol%d' % i, **{'disable-legacy': v}))
        B.cleanup('OnOffAuto')
        for i, v in enumerate(['52:54:00:12:34:56', '52:54:00:AA:BB:CC', '52-54-00-12-34-56',
                               '525400123456', '52:54:00:12:34', '52:54:00:12:34:56:78',
                               '01:00:5e:00:00:01', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff',
                               'zz:zz', '', '52:54:0:1:2:3', '52:54:00:12:34:5g',
                               '52:54:00:12:34:56 ', ' 52:54:00:12:34:56', 5]):
            add('mac %s' % json.dumps(v), D('e1000', id='ma%d' % i, mac=v))
            if i % 8 == 7:
                B.cleanup('mac part')
        B.cleanup('mac')
        add('rombar=x', D('e1000', id='rb0', rombar='x'))
        add('rombar=0 (hotplug)', D('e1000', id='rb1', rombar='0'))
        add('rombar=0 romfile="" (hotplug)', D('e1000', id='rb2', rombar='0', romfile=''))
        add('rombar=1', D('e1000', id='rb3', rombar='1'))
        add('rombar=2', D('e1000', id='rb4', rombar='2'))
        add('rombar=-1', D('e1000', id='rb5', rombar='-1'))
        add('romfile=/nonexist', D('e1000', id='rf0', romfile='/nonexist'))
        add('romfile=nonexist.rom (relative)', D('e1000', id='rf1', romfile='nonexist.rom'))
        add('romfile=/dev/null (empty file)', D('e1000', id='rf2', romfile='/dev/null'))
        add('romfile=/ (directory)', D('e1000', id='rf3', romfile='/'))
        add('romsize=1000', D('e1000', id='rs0', romsize='1000'))
        add('romsize=4096', D('e1000', id='rs1', romsize='4096'))
        add('romsize=4096 romfile=""', D('e1000', id='rs2', romsize='4096', romfile=''))
        add('romsize=1048576', D('e1000', id='rs3', romsize='1048576'))
        add('romsize=0', D('e1000', id='rs4', romsize='0'))
        B.cleanup('rom')
        add('unknown property', D('e1000', id='up0', foo='1'))
        add('unknown property (virtio-net-pci)', D('virtio-net-pci', id='up1', nosuchprop='1'))
        add('property of another device (e1000 vectors)', D('e1000', id='up2', vectors='2'))
        add('property name case (MAC)', D('e1000', id='up3', MAC='52:54:00:12:34:56'))
        add('read-only/internal property (type)', D('e1000', id='up4', type='e1000'))
        add('internal child (virtio-net-pci virtio-backend)',
            D('virtio-net-pci', id='up5', **{'virtio-backend': 'x'}))
        add('legacy-addr? (x-pcie-lnksta-dllla on pc)',
            D('e1000', id='up6', **{'x-pcie-lnksta-dllla': 'off'}))
        add('host_mtu=abc', D('virtio-net-pci', id='up7', host_mtu='abc'))
        add('host_mtu=67', D('virtio-net-pci', id='up8', host_mtu='67'))
        add('num-queues=0 (virtio-blk)', D('virtio-blk-pci', id='up9', drive='null1',
                                           **{'num-queues': '0'}))
        B.cleanup('props')

        # ---- 5. drivers
        add('unknown driver', D('nosuchdev', id='dr0'))
        add('driver empty string', D('', id='dr1'))
        for i, d in enumerate(['pci-device', 'virtio-pci', 'device', 'virtio-net-pci-base',
                               'virtio-device', 'virtio-blk-pci-base', 'pci-bridge-dev-x',
                               'e1000-base']):
            add('abstract/odd driver %s' % d, D(d, id='ab%d' % i))
        for i, d in enumerate(['usb-tablet', 'virtio-net-device', 'isa-serial', 'ide-hd',
                               'pc-dimm', 'virtio-blk-device']):
            add('non-PCI %s' % d, D(d, id='nd%d' % i))
        for i, d in enumerate(['i440FX', 'PIIX3', 'piix3-ide', 'PIIX4_PM', 'piix4-ide',
                               'ich9-ahci', 'i440FX-pcihost']):
            add('non-pluggable %s' % d, D(d, id='np%d' % i))
        add('ide-hd after ich9-ahci (np5) was hot-added', D('ide-hd', id='nd6', drive='null1'))
        add('driver name case (E1000)', D('E1000', id='dr2'))
        add('driver alias virtio-net', D('virtio-net', id='dr3'))
        add('driver alias e1000-82540em', D('e1000-82540em', id='dr4'))
        add('transitional driver virtio-net-pci-transitional',
            D('virtio-net-pci-transitional', id='dr5'))
        add('non-transitional driver virtio-net-pci-non-transitional',
            D('virtio-net-pci-non-transitional', id='dr6'))
        B.cleanup('drivers')

        # ---- 6. bus names
        add('bus pci.0', D('e1000', id='bu0', bus='pci.0'))
        add('bus pci.1', D('e1000', id='bu1', bus='pci.1'))
        add('bus isa.0', D('e1000', id='bu2', bus='isa.0'))
        add('bus ide.0', D('e1000', id='bu3', bus='ide.0'))
        add('bus nosuch', D('e1000', id='bu4', bus='nosuch'))
        add('bus empty string', D('e1000', id='bu5', bus=''))
        add('bus QOM path /machine/i440fx/pci.0', D('e1000', id='bu6', bus='/machine/i440fx/pci.0'))
        add('bus PCI.0 (case)', D('e1000', id='bu7', bus='PCI.0'))
        add('bus JSON int 0', D('e1000', id='bu8', bus=0))
        add('bus isa.0 for isa-serial', D('isa-serial', id='bu9', bus='isa.0'))
        B.cleanup('bus')

        # ---- 7. id forms
        for i, (lab, v) in enumerate([('valid', 'ok_id'), ('"1bad"', '1bad'), ('""', ''),
                                      ('"a b"', 'a b'), ('"a.b-c_d"', 'a.b-c_d'), ('"-x"', '-x'),
                                      ('JSON int 5', 5), ('"_x"', '_x'), ('"x/y"', 'x/y'),
                                      ('"é"', 'é'), ('JSON null', None), ('JSON true', True),
                                      ('200-char', 'a' * 200)]):
            add('id %s' % lab, D('e1000', id=v))
        add('duplicate id ok_id', D('e1000', id='ok_id'))
        add('duplicate id (different driver)', D('virtio-net-pci', id='ok_id'))
        add('duplicate id of 200-char', D('e1000', id='a' * 200))
        add('no id (anonymous)', D('e1000'))
        B.cleanup('id')

        # ---- 8. ordering of checks
        add('setup occ3 @0x3', D('e1000', id='occ3', addr='0x3'))
        add('order: bad id + unknown driver', D('nosuchdev', id='1bad'))
        add('order: duplicate id + bad addr', D('e1000', id='occ3', addr='zz'))
        add('order: duplicate id + unknown driver', D('nosuchdev', id='occ3'))
        add('order: duplicate id + unknown property', D('e1000', id='occ3', foo='1'))
        add('order: duplicate id + occupied addr', D('e1000', id='occ3', addr='0x3'))
        add('order: bad bus + bad addr', D('e1000', id='o1', bus='nosuch', addr='zz'))
        add('order: bad bus + unknown property', D('e1000', id='o2', bus='nosuch', foo='1'))
        add('order: unknown prop + occupied addr', D('e1000', id='o3', foo='1', addr='0x3'))
        add('order: occupied addr + unknown prop (key order swapped)',
            {'addr': '0x3', 'foo': '1', 'driver': 'e1000', 'id': 'o3b'})
        add('order: bad addr + unknown prop', D('e1000', id='o4', addr='zz', foo='1'))
        add('order: unknown prop + bad addr', {'driver': 'e1000', 'id': 'o4b', 'foo': '1',
                                               'addr': 'zz'})
        add('order: bad mac + bad addr', D('e1000', id='o5', mac='zz', addr='zz'))
        add('order: bad addr + bad mac', {'driver': 'e1000', 'id': 'o5b', 'addr': 'zz',
                                          'mac': 'zz'})
        add('order: bad mac + occupied addr', D('e1000', id='o6', mac='zz', addr='0x3'))
        add('order: rombar=0 + occupied addr', D('e1000', id='o7', rombar='0', addr='0x3'))
        add('order: romfile=/nonexist + occupied addr',
            D('e1000', id='o8', romfile='/nonexist', addr='0x3'))
        add('order: missing drive + occupied addr', D('virtio-blk-pci', id='o9', addr='0x3'))
        add('order: missing drive + bad addr', D('virtio-blk-pci', id='o10', addr='zz'))
        add('order: drive=nosuch + occupied addr',
            D('virtio-blk-pci', id='o11', drive='nosuch', addr='0x3'))
        add('order: drive=nosuch', D('virtio-blk-pci', id='o12', drive='nosuch'))
        add('order: abstract driver + bad id', D('pci-device', id='1bad'))
        add('order: non-pluggable + bad id', D('PIIX3', id='1bad'))
        add('order: non-pluggable + duplicate id', D('PIIX3', id='occ3'))
        add('order: non-pluggable + occupied addr', D('PIIX3', id='o13', addr='0x3'))
        add('order: non-PCI + bad addr', D('usb-tablet', id='o14', addr='zz'))
        add('order: bad bus + non-PCI', D('usb-tablet', id='o15', bus='pci.0'))
        add('order: fn>0 bad multifunction + bad vectors',
            D('virtio-net-pci', id='o16', multifunction='maybe', vectors='abc'))
        add('order: bad vectors + bad multifunction',
            {'driver': 'virtio-net-pci', 'id': 'o17', 'vectors': 'abc', 'multifunction': 'maybe'})
        add('virtio-blk drive=null0 @0x4', D('virtio-blk-pci', id='blkA', drive='null0',
                                             addr='0x4'))
        add('virtio-blk drive=null0 again (in use)', D('virtio-blk-pci', id='blkB',
                                                       drive='null0'))
        add('virtio-blk drive=null0 again + occupied addr',
            D('virtio-blk-pci', id='blkB2', drive='null0', addr='0x3'))
        add('virtio-blk drive=null1 (free)', D('virtio-blk-pci', id='blkC', drive='null1'))
        add('e1000 with drive property', D('e1000', id='o18', drive='null0'))
        B.cleanup('ordering')
        add('virtio-blk drive=null0 after its user was removed',
            D('virtio-blk-pci', id='blkD', drive='null0'))
        B.cleanup('drive reuse')

        # ---- 9. multifunction matrix
        add('mf1: fn1 before fn0 (0xa.1)', D('e1000', id='m1f1', addr='0xa.1'))
        add('mf1: then fn0 without multifunction', D('e1000', id='m1f0a', addr='0xa.0'))
        add('mf1: then fn0 multifunction=off', D('e1000', id='m1f0b', addr='0xa.0',
                                                 multifunction='off'))
        add('mf1: then fn0 multifunction=on', D('e1000', id='m1f0', addr='0xa.0',
                                                multifunction='on'))
        add('mf1: then fn2 after fn0', D('e1000', id='m1f2', addr='0xa.2'))
        add('mf2: fn0 multifunction=on (0xb.0)', D('e1000', id='m2f0', addr='0xb.0',
                                                   multifunction='on'))
        add('mf2: then fn1', D('e1000', id='m2f1', addr='0xb.1'))
        add('mf2: then fn1 multifunction=on', D('e1000', id='m2f1b', addr='0xb.1',
                                                multifunction='on'))
        add('mf3: fn0 without multifunction (0xc.0)', D('e1000', id='m3f0', addr='0xc.0'))
        add('mf3: then fn1', D('e1000', id='m3f1', addr='0xc.1'))
        add('mf3: then fn1 multifunction=on', D('e1000', id='m3f1b', addr='0xc.1',
                                                multifunction='on'))
        add('mf4: fn1 (0xd.1)', D('e1000', id='m4f1', addr='0xd.1'))
        add('mf4: fn2', D('virtio-net-pci', id='m4f2', addr='0xd.2'))
        add('mf4: fn2 again (occupied function)', D('e1000', id='m4f2b', addr='0xd.2'))
        add('mf4: fn0 multifunction=on', D('e1000', id='m4f0', addr='0xd.0', multifunction='on'))
        add('mf5: multifunction=on on fn1 (0xe.1)', D('e1000', id='m5f1', addr='0xe.1',
                                                      multifunction='on'))
        add('mf5: then fn0 without multifunction', D('e1000', id='m5f0a', addr='0xe.0'))
        add('mf5: then fn0 multifunction=on', D('e1000', id='m5f0', addr='0xe.0',
                                                multifunction='on'))
        add('mf6: fn7 only (0xf.7)', D('e1000', id='m6f7', addr='0xf.7'))
        add('mf6: fn3 multifunction=off', D('e1000', id='m6f3', addr='0xf.3',
                                            multifunction='off'))
        add('auto placement #1 (lowest free fn0)', D('e1000', id='au1'))
        add('mf7: fn1 of the lowest free slot (0x3.1)', D('e1000', id='m7f1', addr='0x3.1'))
        add('auto placement #2 (slot 3 has only fn1)', D('e1000', id='au2'))
        add('auto placement #3 multifunction=on', D('e1000', id='au3', multifunction='on'))
        add('auto placement #4 virtio-net', D('virtio-net-pci', id='au4'))
        B.case('qom-get au1.addr', {'execute': 'qom-get', 'arguments': {
            'path': '/machine/peripheral/au1', 'property': 'addr'}})
        B.case('qom-get au2.addr', {'execute': 'qom-get', 'arguments': {
            'path': '/machine/peripheral/au2', 'property': 'addr'}})
        B.case('qom-get au3.addr', {'execute': 'qom-get', 'arguments': {
            'path': '/machine/peripheral/au3', 'property': 'addr'}})
        B.case('qom-get au4.addr', {'execute': 'qom-get', 'arguments': {
            'path': '/machine/peripheral/au4', 'property': 'addr'}})
        B.case('qom-get m4f0.multifunction', {'execute': 'qom-get', 'arguments': {
            'path': '/machine/peripheral/m4f0', 'property': 'multifunction'}})
        B.hmp('info pci (multifunction matrix)', 'info pci')
        B.case('query-pci (multifunction matrix)', {'execute': 'query-pci'})
        # device_del of functions in multifunction slots
        dev_del('mf: device_del only fn1 of slot 0xa (m1f1)', {'id': 'm1f1'})
        dev_del('mf: device_del only fn0 of slot 0xd (m4f0)', {'id': 'm4f0'})
        dev_del('mf: device_del fn1 of slot 0xe (m5f1)', {'id': 'm5f1'})
        dev_del('mf: then fn0 of slot 0xe (m5f0)', {'id': 'm5f0'})
        dev_del('mf: device_del fn7 of slot 0xf (no fn0) (m6f7)', {'id': 'm6f7'})
        B.reset('mf: system_reset (which functions go with the deleted ones?)')
        B.case('mf: qom-list /machine/peripheral after reset',
               {'execute': 'qom-list', 'arguments': {'path': '/machine/peripheral'}})
        B.hmp('mf: info pci after reset', 'info pci')
        B.cleanup('multifunction matrix')

        # ---- 10. device_del forms
        add('setup dd1', D('e1000', id='dd1'))
        add('setup dd2', D('virtio-net-pci', id='dd2'))
        add('setup anonymous e1000', D('e1000'))
        dev_del('device_del valid id', {'id': 'dd1'})
        dev_del('device_del same id again (pending)', {'id': 'dd1'})
        dev_del('device_del ""', {'id': ''})
        dev_del('device_del /machine/peripheral', {'id': '/machine/peripheral'})
        dev_del('device_del /machine/peripheral/', {'id': '/machine/peripheral/'})
        dev_del('device_del /machine/peripheral/dd2', {'id': '/machine/peripheral/dd2'})
        dev_del('device_del dd2 after QOM path', {'id': 'dd2'})
        dev_del('device_del /nosuch', {'id': '/nosuch'})
        dev_del('device_del nosuch', {'id': 'nosuch'})
        dev_del('device_del /machine', {'id': '/machine'})
        dev_del('device_del /', {'id': '/'})
        anon = sorted(x['name'] for x in q.cmd('qom-list', path='/machine/peripheral-anon')
                      if x['type'].startswith('child<'))
        dev_del('device_del anonymous by QOM path /machine/peripheral-anon/%s' % anon[-1],
                {'id': '/machine/peripheral-anon/' + anon[-1]})
        dev_del('device_del same anonymous path again',
                {'id': '/machine/peripheral-anon/' + anon[-1]})
        dev_del('device_del /machine/peripheral-anon/device[999]',
                {'id': '/machine/peripheral-anon/device[999]'})
        dev_del('device_del virtio-backend child path',
                {'id': '/machine/peripheral/dd2/virtio-backend'})
        dev_del('device_del partial path peripheral/dd1', {'id': 'peripheral/dd1'})
        dev_del('device_del JSON int', {'id': 5})
        dev_del('device_del extra argument', {'id': 'dd1', 'force': True})
        B.case('device_del missing id', {'execute': 'device_del'})
        B.case('device_del arguments {}', {'execute': 'device_del', 'arguments': {}})
        dev_del('device_del builtin PIIX4_PM by QOM path', {'id': '/machine/unattached/device[18]'})
        dev_del('device_del bus path /machine/i440fx/pci.0', {'id': '/machine/i440fx/pci.0'})
        B.live = []
        B.reset('system_reset after device_del forms')

        # ---- 11. HMP
        B.hmp('hmp: info pci', 'info pci')
        B.hmp('hmp: "info  pci" (two spaces)', 'info  pci')
        B.hmp('hmp: info pci extra', 'info pci extra')
        B.hmp('hmp: info', 'info')
        B.hmp('hmp: info nosuch', 'info nosuch')
        B.hmp('hmp: device_add e1000,id=h1', 'device_add e1000,id=h1')
        B.hmp('hmp: device_add e1000,id=h1 duplicate', 'device_add e1000,id=h1')
        B.hmp('hmp: device_add (no args)', 'device_add')
        B.hmp('hmp: device_add nosuch', 'device_add nosuch')
        B.hmp('hmp: device_add e1000,foo', 'device_add e1000,foo')
        B.hmp('hmp: device_add e1000,,id=x', 'device_add e1000,,id=x')
        B.hmp('hmp: device_add e1000,id=h2 extra', 'device_add e1000,id=h2 extra')
        B.hmp('hmp: device_add e1000,addr=zz', 'device_add e1000,id=h3,addr=zz')
        B.hmp('hmp: device_add driver=e1000,id=h4', 'device_add driver=e1000,id=h4')
        B.hmp('hmp: device_add e1000,id=h5,multifunction=maybe',
              'device_add e1000,id=h5,multifunction=maybe')
        B.hmp('hmp: device_add help', 'device_add help')
        B.hmp('hmp: device_add e1000,help', 'device_add e1000,help')
        B.hmp('hmp: device_del', 'device_del')
        B.hmp('hmp: device_del h1', 'device_del h1')
        B.hmp('hmp: device_del h1 again', 'device_del h1')
        B.hmp('hmp: device_del nosuch', 'device_del nosuch')
        B.hmp('hmp: device_del h1 extra', 'device_del h1 extra')
        B.hmp('hmp: help device_add', 'help device_add')
        B.hmp('hmp: help device_del', 'help device_del')
        B.hmp('hmp: help info', 'help info')
        B.hmp('hmp: ""', '')
        B.hmp('hmp: "   "', '   ')
        B.hmp('hmp: nosuchcmd', 'nosuchcmd')
        B.hmp('hmp: info version', 'info version')
        B.hmp('hmp: info qtree', 'info qtree')
        B.hmp('hmp: system_reset', 'system_reset', drain=2.0, quiet=0.3)
        B.case('query-status after hmp system_reset', {'execute': 'query-status'})
        for did in B.existing(['h1', 'h2', 'h3', 'h4', 'h5', 'x']):
            dev_del('cleanup (hmp): device_del %s' % did, {'id': did})
        B.reset('cleanup (hmp): system_reset')

        # ---- 12. device_del of fn0 in a multifunction slot, re-add, reset
        add('final: fn1 @0x5.1', D('e1000', id='fm1', addr='0x5.1'))
        add('final: fn2 @0x5.2', D('virtio-blk-pci', id='fm2', addr='0x5.2', drive='null1'))
        add('final: fn0 multifunction @0x5.0', D('virtio-net-pci', id='fm0', addr='0x5.0',
                                                 multifunction='on'))
        add('final: plain e1000 @0x6', D('e1000', id='fe6', addr='0x6'))
        B.hmp('final: info pci before device_del', 'info pci')
        dev_del('final: device_del fn0 of slot 5 (fm0)', {'id': 'fm0'})
        add('final: re-add fn0 into slot 5 while pending', D('e1000', id='fr0', addr='0x5.0',
                                                             multifunction='on'))
        add('final: re-add fn3 into slot 5 while pending', D('e1000', id='fr3', addr='0x5.3'))
        add('final: re-add same id fm0 elsewhere', D('e1000', id='fm0', addr='0x7'))
        B.case('final: query-pci before reset', {'execute': 'query-pci'})
        B.reset('final: system_reset (completes pending removals)')
        B.case('final: query-pci after reset', {'execute': 'query-pci'})
        add('final: fn1 into slot 5 after reset', D('e1000', id='fr1', addr='0x5.1'))
        add('final: re-add fn0 into slot 5 after reset', D('e1000', id='fr0', addr='0x5.0',
                                                           multifunction='on'))
        add('final: re-add id fm0 after reset', D('e1000', id='fm0', addr='0x7'))
        info = B.hmp('final: info pci', 'info pci')
        last = B.case('final: query-pci', {'execute': 'query-pci'})

        # sanity: no stray output left
        stray = q.drain(0.3)
        if stray:
            raise RuntimeError('stray QMP output at end of battery: %r' % stray)

        with open(os.path.join(qmpdir, 'pc-battery.results.jsonl'), 'w') as f:
            for r in B.records:
                f.write(json.dumps(r) + '\n')
        write_text(os.path.join(qmpdir, 'pc-battery.info-pci.txt'),
                   info['return'].replace('\r\n', '\n'))
        write_text(os.path.join(qmpdir, 'pc-battery.query-pci.json'),
                   B.records[-1]['reply'] + '\n')
        return B.records, q.log_text()
    finally:
        q.close()


def battery_q35(out):
    qmpdir = os.path.join(out, 'qmp')
    with Qemu('q35', extra_args=ROOT_PORT + NULL1) as q:
        B = Battery(q)
        add = B.add_args
        ddel = lambda label, did: B.case(label, {'execute': 'device_del',
                                                 'arguments': {'id': did}}, drain=0.2)
        qget = lambda did: B.case('qom-get %s.addr' % did, {'execute': 'qom-get', 'arguments': {
            'path': '/machine/peripheral/' + did, 'property': 'addr'}})
        add('pcie.0: e1000 without addr', D('e1000', id='q0'))
        add('pcie.0: e1000 addr=5', D('e1000', id='q1', addr='5'))
        add('pcie.0: e1000 bus=pcie.0 addr=0x6', D('e1000', id='q2', bus='pcie.0', addr='0x6'))
        add('pcie.0: occupied addr 0x1f', D('e1000', id='q3', addr='0x1f'))
        add('pcie.0: bad addr zz', D('e1000', id='q3b', addr='zz'))
        add('pcie.0: unknown property', D('e1000', id='q3c', foo='1'))
        add('pcie.0: e1000e', D('e1000e', id='q3d'))
        add('pcie.0: pcie-root-port hotplug', D('pcie-root-port', id='rp2', chassis=2, slot=2))
        add('bus=nosuch', D('e1000', id='q4', bus='nosuch'))
        add('bus=nosuch + bad addr', D('e1000', id='q4b', bus='nosuch', addr='zz'))
        add('bus=pci.0 (no such bus on q35)', D('e1000', id='q5', bus='pci.0'))
        add('duplicate id rp1 (the root port)', D('e1000', id='rp1', bus='rp1'))
        # --- one device behind rp1
        add('rp1: e1000 (no addr -> slot 0)', D('e1000', id='r0', bus='rp1'))
        qget('r0')
        add('rp1: addr=2 while slot 0 is used (explicit addr)',
            D('e1000', id='r2', bus='rp1', addr='2'))
        add('rp1: addr=0x0.1 (fn1, fn0 not multifunction)',
            D('e1000', id='r3', bus='rp1', addr='0x0.1'))
        add('rp1: addr=0 (occupied)', D('e1000', id='r4', bus='rp1', addr='0'))
        add('rp1: unknown prop + addr=2', D('e1000', id='r5', bus='rp1', addr='2', foo='1'))
        add('rp1: bus typo rp2', D('e1000', id='r6', bus='rp2'))
        add('rp1: second device without addr (auto placement)', D('e1000', id='r1', bus='rp1'))
        qget('r1')
        add('rp1: third device without addr', D('e1000e', id='r1b', bus='rp1'))
        qget('r1b')
        add('rp1: addr=1 (now occupied)', D('e1000', id='r2b', bus='rp1', addr='1'))
        B.hmp('info pci (rp1 secondary bus still 0)', 'info pci')
        ddel('device_del r0 (behind rp1)', 'r0')
        ddel('device_del r0 again while pending', 'r0')
        add('rp1: add at addr=0 while r0 unplug pending', D('e1000', id='r7', bus='rp1', addr='0'))
        B.case('query-pci (r0 pending)', {'execute': 'query-pci'})
        B.reset('system_reset (completes r0 removal)')
        for did in B.existing(['r1', 'r1b']):
            ddel('cleanup: device_del %s' % did, did)
        B.reset('cleanup: system_reset')
        # --- empty root port: explicit slot != 0
        add('rp1 empty: addr=3 (nothing at slot 0)', D('e1000', id='s3', bus='rp1', addr='3'))
        add('rp1: then addr=0 while slot 3 used', D('e1000', id='s0', bus='rp1', addr='0'))
        add('rp1: then addr=4 (slot 0 now used)', D('e1000', id='s4', bus='rp1', addr='4'))
        for did in B.existing(['s3', 's0', 's4']):
            ddel('cleanup: device_del %s' % did, did)
        B.reset('cleanup: system_reset')
        # --- multifunction behind the root port
        add('rp1 mf: fn1 first (0x0.1)', D('e1000', id='m1', bus='rp1', addr='0x0.1'))
        add('rp1 mf: fn2 (0x0.2)', D('virtio-net-pci', id='m2', bus='rp1', addr='0x0.2'))
        add('rp1 mf: fn0 without multifunction', D('e1000', id='m0a', bus='rp1', addr='0x0.0'))
        add('rp1 mf: fn0 multifunction=on', D('e1000', id='m0', bus='rp1', addr='0x0.0',
                                              multifunction='on'))
        add('rp1 mf: fn3 after fn0', D('virtio-blk-pci', id='m3', bus='rp1',
                                       addr='0x0.3', drive='null0'))
        add('rp1 mf: slot 1 fn0 (addr=1.0)', D('e1000', id='m4', bus='rp1', addr='1.0'))
        add('rp1 mf: slot 1 fn1 (addr=1.1)', D('e1000', id='m5', bus='rp1', addr='1.1'))
        B.case('query-pci (multifunction behind rp1)', {'execute': 'query-pci'})
        ddel('device_del fn0 of multifunction slot behind rp1 (m0)', 'm0')
        ddel('device_del m0 again while pending', 'm0')
        ddel('device_del fn1 (m1) while fn0 pending', 'm1')
        B.reset('system_reset (completes removals; does fn2 m2 go too?)')
        B.case('qom-list /machine/peripheral after reset',
               {'execute': 'qom-list', 'arguments': {'path': '/machine/peripheral'}})
        for did in B.existing(['m1', 'm2', 'm0', 'm5']):
            ddel('cleanup: device_del %s' % did, did)
        B.reset('cleanup: system_reset')
        add('e1000e behind rp1', D('e1000e', id='e0', bus='rp1'))
        add('virtio-blk-pci behind rp1 (auto, slot 1)', D('virtio-blk-pci', id='b1', bus='rp1',
                                                          drive='null1'))
        qget('b1')
        B.case('query-pci final', {'execute': 'query-pci'})
        info = B.hmp('info pci final', 'info pci')
        stray = q.drain(0.3)
        if stray:
            raise RuntimeError('stray QMP output at end of q35 battery: %r' % stray)
        with open(os.path.join(qmpdir, 'q35-battery.results.jsonl'), 'w') as f:
            for r in B.records:
                f.write(json.dumps(r) + '\n')
        write_text(os.path.join(qmpdir, 'q35-battery.info-pci.txt'),
                   info['return'].replace('\r\n', '\n'))
        write_text(os.path.join(qmpdir, 'q35-battery.query-pci.json'),
                   B.records[-2]['reply'] + '\n')
        return B.records


def gen_properties(out):
    qmpdir = os.path.join(out, 'qmp')
    with Qemu('pc') as q:
        for drv in ('virtio-net-pci', 'virtio-blk-pci', 'e1000'):
            props = q.cmd('device-list-properties', typename=drv)
            props = sorted(props, key=lambda p: p['name'])
            keep = []
            for p in props:
                keep.append({k: p[k] for k in ('name', 'type', 'default-value', 'description')
                             if k in p})
            write_json(os.path.join(qmpdir, 'device-list-properties.%s.json' % drv), keep)
        all_t = q.cmd('qom-list-types', abstract=True)
        concrete = {t['name'] for t in q.cmd('qom-list-types', abstract=False)}
        sel = []
        for t in sorted(all_t, key=lambda t: t['name']):
            n = t['name']
            if 'pci' in n.lower() or 'virtio' in n.lower() or 'e1000' in n.lower():
                ent = {'name': n, 'abstract': n not in concrete}
                if 'parent' in t:
                    ent['parent'] = t['parent']
                sel.append(ent)
        write_json(os.path.join(qmpdir, 'qom-list-types.json'), sel)


# ================================================================ verification
def verify(out):
    """Compare against ../shared/reference where the same thing was captured."""
    problems = []
    notes = []
    ref_cfg = os.path.join(SHARED_REF, 'config')
    # (mine, reference, offsets allowed to differ, why)
    e1000_why = ('a freshly hot-added e1000 has cache line size (0x0c) 0x10; a reset clears it; '
                 'the reference e1000 had been through a reset (== pc-e1000-coldplug.hex)')
    rp_why = ('the reference root port was populated by a PCIe device at its last reset '
              '(== q35-00_04.0-pcie-root-port.populated-coldplug*.hex); an empty port has '
              'LnkSta (0x66) = LnkCap speed/width and SltCtl (0x6c) power off')
    pairs = [
        ('pc-virtio-net-pci.hex', 'pc-00_03.0-virtio-net-pci-transitional.hex', (), ''),
        ('pc-e1000.hex', 'pc-00_06.0-e1000.hex', (0x0c,), e1000_why),
        ('pc-e1000-coldplug.hex', 'pc-00_06.0-e1000.hex', (), ''),
        ('pc-e1000-hotplug-then-reset.hex', 'pc-00_06.0-e1000.hex', (), ''),
        ('q35-00_04.0-pcie-root-port.populated-coldplug.hex',
         'q35-00_04.0-pcie-root-port-rp1.hex', (), ''),
        ('q35-00_04.0-pcie-root-port.populated-coldplug.pristine.hex',
         'q35-pristine-00_04.0-pcie-root-port-rp1.hex', (), ''),
        ('pc-00_00.0-i440FX.hex', 'pc-00_00.0-i440FX-host-bridge.hex', (), ''),
        ('pc-00_01.0-PIIX3.hex', 'pc-00_01.0-PIIX3-isa.hex', (), ''),
        ('pc-00_01.1-piix3-ide.hex', 'pc-00_01.1-piix3-ide.hex', (), ''),
        ('pc-00_01.3-PIIX4_PM.hex', 'pc-00_01.3-PIIX4_PM.hex', (), ''),
        ('q35-00_00.0-mch.hex', 'q35-pristine-00_00.0-mch-host-bridge.hex', (), ''),
        ('q35-00_1f.0-ICH9-LPC.hex', 'q35-pristine-00_1f.0-ICH9-LPC.hex', (), ''),
        ('q35-00_04.0-pcie-root-port.hex', 'q35-00_04.0-pcie-root-port-rp1.hex',
         (0x66, 0x67, 0x6d), rp_why),
        ('q35-00_04.0-pcie-root-port.pristine.hex', 'q35-pristine-00_04.0-pcie-root-port-rp1.hex',
         (0x66, 0x67, 0x6d), rp_why),
    ]
    for mine, ref, allowed, why in pairs:
        mp = os.path.join(out, 'config', mine)
        rp = os.path.join(ref_cfg, ref)
        if not (os.path.exists(mp) and os.path.exists(rp)):
            notes.append('skip %s vs %s (missing)' % (mine, ref))
            continue
        _, a = parse_lspci_x(open(mp).read())
        _, b = parse_lspci_x(open(rp).read())
        diff = [o for o in range(max(len(a), len(b)))
                if o >= len(a) or o >= len(b) or a[o] != b[o]]
        if not diff:
            notes.append('config %s == reference %s' % (mine, ref))
        elif set(diff) <= set(allowed):
            notes.append('config %s differs from reference %s only at %s (expected: %s)'
                         % (mine, ref, ', '.join('0x%02x' % o for o in diff), why))
        else:
            problems.append('config %s != reference %s at %s' %
                            (mine, ref, ', '.join('0x%02x' % o for o in diff[:16])))
    # BAR sizing vs reference pc-bar-sizing.json
    bs = os.path.join(ref_cfg, 'pc-bar-sizing.json')
    if os.path.exists(bs):
        m = {'00:00.0': 'pc-00_00.0-i440FX', '00:01.0': 'pc-00_01.0-PIIX3',
             '00:01.1': 'pc-00_01.1-piix3-ide', '00:01.3': 'pc-00_01.3-PIIX4_PM',
             '00:03.0': 'pc-virtio-net-pci', '00:06.0': 'pc-e1000'}
        for fn in json.load(open(bs)):
            mp = os.path.join(out, 'config', m[fn['bdf']] + '.masks.json')
            if not os.path.exists(mp):
                continue
            mine = {str(b['bar']): b for b in json.load(open(mp))['bars']}
            for b in fn['bars']:
                x = mine.get(str(b['bar']))
                if x is None:
                    if b['kind'] != 'unimplemented':
                        problems.append('bar %s %s missing' % (fn['bdf'], b['bar']))
                    continue
                for k in ('orig', 'readback_after_write_ffffffff',
                          'readback_upper_after_write_ffffffff', 'kind', 'size'):
                    if k in b and b[k] != x.get(k):
                        problems.append('bar %s %s %s: %r != ref %r' %
                                        (fn['bdf'], b['bar'], k, x.get(k), b[k]))
        notes.append('BAR sizing compared with pc-bar-sizing.json')
    # pc_errors overlap: the battery begins with a replay of it
    bp = os.path.join(out, 'qmp', 'pc-battery.results.jsonl')
    if os.path.exists(bp):
        mine = [json.loads(l) for l in open(bp)]
        ref = load_reference_errors()
        n = 0
        for r, m in zip(ref, mine):
            if m['label'] != 'pc_errors: ' + r['label'] or m['request'] != r['request']:
                problems.append('pc_errors replay misaligned at %r' % r['label'])
                break
            same = json.loads(m['reply']) == json.loads(r['reply'])
            ro = [json.loads(x) for x in r.get('other_lines_received', [])]
            mo = [json.loads(x) for x in m.get('other_lines_received', [])]
            if not same or [x for x in ro if 'event' not in x] != \
                    [x for x in mo if 'event' not in x]:
                problems.append('pc_errors %r: %s != ref %s' % (r['label'], m['reply'], r['reply']))
            n += 1
        notes.append('pc_errors: %d replies compared' % n)
        # any other identical request anywhere in the battery with a state-free reply
        refmap = {}
        for r in ref:
            refmap.setdefault(r['request'], set()).add(r['reply'])
        extra_same = extra_diff = 0
        for m in mine[len(ref):]:
            if m['request'] in refmap:
                if m['reply'] in refmap[m['request']]:
                    extra_same += 1
                else:
                    extra_diff += 1
                    notes.append('same request, other reply later in battery (state): %s -> %s'
                                 % (m['request'], m['reply']))
        notes.append('later identical requests: %d same reply, %d different'
                     % (extra_same, extra_diff))
    for name in ('device-list-properties.virtio-net-pci.json',):
        mp = os.path.join(out, 'qmp', name)
        rp = os.path.join(SHARED_REF, 'qmp', name)
        if os.path.exists(mp) and os.path.exists(rp):
            a = [(p['name'], p['type']) for p in json.load(open(mp))]
            b = [(p['name'], p['type']) for p in json.load(open(rp))]
            if sorted(a) != sorted(b):
                problems.append('%s differs from reference' % name)
            else:
                notes.append('%s names/types == reference' % name)
    return problems, notes


def remove_stale(out, only):
    """Delete previously generated files this run will regenerate (config/ and
    qmp/ hold nothing else), so renamed or dropped cases leave nothing behind."""
    for sub in ('config', 'qmp'):
        d = os.path.join(out, sub)
        for name in os.listdir(d):
            from_config = sub == 'config' or name.startswith('q35-rp1-')
            if only is None or (only == 'config') == from_config:
                p = os.path.join(d, name)
                if os.path.isfile(p):
                    os.remove(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--only', choices=('config', 'qmp', 'pcie'))
    ap.add_argument('--verify-only', action='store_true')
    ap.add_argument('-j', '--jobs', type=int, default=max(2, min(8, os.cpu_count() or 2)))
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    t0 = time.monotonic()
    if a.only == 'pcie' or a.only is None and not a.verify_only:
        import gen_pcie_reference
        gen_pcie_reference.main(['--out', os.path.join(out, 'pcie'), '-j', str(min(a.jobs, 4))])
        if a.only == 'pcie':
            return 0
    if not a.verify_only:
        os.makedirs(os.path.join(out, 'config'), exist_ok=True)
        os.makedirs(os.path.join(out, 'qmp'), exist_ok=True)
        remove_stale(out, a.only)
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
            futs = []
            if a.only in (None, 'qmp'):
                futs.append(ex.submit(battery_pc, out))
                futs.append(ex.submit(battery_q35, out))
                futs.append(ex.submit(gen_properties, out))
            if a.only in (None, 'config'):
                futs.append(ex.submit(gen_config, out, a.jobs))
            for f in futs:
                f.result()
        print('generated in %.1f s' % (time.monotonic() - t0))
    problems, notes = verify(out)
    for n in notes:
        print('  ' + n)
    for p in problems:
        print('PROBLEM: ' + p)
    print('verify: %s' % ('OK' if not problems else '%d problem(s)' % len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
