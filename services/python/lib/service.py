"""The service API for Python guest programs (frozen into /bin/python as `service`).

The service calls of <multios/service.h>, with Python shapes; names or ids wherever a
service is meant:

    create(text, fmt="toml")    -> id      a whole definition (TOML or JSON text)
    start stop restart enable disable pause resume (name_or_id)
    discover("web*")            -> [id, ...]   (patterns: glob, tag:, type:, re:, meta:, ...)
    lookup(name)                -> id      cached for CACHE_TTL_MS (see invalidate)
    status(name_or_id)          -> dict    SERVICE_STATUS_FIELDS, plus state_name, type_name,
                                           health_name ("running", "system", "healthy")
    notify_ready()                         the calling service is ready (sd_notify)
    query({"op": ...})          -> dict    the manager's JSON requests (list, logs, deps, ...)
    subscribe(pattern, events)  -> Subscription; .recv(timeout_ms) -> event dict or None

Every failure raises ServiceError, with .code (1..17) and .name ("ServiceNotFound"); a
definition that create() refuses carries the manager's "file:line: reason" as .message.

Endpoints (how a client finds a service's IPC endpoint): the service grants the service
manager a copy of its endpoint and publishes it under a name (publish, or listen; serve
answers the requests); a client asks the manager for the name (connect, or Client), and the
manager grants its copy to the client. The manager's copies die with it: each service
shares a "lifeline" queue with the manager, whose end fails with EPIPE once the manager is
gone, and then publishes again to its successor (keep_published, which serve calls). A
client's handle does not depend on the manager: it keeps working across its restarts.
On top, a small request protocol: one JSON object per message each way (tag REQUEST_JSON,
at most MSG_DATA_MAX bytes), {"op": ...} in, a dict out ({"error": text} when refused).
"""
import json
import struct

import mos
import mos_consts as C
import uctypes

CACHE_TTL_MS = 2000     # how long lookup() trusts a name -> id it has seen
QUERY_ROOM = 16384      # first reply buffer for query(); a longer answer is asked for again
REQUEST_JSON = 1        # message tag of the JSON request protocol

_cache = {}             # name -> (id, expiry in ms)
_published = {}         # endpoint name -> handle, to publish again after a manager restart
_lifeline = -1
STOP_TAG = 1  # a message on the lifeline from the manager: please end
_republish = False
_msg = bytearray(C.MSG_SIZE)


class ServiceError(Exception):
    """A service call failed: .code (enum service_error), .name and .message."""

    def __init__(self, code, message=None, detail=None):
        if not message:
            message = C.SERVICE_ERROR_TEXT.get(code, "")
        super().__init__(code, message)
        self.code = code
        self.name = C.SERVICE_ERROR_NAMES.get(code, "ServiceError%d" % code)
        self.message = message
        self.detail = detail or {}   # the manager's JSON error (file, line, reason), if any

    def __str__(self):
        return "%s: %s" % (self.name, self.message)


def _call(fn, *args):
    # The mos module raises OSError(n) for a result -n; a service call's n is a ServiceError.
    try:
        return fn(*args)
    except OSError as e:
        raise ServiceError(e.errno)


def _now_ms():
    return mos.clock_ns() // 1000000


# Names and the lookup cache.

def lookup(name):
    """The id of the service called name (cached for CACHE_TTL_MS)."""
    hit = _cache.get(name)
    if hit is not None and hit[1] > _now_ms():
        return hit[0]
    ident = _call(mos.lookup_service, name)
    _cache[name] = (ident, _now_ms() + CACHE_TTL_MS)
    return ident


def invalidate(name=None):
    """Forgets a cached name (every name when None)."""
    if name is None:
        _cache.clear()
    else:
        _cache.pop(name, None)


def _on(fn, ref):
    # fn(id) for a name or id; a cached id that turned stale (the service was removed and
    # defined again) is looked up once more.
    if type(ref) is int:
        return _call(fn, ref)
    cached = ref in _cache
    try:
        return _call(fn, lookup(ref))
    except ServiceError as e:
        if e.code != C.ServiceNotFound or not cached:
            raise
    invalidate(ref)
    return _call(fn, lookup(ref))


# The service calls.

def create(text, fmt="toml"):
    """Defines a service from a whole definition; returns its id (it is not started)."""
    data = text.encode() if isinstance(text, str) else bytes(text)
    form = C.SERVICE_FORMAT_JSON if fmt == "json" else C.SERVICE_FORMAT_TOML
    values = {"definition": uctypes.addressof(data), "definition_len": len(data), "format": form, "flags": 0}
    params = bytearray(C.SERVICE_CREATE_PARAMS_SIZE)
    for name, offset, f in C.SERVICE_CREATE_PARAMS_FIELDS:
        struct.pack_into(f, params, offset, values[name])
    try:
        return mos.create_service(params)
    except OSError as e:
        code = e.errno
    if code in (C.ConfigurationError, C.InvalidConfiguration, C.CircularDependency, C.DependencyError,
                C.ServiceAlreadyExists):
        # The call has only the code; the manager's JSON request says where and why
        # (it refuses the same text again, so nothing is defined by asking).
        return query({"op": "create", "text": data.decode(), "format": fmt})["id"]
    raise ServiceError(code)


def start(ref):
    """Starts a service (and what it requires) and waits until it is ready."""
    _on(mos.start_service, ref)


def stop(ref):
    _on(mos.stop_service, ref)
    if type(ref) is str:
        invalidate(ref)


def restart(ref):
    _on(mos.restart_service, ref)


def enable(ref):
    _on(mos.enable_service, ref)


def disable(ref):
    _on(mos.disable_service, ref)


def pause(ref):
    _on(mos.pause_service, ref)


def resume(ref):
    _on(mos.resume_service, ref)


def discover(pattern, room=64):
    """Ids of the services matching pattern, in name order."""
    while True:
        buf = bytearray(4 * room)
        n = _call(mos.discover_services, pattern, buf, room)
        if n <= room:
            return list(struct.unpack_from("<%dI" % n, buf)) if n else []
        room = n


def _word(table, value, cut):
    return table[value][cut:].lower().replace("_", "-") if value in table else str(value)


def status(ref):
    """A service's status: the fields of struct service_status, with names."""
    buf = _on(lambda ident: mos.service_status(ident)[1], ref)
    d = {}
    for name, offset, f in C.SERVICE_STATUS_FIELDS:
        if name == "reserved":
            continue
        v = struct.unpack_from(f, buf, offset)[0]
        if isinstance(v, bytes):
            v = v.split(b"\0", 1)[0].decode()
        d[name] = v
    d["state_name"] = _word(C.SERVICE_STATE_NAMES, d["state"], 8)
    d["type_name"] = _word(C.SERVICE_TYPE_NAMES, d["type"], 13)
    d["health_name"] = _word(C.SERVICE_HEALTH_NAMES, d["health"], 15)
    return d


def notify_ready():
    """Tells the service manager the calling service is ready."""
    _call(mos.notify_ready)


def query(req):
    """Sends the service manager a JSON request; returns its answer (a dict)."""
    text = json.dumps(req)
    room = QUERY_ROOM
    while True:
        buf = bytearray(room)
        n = _call(mos.service_query, text, buf, room)
        if n <= room:
            break
        room = n  # cut short: ask again (the requests with long answers only read)
    answer = json.loads(bytes(buf[:n]).decode())
    if type(answer) is dict and "error" in answer and "code" in answer:
        raise ServiceError(answer["code"], answer.get("message"), answer)
    return answer


# Subscriptions.

_EVENT_WORDS = {}
for _bit in C.SERVICE_EVENT_NAMES:
    _EVENT_WORDS[_bit] = C.SERVICE_EVENT_NAMES[_bit][14:].lower()


class Subscription:
    """Events of the services matching pattern, from a queue the manager fills. recv gives
    {"event": "state"|"created"|"removed"|"health", "id", "name", "state", "health",
    "seq"}, or {"event": "missed", "count": n} where n events were dropped (count -1: the
    manager restarted, and this subscription was made again)."""

    def __init__(self, pattern="*", events=C.SERVICE_EVENT_ALL):
        self.pattern = pattern
        self.events = events
        self.handle = _call(mos.subscribe_services, pattern, events)
        self.msg = bytearray(C.MSG_SIZE)

    def recv(self, timeout_ms=None):
        """The next event, or None when none came within timeout_ms (None: wait)."""
        if self.handle < 0:
            return self._again()
        try:
            mos.queue_recv(self.handle, self.msg, -1 if timeout_ms is None else timeout_ms * 1000000)
        except OSError as e:
            if e.errno in (C.EAGAIN, C.ETIMEDOUT):
                return None
            if e.errno != C.EPIPE:
                raise
            # The manager that filled the queue is gone: subscribe to its successor.
            mos.handle_close(self.handle)
            self.handle = -1
            return self._again()
        tag, n = struct.unpack_from("<II", self.msg, 0)
        w = struct.unpack_from("<4Q", self.msg, 16)
        if tag == 0:
            return {"event": "missed", "count": w[0]}
        name = bytes(self.msg[48:48 + n]).decode()
        if tag & (C.SERVICE_EVENT_CREATED | C.SERVICE_EVENT_REMOVED):
            invalidate(name)
        return {"event": _EVENT_WORDS.get(tag, str(tag)), "id": w[0], "name": name,
                "state": _word(C.SERVICE_STATE_NAMES, w[1], 8), "seq": w[2],
                "health": _word(C.SERVICE_HEALTH_NAMES, w[3], 15)}

    def _again(self):
        self.handle = _call(mos.subscribe_services, self.pattern, self.events)
        invalidate()
        return {"event": "missed", "count": -1}

    def close(self):
        if self.handle >= 0:
            mos.handle_close(self.handle)
            self.handle = -1


def subscribe(pattern="*", events=C.SERVICE_EVENT_ALL):
    return Subscription(pattern, events)


# Endpoints.

def manager_pid():
    return query({"op": "hello"})["pid"]


def publish(name, ep):
    """Publishes endpoint handle ep (the caller serves it) as name."""
    _published[name] = ep
    _publish(name, ep)


def _publish(name, ep):
    global _lifeline
    pid = manager_pid()
    if _lifeline < 0:
        _lifeline = mos.queue_create(1)
    try:
        mine = mos.handle_grant(ep, pid)
        life = mos.handle_grant(_lifeline, pid)
    except OSError:
        raise ServiceError(C.ServiceTimeout, "the service manager went away")
    query({"op": "publish", "endpoint": name, "handle": mine, "lifeline": life})


def keep_published():
    """Publishes the endpoints again once the manager that held them has died (its
    successor has lost them). Cheap (one queue poll); True when it published."""
    global _lifeline, _republish
    if _lifeline >= 0 and not _republish:
        try:
            mos.queue_recv(_lifeline, _msg, 0)
            if struct.unpack_from("<I", _msg, 0)[0] == STOP_TAG:
                # The manager asks us to stop (svc stop): end cleanly, status 0.
                raise SystemExit(0)
        except OSError as e:
            if e.errno != C.EPIPE:
                return False
        _republish = True
    if not _republish:
        return False
    if _lifeline >= 0:
        mos.handle_close(_lifeline)
        _lifeline = -1
    try:
        for name in _published:
            _publish(name, _published[name])
    except ServiceError:
        return False  # no manager yet: the next call tries again
    _republish = False
    return True


def _pack(tag, obj):
    data = json.dumps(obj).encode()
    if len(data) > C.MSG_DATA_MAX:
        raise ValueError("message longer than %d bytes" % C.MSG_DATA_MAX)
    m = bytearray(C.MSG_SIZE)
    struct.pack_into("<II", m, 0, tag, len(data))
    m[48:48 + len(data)] = data
    return m


def _unpack(m):
    n = struct.unpack_from("<I", m, 4)[0]
    return json.loads(bytes(m[48:48 + n]).decode()) if n else {}


def listen(name):
    """A new endpoint, published as name; serve() answers it."""
    ep = mos.endpoint_create()
    publish(name, ep)
    return ep


def serve(ep, handler, poll_ms=250, on_idle=None):
    """Answers the requests on endpoint ep for ever: handler(request dict, sender pid)
    returns the reply dict (an exception becomes {"error": text}). Every poll_ms without
    requests it calls on_idle(); it keeps the endpoints published (keep_published)."""
    msg = bytearray(C.MSG_SIZE)
    while True:
        if keep_published():
            print("%s: endpoints published again (the service manager restarted)" % ", ".join(_published))
        try:
            token = mos.ipc_recv_timeout(ep, msg, poll_ms * 1000000)
        except OSError as e:
            if e.errno in (C.ETIMEDOUT, C.EINTR):
                if on_idle is not None:
                    on_idle()
                continue
            raise
        sender = struct.unpack_from("<q", msg, 8)[0]
        try:
            req = _unpack(msg)
            out = handler(req, sender) if type(req) is dict else {"error": "a request is an object"}
        except Exception as e:  # a bad request must not end the service
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        try:
            mos.ipc_reply(token, _pack(0, out))
        except ValueError:
            mos.ipc_reply(token, _pack(0, {"error": "reply too long"}))
        except OSError:
            pass  # the caller is gone


def connect(endpoint, wait_ms=0):
    """A handle to a published endpoint, granted by the manager; waits up to wait_ms
    while it is not published yet (or the manager is restarting)."""
    deadline = _now_ms() + wait_ms
    while True:
        try:
            return query({"op": "connect", "endpoint": endpoint})["handle"]
        except ServiceError as e:
            if e.code not in (C.ServiceNotRunning, C.ServiceTimeout) or _now_ms() >= deadline:
                raise
        mos.sleep_ns(20000000)


class Client:
    """Requests to a published endpoint: call(op, **args) -> reply dict. When the
    service has restarted (EPIPE) it connects again, waiting up to wait_ms, and resends."""

    def __init__(self, endpoint, wait_ms=0):
        self.endpoint = endpoint
        self.wait_ms = wait_ms
        self.handle = connect(endpoint, wait_ms)
        self.reply = bytearray(C.MSG_SIZE)

    def call(self, op, **args):
        args["op"] = op
        m = _pack(REQUEST_JSON, args)
        try:
            mos.ipc_call(self.handle, m, self.reply)
        except OSError as e:
            if e.errno != C.EPIPE:
                raise
            mos.handle_close(self.handle)
            self.handle = connect(self.endpoint, self.wait_ms)
            mos.ipc_call(self.handle, m, self.reply)
        return _unpack(self.reply)

    def close(self):
        mos.handle_close(self.handle)
