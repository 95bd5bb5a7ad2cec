"""The Linux peer of ./multios bench boots and measures (tools/linuxpeer.py): a quick pass
prints every kbench figure and the perf_bench driver's lines, and the same quick perf_bench
run works on MultiOS's /bin/python. Figures are not judged: benchmarks are not tests."""
import pytest

import linuxpeer
import peer_debs


@pytest.fixture(scope="module")
def peer_built():
    # The peer's kernel and busybox come from Debian's archive (apt-get download, cached).
    try:
        peer_debs.linux_kernel()
        peer_debs.busybox_static()
    except peer_debs.PeerError as e:
        pytest.skip("the Linux peer's Debian packages cannot be downloaded here: %s" % e)
    return linuxpeer.build()


def test_linux_peer_quick(peer_built):
    r = linuxpeer.run(quick=True, timeout=240)
    names = [f["name"] for f in r["kbench"]]
    assert names == ["null_syscall", "ipc_roundtrip", "spawn_wait", "page_fault", "ctx_switch"], r["console"][-3000:]
    assert all(f["median"] > 0 and f["unit"] == "ns" for f in r["kbench"]), r["console"][-3000:]
    assert r["boot"]["median"] > 0 and r["kernel"] and r["busybox"].startswith("BusyBox")
    perf = {f["name"] for f in r["interp"]}
    assert perf == {"perf_" + n for n in linuxpeer.perf_driver().QUICK}, r["console"][-3000:]


def test_multios_perfbench_quick():
    figures = linuxpeer.run_multios_perfbench(quick=True, timeout=240)
    assert {f["name"] for f in figures} == {"perf_" + n for n in linuxpeer.perf_driver().QUICK}
    assert all(f["median"] > 0 for f in figures)
