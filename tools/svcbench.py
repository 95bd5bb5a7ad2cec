"""Service-manager figures for ./multios bench, all measured in the MultiOS guest (QEMU direct
boot; TCG unless told otherwise).

  run(accel="tcg", quick=False) -> [figure]

A figure is {"name", "median", "p99" (None for a single measurement), "runs", "unit" ("ns",
"bytes" or "bytes/service"), "description"}, and for the scaling series also "series" and
"x" (the number of services).

- sm_boot_ready_N (N = 10, 100): host wall time from QEMU's launch to svcmgr's line "ready:
  N+1 services running" for an image whose /etc/services holds svc-1..svc-N (tools/svcgen.py
  trivial(): /bin/svctest --serve-quiet, every 10th requiring the one before it) and, of the
  default system, only the shell.
- sm_start_cli, sm_start_call, sm_status_cli, sm_status_call, sm_discover_tag, sm_restart:
  /bin/svcbench (services/bin/svcbench.c) in the shell of the last N=100 boot, timed with
  the TSC.
- sm_mem_N: svcmgr's memory after that boot (the kernel's mem_bytes of the process).
- scale_*_N (N = 1,000, 10,000, 100,000): /sbin/svcmgr -- --bench-scale N
  (services/svcmgr/benchscale.py): the real svcmgr code defining N generated services.

  python3 tools/svcbench.py [--quick] [--accel A] [--json PATH]   prints the figures
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time

import benchfig
import mkinitrd
import qemu_cmd as qemu
import svcgen

ROOT = qemu.ROOT
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
from machine import Machine  # noqa: E402 - the booted-guest harness, shared with the tests

READY = rb"svcmgr: ready: (\d+) services running in (\d+) ms"
MEM_LINE = re.compile(r"^MEM svcmgr (\d+)\s*$", re.M)
SCALE_LINE = re.compile(r"^SCALE (\w+) (\d+) (\d+)(?: (\d+) (\d+))?\s*$", re.M)
FAILED = rb"PANIC: |svcbench: FAILED|Traceback \(most recent call last\)"

BOOT_SIZES = (10, 100)
SCALE_SIZES = (1000, 10000, 100000)
SCALE_QUICK = (1000,)
DEFAULTS_KEPT = ("shell",)

DESCRIPTIONS = {
    "sm_start_cli": "svc start of a stopped trivial service, as a program (spawn /bin/svc + wait), until it is "
                    "running (ready: it called notify_ready); stopped between runs",
    "sm_start_call": "start_service() of a stopped trivial service from C, until it is running (ready); "
                     "stopped between runs",
    "sm_status_cli": "svc is-active of a running service, as a program (spawn /bin/svc + wait; it prints "
                     "\"running\" and exits 0, as systemctl is-active prints \"active\")",
    "sm_status_call": "service_status() from C (system call, forwarded to svcmgr over IPC, and back)",
    "sm_discover_tag": "discover_services(\"tag:b0\") from C, 10 matches among %d services",
    "sm_restart": "a trivial service with auto_restart killed (mos_kill of its pid) until running again, seen "
                  "through a subscription's state event (restart_delay = 0, as systemd's RestartSec=0)",
}
SCALE_DESCRIPTIONS = {
    "load": "load and validate {n} generated definitions (TOML text through the /etc/services path: parse, "
            "check, define, dependency-cycle check)",
    "order": "start order (dependency waves) of {n} services",
    "discover_name": "discovery by exact name among {n} services (1 match)",
    "discover_glob": "discovery by glob gen-0012* among {n} services (100 matches)",
    "discover_tag": "discovery by tag among {n} services (10 matches)",
    "gc": "one full garbage collection of svcmgr's heap with {n} services defined (the pause a query "
          "meets when its allocation triggers one; the discovery figures are timed after a collection)",
    "bytes_per_service": "svcmgr GC heap held per defined service (gc.mem_alloc after loading, minus before)",
}


class SvcBenchError(Exception):
    pass


def _initrd(tmp, n):
    base = os.path.join(ROOT, "build", "initrd.cpio")
    return mkinitrd.repack(base, os.path.join(tmp, "n%d" % n), svcgen.trivial(n),
                           svcgen.without_defaults(DEFAULTS_KEPT))


def _boot(n, initrd, accel, label, command=None, timeout=300):
    """Boots the image with n trivial services; returns (wall ns to the ready line, the
    output of command run in the shell afterwards or None)."""
    with Machine("svcbench-%s" % label, initrd=initrd, accel=accel, memory=512) as m:
        ready = m.wait_for(READY, timeout=timeout)
        wall = int((time.monotonic() - m.launched_at) * 1e9)
        if int(ready.group(1)) != n + len(DEFAULTS_KEPT):
            raise SvcBenchError("%s: %s services running, not %d\n%s" % (label, ready.group(1).decode(),
                                                                         n + len(DEFAULTS_KEPT), m.tail()))
        out = None
        if command:
            start = len(m.console())
            m.send_line(command)
            try:
                m.wait_for(rb"svcbench: done", failure=FAILED, timeout=timeout)
            except AssertionError as e:
                raise SvcBenchError("%s: %s failed:\n%s" % (label, command, e))
            out = m.console()[start:].decode("utf-8", "replace").replace("\r", "")
        return wall, out


def _percentile_figure(name, values, unit, description, **extra):
    values = sorted(values)
    f = {"name": name, "median": values[len(values) // 2], "p99": values[-1] if len(values) > 1 else None,
         "runs": len(values), "unit": unit, "description": description}
    f.update(extra)
    return f


def run_boot(accel="tcg", quick=False, log=print):
    """sm_boot_ready_N, sm_mem_N and svcbench's figures (from the last N=100 boot)."""
    runs = 1 if quick else 3
    figures = []
    with tempfile.TemporaryDirectory(prefix="multios-svcbench-") as tmp:
        for n in BOOT_SIZES:
            initrd = _initrd(tmp, n)
            walls = []
            out = None
            for r in range(runs):
                last = r == runs - 1
                command = None
                if last:
                    command = "svcbench --mem" if n != BOOT_SIZES[-1] else "svcbench" + (" --quick" if quick else "")
                log("svcbench: boot with %d trivial services (%d of %d)%s" % (n, r + 1, runs,
                                                                            ", then " + command if command else ""))
                wall, o = _boot(n, initrd, accel, "boot-%d-%d" % (n, r), command)
                walls.append(wall)
                out = o or out
            figures.append(_percentile_figure(
                "sm_boot_ready_%d" % n, walls, "ns",
                "host wall from QEMU launch (direct boot) to svcmgr's ready line: %d trivial services (svctest "
                "--serve-quiet, every 10th requires the one before) plus the shell of the default system, all running "
                "and ready" % n))
            mem = MEM_LINE.search(out)
            if not mem:
                raise SvcBenchError("svcbench printed no MEM line:\n%s" % out[-2000:])
            figures.append({"name": "sm_mem_%d" % n, "median": int(mem.group(1)), "p99": None, "runs": 1,
                            "unit": "bytes",
                            "description": "svcmgr's memory with %d trivial services (+ shell, 2 bench services) "
                                           "loaded and running: the frames the process holds (mem_bytes: pages "
                                           "it has touched, as Linux RSS without shared pages; its GC heap and "
                                           "program image are demand-loaded)" % n})
            if n == BOOT_SIZES[-1]:
                figures += benchfig.parse_bench_lines(
                    out, {k: v.replace("%d", str(n + 3)) for k, v in DESCRIPTIONS.items()})
    return figures


def run_scale(n, accel="tcg", timeout=None):
    """The scale_* figures for n services: /sbin/svcmgr -- --bench-scale n, alone in the guest."""
    cmdline = "mos.run=/sbin/svcmgr,--,--bench-scale,%d" % n
    memory = 2048 if n > 20000 else 1024
    timeout = timeout or max(120, n // 100 * 8)  # ~3 ms a service under TCG, plenty of room
    with Machine("svcbench-scale-%d" % n, cmdline=cmdline, accel=accel, memory=memory) as m:
        try:
            m.wait_for(rb"SCALE done", failure=FAILED, timeout=timeout)
        except AssertionError as e:
            raise SvcBenchError("svcmgr --bench-scale %d failed:\n%s" % (n, e))
        out = m.console().decode("utf-8", "replace").replace("\r", "")
    figures = []
    for s in SCALE_LINE.finditer(out):
        what, x, v = s.group(1), int(s.group(2)), int(s.group(3))
        series = what[:-3] if what.endswith("_ns") else what
        unit = "bytes/service" if series == "bytes_per_service" else "ns"
        f = {"name": "scale_%s_%d" % (series, x), "series": "scale_" + series, "x": x, "median": v,
             "p99": int(s.group(4)) if s.group(4) else None, "runs": int(s.group(5)) if s.group(5) else 1,
             "unit": unit, "description": SCALE_DESCRIPTIONS[series].format(n="{:,}".format(x))}
        figures.append(f)
    if len(figures) != len(SCALE_DESCRIPTIONS):
        raise SvcBenchError("svcmgr --bench-scale %d printed %d figures, not %d:\n%s"
                            % (n, len(figures), len(SCALE_DESCRIPTIONS), out[-2000:]))
    return figures


def run(accel="tcg", quick=False, log=print):
    """Every figure (see the top of this file); quick: one boot per size, a few runs per
    figure, scale at 1,000 only (about a minute under TCG)."""
    figures = run_boot(accel, quick, log)
    for n in SCALE_QUICK if quick else SCALE_SIZES:
        log("svcbench: svcmgr with %s generated services" % "{:,}".format(n))
        figures += run_scale(n, accel)
    return figures


def table(figures):
    rows = [("figure", "median", "p99", "runs", "unit")]
    for f in figures:
        rows.append((f["name"], str(f["median"]), "" if f["p99"] is None else str(f["p99"]), str(f["runs"]), f["unit"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                     for r in rows)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="svcbench.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few runs, scale at 1,000 only")
    ap.add_argument("--accel", default=None, help="tcg (default), kvm or auto")
    ap.add_argument("--json", default=None, help="also write the figures there")
    args = ap.parse_args(argv)
    accel = qemu.choose_accel(args.accel)
    t0 = time.monotonic()
    try:
        figures = run(accel, args.quick)
    except SvcBenchError as e:
        sys.exit("svcbench: %s" % e)
    print(table(figures))
    print("svcbench: %d figures in %.0f s (%s)" % (len(figures), time.monotonic() - t0, accel.upper()))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"accelerator": accel, "quick": args.quick, "wall_s": round(time.monotonic() - t0, 1),
                       "figures": figures}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
