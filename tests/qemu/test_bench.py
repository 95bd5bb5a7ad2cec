"""./multios bench still runs: a quick pass (few runs, no guest interpreter boots) prints the
table and writes the JSON. Figures are not judged here: benchmarks are not tests."""
import json
import subprocess
import sys

import qemu_cmd


def test_bench_quick_runs(tmp_path):
    out = tmp_path / "results.json"
    r = subprocess.run([sys.executable, "tools/bench.py", "--quick", "--json", str(out)], cwd=qemu_cmd.ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    text = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, text[-3000:]
    assert "null system call" in text and "dict_str_keys" in text, text[-3000:]
    result = json.loads(out.read_text())
    names = {f["name"] for f in result["figures"]}
    assert {"null_syscall", "ipc_roundtrip", "spawn_wait", "host_dict_str_keys"} <= names
    assert all(f["median_ns"] > 0 for f in result["figures"])
