# The svc command: systemctl-like control of services.
#
#   svc list [--type T] [--tag T] [--state S] [--json]
#   svc status NAME [--json]
#   svc is-active NAME [-q|--quiet] [--json]
#   svc start|stop|restart|enable|disable|pause|resume NAME [--json]
#   svc deps NAME [--reverse] [--json]
#   svc discover PATTERN [--json]
#   svc logs NAME [-n N] [--json]
#   svc watch [PATTERN] [--events state,created,removed,health] [-n N] [--json]
#
# run(argv, client) returns (exit status, text): 0 done, 1 the service manager refused
# (the error's name and a sentence are printed), 2 bad usage. The client is anything with
# call(request) -> reply (see control.py) that raises ServiceError for an error reply:
# LocalClient below in the service manager itself, or one that sends the request over the
# service_query call from a separate process.

import json

from mos_consts import InvalidConfiguration
from errors import ServiceError
import control
import definition

USAGE = """usage: svc COMMAND [ARGS] [--json]
  list [--type T] [--tag T] [--state S]   services, one a line
  status NAME                             everything about one service
  is-active NAME [-q]                     its state in a word; exit status 0 if running, else 3
  start|stop|restart NAME                 and wait until it is done (quiet when it is)
  enable|disable NAME                     whether it starts at boot
  pause|resume NAME                       suspend or resume its process
  deps NAME [--reverse]                   what it needs (or what needs it), as a tree
  discover PATTERN                        ids and names: web*, tag:T, type:T, re:R, ...
  logs NAME [-n N]                        its output and svcmgr's decisions about it
  watch [PATTERN] [--events E] [-n N]     state changes as they happen"""

COMMANDS = ("list", "status", "is-active", "start", "stop", "restart", "enable", "disable",
            "pause", "resume", "deps", "discover", "logs", "watch", "help")
_NEEDS_NAME = ("status", "is-active", "start", "stop", "restart", "enable", "disable", "pause",
               "resume", "deps", "logs")
_VALUE_OPTIONS = ("--type", "--tag", "--state", "-n", "--events", "--timeout")
_FLAGS = ("--json", "--reverse", "-q", "--quiet", "-h", "--help")
INACTIVE = 3  # is-active's exit status for a service that is not running (systemctl's)


class UsageError(Exception):
    pass


class LocalClient:
    """A client in the service manager's own process. pump(predicate, timeout_ms) runs
    the manager's event loop until predicate() is true or the time is up (the glue's main
    loop, or a fake kernel's); without it, only requests answered at once work."""

    def __init__(self, manager, pump=None):
        self.manager = manager
        self.pump = pump

    def call(self, req):
        box = []
        control.handle(self.manager, req, box.append)
        if not box and self.pump is not None:
            self.pump(lambda: len(box) > 0, None)
        if not box:
            raise ServiceError(InvalidConfiguration, "no answer to %s" % req.get("op"))
        return _raise_error(box[0])

    def wait(self, handle, timeout_ms):
        """Waits until subscription handle has events (watch uses this)."""
        if self.pump is not None:
            self.pump(lambda: self.manager.registry.pending(handle) > 0, timeout_ms)


def _raise_error(reply):
    if "error" in reply:
        e = ServiceError(reply.get("code", InvalidConfiguration), reply.get("message"))
        raise e
    return reply


def _parse(argv):
    opts = {}
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in _FLAGS:
            opts[a] = True
        elif a in _VALUE_OPTIONS:
            if i + 1 >= len(argv):
                raise UsageError("%s needs a value" % a)
            opts[a] = argv[i + 1]
            i += 1
        elif a.startswith("--") and "=" in a and a[:a.find("=")] in _VALUE_OPTIONS:
            opts[a[:a.find("=")]] = a[a.find("=") + 1:]
        elif a.startswith("-") and a != "-":
            hint = definition.suggest(a, _VALUE_OPTIONS + _FLAGS)
            raise UsageError("unknown option %s%s" % (a, "; did you mean %s?" % hint if hint else ""))
        else:
            args.append(a)
        i += 1
    return opts, args


def _int_option(opts, key, default):
    v = opts.get(key)
    if v is None:
        return default
    try:
        n = int(v)
    except ValueError:
        raise UsageError("%s takes a number, not %r" % (key, v))
    if n < 0:
        raise UsageError("%s takes a number >= 0" % key)
    return n


def run(argv, client, out=None):
    """Runs one svc command: argv without the program name. Returns (status, text). With
    out, watch writes each event line to out(line) as it comes instead of collecting."""
    as_json = "--json" in argv
    try:
        opts, args = _parse(argv)
        if not args or args[0] in ("help",) or "-h" in opts or "--help" in opts:
            if not args and not opts:
                raise UsageError("no command")
            return 0, USAGE
        cmd = args[0]
        if cmd not in COMMANDS:
            hint = definition.suggest(cmd, COMMANDS)
            raise UsageError("unknown command %r%s" % (cmd, "; did you mean %r?" % hint if hint else ""))
        if cmd in _NEEDS_NAME:
            if len(args) != 2:
                raise UsageError("%s takes one service name" % cmd)
        elif cmd == "discover":
            if len(args) < 2:
                raise UsageError("discover takes a pattern")
        elif cmd == "watch":
            if len(args) > 2:
                raise UsageError("watch takes at most one pattern")
        elif len(args) != 1:
            raise UsageError("%s takes no arguments" % cmd)
        text = _COMMANDS[cmd](client, args, opts, as_json, out)
        if type(text) is tuple:
            return text  # (status, text): is-active
        return 0, text
    except UsageError as e:
        if as_json:
            return 2, json.dumps({"error": "usage", "message": str(e)})
        return 2, "svc: %s\n%s" % (e, USAGE)
    except ServiceError as e:
        if as_json:
            return 1, json.dumps(e.to_dict())
        return 1, "%s: %s" % (e.name, e.message)


def _pad(text, width):
    return text + " " * (width - len(text))


def _table(headers, rows):
    widths = [len(h) for h in headers]
    for r in rows:
        for i in range(len(r)):
            if len(r[i]) > widths[i]:
                widths[i] = len(r[i])
    lines = []
    for r in [headers] + rows:
        cells = [_pad(r[i], widths[i]) for i in range(len(r) - 1)] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _list(client, args, opts, as_json, out):
    req = {"op": "list"}
    for k in ("type", "tag", "state"):
        if ("--" + k) in opts:
            req[k] = opts["--" + k]
    services = client.call(req)["services"]
    if as_json:
        return json.dumps(services)
    rows = []
    counts = {}
    for s in services:
        rows.append([s["name"], s["state"], s["type"], s["version"], str(s["pid"]) if s["pid"] else "-",
                     s["health"], "yes" if s["enabled"] else "no"])
        counts[s["state"]] = counts.get(s["state"], 0) + 1
    summary = "%d service%s" % (len(services), "" if len(services) == 1 else "s")
    if counts:
        summary += ": " + ", ".join(["%d %s" % (counts[k], k) for k in sorted(counts)])
    if not rows:
        return summary
    return _table(["NAME", "STATE", "TYPE", "VERSION", "PID", "HEALTH", "ENABLED"], rows) + "\n" + summary


def _ms(t):
    return "%d.%03d s" % (t // 1000, t % 1000)


def _status(client, args, opts, as_json, out):
    s = client.call({"op": "status", "name": args[1]})["service"]
    if as_json:
        return json.dumps(s)
    title = s["name"]
    if s["display_name"] != s["name"]:
        title += " (%s)" % s["display_name"]
    if s["description"]:
        title += " - " + s["description"]
    lines = [title]

    def row(label, value):
        lines.append("  %s %s" % (_pad(label + ":", 12), value))

    row("state", "%s since %s: %s" % (s["state_name"], _ms(s["since_ms"]), s["reason"]))
    row("type", "%s, version %s, %s" % (s["type_name"], s["version"], "enabled" if s["enabled"] else "disabled"))
    if s["program"]:
        row("program", s["program"])
    row("pid", str(s["pid"]) if s["pid"] else "-")
    row("health", s["health_name"])
    row("restarts", "%d (auto_restart %s, at most %d)" % (s["restarts"], "on" if s["auto_restart"] else "off",
                                                         s["max_restarts"]))
    if s["exit"]:
        row("last exit", s["exit"])
    if s["error"]:
        row("error", s["error"])
    for key, label in (("requires", "requires"), ("wants", "wants"), ("members", "members"),
                       ("required_by", "required by"), ("tags", "tags"), ("endpoints", "endpoints")):
        if s[key]:
            row(label, ", ".join(s[key]))
    if s["metadata"]:
        row("metadata", ", ".join(["%s=%s" % (k, s["metadata"][k]) for k in s["metadata"]]))
    if s["file"]:
        row("file", s["file"])
    return "\n".join(lines)


def _is_active(client, args, opts, as_json, out):
    # systemctl is-active: the state in one word (ours: running, starting, stopping,
    # stopped, disabled, failed, paused) and exit status 0 only when running, else 3.
    # -q prints nothing. The "state" request is the cheapest: no status block to build.
    r = client.call({"op": "state", "name": args[1]})
    code = 0 if r["state"] == "running" else INACTIVE
    if "-q" in opts or "--quiet" in opts:
        return code, ""
    if as_json:
        return code, json.dumps(r)
    return code, r["state"]


def _operation(client, args, opts, as_json, out):
    r = client.call({"op": args[0], "name": args[1]})
    if as_json:
        return json.dumps(r)
    if args[0] in _QUIET:
        return ""
    return "%s: %s%s" % (r["name"], r["state"], "" if r["enabled"] else " (disabled)")


# Done is all that start, stop and restart have to say, as systemctl: they print nothing
# then (a failure prints its error; svc is-active or status show the state). Under TCG
# every console byte costs ~30 us: "bench-idle: running (disabled)" was 1 ms of a 6 ms start.
_QUIET = ("start", "stop", "restart")


def _dep_label(k):
    notes = [k["state"]]
    if k["kind"] != "required":
        notes.insert(0, k["kind"])
    if not k["ok"]:
        notes.append("version %s does not match" % k["version"] if "version" in k else "not defined")
    if k.get("cycle"):
        notes.append("cycle")
    return "%s%s (%s)" % (k["name"], k["constraint"], ", ".join(notes))


def _deps(client, args, opts, as_json, out):
    tree = client.call({"op": "deps", "name": args[1], "reverse": "--reverse" in opts})["tree"]
    if as_json:
        return json.dumps(tree)
    lines = ["%s (%s)" % (tree["name"], tree["state"])]
    # Pre-order without recursion: (node, prefix, last child of its parent).
    stack = []
    kids = tree["deps"]
    for i in range(len(kids) - 1, -1, -1):
        stack.append((kids[i], "", i == len(kids) - 1))
    while stack:
        node, prefix, last = stack.pop()
        lines.append(prefix + ("`-- " if last else "|-- ") + _dep_label(node))
        inner = prefix + ("    " if last else "|   ")
        kids = node["deps"]
        for i in range(len(kids) - 1, -1, -1):
            stack.append((kids[i], inner, i == len(kids) - 1))
    return "\n".join(lines)


def _discover(client, args, opts, as_json, out):
    r = client.call({"op": "discover", "pattern": " ".join(args[1:])})
    if as_json:
        return json.dumps(r)
    lines = ["%5d  %s" % (r["ids"][i], r["names"][i]) for i in range(len(r["ids"]))]
    lines.append("%d match%s" % (len(r["ids"]), "" if len(r["ids"]) == 1 else "es"))
    return "\n".join(lines)


def _logs(client, args, opts, as_json, out):
    n = _int_option(opts, "-n", None)
    req = {"op": "logs", "name": args[1]}
    if n is not None:
        req["n"] = n
    lines = client.call(req)["lines"]
    if as_json:
        return json.dumps(lines)
    return "\n".join(["[%10s] %s: %s" % (_ms(t)[:-2], stream, text) for t, stream, text in lines])


def _event_line(e):
    if e["event"] == "missed":
        return "-- missed %d events --" % e["count"]
    return "%6d  %-7s  %s: %s (%s)" % (e["seq"], e["event"], e["name"], e["state"], e["health"])


def _watch(client, args, opts, as_json, out):
    limit = _int_option(opts, "-n", 0)
    timeout = _int_option(opts, "--timeout", None)
    pattern = args[1] if len(args) > 1 else ""
    h = client.call({"op": "subscribe", "pattern": pattern, "events": opts.get("--events", "")})["handle"]
    collected = []
    seen = 0
    try:
        while limit == 0 or seen < limit:
            evs = client.call({"op": "events", "handle": h, "max": 64})["events"]
            if not evs:
                waiter = getattr(client, "wait", None)
                if waiter is None:
                    break
                waiter(h, timeout)
                evs = client.call({"op": "events", "handle": h, "max": 64})["events"]
                if not evs:
                    break  # timed out
            for e in evs:
                if limit and seen >= limit:
                    break
                seen += 1
                line = json.dumps(e) if as_json else _event_line(e)
                if out is not None:
                    out(line)
                else:
                    collected.append(line)
    finally:
        try:
            client.call({"op": "unsubscribe", "handle": h})
        except ServiceError:
            pass
    return "\n".join(collected)


_COMMANDS = {
    "list": _list, "status": _status, "is-active": _is_active, "start": _operation,
    "stop": _operation, "restart": _operation, "enable": _operation, "disable": _operation,
    "pause": _operation, "resume": _operation, "deps": _deps, "discover": _discover,
    "logs": _logs, "watch": _watch,
}
