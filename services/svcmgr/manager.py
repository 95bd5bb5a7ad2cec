# The service manager: loads definitions, starts services in dependency order, follows
# their processes, restarts what crashes, and answers the service calls.
#
# It is driven from outside, one call at a time, and never blocks: the guest glue's main
# loop (or a test with a fake kernel) calls the operations (start, stop, ...), the event
# entry points (process_exited, notify_ready, process_output, endpoint_registered) and
# tick() when next_deadline() has come. An operation that takes time (start waits until
# the service is ready, stop until it has ended) returns at once and later calls
# done(None) on success or done(ServiceError) on failure; a refusal raises ServiceError
# at once.
#
# Policy, in MINIX RS and Erlang/OTP terms:
# - A service starts once its required dependencies are Running (ready: it called
#   notify_ready, registered its endpoints or passed its start check, per `ready`) and its
#   optional ones have settled; a required dependency that is not ready within the
#   dependency's timeout fails the start (DependencyError). Starting a service starts its
#   required dependencies too, enabled or not.
# - When a required dependency stops or fails, its dependents stop first
#   (rest_for_one); they remember why, and are started again once it is ready again,
#   whether an operator or an automatic restart brought it back.
# - A service whose process fails (exit status != 0, a kill, a fault) is restarted if
#   auto_restart is set, after a capped binary-exponential backoff from restart_delay
#   (0: at once), at most max_restarts
#   times within restart_period ms (the restart intensity); then svcmgr gives up and the
#   service stays Failed. A clean exit (status 0) is not restarted.
# - Stopping is graceful: a stop request, then a kill after stop_timeout.

import heapq

from mos_consts import (
    SERVICE_TYPE_GROUP, SERVICE_HEALTH_UNKNOWN, SERVICE_HEALTH_HEALTHY,
    SERVICE_HEALTH_UNHEALTHY, SERVICE_HEALTH_NAMES, SERVICE_EVENT_ALL, STATUS_KILLED,
    STATUS_FAULT, ServiceNotFound, ServiceAlreadyExists, ServiceNotStopped, ServiceNotRunning,
    DependencyError, InvalidConfiguration, ServiceFailed, ServiceTimeout,
    FaultToleranceError, CircularDependency, InvalidServiceHandle, ConfigurationError,
)
from errors import ServiceError, DefinitionError
import states
from states import STOPPED, STARTING, RUNNING, STOPPING, FAILED, DISABLED, PAUSED
import definition
import deps
import registry
from registry import Registry
from journal import Journal

# Restart timing (MINIX RS keeps the same in const.h).
BACKOFF_MAX_MS = definition.RESTART_DELAY_MAX  # restart_delay doubles per recent restart, up to this
CHECK_RETRY_MS = 500      # a start check that failed runs again after this

# What a service waits for (Service.want).
WANT_NOTHING = 0
WANT_START = 1      # Starting without a process: waiting for dependencies
WANT_RESTART = 2    # Stopping, to start again once stopped
WANT_BACKOFF = 3    # Starting without a process: waiting out a restart backoff

_GOAL_RUNNING = 1
_GOAL_DOWN = 2

_VECTORS = {0: "divide error", 3: "breakpoint", 6: "invalid opcode", 8: "double fault",
            13: "general protection fault", 14: "page fault"}


def describe_exit(status):
    """'exited with status 3', 'killed', 'fault: page fault (vector 14)'."""
    if status == STATUS_KILLED:
        return "killed"
    if status & ~0xff == STATUS_FAULT:
        v = status & 0xff
        return "fault: %s (vector %d)" % (_VECTORS.get(v, "CPU exception"), v)
    return "exited with status %d" % status


class Service:
    """One service instance: its definition, where it is in its lifecycle, and what the
    registry indexes (id, name, type, version, tags, metadata, endpoints, health, state).
    Fields that are usually at their default stay class attributes."""

    pid = 0
    health = SERVICE_HEALTH_UNKNOWN
    restarts = 0            # automatic restarts so far
    recent = ()             # times of automatic restarts within restart_period
    last_exit = 0           # wait status of the last process
    exit_text = ""
    since = 0               # ms of the last state change
    reason = ""             # why it is in its state, in words
    error = 0               # what keeps it from starting at all (CircularDependency)
    error_text = ""
    waiters = ()            # (goal, done) of pending operations
    want = WANT_NOTHING
    wait_since = 0
    stopped_by = None       # the service whose stop or failure stopped this one
    token = 0               # timers armed before the last change of token are stale
    check_pid = 0
    handles = None          # endpoint name -> IPC handle, as the service registered them
    lifeline = 0            # a handle the service shares to see the manager die
    stop_sent = False
    suspended = False
    stop_members = False    # a group stopping by request: down once its members are
    gave_up = False
    armed = 0               # the dependency-wait deadline already on the timer heap

    def __init__(self, ident, d):
        self.id = ident
        self.d = d
        self.enabled = d.enabled
        self.state = STOPPED if d.enabled else DISABLED

    @property
    def name(self):
        return self.d.name

    @property
    def type(self):
        return self.d.type

    @property
    def version(self):
        return self.d.version

    @property
    def tags(self):
        return self.d.tags

    @property
    def metadata(self):
        return self.d.metadata

    @property
    def endpoints(self):
        return self.d.endpoints

    def required(self):
        """(name, constraint, timeout) of what it needs running: its required dependencies
        and, for a group, its members."""
        d = self.d
        if d.members:
            return d.requires + tuple([(m, None, d.dep_timeout) for m in d.members])
        return d.requires


class Manager:
    def __init__(self, kernel, sink=None):
        self.kernel = kernel
        self.journal = Journal(kernel.now_ms, sink)
        self.registry = Registry()
        self.graph = deps.Graph()
        self.pids = {}          # pid -> Service (changed only through _add_pid, _drop_pid)
        self.pid_listener = None  # called with (pid, Service or None) when pids changes
        self.checks = {}        # pid of a start check -> Service
        self.timers = []        # heap of (when, seq, kind, service, token)
        self.timer_seq = 0
        self.next_id = 1
        self.order = []         # names in definition order
        self.load_errors = []   # DefinitionError and ServiceError of loading
        self.created = {}       # name -> (text, format) of services defined at run time
        self.created_order = []
        self.revision = 0       # counts changes persistent_state would show
        self.cycles = []        # required cycles found at load, as name lists
        self.held = {}          # name -> names of services its stop or failure stopped
        self.work = []          # see _later()
        self.working = False
        self.boot_pending = None
        self.boot_started = 0
        self.boot_done = None
        self.ready_line = None

    # Loading.

    def load_directory(self, path):
        """Loads every *.toml and *.json in a folder, in name order; see load_definitions."""
        items = []
        try:
            names = sorted(self.kernel.listdir(path))
        except OSError as e:
            self._load_error(ServiceError(ConfigurationError, "%s: cannot list: %s" % (path, e)))
            return self._load_report([])
        for n in names:
            if not (n.endswith(".toml") or n.endswith(".json")):
                continue
            full = path.rstrip("/") + "/" + n
            try:
                items.append((full, self.kernel.read_text(full)))
            except (OSError, UnicodeError) as e:
                self._load_error(DefinitionError(ConfigurationError, full, 1, "cannot read: %s" % e))
        return self.load_definitions(items)

    def load_definitions(self, items):
        """Defines services from (filename, text) pairs. A file that fails is reported
        (file:line: reason) and skipped; a required cycle is reported and its services
        cannot start; everything else is defined. Returns {"loaded": names, "errors":
        [...], "cycles": [...]}."""
        loaded = []
        for filename, text in items:
            try:
                d = definition.load(text, filename)
                if self.registry.lookup(d.name) is not None:
                    other = self.registry.lookup(d.name).d.filename
                    raise DefinitionError(ServiceAlreadyExists, filename, 1,
                                          "service %r is defined already, in %s" % (d.name, other))
            except ServiceError as e:
                self._load_error(e)
                continue
            self._define(d)
            loaded.append(d.name)
        self._check_graph()
        return self._load_report(loaded)

    def _load_report(self, loaded):
        return {"loaded": loaded, "errors": [_error_dict(e) for e in self.load_errors],
                "cycles": [deps.format_cycle(c) for c in self.cycles]}

    def _load_error(self, e):
        self.load_errors.append(e)
        self.journal.decide("reject", getattr(e, "filename", ""), e.message, {"error": e.name})

    def _define(self, d):
        svc = Service(self.next_id, d)
        self.next_id += 1
        svc.since = self.kernel.now_ms()
        req, opt = d.dependency_names()
        self.graph.add(d.name, req + list(d.members), opt)
        self.order.append(d.name)
        self.registry.add(svc)
        return svc

    def _check_graph(self):
        hard, soft = self.graph.check()
        self.cycles = hard
        for cycle in hard:
            text = "circular dependency: " + deps.format_cycle(cycle)
            for name in cycle[:-1]:
                svc = self.registry.lookup(name)
                if svc.error != CircularDependency:
                    svc.error = CircularDependency
                    svc.error_text = text
                    svc.reason = text
                    self.journal.decide("reject", name, text, {"error": "CircularDependency"})
        for cycle in soft:
            self.journal.decide("order", cycle[0], "optional dependencies close a cycle "
                                "and do not order the start: " + deps.format_cycle(cycle))

    def create_service(self, text, fmt=None, filename="<create_service>"):
        """Defines a service from a whole definition (TOML or JSON text); returns its id.
        It is not started."""
        d = definition.load(text, filename, fmt)
        if self.registry.lookup(d.name) is not None:
            raise ServiceError(ServiceAlreadyExists, "service %r is defined already" % d.name)
        req, opt = d.dependency_names()
        self.graph.add(d.name, req + list(d.members), opt)
        cycle = self.graph.cycle_through(d.name)
        if cycle is not None:
            self.graph.remove(d.name)
            raise deps.cycle_error(cycle)
        self.graph.remove(d.name)
        svc = self._define(d)
        self.graph.check()
        self.journal.decide("create", d.name, "defined at run time", {"id": svc.id})
        # Kept so that a restarted service manager can define it again (persistent_state).
        if type(text) is not str:
            text = bytes(text).decode()
        self.created[d.name] = (text, fmt)
        self.created_order.append(d.name)
        self.revision += 1
        return svc.id

    def remove_service(self, ref):
        svc = self.get(ref)
        if not states.is_down(svc.state):
            raise ServiceError(ServiceNotStopped, "%s is %s; stop it first" % (svc.name, states.name(svc.state)))
        self.registry.remove(svc)
        self.graph.remove(svc.name)
        self.order.remove(svc.name)
        self.journal.decide("remove", svc.name, "removed")
        if self.created.pop(svc.name, None) is not None:
            self.created_order.remove(svc.name)
        self.revision += 1

    # Lookup.

    def get(self, ref):
        """The Service for an id or a name; ServiceNotFound otherwise."""
        if type(ref) is int:
            svc = self.registry.get(ref)
        else:
            svc = self.registry.lookup(ref)
        if svc is None:
            raise ServiceError(ServiceNotFound, "no service %s" % (("with id %d" % ref) if type(ref) is int else repr(ref)))
        return svc

    def lookup(self, name):
        return self.get(name).id

    def discover(self, pattern):
        """Ids of the services matching a discovery pattern (see registry.py), by name."""
        return [e.id for e in self.registry.find(pattern)]

    def services(self, pattern=""):
        return self.registry.find(pattern)

    def persistent_state(self):
        """What must outlive this service manager besides the running processes: services
        defined at run time (in order) and enable/disable changes."""
        enabled = {}
        for name in self.order:
            svc = self.registry.lookup(name)
            if svc is not None and svc.enabled != svc.d.enabled:
                enabled[name] = svc.enabled
        return {"created": [[self.created[n][0], self.created[n][1]] for n in self.created_order],
                "enabled": enabled}

    def restore(self, state):
        """The other half of persistent_state, after load_directory and before adopt."""
        for text, fmt in state.get("created", ()):
            try:
                self.create_service(text, fmt)
            except ServiceError as e:
                self.journal.decide("create", "?", "could not define again after a restart: %s" % e)
        enabled = state.get("enabled", {})
        for name in enabled:
            if self.registry.lookup(name) is not None:
                if enabled[name]:
                    self.enable(name)
                else:
                    self.disable(name)

    def adopt(self, running):
        """After a restart of the service manager: running maps pid -> service name of the
        processes its predecessor started and the kernel handed back. They are Running
        again without a restart (MINIX RS keeps drivers across its own restart the same way)."""
        for pid in running:
            svc = self.registry.lookup(running[pid])
            if svc is None or svc.d.type == SERVICE_TYPE_GROUP:
                continue
            svc.pid = pid
            self._add_pid(pid, svc)
            self.journal.decide("adopt", svc.name, "re-adopted after a service manager restart", {"pid": pid})
            self.registry.set_health(svc, SERVICE_HEALTH_HEALTHY)
            self._set_state(svc, RUNNING, "running: re-adopted as pid %d" % pid)

    # Boot.

    def boot(self, done=None):
        """Starts every enabled service, in dependency order. done(line) is called once
        none of them is starting any more, with 'svcmgr: ready: N services running in T
        ms'."""
        self.boot_started = self.kernel.now_ms()
        self.boot_done = done
        names = []
        for n in self.order:
            svc = self.registry.lookup(n)
            if not svc.enabled:
                continue
            if svc.error:
                self.journal.decide("skip", n, svc.error_text, {"error": _error_name(svc.error)})
                continue
            names.append(n)
        waves = self.graph.waves(names)
        self.journal.decide("boot", "", "starting %d enabled services in %d waves" % (len(names), len(waves)),
                            {"waves": [len(w) for w in waves]})
        # Services re-adopted after a restart of the service manager are Running already.
        self.boot_pending = set([n for n in names if self.registry.lookup(n).state != RUNNING])
        for w in waves:
            for n in w:
                self._boot_start(n)
        for n in names:
            self._boot_start(n)
        self._boot_check()

    def _boot_start(self, n):
        svc = self.registry.lookup(n)
        if svc.state not in (STOPPED, DISABLED, FAILED) or svc.want != WANT_NOTHING:
            return
        self._want_start(svc, "enabled at boot")

    def _boot_check(self, svc=None):
        pending = self.boot_pending
        if pending is None:
            return
        if svc is not None:
            if svc.name in pending and (svc.state == RUNNING or (states.is_down(svc.state) and svc.want == WANT_NOTHING)):
                pending.discard(svc.name)
        if pending:
            return
        self.boot_pending = None
        running = len(self.registry.by_state.get(RUNNING, ()))
        ms = self.kernel.now_ms() - self.boot_started
        self.ready_line = "svcmgr: ready: %d services running in %d ms" % (running, ms)
        self.journal.decide("ready", "", self.ready_line, {"running": running, "ms": ms})
        if self.boot_done is not None:
            cb = self.boot_done
            self.boot_done = None
            cb(self.ready_line)

    # Operations.

    def start(self, ref, done=None):
        svc = self.get(ref)
        if svc.error:
            raise ServiceError(svc.error, svc.error_text)
        states.next_state(svc.state, states.START, svc.name)
        svc.recent = ()
        svc.gave_up = False
        self.journal.decide("start", svc.name, "requested")
        self._want_start(svc, "requested", done)

    def stop(self, ref, done=None):
        svc = self.get(ref)
        states.next_state(svc.state, states.STOP, svc.name)
        self.journal.decide("stop", svc.name, "requested")
        self._stop(svc, "stopped on request", done, svc.name)
        self._stop_members(svc)

    def _stop_members(self, group):
        # A group stopped or restarted by request takes its members down with it, and
        # is down itself once they are.
        if group.d.type != SERVICE_TYPE_GROUP:
            return
        group.stop_members = True
        for m in group.d.members:
            t = self.registry.lookup(m)
            if t is not None and states.is_live(t.state) and t.state != STOPPING:
                self.journal.decide("stop", m, "its group %s is stopping" % group.name)
                self._stop(t, "stopped with group %s" % group.name, None, m)
        self._proceed_stop(group)

    def restart(self, ref, done=None):
        svc = self.get(ref)
        if svc.error:
            raise ServiceError(svc.error, svc.error_text)
        states.next_state(svc.state, states.RESTART, svc.name)
        svc.recent = ()
        svc.gave_up = False
        self.journal.decide("restart", svc.name, "requested")
        if states.is_down(svc.state):
            self._want_start(svc, "restart requested", done)
            return
        self._add_waiter(svc, _GOAL_RUNNING, done)
        svc.want = WANT_RESTART
        self._stop(svc, "restarting on request", None, svc.name)
        self._stop_members(svc)

    def pause(self, ref):
        svc = self.get(ref)
        states.next_state(svc.state, states.PAUSE, svc.name)
        targets = self._processes(svc)
        for t in targets:
            if t.pid and not t.suspended:
                try:
                    self.kernel.suspend(t.pid)
                except OSError as e:
                    raise ServiceError(ServiceNotRunning, "cannot suspend %s: %s" % (t.name, e))
                t.suspended = True
            if t is not svc and t.state == RUNNING:
                self._set_state(t, PAUSED, "paused with group %s" % svc.name)
        self._set_state(svc, PAUSED, "paused on request")
        self.journal.decide("pause", svc.name, "requested")

    def resume(self, ref):
        svc = self.get(ref)
        states.next_state(svc.state, states.RESUME, svc.name)
        for t in self._processes(svc):
            if t.pid and t.suspended:
                self._kernel(self.kernel.resume, t)
                t.suspended = False
            if t is not svc and t.state == PAUSED:
                self._set_state(t, RUNNING, "resumed with group %s" % svc.name)
        self._set_state(svc, RUNNING, "resumed on request")
        self.journal.decide("resume", svc.name, "requested")

    def _processes(self, svc):
        if svc.d.type != SERVICE_TYPE_GROUP:
            return [svc]
        out = [svc]
        for m in svc.d.members:
            t = self.registry.lookup(m)
            if t is not None and t.state in (RUNNING, PAUSED):
                out.append(t)
        return out

    def enable(self, ref):
        svc = self.get(ref)
        if not svc.enabled:
            svc.enabled = True
            self.revision += 1
            self.journal.decide("enable", svc.name, "requested")
            if svc.state == DISABLED:
                self._set_state(svc, STOPPED, "enabled")

    def disable(self, ref):
        svc = self.get(ref)
        if svc.enabled:
            svc.enabled = False
            self.revision += 1
            self.journal.decide("disable", svc.name, "requested")
            if svc.state == STOPPED:
                self._set_state(svc, DISABLED, "disabled")

    def set_health(self, ref, health):
        svc = self.get(ref)
        if health not in SERVICE_HEALTH_NAMES:
            raise ServiceError(InvalidConfiguration, "no health %r" % (health,))
        self.registry.set_health(svc, health)

    # Subscriptions.

    def subscribe(self, pattern, events=SERVICE_EVENT_ALL, owner=0, wake=None, capacity=registry.QUEUE_DEFAULT):
        return self.registry.subscribe(pattern, events, capacity, owner, wake)

    def poll_events(self, handle, max_events=64):
        return self.registry.poll(handle, max_events)

    def unsubscribe(self, handle):
        self.registry.unsubscribe(handle)

    # Events from the kernel.

    def notify_ready(self, pid):
        svc = self.pids.get(pid)
        if svc is None:
            raise ServiceError(ServiceNotFound, "process %d is no service's" % pid)
        if svc.state == STARTING:
            self._ready(svc, "it notified readiness")

    def endpoint_registered(self, pid, name, handle, lifeline=0):
        """Service process pid published its endpoint name: handle is the service
        manager's copy (granted to it), which connect() grants on to clients. lifeline, if
        not 0, is a handle the service shares with the service manager only so that it
        sees the manager die (its end of the queue then fails with EPIPE); it is closed
        when the process ends, like the endpoint handles."""
        svc = self.pids.get(pid)
        if svc is None:
            raise ServiceError(ServiceNotFound, "process %d is no service's" % pid)
        owner = self.registry.by_endpoint.get(name)
        other = self.registry.get(owner) if owner is not None and owner != svc.id else None
        if other is not None and (states.is_live(other.state) or name in [e[0] for e in other.d.endpoints]):
            raise ServiceError(ServiceAlreadyExists, "endpoint %r belongs to %s" % (name, other.name))
        if svc.handles is None:
            svc.handles = {}
        old = svc.handles.get(name)
        if old is not None and old != handle:
            self._close(old)
        svc.handles[name] = handle
        if lifeline:
            if svc.lifeline and svc.lifeline != lifeline:
                self._close(svc.lifeline)
            svc.lifeline = lifeline
        self.registry.by_endpoint[name] = svc.id
        if svc.state == STARTING and svc.d.ready == "endpoint":
            for ep in svc.d.endpoints:
                if ep[0] not in svc.handles:
                    return
            self._ready(svc, "it registered its endpoints")

    def connect(self, name, pid):
        """Grants process pid the endpoint name (see endpoint_registered); returns the
        handle's number in pid."""
        ident = self.registry.endpoint(name)
        svc = self.registry.get(ident) if ident is not None else None
        if svc is None:
            raise ServiceError(ServiceNotFound, "no service has an endpoint %r" % name)
        handle = svc.handles.get(name) if svc.handles else None
        if handle is None or not states.is_live(svc.state):
            raise ServiceError(ServiceNotRunning, "%s (%s) has not published endpoint %r" % (
                svc.name, states.name(svc.state), name))
        try:
            return self.kernel.grant(handle, pid)
        except OSError as e:
            raise ServiceError(ServiceNotRunning, "cannot grant endpoint %r to %d: %s" % (name, pid, e))

    def _close(self, handle):
        try:
            self.kernel.close_handle(handle)
        except OSError:
            pass

    def process_output(self, pid, stream, data):
        svc = self.pids.get(pid) or self.checks.get(pid)
        if svc is not None:
            self.journal.write(svc.name, stream, data)

    def process_exited(self, pid, status):
        svc = self._drop_pid(pid)
        if svc is None:
            check = self.checks.pop(pid, None)
            if check is not None:
                self._check_done(check, pid, status)
            else:
                self.registry.unsubscribe_owner(pid)
            return
        svc.pid = 0
        svc.suspended = False
        self._drop_check(svc)
        svc.last_exit = status
        svc.exit_text = describe_exit(status)
        self.journal.flush(svc.name)
        if svc.handles:
            for name in svc.handles:
                self._close(svc.handles[name])
                if self.registry.by_endpoint.get(name) == svc.id and name not in [e[0] for e in svc.d.endpoints]:
                    del self.registry.by_endpoint[name]
            svc.handles = None
        if svc.lifeline:
            self._close(svc.lifeline)
            svc.lifeline = 0
        state = svc.state
        if state == STOPPING:
            self._stopped(svc, "stopped (%s)" % svc.exit_text)
            return
        if state not in (STARTING, RUNNING, PAUSED):
            return
        # It ended without being asked to.
        if status == 0 and state != STARTING:
            self.journal.decide("exit", svc.name, "exited with status 0; not restarted")
            self.registry.set_health(svc, SERVICE_HEALTH_UNKNOWN)
            self._set_state(svc, states.rest_state(svc.enabled), "exited with status 0")
            self._stop_dependents(svc, "%s exited" % svc.name, True)
            self._settle(svc)
            return
        self._failed(svc, svc.exit_text, ServiceFailed)

    def _add_pid(self, pid, svc):
        self.pids[pid] = svc
        if self.pid_listener is not None:
            self.pid_listener(pid, svc)

    def _drop_pid(self, pid):
        svc = self.pids.pop(pid, None)
        if svc is not None and self.pid_listener is not None:
            self.pid_listener(pid, None)
        return svc

    def tick(self):
        """Runs the timers that are due."""
        now = self.kernel.now_ms()
        timers = self.timers
        while timers and timers[0][0] <= now:
            when, seq, kind, svc, token = heapq.heappop(timers)
            if svc.token != token:
                continue
            if kind == "deps":
                svc.armed = 0
                self._try_start(svc)
            elif kind == "backoff":
                if svc.state == STARTING and svc.want == WANT_BACKOFF:
                    svc.want = WANT_START
                    svc.wait_since = now
                    self._try_start(svc)
            elif kind == "start-timeout":
                if svc.state == STARTING and svc.pid:
                    self._start_timeout(svc)
            elif kind == "kill":
                if svc.state == STOPPING and svc.pid:
                    self.journal.decide("kill", svc.name, "did not stop within %d ms" % svc.d.stop_timeout,
                                        {"pid": svc.pid})
                    self._kernel(self.kernel.kill, svc)
            elif kind == "check":
                if svc.state == STARTING and svc.pid:
                    self._run_check(svc)

    def next_deadline(self):
        """When tick() must run next (ms, kernel clock), or None."""
        while self.timers:
            when, seq, kind, svc, token = self.timers[0]
            if svc.token == token:
                return when
            heapq.heappop(self.timers)
        return None

    # Starting.

    def _add_waiter(self, svc, goal, done):
        if done is None:
            return
        if not svc.waiters:
            svc.waiters = []
        svc.waiters.append((goal, done))

    def _want_start(self, svc, why, done=None):
        """Starts svc and, first, whatever it requires that is down."""
        if svc.state == RUNNING:
            if done is not None:
                done(None)
            return
        self._add_waiter(svc, _GOAL_RUNNING, done)
        if not states.is_down(svc.state):
            return  # starting, stopping to restart, or paused: the waiter is answered later
        order = self._down_closure(svc)
        now = self.kernel.now_ms()
        for t in order:
            t.want = WANT_START
            t.wait_since = now
            # Only what differs from the class default becomes an instance attribute.
            if t.armed:
                t.armed = 0
            if t.stopped_by is not None:
                t.stopped_by = None
            self._set_state(t, STARTING, "starting: " + why if t is svc else "starting: required by " + svc.name)
        for t in order:
            if t.state == STARTING and t.want == WANT_START and not t.pid:
                self._try_start(t)

    def _down_closure(self, svc):
        """svc and what it requires, transitively, that is down and can start, each after
        its requirements. Live services are not entered: their own requirements were seen
        to when they started. Iterative: a dependency chain can be long."""
        seen = {svc.name}
        out = []
        stack = [(svc, iter(svc.required()))]
        while stack:
            t, it = stack[-1]
            for dep in it:
                u = self.registry.lookup(dep[0])
                if u is None or dep[0] in seen:
                    continue
                seen.add(dep[0])
                if states.is_down(u.state) and not u.error:
                    stack.append((u, iter(u.required())))
                    break
            else:
                stack.pop()
                out.append(t)
        return out

    def _try_start(self, svc):
        """Spawns svc if its dependencies allow, fails it if they never will, else waits."""
        if svc.state != STARTING or svc.want != WANT_START or svc.pid:
            return
        now = self.kernel.now_ms()
        waited = now - svc.wait_since
        waiting = []
        deadline = 0
        for name, constraint, timeout in svc.required():
            dep = self.registry.lookup(name)
            problem = None
            if dep is None:
                problem = "requires %s, which is not defined" % name
            elif dep.error:
                problem = "requires %s: %s" % (name, dep.error_text)
            elif constraint is not None and not constraint.matches(dep.version):
                problem = "requires %s %s, but it is version %s" % (name, constraint, dep.version)
            elif dep.state == RUNNING:
                continue
            elif states.is_down(dep.state) and dep.want == WANT_NOTHING:
                problem = "requires %s, which is %s" % (name, states.name(dep.state))
                if dep.reason:
                    problem += " (%s)" % dep.reason
            elif waited >= timeout:
                problem = "required %s was not ready within %d ms" % (name, timeout)
            if problem is not None:
                self._dep_failed(svc, problem)
                return
            waiting.append(name)
            if deadline == 0 or svc.wait_since + timeout < deadline:
                deadline = svc.wait_since + timeout
        for name, constraint, timeout in svc.d.wants:
            dep = self.registry.lookup(name)
            if dep is None or dep.error or not self.graph.orders(svc.name, name):
                continue
            if constraint is not None and not constraint.matches(dep.version):
                continue
            if dep.state == RUNNING or waited >= timeout:
                continue
            if (dep.state == STARTING and dep.want != WANT_BACKOFF) or (dep.state == STOPPING and dep.want == WANT_RESTART):
                waiting.append(name + "?")
                if deadline == 0 or svc.wait_since + timeout < deadline:
                    deadline = svc.wait_since + timeout
        if waiting:
            svc.reason = "waiting for " + ", ".join(waiting)
            if deadline and deadline != svc.armed:
                svc.armed = deadline
                self._arm(deadline, "deps", svc)
            return
        self._spawn(svc)

    def _dep_failed(self, svc, problem):
        self.journal.decide("skip", svc.name, problem, {"error": "DependencyError"})
        svc.want = WANT_NOTHING
        self._set_state(svc, FAILED, problem)
        self._settle(svc, ServiceError(DependencyError, "%s %s" % (svc.name, problem)))
        self._kick_dependents(svc)

    def _spawn(self, svc):
        svc.want = WANT_NOTHING
        svc.token += 1
        if svc.stop_sent:
            svc.stop_sent = False
        d = svc.d
        if d.type == SERVICE_TYPE_GROUP:
            self._ready(svc, "all members are running")
            return
        path, argv = d.argv()
        env = {}
        if d.env:
            for k in d.env:
                env[k] = d.env[k]
        env["SERVICE_NAME"] = d.name
        env["SERVICE_ID"] = str(svc.id)
        why = None
        try:
            pid = self.kernel.spawn(path, argv, env)
        except Exception as e:
            pid = 0
            why = "cannot run %s: %s" % (path, e)
        if type(pid) is not int or pid <= 0:
            if why is None:
                why = "cannot run %s: the kernel returned %r" % (path, pid)
            self.journal.decide("spawn", svc.name, why, {"error": "ServiceFailed"})
            self._failed(svc, why, ServiceFailed)
            return
        svc.pid = pid
        self._add_pid(pid, svc)
        svc.reason = "started as pid %d, waiting for it to be ready (%s)" % (pid, d.ready)
        self.journal.decide("spawn", svc.name, "its dependencies are ready", {"pid": pid, "argv": argv})
        self._arm(self.kernel.now_ms() + d.start_timeout, "start-timeout", svc)
        if d.ready == "check":
            self._run_check(svc)

    def _run_check(self, svc):
        argv = list(svc.d.start_check)
        try:
            pid = self.kernel.spawn(argv[0], argv, {"SERVICE_NAME": svc.name, "SERVICE_PID": str(svc.pid)})
        except Exception:
            pid = 0
        if type(pid) is not int or pid <= 0:
            self._arm(self.kernel.now_ms() + CHECK_RETRY_MS, "check", svc)
            return
        svc.check_pid = pid
        self.checks[pid] = svc

    def _check_done(self, svc, pid, status):
        if svc.check_pid == pid:
            svc.check_pid = 0
        if svc.state != STARTING or not svc.pid:
            return
        if status == 0:
            self._ready(svc, "its start check passed")
        else:
            self._arm(self.kernel.now_ms() + CHECK_RETRY_MS, "check", svc)

    def _drop_check(self, svc):
        if svc.check_pid:
            self.checks.pop(svc.check_pid, None)
            self._kernel(self.kernel.kill, svc, svc.check_pid)
            svc.check_pid = 0

    def _start_timeout(self, svc):
        why = "not ready within %d ms" % svc.d.start_timeout
        self.journal.decide("kill", svc.name, why, {"pid": svc.pid})
        pid = svc.pid
        self._drop_pid(pid)
        svc.pid = 0
        self._drop_check(svc)
        self._kernel(self.kernel.kill, svc, pid)
        self._failed(svc, why, ServiceTimeout)

    def _ready(self, svc, why):
        self.journal.decide("ready", svc.name, why)
        self.registry.set_health(svc, SERVICE_HEALTH_HEALTHY)
        self._set_state(svc, RUNNING, "running: " + why)
        self._settle(svc)
        self._kick_dependents(svc)
        # What stopped because of it comes back now (after the dependency is ready).
        back = []
        for n in self.held.pop(svc.name, ()):
            t = self.registry.lookup(n)
            if t is not None and t.stopped_by == svc.name and states.is_down(t.state) and t.want == WANT_NOTHING:
                back.append(t)
        for t in back:
            if t.stopped_by == svc.name and states.is_down(t.state):
                self.journal.decide("start", t.name, "%s is ready again" % svc.name)
                self._want_start(t, "%s is ready again" % svc.name)

    def _kick_dependents(self, svc):
        # Those waiting for svc look again (from the work list: no deep recursion).
        for n in self.graph.required_by(svc.name):
            t = self.registry.lookup(n)
            if t is not None and t.state == STARTING and t.want == WANT_START:
                self._later(self._try_start, t)
        for n in self.graph.wanted_by(svc.name):
            t = self.registry.lookup(n)
            if t is not None and t.state == STARTING and t.want == WANT_START:
                self._later(self._try_start, t)

    def _later(self, fn, svc):
        """Runs fn(svc) after the current step: cascades through long dependency chains
        become a loop over this list instead of a recursion as deep as the chain."""
        self.work.append((fn, svc))
        if self.working:
            return
        self.working = True
        try:
            i = 0
            while i < len(self.work):
                fn, t = self.work[i]
                i += 1
                fn(t)
        finally:
            self.work = []
            self.working = False

    # Failing and restarting.

    def _failed(self, svc, why, code):
        """svc's process failed (or could not start): Failed, then maybe restarted."""
        svc.want = WANT_NOTHING
        self.registry.set_health(svc, SERVICE_HEALTH_UNHEALTHY)
        self._set_state(svc, FAILED, "failed: " + why)
        # What needed it stops (those only waiting for it keep waiting: it may come back).
        if self.graph.required_by(svc.name):
            self._stop_dependents(svc, "%s failed (%s)" % (svc.name, why), True)
        d = svc.d
        if not d.auto_restart:
            self.journal.decide("fail", svc.name, why + "; auto_restart is off")
            self._settle(svc, ServiceError(code, "%s failed: %s" % (svc.name, why)))
            self._kick_dependents(svc)
            return
        now = self.kernel.now_ms()
        recent = [t for t in svc.recent if now - t < d.restart_period]
        if len(recent) >= d.max_restarts:
            svc.gave_up = True
            svc.recent = tuple(recent)
            why2 = "%s; gave up after %d restarts within %d ms" % (why, len(recent), d.restart_period)
            svc.reason = "failed: " + why2
            self.journal.decide("give-up", svc.name, why2, {"error": "FaultToleranceError"})
            self._settle(svc, ServiceError(FaultToleranceError, "%s failed: %s" % (svc.name, why2)))
            self._kick_dependents(svc)
            return
        delay = d.restart_delay << len(recent)
        if delay > BACKOFF_MAX_MS:
            delay = BACKOFF_MAX_MS
        recent.append(now)
        svc.recent = tuple(recent)
        svc.restarts += 1
        why2 = "restart %d of %d in %d ms after: %s" % (len(recent), d.max_restarts, delay, why)
        self.journal.decide("restart", svc.name, why2, {"delay_ms": delay, "restarts": svc.restarts})
        self._set_state(svc, STARTING, why2)
        svc.want = WANT_BACKOFF
        self._arm(now + delay, "backoff", svc)

    # Stopping.

    def _stop(self, svc, why, done=None, cause=None):
        """Stops svc after its live required dependents; they remember cause and come
        back when it is ready again."""
        self._add_waiter(svc, _GOAL_DOWN, done)
        if cause is not None:
            self._stop_dependents(svc, "%s is stopping" % svc.name, False, cause)
        self._stop_one(svc, why)
        # Dependents-first: those stopped above may already be down.
        self._proceed_stop(svc)

    def _stop_dependents(self, svc, why, crashed, cause=None):
        """Stops what requires svc (transitively). After a crash, dependents that are
        only waiting to start keep waiting: svc may come back."""
        if not self.graph.required_by(svc.name):
            return  # nothing requires it (most services): no walk of the graph
        if cause is None:
            cause = svc.name
        for n in self.graph.dependents(svc.name):
            t = self.registry.lookup(n)
            if t.state == STOPPING or states.is_down(t.state):
                continue
            if crashed and t.state == STARTING and not t.pid:
                continue
            t.stopped_by = cause
            held = self.held.get(cause)
            if held is None:
                held = self.held[cause] = []
            held.append(n)
            self.journal.decide("stop", n, "its dependency stopped: " + why)
            self._stop_one(t, "stopped: " + why)
        for n in self.graph.dependents(svc.name):
            t = self.registry.lookup(n)
            if t.state == STOPPING:
                self._proceed_stop(t)

    def _stop_one(self, svc, why):
        if svc.want != WANT_RESTART:
            svc.want = WANT_NOTHING
        if svc.state == STOPPING:
            return
        self._set_state(svc, STOPPING, why)
        if svc.stop_sent:
            svc.stop_sent = False

    def _proceed_stop(self, svc):
        """Asks svc's process to stop once no live dependent needs it."""
        if svc.state != STOPPING or svc.stop_sent:
            return
        for n in self.graph.required_by(svc.name):
            t = self.registry.lookup(n)
            if t is None or (t.d.type == SERVICE_TYPE_GROUP and t.state == STOPPING):
                continue  # a group has no process: its members need not wait for it
            if t.state == STOPPING or t.state == RUNNING or t.state == PAUSED or (t.state == STARTING and t.pid):
                return
        if svc.stop_members:
            for m in svc.d.members:
                t = self.registry.lookup(m)
                if t is not None and states.is_live(t.state):
                    return
        svc.stop_sent = True
        self._drop_check(svc)
        if not svc.pid:
            self._stopped(svc, svc.reason or "stopped")
            return
        if svc.suspended:
            self._kernel(self.kernel.resume, svc)
            svc.suspended = False
        if not self._kernel(self.kernel.request_stop, svc):
            self._kernel(self.kernel.kill, svc)
        self._arm(self.kernel.now_ms() + svc.d.stop_timeout, "kill", svc)

    def _kernel(self, call, svc, pid=0):
        """A kernel call on a service's process; False (and a journal line) if the
        kernel refused it, e.g. because the process has just ended."""
        try:
            call(pid or svc.pid)
            return True
        except OSError as e:
            self.journal.decide("kernel", svc.name, "%s(%d) failed: %s" % (getattr(call, "__name__", "call"), pid or svc.pid, e))
            return False

    def _stopped(self, svc, why):
        restart = svc.want == WANT_RESTART
        svc.want = WANT_NOTHING
        svc.stop_members = False
        self.registry.set_health(svc, SERVICE_HEALTH_UNKNOWN)
        self._set_state(svc, states.rest_state(svc.enabled), why)
        self.journal.decide("stopped", svc.name, why)
        if restart:
            self._want_start(svc, "restart")
        else:
            self._settle(svc)
            cause = self.registry.lookup(svc.stopped_by) if svc.stopped_by else None
            if cause is not None and cause is not svc and cause.state == RUNNING:
                # What stopped it came back while it was stopping.
                self.journal.decide("start", svc.name, "%s is ready again" % cause.name)
                self._want_start(svc, "%s is ready again" % cause.name)
        # What it needed may be waiting for it to go; so may its group.
        for name, c, t in svc.required():
            dep = self.registry.lookup(name)
            if dep is not None and dep.state == STOPPING:
                self._later(self._proceed_stop, dep)
        for n in self.graph.required_by(svc.name):
            t = self.registry.lookup(n)
            if t is not None and t.state == STOPPING and t.stop_members:
                self._later(self._proceed_stop, t)
        self._kick_dependents(svc)

    # State and timers.

    def _set_state(self, svc, state, why):
        svc.token += 1
        svc.reason = why
        svc.since = self.kernel.now_ms()
        self.registry.set_state(svc, state)

    def _settle(self, svc, err=None):
        """Completes the operations waiting on svc, now that it is Running or down."""
        if self.boot_pending is not None:
            self._boot_check(svc)
        if not svc.waiters:
            return
        up = svc.state == RUNNING
        keep = []
        done = []
        for goal, cb in svc.waiters:
            if goal == _GOAL_RUNNING:
                if up:
                    done.append((cb, None))
                else:
                    done.append((cb, err or ServiceError(ServiceFailed, "%s is %s: %s" % (svc.name, states.name(svc.state), svc.reason))))
            elif not up:
                done.append((cb, None))
            else:
                keep.append((goal, cb))
        svc.waiters = keep if keep else ()
        for cb, e in done:
            cb(e)

    def _arm(self, when, kind, svc):
        self.timer_seq += 1
        heapq.heappush(self.timers, (when, self.timer_seq, kind, svc, svc.token))

    # Reports.

    def status(self, ref):
        """A service's state as data; the keys of struct service_status come first."""
        svc = self.get(ref)
        d = svc.d
        out = {
            "id": svc.id, "state": svc.state, "type": d.type, "health": svc.health,
            "pid": svc.pid, "restarts": svc.restarts, "last_exit": svc.last_exit,
            "since_ns": svc.since * 1000000, "enabled": 1 if svc.enabled else 0,
            "name": d.name, "version": d.version,
        }
        out["state_name"] = states.name(svc.state)
        out["type_name"] = registry.type_name(d.type)
        out["health_name"] = registry.health_name(svc.health)
        out["display_name"] = d.title()
        out["description"] = d.description
        out["reason"] = svc.reason
        out["exit"] = svc.exit_text
        out["since_ms"] = svc.since
        out["error"] = _error_name(svc.error) if svc.error else ""
        out["program"] = d.program or ""
        out["tags"] = list(d.tags)
        out["metadata"] = dict(d.metadata) if d.metadata else {}
        out["endpoints"] = [e[0] for e in d.endpoints]
        out["handles"] = dict(svc.handles) if svc.handles else {}
        out["requires"] = [_dep_text(x) for x in d.requires]
        out["wants"] = [_dep_text(x) for x in d.wants]
        out["members"] = list(d.members)
        out["required_by"] = list(self.graph.required_by(d.name))
        out["auto_restart"] = d.auto_restart
        out["max_restarts"] = d.max_restarts
        out["file"] = d.filename
        return out

    def summary(self, svc):
        d = svc.d
        return {"id": svc.id, "name": d.name, "state": states.name(svc.state),
                "type": registry.type_name(d.type), "version": d.version, "pid": svc.pid,
                "health": registry.health_name(svc.health), "enabled": svc.enabled,
                "tags": list(d.tags)}

    def deps_tree(self, ref, reverse=False, depth_max=32):
        """What a service needs (or, reverse, what needs it), as nested data:
        {"name", "state", "kind", "constraint", "ok", "deps": [...]}; a name already on
        the path is marked "cycle" and not expanded."""
        root = self.get(ref)
        top = {"name": root.name, "state": states.name(root.state), "kind": "", "constraint": "",
               "ok": True, "deps": []}
        stack = [(top, root.name, (root.name,), 0)]
        while stack:
            node, name, path, depth = stack.pop()
            if depth >= depth_max:
                continue
            if reverse:
                edges = [(n, "required", None) for n in self.graph.required_by(name)]
                edges += [(n, "optional", None) for n in self.graph.wanted_by(name)]
            else:
                svc = self.registry.lookup(name)
                edges = []
                if svc is not None:
                    edges = [(x[0], "required", x[1]) for x in svc.d.requires]
                    edges += [(m, "member", None) for m in svc.d.members]
                    edges += [(x[0], "optional", x[1]) for x in svc.d.wants]
            for n, kind, constraint in edges:
                t = self.registry.lookup(n)
                child = {"name": n, "kind": kind, "constraint": str(constraint) if constraint else "",
                         "state": states.name(t.state) if t is not None else "undefined",
                         "ok": t is not None and (constraint is None or constraint.matches(t.version)),
                         "deps": []}
                if t is not None:
                    child["version"] = t.version
                node["deps"].append(child)
                if n in path:
                    child["cycle"] = True
                    continue
                if t is not None:
                    stack.append((child, n, path + (n,), depth + 1))
        return top

    def logs(self, ref, n=None):
        svc = self.get(ref)
        return self.journal.lines(svc.name, n)


def _dep_text(dep):
    return dep[0] + (str(dep[1]) if dep[1] is not None else "")


def _error_name(code):
    return ServiceError(code).name


def _error_dict(e):
    d = e.to_dict()
    return d
