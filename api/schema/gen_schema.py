#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn pcid's schemas into C at build time (one source of truth for each).

    gen_schema.py qmp     api/schema/qmp-schema.json  OUT.c   the introspection + argument tables
    gen_schema.py openapi api/schema/openapi.yaml     OUT.c   the OpenAPI document as JSON
    gen_schema.py introspect api/schema/qmp-schema.json       print query-qmp-schema's value

A command may carry "if": "PCID_DEBUG_COMMANDS": a test-only command, registered only when the
daemon runs with that variable set to 1. It is left out of the introspection a daemon without
it returns (api_schema_introspection) and kept in the one a daemon with it returns
(api_schema_introspection_debug), so query-qmp-schema always lists what query-commands does;
its argument table carries `debug`, which api_schema_check() holds against api/commands.c.

`qmp` follows QEMU 7.2's scripts/qapi/introspect.py: commands and events in the order written,
then every type they use in order of first use; object, enum and alternate names are masked
as decimal numbers in order of first mention, builtins keep their names, arrays are "[T]",
commands without arguments or return value use the empty object. The same file gives
api_execute() its argument checks (members in schema order, then anything unexpected).

Standard library only, except `openapi`, which needs PyYAML (Debian: python3-yaml).
"""

import json
import sys

BUILTINS = {'str': 'string', 'int': 'int', 'bool': 'boolean', 'number': 'number',
            'any': 'value', 'null': 'null'}
META_KEYS = ('command', 'event', 'struct', 'enum', 'union', 'alternate')
# Runtime conditions a command's "if" may name (QAPI's 'if' names a build-time one).
CONDITIONS = ('PCID_DEBUG_COMMANDS',)


class SchemaError(Exception):
    pass


def fail(what):
    raise SchemaError(what)


class Schema:
    """The parsed expressions: commands/events in order, types by name."""

    def __init__(self, doc):
        if not isinstance(doc, dict) or not isinstance(doc.get('schema'), list):
            fail('the schema file must be an object with a "schema" list')
        self.entities = []          # commands and events, in order
        self.types = {}             # name -> expression
        names = set()
        for expr in doc['schema']:
            kinds = [k for k in META_KEYS if k in expr]
            if len(kinds) != 1:
                fail('expression needs exactly one of %s: %r' % (META_KEYS, expr))
            kind = kinds[0]
            name = expr[kind]
            if not isinstance(name, str) or not name:
                fail('bad name in %r' % expr)
            key = (kind in ('command', 'event'), name)
            if key in names or (kind not in ('command', 'event') and name in BUILTINS):
                fail('%s %s defined twice' % (kind, name))
            names.add(key)
            if 'if' in expr and (kind != 'command' or expr['if'] not in CONDITIONS):
                fail('%s %s: "if" is for commands and names one of %s' % (kind, name,
                                                                         ', '.join(CONDITIONS)))
            if kind in ('command', 'event'):
                self.entities.append((kind, name, expr))
            else:
                self.types[name] = (kind, expr)
        self.implicit = {}          # implicit object name -> members (inline 'data')
        self.check()

    # ---- checks ----

    def check_type_ref(self, t, where):
        if isinstance(t, list):
            if len(t) != 1:
                fail('%s: an array type is [T]' % where)
            return self.check_type_ref(t[0], where)
        if not isinstance(t, str):
            fail('%s: bad type %r' % (where, t))
        if t not in BUILTINS and t not in self.types:
            fail('%s: unknown type %s' % (where, t))

    def members(self, data, where):
        """[(name, type, optional, features)] of an inline member dict."""
        if not isinstance(data, dict):
            fail('%s: members must be an object' % where)
        out = []
        for key, val in data.items():
            opt = key.startswith('*')
            name = key[1:] if opt else key
            feats = []
            if isinstance(val, dict):
                feats = val.get('features', [])
                val = val.get('type')
            self.check_type_ref(val, '%s.%s' % (where, name))
            out.append((name, val, opt, feats))
        return out

    def check(self):
        for _, (tkind, expr) in list(self.types.items()):
            name = expr[tkind]
            if tkind == 'struct':
                self.members(expr.get('data', {}), name)
            elif tkind == 'enum':
                vals = expr.get('data')
                if not isinstance(vals, list) or not all(isinstance(v, str) for v in vals):
                    fail('enum %s: data must be a list of strings' % name)
            elif tkind == 'alternate':
                for k, t in expr['data'].items():
                    self.check_type_ref(t, '%s.%s' % (name, k))
            elif tkind == 'union':
                base = self.members(expr['base'], name)
                disc = expr['discriminator']
                tag = [m for m in base if m[0] == disc]
                if not tag or tag[0][2] or self.types.get(tag[0][1], ('',))[0] != 'enum':
                    fail('union %s: discriminator must be a required enum member' % name)
                values = self.types[tag[0][1]][1]['data']
                if sorted(expr['data']) != sorted(values):
                    fail('union %s: branches must cover %s exactly' % (name, values))
                for case, t in expr['data'].items():
                    if self.types.get(t, ('',))[0] != 'struct':
                        fail('union %s: branch %s must be a struct' % (name, case))
        for kind, name, expr in self.entities:
            data = expr.get('data')
            if isinstance(data, str):
                if self.types.get(data, ('',))[0] not in ('struct', 'union'):
                    fail('%s: data must name a struct or union' % name)
                if self.types[data][0] == 'union' and not expr.get('boxed'):
                    fail('%s: a union as data needs "boxed": true' % name)
            elif data is not None:
                self.members(data, name)
            if 'returns' in expr:
                self.check_type_ref(expr['returns'], name + ' returns')

    def flat_members(self, tname):
        """Members of struct/union `tname`, union base first then every branch's."""
        kind, expr = self.types[tname]
        if kind == 'struct':
            return self.members(expr.get('data', {}), tname)
        out = self.members(expr['base'], tname)
        for case in expr['data'].values():
            out += self.flat_members(case)
        return out

    def arg_members(self, name, expr):
        data = expr.get('data')
        if data is None:
            return []
        if isinstance(data, str):
            return self.flat_members(data)
        return self.members(data, name)


class Introspect:
    """QEMU's QAPISchemaGenIntrospectVisitor, on this schema."""

    def __init__(self, schema, conditions=()):
        self.s = schema
        self.conditions = set(conditions)  # the "if" conditions that hold
        self.used = []          # type keys, in order of first use
        self.names = {}         # type key -> masked name
        self.out = []

    def mask(self, key):
        if key not in self.names:
            self.names[key] = '%d' % len(self.names)
        return self.names[key]

    def use(self, t):
        """The wire name of type reference `t` (queues the type for output)."""
        if isinstance(t, list):
            inner = self.use(t[0])
            key = ('array', inner)
            if key not in self.used:
                self.used.append(key)
            return '[' + inner + ']'
        if isinstance(t, tuple):            # an implicit object (inline members)
            key = t
        elif t in BUILTINS:
            key = ('builtin', t)
        else:
            key = ('type', t)
        if key not in self.used:
            self.used.append(key)
        if key[0] == 'builtin':
            return t
        return self.mask(key)

    def member(self, m):
        name, t, opt, feats = m
        out = {'name': name, 'type': self.use(t)}
        if opt:
            out['default'] = None
        if feats:
            out['features'] = list(feats)
        return out

    def emit(self, name, meta, obj, features=None):
        entry = {'name': name, 'meta-type': meta}
        entry.update(obj)
        if features:
            entry['features'] = list(features)
        self.out.append(entry)

    def arg_type(self, kind, name, expr):
        data = expr.get('data')
        if data is None:
            return self.use(('implicit', 'q_empty'))
        if isinstance(data, str):
            return self.use(data)
        key = ('implicit', 'q_obj_%s-arg' % name)
        self.s.implicit[key] = self.s.members(data, name)
        return self.use(key)

    def run(self):
        self.s.implicit[('implicit', 'q_empty')] = []
        for kind, name, expr in self.s.entities:
            if 'if' in expr and expr['if'] not in self.conditions:
                continue
            if kind == 'command':
                obj = {'arg-type': self.arg_type(kind, name, expr)}
                ret = expr.get('returns')
                obj['ret-type'] = self.use(ret) if ret is not None else self.use(
                    ('implicit', 'q_empty'))
                if expr.get('allow-oob'):
                    obj['allow-oob'] = True
                self.emit(name, 'command', obj, expr.get('features'))
            else:
                self.emit(name, 'event', {'arg-type': self.arg_type(kind, name, expr)},
                          expr.get('features'))
        i = 0
        while i < len(self.used):           # the list grows while types are visited
            self.visit(self.used[i])
            i += 1
        return self.out

    def visit(self, key):
        if key[0] == 'builtin':
            self.emit(key[1], 'builtin', {'json-type': BUILTINS[key[1]]})
        elif key[0] == 'array':
            self.emit('[' + key[1] + ']', 'array', {'element-type': key[1]})
        elif key[0] == 'implicit':
            self.emit(self.mask(key), 'object',
                      {'members': [self.member(m) for m in self.s.implicit[key]]})
        else:
            tkind, expr = self.s.types[key[1]]
            name = self.mask(key)
            if tkind == 'enum':
                vals = expr['data']
                self.emit(name, 'enum', {'members': [{'name': v} for v in vals],
                                         'values': list(vals)}, expr.get('features'))
            elif tkind == 'struct':
                members = self.s.members(expr.get('data', {}), key[1])
                self.emit(name, 'object', {'members': [self.member(m) for m in members]},
                          expr.get('features'))
            elif tkind == 'union':
                members = self.s.members(expr['base'], key[1])
                obj = {'members': [self.member(m) for m in members],
                       'tag': expr['discriminator'],
                       'variants': [{'case': c, 'type': self.use(t)}
                                    for c, t in expr['data'].items()]}
                self.emit(name, 'object', obj, expr.get('features'))
            elif tkind == 'alternate':
                self.emit(name, 'alternate',
                          {'members': [{'type': self.use(t)} for t in expr['data'].values()]},
                          expr.get('features'))


ARG_KIND = {'str': 'API_ARG_STR', 'int': 'API_ARG_INT', 'bool': 'API_ARG_BOOL',
            'number': 'API_ARG_NUMBER', 'any': 'API_ARG_ANY', 'null': 'API_ARG_NULL'}


def c_string(text, indent='    '):
    """`text` as a C string literal split into lines."""
    esc = text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
    chunks = [esc[i:i + 90] for i in range(0, len(esc), 90)] or ['']
    # never split an escape sequence across literals
    fixed, carry = [], ''
    for c in chunks:
        c = carry + c
        carry = ''
        n = len(c) - len(c.rstrip('\\'))
        if n % 2:
            carry, c = '\\', c[:-1]
        fixed.append(c)
    if carry:
        fixed[-1] += carry
    return '\n'.join(indent + '"' + c + '"' for c in fixed)


def gen_qmp(schema, introspection, introspection_debug):
    lines = ['/* Generated by api/schema/gen_schema.py from api/schema/qmp-schema.json.',
             ' * Do not edit: change the schema. */',
             '#include "api/schema.h"', '']
    for var, intro in (('api_schema_introspection', introspection),
                       ('api_schema_introspection_debug', introspection_debug)):
        text = json.dumps(intro, separators=(',', ':'))
        lines.append('const char %s[] =' % var)
        lines.append(c_string(text) + ';')
        lines.append('')
    cmd_rows = []
    for i, (kind, name, expr) in enumerate(schema.entities):
        if kind != 'command':
            continue
        debug = 'true' if expr.get('if') == 'PCID_DEBUG_COMMANDS' else 'false'
        if expr.get('gen') is False:
            cmd_rows.append('    {"%s", NULL, %s},' % (name, debug))
            continue
        rows = []
        for j, (mname, t, opt, _) in enumerate(schema.arg_members(name, expr)):
            values = 'NULL'
            if isinstance(t, list):
                k = 'API_ARG_ARRAY'
            elif t in ARG_KIND:
                k = ARG_KIND[t]
            else:
                tkind = schema.types[t][0]
                k = {'enum': 'API_ARG_ENUM', 'struct': 'API_ARG_OBJECT',
                     'union': 'API_ARG_OBJECT', 'alternate': 'API_ARG_ANY'}[tkind]
                if tkind == 'enum':
                    values = 'enum_%d_%d' % (i, j)
                    vals = ', '.join('"%s"' % v for v in schema.types[t][1]['data'])
                    lines.append('static const char *const %s[] = {%s, NULL};' % (values, vals))
            rows.append('    {"%s", %s, %s, %s},' % (mname, k, 'true' if opt else 'false', values))
        lines.append('static const struct api_schema_arg args_%d[] = {' % i)
        lines += rows
        lines.append('    {0},')
        lines.append('};')
        cmd_rows.append('    {"%s", args_%d, %s},' % (name, i, debug))
    lines.append('')
    lines.append('const struct api_schema_command api_schema_commands[] = {')
    lines += cmd_rows
    lines.append('    {0},')
    lines.append('};')
    lines.append('')
    lines.append('const char *const api_schema_events[] = {')
    lines += ['    "%s",' % name for kind, name, _ in schema.entities if kind == 'event']
    lines.append('    NULL,')
    lines.append('};')
    return '\n'.join(lines) + '\n'


def gen_openapi(doc):
    text = json.dumps(doc, separators=(',', ':'), ensure_ascii=True)
    return ('/* Generated by api/schema/gen_schema.py from api/schema/openapi.yaml.\n'
            ' * Do not edit: change the YAML. */\n'
            '#include "api/schema.h"\n\n'
            'const char api_schema_openapi[] =\n' + c_string(text) + ';\n')


def load_qmp(path):
    with open(path) as f:
        return Schema(json.load(f))


def main(argv):
    if len(argv) < 3 or argv[1] not in ('qmp', 'openapi', 'introspect'):
        sys.stderr.write(__doc__)
        return 2
    try:
        if argv[1] == 'openapi':
            try:
                import yaml
            except ImportError:
                sys.stderr.write('gen_schema.py: reading openapi.yaml needs PyYAML (Debian: '
                                 'python3-yaml; scripts/install-deps.sh installs it)\n')
                return 1
            with open(argv[2]) as f:
                doc = yaml.safe_load(f)
            if not isinstance(doc, dict) or not str(doc.get('openapi', '')).startswith('3.'):
                fail('%s is not an OpenAPI 3 document' % argv[2])
            out = gen_openapi(doc)
        else:
            schema = load_qmp(argv[2])
            intro = Introspect(schema).run()
            if argv[1] == 'introspect':
                json.dump(intro, sys.stdout, indent=1)
                sys.stdout.write('\n')
                return 0
            out = gen_qmp(schema, intro, Introspect(schema, CONDITIONS).run())
    except (SchemaError, ValueError, KeyError) as e:
        sys.stderr.write('gen_schema.py: %s: %s\n' % (argv[2], e))
        return 1
    with open(argv[3], 'w') as f:
        f.write(out)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
