"""The service-manager peer (tools/systemdpeer.py) still builds and runs: a quick pass (one boot
per service count, 5 runs per systemctl figure) gives every figure, each positive. Figures are
not judged here: benchmarks are not tests.

The first run debootstraps a Debian root file system (about 2 minutes here, cached in
~/.cache/multios/peer-systemd/ afterwards); without root, or when the Debian mirror cannot be
reached and nothing is cached, the test is skipped with the reason."""
import json
import os
import subprocess
import sys

import pytest

import qemu_cmd
import systemdpeer

FIGURES = {"sm_boot_ready_10", "sm_boot_ready_100", "sm_mem_10", "sm_mem_100", "sm_start_cli", "sm_status_cli",
           "sm_restart", "sm_exec_cost"}


def test_systemd_peer_quick(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the systemd peer's root file system needs root (debootstrap)")
    if not systemdpeer.have_cached_rootfs() and not systemdpeer.mirror_reachable():
        pytest.skip("debootstrap cannot reach the Debian mirror (%s) and no root file system is cached"
                    % systemdpeer.debian_mirror())
    out = tmp_path / "peer.json"
    try:
        r = subprocess.run([sys.executable, "tools/systemdpeer.py", "--quick", "--json", str(out)],
                           cwd=qemu_cmd.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1200)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("systemdpeer.py --quick did not finish in 1200 s:\n%s"
                             % (e.stdout or b"").decode("utf-8", "replace")[-4000:])
    text = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0 and "cannot reach the Debian mirror" in text:
        pytest.skip("debootstrap cannot reach the Debian mirror:\n" + text[-1000:])
    assert r.returncode == 0, text[-4000:]
    figures = {f["name"]: f for f in json.loads(out.read_text())["figures"]}
    assert set(figures) == FIGURES, text[-4000:]
    for f in figures.values():
        assert f["median"] > 0 and f["runs"] >= 1 and f["unit"] in ("ns", "bytes"), f
        assert f["p99"] is None or f["p99"] >= f["median"], f
