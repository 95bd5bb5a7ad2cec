"""A service's own output lands in its journal: the kernel copies what a child of the service
manager writes to stdout and stderr to the manager (it still reaches the console too), and
`logs` answers with it."""
import json

from machine import Machine
from test_python import RawRepl


def test_service_output_is_in_its_journal():
    with Machine("journal") as m:
        m.wait_for(rb"svcmgr: ready: \d+ services running", timeout=60)
        repl = RawRepl(m)
        out = repl.check("import service, json\n"
                         "print(json.dumps(service.query({'op': 'logs', 'name': 'database'})))")
        lines = json.loads(out.strip().splitlines()[-1])["lines"]
        # Each line: [ms, stream, text]; the manager's own decisions sit beside the output.
        output = [line[2] for line in lines if line[1] == "stdout"]
        assert any(t.startswith("database: ready (pid ") for t in output), lines
        assert any(line[1] == "svcmgr" and line[2].startswith("spawn:") for line in lines), lines


def test_stop_is_a_request_before_a_kill():
    # logging serves requests through the service module: svc stop asks it to end (a message on
    # its lifeline queue) and it exits 0 by itself, well before the manager would kill it.
    with Machine("graceful-stop") as m:
        m.wait_for(rb"svcmgr: ready: \d+ services running", timeout=60)
        repl = RawRepl(m)
        out = repl.check("import service\n"
                         "service.stop('logging')\n"
                         "st = service.status('logging')\n"
                         "print(st['state'], st['last_exit'])", timeout=60)
        state, last_exit = out.strip().splitlines()[-1].split()
        assert int(last_exit) == 0, out
        assert state in ("0", "SERVICE_STOPPED", "stopped", "Stopped"), out


def test_changes_survive_a_service_manager_restart():
    # A service created at run time and an enable/disable change are kept by the kernel with
    # the running pids (svcmgr_save), so the restarted manager has them too.
    with Machine("svcmgr-persist") as m:
        m.wait_for(rb"svcmgr: ready: \d+ services running", timeout=60)
        repl = RawRepl(m)
        repl.check("import service, mos, mosutil, time\n"
                   "service.create('[service]\\nname = \"made\"\\nexec = \"/bin/true\"\\n')\n"
                   "service.disable('cache')\n"
                   "mos.kill([p['pid'] for p in mosutil.procs() if p['name'] == 'svcmgr'][0])", timeout=60)
        m.wait_for(rb"kernel: /sbin/svcmgr \(pid \d+\) ended", timeout=30)
        m.wait_for(rb"service calls go to pid \d+", timeout=30)
        out = repl.check("for i in range(100):\n"
                         "    try:\n"
                         "        service.lookup('made'); break\n"
                         "    except service.ServiceError as e:\n"
                         "        if e.name != 'ServiceTimeout': raise\n"
                         "        time.sleep_ms(50)\n"
                         "print(service.lookup('made') > 0, service.status('cache')['enabled'])", timeout=60)
        assert out.strip().splitlines()[-1] == "True 0", out
