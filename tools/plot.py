"""Scaling charts as SVG, standard library only: size on x, the measured value on y, both on
log scales, one chart per series (median, and p99 where measured).

    scaling_plots(figures, out_dir) -> [paths written]
figures: bench figures carrying "series" and "x" (see tools/bench.py).
"""
import math
import os

W, H = 560, 360
LEFT, RIGHT, TOP, BOTTOM = 80, 45, 40, 50
COLORS = {"median": "#1f77b4", "p99": "#d62728"}
UNIT_SCALE = {"ns": [(1e9, "s"), (1e6, "ms"), (1e3, "us"), (1, "ns")],
              "bytes": [(1 << 20, "MiB"), (1 << 10, "KiB"), (1, "B")],
              "bytes/service": [(1 << 10, "KiB"), (1, "B")]}


def _fmt(value, unit):
    for scale, suffix in UNIT_SCALE.get(unit, [(1, unit)]):
        if value >= scale:
            return "%g %s" % (float("%.3g" % (value / scale)), suffix)
    return "%g %s" % (value, unit)


def _decades(lo, hi):
    """Powers of ten covering [lo, hi] (at least two)."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if a == b:
        b += 1
    return [10.0 ** e for e in range(a, b + 1)]


def svg_chart(title, unit, lines, x_label="services defined"):
    """lines: {label: [(x, y), ...]} with x, y > 0. Returns the SVG text."""
    xs = [x for pts in lines.values() for x, _ in pts]
    ys = [y for pts in lines.values() for _, y in pts]
    xt, yt = _decades(min(xs), max(xs)), _decades(min(ys), max(ys))
    lx0, lx1 = math.log10(xt[0]), math.log10(xt[-1])
    ly0, ly1 = math.log10(yt[0]), math.log10(yt[-1])

    def px(x):
        return LEFT + (math.log10(x) - lx0) / (lx1 - lx0) * (W - LEFT - RIGHT)

    def py(y):
        return H - BOTTOM - (math.log10(y) - ly0) / (ly1 - ly0) * (H - TOP - BOTTOM)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="11">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="14" text-anchor="middle">%s</text>' % (W // 2, _esc(title))]
    for x in xt:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (px(x), TOP, px(x), H - BOTTOM))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (px(x), H - BOTTOM + 16, "{:,}".format(int(x))))
    for y in yt:
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (LEFT, py(y), W - RIGHT, py(y)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (LEFT - 6, py(y) + 4, _fmt(y, unit)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>'
               % (LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM))
    out.append('<text x="%d" y="%d" text-anchor="middle">%s (log)</text>' % ((LEFT + W - RIGHT) // 2, H - 12, x_label))
    out.append('<text x="14" y="%d" text-anchor="middle" transform="rotate(-90 14 %d)">%s (log)</text>'
               % ((TOP + H - BOTTOM) // 2, (TOP + H - BOTTOM) // 2, "bytes" if unit.startswith("bytes") else "time"))
    for n, (label, pts) in enumerate(sorted(lines.items())):
        color = COLORS.get(label, "#2ca02c")
        pts = sorted(pts)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (color, " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts)))
        for x, y in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s at %s: %s</title></circle>'
                       % (px(x), py(y), color, label, "{:,}".format(int(x)), _fmt(y, unit)))
        out.append('<text x="%d" y="%d" fill="%s">%s</text>' % (LEFT + 10, TOP + 16 + 14 * n, color, _esc(label)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def scaling_plots(figures, out_dir):
    by_series = {}
    for f in figures:
        if f.get("series") and f.get("x") and f.get("median"):
            by_series.setdefault(f["series"], []).append(f)
    paths = []
    for series, fs in sorted(by_series.items()):
        lines = {"median": [(f["x"], f["median"]) for f in fs]}
        if all(f.get("p99") for f in fs):
            lines["p99"] = [(f["x"], f["p99"]) for f in fs]
        title = fs[0].get("series_title") or series.replace("_", " ")
        path = os.path.join(out_dir, series + ".svg")
        with open(path, "w") as out:
            out.write(svg_chart(title, fs[0].get("unit", "ns"), lines))
        paths.append(os.path.relpath(path, out_dir))
    return paths
