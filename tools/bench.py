"""./multios bench: every benchmark, MultiOS beside its peer measured in the same run, one
table, results.json and the scaling plots in build/bench/.

  bench.py [--quick] [--scale N] [--accel tcg|kvm|auto] [--json PATH] [--skip SECTION,...]

Sections (all run unless skipped):
  kernel    /bin/kbench in MultiOS vs the same source on Linux (tools/linuxpeer.py)
  boot      QEMU launch to ready: MultiOS direct and via GRUB vs Linux to its /init marker;
            and to the kernel banner in every boot mode
  interp    MicroPython's perf_bench in the MultiOS guest vs MicroPython's unix port in the
            Linux guest; bench/interp on our port built natively vs CPython, and in the guest
  services  svcmgr in the guest (tools/svcbench.py) vs systemd in a Debian guest
            (tools/systemdpeer.py; its root file system is built once and cached)
  scale     1,000 / 10,000 / 100,000 services defined (from tools/svcbench.py), plotted
  linux     (the Linux peer, skipped: kernel/boot/interp rows without it)
  systemd   (the systemd peer, skipped: services rows without it)

Guest figures are timed in the guest with the calibrated TSC unless a row says host wall;
each is the median and 99th percentile of individually timed runs. Nothing here passes or
fails on a figure: targets are reported as met or missed.
"""
import argparse
import datetime
import json
import os
import platform
import re
import select
import subprocess
import sys
import time

import benchfig
import qemu_cmd as qemu

ROOT = qemu.ROOT
OUT_DIR = os.path.join(ROOT, "build", "bench")
RESULTS = os.path.join(OUT_DIR, "results.json")
SECTIONS = ("kernel", "boot", "interp", "services", "scale", "linux", "systemd")

# name -> (row title, the most MultiOS/peer may be for the target; None: no target)
TARGETS = {
    "null_syscall": ("null system call (getpid)", 1.0),
    "ipc_roundtrip": ("IPC round trip (MultiOS call/reply; Linux 1-byte pipe ping-pong)", 0.1),
    "spawn_wait": ("spawn + exit + wait of /bin/true (Linux fork+exec+wait)", 0.25),
    "page_fault": ("4 KiB page fault-in (first write to anonymous memory)", None),
    "ctx_switch": ("context switch between two threads (yield)", None),
    "boot_ready_direct": ("boot to ready, host wall: MultiOS direct to svcmgr ready; Linux to /init", 0.1),
    "boot_ready_microvm": ("boot to ready, host wall: MultiOS direct on QEMU's microvm machine; Linux (pc) to /init",
                           None),
    "boot_ready_bios_cd": ("boot to ready, host wall: MultiOS GRUB (BIOS CD) to svcmgr ready; Linux to /init", None),
    "sm_boot_ready_10": ("boot to 10 services ready, host wall (vs systemd)", 0.05),
    "sm_boot_ready_100": ("boot to 100 services ready, host wall (vs systemd)", 0.05),
    "sm_start_cli": ("start a stopped trivial service: svc start vs systemctl start", 0.05),
    "sm_start_call": ("start a stopped trivial service: service_start() vs systemctl start", 0.05),
    "sm_status_cli": ("status: svc is-active vs systemctl is-active", 0.05),
    "sm_status_call": ("status: service_status() vs systemctl is-active", 0.05),
    "sm_restart": ("killed service running again (auto restart vs Restart=always, RestartSec=0)", 0.05),
    "sm_mem_10": ("service manager memory, 10 services (svcmgr vs PID 1 RSS)", 0.5),
    "sm_mem_100": ("service manager memory, 100 services (svcmgr vs PID 1 RSS)", 0.5),
    "sm_exec_cost": ("systemctl's own start-up (systemctl --version), inside each systemctl row", None),
}
SCALE_LABELS = {
    "scale_load": "load + validate definitions",
    "scale_order": "start order (dependency waves)",
    "scale_discover_name": "discover by exact name (1 match)",
    "scale_discover_glob": "discover by glob (100 matches)",
    "scale_discover_tag": "discover by tag (10 matches)",
    "scale_gc": "one full GC of svcmgr's heap",
    "scale_bytes_per_service": "svcmgr heap bytes per service",
}
INTERP_TARGET = 1.0  # perf_bench: MultiOS time <= the unix port's in the Linux guest
HOST_INTERP_TARGET = 2.0  # host-native build within 2x CPython
SCALE_TAG_TARGET = 10.0  # discover by tag at 100,000: p99 <= 10x its p99 at 1,000
BYTES_PER_SERVICE_TARGET = 2048


class BenchError(Exception):
    pass


def figure(name, median, p99=None, runs=1, unit="ns", description=None, **extra):
    return benchfig.figure(name, median, p99, runs, unit, description or TARGETS.get(name, (name,))[0], **extra)


# --- kernel -----------------------------------------------------------------------------

TSC_LINE = re.compile(r"kbench: \w+ tsc (\d+) Hz")
merge_rounds = benchfig.merge_rounds


def parse_kbench(out):
    return benchfig.parse_bench_lines(out, {n: t[0] for n, t in TARGETS.items()})


def run_kbench(kbench_args=(), accel="tcg", timeout=900):
    """Boots the kernel with mos.run=/bin/kbench,ARGS; returns (figures, tsc_hz, console)."""
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
    tsc = TSC_LINE.search(out)
    return parse_kbench(out), int(tsc.group(1)) if tsc else None, out


# --- boot -------------------------------------------------------------------------------

BANNER = re.compile(rb"MultiOS \d+\.\d+\.\d+ x86_64")
READY = re.compile(rb"svcmgr: ready: \d+ services")
BANNER_MODES = ("microvm", "direct", "bios-cd", "bios-disk", "uefi-cd", "uefi-disk")


def wall_to(args, pattern, timeout=120, what="boot"):
    """Host wall seconds from launching ARGS (QEMU with COM1 on stdout) to PATTERN."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    try:
        while not pattern.search(seen):
            left = timeout - (time.monotonic() - t0)
            if left <= 0 or p.poll() is not None:
                raise BenchError("%s: no %r within %d s; console tail:\n%s"
                                 % (what, pattern.pattern, timeout, seen[-2000:].decode("utf-8", "replace")))
            if select.select([p.stdout], [], [], min(left, 1.0))[0]:
                seen += os.read(p.stdout.fileno(), 65536)
        return time.monotonic() - t0
    finally:
        p.kill()
        p.wait()


def boot_figure(name, mode, pattern, accel, runs, description):
    args = qemu.base_args(mode, accel=accel) + ["-display", "none", "-serial", "stdio"]
    times = sorted(wall_to(args, pattern, what="%s boot" % mode) for _ in range(runs))
    return figure(name, int(times[runs // 2] * 1e9), int(times[-1] * 1e9), runs, description=description,
                  host_wall=True)


def run_boot(accel, quick):
    runs = 1 if quick else 5
    figures = [boot_figure("boot_ready_direct", "direct", READY, accel, runs, TARGETS["boot_ready_direct"][0])]
    if not quick:
        figures.append(boot_figure("boot_ready_microvm", "microvm", READY, accel, runs,
                                   TARGETS["boot_ready_microvm"][0]))
        figures.append(boot_figure("boot_ready_bios_cd", "bios-cd", READY, accel, runs,
                                   TARGETS["boot_ready_bios_cd"][0]))
        for mode in BANNER_MODES:
            figures.append(boot_figure("boot_banner_" + mode.replace("-", "_"), mode, BANNER, accel, runs,
                                       "QEMU launch to the kernel banner, %s (host wall)" % mode))
    return figures


# --- interpreter ------------------------------------------------------------------------

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


def run_interp_host(runs=5, accel="tcg", guest=True):
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
        figures.append(figure("host_" + name, int(mp[runs // 2] * 1e6), int(mp[-1] * 1e6), runs,
                              description="%s: our MicroPython built host-native vs CPython" % name,
                              accelerator="host (native)",
                              peer=peer_of("CPython %d.%d" % sys.version_info[:2],
                                           figure(name, int(cp[runs // 2] * 1e6), int(cp[-1] * 1e6), runs)),
                              target=HOST_INTERP_TARGET))
        if guest:
            args = qemu.base_args("direct", accel=accel, memory=512,
                                  cmdline="mos.run=/bin/python,-X,heapmax=256m,/bench/" + script)
            _, ms = run_script(args + ["-display", "none", "-serial", "stdio"], ok_status=qemu.qemu_status(0))
            figures.append(figure("guest_" + name, int(ms * 1e6), None, 1,
                                  description="%s: /bin/python in the MultiOS guest" % name))
    return figures


# --- pairing, targets, table ------------------------------------------------------------


def peer_of(system, f):
    return {"system": system, "median": f["median"], "p99": f.get("p99"), "runs": f.get("runs")}


# Our rows measured against a peer row of another name: the system call beside the CLI,
# both against systemctl.
PEER_ALIAS = {"sm_start_call": "sm_start_cli", "sm_status_call": "sm_status_cli"}


def pair(ours, theirs, system, target_of):
    """Attach each peer figure to our figure of the same name (or its PEER_ALIAS); ours
    without a peer stay alone."""
    by_name = {f["name"]: f for f in theirs}
    for f in ours:
        twin = by_name.get(PEER_ALIAS.get(f["name"], f["name"]))
        if twin:
            f["peer"] = peer_of(system, twin)
        t = target_of(f["name"])
        if t is not None:
            f["target"] = t
    return ours


def label(figures):
    """Short row titles for the table; a module's longer description stays as "detail"."""
    for f in figures:
        title = TARGETS.get(f["name"], (None,))[0]
        if f.get("series") in SCALE_LABELS:
            title = "scale: %s, %s services" % (SCALE_LABELS[f["series"]], "{:,}".format(f["x"]))
        if title and title != f.get("description"):
            f["detail"] = f.get("description")
            f["description"] = title


def judge(figures):
    for f in figures:
        peer = f.get("peer")
        if peer and peer.get("median") and f.get("median") is not None:
            f["ratio"] = round(f["median"] / peer["median"], 3)
        if f.get("target") is not None and f.get("ratio") is not None:
            f["target_met"] = f["ratio"] <= f["target"]


def scale_targets(figures):
    """The scaling targets, as figures of their own: tag discovery p99 at the largest size
    against the smallest, and bytes per service at the largest size."""
    out = []
    tag = sorted((f for f in figures if f.get("series") == "scale_discover_tag"), key=lambda f: f["x"])
    if len(tag) >= 2 and tag[0].get("p99"):
        lo, hi = tag[0], tag[-1]
        out.append(figure("scale_tag_growth", round(hi["p99"] / lo["p99"], 2), None, 1, unit="x",
                          description="discover by tag p99 at %d services / at %d" % (hi["x"], lo["x"]),
                          limit=SCALE_TAG_TARGET, target_met=hi["p99"] / lo["p99"] <= SCALE_TAG_TARGET))
    mem = sorted((f for f in figures if f.get("series") == "scale_bytes_per_service"), key=lambda f: f["x"])
    if mem:
        out.append(figure("scale_bytes_per_service", mem[-1]["median"], None, 1, unit="bytes",
                          description="svcmgr heap bytes per service at %d services" % mem[-1]["x"],
                          limit=BYTES_PER_SERVICE_TARGET, target_met=mem[-1]["median"] <= BYTES_PER_SERVICE_TARGET))
    return out


def human(value, unit):
    if value is None or value == "":
        return ""
    if unit == "ns":
        for scale, suffix in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
            if value >= scale:
                return "%.3g %s" % (value / scale, suffix)
        return "%d ns" % value
    if unit in ("bytes", "bytes/service"):
        for scale, suffix in ((1 << 20, "MiB"), (1 << 10, "KiB")):
            if value >= scale:
                return "%.3g %s" % (value / scale, suffix)
        return "%d B" % value
    if unit == "x":
        return "%.3gx" % value
    return "%g %s" % (value, unit)


def target_text(f):
    if f.get("target") is not None:
        return "<= %gx %s" % (f["target"], "met" if f.get("target_met") else ("missed" if "target_met" in f else "?"))
    if f.get("limit") is not None:
        return "<= %s %s" % (human(f["limit"], f["unit"]), "met" if f["target_met"] else "missed")
    return ""


def rows(figures, accel):
    out = [("figure", "MultiOS", "peer", "ratio", "target", "p99", "runs", "accel")]
    for f in figures:
        peer = f.get("peer") or {}
        peer_text = ("%s: %s" % (peer["system"], human(peer["median"], f["unit"]))) if peer else ""
        ratio = "%.3g" % f["ratio"] if f.get("ratio") is not None else ""
        accel_text = f.get("accelerator") or ("host wall, " + accel.upper() if f.get("host_wall") else accel.upper())
        out.append((f["description"], human(f["median"], f["unit"]), peer_text, ratio, target_text(f),
                    human(f.get("p99"), f["unit"]), str(f.get("runs", "")), accel_text))
    return out


def table(figures, accel):
    rs = rows(figures, accel)
    widths = [max(len(r[i]) for r in rs) for i in range(len(rs[0]))]
    lines = []
    for n, r in enumerate(rs):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(figures, accel):
    rs = rows(figures, accel)
    lines = ["| " + " | ".join(rs[0]) + " |", "| --- |" + " ---: |" * (len(rs[0]) - 1)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rs[1:]]
    return "\n".join(lines)


def machine_text():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    qv = subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.PIPE, text=True).stdout.split("\n")[0]
    return "%s, %d cores, %s; %s" % (model or platform.machine(), os.cpu_count() or 0, platform.platform(terse=True), qv)


# --- main -------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(prog="multios bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a handful of runs per figure (a smoke test)")
    ap.add_argument("--scale", type=int, default=1, help="multiply kbench's run counts")
    ap.add_argument("--accel", default=None, help="tcg (default), kvm or auto")
    ap.add_argument("--json", default=RESULTS, help="where to write the results (default %(default)s)")
    ap.add_argument("--skip", default="", help="comma-separated sections to leave out: " + ", ".join(SECTIONS))
    args = ap.parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    unknown = skip - set(SECTIONS)
    if unknown:
        ap.error("unknown section(s): %s (sections: %s)" % (", ".join(sorted(unknown)), ", ".join(SECTIONS)))
    accel = qemu.choose_accel(args.accel)
    out_dir = os.path.dirname(os.path.abspath(args.json))
    os.makedirs(out_dir, exist_ok=True)
    started = time.monotonic()
    figures, meta, walls = [], {"accelerator": accel}, {}

    def section(name, fn):
        t0 = time.monotonic()
        print("multios bench: %s ..." % name, flush=True)
        try:
            result = fn()
        except BenchError as e:
            sys.exit("multios bench: %s: %s" % (name, e))
        walls[name] = round(time.monotonic() - t0, 1)
        print("multios bench: %s done in %.0f s" % (name, walls[name]), flush=True)
        return result

    linux = None
    want_linux = "linux" not in skip and ({"kernel", "boot", "interp"} - skip)
    if want_linux:
        import linuxpeer
        # With interp, a MultiOS perf_bench round follows each Linux boot (interleaved, so a
        # drift in the host's load does not land on one system only).
        linux = section("Linux peer (kbench, boot, perf_bench; MultiOS perf_bench interleaved)",
                        lambda: linuxpeer.run(accel=accel, quick=args.quick, multios="interp" not in skip))
        meta["linux"] = {"kernel": linux.get("kernel"), "busybox": linux.get("busybox")}

    if "kernel" not in skip:
        kargs = (["--quick"] if args.quick else []) + (["--scale", str(args.scale)] if args.scale != 1 else [])
        rounds = 1 if args.quick else 5  # as many boots as the Linux peer's, median of their medians

        def kernel():
            runs = [run_kbench(kargs, accel=accel) for _ in range(rounds)]
            meta["tsc_hz"] = runs[0][1]
            return merge_rounds([r[0] for r in runs])

        ours = section("kernel (kbench, direct boot, %d boots)" % rounds, kernel)
        figures += pair(ours, linux["kbench"] if linux else [], "Linux", lambda n: TARGETS.get(n, (0, None))[1])

    if "boot" not in skip:
        ours = section("boot", lambda: run_boot(accel, args.quick))
        if linux:
            for f in ours:
                if f["name"].startswith("boot_ready"):
                    f["peer"] = peer_of("Linux", linux["boot"])
        figures += pair(ours, [], "Linux", lambda n: TARGETS.get(n, (0, None))[1])

    if "interp" not in skip:
        if linux:
            ours = linux["multios_interp"]
            for f in ours:
                f["description"] = "perf_bench %s: /bin/python on MultiOS vs the unix port on Linux" % f["name"][5:]
            figures += pair(ours, linux["interp"], "unix port on Linux", lambda n: INTERP_TARGET)
        figures += section("interpreter on the host (bench/interp)",
                           lambda: run_interp_host(runs=1 if args.quick else 5, accel=accel, guest=not args.quick))

    svc = []
    if {"services", "scale"} - skip:
        import svcbench
        svc = section("service manager (svcbench)", lambda: svcbench.run(accel=accel, quick=args.quick))
    if "services" not in skip:
        systemd = []
        if "systemd" not in skip:
            import systemdpeer
            systemd = section("systemd peer", lambda: systemdpeer.run(accel=accel, quick=args.quick))
        sm = [f for f in svc if not f.get("series")]
        ours_names = {f["name"] for f in sm}
        # The peer's own rows (e.g. the cost of starting systemctl) appear even without a twin.
        sm += [figure(f["name"], None, None, 0, unit=f["unit"], description=f.get("description"))
               for f in systemd if f["name"] not in ours_names]
        figures += pair(sm, systemd, "systemd", lambda n: TARGETS.get(n, (0, None))[1])

    if "scale" not in skip:
        series = [f for f in svc if f.get("series")]
        for f in series:
            f["series_title"] = "%s (svcmgr in the guest, %s)" % (SCALE_LABELS.get(f["series"], f["series"]),
                                                                 accel.upper())
        figures += series + scale_targets(series)
        import plot
        meta["plots"] = plot.scaling_plots(series, out_dir)

    label(figures)
    judge(figures)
    print(table(figures, accel))
    result = dict(meta, quick=args.quick, scale=args.scale, machine=machine_text(),
                  measured=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  wall_seconds=round(time.monotonic() - started, 1), section_wall_seconds=walls,
                  method="median and 99th percentile of individually timed runs; guest figures timed in the guest "
                         "with the calibrated TSC unless marked host wall", figures=figures)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write("Measured %s on %s, accelerator %s.\n\n%s\n" % (result["measured"][:10], result["machine"],
                                                                 accel.upper(), markdown(figures, accel)))
    print("results: %s (table.md beside it; %.0f s in all)" % (os.path.relpath(args.json, os.getcwd()),
                                                                result["wall_seconds"]))


if __name__ == "__main__":
    main()
