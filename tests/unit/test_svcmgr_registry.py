"""services/svcmgr/registry.py: queries of each kind, indexes, globs, subscriptions."""

import random

import pytest

import registry
from registry import Query, Registry, glob_match, MISSED
from errors import ServiceError
from mos_consts import (SERVICE_TYPE_USER, SERVICE_TYPE_SYSTEM, SERVICE_TYPE_GROUP,
                        SERVICE_HEALTH_UNKNOWN, SERVICE_HEALTH_HEALTHY, SERVICE_HEALTH_UNHEALTHY,
                        SERVICE_EVENT_STATE, SERVICE_EVENT_CREATED, SERVICE_EVENT_REMOVED,
                        SERVICE_EVENT_HEALTH, SERVICE_STOPPED, SERVICE_RUNNING, SERVICE_FAILED,
                        DiscoveryError, InvalidServiceHandle, ResourceExhausted)


class Entry:
    def __init__(self, ident, name, type=SERVICE_TYPE_USER, tags=(), metadata=None,
                 health=SERVICE_HEALTH_UNKNOWN, state=SERVICE_STOPPED, version="1.0", endpoints=()):
        self.id = ident
        self.name = name
        self.type = type
        self.tags = tags
        self.metadata = metadata
        self.health = health
        self.state = state
        self.version = version
        self.endpoints = endpoints


def sample():
    r = Registry()
    r.add(Entry(1, "web-server", tags=("http", "edge"), metadata={"region": "eu", "weight": 3},
                endpoints=(("web.http", "http", 80, ""),)))
    r.add(Entry(2, "web-admin", tags=("http",), metadata={"region": "us"}))
    r.add(Entry(3, "database", SERVICE_TYPE_SYSTEM, tags=("storage",), metadata={"primary": True},
                health=SERVICE_HEALTH_HEALTHY, state=SERVICE_RUNNING))
    r.add(Entry(4, "cache", tags=("storage", "fast"), health=SERVICE_HEALTH_HEALTHY, state=SERVICE_RUNNING))
    r.add(Entry(5, "group1", SERVICE_TYPE_GROUP))
    return r


def names(r, pattern):
    return [e.name for e in r.find(pattern)]


@pytest.mark.parametrize("pattern,expected", [
    ("", ["cache", "database", "group1", "web-admin", "web-server"]),
    ("*", ["cache", "database", "group1", "web-admin", "web-server"]),
    ("web*", ["web-admin", "web-server"]),
    ("web-?erver", ["web-server"]),
    ("*a*e", ["cache", "database"]),
    ("[cd]*", ["cache", "database"]),
    ("[!cd]*", ["group1", "web-admin", "web-server"]),
    ("group[0-9]", ["group1"]),
    ("name:cache", ["cache"]),
    ("name:cach", []),
    ("id:3", ["database"]),
    ("id:99", []),
    ("re:^web-(admin|server)$", ["web-admin", "web-server"]),
    ("re:a.e", ["database"]),
    ("type:system", ["database"]),
    ("type:group", ["group1"]),
    ("type:load-balancer", []),
    ("tag:http", ["web-admin", "web-server"]),
    ("tag:storage tag:fast", ["cache"]),
    ("tag:nope", []),
    ("health:healthy", ["cache", "database"]),
    ("state:running", ["cache", "database"]),
    ("state:failed", []),
    ("meta:region=eu", ["web-server"]),
    ("meta:region", ["web-admin", "web-server"]),
    ("meta:weight=3", ["web-server"]),
    ("meta:primary=true", ["database"]),
    ("web* tag:edge", ["web-server"]),
    ("tag:http meta:region=us", ["web-admin"]),
    ("c* health:healthy type:user", ["cache"]),
])
def test_queries(pattern, expected):
    assert names(sample(), pattern) == expected


@pytest.mark.parametrize("pattern,reason", [
    ("type:bogus", "the types are system, user, group, monitoring, load-balancer, discovery"),
    ("health:fine", "health is unknown, healthy, degraded, unhealthy"),
    ("state:gone", "the states are stopped"),
    ("id:x", "an id is a number"),
    ("re:(", "not a regular expression"),
    ("color:red", "unknown key 'color'"),
    ("tag:", "nothing after tag:"),
    ("meta:=x", "meta:KEY=VALUE"),
])
def test_bad_queries(pattern, reason):
    with pytest.raises(ServiceError) as ei:
        sample().find(pattern)
    assert ei.value.code == DiscoveryError and reason in ei.value.message


@pytest.mark.parametrize("pattern,text,hit", [
    ("*", "", True), ("", "", True), ("", "a", False), ("a*b*c", "axxbyyc", True),
    ("a*b*c", "axxbyy", False), ("*x", "x", True), ("?", "", False), ("a[b", "a[b", True),
    ("[]]", "]", True), ("[a-]", "-", True), ("[!a-c]x", "dx", True), ("[!a-c]x", "bx", False),
    ("**a", "a", True), ("*a*a*a*a*b", "a" * 40, False),
])
def test_glob(pattern, text, hit):
    assert glob_match(pattern, text) == hit


def test_lookup_and_endpoints():
    r = sample()
    assert r.get(3).name == "database" and r.get(42) is None
    assert r.lookup("cache").id == 4 and r.lookup("Cache") is None
    assert r.endpoint("web.http") == 1
    assert len(r) == 5


def check_indexes(r):
    """Every index says exactly what a scan says."""
    all_entries = list(r.by_id.values())
    assert sorted(r.sorted_names) == r.sorted_names == sorted(e.name for e in all_entries)
    assert set(r.by_name) == set(e.name for e in all_entries)

    def scan(pred):
        return set(e.id for e in all_entries if pred(e))

    for t, ids in r.by_type.items():
        assert ids == scan(lambda e: e.type == t) and ids
    for t, ids in r.by_tag.items():
        assert ids == scan(lambda e: t in e.tags) and ids
    for h, ids in r.by_health.items():
        assert ids == scan(lambda e: e.health == h) and ids
    for s, ids in r.by_state.items():
        assert ids == scan(lambda e: e.state == s) and ids
    for k, vals in r.by_meta.items():
        for v, ids in vals.items():
            assert ids == scan(lambda e: e.metadata and k in e.metadata
                               and registry.meta_text(e.metadata[k]) == v) and ids
    assert sum(len(x) for x in r.by_type.values()) == len(all_entries)


def test_index_consistency_under_churn():
    rnd = random.Random(7)
    r = Registry()
    live = {}
    tags = ["a", "b", "c", "d"]
    for step in range(3000):
        op = rnd.random()
        if op < 0.45 or not live:
            i = step + 1
            e = Entry(i, "svc-%04d" % rnd.randrange(10000) + "-%d" % i, rnd.choice([0, 1, 2, 3]),
                      tuple(rnd.sample(tags, rnd.randint(0, 3))),
                      {"zone": rnd.choice(["x", "y"])} if rnd.random() < 0.5 else None)
            r.add(e)
            live[i] = e
        elif op < 0.7:
            e = live.pop(rnd.choice(list(live)))
            r.remove(e)
        elif op < 0.8:
            e = live[rnd.choice(list(live))]
            r.update(e, tags=tuple(rnd.sample(tags, rnd.randint(0, 2))),
                     metadata={"zone": "z"}, type=SERVICE_TYPE_GROUP)
        elif op < 0.9:
            r.set_state(live[rnd.choice(list(live))], rnd.choice([0, 1, 2, 4]))
        else:
            r.set_health(live[rnd.choice(list(live))], rnd.choice([0, 1, 2, 3]))
        if step % 500 == 0:
            check_indexes(r)
    check_indexes(r)
    for pattern in ("svc-00*", "tag:a", "tag:b type:group", "meta:zone=x", "svc-1* tag:c",
                    "state:running", "health:degraded"):
        q = Query(pattern)
        assert [e.name for e in r.find(pattern)] == sorted(e.name for e in live.values() if q.matches(e))


@pytest.mark.parametrize("pattern", ["web", "web-server", "webs", "x", "web-x-y", "svc[", "web-server tag:x"])
def test_literal_names_match_as_globs(pattern):
    # A name without a wildcard is an exact name (found through the name index): the same
    # answers as a glob; "[" without its "]" stays a glob (a literal "[" there).
    names = ["web", "web-server", "web-admin", "webs", "wex", "w", "web-x-y", "svc["]
    q = Query(pattern)
    first = pattern.split()[0]
    want = [n for n in names if glob_match(first, n)]
    assert [n for n in names if Query(first).matches(Entry(1, n))] == want
    assert bool(q.names) == ("[" not in first)
    r = Registry()
    for i, n in enumerate(names):
        r.add(Entry(i + 1, n, tags=("x",)))
    assert [e.name for e in r.find(pattern)] == want


@pytest.mark.parametrize("pattern", ["web*", "web-s*", "w*", "web-server*", "x*", "web*r", "web-*-*", "*"])
def test_prefix_globs_match_as_globs(pattern):
    # A literal prefix and one trailing '*' is tested with startswith: the same answers.
    names = ["web", "web-server", "web-admin", "webs", "wex", "database", "w", "web-x-y"]
    q = Query(pattern)
    want = [n for n in names if glob_match(pattern, n)]
    assert [n for n in names if q.matches(Entry(1, n))] == want
    assert (pattern != "*" and pattern.count("*") == 1 and pattern.endswith("*")) == bool(q.prefixes)


def test_queries_use_indexes(monkeypatch):
    r = Registry()
    for i in range(20000):
        r.add(Entry(i + 1, "s%05d" % i, tags=("rare",) if i % 1000 == 0 else ("common",)))
    calls = [0]
    real = Query.matches

    def counting(self, e):
        calls[0] += 1
        return real(self, e)

    monkeypatch.setattr(Query, "matches", counting)
    assert len(r.find("tag:rare")) == 20 and calls[0] == 20
    calls[0] = 0
    assert len(r.find("s0001*")) == 10 and calls[0] == 10
    calls[0] = 0
    assert len(r.find("s1* tag:rare")) == 10 and calls[0] <= 20
    calls[0] = 0
    assert len(r.find("name:s12345")) == 1 and calls[0] == 1


def test_subscriptions_in_order_and_filtered():
    r = sample()
    woken = []
    h = r.subscribe("web*", SERVICE_EVENT_STATE | SERVICE_EVENT_CREATED, wake=woken.append)
    hall = r.subscribe("")
    web = r.lookup("web-server")
    r.set_state(web, SERVICE_RUNNING)
    r.set_state(r.lookup("cache"), SERVICE_FAILED)      # not web*
    r.set_health(web, SERVICE_HEALTH_UNHEALTHY)         # not STATE
    r.add(Entry(9, "web-new"))
    r.set_state(web, SERVICE_FAILED)
    r.set_state(web, SERVICE_FAILED)                    # no change, no event
    evs = r.poll(h)
    assert [(e[1], e[3], e[4]) for e in evs] == [
        (SERVICE_EVENT_STATE, "web-server", SERVICE_RUNNING),
        (SERVICE_EVENT_CREATED, "web-new", SERVICE_STOPPED),
        (SERVICE_EVENT_STATE, "web-server", SERVICE_FAILED)]
    seqs = [e[0] for e in evs]
    assert seqs == sorted(seqs)
    assert woken == [h]
    assert r.poll(h) == []
    kinds = [e[1] for e in r.poll(hall, 100)]
    assert kinds == [SERVICE_EVENT_STATE, SERVICE_EVENT_STATE, SERVICE_EVENT_HEALTH, SERVICE_EVENT_CREATED,
                     SERVICE_EVENT_STATE]
    r.remove(r.lookup("web-new"))
    assert [e[1] for e in r.poll(hall)] == [SERVICE_EVENT_REMOVED]
    d = registry.event_dict(evs[0])
    assert d == {"seq": evs[0][0], "event": "state", "id": 1, "name": "web-server", "state": "running",
                 "health": "unknown"}


def test_slow_subscriber_gets_a_missed_marker():
    r = sample()
    h = r.subscribe("cache", SERVICE_EVENT_STATE, capacity=3)
    c = r.lookup("cache")
    for i in range(10):
        r.set_state(c, SERVICE_RUNNING if i % 2 else SERVICE_FAILED)
    q = r.poll(h, 100)
    assert len(q) == 4
    assert [e[1] for e in q[:3]] == [SERVICE_EVENT_STATE] * 3
    assert q[3][1] == MISSED and q[3][2] == 7
    assert registry.event_dict(q[3]) == {"seq": q[3][0], "event": "missed", "count": 7}
    # Once it keeps up again, nothing more is lost, and the order holds.
    r.set_state(c, SERVICE_STOPPED)
    r.set_state(c, SERVICE_RUNNING)
    q2 = r.poll(h, 1)
    q2 += r.poll(h, 100)
    assert [e[4] for e in q2] == [SERVICE_STOPPED, SERVICE_RUNNING]
    assert q2[0][0] > q[3][0]
    # A marker in the middle: events, marker, then what came after draining.
    for i in range(5):
        r.set_state(c, SERVICE_STOPPED if i % 2 == 0 else SERVICE_RUNNING)
    first = r.poll(h, 2)
    r.set_state(c, SERVICE_FAILED)
    rest = r.poll(h, 100)
    assert [e[1] for e in first + rest] == [SERVICE_EVENT_STATE] * 3 + [MISSED, SERVICE_EVENT_STATE]


def test_subscription_errors():
    r = sample()
    with pytest.raises(ServiceError) as ei:
        r.poll(77)
    assert ei.value.code == InvalidServiceHandle
    with pytest.raises(ServiceError):
        r.unsubscribe(77)
    with pytest.raises(ServiceError) as ei:
        r.subscribe("x", 0)
    assert ei.value.code == DiscoveryError
    with pytest.raises(ServiceError) as ei:
        r.subscribe("re:(")
    assert ei.value.code == DiscoveryError
    h = r.subscribe("", owner=42)
    r.unsubscribe_owner(42)
    with pytest.raises(ServiceError):
        r.poll(h)
    for i in range(registry.SUBSCRIPTIONS_MAX):
        r.subscribe("")
    with pytest.raises(ServiceError) as ei:
        r.subscribe("")
    assert ei.value.code == ResourceExhausted
