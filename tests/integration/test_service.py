# SPDX-License-Identifier: MIT
"""pcid as a service, without a service manager: the configuration file (--config), the
sd_notify protocol seen on a NOTIFY_SOCKET of our own (READY=1 only once the sockets answer,
STATUS= following device changes, WATCHDOG=1 at half of WATCHDOG_USEC and stopping when the
control loop or the control lock hangs, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on
SIGTERM), SIGHUP reloading log level and limits without touching devices, socket activation
through systemd-socket-activate (the sockets named qmp and rest), and the log lines on stderr.
The same under a real systemd manager is tests/systemd/."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from pcid_harness import PCID, TIME_FACTOR, Pcid, Qmp, QmpError, UnixHTTPConnection, free_port


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []  # (monotonic time, text)

    def poll(self, seconds):
        """Collect messages for `seconds`."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
            except socket.timeout:
                return

    def wait_for(self, pred, timeout=10):
        """The first message (new or already seen) for which pred(text) holds."""
        seen = 0
        deadline = time.monotonic() + timeout * TIME_FACTOR
        while True:
            for t, m in self.messages[seen:]:
                if pred(m):
                    return m
            seen = len(self.messages)
            if time.monotonic() > deadline:
                raise AssertionError('no matching notification; got %r' % self.texts())
            self.poll(0.05)

    def texts(self):
        return [m for _, m in self.messages]

    def close(self):
        self.sock.close()


def write(path, obj):
    with open(path, 'w') as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))


def run_pcid(*args, timeout=20, env=None):
    """pcid with `args`, without a state directory unless `args` name one (the host's
    /var/lib/pcid is never touched)."""
    if '--state-dir' not in args:
        args = args + ('--no-state',)
    return subprocess.run([PCID] + list(args), capture_output=True, text=True,
                          timeout=timeout * TIME_FACTOR, env=dict(os.environ, **(env or {})))


class Tmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='pcid-svc-')

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def p(self, name):
        return os.path.join(self.dir, name)


class ConfigFile(Tmp):
    # Each refused file: exit 78, the message names the file and the key, nothing is opened.
    REFUSED = [
        ({'machine': 'pc', 'vcpu': 2}, "unknown key 'vcpu' (known: machine, vcpus,"),
        ({'limits': {'rest-body': 1}}, "unknown key 'limits.rest-body'"),
        ({'sockets': {'monitor': []}}, "unknown key 'sockets.monitor'"),
        ({'vcpus': 65}, "'vcpus' must be an integer from 1 to 64"),
        ({'guest': 'linux'}, "'guest' must be \"cooperative\" or \"none\", not 'linux'"),
        ({'limits': {'qmp-clients': 0}}, "'limits.qmp-clients' must be an integer from 1 to 1024"),
        ({'devices': [{'driver': 'e1000', 'addr': [5]}]},
         "'devices[0].addr' must be a string, an integer or a boolean"),
        ({'sockets': {'qmp': ['tcp:127.0.0.1:1']}},
         "'sockets.qmp[0]' must be unix:PATH, not 'tcp:127.0.0.1:1'"),
        ('{"machine": "pc",}', 'line 1 column 18: string or \'}\' expected near \'}\''),
    ]

    def test_refused(self):
        cfg = self.p('pcid.json')
        qmp = self.p('qmp.sock')
        for content, why in self.REFUSED:
            with self.subTest(why=why):
                write(cfg, content)
                r = run_pcid('--config', cfg, '--qmp', 'unix:' + qmp, '--rest',
                             'unix:' + self.p('rest.sock'))
                self.assertEqual(r.returncode, 78, r.stderr)
                self.assertIn('pcid: %s: ' % cfg, r.stderr)
                self.assertIn(why, r.stderr)
                self.assertFalse(os.path.exists(qmp))

    def test_missing_explicit_file(self):
        r = run_pcid('--config', self.p('nope.json'))
        self.assertEqual(r.returncode, 78)
        self.assertIn('%s: No such file or directory' % self.p('nope.json'), r.stderr)
        r = run_pcid('--config', self.dir)
        self.assertEqual(r.returncode, 78)
        self.assertIn('%s: Is a directory' % self.dir, r.stderr)
        r = run_pcid('--config', '')
        self.assertEqual(r.returncode, 2)

    def test_bad_device_names_it(self):
        write(self.p('c.json'), {'devices': [{'driver': 'e1000', 'id': 'a,b'}],
                                 'sockets': {'qmp': ['unix:' + self.p('q')],
                                             'rest': ['unix:' + self.p('r')]}})
        r = run_pcid('--config', self.p('c.json'))
        self.assertEqual(r.returncode, 78)
        # The comma stayed inside the id (escaped), so the id itself is refused.
        self.assertIn("pcid: device driver=e1000,id=a,,b: Parameter 'id' expects an identifier",
                      r.stderr)

    def machine_file(self, **extra):
        cfg = {
            'machine': 'pc', 'guest': 'none', 'vcpus': 1, 'eject-delay-ms': 0,
            'sockets': {'qmp': ['unix:' + self.p('cq.sock')],
                        'rest': ['unix:' + self.p('cr.sock')]},
            'blockdevs': [{'driver': 'null-co', 'node-name': 'disk0', 'size': 1 << 30}],
            'devices': [{'driver': 'virtio-blk-pci', 'id': 'vd0', 'drive': 'disk0', 'addr': 4},
                        'e1000,id=nic0,addr=0x5'],
            'state-dir': self.p('state'),
        }
        cfg.update(extra)
        write(self.p('c.json'), cfg)
        return self.p('c.json')

    def test_file_builds_the_machine(self):
        p = subprocess.Popen([PCID, '--config', self.machine_file()], stderr=subprocess.PIPE,
                             text=True)
        try:
            q = wait_qmp(self.p('cq.sock'), p)
            devs = {d['qdev_id']: '%02x.%x' % (d['slot'], d['function'])
                    for d in q.cmd('query-pci')[0]['devices'] if d.get('qdev_id')}
            self.assertEqual(devs, {'vd0': '04.0', 'nic0': '05.0'})
            self.assertEqual(q.cmd('query-status')['status'], 'prelaunch')  # guest none
            nodes = [n['node-name'] for n in q.cmd('query-named-block-nodes')]
            self.assertEqual(nodes, ['disk0'])
            conn = UnixHTTPConnection(self.p('cr.sock'))
            conn.request('GET', '/v1/devices/nic0')
            self.assertEqual(conn.getresponse().status, 200)
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(20 * TIME_FACTOR), 0)
        self.assertIn('pcid: cold-plugged e1000 \'nic0\' at 0000:00:05.0', p.stderr.read())

    def test_command_line_wins(self):
        p = subprocess.Popen([PCID, '--config', self.machine_file(), '--guest', 'cooperative',
                              '--device', 'virtio-net-pci,id=cli,addr=7',
                              '--qmp', 'unix:' + self.p('mine.sock')],
                             stderr=subprocess.DEVNULL)
        try:
            q = wait_qmp(self.p('mine.sock'), p)
            ids = [d.get('qdev_id') for d in q.cmd('query-pci')[0]['devices']
                   if d.get('qdev_id')]
            self.assertEqual(ids, ['cli'])  # --device replaced the file's devices
            self.assertEqual(q.cmd('query-status')['status'], 'running')
            # The file's blockdevs and REST socket stay: not given on the command line.
            self.assertEqual([n['node-name'] for n in q.cmd('query-named-block-nodes')],
                             ['disk0'])
            self.assertTrue(os.path.exists(self.p('cr.sock')))
            self.assertFalse(os.path.exists(self.p('cq.sock')))
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(20 * TIME_FACTOR), 0)

    def run_file(self, *args):
        """pcid on the machine file; returns (QMP client, process)."""
        p = subprocess.Popen([PCID, '--config', self.p('c.json')] + list(args),
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return wait_qmp(self.p('cq.sock'), p), p

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(20 * TIME_FACTOR), 0)
        return p.stderr.read()

    def devices(self, q):
        return {d['qdev_id']: '%02x.%x' % (d['slot'], d['function'])
                for d in q.cmd('query-pci')[0]['devices'] if d.get('qdev_id')}

    def test_file_devices_only_seed(self):
        """The file's devices and blockdevs are seeds, exactly like --device/--blockdev: they
        build a fresh machine in the file's state-dir; once machine.json exists it wins."""
        self.machine_file()
        q, p = self.run_file()
        q.cmd('device_add', driver='e1000', id='hot', addr='7')
        before = q.hmp('info pci')
        self.stop(p)
        with open(os.path.join(self.p('state'), 'machine.json')) as f:
            saved = json.load(f)
        self.assertEqual([(d['driver'], d.get('id')) for d in saved['devices']],
                         [('virtio-blk-pci', 'vd0'), ('e1000', 'nic0'), ('e1000', 'hot')])
        # Other devices in the file now: ignored, the saved machine comes back as it was.
        self.machine_file(devices=['virtio-net-pci,id=other,addr=9'])
        q, p = self.run_file()
        self.assertEqual(self.devices(q), {'vd0': '04.0', 'nic0': '05.0', 'hot': '07.0'})
        self.assertEqual(q.hmp('info pci'), before)
        err = self.stop(p)
        self.assertIn('pcid: 1 seed device (--device or the configuration file) ignored: the '
                      'machine is restored from %s' % os.path.join(self.p('state'),
                                                                   'machine.json'), err)

    def test_file_state_settings(self):
        # "no-state": nothing is written, snapshots refuse.
        with open(self.machine_file(**{'no-state': True})) as f:
            cfg = json.load(f)
        del cfg['state-dir']
        write(self.p('c.json'), cfg)
        q, p = self.run_file()
        r = q.cmd_raw({'execute': 'state-save', 'arguments': {'name': 's'}})
        self.assertEqual(r['error']['class'], 'GenericError')
        self.stop(p)
        self.assertFalse(os.path.exists(self.p('state')))
        # --state-dir on the command line replaces the file's "no-state".
        q, p = self.run_file('--state-dir', self.p('cli-state'))
        q.cmd('state-save', name='s')
        self.stop(p)
        self.assertTrue(os.path.exists(os.path.join(self.p('cli-state'), 'machine.json')))
        self.assertTrue(os.path.exists(os.path.join(self.p('cli-state'), 'snapshots', 's')))
        # Both in the file: refused, exit 78, nothing made.
        cfg['state-dir'] = self.p('state')
        write(self.p('c.json'), cfg)
        r = run_pcid('--config', self.p('c.json'), '--state-dir', self.p('unused'))
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("'state-dir' and 'no-state': true exclude each other", r.stderr)
        self.assertFalse(os.path.exists(self.p('state')) or os.path.exists(self.p('unused')))


def wait_qmp(path, proc, timeout=10):
    deadline = time.monotonic() + timeout * TIME_FACTOR
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError('pcid exited %d' % proc.returncode)
        try:
            return Qmp(path)
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.02)
    raise AssertionError('no QMP socket at ' + path)


class Notify(Tmp):
    def start(self, *args, env=None, guest='none'):
        self.ns = NotifySocket(self.p('notify'))
        self.addCleanup(self.ns.close)
        self.d = Pcid(args=args, guest=guest, env=dict({'NOTIFY_SOCKET': self.ns.path},
                                                       **(env or {})))
        self.d.start()
        self.addCleanup(self.d.__exit__)
        return self.d

    def test_ready_status_stopping(self):
        ns = NotifySocket(self.p('notify'))
        self.addCleanup(ns.close)
        qmp = self.p('q.sock')
        p = subprocess.Popen([PCID, '--qmp', 'unix:' + qmp, '--rest', 'unix:' + self.p('r.sock'),
                              '--guest', 'cooperative', '--eject-delay', '0', '--no-state'],
                             env=dict(os.environ, NOTIFY_SOCKET=ns.path),
                             stderr=subprocess.PIPE, text=True)
        try:
            ns.wait_for(lambda m: m == 'READY=1')
            # READY=1 comes after the sockets are open: connecting right now works.
            q = Qmp(qmp)
            ns.wait_for(lambda m: m == 'STATUS=machine pcid-pc-1.1: 4 PCI functions (0 added)')
            q.cmd('device_add', driver='e1000', id='n1', addr='5')
            ns.wait_for(lambda m: m == 'STATUS=machine pcid-pc-1.1: 5 PCI functions (1 added)')
            q.cmd('device_del', id='n1')
            q.wait_events(1)
            ns.wait_for(lambda m: m.startswith('STATUS=') and m.endswith('(0 added)'))
            self.assertNotIn('STOPPING=1', ns.texts())
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(20 * TIME_FACTOR), 0, p.stderr.read())
            ns.wait_for(lambda m: m == 'STOPPING=1')
            # Order: READY before the first STATUS update of a change, STOPPING last.
            texts = ns.texts()
            self.assertEqual(texts[0], 'READY=1')
            self.assertEqual(texts[-1], 'STOPPING=1')
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    def test_ready_after_restore(self):
        """READY=1 comes once the saved machine is back: the first STATUS= already counts the
        restored devices, and a client connecting at READY finds them at their addresses."""
        state = self.p('state')
        with Pcid(args=['--device', 'e1000,id=n1,addr=5'], state_dir=state,
                  guest='cooperative') as d:
            q = d.qmp()
            q.cmd('device_add', driver='virtio-net-pci', id='n2', addr='9')
            q.cmd('system_reset')  # a restart is a reset: the firmware places every BAR again
            before = q.hmp('info pci')
            q.close()
        ns = NotifySocket(self.p('notify'))
        self.addCleanup(ns.close)
        with Pcid(state_dir=state, guest='cooperative',
                  env={'NOTIFY_SOCKET': ns.path}) as d:
            ns.wait_for(lambda m: m == 'READY=1')
            statuses = [m for m in ns.texts() if m.startswith('STATUS=')]
            self.assertEqual(statuses[0], 'STATUS=machine pcid-pc-1.1: 6 PCI functions (2 added)')
            self.assertEqual(ns.texts()[0], 'READY=1')
            q = d.qmp()
            self.assertEqual(q.hmp('info pci'), before)
            q.close()
            # The restored devices' events reach the status after READY=1 in a burst: one
            # STATUS= says the count, not one per device.
            ns.poll(0.3 * TIME_FACTOR)
            statuses = [m for m in ns.texts() if m.startswith('STATUS=')]
            self.assertEqual(statuses, ['STATUS=machine pcid-pc-1.1: 6 PCI functions (2 added)'])

    def pings(self, seconds):
        self.ns.messages.clear()
        self.ns.poll(seconds)
        return [t for t, m in self.ns.messages if m == 'WATCHDOG=1']

    def test_watchdog_pings_at_half_the_period(self):
        self.start(env={'WATCHDOG_USEC': '400000'})
        pings = self.pings(1.2 * TIME_FACTOR)
        self.assertGreaterEqual(len(pings), 4, 'expected a ping every 200 ms')
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertTrue(all(0.1 < g < 0.35 * TIME_FACTOR for g in gaps), gaps)
        self.assertIn('watchdog on', self.d.logtext())

    def test_no_watchdog_without_watchdog_usec(self):
        self.start()
        self.assertEqual(self.pings(0.6), [])

    def wait_pings_stop(self):
        """Pings sent before the hang took hold may still be queued, and a slow (sanitizer)
        build takes its time to take the command: wait for a gap of six periods (150 ms
        each) before checking that none comes for a whole second more."""
        deadline = time.monotonic() + 10 * TIME_FACTOR
        while self.pings(0.9):
            self.assertLess(time.monotonic(), deadline, 'the pings never stopped')

    def test_hung_control_loop_stops_pings(self):
        d = self.start(env={'WATCHDOG_USEC': '300000', 'PCID_DEBUG_COMMANDS': '1'})
        self.assertGreaterEqual(len(self.pings(0.5 * TIME_FACTOR)), 2)
        q = d.qmp()
        q.send_raw('{"execute": "x-debug-hang"}\n')  # never answered
        self.wait_pings_stop()
        self.assertEqual(self.pings(1.0), [], 'a hung control loop must not ping')
        self.assertIsNone(d.proc.poll())
        d.proc.kill()

    def test_command_stuck_holding_the_lock_stops_pings(self):
        # Over REST the command hangs a libmicrohttpd thread, not the loop; but it keeps the
        # control lock, which the watchdog timer takes before each ping.
        d = self.start(env={'WATCHDOG_USEC': '300000', 'PCID_DEBUG_COMMANDS': '1'})
        self.assertGreaterEqual(len(self.pings(0.5 * TIME_FACTOR)), 2)

        def hang():
            try:
                d.rest('POST', '/v1/qmp', {'execute': 'x-debug-hang'})
            except OSError:
                pass
        threading.Thread(target=hang, daemon=True).start()
        self.wait_pings_stop()
        self.assertEqual(self.pings(1.0), [])
        d.proc.kill()

    def test_debug_commands_absent_by_default(self):
        d = self.start()
        q = d.qmp()
        r = q.cmd_raw({'execute': 'x-debug-hang'})
        self.assertEqual(r['error'], {'class': 'CommandNotFound',
                                      'desc': 'The command x-debug-hang has not been found'})
        self.assertNotIn('x-debug-hang', [c['name'] for c in q.cmd('query-commands')])
        q.cmd('query-status')  # still serving

    def test_debug_commands_listed_when_enabled(self):
        d = self.start(env={'PCID_DEBUG_COMMANDS': '1'})
        self.assertIn('x-debug-hang', [c['name'] for c in d.qmp().cmd('query-commands')])
        self.assertIn('test-only commands are enabled', d.logtext())


class Reload(Tmp):
    def test_sighup(self):
        cfg = self.p('pcid.json')
        write(cfg, {'log-level': 'info'})
        ns = NotifySocket(self.p('notify'))
        self.addCleanup(ns.close)
        with Pcid(args=['--config', cfg, '--device', 'e1000,id=keep,addr=6'],
                  env={'NOTIFY_SOCKET': ns.path}) as d:
            ns.wait_for(lambda m: m == 'READY=1')
            before = d.qmp().hmp('info pci')
            # Two QMP clients are fine under the default limit.
            a, b = d.qmp(), d.qmp()
            b.close()

            def reload():
                ns.messages.clear()
                d.proc.send_signal(signal.SIGHUP)
                ns.wait_for(lambda m: m == 'RELOADING=1')
                ns.wait_for(lambda m: m == 'READY=1')

            write(cfg, {'log-level': 'debug', 'machine': 'q35',
                        'limits': {'qmp-clients': 1, 'rest-body-bytes': 4096}})
            reload()
            log = d.logtext()
            self.assertIn('pcid: reload: machine changed in %s; start-up settings take effect '
                          'at the next start' % cfg, log)
            self.assertIn('pcid: reloaded %s: log level debug, limits qmp-clients=1 '
                          'qmp-value-bytes=1048576 qmp-output-bytes=16777216 '
                          'qmp-value-seconds=30 rest-body-bytes=4096 rest-clients=64 '
                          'rest-request-seconds=30 rest-idle-seconds=30 devices=8192 buses=256'
                          % cfg, log)
            # qmp-clients=1: `a` holds the one slot, a second client is closed at once.
            with self.assertRaises((EOFError, ConnectionResetError)):
                d.qmp()
            status, body, _ = d.rest('POST', '/v1/devices', '{"driver": "e1000", "x": "%s"}'
                                     % ('y' * 5000))
            self.assertEqual(status, 413)
            self.assertEqual(body['error']['desc'], 'request body exceeds 4096 bytes')
            # Devices untouched, the machine type too (start-up setting).
            self.assertEqual(a.hmp('info pci'), before)

            # A bad file changes nothing.
            write(cfg, {'limits': {'qmp-clients': 0}})
            reload()
            self.assertIn("reload refused, settings unchanged: %s: 'limits.qmp-clients' must "
                          "be an integer from 1 to 1024" % cfg, d.logtext())
            with self.assertRaises((EOFError, ConnectionResetError)):
                d.qmp()

            # Limits absent from the file are back at their defaults.
            write(cfg, {})
            reload()
            d.qmp().close()
            status, _, _ = d.rest('POST', '/v1/devices', '{"driver": "e1000", "x": "%s"}'
                                  % ('y' * 5000))
            self.assertEqual(status, 400)  # parsed, then refused for the unknown property
            self.assertEqual(a.hmp('info pci'), before)


@unittest.skipUnless(shutil.which('systemd-socket-activate'), 'systemd-socket-activate missing')
class Activation(Tmp):
    def activate(self, fdnames, *args, listen=None):
        self.qmp, self.rest = self.p('qmp.sock'), self.p('rest.sock')
        self.port = free_port()
        listen = listen or [self.qmp, self.rest, '127.0.0.1:%d' % self.port]
        cmd = ['systemd-socket-activate', '--fdname=' + fdnames]
        for l in listen:
            cmd += ['-l', l]
        self.log = open(self.p('log'), 'a+')  # O_APPEND: logtext() moves the shared offset
        p = subprocess.Popen(cmd + [PCID, '--guest', 'none', '--state-dir', self.p('state')] +
                             list(args), stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.log.close)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        deadline = time.monotonic() + 10 * TIME_FACTOR
        while not all(os.path.exists(x) for x in listen if x.startswith('/')):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        return p

    def comm(self, p):
        with open('/proc/%d/comm' % p.pid) as f:
            return f.read().strip()

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def test_first_connection_starts_pcid(self):
        p = self.activate('qmp:rest:rest')
        time.sleep(0.2)
        self.assertEqual(self.comm(p), 'systemd-socket-')  # nothing started yet
        q = Qmp(self.qmp)  # the first connection
        self.assertEqual(self.comm(p), 'pcid')
        q.cmd('device_add', driver='e1000', id='n1', addr='5')
        conn = UnixHTTPConnection(self.rest)
        conn.request('GET', '/v1/devices/n1')
        self.assertEqual(conn.getresponse().status, 200)
        import http.client
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        conn.request('GET', '/v1/devices/n1')
        self.assertEqual(conn.getresponse().status, 200)
        self.assertIn('QMP unix:%s (systemd); REST unix:%s (systemd), tcp:127.0.0.1:%d '
                      '(systemd)' % (self.qmp, self.rest, self.port), self.logtext())
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(20 * TIME_FACTOR), 0)
        # The sockets are systemd's: pcid leaves them in place.
        self.assertTrue(os.path.exists(self.qmp) and os.path.exists(self.rest))

    def test_passed_socket_replaces_only_its_kind(self):
        mine = self.p('mine-rest.sock')
        p = self.activate('qmp', '--rest', 'unix:' + mine, listen=[self.p('qmp.sock')])
        Qmp(self.qmp).cmd('query-status')
        conn = UnixHTTPConnection(mine)
        conn.request('GET', '/v1/pci')
        self.assertEqual(conn.getresponse().status, 200)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(20 * TIME_FACTOR), 0)
        self.assertFalse(os.path.exists(mine))  # pcid's own socket is removed

    def test_unknown_name_refused(self):
        p = self.activate('monitor', listen=[self.p('qmp.sock')])
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.qmp)
        self.assertEqual(p.wait(20 * TIME_FACTOR), 78)
        self.assertIn("pcid: systemd passed socket fd 3 named 'monitor'; pcid takes 'qmp', "
                      "'rest' and 'access' (set FileDescriptorName= in the socket unit)",
                      self.logtext())


class PassedSockets(Tmp):
    """Sockets passed in (as systemd does, $LISTEN_FDS) are shared with the manager, which keeps
    them for the next start: pcid must close its copies on stop, never shut them down."""

    def test_still_listening_after_stop(self):
        socks = []
        for name in ('qmp', 'rest'):
            s = socket.socket(socket.AF_UNIX)
            s.bind(self.p(name + '.sock'))
            s.listen(8)
            socks.append(s)
            self.addCleanup(s.close)
        tcp = socket.socket()
        tcp.bind(('127.0.0.1', 0))
        tcp.listen(8)
        socks.append(tcp)
        self.addCleanup(tcp.close)
        pid = os.fork()
        if pid == 0:  # the child becomes pcid with fds 3, 4, 5
            try:
                for i, s in enumerate(socks):
                    os.dup2(s.fileno(), 10 + i)
                for i in range(len(socks)):
                    os.dup2(10 + i, 3 + i)
                env = dict(os.environ, LISTEN_PID=str(os.getpid()), LISTEN_FDS='3',
                           LISTEN_FDNAMES='qmp:rest:rest')
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.execve(PCID, [PCID, '--guest', 'none', '--no-state'], env)
            finally:
                os._exit(127)
        try:
            q = wait_qmp(self.p('qmp.sock'), FakeProc(pid))
            q.cmd('query-status')
            conn = UnixHTTPConnection(self.p('rest.sock'))
            conn.request('GET', '/v1/pci')
            self.assertEqual(conn.getresponse().status, 200)
            q.close()
        finally:
            os.kill(pid, signal.SIGTERM)
            _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        # Each socket still takes connections for whoever starts next.
        for s, addr in zip(socks, [self.p('qmp.sock'), self.p('rest.sock'),
                                   tcp.getsockname()]):
            c = socket.socket(s.family)
            c.settimeout(2)
            c.connect(addr)
            s.settimeout(2)
            a, _ = s.accept()
            a.close()
            c.close()


class FakeProc:
    """poll() for a forked child, as wait_qmp wants."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid:
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


class Log(Tmp):
    def test_device_lines(self):
        with Pcid(args=['--device', 'e1000,id=cold,addr=4', '--eject-delay', '0'],
                  guest='cooperative') as d:
            q = d.qmp()
            q.cmd('device_add', driver='virtio-net-pci', id='hot', addr='6')
            q.cmd('device_del', id='hot')
            q.wait_events(1)
            deadline = time.monotonic() + 5 * TIME_FACTOR
            while 'removed' not in d.logtext() and time.monotonic() < deadline:
                time.sleep(0.02)
            lines = [l for l in d.logtext().splitlines()
                     if 'plugged' in l or 'added' in l or 'removed' in l]
        self.assertEqual(lines, [
            "pcid: cold-plugged e1000 'cold' at 0000:00:04.0",
            "pcid: hot-added virtio-net-pci 'hot' at 0000:00:06.0",
            "pcid: removed virtio-net-pci 'hot' from 0000:00:06.0",
        ])

    def test_level_filters(self):
        with Pcid(args=['--device', 'e1000,id=cold', '--log-level', 'warning']) as d:
            d.qmp().cmd('device_add', driver='e1000', id='hot')
            d.stop()
            self.assertEqual(d.logtext(), '')
        r = run_pcid('--log-level', 'loud')
        self.assertEqual(r.returncode, 2)
        self.assertIn("--log-level: unknown level 'loud'", r.stderr)


if __name__ == '__main__':
    unittest.main()
