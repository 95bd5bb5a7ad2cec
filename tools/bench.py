"""./multios bench: boot /bin/kbench (QEMU direct boot; TCG unless MULTIOS_ACCEL or --accel
says otherwise), collect its "BENCH name median_ns p99_ns runs" lines; run the interpreter
benchmarks (bench/interp/*.py) on the host-native build of our MicroPython port against CPython,
and in the guest; print a table and write build/bench/results.json.

  bench.py [--quick] [--scale N] [--accel tcg|kvm|auto] [--json PATH]

The peer and ratio columns stay empty until a peer system is measured in the same run.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

import qemu_cmd as qemu

ROOT = qemu.ROOT
RESULTS = os.path.join(ROOT, "build", "bench", "results.json")
BENCH_LINE = re.compile(r"^BENCH (\w+) (\d+) (\d+) (\d+)\s*$", re.M)
TSC_LINE = re.compile(r"kbench: tsc (\d+) Hz")
FIGURES = {
    "null_syscall": "null system call (getpid)",
    "ipc_roundtrip": "IPC call/reply round trip, two processes",
    "spawn_wait": "spawn + exit + wait of /bin/true",
}


class BenchError(Exception):
    pass


def run_kbench(kbench_args=(), accel="tcg", timeout=900):
    """Boots the kernel with mos.run=/bin/kbench,ARGS; returns (figures, tsc_hz, console).
    figures: [{"name", "median_ns", "p99_ns", "runs"}] in kbench's order."""
    cmdline = ",".join(["mos.run=/bin/kbench"] + list(kbench_args))
    args = qemu.base_args("direct", accel=accel, cmdline=cmdline) + ["-display", "none", "-serial", "stdio"]
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        raise BenchError("kbench did not finish in %d s; console tail:\n%s" % (timeout, out[-3000:]))
    out = r.stdout.decode("utf-8", "replace").replace("\r", "")
    if r.returncode != qemu.qemu_status(0) or "kbench: done" not in out:
        raise BenchError("kbench failed (QEMU status %d); console tail:\n%s" % (r.returncode, out[-3000:]))
    figures = [{"name": m.group(1), "median_ns": int(m.group(2)), "p99_ns": int(m.group(3)),
                "runs": int(m.group(4))} for m in BENCH_LINE.finditer(out)]
    tsc = TSC_LINE.search(out)
    return figures, int(tsc.group(1)) if tsc else None, out


INTERP_LINE = re.compile(r"RESULT (\w+) (\d+(?:\.\d+)?)")
INTERP_DIR = os.path.join(ROOT, "bench", "interp")
HOST_MICROPYTHON = os.path.join(ROOT, "build", "host", "python", "micropython")


def run_script(cmd, timeout=300, ok_status=0):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    m = INTERP_LINE.search(r.stdout.decode("utf-8", "replace"))
    if r.returncode != ok_status or not m:
        raise BenchError("%s failed:\n%s" % (" ".join(cmd), r.stdout.decode("utf-8", "replace")[-2000:]))
    return m.group(1), float(m.group(2))


def run_interp(runs=5, accel="tcg", guest=True):
    """Each bench/interp script: host MicroPython (our port's configuration, built natively)
    against CPython in this process's interpreter, median of RUNS; and once in the guest."""
    if not os.path.exists(HOST_MICROPYTHON):
        subprocess.run([os.path.join(ROOT, ".venv", "bin", "scons"), "-Q", "-C", ROOT, HOST_MICROPYTHON],
                       check=True, stdout=subprocess.DEVNULL)
    figures = []
    for script in sorted(f for f in os.listdir(INTERP_DIR) if f.endswith(".py") and not f.startswith("_")):
        path = os.path.join(INTERP_DIR, script)
        mp = sorted(run_script([HOST_MICROPYTHON, path])[1] for _ in range(runs))
        cp = sorted(run_script([sys.executable, path])[1] for _ in range(runs))
        name = script[:-3]
        figures.append({"name": "host_" + name, "median_ns": int(mp[runs // 2] * 1e6), "p99_ns": int(mp[-1] * 1e6),
                        "runs": runs, "peer_ns": int(cp[runs // 2] * 1e6), "peer": "CPython %d.%d" % sys.version_info[:2],
                        "accelerator": "host (native)",
                        "description": "%s: our MicroPython build, host-native, vs CPython" % name})
        if guest:
            args = qemu.base_args("direct", accel=accel, memory=512,
                                  cmdline="mos.run=/bin/python,-X,heapmax=256m,/bench/" + script)
            _, ms = run_script(args + ["-display", "none", "-serial", "stdio"], ok_status=qemu.qemu_status(0))
            figures.append({"name": "guest_" + name, "median_ns": int(ms * 1e6), "p99_ns": int(ms * 1e6), "runs": 1,
                            "peer_ns": None, "description": "%s: /bin/python in the guest (%s)" % (name, accel.upper())})
    return figures


BANNER = re.compile(rb"MultiOS \d+\.\d+\.\d+ x86_64")
BOOT_MODES = ("microvm", "direct", "bios-cd", "bios-disk", "uefi-cd", "uefi-disk")


def boot_ns(mode, accel, timeout=120):
    """Host wall time from QEMU's launch to the kernel's banner on COM1."""
    import select
    import time
    args = qemu.base_args(mode, accel=accel) + ["-display", "none", "-serial", "stdio"]
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    try:
        while not BANNER.search(seen):
            left = timeout - (time.monotonic() - t0)
            if left <= 0 or p.poll() is not None:
                raise BenchError("%s boot: no banner within %d s" % (mode, timeout))
            if select.select([p.stdout], [], [], min(left, 1.0))[0]:
                seen += os.read(p.stdout.fileno(), 4096)
        return int((time.monotonic() - t0) * 1e9)
    finally:
        p.kill()
        p.wait()


def run_boot(accel, runs=5):
    figures = []
    for mode in BOOT_MODES:
        times = sorted(boot_ns(mode, accel) for _ in range(runs))
        figures.append({"name": "boot_" + mode.replace("-", "_"), "median_ns": times[runs // 2], "p99_ns": times[-1],
                        "runs": runs, "peer_ns": None,
                        "description": "QEMU launch to the kernel banner, %s (host wall)" % mode})
    return figures


def table(figures, accel):
    rows = [("figure", "MultiOS", "peer", "ratio", "unit", "accelerator", "p99", "runs")]
    for f in figures:
        peer = f.get("peer_ns")
        ratio = "%.2f" % (f["median_ns"] / peer) if peer else ""
        rows.append((FIGURES.get(f["name"], f.get("description", f["name"])), str(f["median_ns"]), str(peer or ""), ratio, "ns",
                     f.get("accelerator", accel.upper()), str(f["p99_ns"]), str(f["runs"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="multios bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a handful of runs per figure (a smoke test)")
    ap.add_argument("--scale", type=int, default=1, help="multiply kbench's run counts")
    ap.add_argument("--accel", default=None, help="tcg (default), kvm or auto")
    ap.add_argument("--json", default=RESULTS, help="where to write the results (default %(default)s)")
    args = ap.parse_args(argv)
    accel = qemu.choose_accel(args.accel)
    kargs = ["--quick"] if args.quick else []
    if args.scale != 1:
        kargs += ["--scale", str(args.scale)]
    print("multios bench: booting /bin/kbench %s(direct boot, %s)" % (" ".join(kargs) + " " if kargs else "",
                                                                     accel.upper()), flush=True)
    try:
        figures, tsc_hz, _ = run_kbench(kargs, accel=accel)
    except BenchError as e:
        sys.exit("multios bench: %s" % e)
    missing = [name for name in FIGURES if name not in {f["name"] for f in figures}]
    if missing:
        sys.exit("multios bench: kbench printed no figure for %s" % ", ".join(missing))
    for f in figures:
        f.update(peer_ns=None, ratio=None, unit="ns", description=FIGURES.get(f["name"], f["name"]))
    if not args.quick:
        print("multios bench: boot figures (QEMU launch to the banner, median of 5 per mode)", flush=True)
        try:
            figures += run_boot(accel)
        except BenchError as e:
            sys.exit("multios bench: %s" % e)
    print("multios bench: interpreter figures (bench/interp)", flush=True)
    try:
        figures += run_interp(runs=1 if args.quick else 5, accel=accel, guest=not args.quick)
    except BenchError as e:
        sys.exit("multios bench: %s" % e)
    for f in figures:
        if f.get("peer_ns"):
            f["ratio"] = round(f["median_ns"] / f["peer_ns"], 2)
    print(table(figures, accel))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    result = {"accelerator": accel, "tsc_hz": tsc_hz, "quick": args.quick, "scale": args.scale,
              "measured": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "method": "median and 99th percentile of individually timed runs, rdtsc in the guest, "
                        "converted with the kernel's calibrated TSC frequency",
              "figures": figures}
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("results: %s" % os.path.relpath(args.json, os.getcwd()))


if __name__ == "__main__":
    main()
