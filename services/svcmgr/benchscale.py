# The service manager at scale, for ./multios bench (tools/svcbench.py):
#   /sbin/svcmgr [-X heapmax=N] -- --bench-scale N [SEED]
# defines N generated services (seeded random dependency DAG) through the code path of
# /etc/services (definition text in TOML, parsed, checked, defined, the graph checked for
# cycles), computes the boot's start order, and times discovery queries. Nothing is
# started. It prints one line per figure and a last "SCALE done":
#   SCALE load_ns N T                   load_definitions of all N texts
#   SCALE order_ns N T                  the start waves of all N
#   SCALE discover_name_ns N MEDIAN P99 RUNS    an exact name (1 match)
#   SCALE discover_glob_ns N MEDIAN P99 RUNS    "gen-0012*" (100 matches)
#   SCALE discover_tag_ns N MEDIAN P99 RUNS     "tag:b123" (10 matches)
#   SCALE gc_ns N T                     one garbage collection with the N defined
#   SCALE bytes_per_service N B         GC heap held after loading, per service
# Generated names and tags keep each query's result the same size at every N, so the
# figures show the cost of finding, not of copying a growing result.
import gc

DISCOVER_RUNS = 1000  # a p99 that is not just the largest outlier or two


class Lcg:
    """The same pseudo-random numbers under MicroPython and CPython."""

    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7fffffff
        return self.x % n if n else 0


def name_of(i):
    return "gen-%06d" % i


def definition_text(i, requires):
    """A trivial service's definition, as a file in /etc/services would hold it: service i
    requires the services numbered in requires; its tags are "gen" and "b<i // 10>" (a tag
    of 10 services)."""
    text = ('[service]\nname = "%s"\ndescription = "generated service %d"\ntype = "%s"\n'
            'exec = "/bin/svctest"\nargs = ["--serve"]\nversion = "1.%d.0"\ntags = ["gen", "b%d"]\n'
            % (name_of(i), i, ("UserService", "SystemService")[i % 2], i % 7, i // 10))
    if requires:
        text += "[service.dependencies]\nrequired = [%s]\n" % ", ".join(['"%s"' % name_of(j) for j in requires])
    return text


def generate(n, seed=1):
    """[(filename, text)] of n services; each requires 0-3 services defined before it, so
    the graph is a DAG."""
    rnd = Lcg(seed)
    items = []
    for i in range(n):
        req = []
        for _ in range(rnd.below(4)):
            if i:
                j = rnd.below(i)
                if j not in req:
                    req.append(j)
        items.append(("/etc/services/%s.toml" % name_of(i), definition_text(i, req)))
    return items


def _percentiles(times):
    times.sort()
    n = len(times)
    return times[n // 2], times[min(n - 1, n * 99 // 100)]


def _time_queries(m, clock_ns, patterns, expect):
    # A collection first, so that the queries' few KiB of garbage fit beside the services
    # without one: the pause of a collection is a figure of its own (gc_ns).
    gc.collect()
    times = []
    for p in patterns:
        t0 = clock_ns()
        found = m.discover(p)
        times.append(clock_ns() - t0)
        if len(found) != expect:
            raise AssertionError("%s: %d matches, not %d" % (p, len(found), expect))
    return times


def run(n, kernel, clock_ns, out=print, seed=1, runs=DISCOVER_RUNS):
    """Measures the figures above; out(line) receives each SCALE line. Returns the
    Manager (tests look at it)."""
    from manager import Manager
    if n < 200:
        raise ValueError("at least 200 services (the glob query matches 100 names)")
    items = generate(n, seed)
    gc.collect()
    heap0 = _mem_alloc()
    t0 = clock_ns()
    m = Manager(kernel)
    report = m.load_definitions(items)
    t1 = clock_ns()
    if len(report["loaded"]) != n or report["errors"] or report["cycles"]:
        raise AssertionError("loaded %d of %d: %r" % (len(report["loaded"]), n, report["errors"][:3]))
    out("SCALE load_ns %d %d" % (n, t1 - t0))
    del items, report
    gc.collect()
    heap1 = _mem_alloc()
    t0 = clock_ns()
    waves = m.graph.waves(list(m.order))
    t1 = clock_ns()
    if sum([len(w) for w in waves]) != n:
        raise AssertionError("the waves hold %d names, not %d" % (sum([len(w) for w in waves]), n))
    out("SCALE order_ns %d %d" % (n, t1 - t0))
    del waves
    rnd = Lcg(seed + 1)
    pats = [name_of(rnd.below(n)) for _ in range(runs)]
    med, p99 = _percentiles(_time_queries(m, clock_ns, pats, 1))
    out("SCALE discover_name_ns %d %d %d %d" % (n, med, p99, runs))
    pats = ["gen-%04d*" % rnd.below(n // 100) for _ in range(runs)]
    med, p99 = _percentiles(_time_queries(m, clock_ns, pats, 100))
    out("SCALE discover_glob_ns %d %d %d %d" % (n, med, p99, runs))
    pats = ["tag:b%d" % rnd.below(n // 10) for _ in range(runs)]
    med, p99 = _percentiles(_time_queries(m, clock_ns, pats, 10))
    out("SCALE discover_tag_ns %d %d %d %d" % (n, med, p99, runs))
    t0 = clock_ns()
    gc.collect()
    out("SCALE gc_ns %d %d" % (n, clock_ns() - t0))
    if heap0 is not None:
        out("SCALE bytes_per_service %d %d" % (n, (heap1 - heap0) // n))
    return m


def _mem_alloc():
    f = getattr(gc, "mem_alloc", None)  # MicroPython only
    return f() if f is not None else None


def main(argv, kernel, clock_ns):
    """/sbin/svcmgr --bench-scale N [SEED] (main.py calls this with its guest kernel)."""
    i = argv.index("--bench-scale")
    n = int(argv[i + 1])
    seed = int(argv[i + 2]) if len(argv) > i + 2 else 1
    run(n, kernel, clock_ns, seed=seed)
    print("SCALE done")
