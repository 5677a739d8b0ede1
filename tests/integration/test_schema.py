# SPDX-License-Identifier: MIT
"""The schemas against the real daemon.

OpenAPI (api/schema/openapi.yaml, served as GET /v1/openapi.json): the document served is the
YAML source; every path and method it lists is served, and every route served is listed; real
replies of every operation (success and the documented errors) validate against the schema of
their status and content type (jsonschema, Draft 2020-12, which OpenAPI 3.1 uses).

QMP (api/schema/qmp-schema.json, returned by query-qmp-schema): the introspection is valid
SchemaInfo by its own definition; it lists exactly the commands query-commands does; real
replies of every command and every event's data validate against their types; argument checks
follow it; the commands and events QEMU 7.2 also has are, structurally, QEMU's (compared with
tests/data/qemu/qmp/query-qmp-schema.json), or readable by a QEMU client where pcid differs.

Each side also checks a value against the machine's state.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import DATA, Pcid  # noqa: E402
from schema_check import Introspection, openapi_validator  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
NULL0 = ['--blockdev', 'driver=null-co,node-name=null0']
QEMU_SCHEMA = os.path.join(DATA, 'qemu', 'qmp', 'query-qmp-schema.json')

# Commands and events pcid defines exactly as QEMU 7.2 does (arguments, returns, features).
SAME_AS_QEMU = ['qmp_capabilities', 'query-version', 'query-commands', 'query-qmp-schema',
                'query-status', 'system_reset', 'device_add', 'device_del',
                'device-list-properties', 'human-monitor-command', 'blockdev-del', 'query-pci',
                'RESET', 'DEVICE_DELETED', 'DEVICE_UNPLUG_GUEST_ERROR', 'query-machines']
# Where pcid differs, on purpose: a QEMU client can still read what pcid returns.
# Each: the part that differs, and why.
DIFFERENT = {
    'blockdev-add': ('arg-type', 'null-co only: BlockdevDriver has one value, fewer members'),
    'query-named-block-nodes': ('ret-type',
                                "BlockDeviceInfo: QEMU's required members, and 'users'"),
}


class OpenApi(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.d = Pcid(args=NULL0, guest='cooperative').start()
        status, cls.doc, _ = cls.d.rest('GET', '/v1/openapi.json')
        assert status == 200, status
        cls.covered = set()

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def response_spec(self, method, path, status):
        op = self.doc['paths'][path][method.lower()]
        spec = op['responses'].get(str(status))
        self.assertIsNotNone(spec, '%s %s: status %d is not documented' % (method, path, status))
        if '$ref' in spec:
            spec = self.doc['components']['responses'][spec['$ref'].split('/')[-1]]
        return spec

    def call(self, method, template, url, body=None, headers=None, raw=False, want=None):
        """Make the request, validate the reply against the document, return it."""
        status, reply, hdrs = self.d.rest(method, url, body, headers=headers, raw=raw)
        if want is not None:
            self.assertEqual(status, want, '%s %s: %s' % (method, url, reply))
        spec = self.response_spec(method, template, status)
        ctype = hdrs.get('Content-Type', '').split(';')[0]
        self.assertIn(ctype, spec.get('content', {}), '%s %s %d' % (method, url, status))
        schema = spec['content'][ctype]['schema']
        value = reply if ctype == 'application/json' else reply
        if ctype == 'application/json' and raw:
            value = json.loads(reply)
        errors = sorted(openapi_validator(self.doc, schema).iter_errors(value), key=str)
        self.assertEqual([e.message for e in errors], [], '%s %s %d' % (method, url, status))
        for name in spec.get('headers', {}):
            if name == 'ETag' and status < 300:
                self.assertRegex(hdrs.get('ETag', ''), r'^"[0-9]+"$', '%s %s' % (method, url))
        self.covered.add((method, template, status))
        return status, reply, hdrs

    def test_document_is_the_source(self):
        import yaml
        with open(os.path.join(ROOT, 'api', 'schema', 'openapi.yaml')) as f:
            self.assertEqual(self.doc, json.loads(json.dumps(yaml.safe_load(f))))
        self.assertTrue(self.doc['openapi'].startswith('3.1'))
        # Every schema is valid JSON Schema and every $ref resolves.
        for name, schema in self.doc['components']['schemas'].items():
            openapi_validator(self.doc, schema)

        def refs(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == '$ref':
                        yield v
                    else:
                        yield from refs(v)
            elif isinstance(node, list):
                for v in node:
                    yield from refs(v)
        for ref in refs(self.doc):
            node = self.doc
            for part in ref[2:].split('/'):
                self.assertIn(part, node, ref)
                node = node[part]

    def test_every_path_is_served(self):
        """Each documented operation answers with a documented status, never 'no route'."""
        self.d.rest('POST', '/v1/devices', {'driver': 'e1000', 'id': 'probe', 'addr': '9'})
        for path, item in self.doc['paths'].items():
            url = path.replace('{id}', 'probe')
            for method in ('get', 'post', 'delete'):
                if method not in item:
                    status, body, hdrs = self.d.rest(method.upper(), url, {} if method ==
                                                     'post' else None)
                    self.assertEqual(status, 405, '%s %s is served but not documented' %
                                     (method, path))
                    continue
                if path == '/v1/events':
                    url += '?follow=false'
                status, body, _ = self.d.rest(method.upper(), url, {} if method == 'post'
                                              else None, raw=True)
                self.assertNotIn('no route', body)
                self.response_spec(method.upper(), path, status)
        status, body, _ = self.d.rest('GET', '/v1/nothing')
        self.assertEqual(status, 404)
        # The DELETE above started probe's removal: let the guest finish it.
        deadline = time.time() + 10
        while self.d.rest('GET', '/v1/devices/probe')[0] != 404 and time.time() < deadline:
            time.sleep(0.02)

    def test_replies_validate(self):
        c = self.call
        # Reads.
        _, machine, hdrs = c('GET', '/v1/machine', '/v1/machine', want=200)
        _, devs, _ = c('GET', '/v1/devices', '/v1/devices', want=200)
        # One value against the machine's state: the generation is the ETag; the counts are
        # what the device list shows.
        self.assertEqual(hdrs['ETag'], '"%d"' % machine['generation'])
        self.assertEqual(machine['functions'], len(devs))
        self.assertEqual(machine['buses'][0]['functions'],
                         len([x for x in devs if x['bus'] == machine['buses'][0]['name']]))
        c('GET', '/v1/openapi.json', '/v1/openapi.json', want=200)
        c('GET', '/v1/pci', '/v1/pci', want=200)
        c('GET', '/v1/pci/text', '/v1/pci/text', want=200)
        c('GET', '/v1/slots', '/v1/slots', want=200)
        c('GET', '/v1/slots', '/v1/slots?bus=nosuch', want=400)
        c('GET', '/metrics', '/metrics', want=200)
        # Writes and their errors.
        gen = machine['generation']
        c('POST', '/v1/devices', '/v1/devices', {'driver': 'e1000', 'dry-run': True}, want=200)
        _, added, hdrs = c('POST', '/v1/devices', '/v1/devices',
                           {'driver': 'virtio-blk-pci', 'id': 'blk0', 'drive': 'null0'},
                           headers={'If-Match': '"%d"' % gen}, want=201)
        self.assertEqual(hdrs['Location'], '/v1/devices/' + added['bdf'])
        c('POST', '/v1/devices', '/v1/devices', {'driver': 'e1000', 'id': 'blk0'}, want=409)
        c('POST', '/v1/devices', '/v1/devices', {'driver': 'nosuch'}, want=400)
        c('POST', '/v1/devices', '/v1/devices', {'driver': 'e1000'},
          headers={'If-Match': '"%d"' % gen}, want=412)
        c('POST', '/v1/devices', '/v1/devices', 'x' * (1024 * 1024 + 1), want=413)
        c('POST', '/v1/devices', '/v1/devices', '{}', headers={'Content-Type': 'text/plain'},
          want=415)
        for key in ('blk0', added['bdf']):
            c('GET', '/v1/devices/{id}', '/v1/devices/' + key, want=200)
            c('GET', '/v1/devices/{id}/capabilities', '/v1/devices/%s/capabilities' % key,
              want=200)
            c('GET', '/v1/devices/{id}/config', '/v1/devices/%s/config' % key, want=200)
            c('GET', '/v1/devices/{id}/config', '/v1/devices/%s/config' % key,
              headers={'Accept': 'application/json'}, want=200)
        for sub in ('', '/capabilities', '/config'):
            c('GET', '/v1/devices/{id}' + sub, '/v1/devices/nosuch' + sub, want=404)
        c('POST', '/v1/qmp', '/v1/qmp', {'execute': 'query-status', 'id': 1}, want=200)
        c('POST', '/v1/qmp', '/v1/qmp', {'execute': 'nosuch'}, want=200)
        c('POST', '/v1/qmp', '/v1/qmp', '[]', want=400)
        c('POST', '/v1/qmp', '/v1/qmp', {'execute': 'query-status'},
          headers={'If-Match': '"999999"'}, want=412)
        c('GET', '/v1/events', '/v1/events?follow=false', headers={'Last-Event-ID': '0'},
          want=200)
        c('GET', '/v1/events', '/v1/events?follow=maybe', want=400)
        c('DELETE', '/v1/devices/{id}', '/v1/devices/blk0?wait=abc', want=400)
        c('DELETE', '/v1/devices/{id}', '/v1/devices/blk0', headers={'If-Match': '"1"'},
          want=412)
        c('DELETE', '/v1/devices/{id}', '/v1/devices/blk0', want=202)
        # A running guest may be asked again at once (ACPI, QEMU 7.2 stable); a paused one
        # never lets the request expire.
        c('DELETE', '/v1/devices/{id}', '/v1/devices/blk0', want=202)
        with Pcid(args=NULL0, guest='none') as paused:
            running, self.d = self.d, paused
            try:
                c('POST', '/v1/devices', '/v1/devices',
                  {'driver': 'virtio-blk-pci', 'id': 'blk0', 'drive': 'null0'}, want=201)
                c('DELETE', '/v1/devices/{id}', '/v1/devices/blk0', want=202)
                c('DELETE', '/v1/devices/{id}', '/v1/devices/blk0', want=409)  # pending
            finally:
                self.d = running
        c('DELETE', '/v1/devices/{id}', '/v1/devices/nosuch', want=404)
        c('POST', '/v1/devices', '/v1/devices', {'driver': 'e1000', 'id': 'n1'}, want=201)
        c('GET', '/v1/buses', '/v1/buses', want=200)
        c('DELETE', '/v1/devices/{id}', '/v1/devices/n1?wait=10', want=200)
        # State: the description, snapshots and their refusals (once blk0's removal, asked
        # for above, is done: nothing moves in between).
        deadline = time.time() + 10
        while self.d.rest('GET', '/v1/devices/blk0')[0] != 404 and time.time() < deadline:
            time.sleep(0.02)
        _, desc, _ = c('GET', '/v1/machine/description', '/v1/machine/description', want=200)
        _, devs, _ = c('GET', '/v1/devices', '/v1/devices', want=200)
        self.assertEqual(sorted(d['addr'] for d in desc['devices']),
                         sorted('%02x.%x' % (d['slot'], d['function']) for d in devs
                                if d['hotpluggable']))
        _, saved, _ = c('POST', '/v1/state/save', '/v1/state/save', {'name': 'snap'}, want=200)
        self.assertEqual(saved['devices'], len(devs))
        c('POST', '/v1/state/save', '/v1/state/save', {'name': 'a/b'}, want=400)
        c('POST', '/v1/state/save', '/v1/state/save', {}, want=400)
        c('POST', '/v1/state/save', '/v1/state/save', {'name': 'x'},
          headers={'If-Match': '"999999"'}, want=412)
        c('POST', '/v1/state/save', '/v1/state/save', '{}',
          headers={'Content-Type': 'text/plain'}, want=415)
        c('POST', '/v1/state/save', '/v1/state/save', 'x' * (1024 * 1024 + 1), want=413)
        _, snaps, _ = c('GET', '/v1/state', '/v1/state', want=200)
        self.assertEqual([(x['name'], x['size']) for x in snaps], [('snap', saved['size'])])
        _, loaded, _ = c('POST', '/v1/state/load', '/v1/state/load', {'name': 'snap'}, want=200)
        self.assertEqual(loaded, saved)
        c('POST', '/v1/state/load', '/v1/state/load', {'name': 'nosuch'}, want=404)
        c('POST', '/v1/state/load', '/v1/state/load', {'name': 1}, want=400)
        c('POST', '/v1/state/load', '/v1/state/load', {'name': 'snap'},
          headers={'If-Match': '"999999"'}, want=412)
        c('POST', '/v1/devices', '/v1/devices', {'driver': 'e1000', 'id': 'late'}, want=201)
        c('POST', '/v1/state/load', '/v1/state/load', {'name': 'snap'}, want=409)
        # Every operation's success status was seen.
        for path, item in self.doc['paths'].items():
            for method, op in item.items():
                if method == 'parameters':
                    continue
                ok = [s for s in op['responses'] if s.startswith('2')]
                self.assertTrue(any((method.upper(), path, int(s)) in self.covered for s in ok),
                                '%s %s: no success reply validated' % (method, path))


class QmpSchema(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.d = Pcid(args=NULL0).start()
        cls.q = cls.d.qmp()
        cls.raw = cls.q.cmd('query-qmp-schema')
        cls.s = Introspection(cls.raw)

    @classmethod
    def tearDownClass(cls):
        cls.q.close()
        cls.d.__exit__(None, None, None)

    def ret_type(self, cmd):
        return self.s.entity(cmd)['ret-type']

    def test_self_valid(self):
        """query-qmp-schema's reply is a valid value of its own return type."""
        self.assertEqual(self.s.validate(self.raw, self.ret_type('query-qmp-schema')), [])
        # Masked as QEMU does: object, enum and alternate names are numbers.
        for e in self.raw:
            if e['meta-type'] in ('object', 'enum', 'alternate'):
                self.assertRegex(e['name'], r'^[0-9]+$')

    def test_commands_and_events(self):
        listed = sorted(c['name'] for c in self.q.cmd('query-commands'))
        self.assertEqual(sorted(self.s.names('command')), listed)
        self.assertEqual(sorted(self.s.names('event')),
                         ['DEVICE_DELETED', 'DEVICE_UNPLUG_GUEST_ERROR', 'PCI_DEVICE_ADDED',
                          'RESET'])
        # One value against the machine: device_add's arguments start with driver, and
        # query-pci-machine's generation is the one REST reports.
        args = self.s.type(self.s.entity('device_add')['arg-type'])['members']
        self.assertEqual([m['name'] for m in args], ['driver', 'bus', 'id'])
        status, machine, hdrs = self.d.rest('GET', '/v1/machine')
        self.assertEqual(self.q.cmd('query-pci-machine')['generation'], machine['generation'])

    def test_replies_validate(self):
        q = self.q
        before = len(q.wait_events(0))
        q.cmd('device_add', driver='virtio-net-pci', id='net0', addr='3')
        q.cmd('device_add', driver='e1000', addr='4')
        calls = [
            ('query-version', {}), ('query-commands', {}), ('query-qmp-schema', {}),
            ('query-status', {}), ('query-machines', {}),
            ('device-list-properties', {'typename': 'e1000'}),
            ('human-monitor-command', {'command-line': 'info pci'}),
            ('blockdev-add', {'driver': 'null-co', 'node-name': 'n1', 'size': 4096}),
            ('query-named-block-nodes', {}), ('blockdev-del', {'node-name': 'n1'}),
            ('query-pci', {}), ('query-pci-slots', {}), ('query-pci-slots', {'bus': 'pci.0'}),
            ('query-pci-buses', {}),
            ('query-pci-devices', {}), ('query-pci-devices', {'id': 'net0'}),
            ('query-pci-capabilities', {'id': 'net0'}),
            ('query-pci-capabilities', {'bdf': '0000:00:00.0'}),
            ('query-pci-config', {'bdf': '0000:00:04.0'}), ('query-pci-machine', {}),
            ('query-machine-description', {}), ('state-save', {'name': 's1'}),
            ('query-state-snapshots', {}), ('state-load', {'name': 's1'}),
            ('device_add', {'driver': 'e1000', 'id': 'x'}), ('device_del', {'id': 'x'}),
            ('system_reset', {}),
        ]
        seen = set()
        for cmd, args in calls:
            ret = q.cmd(cmd, **args)
            self.assertEqual(self.s.validate(ret, self.ret_type(cmd)), [], cmd)
            seen.add(cmd)
        # One value against the machine: the description lists the devices added, where they
        # are; the snapshot holds every function.
        desc = q.cmd('query-machine-description')
        self.assertEqual([(d['driver'], d.get('id'), d['addr']) for d in desc['devices']],
                         [('virtio-net-pci', 'net0', '03.0'), ('e1000', None, '04.0')])
        snaps = q.cmd('query-state-snapshots')
        self.assertEqual([x['name'] for x in snaps], ['s1'])
        self.assertEqual(q.cmd('state-load', name='s1')['devices'],
                         len(q.cmd('query-pci-devices')))
        # qmp_capabilities was run by the harness at connect.
        self.assertEqual(seen | {'qmp_capabilities'}, set(self.s.names('command')))
        # The events seen meanwhile (PCI_DEVICE_ADDED, RESET, DEVICE_DELETED) are valid too.
        names = set()
        # 3 adds, then the reset's RESET and the removal of x (the one pending): 5.
        evs = q.wait_events(before + 5, timeout=5)[before:]
        self.assertEqual(len(evs), 5, evs)
        for ev in evs:
            names.add(ev['event'])
            arg = self.s.entity(ev['event'])['arg-type']
            self.assertEqual(self.s.validate(ev.get('data', {}), arg), [], ev)
            self.assertEqual(set(ev), {'event', 'data', 'timestamp'})
        self.assertEqual(names, {'PCI_DEVICE_ADDED', 'RESET', 'DEVICE_DELETED'})

    def test_argument_checks_follow_schema(self):
        """Every command refuses an unknown argument and names a missing required one, as the
        schema says (device_add takes any property; qmp_capabilities is for negotiation)."""
        for cmd in self.s.names('command'):
            if cmd in ('device_add', 'qmp_capabilities'):
                continue
            members = self.s.type(self.s.entity(cmd)['arg-type'])['members']
            required = [m['name'] for m in members if 'default' not in m]
            r = self.q.cmd_raw({'execute': cmd, 'arguments': {'zzz': 1}})
            want = ("Parameter '%s' is missing" % required[0] if required
                    else "Parameter 'zzz' is unexpected")
            self.assertEqual(r.get('error', {}).get('desc'), want, cmd)
        r = self.q.cmd_raw({'execute': 'blockdev-add', 'arguments': {'driver': 'file'}})
        self.assertEqual(r['error']['desc'], "Parameter 'driver' does not accept value 'file'")
        r = self.q.cmd_raw({'execute': 'query-pci-slots', 'arguments': {'bus': 1}})
        self.assertEqual(r['error']['desc'],
                         "Invalid parameter type for 'bus', expected: string")

    @unittest.skipUnless(os.path.exists(QEMU_SCHEMA), 'QEMU schema not recorded')
    def test_same_as_qemu(self):
        with open(QEMU_SCHEMA) as f:
            ref = json.load(f)
        qemu = Introspection(ref['schema'])
        self.assertEqual(sorted(SAME_AS_QEMU + list(DIFFERENT)), sorted(ref['entities']))
        for name in SAME_AS_QEMU:
            mine, theirs = self.s.entity(name), qemu.entity(name)
            self.assertIsNotNone(mine, name)
            self.assertEqual(mine['meta-type'], theirs['meta-type'], name)
            self.assertEqual(mine.get('features', []), theirs.get('features', []), name)
            for key in ('arg-type', 'ret-type'):
                if key in theirs:
                    self.assertEqual(self.s.canon(mine[key]), qemu.canon(theirs[key]),
                                     '%s %s differs from QEMU 7.2' % (name, key))
        for name, (part, why) in DIFFERENT.items():
            mine, theirs = self.s.entity(name), qemu.entity(name)
            same = 'ret-type' if part == 'arg-type' else 'arg-type'
            self.assertEqual(self.s.canon(mine[same]), qemu.canon(theirs[same]), name)
            self.assertNotEqual(self.s.canon(mine[part]), qemu.canon(theirs[part]),
                                '%s is now the same as QEMU: move it to SAME_AS_QEMU' % name)
            if part == 'ret-type':
                # A QEMU client finds every member it requires, and no enum value it lacks.
                self.assertEqual(self.s.readable_by(qemu, mine[part], theirs[part]), [], name)
                continue
            # Every argument pcid takes is one QEMU takes, with the same optionality.
            def members(s, t):
                t = s.type(t)
                out = {m['name']: 'default' in m for m in t['members']}
                for v in t.get('variants', []):
                    out.update({m['name']: 'default' in m for m in s.type(v['type'])['members']})
                return out
            mine_args, theirs_args = members(self.s, mine[part]), members(qemu, theirs[part])
            for arg, optional in mine_args.items():
                self.assertEqual(theirs_args.get(arg), optional, '%s: %s' % (name, arg))


class TestOnlyCommands(unittest.TestCase):
    """A command registered only sometimes (x-debug-hang, with PCID_DEBUG_COMMANDS=1) is in the
    schema with "if": query-commands, query-qmp-schema and /metrics list it exactly when the
    daemon has it; without it, it is CommandNotFound. Never run here (it hangs on purpose)."""

    def listing(self, d):
        q = d.qmp()
        try:
            cmds = sorted(c['name'] for c in q.cmd('query-commands'))
            s = Introspection(q.cmd('query-qmp-schema'))
            status, metrics, _ = d.rest('GET', '/metrics')
            self.assertEqual(status, 200)
            r = q.cmd_raw({'execute': 'x-debug-hang', 'arguments': {'zzz': 1}})
        finally:
            q.close()
        return cmds, s, metrics, r

    def test_off(self):
        with Pcid() as d:
            cmds, s, metrics, r = self.listing(d)
        self.assertNotIn('x-debug-hang', cmds)
        self.assertEqual(sorted(s.names('command')), cmds)
        self.assertNotIn('command="x-debug-hang"', metrics)
        self.assertEqual(r['error'], {'class': 'CommandNotFound',
                                      'desc': 'The command x-debug-hang has not been found'})

    def test_on(self):
        with Pcid(env={'PCID_DEBUG_COMMANDS': '1'}) as d:
            cmds, s, metrics, r = self.listing(d)
        self.assertIn('x-debug-hang', cmds)
        self.assertEqual(sorted(s.names('command')), cmds)
        hang = s.entity('x-debug-hang')
        self.assertEqual(hang.get('features'), ['unstable'])
        self.assertEqual(s.type(hang['arg-type'])['members'], [])
        self.assertIn('pcid_commands_total{command="x-debug-hang",result="ok"} 0', metrics)
        # Its arguments are checked against the schema before anything runs.
        self.assertEqual(r['error']['desc'], "Parameter 'zzz' is unexpected")

    def test_schema_file_and_generator_agree(self):
        """The source marks it; the generator refuses an "if" it does not know."""
        with open(os.path.join(ROOT, 'api', 'schema', 'qmp-schema.json')) as f:
            doc = json.load(f)
        marked = [e['command'] for e in doc['schema'] if 'if' in e]
        self.assertEqual(marked, ['x-debug-hang'])
        sys.path.insert(0, os.path.join(ROOT, 'api', 'schema'))
        import gen_schema
        bad = dict(doc, schema=doc['schema'] + [{'command': 'x-other', 'if': 'SOMETHING'}])
        with self.assertRaises(gen_schema.SchemaError):
            gen_schema.Schema(bad)
        self.assertNotIn('x-debug-hang',
                         [e['name'] for e in gen_schema.Introspect(gen_schema.Schema(doc)).run()])


if __name__ == '__main__':
    unittest.main()
