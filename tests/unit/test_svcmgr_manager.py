"""services/svcmgr/manager.py on a fake kernel: the scenarios of issue 5's in-guest tests
and the policy around them."""

import json
import random
import time

import pytest

import seed_example
import states
from errors import ServiceError
from svcmgr_fake import make, Program
from mos_consts import (STATUS_FAULT, STATUS_KILLED, ServiceNotFound, ServiceNotRunning,
                        ServiceNotStopped, ServiceAlreadyExists, DependencyError, CircularDependency,
                        InvalidConfiguration, ConfigurationError, ServiceFailed, ServiceTimeout,
                        FaultToleranceError, SERVICE_EVENT_STATE, SERVICE_HEALTH_HEALTHY,
                        SERVICE_HEALTH_DEGRADED, SERVICE_FORMAT_JSON)

RUNNING = states.RUNNING

WEB = seed_example.WEB_SERVER_VERSIONED

DEFAULT = {
    "/etc/services/logging.toml": '[service]\nname = "logging"\ntype = "SystemService"\nexec = "/bin/logging"\n'
                                  'auto_restart = true\ntags = ["core"]\n',
    "/etc/services/database.toml": '[service]\nname = "database"\nexec = "/bin/database"\nversion = "2.1.0"\n'
                                   'auto_restart = true\ntags = ["storage", "core"]\n'
                                   '[service.dependencies]\noptional = ["logging"]\n',
    "/etc/services/cache.toml": '[service]\nname = "cache"\nexec = "/bin/cache.py"\ntags = ["storage"]\n'
                                'auto_restart = true\n[service.dependencies]\noptional = ["logging"]\n',
    "/etc/services/web-server.toml": WEB,
    "/etc/services/motd": "not a definition",
}

NAMES = ["cache", "database", "logging", "web-server"]


def boot(files=None, programs=None, settle=True):
    k, m = make(dict(DEFAULT if files is None else files), programs)
    report = m.load_directory("/etc/services")
    lines = []
    m.boot(lines.append)
    if settle:
        k.settle()
    return k, m, report, lines


def state(m, name):
    return states.name(m.get(name).state)


def call(k, fn, *args):
    """Runs an operation that answers later; returns the error or None."""
    box = []
    fn(*(args + (box.append,)))
    k.run_until(lambda: box)
    assert box, "no answer"
    return box[0]


def test_default_system_comes_up_in_order():
    k, m, report, lines = boot()
    assert report["loaded"] == NAMES and report["errors"] == [] and report["cycles"] == []
    assert [state(m, n) for n in NAMES] == ["running"] * 4
    t = lambda what, n: k.first(what, n)
    # logging first; database and cache once logging is ready; web-server once both are.
    assert t("spawn", "logging") < t("ready", "logging") <= t("spawn", "database")
    assert t("ready", "logging") <= t("spawn", "cache")
    assert t("spawn", "web-server") >= max(t("ready", "database"), t("ready", "cache"))
    assert k.spawned() == ["logging", "cache", "database", "web-server"]
    assert lines == ["svcmgr: ready: 4 services running in %d ms" % t("ready", "web-server")]
    assert m.ready_line == lines[0]
    # A .py service runs under /bin/python; every process knows its service.
    cache = k.procs[m.get("cache").pid]
    assert cache.argv == ["/bin/python", "/bin/cache.py"] and cache.env["SERVICE_NAME"] == "cache"
    assert m.get("web-server").health == SERVICE_HEALTH_HEALTHY


def test_running_means_ready_not_spawned():
    k, m, _, lines = boot(programs={"/bin/database": Program(ready_ms=200)}, settle=False)
    k.run(50)
    assert state(m, "database") == "starting" and m.get("database").pid
    assert state(m, "web-server") == "starting" and not m.get("web-server").pid
    assert "waiting for database" in m.get("web-server").reason
    assert lines == []
    k.settle()
    assert state(m, "web-server") == "running"
    assert k.first("spawn", "web-server") >= 200


def test_stopping_database_stops_web_server_and_starting_brings_it_back():
    k, m, _, _ = boot()
    k.history = []
    assert call(k, m.stop, "database") is None
    assert state(m, "database") == "stopped" and state(m, "web-server") == "stopped"
    assert state(m, "cache") == "running" and state(m, "logging") == "running"
    # web-server is asked first and has ended before database is asked.
    asks = [h[2] for h in k.history if h[1] == "stop-request"]
    assert asks == ["web-server", "database"]
    assert k.first("exit", "web-server") <= k.first("stop-request", "database")
    assert m.get("web-server").stopped_by == "database"
    assert call(k, m.start, "database") is None
    k.settle()
    assert state(m, "web-server") == "running"
    assert k.first("spawn", "web-server") >= k.first("ready", "database")
    decisions = [json.loads(x) for x in m.journal.recent_decisions()]
    assert {"action": "start", "service": "web-server", "reason": "database is ready again"}.items() <= \
        [d for d in decisions if d["service"] == "web-server" and d["action"] == "start"][-1].items()


def test_crash_of_database_restarts_it_and_then_web_server():
    k, m, _, _ = boot()
    k.history = []
    old_db, old_web = m.get("database").pid, m.get("web-server").pid
    k.crash("database")   # a page fault, not an exit
    k.run(1)
    db = m.get("database")
    assert state(m, "database") == "starting" and db.want  # backing off
    assert "fault: page fault (vector 14)" in db.reason and "restart 1 of 5" in db.reason
    assert db.last_exit == STATUS_FAULT | 14 and db.restarts == 1
    k.settle()
    assert state(m, "database") == "running" and state(m, "web-server") == "running"
    assert m.get("database").pid != old_db and m.get("web-server").pid != old_web
    assert k.first("exit", "web-server") is not None
    assert k.first("spawn", "database") - k.first("exit", "database") == 100  # the first backoff
    assert k.first("spawn", "web-server") >= k.first("ready", "database")
    st = m.status("database")
    assert st["restarts"] == 1 and st["exit"] == "fault: page fault (vector 14)"
    assert st["last_exit"] == STATUS_FAULT | 14
    restarts = [json.loads(x) for x in m.journal.recent_decisions() if '"restart"' in x]
    assert restarts[-1]["service"] == "database" and restarts[-1]["delay_ms"] == 100
    assert "fault: page fault" in restarts[-1]["reason"]


def test_cycle_and_invalid_definition_are_reported_and_the_rest_starts():
    files = dict(DEFAULT)
    files["/etc/services/a.toml"] = '[service]\nname = "a"\nexec = "/bin/a"\n[service.dependencies]\nrequired = ["b"]\n'
    files["/etc/services/b.toml"] = '[service]\nname = "b"\nexec = "/bin/b"\n[service.dependencies]\nrequired = ["c"]\n'
    files["/etc/services/c.toml"] = '[service]\nname = "c"\nexec = "/bin/c"\n[service.dependencies]\nrequired = ["a"]\n'
    files["/etc/services/needs-a.toml"] = '[service]\nname = "needs-a"\nexec = "/bin/n"\n' \
                                          '[service.dependencies]\nrequired = ["a"]\n'
    files["/etc/services/broken.toml"] = '[service]\nname = "broken"\nexec = "/bin/broken"\nmax_restarts = "lots"\n'
    files["/etc/services/garbled.json"] = '{"service": {"name": "garbled",\n'
    files["/etc/services/dup.toml"] = '[service]\nname = "cache"\nexec = "/bin/other"\n'
    k, m, report, lines = boot(files)
    assert report["cycles"] == ["a -> b -> c -> a"]
    errs = {(e["file"].split("/")[-1], e["line"], e["error"]) for e in report["errors"]}
    assert ("broken.toml", 4, "InvalidConfiguration") in errs
    assert ("garbled.json", 1, "ConfigurationError") in errs or ("garbled.json", 2, "ConfigurationError") in errs
    assert ("dup.toml", 1, "ServiceAlreadyExists") in errs
    broken = [e for e in report["errors"] if e["file"].endswith("broken.toml")][0]
    assert broken["message"] == "/etc/services/broken.toml:4: service.max_restarts: must be an integer, not a string"
    assert [state(m, n) for n in NAMES] == ["running"] * 4
    for n in ("a", "b", "c"):
        assert state(m, n) == "stopped" and m.get(n).error == CircularDependency
    assert state(m, "needs-a") == "failed"
    assert "circular dependency: a -> b -> c -> a" in m.get("needs-a").reason
    with pytest.raises(ServiceError) as ei:
        m.start("b")
    assert ei.value.code == CircularDependency and "a -> b -> c -> a" in ei.value.message
    assert lines == ["svcmgr: ready: 4 services running in 15 ms"]
    rejects = [json.loads(x) for x in m.journal.recent_decisions() if '"reject"' in x]
    assert len(rejects) == 6  # three files, three services in the cycle


def test_thousand_generated_services():
    rnd = random.Random(1000)
    n = 1000
    files = {}
    tags = ["red", "green", "blue", "core"]
    for i in range(n):
        req = ["s%04d" % j for j in rnd.sample(range(i), min(i, rnd.randint(0, 3)))]
        opt = ["s%04d" % j for j in rnd.sample(range(i), min(i, rnd.randint(0, 1))) if "s%04d" % j not in req]
        files["/etc/services/s%04d.toml" % i] = (
            '[service]\nname = "s%04d"\nexec = "/bin/demo"\ntype = "%s"\ntags = ["%s"]\nversion = "1.%d"\n'
            '[service.dependencies]\nrequired = %s\noptional = %s\n'
            % (i, rnd.choice(["user", "system"]), rnd.choice(tags), i % 7, json.dumps(req), json.dumps(opt)))
    items = sorted(files.items())
    rnd.shuffle(items)  # definitions come in any order
    progs = {"/bin/demo": Program(ready_ms=3)}
    k, m = make(programs=progs)
    t0 = time.perf_counter()
    report = m.load_definitions(items)
    t_load = time.perf_counter() - t0
    lines = []
    m.boot(lines.append)
    k.settle()
    t_all = time.perf_counter() - t0
    assert len(report["loaded"]) == n and not report["errors"]
    assert lines and lines[0].startswith("svcmgr: ready: 1000 services running in ")
    ready_at = {}
    spawn_at = {}
    for t, what, name, pid in k.history:
        if what == "ready":
            ready_at.setdefault(name, t)
        elif what == "spawn":
            spawn_at.setdefault(name, t)
    for i in range(n):
        name = "s%04d" % i
        d = m.get(name).d
        for dep in d.requires:
            assert ready_at[dep[0]] <= spawn_at[name], (name, dep[0])
        for dep in d.wants:
            assert ready_at[dep[0]] <= spawn_at[name]
    assert len(m.discover("s00*")) == 100
    assert m.discover("name:s0999") == [m.lookup("s0999")]
    assert len(m.discover("tag:core")) == len([1 for f in files.values() if '"core"' in f])
    assert len(m.discover("state:running")) == n
    assert t_all < 20, (t_load, t_all)


def test_graceful_stop_then_kill():
    k, m, _, _ = boot(programs={"/bin/web-server": Program(obeys_stop=False)})
    k.history = []
    t0 = k.t
    assert call(k, m.stop, "web-server") is None
    assert k.first("stop-request", "web-server") == t0
    assert k.first("kill", "web-server") == t0 + 5000
    st = m.status("web-server")
    assert st["state_name"] == "stopped" and st["exit"] == "killed" and st["last_exit"] == STATUS_KILLED
    assert state(m, "database") == "running"


def test_pid_listener_follows_pids():
    # The glue keeps its saved state's running part from these calls (main.py pid_changed).
    k, m = make(dict(DEFAULT))
    seen = {}

    def listener(pid, svc):
        if svc is None:
            del seen[pid]
        else:
            seen[pid] = svc.name

    m.pid_listener = listener
    m.load_directory("/etc/services")
    m.boot()
    k.settle()
    assert seen == {pid: m.pids[pid].name for pid in m.pids} and len(seen) == 4
    k.crash("database")
    k.settle()
    assert seen == {pid: m.pids[pid].name for pid in m.pids} and len(seen) == 4
    m.stop("cache")
    k.settle()
    assert seen == {pid: m.pids[pid].name for pid in m.pids} and "cache" not in seen.values()


def test_auto_restart_backoff_and_give_up():
    files = dict(DEFAULT)
    files["/etc/services/database.toml"] = DEFAULT["/etc/services/database.toml"].replace(
        "auto_restart = true", "auto_restart = true\nmax_restarts = 3\nrestart_period = 100000")
    k, m, _, _ = boot(files)
    for i in range(3):
        k.crash("database", 3)
        k.settle()
        assert state(m, "database") == "running" and state(m, "web-server") == "running"
    spawns = [h[0] for h in k.history if h[1] == "spawn" and h[2] == "database"]
    exits = [h[0] for h in k.history if h[1] == "exit" and h[2] == "database"]
    assert [s - e for s, e in zip(spawns[1:], exits)] == [100, 200, 400]
    k.crash("database", 3)
    k.settle()
    db = m.get("database")
    assert state(m, "database") == "failed" and db.gave_up and db.restarts == 3
    assert "gave up after 3 restarts within 100000 ms" in db.reason
    assert state(m, "web-server") == "stopped"
    assert any('"give-up"' in x and "FaultToleranceError" in x for x in m.journal.recent_decisions())
    # Started by hand, it runs again and brings web-server back.
    assert call(k, m.start, "database") is None
    k.settle()
    assert state(m, "web-server") == "running"


def test_backoff_is_capped():
    import manager
    files = {"/etc/services/x.toml": '[service]\nname = "x"\nexec = "/bin/x"\nauto_restart = true\n'
                                     'max_restarts = 20\nrestart_period = 10000000\n'}
    k, m, _, _ = boot(files, {"/bin/x": Program(ready_ms=1, exit_ms=2, exit_status=1)})
    spawns = [h[0] for h in k.history if h[1] == "spawn"]
    exits = [h[0] for h in k.history if h[1] == "exit"]
    gaps = [s - e for s, e in zip(spawns[1:], exits)]
    assert gaps[:5] == [100, 200, 400, 800, 1600]
    assert max(gaps) == manager.BACKOFF_MAX_MS and len(gaps) == 20
    assert state(m, "x") == "failed" and m.get("x").gave_up


def test_restart_delay_sets_the_first_wait_and_zero_restarts_at_once():
    files = {"/etc/services/x.toml": '[service]\nname = "x"\nexec = "/bin/x"\nauto_restart = true\n'
                                     'max_restarts = 4\nrestart_period = 10000000\nrestart_delay = 30\n',
             "/etc/services/y.toml": '[service]\nname = "y"\nexec = "/bin/y"\nauto_restart = true\n'
                                     'max_restarts = 4\nrestart_period = 10000000\nrestart_delay = 0\n'}
    k, m, _, _ = boot(files, {"/bin/x": Program(ready_ms=1, exit_ms=2, exit_status=1),
                              "/bin/y": Program(ready_ms=1, exit_ms=2, exit_status=1)})

    def gaps(name):
        spawns = [h[0] for h in k.history if h[1] == "spawn" and h[2] == name]
        exits = [h[0] for h in k.history if h[1] == "exit" and h[2] == name]
        return [s - e for s, e in zip(spawns[1:], exits)]
    assert gaps("x") == [30, 60, 120, 240]
    assert gaps("y") == [0, 0, 0, 0]  # systemd's RestartSec=0
    assert m.get("y").gave_up and m.get("y").restarts == 4


def test_clean_exit_is_not_restarted_but_stops_dependents():
    k, m, _, _ = boot()
    k.history = []
    pid = m.get("cache").pid
    k._at(0, k._exit, pid, 0)
    k.settle()
    assert state(m, "cache") == "stopped" and m.get("cache").restarts == 0
    assert state(m, "web-server") == "stopped"
    assert k.first("spawn", "cache") is None


def test_exit_without_auto_restart_fails():
    files = dict(DEFAULT)
    files["/etc/services/cache.toml"] = DEFAULT["/etc/services/cache.toml"].replace("auto_restart = true\n", "")
    k, m, _, _ = boot(files)
    k.crash("cache", 2)
    k.settle()
    assert state(m, "cache") == "failed" and m.status("cache")["exit"] == "exited with status 2"
    assert state(m, "web-server") == "stopped" and m.get("web-server").stopped_by == "cache"
    assert call(k, m.start, "cache") is None
    k.settle()
    assert state(m, "web-server") == "running"


def test_start_pulls_in_required_dependencies_and_waits_until_ready():
    files = {p: t.replace('\nname = "', '\nenabled = false\nname = "') for p, t in DEFAULT.items()}
    k, m, _, lines = boot(files)
    assert lines == ["svcmgr: ready: 0 services running in 0 ms"]
    assert [state(m, n) for n in NAMES] == ["disabled"] * 4
    box = []
    m.start("web-server", box.append)
    assert box == [] and state(m, "database") == "starting"
    k.run_until(lambda: box)
    assert box == [None]
    assert [state(m, n) for n in NAMES] == ["running", "running", "disabled", "running"]
    # Disabled services stay disabled; stopping shows it.
    assert call(k, m.stop, "database") is None
    assert state(m, "database") == "disabled" and state(m, "web-server") == "disabled"


def test_operation_errors():
    k, m, _, _ = boot()
    for fn, name, code in ((m.start, "web-server", ServiceNotStopped), (m.start, "nope", ServiceNotFound),
                           (m.resume, "cache", ServiceNotRunning), (m.stop, 999, ServiceNotFound)):
        with pytest.raises(ServiceError) as ei:
            fn(name)
        assert ei.value.code == code
    call(k, m.stop, "cache")
    with pytest.raises(ServiceError) as ei:
        m.stop("cache")
    assert ei.value.code == ServiceNotRunning and ei.value.message == "cache is stopped"
    with pytest.raises(ServiceError) as ei:
        m.pause("cache")
    assert ei.value.code == ServiceNotRunning
    with pytest.raises(ServiceError) as ei:
        m.notify_ready(4242)
    assert ei.value.code == ServiceNotFound
    assert m.lookup("cache") == m.get("cache").id
    with pytest.raises(ServiceError):
        m.remove_service("logging")
    m.remove_service("cache")
    assert m.discover("cache") == []


def test_dependency_problems():
    files = dict(DEFAULT)
    files["/etc/services/old.toml"] = '[service]\nname = "old"\nexec = "/bin/old"\n' \
                                      '[service.dependencies]\nrequired = ["database<2"]\n'
    files["/etc/services/lost.toml"] = '[service]\nname = "lost"\nexec = "/bin/lost"\n' \
                                       '[service.dependencies]\nrequired = ["ghost"]\n'
    files["/etc/services/slow.toml"] = '[service]\nname = "slow"\nexec = "/bin/slow"\n'
    files["/etc/services/patient.toml"] = '[service]\nname = "patient"\nexec = "/bin/p"\n' \
                                          '[service.dependencies]\nrequired = [{ name = "slow", timeout = 1000 }]\n'
    files["/etc/services/hopeful.toml"] = '[service]\nname = "hopeful"\nexec = "/bin/h"\n' \
                                          '[service.dependencies]\noptional = [{ name = "slow", timeout = 500 }]\n'
    k, m, _, lines = boot(files, {"/bin/slow": Program(ready_ms=None)})
    assert state(m, "old") == "failed" and "requires database <2, but it is version 2.1.0" in m.get("old").reason
    assert state(m, "lost") == "failed" and "requires ghost, which is not defined" in m.get("lost").reason
    assert state(m, "patient") == "failed"
    assert "required slow was not ready within 1000 ms" in m.get("patient").reason
    assert state(m, "hopeful") == "running" and k.first("spawn", "hopeful") == 500
    # slow never notified: it failed its start timeout (killed).
    assert state(m, "slow") == "failed" and "not ready within 30000 ms" in m.get("slow").reason
    assert lines == ["svcmgr: ready: 5 services running in 30000 ms"]
    err = call(k, m.start, "lost")
    assert err.code == DependencyError and "ghost" in err.message


def test_start_timeout_is_service_timeout():
    files = {"/etc/services/x.toml": '[service]\nname = "x"\nexec = "/bin/x"\nstart_timeout = 300\n'}
    k, m, _, _ = boot(files, {"/bin/x": Program(ready_ms=None)}, settle=False)
    k.settle()
    assert state(m, "x") == "failed" and k.first("kill", "x") == 300
    err = call(k, m.start, "x")
    assert err.code == ServiceTimeout


def test_ready_by_check_and_by_endpoint():
    files = {
        "/etc/services/chk.toml": '[service]\nname = "chk"\nexec = "/bin/chk"\nready = "check"\n'
                                  'start_check = ["/bin/probe", "chk"]\n',
        "/etc/services/ep.toml": '[service]\nname = "ep"\nexec = "/bin/ep"\nready = "endpoint"\n'
                                 'endpoints = ["ep.a", "ep.b"]\n',
    }
    probe = Program(ready_ms=10, status=lambda run: 0 if run >= 3 else 1)
    k, m, _, _ = boot(files, {"/bin/probe": probe, "/bin/ep": Program(endpoints=("ep.a", "ep.b")),
                              "/bin/chk": Program(ready_ms=None)})
    assert state(m, "chk") == "running" and probe.runs == 3
    assert [h[0] for h in k.history if h[1] == "check"] == [0, 510, 1020]
    assert state(m, "ep") == "running"
    assert m.registry.endpoint("ep.b") == m.lookup("ep")


def test_pause_and_resume():
    k, m, _, _ = boot()
    pid = m.get("cache").pid
    m.pause("cache")
    assert state(m, "cache") == "paused" and k.procs[pid].suspended
    with pytest.raises(ServiceError) as ei:
        m.start("cache")
    assert ei.value.code == ServiceNotStopped
    m.resume("cache")
    assert state(m, "cache") == "running" and not k.procs[pid].suspended
    m.pause("cache")
    assert call(k, m.stop, "cache") is None  # resumed, then asked to stop
    assert state(m, "cache") == "stopped" and [h[1] for h in k.history if h[3] == pid][-3:] == [
        "resume", "stop-request", "exit"]


def test_groups_start_and_stop_members_together():
    files = dict(DEFAULT)
    files["/etc/services/backend.toml"] = '[service]\nname = "backend"\ntype = "ServiceGroup"\n' \
                                          'members = ["database", "cache"]\nenabled = false\n'
    files["/etc/services/database.toml"] = DEFAULT["/etc/services/database.toml"].replace(
        'name = "database"', 'name = "database"\nenabled = false')
    files["/etc/services/cache.toml"] = DEFAULT["/etc/services/cache.toml"].replace(
        'name = "cache"', 'name = "cache"\nenabled = false')
    files["/etc/services/web-server.toml"] = WEB.replace('name = "web-server"', 'name = "web-server"\nenabled = false')
    k, m, _, _ = boot(files)
    assert state(m, "backend") == "disabled" and state(m, "database") == "disabled"
    assert call(k, m.start, "backend") is None
    assert state(m, "database") == "running" and state(m, "cache") == "running"
    assert state(m, "backend") == "running" and m.get("backend").pid == 0
    m.pause("backend")
    assert state(m, "database") == "paused" and state(m, "cache") == "paused"
    m.resume("backend")
    assert state(m, "database") == "running"
    assert call(k, m.stop, "backend") is None
    k.settle()
    assert state(m, "database") == "disabled" and state(m, "cache") == "disabled"
    assert state(m, "backend") == "disabled" and state(m, "logging") == "running"
    assert call(k, m.start, "backend") is None
    pids = (m.get("database").pid, m.get("cache").pid)
    assert call(k, m.restart, "backend") is None
    assert state(m, "backend") == "running"
    assert pids[0] != m.get("database").pid and pids[1] != m.get("cache").pid


def test_restart_brings_dependents_back_after_ready():
    k, m, _, _ = boot()
    k.history = []
    web = m.get("web-server").pid
    assert call(k, m.restart, "database") is None
    k.settle()
    assert state(m, "web-server") == "running" and m.get("web-server").pid != web
    assert k.first("spawn", "web-server") >= k.first("ready", "database")
    assert m.get("database").restarts == 0  # by hand: not an automatic restart


def test_enable_disable():
    k, m, _, _ = boot()
    m.disable("cache")
    assert state(m, "cache") == "running" and not m.get("cache").enabled
    call(k, m.stop, "cache")
    assert state(m, "cache") == "disabled"
    m.enable("cache")
    assert state(m, "cache") == "stopped"
    m.enable("cache")
    assert m.status("cache")["enabled"] == 1


def test_create_service_at_run_time():
    k, m, _, _ = boot()
    ident = m.create_service('[service]\nname = "api"\nexec = "/bin/api"\n'
                             '[service.dependencies]\nrequired = ["web-server"]\n')
    assert m.lookup("api") == ident and state(m, "api") == "stopped"
    assert call(k, m.start, "api") is None
    j = json.dumps({"service": {"name": "api2", "exec": "/bin/api2", "tags": ["json"]}})
    ident2 = m.create_service(j, SERVICE_FORMAT_JSON)
    assert m.discover("tag:json") == [ident2]
    with pytest.raises(ServiceError) as ei:
        m.create_service('[service]\nname = "api"\nexec = "/bin/api"\n')
    assert ei.value.code == ServiceAlreadyExists
    with pytest.raises(ServiceError) as ei:
        m.create_service('[service]\nname = "x"\nexec = "/bin/x"\n[service.dependencies]\nrequired = ["y"]\n')
        m.create_service('[service]\nname = "y"\nexec = "/bin/y"\n[service.dependencies]\nrequired = ["x"]\n')
    assert ei.value.code == CircularDependency and "y -> x -> y" in ei.value.message
    assert m.registry.lookup("y") is None and "y" not in m.graph
    with pytest.raises(ServiceError) as ei:
        m.create_service('[service]\nname = "z"\nexec = "/bin/z"\nmax_restarts = -2\n', "toml", "z.toml")
    assert ei.value.code == InvalidConfiguration and ei.value.message.startswith("z.toml:4: ")
    with pytest.raises(ServiceError) as ei:
        m.create_service('[service', "toml")
    assert ei.value.code == ConfigurationError


def test_subscriptions_see_the_lifecycle_in_order():
    k, m = make(dict(DEFAULT))
    m.load_directory("/etc/services")
    h = m.subscribe("web-server", SERVICE_EVENT_STATE)
    m.boot()
    k.settle()
    evs = m.poll_events(h)
    assert [states.name(e[4]) for e in evs] == ["starting", "running"]
    k.crash("database")
    k.settle()
    evs = m.poll_events(h)
    assert [states.name(e[4]) for e in evs] == ["stopping", "stopped", "starting", "running"]
    m.process_exited(77777, 0)  # a subscriber process ending is harmless


def test_output_goes_to_the_journal():
    k, m, _, _ = boot(programs={"/bin/logging": Program(output="hello\nworld\npart")})
    lines = m.logs("logging")
    out = [(s, t) for _, s, t in lines if s == "stdout"]
    assert out == [("stdout", "hello"), ("stdout", "world")]
    k.crash("logging", 1)
    k.settle()
    out = [(s, t) for _, s, t in m.logs("logging") if s == "stdout"]
    # The partial line ends with its process; the restarted one writes again.
    assert [t for _, t in out] == ["hello", "world", "part", "hello", "world"]
    assert any(s == "svcmgr" and t.startswith("restart: restart 1 of 5") for _, s, t in m.logs("logging"))
    assert len(m.logs("logging", 2)) == 2


def test_status_has_the_struct_fields():
    k, m, _, _ = boot()
    st = m.status("web-server")
    for key in ("id", "state", "type", "health", "pid", "restarts", "last_exit", "since_ns", "enabled",
                "name", "version"):
        assert key in st
    assert st["state"] == RUNNING and st["requires"] == ["database>=2.0,<3", "cache"]
    assert st["wants"] == ["logging"] and st["required_by"] == []
    assert m.status("database")["required_by"] == ["web-server"]
    m.set_health("web-server", SERVICE_HEALTH_DEGRADED)
    assert m.discover("health:degraded") == [st["id"]]


def test_deps_tree():
    k, m, _, _ = boot()
    t = m.deps_tree("web-server")
    assert [(c["name"], c["kind"], c["constraint"], c["ok"]) for c in t["deps"]] == [
        ("database", "required", ">=2.0,<3", True), ("cache", "required", "", True),
        ("logging", "optional", "", True)]
    assert t["deps"][0]["deps"][0]["name"] == "logging"
    r = m.deps_tree("logging", reverse=True)
    assert sorted(c["name"] for c in r["deps"]) == ["cache", "database", "web-server"]


def test_persistent_state_restores_created_services_and_enable_changes():
    # What a restarted service manager gets back from the kernel: services defined at run time
    # and enable/disable changes, beside the running pids it re-adopts.
    k1, m1 = make()
    m1.load_definitions([("a.toml", '[service]\nname = "a"\nexec = "/bin/a"\nenabled = true\n')])
    m1.create_service('[service]\nname = "made"\nexec = "/bin/made"\n')
    m1.disable("a")
    state = m1.persistent_state()
    assert [t for t, f in state["created"]] and state["enabled"] == {"a": False}
    k2, m2 = make()
    m2.load_definitions([("a.toml", '[service]\nname = "a"\nexec = "/bin/a"\nenabled = true\n')])
    m2.restore(state)
    assert m2.lookup("made") is not None
    assert m2.get("a").enabled is False
    m2.remove_service("made")
    assert m2.persistent_state()["created"] == []
