# A smoke run of the service manager that works under MicroPython as under CPython:
#   micropython tests/unit/svcmgr_smoke.py REPO [N]
# It boots the default demo system on the fake kernel, stops, starts and crashes
# database, checks definition errors, discovery and the CLI, then loads, starts and
# discovers N (default 1000) generated services with random dependencies, and prints one
# JSON line of timings followed by "SMOKE OK".

import sys

REPO = sys.argv[1] if len(sys.argv) > 1 else "."
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
for sub in ("/services/svcmgr", "/build/gen", "/tests/unit"):
    sys.path.append(REPO + sub)

import json
import time

from benchscale import Lcg  # the same pseudo-random numbers under both interpreters
import cli
import definition
import states
from errors import DefinitionError, ServiceError
from svcmgr_fake import make, pump, Program
import seed_example

try:
    _ticks = time.ticks_ms

    def now():
        return _ticks()

    def since(t0):
        return time.ticks_diff(time.ticks_ms(), t0)
except AttributeError:
    def now():
        return time.perf_counter()

    def since(t0):
        return int((time.perf_counter() - t0) * 1000)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def st(m, name):
    return states.name(m.get(name).state)


WEB = seed_example.WEB_SERVER_VERSIONED

FILES = {
    "/etc/services/logging.toml": '[service]\nname = "logging"\ntype = "SystemService"\nexec = "/bin/logging"\n',
    "/etc/services/database.toml": '[service]\nname = "database"\nexec = "/bin/database"\nversion = "2.1"\n'
                                   'auto_restart = true\n[service.dependencies]\noptional = ["logging"]\n',
    "/etc/services/cache.toml": '[service]\nname = "cache"\nexec = "/bin/cache.py"\n'
                                '[service.dependencies]\noptional = ["logging"]\n',
    "/etc/services/web-server.toml": WEB,
    "/etc/services/a.toml": '[service]\nname = "a"\nexec = "/bin/a"\n[service.dependencies]\nrequired = ["b"]\n',
    "/etc/services/b.toml": '[service]\nname = "b"\nexec = "/bin/b"\n[service.dependencies]\nrequired = ["a"]\n',
    "/etc/services/bad.toml": '[service]\nname = "bad"\nexec = "/bin/bad"\nbind_port = 1\n',
}


def default_system():
    k, m = make(dict(FILES), {"/bin/logging": Program(output="log up\n")})
    rep = m.load_directory("/etc/services")
    check(rep["cycles"] == ["a -> b -> a"], "cycle %r" % rep["cycles"])
    check(len(rep["errors"]) == 1 and rep["errors"][0]["line"] == 4, "errors %r" % rep["errors"])
    lines = []
    m.boot(lines.append)
    k.settle()
    check(lines == ["svcmgr: ready: 4 services running in 15 ms"], "boot %r" % lines)
    check(k.spawned() == ["logging", "cache", "database", "web-server"], "order %r" % k.spawned())
    box = []
    m.stop("database", box.append)
    k.run_until(lambda: box)
    check(st(m, "web-server") == "stopped", "web-server stops with database")
    box = []
    m.start("database", box.append)
    k.run_until(lambda: box)
    k.settle()
    check(st(m, "web-server") == "running", "web-server comes back")
    k.crash("database")
    k.settle()
    check(m.get("database").restarts == 1 and st(m, "web-server") == "running", "crash restart")
    c = cli.LocalClient(m, pump(k))
    code, text = cli.run(["list"], c)
    check(code == 0 and text.splitlines()[-1] == "6 services: 4 running, 2 stopped", text)
    code, text = cli.run(["deps", "web-server"], c)
    check(text.splitlines()[1] == "|-- database>=2.0,<3 (running)", text)
    code, text = cli.run(["status", "web-server", "--json"], c)
    check(json.loads(text)["state_name"] == "running", text)
    code, text = cli.run(["start", "nope"], c)
    check((code, text) == (1, "ServiceNotFound: no service 'nope'"), text)
    code, text = cli.run(["logs", "logging", "-n", "50"], c)
    check("stdout: log up" in text, text)
    check(m.discover("re:^(web|data)") == [m.lookup("database"), m.lookup("web-server")], "regex")
    check(m.discover("c*") == [m.lookup("cache")], "glob")


def definitions():
    try:
        definition.load('[service]\nname = "x"\nexec = "/bin/x"\nauto_restrat = true\n', "x.toml")
        check(False, "unknown key accepted")
    except DefinitionError as e:
        check(e.line == 4 and "did you mean 'auto_restart'?" in e.reason, str(e))
    try:
        definition.load('{"service": {\n"name": "x",\n"exec": "/bin/x",\n"max_restarts": -1}}', "x.json")
        check(False, "bad JSON field accepted")
    except DefinitionError as e:
        check(e.line == 4 and "max_restarts" in e.reason, str(e))
    d = definition.load(WEB, "web-server.toml")
    check(d.resources["memory_limit"] == 512 << 20 and d.requires[0][1].matches("2.5"), "seed example")


def thousand(n):
    rnd = Lcg(1000)
    items = []
    for i in range(n):
        req = []
        for _ in range(rnd.below(4)):
            if i:
                name = "s%05d" % rnd.below(i)
                if name not in req:
                    req.append(name)
        items.append(("/etc/services/s%05d.toml" % i,
                      '[service]\nname = "s%05d"\nexec = "/bin/demo"\ntags = ["t%d"]\n'
                      '[service.dependencies]\nrequired = %s\n' % (i, rnd.below(10), json.dumps(req))))
    k, m = make(None, {"/bin/demo": Program(ready_ms=3)})
    t0 = now()
    rep = m.load_definitions(items)
    t_load = since(t0)
    check(len(rep["loaded"]) == n and not rep["errors"], "load")
    t1 = now()
    out = []
    m.boot(out.append)
    k.settle()
    t_boot = since(t1)
    check(out and out[0].startswith("svcmgr: ready: %d services running" % n), "boot %r" % out)
    ready = {}
    for t, what, name, pid in k.history:
        if what == "ready" and name not in ready:
            ready[name] = t
    for t, what, name, pid in k.history:
        if what == "spawn":
            for dep in m.get(name).d.requires:
                check(ready[dep[0]] <= t, "order %s after %s" % (name, dep[0]))
    t2 = now()
    hits = 0
    for i in range(100):
        hits += len(m.discover("s%04d*" % i))
        hits += len(m.discover("tag:t%d" % (i % 10)))
    t_disc = since(t2)
    check(hits >= n // 10, "discovered %d" % hits)
    check(len(m.discover("s0000*")) == min(n, 10), "prefix")
    return {"services": n, "load_ms": t_load, "boot_ms": t_boot, "discover_200_ms": t_disc}


default_system()
definitions()
report = thousand(N)
report["python"] = sys.implementation.name
print(json.dumps(report))
print("SMOKE OK")
