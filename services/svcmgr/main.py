# The service manager's entry point, frozen into /sbin/svcmgr, the first program the kernel
# starts. Until the service-manager issue lands it only keeps two consoles served: the
# shell on COM1 (/bin/sh) and MicroPython's raw REPL on COM2 (/bin/python --com2),
# starting again whichever ends.
import struct
import time

import mos

CONSOLES = (
    ("/bin/sh", ["sh"]),
    ("/bin/python", ["python", "-X", "heapmax=64m", "--com2"]),
)
ENV = ["PATH=/bin"]
# A program that ends sooner than this after its start waits BACKOFF_MS before the next.
QUICK_MS = 1000
BACKOFF_MS = 1000


def log(msg):
    print("svcmgr: " + msg)


def start(path, argv):
    try:
        pid = mos.spawn(path, argv, ENV)
    except OSError as e:
        log("cannot start %s: %s" % (path, e))
        return None
    log("started %s as pid %d" % (" ".join([path] + argv[1:]), pid))
    return pid


def main():
    running = {}  # pid -> (path, argv, started at, ms)
    for path, argv in CONSOLES:
        pid = start(path, argv)
        if pid is not None:
            running[pid] = (path, argv, time.ticks_ms())
    while running:
        pid, status = mos.wait(-1)
        status = struct.unpack("<i", status)[0]
        if pid not in running:
            continue
        path, argv, t0 = running.pop(pid)
        log("%s (pid %d) ended with status %#x; starting it again" % (path, pid, status))
        if time.ticks_diff(time.ticks_ms(), t0) < QUICK_MS:
            time.sleep_ms(BACKOFF_MS)
        pid = start(path, argv)
        if pid is not None:
            running[pid] = (path, argv, time.ticks_ms())
    log("nothing left to run")


main()
