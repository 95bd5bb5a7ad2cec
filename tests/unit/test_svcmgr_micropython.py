"""The service manager's modules under MicroPython: the smoke run (tests/unit/svcmgr_smoke.py)
in the host build of this repo's port, and the same under CPython."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "tests" / "unit" / "svcmgr_smoke.py"


def smoke(interpreter):
    r = subprocess.run([str(interpreter), str(SMOKE), str(REPO), "1000"], capture_output=True, text=True,
                       timeout=300, cwd=str(SMOKE.parent))
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "SMOKE OK", r.stdout + r.stderr
    return json.loads(r.stdout.splitlines()[-2])


def test_smoke_under_cpython():
    report = smoke(sys.executable)
    assert report["python"] == "cpython" and report["services"] == 1000


def test_smoke_under_micropython(host_micropython):
    report = smoke(host_micropython)
    assert report["python"] == "micropython" and report["services"] == 1000
    # Generous: on par with CPython for plain loops, 10x slower under TCG in the guest.
    assert report["load_ms"] + report["boot_ms"] < 20000, report
