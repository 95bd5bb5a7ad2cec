# Requests to the manager as data: what the svc command sends (through the
# service_query call as JSON, or in-process), and what the glue can map the service calls
# onto. A request is a dict with "op"; the reply is a dict, or {"error": name, "code": n,
# "message": sentence} when it failed.
#
#   list      [type] [tag] [state] [pattern]   -> {"services": [summary, ...]}
#   status    name                             -> {"service": {...}}
#   state     name                             -> {"name", "id", "state", "enabled"}
#   start stop restart  name                   -> {"name", "state"} once done
#   enable disable pause resume  name          -> {"name", "state", "enabled"}
#   deps      name [reverse]                   -> {"tree": {...}}
#   discover  pattern                          -> {"ids": [...], "names": [...]}
#   lookup    name                             -> {"id"}
#   logs      name [n]                         -> {"lines": [[ms, stream, text], ...]}
#   decisions [n]                              -> {"lines": [json text, ...]}
#   create    text [format]                    -> {"id"}
#   remove    name                             -> {}
#   subscribe [pattern] [events] [capacity]    -> {"handle"}
#   events    handle [max]                     -> {"events": [...]}
#   unsubscribe handle                         -> {}
#   health    name value                       -> {"name", "health"}
#   hello                                      -> {"pid": the manager's, "caller", "service"}
#   publish   endpoint handle [lifeline]       -> {"endpoint", "id"}: the calling service's
#             endpoint, handle being the manager's copy (the service granted it first)
#   connect   endpoint                         -> {"handle": the caller's copy, "id", "name"}
#   cli       argv                             -> {"code", "text"}: what `svc ARGV` prints
# "name" may also be given as "id" (a number).

import json

from mos_consts import InvalidConfiguration, SERVICE_EVENT_ALL, SERVICE_EVENT_NAMES
from errors import ServiceError
import registry
import states

_EVENTS = {}
_EVENT_WORDS = []
for _bit in sorted(SERVICE_EVENT_NAMES):
    _EVENTS[SERVICE_EVENT_NAMES[_bit][14:].lower()] = _bit
    _EVENT_WORDS.append(SERVICE_EVENT_NAMES[_bit][14:].lower())


def event_mask(text):
    """'state,created' -> the SERVICE_EVENT_* bits; 'all' or '' -> all."""
    if type(text) is int:
        return text
    mask = 0
    for w in text.replace(",", " ").split():
        bit = _EVENTS.get(w.lower())
        if bit is None:
            raise ServiceError(InvalidConfiguration, "no event %r (%s)" % (w, ", ".join(_EVENT_WORDS)))
        mask |= bit
    return mask or SERVICE_EVENT_ALL


def _ref(req):
    if "id" in req:
        ident = req["id"]
        if type(ident) is not int:
            raise ServiceError(InvalidConfiguration, "id must be a number")
        return ident
    name = req.get("name")
    if type(name) is not str or not name:
        raise ServiceError(InvalidConfiguration, "the request needs a service name")
    return name


def _state_reply(m, ref):
    svc = m.get(ref)
    return {"name": svc.name, "id": svc.id, "state": states.name(svc.state), "enabled": svc.enabled}


def handle(m, req, reply, caller=0):
    """Carries out request req on manager m and calls reply(dict) once, maybe later
    (start, stop and restart answer when they are done). caller is the pid of the
    requesting process (0: none), for the ops that need it (publish, connect)."""
    try:
        if type(req) is not dict or type(req.get("op")) is not str:
            raise ServiceError(InvalidConfiguration, "a request is an object with an \"op\"")
        op = req["op"]
        fn = _SYNC.get(op)
        if fn is not None:
            reply(fn(m, req))
            return
        fn = _CALLER.get(op)
        if fn is not None:
            reply(fn(m, req, caller))
            return
        if op in _ASYNC:
            _ASYNC[op](m, req, reply)
            return
        if op in ("start", "stop", "restart"):
            ref = _ref(req)

            def done(err):
                if err is None:
                    reply(_state_reply(m, ref))
                else:
                    reply(err.to_dict())

            getattr(m, op)(ref, done)
            return
        raise ServiceError(InvalidConfiguration, "unknown op %r" % op)
    except ServiceError as e:
        reply(e.to_dict())


def handle_json(m, text, reply, caller=0):
    """handle() for a request and reply as JSON text."""
    try:
        req = json.loads(text)
    except ValueError:
        reply(json.dumps(ServiceError(InvalidConfiguration, "the request is not JSON").to_dict()))
        return

    def send(d):
        reply(json.dumps(d))

    handle(m, req, send, caller)


def _list(m, req):
    terms = []
    if req.get("pattern"):
        terms.append(req["pattern"])
    for key in ("type", "tag", "state"):
        v = req.get(key)
        if v:
            terms.append("%s:%s" % (key, v))
    return {"services": [m.summary(e) for e in m.services(" ".join(terms))]}


def _status(m, req):
    st = m.status(_ref(req))
    return {"service": st}


def _state(m, req):
    return _state_reply(m, _ref(req))


def _sync_op(name):
    def op(m, req):
        ref = _ref(req)
        getattr(m, name)(ref)
        return _state_reply(m, ref)
    return op


def _deps(m, req):
    return {"tree": m.deps_tree(_ref(req), bool(req.get("reverse")))}


def _discover(m, req):
    pattern = req.get("pattern", "")
    if type(pattern) is not str:
        raise ServiceError(InvalidConfiguration, "pattern must be a string")
    found = m.services(pattern)
    return {"ids": [e.id for e in found], "names": [e.name for e in found]}


def _lookup(m, req):
    return {"id": m.lookup(_ref(req))}


def _logs(m, req):
    n = req.get("n")
    return {"lines": [list(x) for x in m.logs(_ref(req), n)]}


def _decisions(m, req):
    return {"lines": m.journal.recent_decisions(req.get("n"))}


def _create(m, req):
    text = req.get("text")
    if type(text) is not str:
        raise ServiceError(InvalidConfiguration, "create needs the definition as text")
    fmt = req.get("format", "toml")
    return {"id": m.create_service(text, fmt, req.get("filename", "<create_service>"))}


def _remove(m, req):
    m.remove_service(_ref(req))
    return {}


def _subscribe(m, req):
    h = m.subscribe(req.get("pattern", ""), event_mask(req.get("events", "")),
                    req.get("owner", 0), None, req.get("capacity", registry.QUEUE_DEFAULT))
    return {"handle": h}


def _events(m, req):
    evs = m.poll_events(req.get("handle", 0), req.get("max", 64))
    return {"events": [registry.event_dict(e) for e in evs]}


def _unsubscribe(m, req):
    m.unsubscribe(req.get("handle", 0))
    return {}


def _health(m, req):
    value = req.get("value")
    h = registry.HEALTHS.get(value) if type(value) is str else value
    if h is None:
        raise ServiceError(InvalidConfiguration, "health is one of %s" % ", ".join(registry.HEALTH_WORDS))
    ref = _ref(req)
    m.set_health(ref, h)
    return {"name": m.get(ref).name, "health": registry.health_name(h)}


class _Later(Exception):
    """A request of the svc command is answered later (start, stop, restart)."""


def _cli(m, req, reply):
    # The svc command run here, by cli.run, for /bin/svc. cli.run asks its client and
    # waits for each answer, which the manager cannot do in its own loop: a request
    # that is answered later ends this run with _Later, and once its answer comes, the
    # command runs again from the start with that answer remembered. Requests before it
    # are all answered at once (reads), so running them again changes nothing.
    import cli
    argv = req.get("argv")
    if type(argv) is not list or [a for a in argv if type(a) is not str]:
        raise ServiceError(InvalidConfiguration, "cli needs \"argv\": a list of strings")
    answers = {}

    class Client:
        def call(self, r):
            key = json.dumps(r)
            if key in answers:
                return cli._raise_error(answers[key])
            box = []

            def got(d):
                if box:  # run() already ended with _Later: this is the late answer
                    answers[key] = d
                    attempt()
                else:
                    box.append(d)
            handle(m, r, got)
            if box:
                return cli._raise_error(box[0])
            box.append(None)
            raise _Later()

    def attempt():
        try:
            code, text = cli.run(argv, Client())
        except _Later:
            return
        except Exception as e:  # a bug must not end the service manager
            code, text = 1, "svc: internal error in the service manager: %r" % (e,)
        reply({"code": code, "text": text})

    attempt()


def _hello(m, req, caller):
    svc = m.pids.get(caller)
    return {"pid": m.kernel.getpid(), "caller": caller, "service": svc.name if svc else ""}


def _endpoint_name(req):
    name = req.get("endpoint")
    if type(name) is not str or not name:
        raise ServiceError(InvalidConfiguration, "the request needs an \"endpoint\" name")
    return name


def _publish(m, req, caller):
    name = _endpoint_name(req)
    h, life = req.get("handle"), req.get("lifeline", 0)
    if type(h) is not int or h < 0 or type(life) is not int or life < 0:
        raise ServiceError(InvalidConfiguration, "handle and lifeline are handle numbers")
    try:
        m.endpoint_registered(caller, name, h, life)
    except ServiceError:
        for x in (h, life):  # the copies the caller granted for nothing
            if x:
                m._close(x)
        raise
    return {"endpoint": name, "id": m.pids[caller].id}


def _connect(m, req, caller):
    name = _endpoint_name(req)
    h = m.connect(name, caller)
    svc = m.get(m.registry.endpoint(name))
    return {"handle": h, "id": svc.id, "name": svc.name}


_CALLER = {"hello": _hello, "publish": _publish, "connect": _connect}

_ASYNC = {"cli": _cli}

_SYNC = {
    "list": _list, "status": _status, "state": _state, "enable": _sync_op("enable"),
    "disable": _sync_op("disable"), "pause": _sync_op("pause"), "resume": _sync_op("resume"),
    "deps": _deps, "discover": _discover, "lookup": _lookup, "logs": _logs,
    "decisions": _decisions, "create": _create, "remove": _remove,
    "subscribe": _subscribe, "events": _events, "unsubscribe": _unsubscribe,
    "health": _health,
}
