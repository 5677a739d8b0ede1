"""Drive a real QEMU (qemu-system-x86_64) through QMP and qtest.

Standard library only.  Used by gen_qemu_reference.py to capture reference
data from the real QEMU 7.2 for pcid's conformance tests.

QEMU is started paused (-S), TCG, without default devices, with a qtest
channel (for config-space / memory access) and a QMP socket:

    qemu-system-x86_64 -M pc -accel tcg -nodefaults -S -display none
        -qtest unix:QT.sock -qtest-log /dev/null
        -qmp unix:QMP.sock,server=on,wait=off
        -blockdev driver=null-co,node-name=null0 [extra_args...]

The qtest socket is a listening socket created here; QEMU connects to it.

Example:
    with Qemu('pc') as q:
        q.cmd('device_add', driver='e1000', addr='0x3')
        data = q.dump_config(0, 3 << 3)
        print(to_lspci_x('00:03.0 e1000', data))
"""

import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
import weakref

QEMU_BINARY = os.environ.get('QEMU', 'qemu-system-x86_64')

DEFAULT_TIMEOUT = 10.0


class QemuError(Exception):
    """Harness-level failure (QEMU died, timeout, protocol surprise)."""


class QmpError(Exception):
    """A QMP command returned {"error": ...}."""

    def __init__(self, error, reply_line):
        self.error = error
        self.reply_line = reply_line
        cls = error.get('class', '?') if isinstance(error, dict) else '?'
        desc = error.get('desc', '') if isinstance(error, dict) else str(error)
        super().__init__('%s: %s' % (cls, desc))

    @property
    def error_class(self):
        return self.error.get('class')

    @property
    def desc(self):
        return self.error.get('desc')


class _LineSock:
    """Line-oriented reader/writer over a connected socket, with timeouts."""

    def __init__(self, sock, name, proc):
        self.sock = sock
        self.name = name
        self.proc = proc
        self.buf = b''
        sock.setblocking(False)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode('utf-8')
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while data:
            try:
                n = self.sock.send(data)
                data = data[n:]
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QemuError('%s: send timeout' % self.name)
                select.select([], [self.sock], [], min(left, 0.5))
            except OSError as e:
                raise QemuError('%s: send failed: %s%s' %
                                (self.name, e, self._dead_note()))

    def _dead_note(self):
        if self.proc is not None and self.proc.poll() is not None:
            return ' (qemu exited with status %s)' % self.proc.returncode
        return ''

    def _fill(self, timeout):
        """Read whatever is available within timeout.  Returns False on timeout."""
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return False
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError as e:
            raise QemuError('%s: recv failed: %s%s' % (self.name, e, self._dead_note()))
        if not chunk:
            raise QemuError('%s: connection closed by QEMU%s' % (self.name, self._dead_note()))
        self.buf += chunk
        return True

    def readline(self, timeout=DEFAULT_TIMEOUT):
        """Return one line without its line terminator (CRLF or LF), or None on timeout."""
        deadline = time.monotonic() + timeout
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not self._fill(min(left, 0.5)):
                if self.proc is not None and self.proc.poll() is not None:
                    raise QemuError('%s: qemu exited (status %s)' %
                                    (self.name, self.proc.returncode))
        line, self.buf = self.buf.split(b'\n', 1)
        if line.endswith(b'\r'):
            line = line[:-1]
        return line.decode('utf-8', errors='surrogateescape')

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _kill_proc(proc, tmpdir):
    """Finalizer: make sure QEMU is gone and the temp dir removed."""
    try:
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


class Qemu:
    """One QEMU process with a QMP monitor and a qtest channel."""

    def __init__(self, machine='pc', extra_args=(), blockdev_null0=True,
                 negotiate=True, timeout=DEFAULT_TIMEOUT, binary=None):
        self.machine = machine
        self.timeout = timeout
        self.greeting = None
        self.events = []          # every event line seen by qmp(), in order
        self.proc = None
        self.tmpdir = tempfile.mkdtemp(prefix='qemu-harness-')
        self._finalizer = weakref.finalize(self, _kill_proc, None, self.tmpdir)
        qt_path = os.path.join(self.tmpdir, 'QT.sock')
        qmp_path = os.path.join(self.tmpdir, 'QMP.sock')
        self.log_path = os.path.join(self.tmpdir, 'qemu.log')

        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(qt_path)
        lsock.listen(1)

        args = [binary or QEMU_BINARY, '-M', machine, '-accel', 'tcg',
                '-nodefaults', '-S', '-display', 'none',
                '-qtest', 'unix:' + qt_path, '-qtest-log', '/dev/null',
                '-qmp', 'unix:%s,server=on,wait=off' % qmp_path]
        if blockdev_null0:
            args += ['-blockdev', 'driver=null-co,node-name=null0']
        args += list(extra_args)
        self.args = args
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _kill_proc, self.proc, self.tmpdir)
        try:
            # qtest: QEMU connects to us.
            deadline = time.monotonic() + timeout
            lsock.setblocking(False)
            conn = None
            while conn is None:
                r, _, _ = select.select([lsock], [], [], 0.1)
                if r:
                    conn, _ = lsock.accept()
                    break
                if self.proc.poll() is not None:
                    raise QemuError('qemu exited before connecting qtest: %s'
                                    % self.log_text())
                if time.monotonic() > deadline:
                    raise QemuError('timeout waiting for qtest connection')
            lsock.close()
            self._qt = _LineSock(conn, 'qtest', self.proc)

            # QMP: we connect to QEMU.
            s = None
            while s is None:
                if os.path.exists(qmp_path):
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        s.connect(qmp_path)
                        break
                    except OSError:
                        s.close()
                        s = None
                if self.proc.poll() is not None:
                    raise QemuError('qemu exited: %s' % self.log_text())
                if time.monotonic() > deadline:
                    raise QemuError('timeout connecting to QMP')
                time.sleep(0.02)
            self._qmp = _LineSock(s, 'qmp', self.proc)
            self.greeting = self._qmp.readline(timeout)
            if self.greeting is None:
                raise QemuError('no QMP greeting')
            if negotiate:
                self.cmd('qmp_capabilities')
        except QemuError as e:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            log = self.log_text().strip()
            self.close()
            raise QemuError('%s; qemu output: %s' % (e, log or '(none)')) from None
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ misc
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def log_text(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def close(self):
        """Stop QEMU (politely, then by force) and remove the temp dir."""
        for name in ('_qmp', '_qt'):
            ls = getattr(self, name, None)
            if ls is not None:
                ls.close()
                setattr(self, name, None)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, '_log', None):
            self._log.close()
            self._log = None
        self._finalizer()

    # ------------------------------------------------------------------- QMP
    def qmp(self, obj_or_str, timeout=None, drain=0.0, newline=True, quiet=None):
        """Send one QMP request and wait for its reply.

        obj_or_str: a dict (serialised with json.dumps default separators) or
        raw text sent verbatim.  A '\\n' is appended unless newline=False.

        Returns (reply_line, other_lines): the first non-event line, exactly
        as received minus the CRLF, and every other line received (event
        lines before the reply, plus anything that arrives within `drain`
        seconds after it).  reply_line is None if nothing arrived in time.
        """
        timeout = self.timeout if timeout is None else timeout
        text = obj_or_str if isinstance(obj_or_str, str) else json.dumps(obj_or_str)
        self._qmp.send(text + ('\n' if newline else ''))
        other = []
        reply = None
        deadline = time.monotonic() + timeout
        while reply is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            line = self._qmp.readline(left)
            if line is None:
                break
            if self._is_event(line):
                other.append(line)
                self.events.append(line)
            else:
                reply = line
        if drain > 0:
            other.extend(self.drain(drain, quiet))
        return reply, other

    def drain(self, seconds, quiet=None):
        """Collect every line that arrives within `seconds` (or until no
        line has arrived for `quiet` seconds)."""
        lines = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if quiet is not None:
                left = min(left, quiet)
            if left <= 0:
                break
            line = self._qmp.readline(left)
            if line is None:
                break
            if self._is_event(line):
                self.events.append(line)
            lines.append(line)
        return lines

    @staticmethod
    def _is_event(line):
        try:
            obj = json.loads(line)
        except ValueError:
            return False
        return isinstance(obj, dict) and 'event' in obj

    def cmd(self, name, _args=None, **kw):
        """Execute a QMP command; return its 'return' value or raise QmpError.

        Arguments come from the _args dict and/or keywords (use _args for
        names that are not Python identifiers, e.g. 'disable-legacy').
        """
        args = dict(_args or {})
        args.update(kw)
        req = {'execute': name}
        if args:
            req['arguments'] = args
        reply, _ = self.qmp(req)
        if reply is None:
            raise QemuError('no reply to %s' % name)
        obj = json.loads(reply)
        if 'error' in obj:
            raise QmpError(obj['error'], reply)
        return obj.get('return')

    def hmp(self, line):
        """Run an HMP command via human-monitor-command; return its text."""
        return self.cmd('human-monitor-command', {'command-line': line})

    # ----------------------------------------------------------------- qtest
    def qtest(self, line, timeout=None):
        """Send one qtest command; return the reply line (starts 'OK')."""
        timeout = self.timeout if timeout is None else timeout
        self._qt.send(line + '\n')
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            resp = self._qt.readline(max(left, 0)) if left > 0 else None
            if resp is None:
                raise QemuError('qtest timeout on %r' % line)
            if resp.startswith('IRQ'):
                continue
            if resp.startswith('OK'):
                return resp
            if resp.startswith('FAIL') or resp.startswith('ERR'):
                raise QemuError('qtest %r -> %r' % (line, resp))
            # anything else: ignore

    def _qt_val(self, line):
        resp = self.qtest(line)
        parts = resp.split()
        if len(parts) < 2:
            raise QemuError('qtest %r: no value in %r' % (line, resp))
        return int(parts[1], 16)

    def outb(self, port, val):
        self.qtest('outb 0x%x 0x%x' % (port, val))

    def outw(self, port, val):
        self.qtest('outw 0x%x 0x%x' % (port, val))

    def outl(self, port, val):
        self.qtest('outl 0x%x 0x%x' % (port, val))

    def inb(self, port):
        return self._qt_val('inb 0x%x' % port)

    def inw(self, port):
        return self._qt_val('inw 0x%x' % port)

    def inl(self, port):
        return self._qt_val('inl 0x%x' % port)

    def readb(self, addr):
        return self._qt_val('readb 0x%x' % addr)

    def readw(self, addr):
        return self._qt_val('readw 0x%x' % addr)

    def readl(self, addr):
        return self._qt_val('readl 0x%x' % addr)

    def writeb(self, addr, val):
        self.qtest('writeb 0x%x 0x%x' % (addr, val))

    def writew(self, addr, val):
        self.qtest('writew 0x%x 0x%x' % (addr, val))

    def writel(self, addr, val):
        self.qtest('writel 0x%x 0x%x' % (addr, val))

    # ------------------------------------------------- PCI config (CF8/CFC)
    @staticmethod
    def _cf8(bus, devfn, off):
        return 0x80000000 | (bus << 16) | (devfn << 8) | (off & 0xfc)

    def cfg_read(self, bus, devfn, off, size=4):
        """Config read through 0xCF8/0xCFC (type 1 mechanism)."""
        if size not in (1, 2, 4) or off & (size - 1) or off > 0xff:
            raise ValueError('bad config access off=%#x size=%d' % (off, size))
        self.outl(0xcf8, self._cf8(bus, devfn, off))
        port = 0xcfc + (off & 3)
        return {1: self.inb, 2: self.inw, 4: self.inl}[size](port)

    def cfg_write(self, bus, devfn, off, val, size=4):
        """Config write through 0xCF8/0xCFC (type 1 mechanism)."""
        if size not in (1, 2, 4) or off & (size - 1) or off > 0xff:
            raise ValueError('bad config access off=%#x size=%d' % (off, size))
        self.outl(0xcf8, self._cf8(bus, devfn, off))
        port = 0xcfc + (off & 3)
        {1: self.outb, 2: self.outw, 4: self.outl}[size](port, val & ((1 << (8 * size)) - 1))

    # ---------------------------------------------------- PCI config (ECAM)
    @staticmethod
    def ecam_addr(base, bus, devfn, off):
        return base + ((bus << 20) | (devfn << 12) | off)

    def ecam_read(self, base, bus, devfn, off, size=4):
        a = self.ecam_addr(base, bus, devfn, off)
        return {1: self.readb, 2: self.readw, 4: self.readl}[size](a)

    def ecam_write(self, base, bus, devfn, off, val, size=4):
        a = self.ecam_addr(base, bus, devfn, off)
        {1: self.writeb, 2: self.writew, 4: self.writel}[size](a, val)

    def dump_config(self, bus, devfn, size=256, ecam_base=None):
        """Read `size` bytes of config space with dword reads.

        Through CF8/CFC by default (max 256 bytes); through ECAM
        (memory readl at ecam_base) if ecam_base is given.
        """
        out = bytearray()
        for off in range(0, size, 4):
            if ecam_base is None:
                v = self.cfg_read(bus, devfn, off, 4)
            else:
                v = self.ecam_read(ecam_base, bus, devfn, off, 4)
            out += v.to_bytes(4, 'little')
        return bytes(out)


def to_lspci_x(header_line, data):
    """Format config bytes like `lspci -x` (256 bytes) / `lspci -xxxx` (4096)."""
    lines = [header_line]
    for off in range(0, len(data), 16):
        lines.append('%02x: %s' % (off, ' '.join('%02x' % b for b in data[off:off + 16])))
    return '\n'.join(lines) + '\n'


def parse_lspci_x(text):
    """Inverse of to_lspci_x: return (header_line, bytes)."""
    lines = text.splitlines()
    header = lines[0]
    data = bytearray()
    for ln in lines[1:]:
        if not ln.strip():
            continue
        off, rest = ln.split(':', 1)
        if int(off, 16) != len(data):
            raise ValueError('non-contiguous dump at %s' % off)
        data += bytes(int(x, 16) for x in rest.split())
    return header, bytes(data)
