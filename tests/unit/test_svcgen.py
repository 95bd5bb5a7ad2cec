"""The generators behind the booted service tests and benchmarks: tools/svcgen.py (definition
files for an initrd), tools/mkinitrd.py read/repack, and services/svcmgr/benchscale.py (the
in-guest scale benchmark), whose output must load through the real service manager."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

import benchscale  # noqa: E402 - services/svcmgr is on sys.path (conftest.py)
import definition  # noqa: E402
import mkinitrd  # noqa: E402
import svcgen  # noqa: E402
from svcmgr_fake import make  # noqa: E402


def test_trivial_services_chain_every_tenth():
    files = svcgen.trivial(25)
    assert len(files) == 27
    defs = {d.name: d for d in (definition.load(t, p) for p, t in files.items())}
    assert defs["svc-10"].requires[0][0] == "svc-9" and defs["svc-20"].requires[0][0] == "svc-19"
    assert [n for n in defs if defs[n].requires] == ["svc-10", "svc-20"]
    assert defs["svc-1"].tags == ("trivial", "b0") and defs["svc-10"].tags == ("trivial", "b0")
    assert defs["svc-11"].tags == ("trivial", "b1")
    assert not defs["bench-idle"].enabled and not defs["bench-restart"].enabled
    assert defs["bench-restart"].auto_restart and defs["bench-restart"].restart_period == 1


def test_generated_dag():
    requires, files = svcgen.generated(200)
    order = sorted(requires)
    for name, req in requires.items():
        assert all(order.index(r) < order.index(name) for r in req)
    assert len(files) == 200


def test_repack_adds_and_drops(tmp_path):
    base = tmp_path / "base"
    (base / "etc" / "services").mkdir(parents=True)
    (base / "etc" / "services" / "a.toml").write_text("a")
    (base / "etc" / "services" / "b.toml").write_text("b")
    archive = tmp_path / "base.cpio"
    archive.write_bytes(mkinitrd.pack(mkinitrd.tree_entries(str(base))))
    out = mkinitrd.repack(str(archive), str(tmp_path / "new"), {"etc/services/c.toml": "c"}, {"etc/services/a.toml"})
    files = {name: body for name, mode, body in mkinitrd.read(out) if mode & 0o100000}
    assert files == {"etc/services/b.toml": b"b", "etc/services/c.toml": b"c"}


def test_benchscale_generates_a_dag_that_loads():
    items = benchscale.generate(300, seed=3)
    assert items == benchscale.generate(300, seed=3)  # seeded
    assert items != benchscale.generate(300, seed=4)
    for i, (filename, text) in enumerate(items):
        d = definition.load(text, filename)
        assert d.name == benchscale.name_of(i)
        assert all(int(r[0][4:]) < i for r in d.requires)
        assert d.tags == ("gen", "b%d" % (i // 10))


def test_benchscale_run_reports_every_figure():
    lines = []
    k, _ = make(None, {})
    m = benchscale.run(1000, k, lambda: 0, out=lines.append, runs=20)
    names = [line.split()[1] for line in lines]
    assert names[:6] == ["load_ns", "order_ns", "discover_name_ns", "discover_glob_ns", "discover_tag_ns", "gc_ns"]
    assert len(m.registry) == 1000
    with pytest.raises(ValueError):
        benchscale.run(100, k, lambda: 0, out=lines.append)
