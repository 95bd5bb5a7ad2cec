"""tools/linuxpeer.py's parsing, and the perf_bench driver's parameter table (bench/perf)."""
import os

import pytest

import linuxpeer

KBENCH_OUT = """kbench: Linux tsc 2596126152 Hz, rdtsc pair 26 ticks (taken off every figure)\r
BENCH null_syscall 190 1172 100\r
BENCH ipc_roundtrip 6690 7501 20
noise BENCH spawn_wait 1 2 3
BENCH page_fault 1853 9965 64
kbench: done
"""


def test_parse_kbench():
    figures = linuxpeer.parse_kbench(KBENCH_OUT.replace("\r", ""))
    assert [f["name"] for f in figures] == ["null_syscall", "ipc_roundtrip", "page_fault"]
    assert figures[0] == {"name": "null_syscall", "median": 190, "p99": 1172, "runs": 100, "unit": "ns",
                          "description": "null system call (getpid)"}


def test_parse_perf_in_ns():
    text = "PERF misc_pystone 225424 230000 5\nPERF bm_fft FAILED MemoryError: x\nPERF done 1 failed\n"
    (f,) = linuxpeer.parse_perf(text, "somewhere")
    assert (f["name"], f["median"], f["p99"], f["runs"], f["unit"]) == ("perf_misc_pystone", 225424000,
                                                                       230000000, 5, "ns")


def test_driver_pick_follows_benchrun():
    pick = linuxpeer.perf_driver().pick
    params = {(32, 10): "a", (100, 10): "b", (1000, 1000): "c", (5000, 1000): "d"}
    assert pick(params, 100, 10) == "b"
    assert pick(params, 1000, 1000) == "c"
    assert pick(params, 850, 1000) == "c"  # 10 * N' <= 12 * N
    assert pick(params, 10, 10) is None


def test_driver_covers_every_perf_bench_program():
    if not os.path.isdir(linuxpeer.PERF_SRC):
        pytest.skip("MicroPython's source is not unpacked (./multios setup)")
    driver = linuxpeer.perf_driver()
    tests = {n[:-3] for n in os.listdir(linuxpeer.PERF_SRC) if n.endswith(".py")} - {"benchrun"}
    assert not set(driver.PARAMS) & set(driver.SKIPPED)
    assert tests == set(driver.PARAMS) | set(driver.SKIPPED)
    assert set(driver.QUICK) <= set(driver.PARAMS)


def test_merge_rounds():
    def fig(name, us):
        return {"name": name, "median": us, "p99": us, "runs": 1, "unit": "ns", "description": name}
    rounds = [[fig("a", 5), fig("b", 1)], [fig("a", 3), fig("b", 2)], [fig("a", 4)]]
    a, b = linuxpeer.merge_rounds(rounds)
    assert (a["name"], a["median"], a["p99"], a["runs"]) == ("a", 4, 5, 3)
    assert (b["name"], b["median"], b["p99"], b["runs"]) == ("b", 2, 2, 2)
    assert linuxpeer.merge_rounds([[fig("a", 5)]]) == [fig("a", 5)]
