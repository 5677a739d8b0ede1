# SPDX-License-Identifier: MIT
"""Checks shared by the schema, event and metrics tests (standard library only).

- Introspection: a query-qmp-schema reply (QEMU's SchemaInfo list) as a validator: does a JSON
  value have QAPI type T? (members, optionality, enums, arrays, alternates, union variants),
  and a canonical form of a type, to compare two schemas whose names are masked differently.
- openapi_validator(): a jsonschema validator for one schema of an OpenAPI 3.1 document.
- parse_prometheus(): Prometheus text exposition 0.0.4, checked as it is read.
"""

import re

BUILTIN_OK = {
    'string': lambda v: isinstance(v, str),
    'int': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'boolean': lambda v: isinstance(v, bool),
    'null': lambda v: v is None,
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'value': lambda v: True,
}


class Introspection:
    def __init__(self, schema):
        self.by = {}
        for e in schema:
            key = (e['meta-type'] in ('command', 'event'), e['name'])
            assert key not in self.by, 'duplicate entry %s' % (key,)
            self.by[key] = e

    def entity(self, name):
        return self.by.get((True, name))

    def type(self, name):
        return self.by[(False, name)]

    def names(self, meta):
        return [n for (ent, n), e in self.by.items() if ent and e['meta-type'] == meta]

    # ---- validation ----

    def validate(self, value, tname, where='$'):
        """Problems (a list of strings) of `value` as QAPI type `tname`."""
        t = self.type(tname)
        meta = t['meta-type']
        if meta == 'builtin':
            if not BUILTIN_OK[t['json-type']](value):
                return ['%s: %r is not %s' % (where, value, t['json-type'])]
            return []
        if meta == 'enum':
            if not isinstance(value, str) or value not in t['values']:
                return ['%s: %r is not one of %s' % (where, value, t['values'])]
            return []
        if meta == 'array':
            if not isinstance(value, list):
                return ['%s: not an array' % where]
            out = []
            for i, v in enumerate(value):
                out += self.validate(v, t['element-type'], '%s[%d]' % (where, i))
            return out
        if meta == 'alternate':
            for m in t['members']:
                if not self.validate(value, m['type'], where):
                    return []
            return ['%s: %r matches no branch of an alternate' % (where, value)]
        assert meta == 'object', meta
        if not isinstance(value, dict):
            return ['%s: not an object' % where]
        members = list(t['members'])
        if 'tag' in t:
            tag = value.get(t['tag'])
            variant = [v for v in t['variants'] if v['case'] == tag]
            if variant:
                members += self.type(variant[0]['type'])['members']
        out = []
        known = set()
        for m in members:
            known.add(m['name'])
            if m['name'] not in value:
                if 'default' not in m:
                    out.append('%s: member %s missing' % (where, m['name']))
                continue
            out += self.validate(value[m['name']], m['type'], '%s.%s' % (where, m['name']))
        for k in value:
            if k not in known:
                out.append('%s: unexpected member %s' % (where, k))
        return out

    # ---- structure ----

    def canon(self, tname, stack=()):
        """A hashable description of type `tname` that ignores masked names."""
        if tname in stack:
            return ('cycle', stack.index(tname))
        t = self.type(tname)
        meta = t['meta-type']
        stack = stack + (tname,)
        if meta == 'builtin':
            return ('builtin', t['json-type'])
        if meta == 'enum':
            return ('enum', tuple(t['values']))
        if meta == 'array':
            return ('array', self.canon(t['element-type'], stack))
        if meta == 'alternate':
            return ('alternate', tuple(sorted(self.canon(m['type'], stack)
                                              for m in t['members'])))
        members = tuple(sorted((m['name'], 'default' in m, tuple(m.get('features', [])),
                                self.canon(m['type'], stack)) for m in t['members']))
        variants = tuple(sorted((v['case'], self.canon(v['type'], stack))
                                for v in t.get('variants', [])))
        return ('object', members, t.get('tag'), variants, tuple(t.get('features', [])))

    def readable_by(self, other, mine, theirs, stack=()):
        """Problems a client of `other` (QEMU) reading a value of my type `mine` would have
        when it expects `theirs`: missing required members, unknown enum values."""
        if (mine, theirs) in stack:
            return []
        stack = stack + ((mine, theirs),)
        a, b = self.type(mine), other.type(theirs)
        if a['meta-type'] != b['meta-type']:
            return ['%s is %s, QEMU has %s' % (mine, a['meta-type'], b['meta-type'])]
        meta = a['meta-type']
        if meta == 'builtin':
            return [] if a['json-type'] == b['json-type'] else ['%s vs %s' % (a, b)]
        if meta == 'enum':
            extra = set(a['values']) - set(b['values'])
            return ['enum values QEMU lacks: %s' % sorted(extra)] if extra else []
        if meta == 'array':
            return self.readable_by(other, a['element-type'], b['element-type'], stack)
        if meta != 'object':
            return []
        out = []
        mine_m = {m['name']: m for m in a['members']}
        for m in b['members']:
            if 'default' in m:
                if m['name'] in mine_m:
                    out += self.readable_by(other, mine_m[m['name']]['type'], m['type'], stack)
                continue
            if m['name'] not in mine_m or 'default' in mine_m[m['name']]:
                out.append('QEMU requires %s, pcid may leave it out' % m['name'])
                continue
            out += self.readable_by(other, mine_m[m['name']]['type'], m['type'], stack)
        return out


def openapi_validator(doc, schema):
    """A jsonschema validator of `schema` whose $refs resolve in the OpenAPI document."""
    import jsonschema
    root = {'$schema': 'https://json-schema.org/draft/2020-12/schema',
            'components': doc['components'], 'allOf': [schema]}
    cls = jsonschema.Draft202012Validator
    cls.check_schema(root)
    return cls(root)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """{family: {'type', 'help', 'samples': [(name, {labels}, value)]}}; AssertionError on
    anything the 0.0.4 text format does not allow."""
    fams = {}
    current = None
    assert text.endswith('\n'), 'the exposition must end with a newline'
    for line in text.splitlines():
        if line.startswith('# HELP '):
            name, _, help_ = line[7:].partition(' ')
            assert name not in fams, 'family %s declared twice' % name
            fams[name] = {'help': help_, 'type': None, 'samples': []}
            current = name
            continue
        if line.startswith('# TYPE '):
            name, _, typ = line[7:].partition(' ')
            assert name == current and typ in ('counter', 'gauge', 'histogram', 'summary',
                                               'untyped'), line
            fams[name]['type'] = typ
            continue
        assert line and not line.startswith('#'), 'unexpected line %r' % line
        m = SAMPLE.match(line)
        assert m, 'bad sample line %r' % line
        name, _, labels_text, value = m.groups()
        labels = {}
        if labels_text:
            pos = 0
            while pos < len(labels_text):
                lm = LABEL.match(labels_text, pos)
                assert lm, 'bad labels in %r' % line
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        base = current
        assert base and (name == base or (fams[base]['type'] == 'histogram' and name in (
            base + '_bucket', base + '_sum', base + '_count'))), \
            'sample %s outside its family (%s)' % (name, base)
        v = float(value)
        fams[base]['samples'].append((name, labels, v))
    for name, f in fams.items():
        assert f['type'], 'family %s has no TYPE' % name
        if f['type'] == 'histogram':
            check_histograms(name, f['samples'])
    return fams


def check_histograms(name, samples):
    """Buckets cumulative, +Inf equal to _count, for every label set."""
    series = {}
    for sname, labels, v in samples:
        key = tuple(sorted((k, x) for k, x in labels.items() if k != 'le'))
        s = series.setdefault(key, {'buckets': [], 'count': None})
        if sname.endswith('_bucket'):
            le = labels['le']
            s['buckets'].append((float('inf') if le == '+Inf' else float(le), v))
        elif sname.endswith('_count'):
            s['count'] = v
    for key, s in series.items():
        b = s['buckets']
        assert b and b[-1][0] == float('inf'), '%s%s: no +Inf bucket' % (name, key)
        assert [x for x, _ in b] == sorted(x for x, _ in b), '%s%s: le out of order' % (name, key)
        assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), \
            '%s%s: buckets not cumulative' % (name, key)
        assert b[-1][1] == s['count'], '%s%s: +Inf bucket != _count' % (name, key)


def sample(fams, family, name=None, **labels):
    """The value of one sample (0 if the series is absent)."""
    for sname, l, v in fams[family]['samples']:
        if sname == (name or family) and all(l.get(k) == x for k, x in labels.items()):
            return v
    return 0
