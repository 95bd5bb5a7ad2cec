"""MicroPython's own test suite, run in the booted guest through COM2.

The tests are those of the fetched MicroPython source (build/deps/.../tests: basics, float,
micropython, misc, unicode, extmod), run by its own run-tests.py against the raw REPL that
/bin/python --com2 serves on COM2 (tests/conformance/guest.py boots QEMU with COM2 on a
pty and hands the pty to pyboard.py as an `execpty:` device). The list is split across
SHARDS guests running side by side. Every test passes, or is listed in skips.txt with the
reason we leave it out; a test that run-tests.py skips without being listed there fails
this test, so no module goes missing unnoticed.

Results: build/conformance/summary.json (counts per directory, wall time) and each shard's
run-tests.py output and failure diffs under build/conformance/shardN/.
"""
import fnmatch
import json
import os
import re
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(ROOT, "build", "deps", "micropython-1.25.0", "tests")
OUT = os.path.join(ROOT, "build", "conformance")
SKIPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "skips.txt")
DIRS = ("basics", "float", "micropython", "misc", "unicode", "extmod")
SHARDS = int(os.environ.get("MULTIOS_CONFORMANCE_SHARDS", "2"))
TIMEOUT = 1500


def read_skips():
    """skips.txt: one `PATTERN  reason` per line (fnmatch patterns on paths like
    basics/foo.py); # starts a comment line."""
    skips = []
    for n, line in enumerate(open(SKIPS), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            raise ValueError("skips.txt:%d: a pattern needs a reason" % n)
        skips.append((parts[0], parts[1]))
    return skips


def skip_reason(test, skips):
    for pattern, reason in skips:
        if fnmatch.fnmatchcase(test, pattern):
            return reason
    return None


def all_tests():
    tests = []
    for d in DIRS:
        tests += sorted("%s/%s" % (d, f) for f in os.listdir(os.path.join(TESTS, d)) if f.endswith(".py"))
    return tests


def run_shards(tests):
    os.makedirs(OUT, exist_ok=True)
    guest = "execpty:%s %s" % (sys.executable, os.path.join(ROOT, "tests", "conformance", "guest.py"))
    procs = []
    for i in range(SHARDS):
        shard = tests[i::SHARDS]
        rdir = os.path.join(OUT, "shard%d" % i)
        os.makedirs(rdir, exist_ok=True)
        for f in os.listdir(rdir):
            os.unlink(os.path.join(rdir, f))
        log = open(os.path.join(rdir, "run-tests.log"), "wb")
        env = dict(os.environ, MICROPY_CPYTHON3=os.environ.get("MICROPY_CPYTHON3", "python3"))
        p = subprocess.Popen([sys.executable, "run-tests.py", "-t", guest, "-r", rdir] + shard,
                             cwd=TESTS, stdout=log, stderr=subprocess.STDOUT, env=env)
        procs.append((p, log, rdir))
    deadline = time.monotonic() + TIMEOUT
    outputs = []
    for p, log, rdir in procs:
        try:
            p.wait(max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
        outputs.append(open(os.path.join(rdir, "run-tests.log"), errors="replace").read())
    return outputs


@pytest.mark.timeout(TIMEOUT + 120)
def test_micropython_suite():
    if not os.path.isdir(TESTS):
        pytest.fail("MicroPython's tests are missing at %s: run ./multios setup" % TESTS)
    skips = read_skips()
    tests = all_tests()
    listed = {t for t in tests if skip_reason(t, skips)}
    unused = [p for p, _ in skips if not any(fnmatch.fnmatchcase(t, p) for t in tests)]
    run = [t for t in tests if t not in listed]

    t0 = time.monotonic()
    outputs = run_shards(run)
    wall = time.monotonic() - t0

    result = {}
    for out in outputs:
        for m in re.finditer(r"^(pass|skip|FAIL) +(\S+)", out, re.M):
            result[m.group(2)] = m.group(1)
    counts = {d: {"pass": 0, "skip": 0, "fail": 0} for d in DIRS}
    for t in tests:
        d = t.split("/")[0]
        if t in listed:
            counts[d]["skip"] += 1
        elif result.get(t) == "pass":
            counts[d]["pass"] += 1
        else:
            counts[d]["fail"] += 1
    summary = {"wall_s": round(wall, 1), "shards": SHARDS, "counts": counts}
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    table = "\n".join("  %-12s %4d pass %4d skip %4d fail" % (d, c["pass"], c["skip"], c["fail"])
                      for d, c in counts.items())
    print("\nMicroPython conformance in the guest (%d shards, %.0f s):\n%s" % (SHARDS, wall, table))

    problems = []
    missing = [t for t in run if t not in result]
    if missing:
        problems.append("%d tests have no result (a guest died, or run-tests.py stopped): %s\n%s"
                        % (len(missing), " ".join(missing[:20]), "\n".join(o[-1500:] for o in outputs)))
    failed = [t for t in run if result.get(t) == "FAIL"]
    if failed:
        problems.append("failed: %s (diffs: ./multios test reads %s/shard*/*.out and .exp)"
                        % (" ".join(failed), OUT))
    unlisted = [t for t in run if result.get(t) == "skip"]
    if unlisted:
        problems.append("skipped but not in tests/conformance/skips.txt: %s" % " ".join(unlisted))
    if unused:
        problems.append("skips.txt patterns matching no test: %s" % " ".join(unused))
    assert not problems, "\n".join(problems) + "\n" + table
