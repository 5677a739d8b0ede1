# SPDX-License-Identifier: MIT
"""The documentation against the real thing.

docs/api.md: every `sh` example runs, in order, against a pcid started as the page says; each
curl's HTTP status is the one its `# expect:` line names; a reply shown as JSON right after an
example has the shape of the real reply (same kind, same keys); every operation of the OpenAPI
document has an example.

Man pages (docs/*.scd, scdoc): they build; pcid(8) names every option `pcid --help` lists and
its exit statuses; pcictl(1) names every command and option of `pcictl --help` and its exit
statuses. The README's quick start uses commands that exist.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from pcid_harness import PCICTL, PCID, Pcid  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
DOCS = os.path.join(ROOT, 'docs')
FENCE = re.compile(r'^```(\w*)\n(.*?)^```\n', re.M | re.S)


def examples(text):
    """[(script, [statuses], json_or_None)] in document order."""
    out = []
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]
    for i, (lang, body, start, end) in enumerate(blocks):
        if lang != 'sh' or 'curl' not in body:
            continue
        m = re.search(r'^# expect: ([0-9 ]+)$', body, re.M)
        assert m, 'example without "# expect:": %s' % body
        shown = None
        if i + 1 < len(blocks) and blocks[i + 1][0] == 'json' and \
                not text[end:blocks[i + 1][2]].strip():
            shown = json.loads(blocks[i + 1][1])
        out.append((body, [int(s) for s in m.group(1).split()], shown))
    return out


def json_values(text):
    """Every JSON value printed one after the other in `text`."""
    dec, pos, out = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        v, pos = dec.raw_decode(text, pos)
        out.append(v)


def shape(v):
    if isinstance(v, dict):
        return ('object', tuple(sorted(v)))
    if isinstance(v, list):
        return ('array', shape(v[0]) if v else None)
    return type(v).__name__


class ApiDoc(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(DOCS, 'api.md')) as f:
            cls.text = f.read()
        cls.examples = examples(cls.text)

    @unittest.skipUnless(shutil.which('curl'), 'curl not installed')
    def test_examples_run(self):
        self.assertGreater(len(self.examples), 20)
        with Pcid(args=['--blockdev', 'driver=null-co,node-name=null0'],
                  guest='cooperative') as d, tempfile.TemporaryDirectory() as cwd:
            for script, statuses, shown in self.examples:
                with self.subTest(script.splitlines()[1]):
                    run = script.replace('127.0.0.1:8086', '127.0.0.1:%d' % d.port)
                    run = run.replace('/run/pcid/rest.sock', d.rest_path)
                    wrapper = ("curl() { command curl -w '%{stderr}@@STATUS %{http_code}\\n' "
                               '"$@"; }\n')
                    p = subprocess.run(['sh', '-ec', wrapper + run], cwd=cwd,
                                       capture_output=True, text=True, timeout=60)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    got = [int(s) for s in re.findall(r'^@@STATUS (\d+)$', p.stderr, re.M)]
                    self.assertEqual(got, statuses, script)
                    if shown is not None:
                        values = json_values(p.stdout)
                        self.assertTrue(values, script)
                        for v in values:
                            self.assertEqual(shape(v), shape(shown), script)

    def test_every_operation_has_an_example(self):
        with Pcid() as d:
            status, doc, _ = d.rest('GET', '/v1/openapi.json')
        scripts = '\n'.join(s for s, _, _ in self.examples)
        for path, item in doc['paths'].items():
            url = re.escape(path).replace(r'\{id\}', r"[^/?'\s]+")
            for method in ('get', 'post', 'delete'):
                if method not in item:
                    continue
                if method == 'get':
                    pattern = r"curl -s[a-zA-Z]* (-o \S+ |-H '[^']*' )*'?http://\S+%s\b" % url
                else:
                    pattern = r"-X %s[^\n]*(\\\n[^\n]*)*http://\S+%s\b" % (method.upper(), url)
                self.assertRegex(scripts, pattern, '%s %s has no example' % (method, path))


def help_text(prog):
    return subprocess.run([prog, '--help'], capture_output=True, text=True).stdout


class ManPages(unittest.TestCase):
    def page(self, name):
        with open(os.path.join(DOCS, name)) as f:
            return f.read()

    @unittest.skipUnless(shutil.which('scdoc'), 'scdoc not installed')
    def test_build(self):
        for name in ('pcid.8.scd', 'pcictl.1.scd'):
            with open(os.path.join(DOCS, name)) as f:
                p = subprocess.run(['scdoc'], stdin=f, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, '%s: %s' % (name, p.stderr))
            self.assertIn('.TH', p.stdout)

    def test_pcid_options(self):
        page = self.page('pcid.8.scd')
        options = set(re.findall(r'^\s+(--[a-z-]+)', help_text(PCID), re.M))
        self.assertGreater(len(options), 10)
        for opt in options:
            self.assertIn('*%s*' % opt, page, opt)
        for status in ('0', '1', '2', '78'):
            self.assertRegex(page, r'\*%s\*' % status)

    def test_pcictl_commands(self):
        page = self.page('pcictl.1.scd')
        usage = help_text(PCICTL)
        commands = re.findall(r'^  ([a-z]+)\b', usage.split('Commands:')[1].split('Options:')[0],
                              re.M)
        options = set(re.findall(r'(--[a-z-]+)', usage))
        self.assertGreater(len(commands), 10)
        for cmd in commands:
            self.assertRegex(page, r'\*%s\*' % cmd, cmd)
        for opt in options:
            self.assertIn(opt, page, opt)
        for status in ('0', '1', '2', '3'):
            self.assertRegex(page, r'\*%s\*' % status)

    def test_readme_quick_start(self):
        with open(os.path.join(ROOT, 'README.md')) as f:
            readme = f.read()
        usage = help_text(PCICTL)
        used = re.findall(r'build/client/pcictl (?:--\S+ )*([a-z]+)', readme)
        self.assertGreater(len(used), 5)
        for cmd in used:
            self.assertRegex(usage, r'\n  %s\b' % cmd, cmd)
        self.assertIn('docs/api.md', readme)


if __name__ == '__main__':
    unittest.main()
