"""Boot MultiOS under QEMU with COM2 on a pseudo-terminal, for MicroPython's tools.

    guest.py [--log FILE] [--timeout S]

Starts QEMU (direct boot, TCG unless MULTIOS_ACCEL says otherwise) with COM1 going to
FILE (default: build/test-logs/conformance-<pid>.com1.log) and COM2 on a pty, waits until
the guest's REPL answers on COM2, then prints the pty's path as its first line of output
and stays until it is killed or its parent ends (it takes QEMU with it). That is what pyboard.py's
`execpty:` device expects, so MicroPython's run-tests.py, pyboard.py and mpremote run
against the booted image unchanged:

    run-tests.py -t "execpty:.venv/bin/python tests/conformance/guest.py" basics/*.py
"""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_cmd as qemu  # noqa: E402


def wait_prompt(pty, deadline):
    """Read COM2 until the friendly REPL prompt shows, poking it with a CR."""
    fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
    try:
        seen = b""
        next_poke = time.monotonic()
        while time.monotonic() < deadline:
            if time.monotonic() >= next_poke:
                os.write(fd, b"\r")
                next_poke = time.monotonic() + 1.0
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                seen += os.read(fd, 4096)
                if b">>> " in seen or b"raw REPL" in seen:
                    return True
        return False
    finally:
        os.close(fd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", default=os.path.join(ROOT, "build", "test-logs", "conformance-%d.com1.log" % os.getpid()))
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--memory", type=int, default=256)
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    accel = qemu.choose_accel(report=lambda msg: print(msg, file=sys.stderr))
    cmd = qemu.base_args("direct", accel=accel, memory=args.memory) + [
        "-display", "none", "-serial", "file:" + args.log, "-serial", "pty"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def stop(*_):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    deadline = time.monotonic() + args.timeout
    line = proc.stdout.readline().decode(errors="replace")
    m = re.search(r"/dev/pts/\d+", line)
    if not m:
        print("guest.py: QEMU did not name a pty: %r" % line, file=sys.stderr)
        stop()
    pty = m.group()
    if not wait_prompt(pty, deadline):
        print("guest.py: no REPL on COM2 (%s) within %g s; COM1 log: %s" % (pty, args.timeout, args.log))
        stop()
    print(pty, flush=True)
    # Until killed, or until the program that started us is gone (no QEMU left behind);
    # QEMU's later output (none expected) must not block it on a full pipe.
    parent = os.getppid()
    while proc.poll() is None and os.getppid() == parent:
        r, _, _ = select.select([proc.stdout], [], [], 1.0)
        if r and not os.read(proc.stdout.fileno(), 4096):
            break
    stop()


if __name__ == "__main__":
    main()
