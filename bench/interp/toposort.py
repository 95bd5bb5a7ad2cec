# Kahn's topological sort of 10,000 services with 30,000 dependency edges,
# drawn by an LCG so every run and interpreter sees the same graph. Times
# building the graph and sorting it; checks the order afterwards.
# Prints: RESULT toposort <ms>
from _clock import elapsed_ms, start

NODES = 10000
EDGES = 30000


def edges():
    # Numerical Recipes' LCG; products stay below 2**53, small ints everywhere.
    x = 12345
    out = []
    while len(out) < EDGES:
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        a = (x >> 16) % NODES
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        b = (x >> 16) % NODES
        if a != b:
            # Edges point from the lower to the higher number: a DAG.
            out.append((min(a, b), max(a, b)))
    return out


def toposort(names, deps):
    succ = {}
    indegree = {}
    for name in names:
        succ[name] = []
        indegree[name] = 0
    for before, after in deps:
        succ[before].append(after)
        indegree[after] += 1
    ready = [name for name in names if indegree[name] == 0]
    head = 0
    while head < len(ready):
        name = ready[head]
        head += 1
        for after in succ[name]:
            indegree[after] -= 1
            if indegree[after] == 0:
                ready.append(after)
    return ready


def main():
    pairs = edges()
    t0 = start()
    names = ["svc-%d" % i for i in range(NODES)]
    deps = [(names[a], names[b]) for a, b in pairs]
    order = toposort(names, deps)
    ms = elapsed_ms(t0)
    position = {name: i for i, name in enumerate(order)}
    if len(order) != NODES or any(position[a] > position[b] for a, b in deps):
        raise SystemExit("toposort: wrong order")
    print("RESULT toposort %.1f" % ms)


main()
