"""Generated service definitions for booted tests and benchmarks, as files for an initrd's
/etc/services ({archive path: text}; tools/mkinitrd.py repack() adds them to an image).

  generated(n, seed)  n services with a random dependency DAG (tests/qemu/test_services.py)
  trivial(n)          svc-1..svc-n, a chain link every 10th, plus the benchmark's own two
                      services (tools/svcbench.py)

Each runs /bin/svctest --serve: it says it is ready (notify_ready) and sleeps until stopped
(trivial()'s run --serve-quiet: the same without the "serving" line on the console).
"""
import random

# The default system's services, in /etc/services/NAME.toml.
DEFAULT = ["cache", "database", "logging", "repl", "shell", "web-server"]


def without_defaults(keep=("shell",)):
    """The archive paths of the default definitions except keep (each Python service costs
    ~5 MiB and a slow start; each C service here ~0.4 MiB, its stack mostly)."""
    return {"etc/services/%s.toml" % n for n in DEFAULT if n not in keep}


def generated(n, seed=5):
    """n definitions with random required (and some optional) dependencies on services
    defined before them, so the graph has no cycle; {name: required names}, files."""
    rng = random.Random(seed)
    requires, files = {}, {}
    for i in range(n):
        name = "gen-%04d" % i
        req = sorted(rng.sample(range(i), min(i, rng.choice((0, 1, 1, 2, 2, 3)))))
        opt = sorted(set(rng.sample(range(i), min(i, rng.choice((0, 0, 1))))) - set(req))
        requires[name] = ["gen-%04d" % j for j in req]
        # Waits measure from the start of the boot, which takes ~20 s (35 s on a loaded
        # host) for all of them: far from the default 30 s per dependency.
        deps = "start_timeout = 600000\n[service.dependencies]\ntimeout = 600000\n"
        if req or opt:
            if req:
                deps += "required = [%s]\n" % ", ".join('"gen-%04d>=1.0"' % j for j in req)
            if opt:
                deps += "optional = [%s]\n" % ", ".join('"gen-%04d"' % j for j in opt)
        files["etc/services/%s.toml" % name] = (
            # svctest --serve checks that what it requires is Running when it starts.
            '[service]\nname = "%s"\ntype = "%s"\nexec = "/bin/svctest"\nargs = [%s]\n'
            'version = "1.%d.0"\ntags = ["gen", "grp%d"]\nmetadata = { index = %d }\n%s'
            % (name, ("UserService", "SystemService")[i % 2], ", ".join('"%s"' % a for a in ["--serve"] + requires[name]),
               i % 7, i % 10, i, deps))
    return requires, files


def trivial_text(name, tags=(), requires=(), extra=""):
    """A trivial service: /bin/svctest --serve-quiet, ready once it calls notify_ready; it
    writes nothing to the console (nor does the systemd peer's)."""
    text = ('[service]\nname = "%s"\nexec = "/bin/svctest"\nargs = ["--serve-quiet"]\ntags = [%s]\nstop_timeout = 1000\n%s'
            % (name, ", ".join('"%s"' % t for t in tags), extra))
    if requires:
        text += "[service.dependencies]\nrequired = [%s]\n" % ", ".join('"%s"' % r for r in requires)
    return text


def trivial_requires(i):
    """What svc-i requires: every 10th service requires the one before it (svc-10 needs
    svc-9, svc-20 needs svc-19, ...), as the systemd peer's svc-i units do."""
    return ["svc-%d" % (i - 1)] if i % 10 == 0 else []


def trivial(n):
    """svc-1..svc-n, enabled, tagged "trivial" and "b<(i - 1) // 10>" (b0 is svc-1..svc-10:
    a tag of 10 services); and two services that do not start at boot: bench-idle, and
    bench-restart with auto_restart and restart_delay = 0, as the systemd peer's
    RestartSec=0 (restart_period = 1 ms keeps the restart intensity from ever giving up)."""
    files = {}
    for i in range(1, n + 1):
        files["etc/services/svc-%d.toml" % i] = trivial_text("svc-%d" % i, ("trivial", "b%d" % ((i - 1) // 10)),
                                                             trivial_requires(i))
    files["etc/services/bench-idle.toml"] = trivial_text("bench-idle", ("bench",), extra="enabled = false\n")
    files["etc/services/bench-restart.toml"] = trivial_text(
        "bench-restart", ("bench",), extra="enabled = false\nauto_restart = true\nmax_restarts = 1000\nrestart_period = 1\nrestart_delay = 0\n")
    return files
