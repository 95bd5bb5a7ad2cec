"""services/svcmgr/versions.py: versions, constraints, dependency specs."""

import pytest

from versions import Constraint, compare, is_version, parse_dependency, parse_version


@pytest.mark.parametrize("a,b,r", [
    ("1", "1.0.0", 0), ("2.0", "2", 0), ("1.2", "1.10", -1), ("2.0.1", "2.0", 1),
    ("1.0.0-rc.1", "1.0.0", -1), ("1.0.0-alpha", "1.0.0-beta", -1), ("1.0.0-2", "1.0.0-10", -1),
    ("1.0.0-1", "1.0.0-alpha", -1), ("v3.1", "3.1.0", 0), ("1.0+build.5", "1.0", 0),
    ("1.2.3.4", "1.2.3", 1),
])
def test_compare(a, b, r):
    assert compare(a, b) == r
    assert compare(b, a) == -r


@pytest.mark.parametrize("text", ["", "a", "1..2", "1.2.", "1.2.3.4.5", "1.-1", "1.0-", "1.0+", "1.0-a b", "x1"])
def test_not_versions(text):
    assert not is_version(text)
    with pytest.raises(ValueError):
        parse_version(text)


@pytest.mark.parametrize("constraint,yes,no", [
    (">=2.0,<3", ["2", "2.0", "2.9.9", "2.5-rc.1"], ["1.9", "3", "3.0.0", "3.1"]),
    ("==2.1", ["2.1", "2.1.0"], ["2.1.1", "2.0"]),
    ("2.1", ["2.1.0"], ["2.2"]),
    ("!=2.1", ["2.0", "2.2"], ["2.1.0"]),
    (">1,<=2", ["1.0.1", "2", "2.0.0"], ["1", "2.0.1"]),
    ("~=2.1", ["2.1", "2.5", "2.99"], ["2.0", "3.0"]),
    ("~=2.1.3", ["2.1.3", "2.1.9"], ["2.1.2", "2.2.0"]),
    ("==2.*", ["2", "2.0.1", "2.9"], ["1.9", "3.0"]),
    ("2.1.*", ["2.1.0", "2.1.7"], ["2.2"]),
    ("!=2.*", ["1.0", "3.0"], ["2.4"]),
    ("*", ["0.0.1", "99"], []),
    ("", ["1"], []),
    (" >= 1.0 , < 2 ", ["1.5"], ["2.0"]),
])
def test_constraints(constraint, yes, no):
    c = Constraint(constraint)
    for v in yes:
        assert c.matches(v), (constraint, v)
    for v in no:
        assert not c.matches(v), (constraint, v)
    assert not c.matches("not a version") or constraint in ("*", "")
    assert str(c) == constraint.strip()


@pytest.mark.parametrize("text,reason", [
    (">=", "needs a version"), (">=2,", "empty clause"), ("=>2", "unknown operator"),
    (">=2.*", "a wildcard needs == or !="), ("2.*.1", "wildcard must be the last part"),
    ("~=2", "~= needs at least two numbers"), ("<*", "only == takes a bare *"), (">=x", "not numbers"),
])
def test_bad_constraints(text, reason):
    with pytest.raises(ValueError) as ei:
        Constraint(text)
    assert reason in str(ei.value)


def test_dependency():
    name, c = parse_dependency("database>=2.0,<3")
    assert name == "database" and c.matches("2.4") and not c.matches("3")
    assert parse_dependency("cache") == ("cache", None)
    name, c = parse_dependency("  web.v2 ~=1.4 ")
    assert name == "web.v2" and c.matches("1.9")
    with pytest.raises(ValueError):
        parse_dependency(">=2")
    with pytest.raises(ValueError):
        parse_dependency("db 2")
