"""The service-manager peer: systemd in a minimal Debian guest, booted with Debian's cloud kernel
in the same emulated machine as MultiOS (tools/qemu_cmd.py machine_args: QEMU's pc machine,
-cpu max under TCG, -smp 1), with 512 MiB, measured the way MultiOS's svcmgr figures are.

    run(accel="tcg", quick=False, ns=(10, 100)) -> list of figures
    systemdpeer.py [--quick] [--accel A] [--ns 10,100] [--json PATH]

A figure is {"name", "median", "p99", "runs", "unit" ("ns" or "bytes"), "description"}.

The guest: `debootstrap --variant=minbase --include=systemd,systemd-sysv bookworm` (systemd
252; cached as a tarball in ~/.cache/multios/peer-systemd/, keyed by the recipe), plus
  - svc-0..svc-99: Type=simple, Restart=always, RestartSec=0, running bench/peer/systemd/svc.c
    (static), which stamps /run/svc-I.started with its CLOCK_MONOTONIC start time and pid and
    pause()s; every tenth (I % 10 == 9) Requires= and is After= svc-(I-1);
  - bench-10.target, bench-100.target: basic.target plus svc-0..svc-(N-1) and smbench@N;
  - smbench@N.service, after bench-N.target: bench/peer/systemd/smbench.c (static) waits until
    all N services have stamped their files, prints "SMBENCH ready N" on ttyS0, reports PID 1's
    VmRSS, times systemctl (when smbench.measure=1 is on the kernel command line) and ends QEMU
    through isa-debug-exit.
packed with `mkfs.ext4 -d` (no loop mount) into build/peer/systemd/root.ext4, attached as NVMe
(built into the cloud kernel, as is ext4: no initrd), booted with -snapshot and
systemd.unit=bench-N.target. The image is rebuilt only when its inputs change.

What a fuller Debian would add is absent, not disabled: minbase brings no udev, kmod, dbus,
cron or network configuration, and the kernel's modules are not installed (so systemd's
binfmt_misc automount, which needs autofs4, reports "unsupported"). The bench targets pull in
basic.target only, so multi-user.target's units (getty, e2scrub_reap) do not start; MASKED
lists what is masked besides.
"""
import argparse
import hashlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
import urllib.request

import peer_debs
import qemu_cmd as qemu
from setup import CACHE, debian_mirror

ROOT = qemu.ROOT
SRC = os.path.join(ROOT, "bench", "peer", "systemd")
BUILD = os.path.join(ROOT, "build", "peer", "systemd")
CACHE_DIR = os.path.join(CACHE, "peer-systemd")
IMAGE = os.path.join(BUILD, "root.ext4")

SUITE = "bookworm"
VARIANT = "minbase"
INCLUDE = ["systemd", "systemd-sysv"]
# Bump RECIPE when the debootstrap step changes (its tarball is keyed by it), IMAGE_RECIPE when
# build_image() changes in a way its other inputs (units, sources, masks) do not show.
RECIPE = 1
IMAGE_RECIPE = 1
DEBOOTSTRAP_TIMEOUT = 1800
IMAGE_SIZE = "1G"
MEMORY = 512
MAX_SERVICES = 100
CLI_SERVICE = "svc-5"  # no dependents; smbench.c's TARGET
# Units the bench targets would not start anyway (getty) or that could fire periodic
# maintenance in the middle of a measurement (apt, dpkg, e2scrub, fstrim timers): masked.
MASKED = ["getty@tty1.service", "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
          "e2scrub_all.timer", "fstrim.timer", "e2scrub_reap.service"]
# quiet: Debian's default kernel command line (systemd then prints status only for slow or
# failed jobs). The smbench.* options are read by smbench, ignored by the kernel.
APPEND = "root=/dev/nvme0n1 rootfstype=ext4 rootwait rw console=ttyS0 quiet panic=-1"

READY = re.compile(rb"SMBENCH ready (\d+)")
SAMPLES = re.compile(r"^SMBENCH-RUNS (\w+)((?: \d+)+)\s*$", re.M)
FAILED = re.compile(rb"SMBENCH FAILED|Kernel panic|end Kernel panic")


PeerError = peer_debs.PeerError
_run = peer_debs.run


class MirrorUnreachable(PeerError):
    pass


def say(msg):
    print("systemdpeer: " + msg, flush=True)


def _digest(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def rootfs_tarball():
    """The debootstrapped tree as a tarball in the cache; made once per recipe."""
    key = _digest(SUITE, VARIANT, ",".join(INCLUDE), RECIPE)
    tarball = os.path.join(CACHE_DIR, "%s-%s-%s.tar" % (SUITE, VARIANT, key))
    if os.path.exists(tarball):
        return tarball
    if os.geteuid() != 0:
        raise PeerError("debootstrap needs root (it creates device nodes and chroots)")
    mirror = debian_mirror()
    if not mirror_reachable(mirror):
        raise MirrorUnreachable("debootstrap cannot reach the Debian mirror %s" % mirror)
    say("debootstrap %s %s +%s from %s (several minutes, cached afterwards)" % (VARIANT, SUITE, ",".join(INCLUDE), mirror))
    stage = os.path.join(BUILD, "debootstrap")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(BUILD, exist_ok=True)
    t0 = time.monotonic()
    try:
        r = subprocess.run(["debootstrap", "--variant=" + VARIANT, "--include=" + ",".join(INCLUDE), SUITE, stage,
                            mirror], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=DEBOOTSTRAP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise PeerError("debootstrap did not finish in %d s" % DEBOOTSTRAP_TIMEOUT) from None
    if r.returncode != 0:
        if re.search(r"Failed getting release file|Couldn't download|Could not resolve", r.stdout):
            raise MirrorUnreachable("debootstrap cannot reach the Debian mirror %s:\n%s" % (mirror, r.stdout[-2000:]))
        raise PeerError("debootstrap failed (exit %d):\n%s" % (r.returncode, r.stdout[-3000:]))
    say("debootstrap took %.0f s; caching the tree" % (time.monotonic() - t0))
    os.makedirs(CACHE_DIR, exist_ok=True)
    _run(["tar", "--numeric-owner", "--xattrs", "--acls", "-C", stage, "-cf", tarball + ".part", "."])
    os.rename(tarball + ".part", tarball)
    shutil.rmtree(stage, ignore_errors=True)
    return tarball


def mirror_reachable(mirror=None, timeout=10):
    try:
        url = "%s/dists/%s/InRelease" % (mirror or debian_mirror(), SUITE)
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except Exception:
        return False


def have_cached_rootfs():
    key = _digest(SUITE, VARIANT, ",".join(INCLUDE), RECIPE)
    return os.path.exists(os.path.join(CACHE_DIR, "%s-%s-%s.tar" % (SUITE, VARIANT, key)))


def units():
    """{path in the guest: text} for the services, targets and the measuring service."""
    out = {}
    for i in range(MAX_SERVICES):
        dep = ""
        if i % 10 == 9:
            dep = "Requires=svc-%d.service\nAfter=svc-%d.service\n" % (i - 1, i - 1)
        # StartLimitIntervalSec=0: smbench stops, starts and kills the same service 20 times in
        # a few seconds, which systemd's default start rate limit (5 in 10 s) would refuse.
        out["etc/systemd/system/svc-%d.service" % i] = (
            "[Unit]\nDescription=trivial benchmark service %d\n%sStartLimitIntervalSec=0\n\n"
            "[Service]\nType=simple\nExecStart=/usr/local/bin/svc svc-%d\nRestart=always\nRestartSec=0\n" % (i, dep, i))
    for n in (10, 100):
        wants = " ".join("svc-%d.service" % i for i in range(n))
        out["etc/systemd/system/bench-%d.target" % n] = (
            "[Unit]\nDescription=benchmark: %d trivial services\nRequires=basic.target\nAfter=basic.target\n"
            "Wants=%s smbench@%d.service\nAllowIsolate=yes\n" % (n, wants, n))
    # DefaultDependencies=no: a target orders itself after the units it wants unless they opt
    # out, which with After=bench-N.target here would be a cycle.
    out["etc/systemd/system/smbench@.service"] = (
        "[Unit]\nDescription=service-manager benchmark, %i services\nDefaultDependencies=no\n"
        "After=bench-%i.target\n\n[Service]\nType=simple\nExecStart=/usr/local/bin/smbench %i\n")
    out["etc/fstab"] = "# The kernel mounts the root file system read-write (root=/dev/nvme0n1 rw).\n"
    out["etc/hostname"] = "systemd-peer\n"
    return out


def _compile(name):
    out = os.path.join(BUILD, "bin", name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    _run(["gcc", "-static", "-O2", "-Wall", "-Werror", "-o", out, os.path.join(SRC, name + ".c")])
    return out


def build_image():
    """build/peer/systemd/root.ext4, remade only when its inputs change."""
    tarball = rootfs_tarball()
    sources = {f: open(os.path.join(SRC, f), "rb").read() for f in sorted(os.listdir(SRC)) if f.endswith(".c")}
    unit_files = units()
    st = os.stat(tarball)
    key = _digest(IMAGE_RECIPE, os.path.basename(tarball), st.st_size, st.st_mtime_ns, json.dumps(unit_files, sort_keys=True), ",".join(MASKED), IMAGE_SIZE,
                  *[k.encode() + b"\0" + v for k, v in sources.items()])
    stamp = IMAGE + ".key"
    if os.path.exists(IMAGE) and os.path.exists(stamp) and open(stamp).read().strip() == key:
        return IMAGE
    if os.geteuid() != 0:
        raise PeerError("building the image needs root (the tree keeps its owners and device nodes)")
    say("building the ext4 image (%s)" % os.path.relpath(IMAGE, ROOT))
    t0 = time.monotonic()
    tree = os.path.join(BUILD, "rootfs")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    _run(["tar", "--numeric-owner", "--xattrs", "--acls", "-C", tree, "-xf", tarball])
    bindir = os.path.join(tree, "usr", "local", "bin")
    os.makedirs(bindir, exist_ok=True)
    # debootstrap leaves the downloaded packages in apt's cache; an installed system need not.
    archives = os.path.join(tree, "var", "cache", "apt", "archives")
    for deb in os.listdir(archives):
        if deb.endswith(".deb"):
            os.remove(os.path.join(archives, deb))
    for name in ("svc", "smbench"):
        shutil.copy(_compile(name), os.path.join(bindir, name))
    for path, text in unit_files.items():
        with open(os.path.join(tree, path), "w") as f:
            f.write(text)
    for unit in MASKED:
        link = os.path.join(tree, "etc", "systemd", "system", unit)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink("/dev/null", link)
        # Drop the enablement links too, so nothing pulls the masked unit in by name.
        for wants in os.listdir(os.path.join(tree, "etc", "systemd", "system")):
            w = os.path.join(tree, "etc", "systemd", "system", wants, unit)
            if wants.endswith(".wants") and os.path.lexists(w):
                os.remove(w)
    if os.path.exists(IMAGE):
        os.remove(IMAGE)
    _run(["mkfs.ext4", "-q", "-F", "-L", "peer-root", "-d", tree, IMAGE, IMAGE_SIZE])
    with open(stamp, "w") as f:
        f.write(key + "\n")
    say("image built in %.1f s" % (time.monotonic() - t0))
    return IMAGE


def qemu_args(n, accel, vmlinuz, measure=False, runs=20):
    append = "%s systemd.unit=bench-%d.target" % (APPEND, n)
    if measure:
        append += " smbench.measure=1 smbench.runs=%d" % runs
    return qemu.machine_args(accel, MEMORY, 1) + [
        "-kernel", vmlinuz, "-append", append,
        "-drive", "file=%s,if=none,id=root,format=raw" % IMAGE, "-device", "nvme,drive=root,serial=peer",
        "-snapshot", "-display", "none", "-serial", "stdio"]


def boot(n, accel, vmlinuz, measure=False, runs=20, timeout=600):
    """One boot of bench-N.target: (host ns from QEMU's launch to "SMBENCH ready N", console)."""
    args = qemu_args(n, accel, vmlinuz, measure, runs)
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, ready = b"", None
    try:
        while True:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                raise PeerError("bench-%d boot did not finish in %d s" % (n, timeout))
            if select.select([p.stdout], [], [], min(left, 1.0))[0]:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
                if ready is None and READY.search(out):
                    ready = int((time.monotonic() - t0) * 1e9)
                if FAILED.search(out):
                    time.sleep(0.5)
                    raise PeerError("the guest reported a failure")
            elif p.poll() is not None:
                break
        status = p.wait(timeout=10)
        if status != qemu.qemu_status(0) or ready is None or b"SMBENCH done" not in out:
            raise PeerError("bench-%d boot ended with QEMU status %d" % (n, status))
        return ready, out.decode("utf-8", "replace").replace("\r", "")
    except PeerError as e:
        text = out.decode("utf-8", "replace").replace("\r", "")
        raise PeerError("%s\ncommand: %s\nconsole tail:\n%s" % (e, " ".join(args), text[-4000:])) from None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.makedirs(os.path.join(BUILD, "logs"), exist_ok=True)
        with open(os.path.join(BUILD, "logs", "bench-%d%s.log" % (n, "-measure" if measure else "")), "wb") as f:
            f.write(out)


DESCRIPTIONS = {
    "sm_exec_cost": "systemctl --version (program start-up, no call to PID 1), guest CLOCK_MONOTONIC",
    "sm_status_cli": "systemctl is-active %s, guest CLOCK_MONOTONIC" % CLI_SERVICE,
    "sm_start_cli": "systemctl start %s of the stopped Type=simple service, guest CLOCK_MONOTONIC" % CLI_SERVICE,
    "sm_restart": "SIGKILL of %s's main PID to the new instance's own start stamp (Restart=always, "
                  "RestartSec=0), guest CLOCK_MONOTONIC" % CLI_SERVICE,
}


def _median_p99(values):
    v = sorted(values)
    return v[len(v) // 2], v[max(0, -(-len(v) * 99 // 100) - 1)]  # p99 by nearest rank


def run(accel="tcg", quick=False, ns=(10, 100)):
    """Boots bench-N.target for each N in NS, 3 times each (once when QUICK); every boot of the
    largest N also times the systemctl figures, 20 runs each (5 when QUICK), pooled over boots."""
    build_image()
    vmlinuz, kver = peer_debs.linux_kernel()
    boots = 1 if quick else 3
    runs = 5 if quick else 20
    measure_n = max(ns)
    ready, mem, cli = {n: [] for n in ns}, {n: [] for n in ns}, {}
    for b in range(boots):
        for n in ns:
            measure = n == measure_n
            say("booting bench-%d.target (%d of %d%s, %s, kernel %s)" % (n, b + 1, boots,
                ", with the systemctl figures" if measure else "", accel.upper(), kver))
            t, console = boot(n, accel, vmlinuz, measure=measure, runs=runs)
            ready[n].append(t)
            say("  ready after %.2f s" % (t / 1e9))
            for m in SAMPLES.finditer(console):
                name, values = m.group(1), [int(x) for x in m.group(2).split()]
                if name == "sm_mem_%d" % n:
                    mem[n] += values
                else:
                    cli.setdefault(name, []).extend(values)
    figures = []
    for n in ns:
        median, worst = _median_p99(ready[n])
        figures.append({"name": "sm_boot_ready_%d" % n, "median": median, "p99": worst, "runs": len(ready[n]),
                        "unit": "ns",
                        "description": "systemd 252: QEMU launch to bench-%d.target reached with all %d services "
                                       "running (host wall; p99 is the maximum)" % (n, n)})
    for n in ns:
        if not mem[n]:
            raise PeerError("smbench printed no sm_mem_%d figure" % n)
        figures.append({"name": "sm_mem_%d" % n, "median": _median_p99(mem[n])[0], "p99": None, "runs": len(mem[n]),
                        "unit": "bytes", "description": "systemd 252: PID 1 VmRSS with %d services loaded and "
                                                        "running (/proc/1/status)" % n})
    for name in ("sm_start_cli", "sm_status_cli", "sm_restart", "sm_exec_cost"):
        if name not in cli:
            raise PeerError("smbench printed no %s figure" % name)
        median, p99 = _median_p99(cli[name])
        figures.append({"name": name, "median": median, "p99": p99, "runs": len(cli[name]), "unit": "ns",
                        "description": "systemd 252, %d services, %d boot(s) of %d runs: %s"
                                       % (measure_n, boots, runs, DESCRIPTIONS[name])})
    return figures


def main(argv=None):
    ap = argparse.ArgumentParser(prog="systemdpeer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one boot per N, 5 runs per systemctl figure")
    ap.add_argument("--accel", default="tcg", help="tcg (default), kvm or auto")
    ap.add_argument("--ns", default="10,100", help="service counts (10 and/or 100)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    ns = tuple(int(x) for x in args.ns.split(","))
    if any(n not in (10, 100) for n in ns):
        sys.exit("systemdpeer: --ns takes 10 and/or 100 (the image has bench-10 and bench-100 targets)")
    t0 = time.monotonic()
    load = os.getloadavg()[0]
    try:
        figures = run(qemu.choose_accel(args.accel), quick=args.quick, ns=ns)
    except PeerError as e:
        sys.exit("systemdpeer: %s" % e)
    # Other work on the host slows TCG and the guest's clock with it: say how busy it was.
    load = (load, os.getloadavg()[0])
    say("done in %.0f s (host load average %.2f before, %.2f after, %d CPUs)" % (time.monotonic() - t0, load[0],
                                                                                 load[1], os.cpu_count()))
    for f in figures:
        value = "%.2f ms" % (f["median"] / 1e6) if f["unit"] == "ns" else "%.2f MB" % (f["median"] / 1e6)
        p99 = "" if f["p99"] is None else " (p99 %.2f ms)" % (f["p99"] / 1e6)
        print("%-18s %14s%s  runs %d  %s" % (f["name"], value, p99, f["runs"], f["description"]))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump({"accelerator": args.accel, "quick": args.quick, "host_load": load, "figures": figures}, fh, indent=2)
            fh.write("\n")


if __name__ == "__main__":
    main()
