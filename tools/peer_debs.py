"""The benchmark peers' Debian binaries: downloaded with `apt-get download` into the cache
(~/.cache/multios/debs/), unpacked with `dpkg-deb -x`, never installed on the host.

    linux_kernel()   -> (path of vmlinuz, kernel version)  Debian's linux-image-cloud-amd64
    busybox_static() -> path of the busybox binary         Debian's busybox-static
"""
import glob
import os
import shutil
import subprocess

from setup import CACHE

DEBS = os.path.join(CACHE, "debs")
UNPACKED = os.path.join(CACHE, "unpacked")


class PeerError(Exception):
    """A benchmark peer could not be fetched, built or run (every peer module raises it)."""


def run(cmd, **kw):
    """Runs CMD with its output captured; PeerError with the output's tail if it fails."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        raise PeerError("%s failed (exit %d):\n%s" % (" ".join(cmd), r.returncode, r.stdout[-3000:]))
    return r.stdout


def depends(package):
    """The packages PACKAGE depends on (for a metapackage: the real one)."""
    out = run(["apt-cache", "depends", "--no-recommends", "--no-suggests", package])
    return [line.split(":", 1)[1].strip() for line in out.splitlines() if line.strip().startswith("Depends:")]


def fetch(package):
    """The cached .deb of PACKAGE's candidate version, downloaded when missing."""
    os.makedirs(DEBS, exist_ok=True)
    version = run(["apt-cache", "policy", package])
    cand = [line.split(":", 1)[1].strip() for line in version.splitlines() if line.strip().startswith("Candidate:")]
    if not cand or cand[0] == "(none)":
        raise PeerError("apt knows no candidate version of %s (apt-get update?)" % package)
    ver = cand[0].replace(":", "%3a")  # apt-get download names the file with the epoch quoted
    found = glob.glob(os.path.join(DEBS, glob.escape("%s_%s_" % (package, ver)) + "*.deb"))
    if found:
        return found[0]
    print("peer: downloading %s %s" % (package, cand[0]), flush=True)
    try:
        run(["apt-get", "download", package], cwd=DEBS)
    except PeerError:
        run(["apt-get", "-q", "update"])
        run(["apt-get", "download", package], cwd=DEBS)
    found = glob.glob(os.path.join(DEBS, glob.escape("%s_%s_" % (package, ver)) + "*.deb"))
    if not found:
        raise PeerError("apt-get download %s produced no .deb in %s" % (package, DEBS))
    return found[0]


def unpack(deb):
    """DEB unpacked once into the cache; returns the directory."""
    dest = os.path.join(UNPACKED, os.path.basename(deb)[:-4])
    if not os.path.exists(os.path.join(dest, ".complete")):
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        run(["dpkg-deb", "-x", deb, dest])
        open(os.path.join(dest, ".complete"), "w").close()
    return dest


def linux_kernel():
    real = [p for p in depends("linux-image-cloud-amd64") if p.startswith("linux-image-")]
    if not real:
        raise PeerError("linux-image-cloud-amd64 depends on no linux-image-* package")
    root = unpack(fetch(real[0]))
    images = glob.glob(os.path.join(root, "boot", "vmlinuz-*"))
    if not images:
        raise PeerError("%s has no boot/vmlinuz-*" % real[0])
    return images[0], os.path.basename(images[0])[len("vmlinuz-"):]


def busybox_static():
    path = os.path.join(unpack(fetch("busybox-static")), "bin", "busybox")
    if not os.path.exists(path):
        raise PeerError("busybox-static has no bin/busybox")
    return path


if __name__ == "__main__":
    print(linux_kernel())
    print(busybox_static())
