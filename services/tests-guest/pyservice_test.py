"""The Python service API in the guest (tests/qemu/test_services_py.py runs these over the
COM2 raw REPL): every service call through the `service` module, with every error path;
the demo system's IPC end to end; and what a restart of the service manager leaves
working. Each function prints a line "<name> ok ..." when all its checks held."""
import json

import mos
import mos_consts as C
import mosutil
import service
from service import ServiceError

SLEEPER = '''[service]
name = "%s"
exec = "/usr/share/tests/pysleeper.py"
version = "1.4.0"
tags = ["pytest"]
endpoints = ["%s"]
ready = "endpoint"
'''


def expect(name, fn, *args):
    """fn(*args) must raise ServiceError name (code and name both checked)."""
    try:
        fn(*args)
    except ServiceError as e:
        assert (e.name, e.code) == (name, getattr(C, name)), "%r: wanted %s, got %s" % (args, name, e)
        return e
    raise AssertionError("%r: no %s" % (args, name))


def state(ref):
    return service.status(ref)["state_name"]


def wait_until(pred, ms=10000, what="condition"):
    t = mos.clock_ns()
    while not pred():
        assert mos.clock_ns() - t < ms * 1000000, "timed out waiting for " + what
        mos.sleep_ns(20000000)


def lookups():
    db = service.lookup("database")
    assert service.lookup("database") == db  # from the cache
    assert service.discover("database") == [db]
    assert service.discover("web*") == [service.lookup("web-server")]
    assert sorted(service.discover("tag:storage")) == sorted([db, service.lookup("cache")])
    assert len(service.discover("*")) >= 6 and service.discover("no-such-*") == []
    assert service.discover("meta:engine=memory") == [db]
    expect("DiscoveryError", service.discover, "re:(")
    expect("DiscoveryError", service.discover, "type:nonsense")
    expect("ServiceNotFound", service.lookup, "no-such-service")
    expect("ServiceNotFound", service.status, 9999)
    expect("ServiceNotFound", service.start, "no-such-service")
    expect("ServiceNotFound", service.stop, 9999)
    for op in (service.restart, service.enable, service.disable, service.pause, service.resume):
        expect("ServiceNotFound", op, "no-such-service")
    st = service.status("database")
    assert (st["id"], st["name"], st["version"], st["state_name"], st["type_name"], st["health_name"],
            st["enabled"]) == (db, "database", "2.3.1", "running", "system", "healthy", 1), st
    assert st["pid"] > 0 and st["since_ns"] > 0
    print("lookups ok")


def create_errors():
    a = service.create(SLEEPER % ("py-a", "py-a"))
    assert service.status(a)["state_name"] == "stopped" and service.lookup("py-a") == a
    e = expect("ServiceAlreadyExists", service.create, SLEEPER % ("py-a", "py-a"))
    assert "py-a" in e.message
    e = expect("ConfigurationError", service.create, '[service]\nname = "py-x"\nexec = "/bin/true\n')
    assert e.message.startswith("<create_service>:3: "), e.message
    e = expect("InvalidConfiguration", service.create,
               '[service]\nname = "py-x"\nexec = "/bin/true"\nmax_restarts = -1\n')
    assert e.message.startswith("<create_service>:4: ") and "max_restarts" in e.message, e.message
    assert e.detail["line"] == 4 and e.detail["file"] == "<create_service>"
    expect("InvalidConfiguration", service.create, '{"service": {"name": "py-x"}}', "json")
    j = service.create(json.dumps({"service": {"name": "py-json", "exec": "/bin/true", "tags": ["pytest"]}}), "json")
    assert service.status("py-json")["id"] == j
    service.create('[service]\nname = "py-c1"\nexec = "/bin/true"\n[service.dependencies]\nrequired = ["py-c2"]\n')
    e = expect("CircularDependency", service.create,
               '[service]\nname = "py-c2"\nexec = "/bin/true"\n[service.dependencies]\nrequired = ["py-c1"]\n')
    assert "py-c1 -> py-c2" in e.message or "py-c2 -> py-c1" in e.message, e.message
    expect("ServiceNotFound", service.lookup, "py-c2")
    e = expect("DependencyError", service.start, "py-c1")  # py-c2 is not defined
    assert state("py-c1") == "failed"
    for n in ("py-c1", "py-json"):
        service.query({"op": "remove", "name": n})
    print("create_errors ok")


def lifecycle():
    service.start("py-a")
    st = service.status("py-a")
    assert st["state_name"] == "running" and st["pid"] > 0, st
    expect("ServiceNotStopped", service.start, "py-a")
    c = service.Client("py-a")
    assert c.call("echo", x=1) == {"op": "echo", "x": 1, "pid": mos.getpid()}
    service.pause("py-a")
    assert state("py-a") == "paused"
    expect("ServiceNotRunning", service.pause, "py-a")
    expect("ServiceNotStopped", service.start, "py-a")
    service.resume("py-a")
    assert state("py-a") == "running"
    expect("ServiceNotRunning", service.resume, "py-a")
    assert c.call("echo", y=2)["y"] == 2
    service.restart("py-a")
    st2 = service.status("py-a")
    assert st2["state_name"] == "running" and st2["pid"] not in (0, st["pid"]), st2
    assert c.call("echo", z=3)["z"] == 3  # reconnected: the old endpoint died with the old process
    service.disable("py-a")
    assert service.status("py-a")["enabled"] == 0 and state("py-a") == "running"
    service.enable("py-a")
    assert service.status("py-a")["enabled"] == 1
    service.stop("py-a")
    assert state("py-a") == "stopped" and service.status("py-a")["pid"] == 0
    expect("ServiceNotRunning", service.stop, "py-a")
    expect("ServiceNotRunning", service.pause, "py-a")
    expect("ServiceNotRunning", service.resume, "py-a")
    expect("ServiceNotRunning", service.connect, "py-a")
    expect("ServiceNotFound", service.connect, "no-such-endpoint")
    service.disable("py-a")
    assert state("py-a") == "disabled"
    service.enable("py-a")
    assert state("py-a") == "stopped"
    c.close()
    # notify_ready from a process that is no service's.
    code = "import service,sys\ntry:\n service.notify_ready()\nexcept service.ServiceError as e:\n sys.exit(e.code)"
    assert mosutil.run(["/bin/python", "-c", code]) == C.ServiceNotFound
    # The JSON requests.
    names = [s["name"] for s in service.query({"op": "list"})["services"]]
    assert "database" in names and "py-a" in names
    assert service.query({"op": "lookup", "name": "py-a"})["id"] == service.lookup("py-a")
    expect("InvalidConfiguration", service.query, {"op": "fly"})
    expect("InvalidServiceHandle", service.query, {"op": "events", "handle": 99999})
    print("lifecycle ok")


def subscriptions():
    sub = service.subscribe("py-*", C.SERVICE_EVENT_STATE)
    every = service.subscribe()
    service.start("py-a")
    service.stop("py-a")
    got = []
    while True:
        ev = sub.recv(5000)
        assert ev is not None, "events so far: %r" % got
        got.append(ev)
        if ev["state"] == "stopped":
            break
    assert [(e["event"], e["name"], e["state"]) for e in got] == [
        ("state", "py-a", "starting"), ("state", "py-a", "running"),
        ("state", "py-a", "stopping"), ("state", "py-a", "stopped")], got
    assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
    assert sub.recv(0) is None
    expect("DiscoveryError", service.subscribe, "re:(")
    sub.close()
    # The cache: a removed and re-created service has a new id; a stale cached id is
    # looked up again. The subscriber to everything saw the removal too.
    old = service.lookup("py-a")
    service.query({"op": "remove", "name": "py-a"})
    new = service.create(SLEEPER % ("py-a", "py-a"))
    assert new != old and service.lookup("py-a") == old  # still cached
    service.enable("py-a")                                 # stale id: looked up again
    assert service.lookup("py-a") == new
    kinds = set()
    while True:
        ev = every.recv(0)
        if ev is None:
            break
        kinds.add(ev["event"])
    assert {"state", "health", "removed", "created"} <= kinds, kinds
    every.close()
    service.query({"op": "remove", "name": "py-a"})
    # A subscriber that keeps up loses nothing; one that does not is told how much it missed.
    sub = service.subscribe("database", C.SERVICE_EVENT_HEALTH)
    for i in range(200):
        service.query({"op": "health", "name": "database", "value": "degraded" if i % 2 == 0 else "healthy"})
    got = []
    while True:
        ev = sub.recv(1000)
        if ev is None:
            break
        got.append(ev)
    missed = [e["count"] for e in got if e["event"] == "missed"]
    health = [e["health"] for e in got if e["event"] == "health"]
    assert len(missed) == 1 and got[-1]["event"] == "missed", got[-3:]
    assert len(health) + missed[0] == 200 and len(health) >= 64, (len(health), missed)
    assert health == ["degraded", "healthy"] * (len(health) // 2), health
    seqs = [e["seq"] for e in got if e["event"] == "health"]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    sub.close()
    assert service.status("database")["health_name"] == "healthy"
    print("subscriptions ok", len(health), missed[0])


def demo():
    web = service.Client("web-server", 5000)
    assert web.call("put", key="greeting", value="hello") == {"ok": True}
    assert web.call("get", key="greeting") == {"found": True, "value": "hello", "from": "cache"}
    db = service.Client("database")
    cache = service.Client("cache")
    assert db.call("get", key="greeting") == {"found": True, "value": "hello"}
    assert cache.call("get", key="greeting") == {"found": True, "value": "hello"}
    # A short time-to-live: the next read goes to the database.
    web.call("put", key="short", value="v", ttl_ms=200)
    mos.sleep_ns(400000000)
    assert web.call("get", key="short") == {"found": True, "value": "v", "from": "database"}
    assert cache.call("stats")["expired"] >= 1
    log = service.Client("logging")
    assert log.call("find", text="PUT greeting", **{"from": "web-server"})["count"] == 1
    assert log.call("find", text="GET short")["last"].endswith(": database")
    for who in ("database", "cache", "web-server"):
        assert log.call("find", text="started as pid", **{"from": who})["count"] >= 1, who
    print("demo ok", db.call("stats")["keys"], log.call("tail", n=2)["total"])


NAMES = ("logging", "database", "cache", "web-server", "shell", "repl")


def pids():
    return dict((n, service.status(n)["pid"]) for n in NAMES)


def recovery():
    """Kills the service manager; the kernel restarts it and it re-adopts the services."""
    before = pids()
    web = service.Client("web-server")
    assert web.call("put", key="before", value="1") == {"ok": True}
    mgr = [p["pid"] for p in mosutil.procs() if p["name"] == "svcmgr"]
    assert mgr == [service.manager_pid()], mgr
    sub = service.subscribe("py-*", C.SERVICE_EVENT_STATE)
    t0 = mos.clock_ns()
    mos.kill(mgr[0])
    # The services serve each other without the manager.
    assert web.call("put", key="during", value="2") == {"ok": True}
    while True:
        try:
            service.lookup("no-such-service")
        except ServiceError as e:
            if e.name == "ServiceNotFound":
                break
            assert e.name == "ServiceTimeout", e
        assert mos.clock_ns() - t0 < 30 * 10**9, "the service manager did not come back"
        mos.sleep_ns(5000000)
    serving_ms = (mos.clock_ns() - t0) // 1000000
    after = pids()
    assert after == before, (before, after)
    assert [service.status(n)["state_name"] for n in NAMES] == ["running"] * len(NAMES)
    new = [p["pid"] for p in mosutil.procs() if p["name"] == "svcmgr"]
    assert new == [service.manager_pid()] and new != mgr, (mgr, new)
    # The services publish their endpoints to the new manager.
    t1 = mos.clock_ns()
    for n in ("logging", "database", "cache", "web-server"):
        wait_until(lambda: n in service.query({"op": "status", "name": n})["service"]["handles"],
                   10000, n + " to publish again")
    published_ms = (mos.clock_ns() - t1) // 1000000
    c = service.Client("web-server")
    assert c.call("get", key="during") == {"found": True, "value": "2", "from": "cache"}
    assert service.Client("database").call("get", key="before")["value"] == "1"
    # A subscription hears that it was lost with the old manager, and is made again.
    assert sub.recv(5000) == {"event": "missed", "count": -1}
    # Every call works again.
    service.create(SLEEPER % ("py-b", "py-b"))
    service.start("py-b")
    assert [sub.recv(5000)["state"] for i in range(2)] == ["starting", "running"]
    sub.close()
    assert service.Client("py-b").call("echo")["op"] == "echo"
    service.stop("py-b")
    service.query({"op": "remove", "name": "py-b"})
    print("recovery ok serving_ms=%d published_ms=%d svcmgr=%d->%d" % (serving_ms, published_ms, mgr[0], new[0]))
