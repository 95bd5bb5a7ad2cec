"""The service-manager benchmarks still run: tools/svcbench.py in quick mode (one boot per
size, a few runs per figure, scale at 1,000 services) yields every figure, each positive.
Figures are not judged here: benchmarks are not tests. A failure shows the console tail."""
import svcbench

NAMES = ["sm_boot_ready_10", "sm_boot_ready_100", "sm_mem_10", "sm_mem_100", "sm_start_cli", "sm_start_call",
         "sm_status_cli", "sm_status_call", "sm_discover_tag", "sm_restart"]
SERIES = ["scale_load", "scale_order", "scale_discover_name", "scale_discover_glob", "scale_discover_tag",
          "scale_gc", "scale_bytes_per_service"]


def test_svcbench_quick():
    # Each boot and the scale run wait with their own timeouts (svcbench.py); a failure
    # raises SvcBenchError with the guest console's last lines.
    figures = svcbench.run(quick=True, log=lambda line: None)
    by_name = {f["name"]: f for f in figures}
    want = NAMES + ["%s_1000" % s for s in SERIES]
    assert sorted(by_name) == sorted(want), sorted(by_name)
    for f in figures:
        assert f["median"] > 0 and f["runs"] >= 1, f
        assert f["p99"] is None or f["p99"] >= f["median"], f
        assert f["unit"] in ("ns", "bytes", "bytes/service") and f["description"], f
    for s in SERIES:
        f = by_name["%s_1000" % s]
        assert f["series"] == s and f["x"] == 1000, f
