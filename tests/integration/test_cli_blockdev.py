# SPDX-License-Identifier: MIT
"""pcid's command line (help, version, usage errors, cold-plug, exit codes) and host-side block
backends (--blockdev, blockdev-add, blockdev-del refused while in use, the listing)."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import PCID, Pcid, QmpError  # noqa: E402


def run(*args):
    """pcid run directly (not through the harness): never with the user's state directory."""
    env = dict(os.environ)
    env.pop('STATE_DIRECTORY', None)
    return subprocess.run([PCID, '--no-state'] + list(args), capture_output=True, text=True,
                          timeout=30, env=env)


class CommandLine(unittest.TestCase):
    def test_version_and_help(self):
        p = run('--version')
        self.assertEqual((p.returncode, p.stdout.strip()), (0, 'pcid 0.1.0'))
        p = run('--help')
        self.assertEqual(p.returncode, 0)
        for opt in ('--machine', '--device', '--blockdev', '--qmp', '--rest', '--guest'):
            self.assertIn(opt, p.stdout)

    def test_usage_errors_exit_2(self):
        for args in (['--frobnicate'], ['--qmp', 'tcp:1.2.3.4:5'], ['--rest', 'x'],
                     ['--guest', 'nosuch'], ['--vcpus', '0'], ['extra-argument']):
            p = run(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn('pcid:', p.stderr)

    def test_config_errors_exit_78(self):
        d = tempfile.mkdtemp()
        socks = ['--qmp', 'unix:%s/q.sock' % d, '--rest', 'unix:%s/r.sock' % d]
        p = run('--machine', 'nosuch', *socks)
        self.assertEqual(p.returncode, 78)
        self.assertIn('unsupported machine type "nosuch"', p.stderr)
        p = run('--device', 'e1000,addr=zz', *socks)
        self.assertEqual(p.returncode, 78)
        self.assertIn("Property 'e1000.addr' doesn't take value 'zz'", p.stderr)
        p = run('--device', 'virtio-blk-pci,drive=none', *socks)
        self.assertEqual(p.returncode, 78)
        p = run('--blockdev', 'driver=qcow2,node-name=x', *socks)
        self.assertEqual(p.returncode, 78)

    def test_socket_in_use_exit_78(self):
        with Pcid() as d:
            p = run('--qmp', 'unix:' + d.qmp_path, '--rest', 'unix:%s/other.sock' % d.dir)
            self.assertEqual(p.returncode, 78)
            self.assertIn('in use', p.stderr)
            # The running daemon's socket survived.
            self.assertEqual(d.qmp().cmd('query-status')['status'], 'prelaunch')

    def test_cold_plug(self):
        with Pcid(args=['--blockdev', 'driver=null-co,node-name=d0',
                        '--device', 'virtio-blk-pci,id=disk,drive=d0,addr=5',
                        '--device', 'e1000,id=nic,addr=0x6.1',
                        '--device', 'e1000,id=nic0,addr=0x6.0,multifunction=on']) as d:
            q = d.qmp()
            devs = {x['id']: x['bdf'] for x in q.cmd('query-pci-devices') if x['id']}
            self.assertEqual(devs, {'disk': '0000:00:05.0', 'nic': '0000:00:06.1',
                                    'nic0': '0000:00:06.0'})
            # Cold-plugged devices are hot-unpluggable like any other.
            q.cmd('device_del', id='nic0')

    def test_sigterm_is_clean(self):
        d = Pcid().start()
        try:
            self.assertEqual(d.stop(), 0)
            self.assertFalse(os.path.exists(d.qmp_path))
        finally:
            d.__exit__(None, None, None)


class Blockdev(unittest.TestCase):
    def test_lifecycle(self):
        with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0,size=1G']) as d:
            q = d.qmp()
            nodes = q.cmd('query-named-block-nodes')
            self.assertEqual([(n['node-name'], n['drv'], n['image']['virtual-size'], n['users'])
                              for n in nodes], [('null0', 'null-co', 1 << 30, [])])
            q.cmd('blockdev-add', driver='null-co', **{'node-name': 'null1', 'size': 4096})
            for args, desc in [
                ({'driver': 'null-co', 'node-name': 'null1'},
                 "Duplicate nodes with node-name='null1'"),
                ({'driver': 'null-co', 'node-name': '1x'}, "Invalid node-name: '1x'"),
                ({'driver': 'raw', 'node-name': 'r'},
                 "Parameter 'driver' does not accept value 'raw'"),
                ({'driver': 'null-co', 'node-name': 'y', 'bogus': 1},
                 "Parameter 'bogus' is unexpected"),
            ]:
                with self.assertRaises(QmpError) as cm:
                    q.cmd('blockdev-add', **args)
                self.assertEqual(cm.exception.args[0]['desc'], desc)
            q.cmd('device_add', driver='virtio-blk-pci', id='b1', drive='null1')
            users = {n['node-name']: n['users'] for n in q.cmd('query-named-block-nodes')}
            self.assertEqual(users, {'null0': [], 'null1': ['b1']})
            with self.assertRaises(QmpError) as cm:
                q.cmd('blockdev-del', **{'node-name': 'null1'})
            self.assertEqual(cm.exception.args[0]['desc'], 'Node null1 is in use')
            # A second device on the same node is refused at attach time.
            with self.assertRaises(QmpError) as cm:
                q.cmd('device_add', driver='virtio-blk-pci', id='b2', drive='null1')
            self.assertIn("Permission conflict on node 'null1'", cm.exception.args[0]['desc'])
            # Once the device is gone the node is free and can be deleted.
            q.cmd('device_del', id='b1')
            q.cmd('system_reset')
            q.cmd('blockdev-del', **{'node-name': 'null1'})
            with self.assertRaises(QmpError) as cm:
                q.cmd('blockdev-del', **{'node-name': 'null1'})
            self.assertEqual(cm.exception.args[0]['desc'],
                             "Failed to find node with node-name='null1'")
            self.assertEqual([n['node-name'] for n in q.cmd('query-named-block-nodes')],
                             ['null0'])


if __name__ == '__main__':
    unittest.main()
