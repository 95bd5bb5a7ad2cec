"""./multios bench still runs: a quick pass (few runs per figure) of every section prints the
table and writes the JSON, the table and the plots, with the Linux peer's figures beside
ours. Figures are not judged here: benchmarks are not tests (the targets are reported)."""
import json
import os
import subprocess
import sys

import qemu_cmd

KERNEL = {"null_syscall", "ipc_roundtrip", "spawn_wait", "page_fault", "ctx_switch"}


def run_bench(tmp_path, *args, timeout=900):
    out = tmp_path / "results.json"
    r = subprocess.run([sys.executable, "tools/bench.py", "--quick", "--json", str(out)] + list(args),
                       cwd=qemu_cmd.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    text = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, text[-4000:]
    return text, json.loads(out.read_text())


def test_bench_quick_runs(tmp_path):
    text, result = run_bench(tmp_path, "--skip", "systemd")
    assert "null system call" in text and "dict_str_keys" in text, text[-3000:]
    by_name = {f["name"]: f for f in result["figures"]}
    assert KERNEL <= set(by_name), sorted(by_name)
    for name in KERNEL:  # the same kbench source measured on both systems
        assert by_name[name]["peer"]["system"] == "Linux" and by_name[name]["peer"]["median"] > 0
        assert by_name[name]["ratio"] > 0
    assert by_name["boot_ready_direct"]["peer"]["median"] > 0
    perf = [f for f in result["figures"] if f["name"].startswith("perf_")]
    assert perf and all(f["peer"]["median"] > 0 for f in perf)
    assert "host_dict_str_keys" in by_name
    assert all(f["median"] > 0 for f in result["figures"] if f["median"] is not None)
    assert result["linux"]["kernel"] and (tmp_path / "table.md").exists()
