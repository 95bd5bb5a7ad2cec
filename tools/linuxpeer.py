"""The Linux peer of ./multios bench: Debian's cloud kernel and busybox-static booted in the
same QEMU configuration as MultiOS, running the same benchmarks, so bench prints ratios.

    run(accel="tcg", quick=False, multios=False) -> {"kbench": [figure], "boot": figure,
        "interp": [figure], "kernel": version, "busybox": version, "wall_s": {...},
        "console": the first boot's console, and with multios=True "multios_interp": [figure]}
    run_multios_perfbench(accel="tcg", quick=False) -> [figure]

A figure is {"name", "median", "p99", "runs", "unit": "ns", "description"}.

- kbench: services/bin/kbench.c with its Linux primitives (kbench_linux.c), static against
  glibc, the same measured loops as MultiOS's /bin/kbench.
- boot: host wall time from QEMU's launch to the first line /init prints.
- interp: MicroPython's tests/perf_bench, run by bench/perf/driver.py on MicroPython's unix
  port (static against glibc, built from the same patched 1.25.0 source as our port) in the
  Linux guest; run_multios_perfbench runs the same driver and test files on /bin/python.
  run(multios=True) interleaves the two: a MultiOS round after each Linux boot (see run).

The guest: an initramfs (build/peer/linux/initrd.cpio) whose /init is a busybox sh script.
It mounts devtmpfs first (the initramfs has no /dev/console, so the kernel gives /init no
console), prints "linuxpeer: init", runs the benchmarks on the serial console and ends QEMU
through isa-debug-exit (qemu-exit: ioperm and outb to port 0xf4; the Debian kernel has no
/dev/port). Kernel parameters with "=" that the kernel does not know reach /init as
environment variables: peer=all|kbench|perf|boot (what to run), kbench=ARGS, perf="ARGS".

    python3 tools/linuxpeer.py [--quick] [--accel A] [--rounds N] [--multios]
"""
import glob
import hashlib
import os
import re
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchfig  # noqa: E402
import mkinitrd  # noqa: E402
import peer_debs  # noqa: E402
import qemu_cmd as qemu  # noqa: E402

ROOT = qemu.ROOT
PEER = os.path.join(ROOT, "build", "peer", "linux")
MP_SRC = os.path.join(ROOT, "build", "deps", "micropython-1.25.0")
MP_PEER = os.path.join(ROOT, "build", "peer", "micropython")  # a patched copy, built in place
PATCHES = os.path.join(ROOT, "patches", "micropython")
PERF_SRC = os.path.join(MP_SRC, "tests", "perf_bench")
DRIVER = os.path.join(ROOT, "bench", "perf", "driver.py")
BIN = os.path.join(ROOT, "services", "bin")

MARKER = b"linuxpeer: init"
# Both guests get what MultiOS's interpreter benchmarks get (tools/bench.py run_interp).
MEMORY = 512
# The unix port's GC heap is fixed; our port's starts at 4 MiB and grows only when a
# collection frees too little (up to heapmax). Every perf_bench test runs in 4 MiB.
UNIX_HEAP = "4m"

# MicroPython's unix port: the standard variant (ROM level EXTRA_FEATURES, as our port), static
# against glibc, without the modules that need libraries or a file system image, and
# configured like services/python/mpconfigport.h where the unix port lets us:
# 32-bit string hashes (patch 0001), no native emitter, no threads (no GIL), -O2 with -O3 for
# vm.c and gc.c (py/py.mk's CSUPEROPT, also what our SConscript does) and asserts kept (our
# port is built without NDEBUG).
UNIX_MAKE_VARS = [
    "VARIANT=standard", "FROZEN_MANIFEST=", "MICROPY_PY_FFI=0", "MICROPY_PY_BTREE=0", "MICROPY_PY_SSL=0",
    "MICROPY_USE_READLINE=0", "MICROPY_PY_SOCKET=0", "MICROPY_PY_THREAD=0", "MICROPY_VFS_FAT=0",
    "MICROPY_VFS_LFS1=0", "MICROPY_VFS_LFS2=0", "LDFLAGS_EXTRA=-static",
    "COPT=-O2 -fdata-sections -ffunction-sections",
    "CFLAGS_EXTRA=-DMICROPY_QSTR_BYTES_IN_HASH=4 -DMICROPY_EMIT_X64=0 -DMICROPY_FLOAT_USE_NATIVE_FLT16=0",
]


PeerError = peer_debs.PeerError
_run = peer_debs.run


def _digest(paths, extra=""):
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(p.encode())
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def _stale(target, stamp, digest):
    return not (os.path.exists(target) and os.path.exists(stamp) and open(stamp).read().strip() == digest)


# --- builds -----------------------------------------------------------------------------------

def patches():
    return sorted(glob.glob(os.path.join(PATCHES, "*.patch")))


def build_micropython():
    """MicroPython's unix port, static: built in a patched copy of the source tree (the shared
    build/deps tree stays clean). Rebuilt when the patches or the flags change."""
    binary = os.path.join(MP_PEER, "ports", "unix", "build-standard", "micropython")
    stamp = os.path.join(MP_PEER, ".linuxpeer-build")
    digest = _digest(patches(), " ".join(UNIX_MAKE_VARS))
    if not _stale(binary, stamp, digest):
        return binary
    if not os.path.isdir(os.path.join(MP_SRC, "py")):
        raise PeerError("MicroPython source missing at %s: run ./multios setup" % MP_SRC)
    print("linuxpeer: building MicroPython's unix port (static, patched copy in %s)" % os.path.relpath(MP_PEER, ROOT),
          flush=True)
    shutil.rmtree(MP_PEER, ignore_errors=True)
    keep_ports = {"unix"}
    shutil.copytree(MP_SRC, MP_PEER, symlinks=True, ignore=lambda d, names: (
        [n for n in names if n not in keep_ports] if os.path.basename(d) == "ports" else
        [n for n in names if n in ("docs", "tests")] if d == MP_SRC else []))
    # As tools/mpbuild.py applies them to our port's tree: in order, no fuzz.
    for patch in patches():
        _run(["patch", "-p1", "--batch", "--forward", "--fuzz=0", "--quiet", "--no-backup-if-mismatch",
              "-d", MP_PEER, "-i", patch])
    # makeversionhdr.py asks git first, and git would describe the MultiOS repository around
    # the copy: name the release, as tools/mpbuild.py does.
    env = dict(os.environ, MICROPY_GIT_TAG="v1.25.0", MICROPY_GIT_HASH="")
    _run(["make", "-C", os.path.join(MP_PEER, "ports", "unix"), "-j%d" % (os.cpu_count() or 2)] + UNIX_MAKE_VARS,
         env=env)
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    return binary


def _static_program(name, sources, flags=()):
    out = os.path.join(PEER, name)
    stamp = out + ".stamp"
    paths = [os.path.join(BIN, s) for s in sources] + [os.path.join(BIN, h) for h in ("kbench_os.h", "benchstat.h")]
    cmd = ["gcc", "-O2", "-Wall", "-Wextra", "-static", "-o", out] + paths[:-1] + list(flags)
    digest = _digest(paths, " ".join(cmd))
    if _stale(out, stamp, digest):
        os.makedirs(PEER, exist_ok=True)
        _run(cmd)
        with open(stamp, "w") as f:
            f.write(digest + "\n")
    return out


def build_programs():
    """kbench, /bin/true and qemu-exit for Linux, static against glibc."""
    return (_static_program("kbench", ["kbench.c", "kbench_linux.c"], ["-pthread"]),
            _static_program("true", ["true.c"]), _static_program("qemu-exit", ["qemu_exit_linux.c"]))


INIT = r"""#!/bin/busybox sh
# /init of the Linux peer (generated by tools/linuxpeer.py).
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
echo "linuxpeer: init"
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "linuxpeer: kernel $(uname -r)"
echo "linuxpeer: busybox $(busybox | head -n 1)"
status=0
case "$peer" in
boot) ;;
*)
    # What the kernel turned on against CPU vulnerabilities (system call and switch costs).
    grep . /sys/devices/system/cpu/vulnerabilities/* | sed 's,.*/,linuxpeer: vulnerability ,'
    echo "linuxpeer: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
    if [ "$peer" != perf ]; then
        /bin/kbench $kbench || status=1
    fi
    if [ "$peer" != kbench ]; then
        cd /bench/perf && /bin/micropython -X heapsize=%(heap)s driver.py $perf || status=1
    fi
    ;;
esac
echo "linuxpeer: done $status"
/bin/qemu-exit $status
poweroff -f
"""


def perf_files():
    """(name, host path) of the perf_bench programs and the driver, as both guests get them."""
    files = [(os.path.basename(p), p) for p in sorted(glob.glob(os.path.join(PERF_SRC, "*.py")))]
    return files + [("driver.py", DRIVER)]


def perf_driver():
    """bench/perf/driver.py as a module (it runs on CPython too): its PARAMS, SKIPPED (name:
    reason, skipped on both systems), QUICK."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("perf_driver", DRIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def skipped_perf():
    """{test name: why it runs on neither system}."""
    return dict(perf_driver().SKIPPED)


def build_initrd():
    """build/peer/linux/initrd.cpio: busybox, kbench, true, qemu-exit, micropython, perf_bench,
    /init."""
    kbench, true, qemu_exit = build_programs()
    micropython = build_micropython()
    busybox = peer_debs.busybox_static()
    init = os.path.join(PEER, "init")
    text = INIT % {"heap": UNIX_HEAP}
    if not os.path.exists(init) or open(init).read() != text:
        with open(init, "w") as f:
            f.write(text)
    os.chmod(init, 0o755)
    entries = [("init", init), ("bin", None), ("bin/busybox", busybox), ("bin/kbench", kbench), ("bin/true", true),
               ("bin/qemu-exit", qemu_exit),
               ("bin/micropython", micropython), ("bench", None), ("bench/perf", None)]
    entries += [(d, None) for d in ("dev", "proc", "sys", "tmp", "sbin", "usr", "usr/bin", "usr/sbin")]
    entries += [("bench/perf/" + name, path) for name, path in perf_files()]
    out = os.path.join(PEER, "initrd.cpio")
    data = mkinitrd.pack(entries)
    if not os.path.exists(out) or open(out, "rb").read() != data:
        with open(out, "wb") as f:
            f.write(data)
    return out


def build():
    """Everything the Linux guest needs; returns (vmlinuz, kernel version, initrd)."""
    vmlinuz, version = peer_debs.linux_kernel()
    return vmlinuz, version, build_initrd()


# --- running ----------------------------------------------------------------------------------

# Kernel parameters: the serial console only, and quiet (~300 lines of boot log through the
# emulated 8250, a port write per character, would be console time, not boot time). panic=-1
# with QEMU's -no-reboot ends QEMU on a panic. Nothing else is turned off: the kernel probes
# what a Debian cloud kernel probes on this machine model.
APPEND = "console=ttyS0 quiet panic=-1"


def qemu_args(vmlinuz, initrd, accel, env=()):
    """qemu_cmd.base_args's direct boot (same machine, CPU, memory, -smp 1, -nodefaults,
    isa-debug-exit), with Linux as the kernel."""
    args = qemu.base_args("direct", accel=accel, memory=MEMORY, initrd=initrd)
    args[args.index("-kernel") + 1] = vmlinuz
    args[args.index("-append") + 1] = " ".join([APPEND] + list(env))
    return args + ["-display", "none", "-serial", "stdio"]


def boot(vmlinuz, initrd, accel, env=(), timeout=600):
    """Boots the Linux peer; returns (seconds from launch to the /init marker, console text).
    Raises PeerError with the console tail unless /init ends QEMU with success."""
    args = qemu_args(vmlinuz, initrd, accel, env)
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    marker_at = None
    try:
        while True:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                raise PeerError("the Linux peer did not finish in %d s; console tail:\n%s" % (timeout, _tail(out)))
            if select.select([p.stdout], [], [], min(left, 1.0))[0]:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
                if marker_at is None and MARKER in out:
                    marker_at = time.monotonic() - t0
        status = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = out.decode("utf-8", "replace").replace("\r", "")
    if marker_at is None:
        raise PeerError("the Linux peer's /init never started (QEMU status %d); console tail:\n%s"
                        % (status, _tail(out)))
    if status != qemu.qemu_status(0) or "linuxpeer: done 0" not in text:
        raise PeerError("the Linux peer failed (QEMU status %d); console tail:\n%s" % (status, _tail(out)))
    return marker_at, text


def _tail(out, n=3000):
    if isinstance(out, bytes):
        out = out.decode("utf-8", "replace").replace("\r", "")
    return out[-n:]


PERF_LINE = re.compile(r"^PERF (\w+) (\d+) (\d+) (\d+)\s*$", re.M)
KBENCH_DESC = {
    "null_syscall": "null system call (getpid)",
    "ipc_roundtrip": "IPC round trip between two processes",
    "spawn_wait": "spawn + exit + wait of /bin/true",
    "page_fault": "first write to an anonymous page (fault-in)",
    "ctx_switch": "switch between two threads that yield",
}


def parse_kbench(text):
    """kbench's "BENCH name median_ns p99_ns runs" lines as figures."""
    return benchfig.parse_bench_lines(text, KBENCH_DESC)


def parse_perf(text, where):
    """The driver's "PERF name median_us max_us runs" lines as figures (ns)."""
    return [{"name": "perf_" + m.group(1), "median": int(m.group(2)) * 1000, "p99": int(m.group(3)) * 1000,
             "runs": int(m.group(4)), "unit": "ns",
             "description": "perf_bench %s: %s" % (m.group(1), where)}
            for m in PERF_LINE.finditer(text)]


merge_rounds = benchfig.merge_rounds


def _perf_arg(quick, repeat):
    return "--quick" if quick else "--repeat %d" % repeat


def run(accel="tcg", quick=False, timeout=None, rounds=None, multios=False):
    """Boots the Linux peer ROUNDS times (default 1 when quick, else 5): kbench and one run of
    each perf_bench test in every boot, and every boot's marker time is a sample of the boot
    figure. Each figure is the median of the boots' medians: some figures differ from boot to
    boot by more than within a boot (ctx_switch under TCG: ~0.7 or ~4.1 us, by boot). With
    MULTIOS, a MultiOS perf_bench round follows each Linux boot, so both systems' samples come
    from the same stretch of time on a shared machine (the figures are then in
    result["multios_interp"]).

    Rounds rather than repeats inside one boot: the host's load drifts (other QEMUs on the
    same two cores), and interleaving keeps a drift from landing on one system only."""
    vmlinuz, version, initrd = build()
    if rounds is None:
        rounds = 1 if quick else 5
    times, texts, mos_rounds = [], [], []
    wall = {"linux": 0.0, "multios": 0.0}
    for i in range(rounds):
        env = ["peer=all", 'perf="%s"' % _perf_arg(quick, 1)]
        if quick:
            env.append("kbench=--quick")
        w0 = time.monotonic()
        t, text = boot(vmlinuz, initrd, accel, env, timeout=timeout or (300 if quick else 900))
        wall["linux"] += time.monotonic() - w0
        times.append(t)
        texts.append(text)
        if multios:
            w0 = time.monotonic()
            mos_rounds.append(run_multios_perfbench(accel, quick, timeout, repeat=1))
            wall["multios"] += time.monotonic() - w0
    kbench_rounds = []
    for text in texts:
        kbench = parse_kbench(text)
        missing = [n for n in KBENCH_DESC if n not in {f["name"] for f in kbench}]
        if missing or "kbench: done" not in text:
            raise PeerError("Linux kbench printed no figure for %s; console tail:\n%s"
                            % (", ".join(missing) or "?", _tail(text)))
        kbench_rounds.append(kbench)
    text = texts[0]
    perf_rounds = [parse_perf(t, "MicroPython unix port in the Linux guest") for t in texts]
    if not all(perf_rounds):
        raise PeerError("the perf_bench driver printed no PERF line; console tail:\n%s"
                        % _tail(texts[[bool(r) for r in perf_rounds].index(False)]))
    times.sort()
    bb = re.search(r"linuxpeer: busybox (BusyBox v\S+)", text)
    result = {"kbench": merge_rounds(kbench_rounds),
              "boot": {"name": "boot_linux", "median": int(times[len(times) // 2] * 1e9),
                       "p99": int(times[-1] * 1e9), "runs": len(times), "unit": "ns",
                       "description": "QEMU launch to the Linux peer's /init marker (host wall)"},
              "interp": merge_rounds(perf_rounds), "kernel": version, "busybox": bb.group(1) if bb else None,
              "console": text, "wall_s": {k: round(v, 1) for k, v in wall.items() if v}}
    if multios:
        result["multios_interp"] = merge_rounds(mos_rounds)
    return result


def run_multios_perfbench(accel="tcg", quick=False, timeout=None, repeat=None):
    """The same driver and perf_bench files on /bin/python in the MultiOS guest (/bench/perf
    in the initrd, generated by the build), REPEAT runs per test in one boot (default 5)."""
    driver_args = ["--quick"] if quick else ["--repeat", str(repeat or perf_driver().REPEAT)]
    cmdline = ",".join(["mos.run=/bin/python", "-X", "heapmax=256m", "/bench/perf/driver.py"] + driver_args)
    args = qemu.base_args("direct", accel=accel, memory=MEMORY, cmdline=cmdline) + ["-display", "none",
                                                                                    "-serial", "stdio"]
    timeout = timeout or (300 if quick else 900)
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise PeerError("MultiOS perf_bench did not finish in %d s; console tail:\n%s"
                        % (timeout, _tail(e.stdout or b"")))
    text = r.stdout.decode("utf-8", "replace").replace("\r", "")
    figures = parse_perf(text, "/bin/python in the MultiOS guest")
    if r.returncode != qemu.qemu_status(0) or not figures:
        raise PeerError("MultiOS perf_bench failed (QEMU status %d); console tail:\n%s" % (r.returncode, _tail(text)))
    return figures


def _print_figures(title, figures):
    print(title)
    for f in figures:
        print("  %-22s %14d ns  p99 %14s  runs %d" % (f["name"], f["median"], f["p99"], f["runs"]))


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="the Linux peer of ./multios bench")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--rounds", type=int, default=None, help="Linux boots (default 5, 1 with --quick)")
    ap.add_argument("--multios", action="store_true",
                    help="also run perf_bench on MultiOS, one round after each Linux boot")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    r = run(args.accel, args.quick, rounds=args.rounds, multios=args.multios)
    print("Linux %s, %s (%.1f s wall: %s)" % (r["kernel"], r["busybox"], time.monotonic() - t0,
                                            ", ".join("%s %.1f s" % kv for kv in r["wall_s"].items())))
    _print_figures("kbench (Linux)", r["kbench"])
    _print_figures("boot (Linux)", [r["boot"]])
    _print_figures("perf_bench (MicroPython unix port, Linux guest)", r["interp"])
    if args.multios:
        _print_figures("perf_bench (/bin/python, MultiOS guest)", r["multios_interp"])
        print("ratios MultiOS / Linux:")
        linux = {f["name"]: f["median"] for f in r["interp"]}
        for f in r["multios_interp"]:
            if linux.get(f["name"]):
                print("  %-22s %.2f" % (f["name"], f["median"] / linux[f["name"]]))
    for name, why in sorted(skipped_perf().items()):
        print("skipped on both: %s: %s" % (name, why))


if __name__ == "__main__":
    try:
        main()
    except PeerError as e:
        sys.exit("linuxpeer: %s" % e)
