"""services/svcmgr/cli.py and control.py: the svc command's output, --json, errors."""

import json

import pytest

import cli
import control
from svcmgr_fake import make, pump, Program
from test_svcmgr_manager import DEFAULT

USAGE_FIRST = "usage: svc COMMAND [ARGS] [--json]"


@pytest.fixture
def system():
    k, m = make(dict(DEFAULT))
    m.load_directory("/etc/services")
    m.boot()
    k.settle()
    return k, m, cli.LocalClient(m, pump(k))


def svc(client, *argv):
    return cli.run(list(argv), client)


def test_list(system):
    k, m, c = system
    code, text = svc(c, "list")
    lines = text.splitlines()
    assert code == 0
    assert lines[0].split() == ["NAME", "STATE", "TYPE", "VERSION", "PID", "HEALTH", "ENABLED"]
    assert lines[1].split() == ["cache", "running", "user", "0.0.0", str(m.get("cache").pid), "healthy", "yes"]
    assert [l.split()[0] for l in lines[1:5]] == ["cache", "database", "logging", "web-server"]
    assert lines[-1] == "4 services: 4 running"
    code, text = svc(c, "list", "--type", "system")
    assert [l.split()[0] for l in text.splitlines()[1:-1]] == ["logging"]
    code, text = svc(c, "list", "--tag=storage", "--json")
    data = json.loads(text)
    assert [s["name"] for s in data] == ["cache", "database"]
    assert data[1] == {"id": m.lookup("database"), "name": "database", "state": "running", "type": "user",
                       "version": "2.1.0", "pid": m.get("database").pid, "health": "healthy",
                       "enabled": True, "tags": ["storage", "core"]}
    code, text = svc(c, "list", "--state", "failed")
    assert code == 0 and text == "0 services"


def test_status(system):
    k, m, c = system
    code, text = svc(c, "status", "web-server")
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "web-server (Web Server) - HTTP web server"
    assert "  state:       running since 0.015 s: running: it notified readiness" in lines
    assert "  requires:    database>=2.0,<3, cache" in lines
    assert "  wants:       logging" in lines
    code, text = svc(c, "status", "web-server", "--json")
    st = json.loads(text)
    assert st["name"] == "web-server" and st["state_name"] == "running" and st["state"] == 2


def test_is_active(system):
    # systemctl is-active: the state in a word, exit status 0 only when running, else 3.
    k, m, c = system
    assert svc(c, "is-active", "database") == (0, "running")
    assert svc(c, "is-active", "database", "-q") == (0, "")
    code, text = svc(c, "is-active", "database", "--json")
    assert code == 0 and json.loads(text) == {"name": "database", "id": m.lookup("database"),
                                              "state": "running", "enabled": True}
    assert svc(c, "stop", "database") == (0, "")
    assert svc(c, "is-active", "database") == (3, "stopped")
    assert svc(c, "is-active", "web-server", "--quiet") == (3, "")
    m.disable("database")
    assert svc(c, "is-active", "database") == (3, "disabled")
    assert svc(c, "is-active", "nope") == (1, "ServiceNotFound: no service 'nope'")
    assert svc(c, "is-active")[0] == 2
    # A failed service, and one between states.
    m.start("database")
    assert svc(c, "is-active", "database") == (3, "starting")
    k.settle()
    assert svc(c, "is-active", "database") == (0, "running")
    # Failed: a crash with auto_restart off.
    m.create_service('[service]\nname = "once"\nexec = "/bin/once"\n')
    m.start("once")
    k.settle()
    assert svc(c, "is-active", "once") == (0, "running")
    k.crash("once")
    k.settle()
    assert svc(c, "is-active", "once") == (3, "failed")
    # Through the service_query path as /bin/svc sends it.
    box = []
    control.handle_json(m, json.dumps({"op": "cli", "argv": ["is-active", "cache"]}), box.append)
    assert json.loads(box[0]) == {"code": 0, "text": "running"}


def test_operations(system):
    k, m, c = system
    # start, stop and restart print nothing when done (as systemctl); --json the state.
    assert svc(c, "stop", "database") == (0, "")
    assert m.get("web-server").state == 0 and m.get("database").state == 0
    assert svc(c, "start", "database") == (0, "")
    assert m.get("database").state == 2
    k.settle()
    assert svc(c, "restart", "cache", "--json")[1] == json.dumps(
        {"name": "cache", "id": m.lookup("cache"), "state": "running", "enabled": True})
    assert svc(c, "pause", "logging") == (0, "logging: paused")
    assert svc(c, "resume", "logging") == (0, "logging: running")
    assert svc(c, "disable", "logging") == (0, "logging: running (disabled)")
    assert svc(c, "enable", "logging") == (0, "logging: running")


def test_errors_name_and_sentence(system):
    k, m, c = system
    assert svc(c, "start", "web-server") == (1, "ServiceNotStopped: web-server is running; stop it first or use restart")
    assert svc(c, "status", "nope") == (1, "ServiceNotFound: no service 'nope'")
    code, text = svc(c, "stop", "nope", "--json")
    assert code == 1 and json.loads(text) == {"error": "ServiceNotFound", "code": 1, "message": "no service 'nope'"}
    svc(c, "stop", "cache")
    assert svc(c, "stop", "cache") == (1, "ServiceNotRunning: cache is stopped")
    assert svc(c, "resume", "cache")[0] == 1
    assert svc(c, "discover", "type:bogus")[1].startswith("DiscoveryError: 'type:bogus': the types are")


def test_usage_errors(system):
    k, m, c = system
    code, text = svc(c)
    assert code == 2 and USAGE_FIRST in text
    code, text = svc(c, "strat", "x")
    assert code == 2 and text.startswith("svc: unknown command 'strat'; did you mean 'start'?")
    code, text = svc(c, "start")
    assert code == 2 and text.startswith("svc: start takes one service name")
    code, text = svc(c, "list", "--tpye", "x")
    assert code == 2 and "did you mean --type?" in text
    code, text = svc(c, "logs", "cache", "-n", "many", "--json")
    assert code == 2 and json.loads(text)["error"] == "usage"
    assert svc(c, "help")[0] == 0 and svc(c, "list", "--help")[1].startswith(USAGE_FIRST)


def test_deps_tree(system):
    k, m, c = system
    code, text = svc(c, "deps", "web-server")
    assert text.splitlines() == [
        "web-server (running)",
        "|-- database>=2.0,<3 (running)",
        "|   `-- logging (optional, running)",
        "|-- cache (running)",
        "|   `-- logging (optional, running)",
        "`-- logging (optional, running)",
    ]
    code, text = svc(c, "deps", "logging", "--reverse")
    assert text.splitlines()[0] == "logging (running)"
    assert "|   `-- web-server (running)" in text.splitlines()
    tree = json.loads(svc(c, "deps", "web-server", "--json")[1])
    assert tree["deps"][0]["name"] == "database" and tree["deps"][0]["constraint"] == ">=2.0,<3"


def test_deps_marks_problems():
    files = {"/etc/services/a.toml": '[service]\nname = "a"\nexec = "/bin/a"\n[service.dependencies]\n'
                                     'required = ["b>=9", "ghost"]\n',
             "/etc/services/b.toml": '[service]\nname = "b"\nexec = "/bin/b"\nversion = "1.0"\n'}
    k, m = make(files)
    m.load_directory("/etc/services")
    text = cli.run(["deps", "a"], cli.LocalClient(m))[1]
    assert text.splitlines() == ["a (stopped)", "|-- b>=9 (stopped, version 1.0 does not match)",
                                 "`-- ghost (undefined, not defined)"]


def test_discover(system):
    k, m, c = system
    code, text = svc(c, "discover", "web*")
    assert text.splitlines() == ["%5d  web-server" % m.lookup("web-server"), "1 match"]
    data = json.loads(svc(c, "discover", "tag:storage", "--json")[1])
    assert data["names"] == ["cache", "database"]
    assert svc(c, "discover", "state:running", "tag:core")[1].splitlines()[-1] == "2 matches"


def test_logs():
    k, m = make(dict(DEFAULT), {"/bin/logging": Program(output="one\ntwo\n")})
    m.load_directory("/etc/services")
    m.boot()
    k.settle()
    c = cli.LocalClient(m, pump(k))
    code, text = svc(c, "logs", "logging")
    lines = text.splitlines()
    assert lines[0] == "[     0.000] svcmgr: spawn: its dependencies are ready (pid=100, argv=/bin/logging)"
    assert "[     0.005] stdout: one" in lines and "[     0.005] stdout: two" in lines
    assert svc(c, "logs", "logging", "-n", "1")[1] == "[     0.005] svcmgr: ready: it notified readiness"
    assert json.loads(svc(c, "logs", "logging", "-n", "2", "--json")[1])[0] == [5, "stdout", "two"]


def test_watch(system):
    k, m, c = system
    k.crash("database")
    code, text = svc(c, "watch", "web-server", "-n", "4")
    assert code == 0
    assert [l.split()[1:] for l in text.splitlines()] == [
        ["state", "web-server:", "stopping", "(healthy)"],
        ["health", "web-server:", "stopping", "(unknown)"],
        ["state", "web-server:", "stopped", "(unknown)"],
        ["state", "web-server:", "starting", "(unknown)"]]
    k.crash("cache")
    got = []
    code, text = cli.run(["watch", "--events", "state", "-n", "2", "--json"], c, got.append)
    assert text == "" and [json.loads(x)["name"] for x in got] == ["cache", "web-server"]
    k.settle()
    code, text = svc(c, "watch", "--timeout", "1000")
    assert code == 0 and text == ""
    assert m.registry.subs == {}


def test_control_json(system):
    k, m, c = system
    out = []
    control.handle_json(m, '{"op": "lookup", "name": "cache"}', out.append)
    assert json.loads(out[-1]) == {"id": m.lookup("cache")}
    control.handle_json(m, 'nonsense', out.append)
    assert json.loads(out[-1])["error"] == "InvalidConfiguration"
    control.handle_json(m, '{"op": "fly"}', out.append)
    assert json.loads(out[-1])["message"] == "unknown op 'fly'"
    control.handle_json(m, '{"op": "create", "text": "[service]\\nname = \\"n\\"\\nexec = \\"/bin/n\\"\\n"}',
                        out.append)
    ident = json.loads(out[-1])["id"]
    control.handle_json(m, json.dumps({"op": "start", "id": ident}), out.append)
    assert len(out) == 4
    k.settle()
    assert json.loads(out[-1]) == {"name": "n", "id": ident, "state": "running", "enabled": True}
    control.handle_json(m, '{"op": "health", "name": "n", "value": "degraded"}', out.append)
    assert json.loads(out[-1]) == {"name": "n", "health": "degraded"}
    control.handle_json(m, '{"op": "decisions", "n": 1}', out.append)
    assert json.loads(json.loads(out[-1])["lines"][0])["action"] == "ready"
    control.handle_json(m, '{"op": "remove", "name": "n"}', out.append)
    assert json.loads(out[-1])["error"] == "ServiceNotStopped"
    assert control.event_mask("state,health") == 9 and control.event_mask("") == 15
