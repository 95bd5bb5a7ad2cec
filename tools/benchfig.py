"""What every bench module shares: the figure record, the "BENCH name median_ns p99_ns runs"
lines the guest programs print (kbench, svcbench), and merging rounds (boots) of figures.

A figure: {"name", "median", "p99" (or None), "runs", "unit": "ns" | "bytes" | ..., "description"}.
"""
import re

BENCH_LINE = re.compile(r"^BENCH (\w+) (\d+) (\d+) (\d+)\s*$", re.M)


def figure(name, median, p99=None, runs=1, unit="ns", description=None, **extra):
    f = {"name": name, "median": median, "p99": p99, "runs": runs, "unit": unit, "description": description or name}
    f.update(extra)
    return f


def parse_bench_lines(text, descriptions=None):
    """Every "BENCH name median_ns p99_ns runs" line of TEXT as a figure (ns)."""
    descriptions = descriptions or {}
    return [figure(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                   description=descriptions.get(m.group(1))) for m in BENCH_LINE.finditer(text)]


def merge_rounds(rounds):
    """Figures of several rounds (lists of figures) as one list: per name, the median of the
    rounds' medians, the largest p99 and the runs of all rounds; names in the first round's
    order."""
    if len(rounds) == 1:
        return rounds[0]
    merged = []
    for f in rounds[0]:
        same = [g for r in rounds for g in r if g["name"] == f["name"]]
        v = sorted(g["median"] for g in same)
        p99s = [g["p99"] for g in same if g.get("p99") is not None]
        merged.append(dict(f, median=v[len(v) // 2], p99=max(p99s) if p99s else None,
                           runs=sum(g["runs"] for g in same)))
    return merged
