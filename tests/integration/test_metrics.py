# SPDX-License-Identifier: MIT
"""GET /metrics against a real pcid: valid Prometheus text (every sample in a declared family,
histograms cumulative with +Inf = _count), and every counter moves with what was done:
commands by name and result, latencies, hot-plug adds / unplug requests / removals / refusals
with durations, events, devices per bus, vCPU accesses by kind (the cooperative guest's
firmware makes config and port accesses at boot), REST requests by route.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import TIME_FACTOR, Pcid  # noqa: E402
from schema_check import parse_prometheus, sample  # noqa: E402


class Metrics(unittest.TestCase):
    maxDiff = None

    def scrape(self, d):
        status, text, hdrs = d.rest('GET', '/metrics', raw=True)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs['Content-Type'], 'text/plain; version=0.0.4; charset=utf-8')
        return parse_prometheus(text)

    def test_counters_follow_the_work(self):
        with Pcid(args=['--guest-refuse-unplug', '7'], guest='cooperative') as d:
            q = d.qmp()
            m0 = self.scrape(d)
            # Every command of the table has its series, at zero or more.
            for c in q.cmd('query-commands'):
                self.assertIn(('pcid_commands_total', {'command': c['name'], 'result': 'ok'}),
                              [(n, l) for n, l, _ in m0['pcid_commands_total']['samples']])
            # The firmware's enumeration at boot went through the vCPUs.
            self.assertGreater(sample(m0, 'pcid_vcpu_accesses_total', kind='cfg_read'), 100)
            self.assertGreater(sample(m0, 'pcid_vcpu_accesses_total', kind='pio_write'), 0)
            self.assertEqual(sample(m0, 'pcid_vcpus'), 2)
            self.assertEqual(sample(m0, 'pcid_bus_functions', bus='pci.0'), 4)

            q.cmd('device_add', driver='e1000', id='a', addr='5')
            q.cmd('device_add', driver='e1000', id='r', addr='7')
            q.cmd_raw({'execute': 'device_add', 'arguments': {'driver': 'e1000', 'id': 'a'}})
            q.cmd_raw({'execute': 'device_del', 'arguments': {'id': 'nosuch'}})
            q.cmd_raw({'execute': 'no-such-command'})
            d.rest('DELETE', '/v1/devices/a?wait=%d' % min(10 * TIME_FACTOR, 60))
            d.rest('DELETE', '/v1/devices/r?wait=%d' % min(10 * TIME_FACTOR, 60))   # refused
            m = self.scrape(d)

            def delta(family, name=None, **labels):
                return sample(m, family, name, **labels) - sample(m0, family, name, **labels)

            self.assertEqual(delta('pcid_commands_total', command='device_add', result='ok'), 2)
            self.assertEqual(delta('pcid_commands_total', command='device_add',
                                   result='GenericError'), 1)
            self.assertEqual(delta('pcid_commands_total', command='device_del',
                                   result='DeviceNotFound'), 1)
            self.assertEqual(delta('pcid_commands_total', command='device_del', result='ok'), 2)
            self.assertEqual(delta('pcid_commands_total', command='(unknown)',
                                   result='CommandNotFound'), 1)
            self.assertEqual(delta('pcid_command_duration_seconds',
                                   'pcid_command_duration_seconds_count', command='device_add'),
                             3)
            self.assertGreater(delta('pcid_command_duration_seconds',
                                     'pcid_command_duration_seconds_sum', command='device_add'), 0)
            self.assertEqual(delta('pcid_hotplug_total', op='add'), 2)
            self.assertEqual(delta('pcid_hotplug_total', op='unplug-request'), 2)
            self.assertEqual(delta('pcid_hotplug_total', op='unplug'), 1)
            self.assertEqual(delta('pcid_hotplug_total', op='unplug-refused'), 1)
            self.assertEqual(delta('pcid_hotplug_add_duration_seconds',
                                   'pcid_hotplug_add_duration_seconds_count'), 2)
            # The removal waited for the guest's eject (--eject-delay, 20 ms by default).
            self.assertEqual(delta('pcid_hotplug_unplug_duration_seconds',
                                   'pcid_hotplug_unplug_duration_seconds_count'), 1)
            self.assertGreaterEqual(delta('pcid_hotplug_unplug_duration_seconds',
                                          'pcid_hotplug_unplug_duration_seconds_sum'), 0.015)
            self.assertEqual(delta('pcid_hotplug_unplug_duration_seconds',
                                   'pcid_hotplug_unplug_duration_seconds_bucket', le='0.01'), 0)
            self.assertEqual(delta('pcid_events_total', event='PCI_DEVICE_ADDED'), 2)
            self.assertEqual(delta('pcid_events_total', event='DEVICE_DELETED'), 1)
            self.assertEqual(delta('pcid_events_total', event='DEVICE_UNPLUG_GUEST_ERROR'), 1)
            self.assertEqual(sample(m, 'pcid_bus_functions', bus='pci.0'), 5)
            self.assertEqual(sample(m, 'pcid_machine_generation'),
                             q.cmd('query-pci-machine')['generation'])
            self.assertEqual(sample(m, 'pcid_http_requests_total', route='/v1/devices/{id}',
                                    method='DELETE', code='200'), 1)
            self.assertEqual(sample(m, 'pcid_http_requests_total', route='/v1/devices/{id}',
                                    method='DELETE', code='409'), 1)
            self.assertEqual(sample(m, 'pcid_http_requests_total', route='/metrics',
                                    method='GET', code='200'), 1)
            # The guest's hot-add configured the new slots: more accesses.
            self.assertGreater(delta('pcid_vcpu_accesses_total', kind='cfg_write'), 0)
            q.close()

    def test_no_guest(self):
        """Without a guest nothing runs on the vCPUs; a reset completes removals (their
        duration counted from the request)."""
        with Pcid() as d:
            q = d.qmp()
            m0 = self.scrape(d)
            self.assertEqual(sample(m0, 'pcid_vcpu_accesses_total', kind='cfg_read'), 0)
            q.cmd('device_add', driver='e1000', id='a')
            q.cmd('device_del', id='a')
            q.cmd('system_reset')
            m = self.scrape(d)
            self.assertEqual(sample(m, 'pcid_hotplug_total', op='unplug'), 1)
            self.assertEqual(sample(m, 'pcid_events_total', event='RESET'), 1)
            self.assertEqual(sample(m, 'pcid_http_requests_total', route='/metrics',
                                    method='GET', code='200'), 1)
            d.rest('GET', '/v1/nothing')
            self.assertEqual(sample(self.scrape(d), 'pcid_http_requests_total', route='(none)',
                                    method='GET', code='404'), 1)
            q.close()


if __name__ == '__main__':
    unittest.main()
