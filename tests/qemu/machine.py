"""A booted MultiOS under QEMU, for tests.

Machine is a context manager that always tears QEMU down. It owns the QMP socket and COM1
and COM2 (each on a Unix socket the harness listens on, so nothing the guest prints before we
look is lost); every byte from each port is also copied to a log file per test. Waits read
bytes, always have a timeout, and fail with the command line and the console tail.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_cmd as qemu  # noqa: E402
from qemu.qmp.legacy import QEMUMonitorProtocol  # noqa: E402

LOG_DIR = os.path.join(ROOT, "build", "test-logs")
# A kernel panic, or an exception report, ends any wait at once.
PANIC = rb"PANIC: "
PORTS = ("com1", "com2")


def record_figures(name, **figures):
    """Adds FIGURES to build/test-logs/NAME-figures.json (what booted tests measured in passing)."""
    import json
    path = os.path.join(LOG_DIR, name + "-figures.json")
    data = {}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    data.update(figures)
    os.makedirs(LOG_DIR, exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=1)


class MachineError(AssertionError):
    pass


class Machine:
    def __init__(self, name, mode="direct", cmdline="", accel=None, memory=256, extra_args=(), boot_timeout=30,
                 initrd=None):
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.mode = mode
        self.cmdline = cmdline
        self.accel = accel or qemu.choose_accel()
        self.memory = memory
        self.extra_args = list(extra_args)
        self.boot_timeout = boot_timeout
        self.initrd = initrd  # another initrd (direct and microvm modes), e.g. made by tools/mkinitrd.py
        self.proc = None
        self.qmp = None
        self.buffers = {p: bytearray() for p in PORTS}
        self.cursor = {p: 0 for p in PORTS}
        self.conns = {}
        self.lock = threading.Condition()
        self.threads = []
        self.launched_at = None
        self.exit_status = None

    # --- life cycle -------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.launch()
        except BaseException:
            self.shutdown()
            raise
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    def launch(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.TemporaryDirectory(prefix="multios-vm-")
        listeners = {}
        for port in PORTS:
            path = os.path.join(self.tmp.name, port + ".sock")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            s.settimeout(15)
            listeners[port] = (s, path)
        qmp_path = os.path.join(self.tmp.name, "qmp.sock")
        self.qmp = QEMUMonitorProtocol(qmp_path, server=True)
        self.args = qemu.base_args(self.mode, accel=self.accel, memory=self.memory, cmdline=self.cmdline,
                                   initrd=self.initrd)
        self.args += ["-display", "none", "-qmp", "unix:" + qmp_path]
        for port in PORTS:
            self.args += ["-chardev", "socket,id=%s,path=%s" % (port, listeners[port][1]), "-serial", "chardev:" + port]
        self.args += self.extra_args
        self.stderr_path = os.path.join(LOG_DIR, self.name + ".qemu.log")
        self.stderr = open(self.stderr_path, "wb")
        self.launched_at = time.monotonic()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
        for port in PORTS:
            s, _ = listeners[port]
            try:
                conn, _ = s.accept()
            except socket.timeout:
                raise MachineError(self._report("QEMU did not connect %s" % port))
            finally:
                s.close()
            self.conns[port] = conn
            t = threading.Thread(target=self._reader, args=(port, conn), daemon=True)
            t.start()
            self.threads.append(t)
        try:
            self.qmp.accept(timeout=15)
        except Exception as e:  # noqa: BLE001 - any failure here is a failed launch
            raise MachineError(self._report("QMP did not come up: %s" % e))

    def _reader(self, port, conn):
        with open(os.path.join(LOG_DIR, "%s.%s.log" % (self.name, port)), "wb") as log:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                with self.lock:
                    if data:
                        self.buffers[port] += data
                    self.lock.notify_all()
                if not data:
                    return
                log.write(data)
                log.flush()

    def shutdown(self):
        if self.proc and self.proc.poll() is None:
            try:
                if self.qmp:
                    self.qmp.cmd("quit")
            except Exception:  # noqa: BLE001 - QEMU may already be going
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.exit_status is None:
            self.exit_status = self.proc.returncode
        if self.qmp:
            try:
                self.qmp.close()
            except Exception:  # noqa: BLE001
                pass
            self.qmp = None
        for conn in self.conns.values():
            conn.close()
        for t in self.threads:
            t.join(timeout=2)
        if getattr(self, "stderr", None):
            self.stderr.close()
        if getattr(self, "tmp", None):
            self.tmp.cleanup()
            self.tmp = None

    # --- consoles ---------------------------------------------------------------------------

    def console(self, port="com1"):
        with self.lock:
            return bytes(self.buffers[port])

    def tail(self, port="com1", lines=40):
        text = self.console(port).decode("utf-8", "replace").replace("\r", "")
        return "\n".join(text.splitlines()[-lines:])

    def _report(self, what):
        out = ["%s [%s]" % (what, self.name), "command line: " + " ".join(self.args)]
        if self.proc and self.proc.poll() is not None:
            out.append("QEMU exited with status %d" % self.proc.returncode)
        try:
            err = open(self.stderr_path, "rb").read().decode("utf-8", "replace").strip()
            if err:
                out.append("QEMU said:\n" + err[-2000:])
        except OSError:
            pass
        for port in PORTS:
            if self.buffers[port]:
                out.append("--- %s (last lines) ---\n%s" % (port, self.tail(port)))
        out.append("logs: %s" % os.path.join(LOG_DIR, self.name + ".*"))
        return "\n".join(out)

    def wait_for(self, pattern, failure=PANIC, timeout=30, port="com1"):
        """Wait until PATTERN (bytes regex) appears on PORT after the last match; returns the
        match. Raises when FAILURE appears first, QEMU exits, or TIMEOUT seconds pass."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        if isinstance(failure, str):
            failure = failure.encode()
        want = re.compile(pattern)
        bad = re.compile(failure) if failure else None
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                buf = self.buffers[port]
                m = want.search(buf, self.cursor[port])
                if m:
                    self.cursor[port] = m.end()
                    return m
                if bad:
                    b = bad.search(buf, self.cursor[port])
                    if b:
                        # Let the rest of the report arrive before showing it.
                        self.lock.wait(0.5)
                        raise MachineError(self._report("failure pattern %r seen while waiting for %r" % (failure, pattern)))
                if self.proc.poll() is not None and not any(t.is_alive() for t in self.threads):
                    raise MachineError(self._report("QEMU exited while waiting for %r" % pattern))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MachineError(self._report("timed out after %g s waiting for %r" % (timeout, pattern)))
                self.lock.wait(min(left, 0.2))

    def send(self, data, port="com1"):
        if isinstance(data, str):
            data = data.encode()
        self.conns[port].sendall(data)

    def send_line(self, line, port="com1"):
        self.send(line + ("\r" if isinstance(line, str) else b"\r"), port)

    def wait_exit(self, timeout=30):
        """QEMU's exit status, after the guest ends it (isa-debug-exit, power-off)."""
        try:
            self.exit_status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise MachineError(self._report("QEMU still running after %g s" % timeout))
        for t in self.threads:
            t.join(timeout=2)
        return self.exit_status

    def expect_exit(self, code_name, timeout=30):
        """Wait for QEMU to end through isa-debug-exit with the code named in qemu_exit.h (or a
        number). A clean power-off (status 0) or any other status is a failure."""
        code = qemu.EXIT_CODES[code_name] if isinstance(code_name, str) else code_name
        status = self.wait_exit(timeout)
        if status != qemu.qemu_status(code):
            raise MachineError(self._report("QEMU ended with status %d, expected %d (%s)"
                                            % (status, qemu.qemu_status(code), code_name)))
        return status

    # --- QMP --------------------------------------------------------------------------------

    def qmp_cmd(self, name, **args):
        r = self.qmp.cmd_raw(name, args or None)
        if "error" in r:
            raise MachineError(self._report("QMP %s failed: %s" % (name, r["error"])))
        return r.get("return")

    def system_reset(self):
        return self.qmp_cmd("system_reset")

    def screendump(self, path=None):
        path = path or os.path.join(LOG_DIR, self.name + ".ppm")
        self.qmp_cmd("screendump", filename=path)
        return path

    def quit(self):
        self.qmp_cmd("quit")
        return self.wait_exit()
