# SPDX-License-Identifier: MIT
"""query-pci and info pci answered from the command layer's cache never go stale.

pcid keeps the serialized answers of query-pci (QMP's and REST's form) and of
human-monitor-command "info pci", checked against the machine on every query (api/query_cache.h).
Each case changes one thing the answers show — a BAR programmed by the guest, the Command
register, the interrupt line, a bridge's bus numbers, a device added, a device removed — and
checks that the very next query of every front door shows it, and that a repeated query gives
the same bytes.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import Guest, Pcid  # noqa: E402

NIC = 0x3 << 3      # 00:03.0, e1000 (BAR0 memory 128 KiB, BAR1 I/O 64 bytes)
BRIDGE = 0x5 << 3   # 00:05.0, pci-bridge br1 with an e1000 in its slot 1


def find(pci, bus, devfn):
    """The device at bus/devfn in a query-pci answer (bridges' devices included)."""
    stack = [d for b in pci for d in b['devices']]
    while stack:
        d = stack.pop()
        if d['bus'] == bus and (d['slot'] << 3 | d['function']) == devfn:
            return d
        stack.extend(d.get('pci_bridge', {}).get('devices', []))
    return None


class QueryCache(unittest.TestCase):
    def setUp(self):
        self.d = Pcid(['--device', 'e1000,id=nic0,addr=0x3',
                       '--device', 'pci-bridge,id=br1,chassis_nr=1,addr=0x5',
                       '--device', 'e1000,id=nic1,bus=br1,addr=0x1'], guest='none',
                      state_dir=False).start()
        self.q = self.d.qmp()
        self.g = Guest(self.d.access_path)

    def tearDown(self):
        self.g.sock.close()
        self.q.close()
        self.d.__exit__(None, None, None)  # checks the log for sanitizer reports

    def views(self):
        """(QMP query-pci, REST /v1/pci, info pci text); each asked twice, same bytes."""
        qmp = self.q.cmd('query-pci')
        self.assertEqual(qmp, self.q.cmd('query-pci'))
        st, rest, _ = self.d.rest('GET', '/v1/pci')
        self.assertEqual(st, 200)
        self.assertEqual(rest, qmp)
        text = self.q.hmp('info pci')
        self.assertEqual(text, self.q.hmp('info pci'))
        return qmp, text

    def cfg(self, devfn, off, val, size):
        self.g.cfg_write(0, devfn, off, val, size, ecam=False)

    def test_bar_programming(self):
        pci, text = self.views()
        self.assertEqual(find(pci, 0, NIC)['regions'][0]['address'], -1)
        self.cfg(NIC, 0x10, 0xfeb00000, 4)
        pci, text = self.views()
        self.assertEqual(find(pci, 0, NIC)['regions'][0]['address'], -1,
                         'decoding is still off')
        self.cfg(NIC, 0x04, 0x0003, 2)  # I/O and memory decoding on
        pci, text = self.views()
        self.assertEqual(find(pci, 0, NIC)['regions'][0]['address'], 0xfeb00000)
        self.assertIn('0xfeb00000', text)
        self.cfg(NIC, 0x10, 0xfea00000, 4)
        pci, text = self.views()
        self.assertEqual(find(pci, 0, NIC)['regions'][0]['address'], 0xfea00000)
        self.assertIn('0xfea00000', text)
        self.assertNotIn('0xfeb00000', text)
        self.cfg(NIC, 0x04, 0x0000, 2)
        pci, _ = self.views()
        self.assertEqual(find(pci, 0, NIC)['regions'][0]['address'], -1)

    def test_interrupt_line(self):
        pci, _ = self.views()
        self.assertEqual(find(pci, 0, NIC)['irq'], 0)
        self.cfg(NIC, 0x3c, 11, 1)
        pci, text = self.views()
        self.assertEqual(find(pci, 0, NIC)['irq'], 11)
        self.assertIn('IRQ 11', text)

    def test_bridge_bus_numbers(self):
        pci, _ = self.views()
        self.assertIsNone(find(pci, 1, 1 << 3), 'no bus number yet: nothing behind the bridge')
        self.cfg(BRIDGE, 0x18, 0x010100, 4)  # primary 0, secondary 1, subordinate 1
        pci, text = self.views()
        nic1 = find(pci, 1, 1 << 3)
        self.assertIsNotNone(nic1)
        self.assertEqual(nic1['qdev_id'], 'nic1')
        self.assertIn('Bus  1, device   1, function 0', text)
        self.cfg(BRIDGE, 0x18, 0, 4)
        pci, _ = self.views()
        self.assertIsNone(find(pci, 1, 1 << 3))

    def test_add_and_remove(self):
        pci, text = self.views()
        self.assertIsNone(find(pci, 0, 0x4 << 3))
        self.q.cmd('device_add', driver='e1000', id='nic2', addr='0x4')
        pci, text = self.views()
        self.assertEqual(find(pci, 0, 0x4 << 3)['qdev_id'], 'nic2')
        self.assertIn('id "nic2"', text)
        self.q.cmd('device_del', id='nic2')
        self.q.cmd('system_reset')  # no guest: the reset completes the removal
        pci, text = self.views()
        self.assertIsNone(find(pci, 0, 0x4 << 3))
        self.assertNotIn('nic2', text)


if __name__ == '__main__':
    unittest.main()
