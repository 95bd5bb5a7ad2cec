# The registry: every service instance, its indexes, discovery queries and
# subscriptions to changes.
#
# An entry is any object with the attributes id, name, type, version, tags (tuple),
# metadata (dict or None), endpoints (tuple), health and state; the manager registers its
# service records directly, so nothing is copied. Indexes keep a query from scanning
# every service: ids and names in dicts, type/tag/health/state/metadata in sets of ids,
# and a sorted name list so that a glob with a literal prefix (web*) reads only the names
# that share the prefix.
#
# Query language (discover_services' pattern): terms separated by spaces, all of which
# must hold:
#   web*  web-?  web[0-9]*     glob on the name (* ? [abc] [a-z] [!x])
#   name:web-server            exact name        id:12       one id
#   re:^web[0-9]+$             regular expression on the name (MicroPython's re subset)
#   tag:http  type:user  health:healthy  state:running  meta:region=eu  meta:region
# An empty pattern or * matches every service.

import re

from mos_consts import (
    SERVICE_TYPE_NAMES, SERVICE_HEALTH_NAMES, SERVICE_EVENT_STATE, SERVICE_EVENT_CREATED,
    SERVICE_EVENT_REMOVED, SERVICE_EVENT_HEALTH, SERVICE_EVENT_ALL, SERVICE_EVENT_NAMES,
    DiscoveryError, InvalidServiceHandle, ResourceExhausted,
)
from errors import ServiceError
import states

MISSED = 0  # the kind of the marker event that says how many events were dropped

# How many events a subscriber's queue holds before it starts missing them, and how many
# subscriptions there may be.
QUEUE_DEFAULT = 64
QUEUE_MAX = 4096
SUBSCRIPTIONS_MAX = 256


def type_name(t):
    """'load-balancer' for SERVICE_TYPE_LOAD_BALANCER."""
    return SERVICE_TYPE_NAMES[t][13:].lower().replace("_", "-")


def health_name(h):
    return SERVICE_HEALTH_NAMES[h][15:].lower()


def event_name(kind):
    if kind == MISSED:
        return "missed"
    return SERVICE_EVENT_NAMES[kind][14:].lower()


def _table(names, cut):
    t = {}
    for v in sorted(names):
        t[names[v][cut:].lower().replace("_", "-")] = v
    return t


def _words(names, cut):
    return [names[v][cut:].lower().replace("_", "-") for v in sorted(names)]


TYPES = _table(SERVICE_TYPE_NAMES, 13)      # 'user' -> SERVICE_TYPE_USER
HEALTHS = _table(SERVICE_HEALTH_NAMES, 15)  # 'healthy' -> SERVICE_HEALTH_HEALTHY
# The same words in the enums' order, for messages (MicroPython's dicts keep no order).
TYPE_WORDS = _words(SERVICE_TYPE_NAMES, 13)
HEALTH_WORDS = _words(SERVICE_HEALTH_NAMES, 15)


# Globs, by hand: MicroPython's re has no fnmatch and too few features to translate one.

_GLOB_CHARS = "*?["


def glob_prefix(pattern):
    """The literal text before the first wildcard."""
    for i in range(len(pattern)):
        if pattern[i] in _GLOB_CHARS:
            return pattern[:i]
    return pattern


def is_glob(pattern):
    for c in pattern:
        if c in _GLOB_CHARS:
            return True
    return False


def _class_end(p, i):
    # p[i] is '['; the index after the matching ']', or -1 if there is none.
    j = i + 1
    if j < len(p) and p[j] == "!":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 1
    return j + 1 if j < len(p) else -1


def _class_match(p, i, end, c):
    j = i + 1
    negate = p[j] == "!"
    if negate:
        j += 1
    stop = end - 1  # the closing ']'
    hit = False
    while j < stop:
        if j + 2 < stop and p[j + 1] == "-":
            if p[j] <= c <= p[j + 2]:
                hit = True
            j += 3
        else:
            if p[j] == c:
                hit = True
            j += 1
    return hit != negate


def glob_match(pattern, text):
    """fnmatch-style matching of a whole name: * any run, ? one character, [abc], [a-z],
    [!x]. A '[' without its ']' is literal. Linear backtracking over the last '*'."""
    p = 0
    t = 0
    star = -1
    mark = 0
    np = len(pattern)
    nt = len(text)
    while t < nt:
        if p < np:
            c = pattern[p]
            if c == "*":
                star = p
                p += 1
                mark = t
                continue
            if c == "?":
                p += 1
                t += 1
                continue
            if c == "[":
                end = _class_end(pattern, p)
                if end > 0:
                    if _class_match(pattern, p, end, text[t]):
                        p = end
                        t += 1
                        continue
                elif text[t] == "[":
                    p += 1
                    t += 1
                    continue
            elif c == text[t]:
                p += 1
                t += 1
                continue
        if star < 0:
            return False
        p = star + 1
        mark += 1
        t = mark
    while p < np and pattern[p] == "*":
        p += 1
    return p == np


def _bisect_left(lst, x):
    lo = 0
    hi = len(lst)
    while lo < hi:
        mid = (lo + hi) // 2
        if lst[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


class Query:
    """A parsed discovery pattern."""

    def __init__(self, text=""):
        self.text = text
        self.globs = []
        self.prefixes = []  # globs that are a literal prefix and '*'
        self.names = []
        self.ids = []
        self.regexes = []
        self.types = []
        self.tags = []
        self.healths = []
        self.states = []
        self.meta = []  # (key, value or None)
        for term in text.split():
            self._term(term)

    def _term(self, term):
        colon = term.find(":")
        key = term[:colon] if colon > 0 else ""
        value = term[colon + 1:] if colon > 0 else term
        if key == "":
            if term == "*":
                return
            # A prefix and one '*' at the end (web*): a plain startswith test, which
            # glob_match would reach only a character at a time; a name without a wildcard
            # (a subscription to one service) is an exact name, found through the index.
            if not is_glob(term):
                self.names.append(term)
            elif term[-1] == "*" and not is_glob(term[:-1]):
                self.prefixes.append(term[:-1])
            else:
                self.globs.append(term)
            return
        if not value:
            raise ServiceError(DiscoveryError, "%r: nothing after %s:" % (term, key))
        if key == "name":
            self.names.append(value)
        elif key == "id":
            try:
                self.ids.append(int(value))
            except ValueError:
                raise ServiceError(DiscoveryError, "%r: an id is a number" % term)
        elif key == "re":
            try:
                self.regexes.append(re.compile(value))
            except Exception:
                raise ServiceError(DiscoveryError, "%r: not a regular expression" % term)
        elif key == "type":
            t = TYPES.get(value.lower())
            if t is None:
                raise ServiceError(DiscoveryError, "%r: the types are %s" % (term, ", ".join(TYPE_WORDS)))
            self.types.append(t)
        elif key == "tag":
            self.tags.append(value)
        elif key == "health":
            h = HEALTHS.get(value.lower())
            if h is None:
                raise ServiceError(DiscoveryError, "%r: health is %s" % (term, ", ".join(HEALTH_WORDS)))
            self.healths.append(h)
        elif key == "state":
            s = states.from_name(value)
            if s is None:
                names = [states.name(x) for x in states.STATES]
                raise ServiceError(DiscoveryError, "%r: the states are %s" % (term, ", ".join(names)))
            self.states.append(s)
        elif key == "meta":
            eq = value.find("=")
            if eq == 0:
                raise ServiceError(DiscoveryError, "%r: meta:KEY=VALUE or meta:KEY" % term)
            if eq > 0:
                self.meta.append((value[:eq], value[eq + 1:]))
            else:
                self.meta.append((value, None))
        else:
            raise ServiceError(DiscoveryError, "%r: unknown key %r (name, id, re, type, tag, health, state, meta)" % (term, key))

    def matches(self, e):
        """Whether entry e satisfies every term (used for subscriptions and to filter
        candidates)."""
        for p in self.prefixes:
            if not e.name.startswith(p):
                return False
        for g in self.globs:
            if not glob_match(g, e.name):
                return False
        for n in self.names:
            if e.name != n:
                return False
        for i in self.ids:
            if e.id != i:
                return False
        for r in self.regexes:
            if r.search(e.name) is None:
                return False
        for t in self.types:
            if e.type != t:
                return False
        for t in self.tags:
            if t not in e.tags:
                return False
        for h in self.healths:
            if e.health != h:
                return False
        for s in self.states:
            if e.state != s:
                return False
        for k, v in self.meta:
            m = e.metadata
            if m is None or k not in m:
                return False
            if v is not None and meta_text(m[k]) != v:
                return False
        return True


def meta_text(value):
    """How a metadata value reads in a query: true/false for booleans, else str()."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


class _Subscription:
    def __init__(self, handle, query, events, capacity, owner, wake):
        self.handle = handle
        self.query = query
        self.events = events
        self.capacity = capacity
        self.owner = owner
        self.wake = wake
        self.queue = []
        self.missed = 0   # events missed in total (the markers say how many each time)


class Registry:
    def __init__(self):
        self.by_id = {}
        self.by_name = {}
        self.sorted_names = []
        self.by_type = {}
        self.by_tag = {}
        self.by_health = {}
        self.by_state = {}
        self.by_meta = {}      # key -> {value text -> set of ids}
        self.by_endpoint = {}  # endpoint name -> id
        self.subs = {}
        self.next_handle = 1
        self.seq = 0

    def __len__(self):
        return len(self.by_id)

    # Registration.

    def add(self, e):
        self.by_id[e.id] = e
        self.by_name[e.name] = e
        i = _bisect_left(self.sorted_names, e.name)
        self.sorted_names.insert(i, e.name)
        _index(self.by_type, e.type, e.id)
        for t in e.tags:
            _index(self.by_tag, t, e.id)
        _index(self.by_health, e.health, e.id)
        _index(self.by_state, e.state, e.id)
        self._index_meta(e, True)
        for ep in e.endpoints:
            self.by_endpoint[ep[0]] = e.id
        self.emit(e, SERVICE_EVENT_CREATED)

    def remove(self, e):
        if self.by_id.get(e.id) is not e:
            return
        self.emit(e, SERVICE_EVENT_REMOVED)
        del self.by_id[e.id]
        del self.by_name[e.name]
        i = _bisect_left(self.sorted_names, e.name)
        if i < len(self.sorted_names) and self.sorted_names[i] == e.name:
            del self.sorted_names[i]
        _unindex(self.by_type, e.type, e.id)
        for t in e.tags:
            _unindex(self.by_tag, t, e.id)
        _unindex(self.by_health, e.health, e.id)
        _unindex(self.by_state, e.state, e.id)
        self._index_meta(e, False)
        for ep in e.endpoints:
            if self.by_endpoint.get(ep[0]) == e.id:
                del self.by_endpoint[ep[0]]

    def _index_meta(self, e, add):
        m = e.metadata
        if not m:
            return
        for k in m:
            vals = self.by_meta.get(k)
            if vals is None:
                if not add:
                    continue
                vals = self.by_meta[k] = {}
            v = meta_text(m[k])
            if add:
                _index(vals, v, e.id)
            else:
                _unindex(vals, v, e.id)
                if not vals:
                    del self.by_meta[k]

    def set_state(self, e, state):
        """Changes e.state, keeping the index, and tells subscribers."""
        if e.state == state:
            return
        _unindex(self.by_state, e.state, e.id)
        e.state = state
        _index(self.by_state, state, e.id)
        self.emit(e, SERVICE_EVENT_STATE)

    def set_health(self, e, health):
        if e.health == health:
            return
        _unindex(self.by_health, e.health, e.id)
        e.health = health
        _index(self.by_health, health, e.id)
        self.emit(e, SERVICE_EVENT_HEALTH)

    def update(self, e, **fields):
        """Changes indexed attributes (tags, type, metadata, endpoints, version) of a
        registered entry."""
        self.remove_quietly(e)
        for k in fields:
            setattr(e, k, fields[k])
        self.add_quietly(e)

    def remove_quietly(self, e):
        subs = self.subs
        self.subs = {}
        try:
            self.remove(e)
        finally:
            self.subs = subs

    def add_quietly(self, e):
        subs = self.subs
        self.subs = {}
        try:
            self.add(e)
        finally:
            self.subs = subs

    # Lookup and discovery.

    def get(self, ident):
        return self.by_id.get(ident)

    def lookup(self, name):
        return self.by_name.get(name)

    def endpoint(self, name):
        return self.by_endpoint.get(name)

    def find(self, pattern):
        """Entries matching a pattern (a str, see the top of this file, or a Query), in
        name order."""
        q = pattern if isinstance(pattern, Query) else Query(pattern)
        # The narrowest index first; the other terms filter what it yields.
        sets = []
        for i in q.ids:
            sets.append({i} if i in self.by_id else set())
        for n in q.names:
            e = self.by_name.get(n)
            sets.append({e.id} if e is not None else set())
        for t in q.types:
            sets.append(self.by_type.get(t, _EMPTY))
        for t in q.tags:
            sets.append(self.by_tag.get(t, _EMPTY))
        for h in q.healths:
            sets.append(self.by_health.get(h, _EMPTY))
        for s in q.states:
            sets.append(self.by_state.get(s, _EMPTY))
        for k, v in q.meta:
            vals = self.by_meta.get(k)
            if vals is None:
                sets.append(_EMPTY)
            elif v is not None:
                sets.append(vals.get(v, _EMPTY))
            else:
                u = set()
                for x in vals.values():
                    u = u | x
                sets.append(u)
        best = None
        for s in sets:
            if best is None or len(s) < len(best):
                best = s
        lo, hi = self._name_range(q.globs + q.prefixes)
        if best is not None and len(best) <= hi - lo:
            out = []
            for i in best:
                e = self.by_id[i]
                if q.matches(e):
                    out.append(e)
            out.sort(key=_by_name)
            return out
        out = []
        names = self.sorted_names
        by_name = self.by_name
        for k in range(lo, hi):
            e = by_name[names[k]]
            if q.matches(e):
                out.append(e)
        return out

    def _name_range(self, globs):
        # The slice of sorted_names that can match every glob: those sharing the longest
        # literal prefix.
        prefix = ""
        for g in globs:
            p = glob_prefix(g)
            if len(p) > len(prefix):
                prefix = p
        names = self.sorted_names
        if not prefix:
            return 0, len(names)
        lo = _bisect_left(names, prefix)
        # Every name that starts with prefix sorts below the prefix with its last
        # character incremented ("web" -> "wec").
        hi = _bisect_left(names, prefix[:-1] + chr(ord(prefix[-1]) + 1))
        return lo, hi

    # Subscriptions.

    def subscribe(self, pattern, events=SERVICE_EVENT_ALL, capacity=QUEUE_DEFAULT, owner=0, wake=None):
        """A handle (> 0) for a queue of events of services matching pattern. wake(handle)
        is called when the queue goes from empty to non-empty."""
        q = pattern if isinstance(pattern, Query) else Query(pattern)
        if events & ~SERVICE_EVENT_ALL or not events:
            raise ServiceError(DiscoveryError, "events must be a non-zero mask of SERVICE_EVENT_* bits")
        if len(self.subs) >= SUBSCRIPTIONS_MAX:
            raise ServiceError(ResourceExhausted, "%d subscriptions exist already" % SUBSCRIPTIONS_MAX)
        capacity = max(1, min(capacity, QUEUE_MAX))
        h = self.next_handle
        self.next_handle += 1
        self.subs[h] = _Subscription(h, q, events, capacity, owner, wake)
        return h

    def unsubscribe(self, handle):
        if self.subs.pop(handle, None) is None:
            raise ServiceError(InvalidServiceHandle, "no subscription %r" % (handle,))

    def unsubscribe_owner(self, owner):
        for h in [h for h in self.subs if self.subs[h].owner == owner]:
            del self.subs[h]

    def emit(self, e, kind):
        """Queues an event (seq, kind, id, name, state, health) for every subscriber that
        wants it. A full queue ends in one marker (seq, MISSED, count, '', 0, 0) that
        counts what it could not take, so a queue holds at most capacity + 1 items and
        the subscriber learns of every gap where it happened."""
        if not self.subs:
            return
        self.seq += 1
        ev = None
        for s in self.subs.values():
            if not (s.events & kind) or not s.query.matches(e):
                continue
            if ev is None:
                ev = (self.seq, kind, e.id, e.name, e.state, e.health)
            q = s.queue
            if len(q) < s.capacity:
                q.append(ev)
                if len(q) == 1 and s.wake is not None:
                    s.wake(s.handle)
            else:
                s.missed += 1
                last = q[-1]
                if last[1] == MISSED:
                    q[-1] = (last[0], MISSED, last[2] + 1, "", 0, 0)
                else:
                    q.append((self.seq, MISSED, 1, "", 0, 0))

    def poll(self, handle, max_events=64):
        """Takes up to max_events events from a subscription's queue, oldest first."""
        s = self.subs.get(handle)
        if s is None:
            raise ServiceError(InvalidServiceHandle, "no subscription %r" % (handle,))
        q = s.queue
        out = q[:max_events]
        del q[:max_events]
        return out

    def pending(self, handle):
        s = self.subs.get(handle)
        return len(s.queue) if s is not None else 0


_EMPTY = frozenset()


def _by_name(e):
    return e.name


def _index(index, key, ident):
    s = index.get(key)
    if s is None:
        index[key] = {ident}
    else:
        s.add(ident)


def _unindex(index, key, ident):
    s = index.get(key)
    if s is not None:
        s.discard(ident)
        if not s:
            del index[key]


def event_dict(ev):
    """An event as JSON-ready data."""
    if ev[1] == MISSED:
        return {"seq": ev[0], "event": "missed", "count": ev[2]}
    return {"seq": ev[0], "event": event_name(ev[1]), "id": ev[2], "name": ev[3],
            "state": states.name(ev[4]), "health": health_name(ev[5])}
