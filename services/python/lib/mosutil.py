"""Friendlier MultiOS calls on top of the mos module (installed as /lib/mosutil.py).

mos mirrors the system calls exactly (see build/gen/syscalls.md); this adds Python shapes:

    wait(pid=-1)         -> (pid, status)  status as an int (mos_consts.STATUS_* for kills, faults)
    run(argv, env=())    -> status         spawn argv[0] with argv, wait for it
    procs()              -> [dict]         the process table (mos_consts.PROC_INFO_FIELDS)
    unpack(fields, buf)  -> dict           any struct mos returns, by its mos_consts *_FIELDS

Run as a program (`python /lib/mosutil.py`) it prints the process table.
"""
import struct

import mos
import mos_consts as C


def unpack(fields, buf):
    d = {}
    for name, offset, fmt in fields:
        v = struct.unpack_from(fmt, buf, offset)[0]
        if isinstance(v, bytes):
            v = v.split(b"\0", 1)[0].decode()
        d[name] = v
    return d


def wait(pid=-1):
    pid, status = mos.wait(pid)
    return pid, struct.unpack("<i", status)[0]


def run(argv, env=()):
    return wait(mos.spawn(argv[0], list(argv), list(env)))[1]


def procs():
    table = []
    i = 0
    while True:
        try:
            _, buf = mos.proc_info(i)
        except OSError as e:
            if e.errno == C.ESRCH:
                return table
            raise
        table.append(unpack(C.PROC_INFO_FIELDS, buf))
        i += 1


def main():
    print("%5s %5s %-10s %9s %8s  %s" % ("PID", "PPID", "STATE", "MEM(KiB)", "CPU(ms)", "NAME"))
    for p in procs():
        state = C.PROC_STATE_NAMES.get(p["state"], str(p["state"]))
        state = state[5:].lower() if state.startswith("PROC_") else state.lower()
        print("%5d %5d %-10s %9d %8d  %s" % (p["pid"], p["ppid"], state, p["mem_bytes"] // 1024,
                                            p["cpu_ns"] // 1000000, p["name"]))


if __name__ == "__main__":
    main()
