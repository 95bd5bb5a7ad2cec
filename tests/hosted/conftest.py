"""Hosted tests run with the ASan runtime loaded first (see hostlib.py's docstring).

Without it in this process, each test module under tests/hosted runs in a child pytest with
LD_PRELOAD and sanitizer options set, and its per-test reports are replayed here. In the child
(or whenever libasan is already loaded) tests run in-process as usual.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from _pytest.reports import TestReport

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import hostlib  # noqa: E402

REPORT_ENV = "MULTIOS_HOSTED_REPORT"
CHILD_TIMEOUT = 600


def _asan_loaded():
    try:
        with open("/proc/self/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


# LD_PRELOAD stays set in the child: test modules may look at it to choose their build.
IN_PROCESS = _asan_loaded()

_results = {}  # module path -> {(nodeid, when): report dict}, or an error text


def _is_hosted(item):
    return os.path.dirname(str(item.path)) == HERE


def _run_child_once(rootpath, nodeids):
    """Run NODEIDS in one child pytest: ({(nodeid, when): report}, status, output)."""
    logs = tempfile.mkdtemp(prefix="multios-hosted-")
    report = os.path.join(logs, "report.jsonl")
    # pytest captures fd 2 while a test runs: sanitizer reports and panics go to files instead.
    env = dict(os.environ)
    env.update({
        "LD_PRELOAD": hostlib.asan_runtime(),
        "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:log_path=" + os.path.join(logs, "asan"),
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:log_path=" + os.path.join(logs, "ubsan"),
        "MULTIOS_HOSTED_CRASHLOG": os.path.join(logs, "panic"),
        REPORT_ENV: report,
    })
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", "-rN"] + nodeids
    try:
        r = subprocess.run(cmd, cwd=rootpath, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
        status, output = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        status = "timeout after %d s" % CHILD_TIMEOUT
        output = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace")
    results = {}
    if os.path.exists(report):
        with open(report) as f:
            for line in f:
                if line.strip():
                    rep = json.loads(line)
                    results[(rep["nodeid"], rep["when"])] = rep
    for name in sorted(os.listdir(logs)):
        if name != "report.jsonl":
            with open(os.path.join(logs, name), errors="replace") as f:
                output += "\n--- %s ---\n%s" % (name, f.read())
    shutil.rmtree(logs, ignore_errors=True)
    return results, status, output


def _run_child(session, path):
    """Every selected test of the module at PATH, in child processes: after a crash, the test
    that was running gets the crash report and the rest run in a fresh child."""
    pending = [i.nodeid for i in session.items if str(i.path) == path]
    results = {}
    while pending:
        res, status, output = _run_child_once(str(session.config.rootpath), pending)
        results.update(res)
        unfinished = [n for n in pending if (n, "teardown") not in res]
        if not unfinished:
            break
        text = "the hosted child pytest ended with status %s while running this test:\n%s" % (status, output[-12000:])
        if not res:  # nothing ran (collection failed): no point in retrying
            for n in unfinished:
                results[("__crash__", n)] = text
            break
        results[("__crash__", unfinished[0])] = text
        pending = unfinished[1:]
    return results


if not IN_PROCESS:

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(item, nextitem):
        if not _is_hosted(item):
            return None
        path = str(item.path)
        if path not in _results:
            _results[path] = _run_child(item.session, path)
        results = _results[path]
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        keywords = {k: 1 for k in item.keywords}
        for when in ("setup", "call", "teardown"):
            rep = results.get((item.nodeid, when))
            if rep is None:
                crash = results.get(("__crash__", item.nodeid), "the hosted child pytest did not run this test")
                report = TestReport(item.nodeid, item.location, keywords, "failed", crash, when, [], 0)
                ihook.pytest_runtest_logreport(report=report)
                break
            longrepr = rep["longrepr"]
            if rep["outcome"] == "skipped" and isinstance(longrepr, list):
                longrepr = tuple(longrepr)
            report = TestReport(item.nodeid, item.location, keywords, rep["outcome"], longrepr, when,
                                [tuple(s) for s in rep["sections"]], rep["duration"])
            ihook.pytest_runtest_logreport(report=report)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

elif os.environ.get(REPORT_ENV):

    def pytest_runtest_logreport(report):
        if report.outcome == "skipped" and isinstance(report.longrepr, tuple):
            longrepr = list(report.longrepr)
        else:
            longrepr = str(report.longrepr) if report.longrepr else None
        line = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome, "longrepr": longrepr,
                "sections": [list(s) for s in report.sections], "duration": report.duration}
        with open(os.environ[REPORT_ENV], "a") as f:
            f.write(json.dumps(line) + "\n")
