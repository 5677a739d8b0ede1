#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Soak test: a pcid under every kind of load at once, watched for errors and growth.

For --seconds (default 120), in parallel:
  - QMP clients: query-pci, info pci, query-pci-slots, query-status, failing commands;
  - REST clients (unix socket): GET /v1/pci, /v1/slots, /v1/devices, a 404, a bad body;
  - hotplug churn over QMP: device_add (virtio-net, virtio-blk, e1000) and device_del in
    slots 0x10-0x17, completed by the cooperative guest (DEVICE_DELETED awaited);
  - guest access load on the access socket: config reads of every slot, BAR reads;
  - a client that connects and disconnects over and over, and one that sends half a request.
Every second it samples pcid's RSS and open fd count. It fails on any unexpected error (a
command that must succeed and did not, a lost connection, a reply that is not JSON), on RSS
growth over 1 MiB across the second half of the run, or on an fd count at the end different
from the start (after all clients closed). Prints a JSON summary.

Usage: tests/soak/soak.py [--seconds N] [--pcid PATH]
"""

import argparse
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
from pcid_harness import Pcid, Qmp  # noqa: E402

CHURN_SLOTS = range(0x10, 0x18)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.errors = []

    def ok(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def error(self, what):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(what)


def proc_sample(pid):
    with open('/proc/%d/status' % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith('VmRSS:'))
    return rss, len(os.listdir('/proc/%d/fd' % pid))


def qmp_reader(d, stop, st):
    q = d.qmp()
    cmds = [('query-pci', {}), ('query-pci-slots', {}), ('query-status', {}),
            ('human-monitor-command', {'command-line': 'info pci'})]
    i = 0
    while not stop.is_set():
        name, args = cmds[i % len(cmds)]
        try:
            q.cmd(name, **args)
            st.ok('qmp ' + name)
            r = q.cmd_raw({'execute': 'device_del', 'arguments': {'id': 'no-such-device'}})
            if r.get('error', {}).get('class') != 'DeviceNotFound':
                st.error('device_del of nothing: %s' % r)
        except Exception as e:  # noqa: BLE001 - every failure is a finding
            st.error('qmp %s: %r' % (name, e))
            q = d.qmp()
        i += 1
    q.close()


def rest_reader(d, stop, st):
    paths = ['/v1/pci', '/v1/slots', '/v1/devices', '/v1/pci/text']
    i = 0
    while not stop.is_set():
        path = paths[i % len(paths)]
        try:
            status, _, _ = d.rest('GET', path)
            if status != 200:
                st.error('GET %s: %d' % (path, status))
            else:
                st.ok('rest GET')
            status, _, _ = d.rest('GET', '/v1/no/such/route')
            if status != 404:
                st.error('GET unknown route: %d' % status)
            status, _, _ = d.rest('POST', '/v1/devices', body='{"driver": ')
            if status != 400:
                st.error('POST bad body: %d' % status)
        except Exception as e:  # noqa: BLE001
            st.error('rest %s: %r' % (path, e))
        i += 1


def churn(d, stop, st):
    q = d.qmp()
    drivers = [('virtio-net-pci', {}), ('e1000', {}), ('virtio-blk-pci', {'drive': 'null0'})]
    i = 0
    while not stop.is_set():
        slot = CHURN_SLOTS[i % len(CHURN_SLOTS)]
        drv, extra = drivers[i % len(drivers)]
        if drv == 'virtio-blk-pci' and any(s != slot and s in churn.blk for s in churn.blk):
            drv, extra = 'e1000', {}
        dev_id = 'c%x' % slot
        try:
            q.cmd('device_add', driver=drv, id=dev_id, addr='0x%x' % slot, **extra)
            if drv == 'virtio-blk-pci':
                churn.blk.add(slot)
            q.cmd('device_del', id=dev_id)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if any(e['event'] == 'DEVICE_DELETED' and e['data'].get('device') == dev_id
                       for e in q.events):
                    break
                q.wait_events(len(q.events) + 1, timeout=0.5)
            else:
                st.error('no DEVICE_DELETED for %s' % dev_id)
            q.events.clear()
            churn.blk.discard(slot)
            st.ok('hotplug cycle')
        except Exception as e:  # noqa: BLE001
            st.error('churn %s: %r' % (dev_id, e))
            q = d.qmp()
        i += 1
    q.close()


churn.blk = set()


def guest_access(d, stop, st):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(d.access_path)
    f = s.makefile('rw', newline='\n')
    while not stop.is_set():
        lines = []
        for slot in range(32):
            lines += ['outl 0xcf8 0x%08x' % (0x80000000 | slot << 11), 'inl 0xcfc']
        f.write(''.join(line + '\n' for line in lines))
        f.flush()
        for line in lines:
            reply = f.readline().strip()
            while reply.startswith('IRQ'):
                reply = f.readline().strip()
            if not reply.startswith('OK'):
                st.error('access %s: %r' % (line, reply))
                break
        else:
            st.ok('access sweep')
    s.close()


def flapper(d, stop, st):
    """Connect and go, and leave a half request behind: nothing may leak."""
    while not stop.is_set():
        for path in (d.qmp_path, d.rest_path, d.access_path):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                s.sendall(b'{"execute": "query-' if path != d.access_path else b'inl 0xc')
                s.close()
                st.ok('flap')
            except OSError as e:
                st.error('flap %s: %r' % (path, e))
        time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seconds', type=float, default=120)
    a = ap.parse_args()
    st = Stats()
    with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0',
                    '--device', 'virtio-net-pci,id=net0,addr=0x3'], guest='cooperative') as d:
        pid = d.proc.pid
        kinds = (qmp_reader, qmp_reader, rest_reader, churn, guest_access, flapper)

        def launch(stop):
            ws = [threading.Thread(target=fn, args=(d, stop, st), daemon=True) for fn in kinds]
            for w in ws:
                w.start()
            return ws

        def finish(stop, ws):
            stop.set()
            for w in ws:
                w.join(timeout=30)
            time.sleep(1)  # let the daemon close what the clients closed

        # A warm-up round of every kind of work first: what pcid opens once on first use and
        # keeps (sd-event's timerfd for its first CLOCK_MONOTONIC timer) is not a leak; the fd
        # count to come back to is the one after it, with no client connected.
        warm = threading.Event()
        warm_workers = launch(warm)
        time.sleep(min(3.0, a.seconds / 4))
        finish(warm, warm_workers)
        start = proc_sample(pid)
        stop = threading.Event()
        workers = launch(stop)
        samples = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < a.seconds:
            time.sleep(1)
            samples.append((time.monotonic() - t0, *proc_sample(pid)))
            if d.proc.poll() is not None:
                st.error('pcid exited %d' % d.proc.returncode)
                break
        finish(stop, workers)
        end = proc_sample(pid) if d.proc.poll() is None else (0, -1)
    half = [s for s in samples if s[0] >= a.seconds / 2]
    growth = (half[-1][1] - half[0][1]) if len(half) >= 2 else 0
    ok = not st.errors and growth <= 1024 and end[1] == start[1]
    print(json.dumps({
        'ok': ok, 'seconds': a.seconds, 'counts': st.counts, 'errors': st.errors,
        'rss_kib_start': start[0], 'rss_kib_end': end[0],
        'rss_growth_second_half_kib': growth, 'fds_start': start[1], 'fds_end': end[1],
        'rss_samples_kib': [s[1] for s in samples][::max(1, len(samples) // 20)],
    }, indent=1))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
