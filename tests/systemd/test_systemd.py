# SPDX-License-Identifier: MIT
"""pcid's units under a real systemd manager.

Boots systemd 252 as PID 1 of new PID, mount and cgroup namespaces (boot.sh; the recipe of
shared/notes/systemd-in-ci.md), with pcid installed there by `meson install --destdir` and
layered over /usr, then checks, in order:

  01 the units install and enable (pcid.service Also= its sockets), the sockets listen with
     the right owner and mode, and pcid is not running yet;
  02 the first connection to the QMP socket starts pcid (socket activation), which reports
     READY=1 (is-active), runs as user pcid and says STATUS=;
  03 devices added over QMP show over REST, on the unix socket and on TCP;
  04 `journalctl -u pcid` shows the structured fields (MESSAGE_ID, PCID_DEVICE/BDF/DRIVER);
  05 `systemctl reload` (SIGHUP) applies the file's log level and limits, devices untouched;
  06 `kill -9` of pcid: systemd restarts it, the sockets keep working, and the devices come
     back from the state directory (StateDirectory=, written through the sandbox) at the same
     addresses with an identical `info pci`, before READY=1;
  07 a control loop that stops pinging (x-debug-hang) is killed by the watchdog and restarted,
     its devices restored too;
  08 a configuration pcid cannot start with exits 78 and is not restarted;
  09 `systemctl stop` is clean: STOPPING=1, exit status 0, both socket units keep listening
     and a REST request starts pcid again;
  10 `systemd-analyze verify` and `security` agree with the units as installed.

Exits 77 (skipped) where systemd cannot be booted this way: not root, no systemd or
util-linux tools, no cgroup2 or overlayfs, a host already run by systemd, a sanitizer build
(LeakSanitizer needs ptrace, which the unit's system call filter forbids). With
PCID_REQUIRE_SYSTEMD_TEST=1 (CI) a skip is a failure instead.
"""

import fnmatch
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
from pcid_harness import Qmp, UnixHTTPConnection, free_port  # noqa: E402

BUILD = os.environ.get('PCID_BUILD_ROOT', os.path.join(HERE, '..', '..', 'build'))
ROOT = os.path.join(BUILD, 'tests', 'systemd-root')
TARGET = 'pcid-test.target'
WATCHDOG_SEC = 3
# Set by install() before the tests run: the REST TCP port of the test drop-in, and where the
# units and the sysusers.d file are once ROOT/usr is layered over /usr.
PORT = UNITDIR = SYSUSERS = None
ID = {  # daemon/log.h
    'start': '1e387948ea754ec881c34debf4c3fa0c',
    'stop': 'c8712644a52d4f4289f913919d354b6d',
    'added': 'b84a718617b64b3694ee9ff6b7ddba1e',
    'error': '40989bb70348413a9b1d72fcac572ed2',
    'reload': '5afa4d4ea6284c01882a1d5623e085a3',
}


def skip(why):
    if os.environ.get('PCID_REQUIRE_SYSTEMD_TEST') == '1':
        print('cannot run the systemd test, and CI requires it: ' + why)
        sys.exit(1)
    print('SKIP: ' + why)
    sys.exit(77)


def cgroup2_mount():
    with open('/proc/self/mountinfo') as f:
        for line in f:
            left, right = line.split(' - ', 1)
            if right.split()[0] == 'cgroup2':
                return left.split()[4]
    return None


def check_prerequisites():
    if os.environ.get('PCID_SANITIZED') == '1':
        skip('sanitizer build (LeakSanitizer needs ptrace, forbidden by SystemCallFilter=)')
    if os.geteuid() != 0:
        skip('needs root (namespaces, mounts, cgroups)')
    for tool in ('unshare', 'nsenter', 'systemd-sysusers', 'systemctl', 'journalctl',
                 'systemd-analyze', 'meson'):
        if not shutil.which(tool):
            skip(tool + ' not installed')
    if not os.access('/lib/systemd/systemd', os.X_OK):
        skip('/lib/systemd/systemd not installed')
    if os.path.exists('/run/systemd/system') and not os.environ.get('PCID_SYSTEMD_TEST_FORCE'):
        skip('this host runs systemd: booting a second one here would touch its cgroups '
             '(PCID_SYSTEMD_TEST_FORCE=1 to try anyway)')
    if not cgroup2_mount():
        skip('no cgroup2 mount')
    with open('/proc/filesystems') as f:
        if 'overlay' not in f.read():
            skip('no overlayfs')
    r = subprocess.run(['unshare', '--pid', '--fork', '--mount', '--cgroup', 'true'],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip('unshare refused: ' + r.stderr.strip())


def installed(pattern):
    """The path, once ROOT/usr is layered over /usr, of the one file under ROOT/usr matching
    `pattern`, e.g. '*/systemd/system/pcid.service'."""
    for dirpath, _, names in os.walk(os.path.join(ROOT, 'usr')):
        for n in names:
            path = os.path.join(dirpath, n)
            if fnmatch.fnmatch(path, pattern):
                return path[len(ROOT):]
    return None


def install(port):
    """meson install into ROOT, plus the test's target and drop-ins in ROOT/run-units.
    Returns the installed paths of the unit directory and the sysusers.d file."""
    shutil.rmtree(ROOT, ignore_errors=True)
    subprocess.run(['meson', 'install', '-C', BUILD, '--destdir', ROOT, '--no-rebuild',
                    '--quiet'], check=True, stdout=subprocess.DEVNULL)
    service, sysusers = installed('*/systemd/system/pcid.service'), \
        installed('*/sysusers.d/pcid.conf')
    if not service or not sysusers:
        skip('the prefix is outside /usr: the units cannot be layered over /usr')
    units = os.path.join(ROOT, 'run-units')
    files = {
        TARGET: '[Unit]\nDescription=pcid test system\nRequires=sysinit.target sockets.target\n'
                'After=sysinit.target sockets.target\n',
        # Test-only: a short watchdog, x-debug-hang, quick restarts.
        'pcid.service.d/test.conf': '[Service]\nWatchdogSec=%ds\nRestartSec=200ms\n'
                                    'Environment=PCID_DEBUG_COMMANDS=1\n' % WATCHDOG_SEC,
        # TCP ports are the host's: a free one instead of 8086.
        'pcid-rest.socket.d/test.conf': '[Socket]\nListenStream=\n'
                                        'ListenStream=/run/pcid/rest.sock\n'
                                        'ListenStream=127.0.0.1:%d\n' % port,
    }
    for name, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(units, name)), exist_ok=True)
        with open(os.path.join(units, name), 'w') as f:
            f.write(text)
    return os.path.dirname(service), sysusers


class System:
    """The booted manager: run commands inside, reach its files through /proc/PID/root."""

    def __init__(self):
        self.cgroup = os.path.join(cgroup2_mount(), 'pcid-test-%d' % os.getpid())
        self.log = open(os.path.join(BUILD, 'tests', 'systemd-boot.log'), 'w')
        self.unshare = None
        self.pid = None

    def boot(self):
        os.mkdir(self.cgroup)

        def join_cgroup():
            with open(os.path.join(self.cgroup, 'cgroup.procs'), 'w') as f:
                f.write(str(os.getpid()))
        self.unshare = subprocess.Popen(
            ['unshare', '--pid', '--fork', '--mount', '--cgroup', '--mount-proc',
             '--propagation', 'private', os.path.join(HERE, 'boot.sh'), ROOT, TARGET,
             SYSUSERS],
            preexec_fn=join_cgroup, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.unshare.poll() is not None:
                raise RuntimeError('the manager exited %d; see %s'
                                   % (self.unshare.returncode, self.log.name))
            self.pid = self.pid or self.child()
            if self.pid and self.run('systemctl', 'is-system-running', check=False).stdout \
                    .strip() in ('running', 'degraded'):
                return
            time.sleep(0.1)
        raise RuntimeError('the manager did not finish booting')

    def child(self):
        try:
            with open('/proc/%d/task/%d/children' % (self.unshare.pid, self.unshare.pid)) as f:
                kids = f.read().split()
            with open('/proc/%s/comm' % kids[0]) as f:
                return int(kids[0]) if f.read().strip() == 'systemd' else None
        except (OSError, IndexError):
            return None

    def run(self, *cmd, check=True, timeout=30):
        r = subprocess.run(['nsenter', '-t', str(self.pid), '-a'] + list(cmd),
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError('%s: exit %d\n%s%s' % (' '.join(cmd), r.returncode, r.stdout,
                                                       r.stderr))
        return r

    def path(self, p):
        return '/proc/%d/root%s' % (self.pid, p)

    def show(self, unit, *props):
        out = self.run('systemctl', 'show', unit, '-p', ','.join(props)).stdout
        return dict(line.split('=', 1) for line in out.splitlines() if '=' in line)

    def journal(self, unit='pcid.service'):
        out = self.run('journalctl', '-u', unit, '-o', 'json', '--no-pager').stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def poweroff(self):
        if self.pid:
            self.run('systemctl', 'poweroff', '--no-block', check=False)
        if self.unshare:
            try:
                self.unshare.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.unshare.wait(10)
        self.log.close()
        # Children first: systemd leaves its slices behind.
        for dirpath, dirs, _ in sorted(os.walk(self.cgroup), key=lambda w: -len(w[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError('timed out waiting for ' + what)


class Systemd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        try:
            cls.sys.boot()
        except Exception:
            cls.sys.poweroff()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sys.poweroff()

    def run(self, result=None):
        """On the first failure, print the journal once: the manager is gone afterwards."""
        failures = len(result.failures) + len(result.errors) if result else 0
        r = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures and \
                not getattr(Systemd, 'dumped', False):
            Systemd.dumped = True
            print(self.sys.run('journalctl', '-b', '--no-pager', '-n', '150',
                               check=False).stdout)
        return r

    def qmp(self):
        return Qmp(self.sys.path('/run/pcid/qmp.sock'))

    def active(self, unit='pcid.service'):
        return self.sys.run('systemctl', 'is-active', unit, check=False).stdout.strip()

    def main_pid(self):
        return int(self.sys.show('pcid.service', 'MainPID')['MainPID'])

    def wait_restarted(self, old_pid, restarts, timeout):
        def done():
            s = self.sys.show('pcid.service', 'MainPID', 'NRestarts', 'ActiveState')
            return (s['ActiveState'] == 'active' and int(s['MainPID']) not in (0, old_pid) and
                    int(s['NRestarts']) == restarts)
        wait(done, timeout, 'pcid to be restarted (restart #%d)' % restarts)

    def uid(self, name):
        with open(self.sys.path('/etc/passwd')) as f:
            for line in f:
                fields = line.split(':')
                if fields[0] == name:
                    return int(fields[2]), int(fields[3])
        self.fail('no user ' + name)

    def write_config(self, obj):
        os.makedirs(self.sys.path('/etc/pcid'), exist_ok=True)
        with open(self.sys.path('/etc/pcid/pcid.json'), 'w') as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))

    def remove_config(self):
        os.unlink(self.sys.path('/etc/pcid/pcid.json'))

    def test_01_units_and_sockets(self):
        r = self.sys.run('systemctl', 'enable', '--runtime', 'pcid.service')
        self.assertIn('pcid.socket', r.stderr)  # Also=: enabling the service enables both
        self.assertIn('pcid-rest.socket', r.stderr)
        self.sys.run('systemctl', 'start', 'pcid.socket', 'pcid-rest.socket')
        self.assertEqual(self.active('pcid.socket'), 'active')
        self.assertEqual(self.active('pcid-rest.socket'), 'active')
        self.assertEqual(self.active(), 'inactive')  # nobody connected yet
        uid, gid = self.uid('pcid')
        st = os.stat(self.sys.path('/run/pcid'))  # tmpfiles.d
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777), (uid, gid, 0o750))
        for sock in ('qmp.sock', 'rest.sock'):
            st = os.stat(self.sys.path('/run/pcid/' + sock))
            self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (0, gid, 0o660), sock)

    def test_02_socket_activation(self):
        q = self.qmp()  # the first connection starts pcid
        self.assertIn('QMP', q.greeting)
        wait(lambda: self.active() == 'active', 20, 'READY=1')
        s = self.sys.show('pcid.service', 'MainPID', 'NRestarts', 'StatusText', 'Type')
        self.assertEqual(s['StatusText'], 'machine pcid-pc-1.1: 4 PCI functions (0 added)')
        self.assertEqual(s['NRestarts'], '0')
        with open(self.sys.path('/proc/%s/status' % s['MainPID'])) as f:
            uids = [l.split()[1:] for l in f if l.startswith('Uid:')][0]
        self.assertEqual(set(uids), {str(self.uid('pcid')[0])})
        self.assertEqual(q.cmd('query-status')['status'], 'running')
        q.close()

    def test_03_devices(self):
        q = self.qmp()
        q.cmd('device_add', driver='e1000', id='nic1', addr='5')
        q.cmd('device_add', driver='virtio-net-pci', id='net0', addr='3')
        wait(lambda: self.sys.show('pcid.service', 'StatusText')['StatusText'] ==
             'machine pcid-pc-1.1: 6 PCI functions (2 added)', 10, 'STATUS= after device_add')
        conn = UnixHTTPConnection(self.sys.path('/run/pcid/rest.sock'))
        conn.request('GET', '/v1/devices/nic1')
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.read())['bdf'], '0000:00:05.0')
        import http.client
        conn = http.client.HTTPConnection('127.0.0.1', PORT, timeout=10)
        conn.request('GET', '/v1/devices/net0')
        self.assertEqual(conn.getresponse().status, 200)
        self.assertIn('id "net0"', q.hmp('info pci'))
        q.close()

    def test_04_journal_fields(self):
        def entries():
            return [e for e in self.sys.journal() if e.get('MESSAGE_ID') == ID['added']]
        added = wait(lambda: [e for e in entries() if e.get('PCID_DEVICE') == 'nic1'], 10,
                     'the hot-add entry in the journal')[0]
        self.assertEqual(added['PCID_BDF'], '0000:00:05.0')
        self.assertEqual(added['PCID_DRIVER'], 'e1000')
        self.assertEqual(added['PCID_HOTPLUG'], '1')
        self.assertEqual(added['PRIORITY'], '6')
        self.assertEqual(added['SYSLOG_IDENTIFIER'], 'pcid')
        self.assertEqual(added['MESSAGE'], "hot-added e1000 'nic1' at 0000:00:05.0")
        start = [e for e in self.sys.journal() if e.get('MESSAGE_ID') == ID['start']]
        self.assertEqual(len(start), 1)
        self.assertIn('QMP unix:/run/pcid/qmp.sock (systemd); REST unix:/run/pcid/rest.sock '
                      '(systemd), tcp:127.0.0.1:%d (systemd)' % PORT, start[0]['MESSAGE'])
        self.assertIn('watchdog on', start[0]['MESSAGE'])

    def test_05_reload(self):
        before = self.qmp().hmp('info pci')
        self.write_config({'log-level': 'debug', 'limits': {'qmp-clients': 2}})
        self.sys.run('systemctl', 'reload', 'pcid.service')
        rel = wait(lambda: [e for e in self.sys.journal() if e.get('MESSAGE_ID') == ID['reload']],
                   10, 'the reload entry')
        self.assertIn('reloaded /etc/pcid/pcid.json: log level debug, limits qmp-clients=2',
                      rel[-1]['MESSAGE'])
        wait(lambda: self.active() == 'active', 10, 'READY=1 after the reload')
        a, b = self.qmp(), self.qmp()
        with self.assertRaises((EOFError, ConnectionResetError)):
            self.qmp()  # a third client is over the limit
        self.assertEqual(a.hmp('info pci'), before)
        a.close()
        b.close()
        self.remove_config()
        self.sys.run('systemctl', 'reload', 'pcid.service')
        wait(lambda: len([e for e in self.sys.journal() if e.get('MESSAGE_ID') == ID['reload']])
             == 2, 10, 'the second reload')
        self.assertEqual(self.sys.show('pcid.service', 'NRestarts')['NRestarts'], '0')

    def addresses(self, q):
        """{id: BDF} of the devices added."""
        return {d['id']: d['bdf'] for d in q.cmd('query-pci-devices') if d['id']}

    def test_06_kill_9_restarts(self):
        q = self.qmp()
        where = self.addresses(q)
        self.assertEqual(where, {'nic1': '0000:00:05.0', 'net0': '0000:00:03.0'})
        # A restart is a reset of the machine (the firmware places the BARs again): compare
        # with the machine as a reset leaves it.
        q.cmd('system_reset')
        before = q.hmp('info pci')
        q.close()
        # The description is on disk, in StateDirectory=, written by user pcid.
        st = os.stat(self.sys.path('/var/lib/pcid/machine.json'))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.uid('pcid')[0], 0o640))
        with open(self.sys.path('/var/lib/pcid/machine.json')) as f:
            self.assertEqual([d.get('id') for d in json.load(f)['devices']], ['nic1', 'net0'])
        pid = self.main_pid()
        self.sys.run('kill', '-9', str(pid))
        # Active means READY=1 came: by then the machine is restored.
        self.wait_restarted(pid, 1, 20)
        self.assertEqual(self.sys.show('pcid.service', 'StatusText')['StatusText'],
                         'machine pcid-pc-1.1: 6 PCI functions (2 added)')
        q = self.qmp()  # the same socket serves the new process
        self.assertEqual(q.cmd('query-status')['status'], 'running')
        self.assertEqual(self.addresses(q), where)
        self.assertEqual(q.hmp('info pci'), before)
        q.close()
        # The restored devices are logged as cold-plugged by the new process.
        restored = [e for e in self.sys.journal() if e.get('MESSAGE_ID') == ID['added'] and
                    e.get('PCID_DEVICE') == 'nic1' and e.get('PCID_HOTPLUG') == '0']
        self.assertEqual(len(restored), 1)
        self.assertEqual(restored[0]['_PID'], str(self.main_pid()))
        self.assertEqual(restored[0]['PCID_BDF'], '0000:00:05.0')

    def test_07_watchdog_restarts_a_hung_loop(self):
        pid = self.main_pid()
        q = self.qmp()
        q.send_raw('{"execute": "x-debug-hang"}\n')
        self.wait_restarted(pid, 2, WATCHDOG_SEC * 3 + 10)
        msgs = [e.get('MESSAGE', '') for e in self.sys.journal()]
        self.assertTrue(any('Watchdog timeout' in m for m in msgs), msgs[-20:])
        q = self.qmp()
        self.assertEqual(self.addresses(q), {'nic1': '0000:00:05.0', 'net0': '0000:00:03.0'})
        q.close()

    def test_08_exit_78_is_not_restarted(self):
        self.write_config({'machine': 'pc', 'vpcus': 2})
        self.sys.run('systemctl', 'restart', 'pcid.service', check=False)
        wait(lambda: self.active() == 'failed', 20, 'pcid to fail')
        first = self.sys.show('pcid.service', 'NRestarts')['NRestarts']
        time.sleep(1)  # RestartSec is 200 ms: a restart would have happened
        s = self.sys.show('pcid.service', 'ExecMainStatus', 'Result', 'NRestarts', 'ActiveState')
        self.assertEqual((s['ExecMainStatus'], s['Result'], s['ActiveState']),
                         ('78', 'exit-code', 'failed'))
        self.assertEqual(s['NRestarts'], first)
        errors = [e for e in self.sys.journal() if e.get('MESSAGE_ID') == ID['error']]
        self.assertIn("/etc/pcid/pcid.json: unknown key 'vpcus'", errors[-1]['MESSAGE'])
        self.assertEqual(errors[-1]['PRIORITY'], '3')
        self.remove_config()
        self.sys.run('systemctl', 'reset-failed', 'pcid.service')
        self.qmp().cmd('query-status')  # the sockets start it again
        wait(lambda: self.active() == 'active', 20, 'activation after the failure')

    def test_09_clean_stop(self):
        self.sys.run('systemd-analyze', 'log-level', 'debug')  # to see the notifications
        self.sys.run('systemctl', 'stop', 'pcid.service')
        self.sys.run('systemd-analyze', 'log-level', 'info')
        s = self.sys.show('pcid.service', 'ActiveState', 'Result', 'ExecMainStatus',
                          'ExecMainCode')
        self.assertEqual((s['ActiveState'], s['Result'], s['ExecMainStatus']),
                         ('inactive', 'success', '0'))
        self.assertEqual(s['ExecMainCode'], '1')  # CLD_EXITED, not killed
        journal = self.sys.journal()
        self.assertTrue(any(e.get('MESSAGE_ID') == ID['stop'] for e in journal))
        self.assertTrue(any('STOPPING=1' in e.get('MESSAGE', '') for e in journal),
                        [e.get('MESSAGE') for e in journal[-30:]])
        # Both socket units keep listening (pcid never shuts a passed socket down), and the
        # next request, over REST this time, starts pcid again.
        self.assertEqual(self.active('pcid.socket'), 'active')
        self.assertEqual(self.active('pcid-rest.socket'), 'active')
        conn = UnixHTTPConnection(self.sys.path('/run/pcid/rest.sock'))
        conn.request('GET', '/v1/pci')
        self.assertEqual(conn.getresponse().status, 200)
        wait(lambda: self.active() == 'active', 20, 'activation over REST')

    def test_10_analyze(self):
        unitdir = UNITDIR + '/'
        r = self.sys.run('systemd-analyze', 'verify', '--man=no', unitdir + 'pcid.service',
                         unitdir + 'pcid.socket', unitdir + 'pcid-rest.socket')
        self.assertEqual(r.stdout + r.stderr, '')  # not even a warning
        r = self.sys.run('systemd-analyze', 'security', '--threshold=10', 'pcid.service')
        level = float(r.stdout.rsplit('Overall exposure level for pcid.service: ', 1)[1]
                      .split()[0])
        self.assertLessEqual(level, 1.0)


if __name__ == '__main__':
    check_prerequisites()
    PORT = free_port()
    UNITDIR, SYSUSERS = install(PORT)
    unittest.main()
