#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Native hot-plug with the cooperative guest: its pciehp and shpchp drivers, end to end over
QMP. The register-level behaviour is compared with QEMU 7.2 by the access replay
(tests/data/access/scripts/q35-native-hotplug.txt); here the guest drives the slots itself.

With ACPI PCI hotplug for bridges off (QEMU's -global ICH9-LPC.acpi-pci-hotplug-with-bridge-
support=off; on pc PIIX4_PM's), cold-plugged root ports keep their native slots and bridges
their SHPC; bridges hot-added on pc's root bus get theirs through the guest's ACPI driver.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcid_harness import TIME_FACTOR, Pcid, QmpError  # noqa: E402
from test_guest import all_devices, find_dev, wait_deleted  # noqa: E402

Q35_NATIVE = ['--machine', 'q35', '--global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off']
RP = 'pcie-root-port,id=rp%d,bus=pcie.0,chassis=1,slot=%d,addr=0%d.0'


def rp(n):
    return ['--device', RP % (n, n, n + 3)]


def wait_mapped(q, dev_id, bars, timeout=5.0):
    """Wait until BARs `bars` of dev_id are assigned; returns its query-pci entry."""
    deadline = time.monotonic() + timeout * TIME_FACTOR
    d = None
    while time.monotonic() < deadline:
        d = find_dev(q, dev_id)
        if d and all(r['address'] != -1 for r in d['regions'] if r['bar'] in bars):
            return d
        time.sleep(0.01)
    raise AssertionError('the guest did not configure %s: %s' % (dev_id, d))


def bridge(q, bridge_id):
    return [d for d in all_devices(q.cmd('query-pci')) if d.get('qdev_id') == bridge_id][0]


def assert_inside(test, dev, br):
    """Every assigned BAR of `dev` lies in the window of bridge `br` that decodes it."""
    ranges = br['pci_bridge']['bus']
    for r in dev['regions']:
        if r['address'] == -1:
            continue
        if r['type'] == 'io':
            win = [ranges['io_range']]
        elif r.get('prefetch'):
            win = [ranges['prefetchable_range'], ranges['memory_range']]
        else:
            win = [ranges['memory_range']]
        test.assertTrue(any(w['base'] <= r['address'] and r['address'] + r['size'] - 1 <=
                            w['limit'] for w in win), (r, win))


def deleted_event(q, dev_id, timeout=5.0):
    deadline = time.monotonic() + timeout * TIME_FACTOR
    while time.monotonic() < deadline:
        for e in q.events:
            if e['event'] == 'DEVICE_DELETED' and e['data'].get('device') == dev_id:
                return e
        q.wait_events(len(q.events) + 1, timeout=0.2)
    raise AssertionError('no DEVICE_DELETED for %s' % dev_id)


class PcieNative(unittest.TestCase):
    def test_hotadd_and_remove_behind_root_port(self):
        with Pcid(args=Q35_NATIVE + rp(1) + rp(2) + ['--device', 'e1000,id=e2,bus=rp2'],
                  guest='cooperative') as d:
            q = d.qmp()
            timings = []
            for i in range(3):
                q.cmd('device_add', driver='virtio-net-pci', id='n1', bus='rp1')
                n1 = wait_mapped(q, 'n1', (1, 4))
                self.assertEqual((n1['bus'], n1['slot'], n1['function']), (1, 0, 0))
                assert_inside(self, n1, bridge(q, 'rp1'))
                # rp1 is slot 4 of pcie.0: pin A -> PIRQE, routed to IRQ 10 by the firmware
                self.assertEqual(n1['irq'], 10)
                t0 = time.monotonic()
                q.cmd('device_del', id='n1')
                wait_deleted(q, 'n1')
                timings.append(time.monotonic() - t0)
                self.assertIsNone(find_dev(q, 'n1'))
            # The default eject delay is 20 ms: well under a second.
            self.assertLess(max(timings), 0.5 * TIME_FACTOR, timings)
            # The cold-plugged device goes the same way, with QEMU's event.
            q.events.clear()
            q.cmd('device_del', id='e2')
            self.assertEqual(deleted_event(q, 'e2')['data'],
                             {'device': 'e2', 'path': '/machine/peripheral/e2'})
            # An e1000 behind a root port without an I/O window: memory assigned, I/O not
            # (SeaBIOS gave rp1 no I/O window: nothing behind it needed one at boot).
            q.cmd('device_add', driver='e1000', id='e1', bus='rp1')
            e1 = wait_mapped(q, 'e1', (0,))
            self.assertEqual([r['address'] for r in e1['regions'] if r['bar'] == 1], [-1])
            assert_inside(self, e1, bridge(q, 'rp1'))

    def test_qemu_refusals_and_expiry(self):
        # A guest that takes 6 s to eject: a second request is refused while pending; after
        # QEMU's 5 s the request expires, but the guest still blinks: "guest is busy".
        with Pcid(args=Q35_NATIVE + rp(1) + ['--device', 'e1000,id=e1,bus=rp1',
                                             '--eject-delay', '6000'],
                  guest='cooperative') as d:
            q = d.qmp()
            t0 = time.monotonic()
            q.cmd('device_del', id='e1')
            with self.assertRaises(QmpError) as cm:
                q.cmd('device_del', id='e1')
            self.assertEqual(cm.exception.args[0]['desc'],
                             'Device e1 is already in the process of unplug')
            time.sleep(max(0.0, 5.3 - (time.monotonic() - t0)))
            if time.monotonic() - t0 < 5.9:  # a loaded machine may be too late to look
                with self.assertRaises(QmpError) as cm:
                    q.cmd('device_del', id='e1')
                self.assertEqual(cm.exception.args[0]['desc'],
                                 'Hot-unplug failed: guest is busy (power indicator blinking)')
            wait_deleted(q, 'e1', timeout=5.0)
            self.assertGreaterEqual(time.monotonic() - t0, 6.0)

    def test_boot_enables_slot_notification(self):
        # pciehp at boot, as Linux: Hot-Plug Interrupt, Command Completed and Attention Button
        # enables (the slot has a button, so not Presence Detect), MSI-X on, INTx off.
        with Pcid(args=Q35_NATIVE + rp(1), guest='cooperative') as d:
            q = d.qmp()
            cfg = bytes.fromhex(q.cmd('query-pci-config', id='rp1')['data'])
            cap = 0x54  # the PCI Express capability of QEMU's root port
            self.assertEqual(cfg[cap], 0x10)
            sltctl = int.from_bytes(cfg[cap + 0x18:cap + 0x1a], 'little')
            self.assertEqual(sltctl & 0x103f, 0x0031)
            self.assertEqual(int.from_bytes(cfg[0x4a:0x4c], 'little') & 0xc000, 0x8000)
            self.assertTrue(int.from_bytes(cfg[4:6], 'little') & 0x400)

    def test_acpi_ports_left_to_acpi(self):
        # QEMU 7.2's default: cold-plugged ports belong to ACPI; the guest leaves their slots
        # alone (no pciehp), so a hot-added device is configured only by the next boot.
        with Pcid(args=['--machine', 'q35'] + rp(1), guest='cooperative') as d:
            q = d.qmp()
            cfg = bytes.fromhex(q.cmd('query-pci-config', id='rp1')['data'])
            self.assertEqual(int.from_bytes(cfg[0x54 + 0x18:0x54 + 0x1a], 'little') & 0x3f, 0)
            q.cmd('device_add', driver='e1000', id='e1', bus='rp1')
            time.sleep(0.2)
            self.assertEqual({r['address'] for r in find_dev(q, 'e1')['regions']}, {-1})
            q.cmd('system_reset')
            wait_mapped(q, 'e1', (0, 1))


class ShpcNative(unittest.TestCase):
    def test_hotadd_and_remove_behind_shpc(self):
        for msi in ('on', 'off'):  # MSI, and INTx
            with self.subTest(msi=msi), Pcid(
                    args=Q35_NATIVE + ['--device', 'pcie-pci-bridge,id=pb,bus=pcie.0,addr=0x10',
                                       '--device', 'pci-bridge,id=b1,bus=pb,chassis_nr=1,'
                                       'addr=3,msi=' + msi,
                                       '--device', 'e1000,id=c1,bus=b1,addr=1'],
                    guest='cooperative') as d:
                q = d.qmp()
                q.cmd('device_add', driver='e1000', id='h2', bus='b1', addr='2')
                h2 = wait_mapped(q, 'h2', (0, 1))
                assert_inside(self, h2, bridge(q, 'b1'))
                t0 = time.monotonic()
                q.cmd('device_del', id='h2')
                wait_deleted(q, 'h2')
                q.cmd('device_del', id='c1')
                wait_deleted(q, 'c1')
                self.assertLess(time.monotonic() - t0, 1.0 * TIME_FACTOR)
                self.assertEqual([x for x in all_devices(q.cmd('query-pci'))
                                  if x.get('qdev_id') in ('h2', 'c1')], [])


class HotAddedBridges(unittest.TestCase):
    def test_pc_hotadded_bridge_and_root_port(self):
        # pc: a pci-bridge and a pcie-root-port hot-added on pci.0 reach the guest through
        # ACPI; it numbers their buses and opens windows, then their own controllers (SHPC,
        # native slot) take the devices added behind them.
        with Pcid(args=['--device', 'virtio-net-pci,id=n0,addr=3'], guest='cooperative') as d:
            q = d.qmp()
            q.cmd('device_add', driver='pci-bridge', id='hb', chassis_nr=2, addr='7')
            q.cmd('device_add', driver='pcie-root-port', id='hr', chassis=3, slot=3, addr='8')
            deadline = time.monotonic() + 5 * TIME_FACTOR
            while time.monotonic() < deadline and not all(
                    bridge(q, b)['pci_bridge']['bus']['secondary'] for b in ('hb', 'hr')):
                time.sleep(0.01)
            self.assertEqual(sorted(bridge(q, b)['pci_bridge']['bus']['secondary']
                                    for b in ('hb', 'hr')), [1, 2])
            q.cmd('device_add', driver='e1000', id='he', bus='hb', addr='1')
            q.cmd('device_add', driver='virtio-net-pci', id='hn', bus='hr')
            assert_inside(self, wait_mapped(q, 'he', (0, 1)), bridge(q, 'hb'))
            assert_inside(self, wait_mapped(q, 'hn', (1, 4)), bridge(q, 'hr'))
            for dev in ('he', 'hn', 'hb', 'hr'):
                q.cmd('device_del', id=dev)
                wait_deleted(q, dev)
            self.assertEqual(sorted(x.get('qdev_id') for x in all_devices(q.cmd('query-pci'))
                                    if x.get('qdev_id')), ['n0'])


if __name__ == '__main__':
    unittest.main()
