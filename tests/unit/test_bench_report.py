"""The bench's report: pairing with the peer, ratios and targets, the human units, the
scaling targets and the SVG charts. (The figures themselves come from booted guests; the
smoke run is tests/qemu/test_bench.py.)"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import bench  # noqa: E402
import plot  # noqa: E402


def test_kbench_lines_parse():
    out = "kbench: MultiOS tsc 2600000000 Hz, rdtsc pair 30 ticks\nBENCH null_syscall 230 260 20000\r\nnoise\n"
    (f,) = bench.parse_kbench(out.replace("\r", ""))
    assert (f["name"], f["median"], f["p99"], f["runs"], f["unit"]) == ("null_syscall", 230, 260, 20000, "ns")
    assert bench.TSC_LINE.search(out).group(1) == "2600000000"


def test_pairing_ratio_and_target():
    ours = [bench.figure("null_syscall", 230, 260, 10), bench.figure("ipc_roundtrip", 22000, 30000, 10),
            bench.figure("page_fault", 900, 1000, 10)]
    peer = [bench.figure("null_syscall", 460, 500, 10), bench.figure("ipc_roundtrip", 74000, 90000, 10)]
    figs = bench.pair(ours, peer, "Linux", lambda n: bench.TARGETS[n][1])
    bench.judge(figs)
    null, ipc, fault = figs
    assert null["ratio"] == 0.5 and null["target"] == 1.0 and null["target_met"] is True
    assert ipc["ratio"] == round(22000 / 74000, 3) and ipc["target_met"] is False
    assert "peer" not in fault and "ratio" not in fault and "target_met" not in fault
    text = bench.table(figs, "tcg")
    assert "Linux: 460 ns" in text and "<= 1x met" in text and "<= 0.1x missed" in text


def test_peer_only_row_has_no_ratio():
    (f,) = bench.pair([bench.figure("sm_exec_cost", None, None, 0)], [bench.figure("sm_exec_cost", 7.4e7, 8e7, 20)],
                      "systemd", lambda n: None)
    bench.judge([f])
    assert f["peer"]["median"] == 7.4e7 and "ratio" not in f
    assert "systemd: 74 ms" in bench.table([f], "tcg")


def test_human_units():
    assert bench.human(230, "ns") == "230 ns"
    assert bench.human(22000, "ns") == "22 us"
    assert bench.human(1590000, "ns") == "1.59 ms"
    assert bench.human(2.04e9, "ns") == "2.04 s"
    assert bench.human(11.2 * (1 << 20), "bytes") == "11.2 MiB"
    assert bench.human(1500, "bytes") == "1.46 KiB"
    assert bench.human(None, "ns") == ""


def _series(name, points, unit="ns"):
    return [bench.figure("%s_%d" % (name, x), m, p, 5, unit=unit, series=name, x=x) for x, m, p in points]


def test_scale_targets():
    figs = _series("scale_discover_tag", [(1000, 100, 200), (10000, 150, 400), (100000, 300, 1500)])
    figs += _series("scale_bytes_per_service", [(1000, 3000, None), (100000, 1900, None)], unit="bytes")
    growth, mem = bench.scale_targets(figs)
    assert growth["median"] == 7.5 and growth["target_met"] is True
    assert mem["median"] == 1900 and mem["target_met"] is True
    figs[2]["p99"] = 2001
    assert bench.scale_targets(figs)[0]["target_met"] is False


def test_scaling_plot_is_svg_with_every_point(tmp_path):
    figs = _series("scale_discover_tag", [(1000, 100, 200), (10000, 150, 400), (100000, 300, 1500)])
    figs += _series("scale_load", [(1000, 5e7, None), (10000, 6e8, None)])
    paths = plot.scaling_plots(figs, str(tmp_path))
    assert paths == ["scale_discover_tag.svg", "scale_load.svg"]
    root = ET.parse(tmp_path / "scale_discover_tag.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(ns + "polyline")) == 2  # median and p99
    assert len(root.findall(ns + "circle")) == 6
    labels = [t.text for t in root.findall(ns + "text")]
    assert "1,000" in labels and "100,000" in labels and "median" in labels and "p99" in labels
    load = ET.parse(tmp_path / "scale_load.svg").getroot()
    assert len(load.findall(ns + "polyline")) == 1  # no p99 measured
