"""A fake kernel for the service manager's tests: processes are records, time is a
counter, and programs behave as a table says (when they notify readiness, whether they
obey a stop request, what their start check returns). Runs on CPython and MicroPython."""

import heapq

import kernel
import manager
from mos_consts import STATUS_KILLED, STATUS_FAULT, ENOENT


class Program:
    """How a fake program behaves.
    ready_ms: after this long it notifies readiness (None: never);
    endpoints: registers these endpoints at ready_ms (for ready = "endpoint");
    exit_ms, exit_status: exits by itself after exit_ms (None: never);
    obeys_stop: exits with 0 stop_ms after a stop request;
    status: exit status of a check program (an int, or a function of the run count);
    output: text written to stdout at ready_ms."""

    def __init__(self, ready_ms=5, endpoints=(), exit_ms=None, exit_status=0, obeys_stop=True,
                 stop_ms=2, status=0, output=None):
        self.ready_ms = ready_ms
        self.endpoints = endpoints
        self.exit_ms = exit_ms
        self.exit_status = exit_status
        self.obeys_stop = obeys_stop
        self.stop_ms = stop_ms
        self.status = status
        self.output = output
        self.runs = 0


class Proc:
    def __init__(self, pid, path, argv, env, program):
        self.pid = pid
        self.path = path
        self.argv = argv
        self.env = env
        self.program = program
        self.alive = True
        self.suspended = False
        self.deferred = []   # events held while suspended

    @property
    def name(self):
        return self.env.get("SERVICE_NAME", "")


class FakeKernel(kernel.Kernel):
    def __init__(self, files=None, programs=None):
        self.t = 0
        self.next_pid = 100
        self.procs = {}
        self.queue = []          # heap of (time, seq, fn, args)
        self.seq = 0
        self.files = files or {}
        self.programs = programs or {}
        self.missing = set()     # paths whose spawn fails
        self.history = []        # (time, what, service name, pid)
        self.manager = None
        self.next_handle = 5000  # handles granted to processes
        self.grants = []         # (manager's handle, pid, pid's handle)
        self.closed = []         # manager's handles closed

    # The Kernel interface.

    def now_ms(self):
        return self.t

    def spawn(self, path, argv, env):
        if path in self.missing:
            raise OSError(ENOENT, "no such program")
        key = argv[1] if path == "/bin/python" and len(argv) > 1 else path
        prog = self.programs.get(key)
        if prog is None:
            prog = self.programs[key] = Program()
        prog.runs += 1
        pid = self.next_pid
        self.next_pid += 1
        p = Proc(pid, path, list(argv), dict(env), prog)
        self.procs[pid] = p
        check = "SERVICE_PID" in env
        self.history.append((self.t, "check" if check else "spawn", p.name, pid))
        if check:
            st = prog.status(prog.runs) if callable(prog.status) else prog.status
            self._at(prog.ready_ms or 0, self._exit, pid, st)
            return pid
        if prog.ready_ms is not None:
            self._at(prog.ready_ms, self._ready, pid)
        if prog.exit_ms is not None:
            self._at(prog.exit_ms, self._exit, pid, prog.exit_status)
        return pid

    def request_stop(self, pid):
        p = self.procs.get(pid)
        self.history.append((self.t, "stop-request", p.name if p else "", pid))
        if p is not None and p.program.obeys_stop:
            self._at(p.program.stop_ms, self._exit, pid, 0)

    def kill(self, pid):
        p = self.procs.get(pid)
        self.history.append((self.t, "kill", p.name if p else "", pid))
        self._at(0, self._exit, pid, STATUS_KILLED)

    def suspend(self, pid):
        self.procs[pid].suspended = True
        self.history.append((self.t, "suspend", self.procs[pid].name, pid))

    def resume(self, pid):
        p = self.procs[pid]
        p.suspended = False
        self.history.append((self.t, "resume", p.name, pid))
        for fn, args in p.deferred:
            self._at(0, fn, *args)
        p.deferred = []

    def getpid(self):
        return 1

    def grant(self, handle, pid):
        if pid not in self.procs or not self.procs[pid].alive:
            raise OSError(3, "no such process")
        self.next_handle += 1
        self.grants.append((handle, pid, self.next_handle))
        return self.next_handle

    def close_handle(self, handle):
        self.closed.append(handle)

    def listdir(self, path):
        prefix = path.rstrip("/") + "/"
        names = [f[len(prefix):] for f in self.files if f.startswith(prefix)]
        if not names:
            raise OSError(ENOENT, "no such folder")
        return [n for n in names if "/" not in n]

    def read_text(self, path):
        if path not in self.files:
            raise OSError(ENOENT, "no such file")
        return self.files[path]

    # Driving.

    def _at(self, delay, fn, *args):
        self.seq += 1
        heapq.heappush(self.queue, (self.t + delay, self.seq, fn, args))

    def _ready(self, pid):
        p = self.procs.get(pid)
        if p is None or not p.alive:
            return
        if p.suspended:
            p.deferred.append((self._ready, (pid,)))
            return
        self.history.append((self.t, "ready", p.name, pid))
        if p.program.output:
            self.manager.process_output(pid, "stdout", p.program.output)
        if p.program.endpoints:
            for i, e in enumerate(p.program.endpoints):
                self.manager.endpoint_registered(pid, e, 1000 + i)
        else:
            self.manager.notify_ready(pid)

    def _exit(self, pid, status):
        p = self.procs.get(pid)
        if p is None or not p.alive:
            return
        p.alive = False
        self.history.append((self.t, "exit", p.name, pid))
        self.manager.process_exited(pid, status)

    def crash(self, name, status=STATUS_FAULT | 14):
        """Ends a service's process as a fault would (a page fault by default)."""
        pid = self.pid_of(name)
        assert pid, "%s has no process" % name
        self._at(0, self._exit, pid, status)

    def pid_of(self, name):
        for p in self.procs.values():
            if p.alive and p.name == name and "SERVICE_PID" not in p.env:
                return p.pid
        return 0

    def step(self, until):
        """Delivers everything due up to time until, in time order."""
        m = self.manager
        while True:
            t_ev = self.queue[0][0] if self.queue else None
            t_tm = m.next_deadline()
            nxt = t_ev
            if t_tm is not None and (nxt is None or t_tm < nxt):
                nxt = t_tm
            if nxt is None or nxt > until:
                break
            if nxt > self.t:
                self.t = nxt
            if t_ev is not None and t_ev <= self.t:
                _, _, fn, args = heapq.heappop(self.queue)
                fn(*args)
            m.tick()
        if until > self.t:
            self.t = until

    def run(self, ms):
        self.step(self.t + ms)

    def run_until(self, predicate, timeout_ms=None):
        """Runs until predicate() holds (True) or the time is up, or nothing is left to do
        (False)."""
        limit = self.t + (timeout_ms if timeout_ms is not None else 3600000)
        m = self.manager
        while not predicate():
            t_ev = self.queue[0][0] if self.queue else None
            t_tm = m.next_deadline()
            nxt = t_ev
            if t_tm is not None and (nxt is None or t_tm < nxt):
                nxt = t_tm
            if nxt is None:
                return predicate()
            if nxt > limit:
                self.t = limit
                return predicate()
            self.step(nxt)
        return True

    def settle(self, timeout_ms=600000):
        """Runs until nothing is scheduled (or the time is up)."""
        self.run_until(lambda: False, timeout_ms)

    def spawned(self):
        return [h[2] for h in self.history if h[1] == "spawn"]

    def first(self, what, name):
        for h in self.history:
            if h[1] == what and h[2] == name:
                return h[0]
        return None


def make(files=None, programs=None, sink=None):
    """A FakeKernel and a Manager on it."""
    k = FakeKernel(files, programs)
    m = manager.Manager(k, sink)
    k.manager = m
    return k, m


def pump(k):
    """A pump for cli.LocalClient."""
    def p(predicate, timeout_ms):
        k.run_until(predicate, timeout_ms)
    return p
