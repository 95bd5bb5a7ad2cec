"""services/svcmgr/journal.py: bounded per-service logs and structured decisions."""

import json

import journal
from journal import Journal


class Clock:
    def __init__(self):
        self.t = 0

    def __call__(self):
        return self.t


def test_lines_partial_and_bounded():
    c = Clock()
    j = Journal(c, lines_per_service=3)
    j.write("a", "stdout", "one\ntw")
    c.t = 5
    j.write("a", "stdout", "o\r\nthree\n")
    j.write("a", "stderr", b"err \xff\n")
    lines = j.lines("a")
    assert len(lines) == 3 and lines[0] == (5, "stdout", "two") and lines[-1][1] == "stderr"
    assert j.dropped["a"] == 1
    assert j.lines("a", 1) == [lines[-1]] and j.lines("a", 0) == [] and j.lines("nobody") == []
    j.write("a", "stdout", "tail")
    assert j.lines("a")[-1][2] != "tail"
    j.flush("a")
    assert j.lines("a")[-1] == (5, "stdout", "tail")


def test_long_lines_are_cut():
    j = Journal(Clock())
    j.write("a", "stdout", "x" * 2000 + "\n")
    text = j.lines("a")[0][2]
    assert len(text) == journal.LINE_MAX and text.endswith("...")
    j.write("b", "stdout", "y" * 2000)  # no newline, but too long to wait for one
    assert len(j.lines("b")) == 1


def test_decisions_are_json_lines():
    c = Clock()
    seen = []
    j = Journal(c, sink=seen.append, decisions_kept=2)
    c.t = 12
    j.decide("restart", "db", "restart 1 of 5 in 100 ms", {"delay_ms": 100, "argv": ["/bin/db", "-v"]})
    line = seen[0]
    assert len(seen) == 1 and j.recent_decisions() == [line]
    assert line == ('{"t": 12, "action": "restart", "service": "db", "reason": "restart 1 of 5 in 100 ms", '
                    '"delay_ms": 100, "argv": ["/bin/db", "-v"]}')
    assert json.loads(line)["delay_ms"] == 100
    assert j.lines("db") == [(12, "svcmgr", "restart: restart 1 of 5 in 100 ms (delay_ms=100, argv=/bin/db -v)")]
    j.decide("boot", "", "x")
    j.decide("ready", "", "y")
    assert [json.loads(x)["action"] for x in j.recent_decisions()] == ["boot", "ready"]
    assert len(j.recent_decisions(1)) == 1
    j.forget("db")
    assert j.lines("db") == []
