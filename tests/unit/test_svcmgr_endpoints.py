"""Endpoint discovery through the service manager (control ops hello, publish, connect):
a service grants the manager a copy of its endpoint and publishes it; a client asks for it
by name and the manager grants its copy on; the copies are closed when the service ends."""
import json

import control
import states
from svcmgr_fake import make, Program

FILES = {
    "/etc/services/db.toml": '[service]\nname = "db"\nexec = "/bin/db"\nready = "endpoint"\n'
                             'endpoints = ["db"]\nauto_restart = true\n',
    "/etc/services/web.toml": '[service]\nname = "web"\nexec = "/bin/web"\n'
                              '[service.dependencies]\nrequired = ["db"]\n',
}


def q(m, req, caller):
    out = []
    control.handle_json(m, json.dumps(req), out.append, caller)
    assert len(out) == 1
    return json.loads(out[0])


def boot():
    # db publishes by hand below (ready = "endpoint"): its fake program never does.
    k, m = make(dict(FILES), {"/bin/db": Program(ready_ms=None)})
    m.load_directory("/etc/services")
    m.boot()
    k.run(10)
    return k, m


def test_publish_makes_an_endpoint_service_ready_and_connect_grants_it():
    k, m = boot()
    db = m.get("db")
    assert states.name(db.state) == "starting" and states.name(m.get("web").state) == "starting"
    assert q(m, {"op": "hello"}, db.pid) == {"pid": 1, "caller": db.pid, "service": "db"}
    # Not published yet: a client is told so.
    assert q(m, {"op": "connect", "endpoint": "db"}, 7)["error"] == "ServiceNotRunning"
    assert q(m, {"op": "connect", "endpoint": "nope"}, 7)["error"] == "ServiceNotFound"
    assert q(m, {"op": "publish", "endpoint": "db", "handle": 12, "lifeline": 13}, db.pid) == \
        {"endpoint": "db", "id": db.id}
    k.run(10)
    assert states.name(db.state) == "running" and states.name(m.get("web").state) == "running"
    web = m.get("web").pid
    got = q(m, {"op": "connect", "endpoint": "db"}, web)
    assert got["name"] == "db" and got["id"] == db.id and k.grants[-1] == (12, web, got["handle"])
    # Only a service's process publishes; a name another service declares is not taken.
    assert q(m, {"op": "publish", "endpoint": "x", "handle": 3}, 999)["error"] == "ServiceNotFound"
    assert q(m, {"op": "publish", "endpoint": "db", "handle": 3}, web)["error"] == "ServiceAlreadyExists"
    assert k.closed == [3, 3]  # the copies granted for refused publications are closed
    assert q(m, {"op": "publish", "endpoint": "db", "handle": "3"}, db.pid)["error"] == "InvalidConfiguration"
    assert q(m, {"op": "publish", "handle": 3}, db.pid)["error"] == "InvalidConfiguration"
    # An undeclared endpoint is fine for its own service.
    assert q(m, {"op": "publish", "endpoint": "web.http", "handle": 20}, web)["endpoint"] == "web.http"
    assert q(m, {"op": "connect", "endpoint": "web.http"}, db.pid)["name"] == "web"


def test_the_copies_are_closed_when_the_service_ends():
    k, m = boot()
    db = m.get("db")
    q(m, {"op": "publish", "endpoint": "db", "handle": 12, "lifeline": 13}, db.pid)
    # Publishing again replaces (and closes) the old copy.
    q(m, {"op": "publish", "endpoint": "db", "handle": 14}, db.pid)
    assert k.closed == [12]
    k.run(10)
    k.crash("db")
    k.run(1)
    assert sorted(k.closed) == [12, 13, 14]
    # Down (restarting): the declared endpoint still names db, which has not published.
    assert q(m, {"op": "connect", "endpoint": "db"}, 7)["error"] == "ServiceNotRunning"


def test_a_restarted_manager_re_adopts_and_reports_ready():
    # What main.py does after a restart: load, adopt the saved pid -> name map, boot.
    k, m = boot()
    db = m.get("db")
    q(m, {"op": "publish", "endpoint": "db", "handle": 12}, db.pid)
    k.run(10)
    running = dict((s.pid, s.name) for s in (m.get("db"), m.get("web")))
    k2, m2 = make(dict(FILES), {"/bin/db": Program(ready_ms=None)})
    k2.procs, k2.next_pid = k.procs, k.next_pid
    m2.load_directory("/etc/services")
    m2.adopt(running)
    lines = []
    m2.boot(lines.append)
    assert lines and lines[0].startswith("svcmgr: ready: 2 services running in ")
    assert [h for h in k2.history if h[1] == "spawn"] == []  # nothing started again
    assert m2.get("db").pid == db.pid and states.name(m2.get("db").state) == "running"
    # Its endpoint copy died with the old manager: not connectable until published again.
    assert q(m2, {"op": "connect", "endpoint": "db"}, 7)["error"] == "ServiceNotRunning"
    q(m2, {"op": "publish", "endpoint": "db", "handle": 3}, db.pid)
    assert q(m2, {"op": "connect", "endpoint": "db"}, m2.get("web").pid)["name"] == "db"
