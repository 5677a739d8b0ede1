# SPDX-License-Identifier: MIT
"""The bash completion file (client/pcictl.bash-completion) in a real bash: commands, each
command's options, and what it asks the running daemon for (device ids, bus names, drivers,
QMP commands), with the built-in lists when the daemon is not there. Every pcictl command of
`pcictl --help` is offered.
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import PCICTL, Pcid  # noqa: E402

COMPLETION = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'client',
                          'pcictl.bash-completion')


@unittest.skipUnless(shutil.which('bash'), 'bash not installed')
class Completion(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.d = Pcid(args=['--device', 'e1000,id=nic0,addr=5']).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def complete(self, line, socket=None):
        """COMPREPLY for the command line `line` (the cursor at its end)."""
        words = [PCICTL, '--socket', socket or self.d.rest_path] + line.split(' ')
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                  'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _pcictl; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        p = subprocess.run(['bash', '--norc', '-c', script, 'bash', COMPLETION] + words,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return sorted(w for w in p.stdout.splitlines() if w)

    def test_commands(self):
        usage = subprocess.run([PCICTL, '--help'], capture_output=True, text=True).stdout
        listed = re.findall(r'^  ([a-z]+)\b', usage.split('Commands:')[1].split('Options:')[0],
                            re.M)
        # A command with subcommands has a usage line per form (machine, machine dump).
        self.assertEqual(self.complete(''), sorted(set(listed)))
        self.assertEqual(self.complete('ev'), ['events'])
        self.assertEqual(self.complete('--j'), ['--json'])

    def test_options(self):
        cases = {
            'lspci -': ['--help', '--json', '-s', '-x', '-xxx', '-xxxx'],
            'events --': ['--after', '--help', '--json', '--no-follow'],
            'del nic0 --': ['--help', '--json', '--wait'],
            'caps nic0 --': ['--help', '--json'],
            'add e1000 --d': ['--dry-run'],
            'machine --': ['--help', '--json'],
            'monitor --': ['--help', '--json'],
            'info ': ['pci'],
            'machine ': ['dump'],
            'state ': ['list', 'load', 'save'],
            'state --': ['--help', '--json'],
        }
        for line, want in cases.items():
            self.assertEqual(self.complete(line), want, line)

    def test_from_the_daemon(self):
        self.assertEqual(self.complete('del n'), ['nic0'])
        self.assertEqual(self.complete('slots --bus '), ['pci.0'])
        self.assertEqual(self.complete('add e1000-'), ['e1000-82544gc', 'e1000-82545em'])
        self.assertIn('virtio-blk-pci-non-transitional', self.complete('add virtio-blk'))
        q = self.d.qmp()
        commands = sorted(c['name'] for c in q.cmd('query-commands'))
        q.close()
        self.assertEqual(self.complete('qmp '), commands)
        # Snapshot names for `state load` come from `pcictl state list`.
        q = self.d.qmp()
        for name in ('snap-1', 'other'):
            self.assertEqual(q.cmd('state-save', name=name)['name'], name)
        q.close()
        self.assertEqual(self.complete('state load sn'), ['snap-1'])
        self.assertEqual(self.complete('state load '), ['other', 'snap-1'])
        self.assertEqual(self.complete('state save '), [])

    def test_without_daemon(self):
        gone = '/nonexistent/rest.sock'
        self.assertEqual(self.complete('del ', gone), [])
        self.assertIn('query-pci-machine', self.complete('qmp query-pci', gone))
        self.assertEqual(self.complete('qmp state-', gone), ['state-load', 'state-save'])
        self.assertEqual(self.complete('state load ', gone), [])
        self.assertEqual(self.complete('add virtio-n', gone), ['virtio-net-pci'])


if __name__ == '__main__':
    unittest.main()
