"""The service API for Python guest programs (issue 5), booted: the `service` module
(services/python/lib/service.py) exercises every service call and its error paths, the demo
system (logging, database, cache, web-server) talks over IPC end to end, and a killed
service manager comes back, re-adopts the running services without restarting them and
serves again. The guest side is services/tests-guest/pyservice_test.py (at
/usr/share/tests), run over the COM2 raw REPL; figures go to build/test-logs/python-figures.json."""
import re

import pytest

from machine import Machine, record_figures
from test_python import RawRepl

DEMO = ("logging", "database", "cache", "web-server")


@pytest.fixture(scope="module")
def booted():
    with Machine("services-py") as m:
        m.wait_for(rb"svcmgr: ready: 6 services running in \d+ ms", timeout=90)
        repl = RawRepl(m)
        repl.check("import sys\nsys.path.append('/usr/share/tests')\nimport pyservice_test as t")
        yield m, repl


def run(repl, fn, timeout=60):
    out = repl.check("t.%s()" % fn, timeout=timeout)
    assert out.startswith(fn + " ok"), out
    return out


def test_lookup_discover_status_and_not_found(booted):
    run(booted[1], "lookups")


def test_create_and_its_errors(booted):
    run(booted[1], "create_errors")


def test_lifecycle_calls_and_their_errors(booted):
    run(booted[1], "lifecycle")


def test_subscriptions_and_the_lookup_cache(booted):
    run(booted[1], "subscriptions")


def test_demo_system_over_ipc(booted):
    run(booted[1], "demo")


def test_service_manager_restart_re_adopts_running_services(booted):
    m, repl = booted
    boot_text = m.console()
    ready_lines = {n: len(re.findall(rb"(?:^|[\s>])%s: ready \(pid \d+\)" % n.encode(), boot_text)) for n in DEMO}
    assert ready_lines == dict.fromkeys(DEMO, 1), ready_lines
    out = run(repl, "recovery", timeout=90)
    got = re.search(r"serving_ms=(\d+) published_ms=(\d+) svcmgr=(\d+)->(\d+)", out)
    old, new = got.group(3), got.group(4)
    m.wait_for(rb"kernel: /sbin/svcmgr \(pid %s\) ended with status 0x100; restarting it" % old.encode())
    m.wait_for(rb"kernel: started /sbin/svcmgr as pid %s" % new.encode())
    m.wait_for(rb"svcmgr: recovered: re-adopted 6 running services")
    m.wait_for(rb"svcmgr: ready: 6 services running in \d+ ms")
    text = m.console()
    after = text[text.index(b"kernel: /sbin/svcmgr (pid %s)" % old.encode()):]
    for n in DEMO:  # re-adopted, not restarted: no second start
        assert not re.search(rb"(?:^|[\s>])%s: ready" % n.encode(), after), n
    assert b"endpoints published again" in after
    record_figures("python", svcmgr_restart_to_serving_ms=int(got.group(1)),
                   svcmgr_restart_to_republished_ms=int(got.group(2)))
