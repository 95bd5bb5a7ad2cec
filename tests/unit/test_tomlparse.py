"""Tests for services/svcmgr/tomlparse.py: the toml-test corpus plus focused cases."""

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import seed_example

import tomlparse
from tomlparse import (LocalDate, LocalDateTime, LocalTime, OffsetDateTime,
                       TomlError, loads, loads_bytes, loads_with_lines)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "conformance" / "toml-test"
MODULE_DIR = REPO / "services" / "svcmgr"
NO_CORPUS = "toml-test corpus not found at %s (it is not copied into the repo)" % CORPUS


def _cases(kind):
    folder = CORPUS / kind
    if not folder.is_dir():
        return [pytest.param(None, id=kind + "-corpus-missing")]
    return [pytest.param(p, id=p.relative_to(CORPUS).with_suffix("").as_posix())
            for p in sorted(folder.rglob("*.toml"))]


def _tagged(value):
    """Our value in toml-test's tagged JSON form, floats normalised."""
    if isinstance(value, dict):
        return {k: _tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, bool):
        return {"type": "bool", "value": "true" if value else "false"}
    if isinstance(value, int):
        return {"type": "integer", "value": str(value)}
    if isinstance(value, float):
        return {"type": "float", "value": _float_text(value)}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    kinds = {OffsetDateTime: "datetime", LocalDateTime: "datetime-local",
             LocalDate: "date-local", LocalTime: "time-local"}
    return {"type": kinds[type(value)], "value": value.isoformat()}


def _float_text(f):
    return "nan" if math.isnan(f) else repr(f)


def _expected(tagged):
    """The corpus's tagged JSON with float texts normalised to compare by value."""
    if isinstance(tagged, list):
        return [_expected(v) for v in tagged]
    if set(tagged) == {"type", "value"} and isinstance(tagged["value"], str):
        if tagged["type"] == "float":
            return {"type": "float", "value": _float_text(float(tagged["value"]))}
        return tagged
    return {k: _expected(v) for k, v in tagged.items()}


@pytest.mark.parametrize("path", _cases("valid"))
def test_valid(path):
    if path is None:
        pytest.skip(NO_CORPUS)
    data = path.read_bytes()
    expected = _expected(json.loads(path.with_suffix(".json").read_text(encoding="utf-8")))
    assert _tagged(loads_bytes(data, str(path))) == expected
    assert _tagged(loads(data.decode("utf-8"), str(path))) == expected


@pytest.mark.parametrize("path", _cases("invalid"))
def test_invalid(path):
    if path is None:
        pytest.skip(NO_CORPUS)
    with pytest.raises(TomlError) as info:
        loads_bytes(path.read_bytes(), str(path))
    err = info.value
    assert err.filename == str(path)
    assert err.line >= 1 and err.col >= 1 and err.reason


SEED = seed_example.WEB_SERVER


def test_seed_example():
    assert loads(SEED, "web.toml") == {
        "service": {
            "name": "web-server",
            "display_name": "Web Server",
            "description": "HTTP web server",
            "type": "UserService",
            "auto_restart": True,
            "max_restarts": 5,
            "health_check_interval": 30000,
            "dependencies": {"required": ["database", "cache"], "optional": ["logging"]},
            "network": {
                "bind_address": "0.0.0.0",
                "bind_port": 8080,
                "protocol": "Http",
                "ssl_enabled": True,
            },
            "resources": {
                "cpu_limit": 2.0,
                "memory_limit": "512MB",
                "file_descriptor_limit": 1024,
            },
        }
    }


def test_seed_example_lines():
    doc, lines = loads_with_lines(SEED, "web.toml")
    assert doc == loads(SEED)
    assert lines[("service",)] == 1
    assert lines[("service", "name")] == 2
    assert lines[("service", "health_check_interval")] == 8
    assert lines[("service", "dependencies")] == 10
    assert lines[("service", "dependencies", "required")] == 11
    assert lines[("service", "dependencies", "required", 1)] == 11
    assert lines[("service", "network", "bind_port")] == 16
    assert lines[("service", "resources")] == 20
    assert lines[("service", "resources", "file_descriptor_limit")] == 23


def test_lines_for_arrays_inline_tables_and_dotted_keys():
    text = """\
title = "x"
[[svc]]
name = "a"
[[svc]]
name = "b"
deps = [
  "a",
  { name = "c", optional = true },
]
[svc.env]
path.bin = "/bin"
"""
    doc, lines = loads_with_lines(text)
    assert doc["svc"][1]["env"] == {"path": {"bin": "/bin"}}
    assert lines[("title",)] == 1
    assert lines[("svc",)] == 2
    assert lines[("svc", 0)] == 2
    assert lines[("svc", 0, "name")] == 3
    assert lines[("svc", 1)] == 4
    assert lines[("svc", 1, "name")] == 5
    assert lines[("svc", 1, "deps")] == 6
    assert lines[("svc", 1, "deps", 0)] == 7
    assert lines[("svc", 1, "deps", 1)] == 8
    assert lines[("svc", 1, "deps", 1, "optional")] == 8
    assert lines[("svc", 1, "env")] == 10
    assert lines[("svc", 1, "env", "path")] == 11
    assert lines[("svc", 1, "env", "path", "bin")] == 11


def test_lines_implicit_table_takes_its_explicit_header_line():
    _, lines = loads_with_lines("[a.b]\nx = 1\n\n[a]\ny = 2\n")
    assert lines[("a", "b")] == 1
    assert lines[("a",)] == 4
    assert lines[("a", "y")] == 5


def test_loads_bytes_with_lines():
    doc, lines = loads_bytes(SEED.encode(), "web.toml", with_lines=True)
    assert doc == loads(SEED)
    assert lines == loads_with_lines(SEED)[1]


@pytest.mark.parametrize("text, line, col, reason", [
    ("a = 1\nb = \n", 2, 5, "expected a value"),
    ("a = 1\na = 2\n", 2, 1, "duplicate key 'a'"),
    ('[t]\nx = "abc\n', 2, 5, "unterminated string"),
    ("x = 1979-02-29\n", 1, 5, "day out of range"),
    ('k = "\\q"\n', 1, 6, "invalid escape sequence"),
    ('name = "é" junk\n', 1, 12, "expected end of line"),
    ("\ufeffa = [1,,2]\n", 1, 8, "expected a value"),
    ("[a]\nx = 1\n[a]\n", 3, 1, "defined more than once"),
    ("a = 1\r\nb = 2 3\r\n", 2, 7, "expected end of line"),
    ("a = 0x\n", 1, 5, "invalid"),
    ("a = 012\n", 1, 5, "leading zeros"),
    ("t = {a = 1,\n b = 2}\n", 1, 12, "same line"),
    ("x = 1\ny = x\n", 2, 5, "must be quoted"),
])
def test_error_positions(text, line, col, reason):
    with pytest.raises(TomlError) as info:
        loads(text, "svc.toml")
    err = info.value
    assert (err.line, err.col) == (line, col), str(err)
    assert reason in err.reason


def test_error_format():
    with pytest.raises(ValueError) as info:
        loads("a = 1\nb = \n", "svc.toml")
    err = info.value
    assert isinstance(err, TomlError)
    assert err.filename == "svc.toml"
    assert str(err) == "svc.toml:2:5: expected a value"


@pytest.mark.parametrize("data, line, col", [
    (b'a = 1\nb = "\xff"\n', 2, 6),
    (b'a = "\xc3\xa9\xed\xa0\x80"\n', 1, 7),  # encoded surrogate
    (b"# \xc0\xaf overlong\n", 1, 3),
    (b"x = 1 # \xf4\x90\x80\x80 beyond U+10FFFF\n", 1, 9),
    (b'a = "\xe2\x82', 1, 6),  # truncated at end of file
    (b"\xff\xfea\x00", 1, 1),  # UTF-16
])
def test_loads_bytes_rejects_bad_utf8(data, line, col):
    with pytest.raises(TomlError) as info:
        loads_bytes(data, "svc.toml")
    err = info.value
    assert (err.line, err.col) == (line, col), str(err)
    assert "UTF-8" in err.reason


def test_loads_bytes_accepts_utf8_and_bom():
    data = '\ufeffname = "café 😀"\n# ünïcode comment\n'.encode()
    assert loads_bytes(data) == {"name": "café 😀"}
    assert loads_bytes(bytearray(data)) == {"name": "café 😀"}


def test_loads_takes_only_str():
    with pytest.raises(TypeError):
        loads(b"a = 1")
    with pytest.raises(TomlError):
        loads('a = "\ud800"')


def test_dates_and_times():
    doc = loads("""\
odt = 1979-05-27T00:32:00.999999-07:30
utc = 1979-05-27 07:32:00z
ldt = 1979-05-27T07:32:00.5
ld = 2000-02-29
lt = 23:59:60.123456789
""")
    assert doc["odt"] == OffsetDateTime(1979, 5, 27, 0, 32, 0, 999999, -450)
    assert doc["odt"].isoformat() == "1979-05-27T00:32:00.999999-07:30"
    assert doc["utc"].isoformat() == "1979-05-27T07:32:00Z"
    assert doc["utc"].offset_minutes == 0
    assert doc["ldt"] == LocalDateTime(1979, 5, 27, 7, 32, 0, 500000)
    assert doc["ldt"].isoformat() == "1979-05-27T07:32:00.500"
    assert doc["ld"] == LocalDate(2000, 2, 29)
    assert (doc["ld"].year, doc["ld"].month, doc["ld"].day) == (2000, 2, 29)
    assert doc["lt"] == LocalTime(23, 59, 60, 123456)  # extra precision truncated
    assert repr(doc["ld"]) == "LocalDate('2000-02-29')"
    assert doc["ld"] != LocalDate(2000, 3, 1)
    assert doc["ld"] != "2000-02-29"
    assert len({LocalDate(2000, 2, 29), doc["ld"]}) == 1
    for bad in ("1900-02-29", "2023-04-31", "2023-01-01T00:00:00+24:00", "00:00:61"):
        with pytest.raises(TomlError):
            loads("x = " + bad)


def test_numbers():
    doc = loads("""\
max = 9_223_372_036_854_775_807
min = -9223372036854775808
hex = 0xDEAD_beef
oct = 0o755
bin = 0b1101
flt = -1_000.5e-3
neg_zero = -0.0
pinf = +inf
nnan = -nan
""")
    assert doc["max"] == 2**63 - 1 and doc["min"] == -2**63
    assert (doc["hex"], doc["oct"], doc["bin"]) == (0xDEADBEEF, 0o755, 13)
    assert doc["flt"] == -1.0005
    assert math.copysign(1.0, doc["neg_zero"]) == -1.0
    assert doc["pinf"] == math.inf and math.isnan(doc["nnan"])
    for bad in ("9223372036854775808", "-9223372036854775809", "+0x1", "1__0", "0b2"):
        with pytest.raises(TomlError):
            loads("x = " + bad)


def test_multiline_strings():
    doc = loads('a = """\r\nx\r\ny\\\r\n   z"""\r\nb = \'\'\'\r\nl\r\n\'\'\'\r\nc = """""x"""""\n')
    assert doc == {"a": "x\nyz", "b": "l\n", "c": '""x""'}


def test_table_rules():
    doc = loads("""\
[fruit]
apple.color = "red"
apple.taste.sweet = true
[fruit.apple.texture]
smooth = true
""")
    assert doc["fruit"]["apple"]["texture"] == {"smooth": True}
    for bad in ('[fruit]\napple.color = "red"\n[fruit.apple]\n',
                "a = {b = 1}\na.c = 2\n",
                "a = [1]\n[[a]]\n",
                "[[a]]\n[a]\n"):
        with pytest.raises(TomlError):
            loads(bad)


def test_nesting_limit():
    ok = tomlparse.MAX_NESTING
    assert loads("a = " + "[" * ok + "]" * ok)["a"] is not None
    assert loads("a = " + "{b = " * ok + "1" + "}" * ok)["a"]["b"]
    for text in ("a = " + "[" * 1000 + "]" * 1000, "a = " + "{b = " * 1000 + "1" + "}" * 1000):
        with pytest.raises(TomlError) as info:
            loads(text)
        assert "nest" in info.value.reason


# Runs under MicroPython, which has no pathlib or pytest: the corpus check again.
MICROPYTHON_RUNNER = r'''
import sys, os, json
sys.path.insert(0, sys.argv[1])
import tomlparse as T

def walk(d, out):
    for name in sorted(os.listdir(d)):
        p = d + "/" + name
        if os.stat(p)[0] & 0x4000:
            walk(p, out)
        elif name.endswith(".toml"):
            out.append(p)
    return out

def same(got, exp):
    if type(exp) is list:
        return type(got) is list and len(got) == len(exp) and all(
            same(g, e) for g, e in zip(got, exp))
    if "type" in exp and "value" in exp and type(exp["value"]) is str:
        t, v = exp["type"], exp["value"]
        if t == "string":
            return type(got) is str and got == v
        if t == "integer":
            return type(got) is int and got == int(v)
        if t == "bool":
            return type(got) is bool and got == (v == "true")
        if t == "float":
            f = float(v)
            if type(got) is not float:
                return False
            if f != f:
                return got != got
            # MicroPython's float parser may be off in the last place.
            return got == f or abs(got - f) <= 1e-15 * abs(f)
        cls = {"datetime": T.OffsetDateTime, "datetime-local": T.LocalDateTime,
               "date-local": T.LocalDate, "time-local": T.LocalTime}[t]
        return type(got) is cls and got.isoformat() == v
    return (type(got) is dict and sorted(got.keys()) == sorted(exp.keys())
            and all(same(got[k], exp[k]) for k in exp))

def read(p):
    with open(p, "rb") as f:
        return f.read()

root = sys.argv[2]
failed = 0
for p in walk(root + "/valid", []):
    try:
        with open(p[:-5] + ".json") as f:
            exp = json.load(f)
        if not same(T.loads_bytes(read(p), p), exp):
            print("FAIL valid (wrong value):", p)
            failed += 1
    except Exception as e:
        print("FAIL valid:", p, repr(e))
        failed += 1
for p in walk(root + "/invalid", []):
    try:
        T.loads_bytes(read(p), p)
        print("FAIL invalid (accepted):", p)
        failed += 1
    except T.TomlError:
        pass
    except Exception as e:
        print("FAIL invalid (wrong exception):", p, repr(e))
        failed += 1
print("failed", failed)
'''


def test_corpus_under_micropython(tmp_path):
    """Optional: set MICROPYTHON to a unix-port binary (or put one on PATH)."""
    binary = os.environ.get("MICROPYTHON") or shutil.which("micropython")
    if not binary:
        pytest.skip("no MicroPython binary (set MICROPYTHON=/path/to/micropython)")
    if not CORPUS.is_dir():
        pytest.skip(NO_CORPUS)
    runner = tmp_path / "run_corpus.py"
    runner.write_text(MICROPYTHON_RUNNER)
    out = subprocess.run([binary, str(runner), str(MODULE_DIR), str(CORPUS)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("failed 0"), out.stdout
