# Service definitions: TOML (the seed's format) or the same structure in JSON, checked
# field by field. Every error names the file, the line and the reason:
#   web.toml:7: service.max_restarts: must be an integer from 0 to 1000, not -1
#
# [service]
#   name = "web-server"            required; 1-63 of a-z A-Z 0-9 - _ . (starting alnum)
#   display_name, description      text
#   type = "UserService"           SystemService UserService ServiceGroup MonitoringService
#                                  LoadBalancerService DiscoveryService, or system user group
#                                  monitoring load-balancer discovery
#   exec = "/bin/web"              the program (absolute path); a .py file runs under
#                                  /bin/python. Required, except for groups.
#   args = ["-v"]   env = { K = "v" }
#   version = "2.1.0"   tags = ["http"]   metadata = { region = "eu" }
#   endpoints = ["web.http"] or [{ name = "web.http", protocol = "http", port = 8080 }]
#   enabled = true                 starts at boot
#   auto_restart = false           restart after a crash (not after a clean exit 0)
#   max_restarts = 5               automatic restarts allowed within restart_period ms;
#   restart_period = 60000         one more and svcmgr gives up (Erlang/OTP's intensity)
#   restart_delay = 100            ms before the first automatic restart, doubling with each
#                                  restart within restart_period (systemd's RestartSec); 0:
#                                  restart at once, every time
#   health_check_interval = 30000  ms, 0 = none
#   ready = "notify"               when it is Running: "notify" (it calls notify_ready),
#                                  "endpoint" (it registered all its endpoints) or "check"
#   start_check = ["/bin/check"]   with ready = "check": a program that exits 0 once the
#                                  service is up; run again every CHECK_RETRY_MS until then
#   start_timeout = 30000          ms until a start that is not ready fails
#   stop_timeout = 5000            ms between the stop request and the kill
#   members = ["a", "b"]           a group's services (groups only)
# [service.dependencies]
#   required = ["database>=2.0,<3", "cache"]   or tables { name, version, timeout }
#   optional = ["logging"]
#   timeout = 30000                ms to wait for each dependency (per-entry timeout wins)
# [service.network]   bind_address, bind_port, protocol, ssl_enabled, max_connections
# [service.resources] cpu_limit (cores), memory_limit ("512MB": K/M/G, KB/MB/GB and
#                     KiB/MiB/GiB all count in 1024s, as systemd does; or bytes),
#                     file_descriptor_limit
#
# Definition objects keep only the fields that differ from the class defaults, so that
# thousands of definitions stay small.

import json

import tomlparse
import versions
from mos_consts import (
    SERVICE_TYPE_NAMES, SERVICE_TYPE_USER, SERVICE_TYPE_GROUP, SERVICE_FORMAT_TOML,
    SERVICE_FORMAT_JSON, PATH_MAX, ConfigurationError, InvalidConfiguration,
)
from errors import DefinitionError

NAME_MAX = 63        # struct service_status.name holds 64 bytes with the NUL
VERSION_MAX = 31     # struct service_status.version holds 32
TEXT_MAX = 1024
LIST_MAX = 64
TAG_MAX = 64
MS_MAX = 86400000    # a day

READY_MODES = ("notify", "endpoint", "check")
PROTOCOLS = ("tcp", "udp", "http", "https", "ipc")

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_NAME_CHARS = _ALNUM + "-_."
_ENDPOINT_CHARS = _ALNUM + "-_./"
_ENV_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_ENV_CHARS = _ENV_FIRST + "0123456789"
_SPACE = " \t\r\n"
_TAG_BAD = _SPACE + ":,="
_META_KEY_BAD = _SPACE + "="
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40,
          "tb": 1 << 40, "tib": 1 << 40}


def _type_words():
    # From the generated enum: "UserService" and "user" for each type, and (the seed's)
    # "ServiceGroup"; in the enum's order, for messages.
    words = []
    for v in sorted(SERVICE_TYPE_NAMES):
        short = SERVICE_TYPE_NAMES[v][13:].lower().replace("_", "-")
        camel = "".join([w[0].upper() + w[1:] for w in short.split("-")])
        words.append((camel + "Service", v))
        if v == SERVICE_TYPE_GROUP:
            words.append(("ServiceGroup", v))
        words.append((short, v))
    return words


TYPE_WORDS = [w for w, v in _type_words()]
TYPES = {}
for _w, _v in _type_words():
    TYPES[_w] = _v

SERVICE_KEYS = ("name", "display_name", "description", "type", "enabled", "exec", "args",
                "env", "version", "tags", "metadata", "endpoints", "auto_restart",
                "max_restarts", "restart_period", "restart_delay", "health_check_interval", "ready",
                "start_check", "start_timeout", "stop_timeout", "members", "dependencies",
                "network", "resources")
DEPENDENCY_KEYS = ("required", "optional", "timeout")
DEPENDENCY_ENTRY_KEYS = ("name", "version", "timeout")
ENDPOINT_KEYS = ("name", "protocol", "port", "address")
NETWORK_KEYS = ("bind_address", "bind_port", "protocol", "ssl_enabled", "max_connections")
RESOURCE_KEYS = ("cpu_limit", "memory_limit", "file_descriptor_limit")


RESTART_DELAY_MAX = 30000  # ms: restart_delay, and the doubled backoff, stop here

class Definition:
    name = ""
    display_name = ""       # empty: the name
    description = ""
    type = SERVICE_TYPE_USER
    enabled = True
    program = None          # [service] exec
    args = ()
    env = None              # dict
    version = "0.0.0"
    tags = ()
    metadata = None         # dict of str -> str, int, float or bool
    endpoints = ()          # tuples (name, protocol, port, address)
    auto_restart = False
    max_restarts = 5
    restart_period = 60000
    restart_delay = 100
    health_check_interval = 0
    ready = "notify"
    start_check = None      # tuple: argv of the check program
    start_timeout = 30000
    stop_timeout = 5000
    members = ()
    requires = ()           # tuples (name, Constraint or None, timeout ms)
    wants = ()
    dep_timeout = 30000
    network = None          # dict
    resources = None        # dict
    filename = ""

    def title(self):
        return self.display_name or self.name

    def argv(self):
        """(path, argv) to spawn: a .py program runs under /bin/python."""
        if self.program is None:
            return None, None
        if self.program.endswith(".py"):
            return "/bin/python", ["/bin/python", self.program] + list(self.args)
        return self.program, [self.program] + list(self.args)

    def dependency_names(self):
        return [d[0] for d in self.requires], [d[0] for d in self.wants]

    def to_dict(self):
        """The definition as TOML/JSON-shaped data (what load() would accept)."""
        s = {"name": self.name}
        if self.display_name:
            s["display_name"] = self.display_name
        if self.description:
            s["description"] = self.description
        s["type"] = _type_key(self.type)
        s["enabled"] = self.enabled
        if self.program is not None:
            s["exec"] = self.program
        if self.args:
            s["args"] = list(self.args)
        if self.env:
            s["env"] = dict(self.env)
        s["version"] = self.version
        if self.tags:
            s["tags"] = list(self.tags)
        if self.metadata:
            s["metadata"] = dict(self.metadata)
        if self.endpoints:
            eps = []
            for name, proto, port, addr in self.endpoints:
                e = {"name": name, "protocol": proto}
                if port:
                    e["port"] = port
                if addr:
                    e["address"] = addr
                eps.append(e)
            s["endpoints"] = eps
        for k in ("auto_restart", "max_restarts", "restart_period", "restart_delay", "health_check_interval",
                  "ready", "start_timeout", "stop_timeout"):
            s[k] = getattr(self, k)
        if self.start_check:
            s["start_check"] = list(self.start_check)
        if self.members:
            s["members"] = list(self.members)
        deps = {}
        if self.requires:
            deps["required"] = [_dep_dict(d) for d in self.requires]
        if self.wants:
            deps["optional"] = [_dep_dict(d) for d in self.wants]
        if deps:
            deps["timeout"] = self.dep_timeout
            s["dependencies"] = deps
        if self.network:
            s["network"] = dict(self.network)
        if self.resources:
            s["resources"] = dict(self.resources)
        return {"service": s}


def _type_key(t):
    return SERVICE_TYPE_NAMES[t][13:].lower().replace("_", "-")


def _dep_dict(d):
    e = {"name": d[0], "timeout": d[2]}
    if d[1] is not None:
        e["version"] = str(d[1])
    return e


def format_of(filename):
    """SERVICE_FORMAT_JSON for *.json, else SERVICE_FORMAT_TOML."""
    return SERVICE_FORMAT_JSON if filename.endswith(".json") else SERVICE_FORMAT_TOML


def load(text, filename="<definition>", fmt=None):
    """A Definition from TOML or JSON text; DefinitionError (ConfigurationError when the
    text does not parse, InvalidConfiguration when a field is wrong) otherwise."""
    if fmt is None:
        fmt = format_of(filename)
    if type(text) is not str:
        try:
            text = str(text, "utf-8")
        except Exception:
            raise DefinitionError(ConfigurationError, filename, 1, "the text is not UTF-8")
    if fmt == SERVICE_FORMAT_JSON or fmt == "json":
        doc, lines = _load_json(text, filename)
    elif fmt == SERVICE_FORMAT_TOML or fmt == "toml":
        try:
            doc, lines = tomlparse.loads_with_lines(text, filename)
        except tomlparse.TomlError as e:
            raise DefinitionError(ConfigurationError, filename, e.line, e.reason)
    else:
        raise DefinitionError(InvalidConfiguration, filename, 1, "unknown definition format %r" % (fmt,))
    return _Checker(filename, lines).definition(doc)


# JSON, with the line of each key path (as tomlparse gives for TOML).

def _load_json(text, filename):
    try:
        doc = json.loads(text)
    except ValueError as e:
        line = getattr(e, "lineno", None) or 1
        reason = getattr(e, "msg", None) or str(e) or "not valid JSON"
        raise DefinitionError(ConfigurationError, filename, line, "JSON: " + reason)
    return doc, _json_lines(text, filename)


def _json_lines(text, filename):
    # A scan of text already known to be valid JSON: {path tuple: line}, and duplicate
    # keys (which json.loads silently merges) are rejected.
    lines = {(): 1}
    frames = []  # [is_object, path, key or index, expecting a key, keys seen]
    line = 1
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c in " \t\r:":
            i += 1
            continue
        top = frames[-1] if frames else None
        if c == ",":
            if top[0]:
                top[3] = True
            else:
                top[2] += 1
            i += 1
            continue
        if c == "}" or c == "]":
            frames.pop()
            i += 1
            continue
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if top is not None and top[0] and top[3]:
                key = json.loads(text[i:j + 1])
                if key in top[4]:
                    raise DefinitionError(ConfigurationError, filename, line, "duplicate key %r" % key)
                top[4].add(key)
                top[2] = key
                top[3] = False
                lines[top[1] + (key,)] = line
                i = j + 1
                continue
            end = j + 1
        else:
            end = i
        # A value starts here.
        path = () if top is None else top[1] + (top[2],)
        if top is not None and not top[0]:
            lines[path] = line
        if c == "{":
            frames.append([True, path, None, True, set()])
            i += 1
        elif c == "[":
            frames.append([False, path, 0, False, None])
            i += 1
        elif c == '"':
            i = end
        else:
            while i < n and text[i] not in ",}] \t\r\n":
                i += 1
    return lines


# Checks.

def _what(v):
    t = type(v)
    if t is bool:
        return "a boolean"
    if t is int:
        return "an integer"
    if t is float:
        return "a float"
    if t is str:
        return "a string"
    if t is list:
        return "an array"
    if t is dict:
        return "a table"
    return "a date or time"


def _distance(a, b):
    # Edit distance counting a swap of neighbours as one edit (optimal string alignment),
    # for "did you mean" suggestions: "nmae" is one edit from "name".
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        prev = rows[-1]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], rows[-2][j - 2] + 1)
        rows.append(cur)
        if len(rows) > 2:
            rows.pop(0)
    return rows[-1][len(b)]


def suggest(word, choices):
    """The choice closest to word, if it is close enough to be a likely typo, else None."""
    best = None
    best_d = 0
    low = word.lower()
    for c in choices:
        if c.lower() == low:
            return c
        d = _distance(low, c.lower())
        if best is None or d < best_d:
            best = c
            best_d = d
    if best is not None and best_d <= max(1, len(word) // 3):
        return best
    return None


def _chars_ok(text, chars):
    # strip() removes every leading and trailing character in chars: nothing is left
    # exactly when all of text is made of them (and a loop in C beats one in Python).
    return not text.strip(chars)


def _has_any(text, chars):
    for c in chars:
        if c in text:
            return True
    return False


def valid_name(name):
    return (type(name) is str and 0 < len(name) <= NAME_MAX and name[0] in _ALNUM
            and _chars_ok(name, _NAME_CHARS))


def _dotted(path):
    out = ""
    for p in path:
        if type(p) is int:
            out += "[%d]" % p
        else:
            out += ("." if out else "") + p
    return out


def parse_size(text):
    """'512MB' -> 536870912 (K, M, G, T count in 1024s with or without B/iB); None if it
    is not a size."""
    s = text.strip()
    i = 0
    while i < len(s) and (s[i] in "0123456789."):
        i += 1
    num = s[:i]
    unit = s[i:].strip().lower()
    if not num or num.count(".") > 1 or num == "." or unit not in _UNITS:
        return None
    return int(float(num) * _UNITS[unit])


class _Checker:
    def __init__(self, filename, lines):
        self.filename = filename
        self.lines = lines

    def line(self, path):
        p = tuple(path)
        while p:
            ln = self.lines.get(p)
            if ln is not None:
                return ln
            p = p[:-1]
        return self.lines.get((), 1)

    def fail(self, path, reason):
        raise DefinitionError(InvalidConfiguration, self.filename, self.line(path),
                              "%s: %s" % (_dotted(path), reason) if path else reason)

    def table(self, v, path):
        if type(v) is not dict:
            self.fail(path, "must be a table, not %s" % _what(v))
        return v

    def known(self, t, path, allowed):
        for k in t:
            if k not in allowed:
                hint = suggest(k, allowed)
                if hint is not None:
                    self.fail(path + (k,), "unknown key; did you mean '%s'?" % hint)
                self.fail(path + (k,), "unknown key; the keys here are %s" % ", ".join(allowed))

    def string(self, v, path, maxlen=TEXT_MAX, empty=False):
        if type(v) is not str:
            self.fail(path, "must be a string, not %s" % _what(v))
        if not v and not empty:
            self.fail(path, "must not be empty")
        if len(v) > maxlen:
            self.fail(path, "must be at most %d characters, not %d" % (maxlen, len(v)))
        if "\x00" in v:
            self.fail(path, "must not contain NUL")
        return v

    def boolean(self, v, path):
        if type(v) is not bool:
            self.fail(path, "must be true or false, not %s" % _what(v))
        return v

    def integer(self, v, path, lo, hi, unit=""):
        if type(v) is not int:
            self.fail(path, "must be an integer%s, not %s" % (unit, _what(v)))
        if v < lo or v > hi:
            self.fail(path, "must be an integer from %d to %d%s, not %d" % (lo, hi, unit, v))
        return v

    def array(self, v, path, maxlen=LIST_MAX):
        if type(v) is not list:
            self.fail(path, "must be an array, not %s" % _what(v))
        if len(v) > maxlen:
            self.fail(path, "must have at most %d items, not %d" % (maxlen, len(v)))
        return v

    def choice(self, v, path, choices, fold=False):
        self.string(v, path)
        key = v.lower() if fold else v
        if key not in choices:
            hint = suggest(v, choices)
            more = "; did you mean '%s'?" % hint if hint is not None else ""
            self.fail(path, "%r is not one of %s%s" % (v, ", ".join(choices), more))
        return key

    def service_name(self, v, path):
        self.string(v, path, NAME_MAX)
        if not valid_name(v):
            self.fail(path, "%r is not a service name (1-%d of a-z A-Z 0-9 - _ . starting with a letter or digit)" % (v, NAME_MAX))
        return v

    def program(self, v, path):
        self.string(v, path, PATH_MAX - 1)
        if not v.startswith("/"):
            self.fail(path, "must be an absolute path, like /bin/%s" % v.split("/")[-1])
        if v.endswith("/"):
            self.fail(path, "names a folder, not a program")
        return v

    # The document.

    def definition(self, doc):
        self.table(doc, ())
        self.known(doc, (), ("service",))
        if "service" not in doc:
            self.fail((), "there is no [service] table")
        sp = ("service",)
        s = self.table(doc["service"], sp)
        self.known(s, sp, SERVICE_KEYS)
        d = Definition()
        d.filename = self.filename
        if "name" not in s:
            self.fail(sp, "[service] has no name")
        d.name = self.service_name(s["name"], sp + ("name",))

        def opt(key, check, *args):
            if key in s:
                v = check(s[key], sp + (key,), *args)
                if v != getattr(Definition, key):
                    setattr(d, key, v)

        opt("display_name", self.string, 128)
        opt("description", self.string, TEXT_MAX, True)
        if "type" in s:
            t = TYPES.get(s["type"]) if type(s["type"]) is str else None
            if t is None:
                self.choice(s["type"], sp + ("type",), TYPE_WORDS)
            d.type = t
        opt("enabled", self.boolean)
        opt("auto_restart", self.boolean)
        opt("max_restarts", self.integer, 0, 1000)
        opt("restart_period", self.integer, 1, MS_MAX, " (ms)")
        opt("restart_delay", self.integer, 0, RESTART_DELAY_MAX, " (ms)")
        opt("health_check_interval", self.integer, 0, MS_MAX, " (ms)")
        opt("start_timeout", self.integer, 1, MS_MAX, " (ms)")
        opt("stop_timeout", self.integer, 0, MS_MAX, " (ms)")
        if "version" in s:
            v = self.string(s["version"], sp + ("version",), VERSION_MAX)
            if not versions.is_version(v):
                self.fail(sp + ("version",), "%r is not a version (like 1, 2.0 or 2.1.3-rc.1)" % v)
            d.version = v
        if "exec" in s:
            d.program = self.program(s["exec"], sp + ("exec",))
        if "args" in s:
            p = sp + ("args",)
            d.args = tuple([self.string(a, p + (i,), TEXT_MAX, True) for i, a in enumerate(self.array(s["args"], p))])
        if "env" in s:
            d.env = self.env(s["env"], sp + ("env",))
        if "tags" in s:
            d.tags = self.tags(s["tags"], sp + ("tags",))
        if "metadata" in s:
            d.metadata = self.metadata(s["metadata"], sp + ("metadata",))
        if "endpoints" in s:
            d.endpoints = self.endpoints(s["endpoints"], sp + ("endpoints",))
        if "ready" in s:
            d.ready = self.choice(s["ready"], sp + ("ready",), READY_MODES)
        if "start_check" in s:
            d.start_check = self.start_check(s["start_check"], sp + ("start_check",))
        if "members" in s:
            d.members = self.members(s["members"], sp + ("members",), d.name)
        if "dependencies" in s:
            self.dependencies(d, s["dependencies"], sp + ("dependencies",))
        if "network" in s:
            d.network = self.network(s["network"], sp + ("network",))
        if "resources" in s:
            d.resources = self.resources(s["resources"], sp + ("resources",))
        self.consistency(d, s, sp)
        return d

    def consistency(self, d, s, sp):
        if d.type == SERVICE_TYPE_GROUP:
            if d.program is not None:
                self.fail(sp + ("exec",), "a group runs no program of its own; list its services in members")
            if not d.members:
                self.fail(sp, "a group needs members = [...]")
            if "ready" in s or "start_check" in s:
                self.fail(sp + ("ready" if "ready" in s else "start_check",), "a group is ready when all its members are")
        else:
            if d.members:
                self.fail(sp + ("members",), "only a group (type = \"ServiceGroup\") has members")
            if d.program is None:
                self.fail(sp, "[service] has no exec (the program to run)")
        if d.ready == "check" and d.start_check is None:
            self.fail(sp + ("ready",), "ready = \"check\" needs start_check = [\"/bin/program\", ...]")
        if d.start_check is not None and d.ready != "check":
            self.fail(sp + ("start_check",), "start_check is used only with ready = \"check\"")
        if d.ready == "endpoint" and not d.endpoints:
            self.fail(sp + ("ready",), "ready = \"endpoint\" needs endpoints = [...]")

    def env(self, v, path):
        self.table(v, path)
        if len(v) > LIST_MAX:
            self.fail(path, "must have at most %d variables" % LIST_MAX)
        out = {}
        for k in v:
            if not k or k[0] not in _ENV_FIRST or not _chars_ok(k, _ENV_CHARS):
                self.fail(path + (k,), "%r is not a variable name (letters, digits, _)" % k)
            out[k] = self.string(v[k], path + (k,), TEXT_MAX, True)
        return out

    def tags(self, v, path):
        self.array(v, path, 32)
        seen = []
        for i, t in enumerate(v):
            p = path + (i,)
            self.string(t, p, TAG_MAX)
            if _has_any(t, _TAG_BAD):
                self.fail(p, "%r: a tag has no spaces, ':', ',' or '='" % t)
            if t in seen:
                self.fail(p, "tag %r is listed twice" % t)
            seen.append(t)
        return tuple(seen)

    def metadata(self, v, path):
        self.table(v, path)
        if len(v) > LIST_MAX:
            self.fail(path, "must have at most %d keys" % LIST_MAX)
        out = {}
        for k in v:
            p = path + (k,)
            if _has_any(k, _META_KEY_BAD):
                self.fail(p, "a metadata key has no spaces or '='")
            x = v[k]
            if type(x) not in (str, int, float, bool):
                self.fail(p, "must be a string, number or boolean, not %s" % _what(x))
            if type(x) is str:
                self.string(x, p, TEXT_MAX, True)
            out[k] = x
        return out

    def endpoints(self, v, path):
        self.array(v, path, 16)
        out = []
        names = []
        for i, e in enumerate(v):
            p = path + (i,)
            if type(e) is str:
                t = {"name": e}
                name_path = p
            else:
                t = self.table(e, p)
                self.known(t, p, ENDPOINT_KEYS)
                name_path = p + ("name",)
            if "name" not in t:
                self.fail(p, "an endpoint needs a name")
            name = self.string(t["name"], name_path, NAME_MAX)
            if not _chars_ok(name, _ENDPOINT_CHARS):
                self.fail(p, "%r is not an endpoint name (a-z A-Z 0-9 - _ . /)" % name)
            if name in names:
                self.fail(p, "endpoint %r is listed twice" % name)
            names.append(name)
            proto = "ipc"
            if "protocol" in t:
                proto = self.choice(t["protocol"], p + ("protocol",), PROTOCOLS, True)
            port = 0
            if "port" in t:
                port = self.integer(t["port"], p + ("port",), 1, 65535)
            addr = ""
            if "address" in t:
                addr = self.address(t["address"], p + ("address",))
            out.append((name, proto, port, addr))
        return tuple(out)

    def start_check(self, v, path):
        if type(v) is str:
            v = [v]
            self.program(v[0], path)
        else:
            self.array(v, path)
            if not v:
                self.fail(path, "must name a program")
            self.program(v[0], path + (0,))
            for i in range(1, len(v)):
                self.string(v[i], path + (i,), TEXT_MAX, True)
        return tuple(v)

    def members(self, v, path, own):
        self.array(v, path, 1024)
        out = []
        for i, m in enumerate(v):
            self.service_name(m, path + (i,))
            if m == own:
                self.fail(path + (i,), "a group cannot be its own member")
            if m in out:
                self.fail(path + (i,), "member %r is listed twice" % m)
            out.append(m)
        return tuple(out)

    def dependencies(self, d, v, path):
        self.table(v, path)
        self.known(v, path, DEPENDENCY_KEYS)
        if "timeout" in v:
            d.dep_timeout = self.integer(v["timeout"], path + ("timeout",), 0, MS_MAX, " (ms)")
        seen = {}
        for key in ("required", "optional"):
            if key not in v:
                continue
            p = path + (key,)
            out = []
            for i, e in enumerate(self.array(v[key], p, 256)):
                dep = self.dependency(e, p + (i,), d.dep_timeout)
                if dep[0] in seen:
                    self.fail(p + (i,), "%r is listed already in %s" % (dep[0], seen[dep[0]]))
                seen[dep[0]] = key
                out.append(dep)
            if key == "required":
                d.requires = tuple(out)
            else:
                d.wants = tuple(out)

    def dependency(self, e, p, timeout):
        if type(e) is str:
            try:
                name, constraint = versions.parse_dependency(e)
            except ValueError as x:
                self.fail(p, str(x))
            if not valid_name(name):
                self.fail(p, "%r is not a service name" % name)
            return (name, constraint, timeout)
        t = self.table(e, p)
        self.known(t, p, DEPENDENCY_ENTRY_KEYS)
        if "name" not in t:
            self.fail(p, "a dependency needs a name")
        name = self.service_name(t["name"], p + ("name",))
        constraint = None
        if "version" in t:
            text = self.string(t["version"], p + ("version",), 128)
            try:
                constraint = versions.Constraint(text)
            except ValueError as x:
                self.fail(p + ("version",), str(x))
        if "timeout" in t:
            timeout = self.integer(t["timeout"], p + ("timeout",), 0, MS_MAX, " (ms)")
        return (name, constraint, timeout)

    def address(self, v, path):
        self.string(v, path, 64)
        if _chars_ok(v, "0123456789."):
            parts = v.split(".")
            if len(parts) == 4:
                ok = True
                for x in parts:
                    if not x or len(x) > 3 or int(x) > 255:
                        ok = False
                if ok:
                    return v
            self.fail(path, "%r is not an IPv4 address" % v)
        if ":" in v and _chars_ok(v, "0123456789abcdefABCDEF:."):
            return v
        if v == "localhost":
            return v
        self.fail(path, "%r is not an IP address" % v)

    def network(self, v, path):
        self.table(v, path)
        self.known(v, path, NETWORK_KEYS)
        out = {}
        if "bind_address" in v:
            out["bind_address"] = self.address(v["bind_address"], path + ("bind_address",))
        if "bind_port" in v:
            out["bind_port"] = self.integer(v["bind_port"], path + ("bind_port",), 0, 65535)
        if "protocol" in v:
            out["protocol"] = self.choice(v["protocol"], path + ("protocol",), PROTOCOLS, True)
        if "ssl_enabled" in v:
            out["ssl_enabled"] = self.boolean(v["ssl_enabled"], path + ("ssl_enabled",))
        if "max_connections" in v:
            out["max_connections"] = self.integer(v["max_connections"], path + ("max_connections",), 1, 1000000)
        return out

    def resources(self, v, path):
        self.table(v, path)
        self.known(v, path, RESOURCE_KEYS)
        out = {}
        if "cpu_limit" in v:
            p = path + ("cpu_limit",)
            c = v["cpu_limit"]
            if type(c) not in (int, float):
                self.fail(p, "must be a number of CPUs, not %s" % _what(c))
            if not (0 < c <= 256):
                self.fail(p, "must be more than 0 and at most 256 CPUs, not %s" % c)
            out["cpu_limit"] = c
        if "memory_limit" in v:
            p = path + ("memory_limit",)
            m = v["memory_limit"]
            if type(m) is int:
                size = m
            elif type(m) is str:
                size = parse_size(m)
                if size is None:
                    self.fail(p, "%r is not a size (like 512MB, 64K or 2GiB)" % m)
            else:
                self.fail(p, "must be a size (\"512MB\") or a number of bytes, not %s" % _what(m))
            if size < 4096 or size > (1 << 40):
                self.fail(p, "must be from 4 KiB to 1 TiB, not %d bytes" % size)
            out["memory_limit"] = size
        if "file_descriptor_limit" in v:
            out["file_descriptor_limit"] = self.integer(v["file_descriptor_limit"], path + ("file_descriptor_limit",), 1, 1048576)
        return out
