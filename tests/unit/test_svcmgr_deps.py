"""services/svcmgr/deps.py: cycles named whole, waves, closures, dependents, size."""

import random
import time

import deps
from errors import ServiceError
from mos_consts import CircularDependency


def graph(edges, optional=None):
    g = deps.Graph()
    names = set(edges) | set(optional or {})
    for n in sorted(names):
        g.add(n, (edges or {}).get(n, ()), (optional or {}).get(n, ()))
    return g


def test_cycle_named_whole():
    g = graph({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": []})
    assert g.cycles() == [["a", "b", "c", "a"]]
    assert deps.format_cycle(g.cycles()[0]) == "a -> b -> c -> a"
    e = deps.cycle_error(g.cycles()[0])
    assert isinstance(e, ServiceError) and e.code == CircularDependency
    assert str(e) == "CircularDependency: circular dependency: a -> b -> c -> a"


def test_self_loop_and_two_cycles():
    g = graph({"a": ["a"], "x": ["y"], "y": ["x"], "z": []})
    cycles = sorted(g.cycles())
    assert cycles == [["a", "a"], ["x", "y", "x"]]


def test_cycle_through_a_name():
    g = graph({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert g.cycle_through("b") == ["b", "c", "a", "b"]
    assert g.cycle_through("d") is None
    assert g.cycle_through("nope") is None


def test_undefined_dependencies_are_not_cycles():
    g = graph({"a": ["ghost"], "b": ["a"]})
    assert g.cycles() == []
    assert g.waves() == [["a"], ["b"]]
    g.add("ghost", ["b"])
    assert g.cycles() == [["a", "ghost", "b", "a"]]


def test_waves():
    g = graph({"logging": [], "database": [], "cache": [], "web-server": ["database", "cache"]},
              {"database": ["logging"], "cache": ["logging"], "web-server": ["logging"]})
    g.check()
    assert g.waves() == [["logging"], ["cache", "database"], ["web-server"]]
    assert g.waves(["web-server", "cache"]) == [["cache"], ["web-server"]]


def test_optional_cycle_is_loose_not_an_error():
    g = graph({"a": ["b"], "b": []}, {"b": ["a"]})
    hard, soft = g.check()
    assert hard == [] and soft == [["b", "a", "b"]]
    assert ("b", "a") in g.loose and not g.orders("b", "a")
    assert g.waves() == [["b"], ["a"]]


def test_required_cycle_reported_once():
    g = graph({"a": ["b"], "b": ["a"]}, {"a": ["c"], "c": ["a"]})
    hard, soft = g.check()
    assert hard == [["a", "b", "a"]]
    assert soft == [["a", "c", "a"]]


def test_closure_and_dependents():
    g = graph({"web": ["db", "cache"], "db": ["disk"], "cache": [], "disk": [], "proxy": ["web"],
               "report": ["db"]})
    c = g.closure("web")
    assert c[-1] == "web" and set(c) == {"web", "db", "cache", "disk"}
    assert c.index("disk") < c.index("db")
    d = g.dependents("db")
    assert set(d) == {"web", "proxy", "report"}
    assert d.index("proxy") < d.index("web")
    assert sorted(g.dependents("db", transitive=False)) == ["report", "web"]
    assert g.dependents("nothing") == []
    g.add("ghost-user", ["ghost"])
    assert g.dependents("ghost") == ["ghost-user"]


def test_remove():
    g = graph({"a": ["b"], "b": []})
    g.remove("a")
    assert g.required_by("b") == () and "a" not in g
    g.remove("a")


def test_long_chain_is_not_recursive():
    g = deps.Graph()
    n = 20000
    for i in range(n):
        g.add("s%d" % i, ["s%d" % (i - 1)] if i else [])
    assert len(g.closure("s%d" % (n - 1))) == n
    assert len(g.dependents("s0")) == n - 1
    assert len(g.waves()) == n
    g.add("s0", ["s%d" % (n - 1)])
    cycles = g.cycles()
    assert len(cycles) == 1 and len(cycles[0]) == n + 1


def test_ten_thousand_nodes_fast():
    rnd = random.Random(5)
    n = 10000
    g = deps.Graph()
    t0 = time.perf_counter()
    for i in range(n):
        k = min(i, rnd.randint(0, 4))
        req = ["n%05d" % j for j in rnd.sample(range(i), k)] if k else []
        opt = ["n%05d" % rnd.randrange(i)] if i and rnd.random() < 0.3 else []
        g.add("n%05d" % i, req, [o for o in opt if o not in req])
    hard, soft = g.check()
    waves = g.waves()
    elapsed = time.perf_counter() - t0
    assert hard == [] and soft == []
    assert sum(len(w) for w in waves) == n
    pos = {}
    for k, w in enumerate(waves):
        for name in w:
            pos[name] = k
    for name in g.names():
        for d in g.required(name):
            assert pos[d] < pos[name]
    # A cycle among 10,000 is found and named.
    g.add("n00000", ["n09999"])
    assert any("n00000" in c for c in g.cycles())
    assert elapsed < 5.0, elapsed


def test_dependents_kept_in_order_past_the_copy_threshold():
    # _append copies short lists and appends to long ones: the same result either way.
    g = deps.Graph()
    names = ["s%03d" % i for i in range(3 * deps._COPY_BELOW)]
    for n in names:
        g.add(n, ["base"], ["log"])
    assert list(g.required_by("base")) == names and list(g.wanted_by("log")) == names
    for n in names[::2]:
        g.remove(n)
    assert list(g.required_by("base")) == names[1::2] and list(g.wanted_by("log")) == names[1::2]
