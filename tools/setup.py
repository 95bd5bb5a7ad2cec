"""./multios setup: everything the build and tests need, installed or fetched once.

Idempotent and quiet when there is nothing to do. Standard library only: it runs before the
virtual environment exists. Each step says what it does while it does it, and a failure ends
with one sentence naming what is missing.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
DEPS = os.path.join(ROOT, "build", "deps")
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "multios")

APT_PACKAGES = [
    "gcc", "binutils", "qemu-system-x86", "qemu-utils", "grub-pc-bin", "grub-efi-amd64-bin", "grub-common",
    "xorriso", "mtools", "ovmf", "gdb", "patch", "xz-utils",
    # The benchmark peers: kbench and MicroPython's unix port static against glibc for the
    # Linux guest; the systemd guest's root file system (debootstrap, mkfs.ext4 -d).
    "libc6-dev", "debootstrap", "e2fsprogs",
]
# Binaries that tell us the packages are there without asking dpkg every time.
APT_PROBES = ["gcc", "qemu-system-x86_64", "grub-mkrescue", "xorriso", "mformat", "gdb", "patch", "xz",
              "/usr/lib/grub/i386-pc/multiboot2.mod", "/usr/lib/grub/x86_64-efi/multiboot2.mod",
              "/usr/share/ovmf/OVMF.fd", "/usr/lib/x86_64-linux-gnu/libc.a", "debootstrap", "mkfs.ext4"]

MICROPYTHON = {
    "package": "micropython",
    "version": "1.25.0+ds-1",
    "suite": "trixie",
    "file": "micropython_1.25.0+ds.orig.tar.xz",
    "sha256": "7b25be99a502f070b2de81dafc08da7051d992325d6e67daa9045a918fffdbea",
    "dir": "micropython-1.25.0",
}
FONT_PACKAGE = "console-setup-linux"
FONT_FILE = "usr/share/consolefonts/Lat15-Terminus16.psf.gz"


class SetupError(Exception):
    pass


def say(msg):
    print("setup: " + msg, flush=True)


def run(cmd, quiet=False, **kw):
    out = subprocess.PIPE if quiet else None
    r = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT if quiet else None, text=True, **kw)
    if r.returncode != 0:
        if quiet and r.stdout:
            sys.stdout.write(r.stdout[-4000:])
        raise SetupError("command failed (exit %d): %s" % (r.returncode, " ".join(cmd)))
    return r


def sudo():
    return [] if os.geteuid() == 0 else ["sudo"]


def have(probe):
    return os.path.exists(probe) if probe.startswith("/") else shutil.which(probe) is not None


def apt_missing():
    missing = []
    for pkg in APT_PACKAGES:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(pkg)
    return missing


def ensure_apt():
    if all(have(p) for p in APT_PROBES) and not apt_missing():
        return
    missing = apt_missing()
    if not missing:
        return
    say("installing Debian packages: " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = sudo() + ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing
    # A fresh machine's package lists are empty until apt-get update has run once.
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        say("updating the package lists (apt-get update)")
        run(sudo() + ["apt-get", "update", "-q"], quiet=True, env=env)
        run(install, quiet=True, env=env)
    still = apt_missing()
    if still:
        raise SetupError("Debian packages still missing after apt-get install: " + " ".join(still))


def ensure_venv():
    req = os.path.join(ROOT, "requirements.txt")
    digest = hashlib.sha256(open(req, "rb").read()).hexdigest()
    stamp = os.path.join(VENV, ".requirements.sha256")
    if os.path.exists(stamp) and open(stamp).read().strip() == digest and os.path.exists(os.path.join(VENV, "bin", "python")):
        return
    if not os.path.exists(os.path.join(VENV, "bin", "python")):
        say("creating the Python virtual environment in .venv/")
        run([sys.executable, "-m", "venv", VENV], quiet=True)
    say("installing the pinned Python packages (requirements.txt)")
    pip = [os.path.join(VENV, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(pip + ["-r", req])
    with open(stamp, "w") as f:
        f.write(digest + "\n")


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def debian_mirror():
    """The Debian mirror the host's apt already uses, so we fetch from where apt may fetch."""
    candidates = []
    for path in ["/etc/apt/sources.list"] + sorted(
            os.path.join("/etc/apt/sources.list.d", f) for f in os.listdir("/etc/apt/sources.list.d")
            if f.endswith((".list", ".sources"))) if os.path.isdir("/etc/apt/sources.list.d") else []:
        if not os.path.exists(path):
            continue
        for line in open(path):
            line = line.strip()
            if line.startswith("URIs:"):
                candidates += line.split()[1:]
            elif line.startswith("deb ") or line.startswith("deb-src "):
                candidates += [w for w in line.split() if "://" in w][:1]
    for uri in candidates:
        if uri.rstrip("/").endswith("/debian"):
            return uri.rstrip("/")
    raise SetupError("no Debian mirror found in the host's apt sources (/etc/apt/sources.list*)")


def private_apt(workdir, suite):
    """apt-get options for a private configuration: our own sources list, lists and cache, so
    the host's apt setup stays exactly as it is."""
    for d in ("lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(workdir, d), exist_ok=True)
    sources = os.path.join(workdir, "sources.list")
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    signed = "[signed-by=%s] " % keyring if os.path.exists(keyring) else ""
    with open(sources, "w") as f:
        f.write("deb-src %s%s %s main\n" % (signed, debian_mirror(), suite))
    opts = ["-o", "Dir::Etc::SourceList=" + sources, "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", "Dir::State::Lists=" + os.path.join(workdir, "lists"),
            "-o", "Dir::Cache=" + os.path.join(workdir, "cache"), "-o", "Dir::State::status=/dev/null"]
    if os.geteuid() == 0:
        opts += ["-o", "APT::Sandbox::User=root"]
    return opts


def ensure_micropython():
    mp = MICROPYTHON
    target = os.path.join(DEPS, mp["dir"])
    stamp = os.path.join(target, ".multios-sha256")
    if os.path.exists(stamp) and open(stamp).read().strip() == mp["sha256"]:
        return
    os.makedirs(CACHE, exist_ok=True)
    tarball = os.path.join(CACHE, mp["file"])
    if not (os.path.exists(tarball) and sha256_of(tarball) == mp["sha256"]):
        say("fetching MicroPython %s source from Debian's %s source archive (about 6 MB)" % (mp["version"], mp["suite"]))
        work = os.path.join(CACHE, "apt-" + mp["suite"])
        opts = private_apt(work, mp["suite"])
        run(["apt-get"] + opts + ["-q", "update"], quiet=True)
        dl = os.path.join(work, "download")
        shutil.rmtree(dl, ignore_errors=True)
        os.makedirs(dl)
        run(["apt-get"] + opts + ["source", "--download-only", "%s=%s" % (mp["package"], mp["version"])], cwd=dl)
        got = os.path.join(dl, mp["file"])
        if not os.path.exists(got):
            raise SetupError("apt-get source did not produce " + mp["file"])
        digest = sha256_of(got)
        if digest != mp["sha256"]:
            raise SetupError("%s has sha256 %s, expected %s" % (mp["file"], digest, mp["sha256"]))
        shutil.move(got, tarball)
    say("unpacking %s into build/deps/" % mp["file"])
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(DEPS, exist_ok=True)
    with tarfile.open(tarball) as tf:
        tf.extractall(DEPS)
    with open(stamp, "w") as f:
        f.write(mp["sha256"] + "\n")


def ensure_font():
    target = os.path.join(DEPS, "console-setup")
    if os.path.exists(os.path.join(target, FONT_FILE)):
        return
    os.makedirs(CACHE, exist_ok=True)
    debs = [f for f in os.listdir(CACHE) if f.startswith(FONT_PACKAGE + "_") and f.endswith(".deb")]
    if not debs:
        say("downloading the console font package (%s)" % FONT_PACKAGE)
        r = subprocess.run(["apt-get", "download", FONT_PACKAGE], cwd=CACHE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            run(sudo() + ["apt-get", "update", "-q"], quiet=True)
            run(["apt-get", "download", FONT_PACKAGE], cwd=CACHE, quiet=True)
        debs = [f for f in os.listdir(CACHE) if f.startswith(FONT_PACKAGE + "_") and f.endswith(".deb")]
    os.makedirs(target, exist_ok=True)
    run(["dpkg-deb", "-x", os.path.join(CACHE, sorted(debs)[-1]), target], quiet=True)
    if not os.path.exists(os.path.join(target, FONT_FILE)):
        raise SetupError("the font %s is not in %s" % (FONT_FILE, debs[-1]))


STEPS = [ensure_apt, ensure_venv, ensure_micropython, ensure_font]


def main():
    try:
        for step in STEPS:
            step()
    except SetupError as e:
        sys.exit("setup failed: %s" % e)


if __name__ == "__main__":
    main()
