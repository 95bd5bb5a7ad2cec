# The dependency graph between services, by name.
#
# Edges point from a service to what it needs: required edges (the service starts only
# once they are ready, and stops when they stop) and optional ones (they only order the
# start: the service waits for them to settle, running or not, and never fails for them).
# A name may be needed before (or without) being defined; such edges are kept and
# count once the name is defined.
#
# Everything is O(V + E) and iterative: MicroPython's C stack is too small for a
# recursive walk over a chain of 10,000 services.

from mos_consts import CircularDependency
from errors import ServiceError


_COPY_BELOW = 16  # see _append


class Graph:
    def __init__(self):
        self.req = {}   # name -> tuple of required names
        self.opt = {}   # name -> tuple of optional names
        self.rreq = {}  # name -> list of names that require it (defined or not)
        self.ropt = {}  # name -> list of names that want it
        # Optional edges (a, b) that would close an ordering cycle: kept, but not
        # ordering. Recomputed by check().
        self.loose = set()

    def __contains__(self, name):
        return name in self.req

    def __len__(self):
        return len(self.req)

    def names(self):
        return list(self.req)

    def add(self, name, required=(), optional=()):
        if name in self.req:
            self.remove(name)
        self.req[name] = tuple(required)
        self.opt[name] = tuple(optional)
        for d in self.req[name]:
            _append(self.rreq, d, name)
        for d in self.opt[name]:
            _append(self.ropt, d, name)

    def remove(self, name):
        for d in self.req.pop(name, ()):
            _discard(self.rreq, d, name)
        for d in self.opt.pop(name, ()):
            _discard(self.ropt, d, name)

    def required(self, name):
        return self.req.get(name, ())

    def optional(self, name):
        return self.opt.get(name, ())

    def required_by(self, name):
        """Defined services that require name."""
        return self.rreq.get(name, ())

    def wanted_by(self, name):
        return self.ropt.get(name, ())

    def orders(self, name, dep):
        """Whether optional dependency dep orders name's start."""
        return dep in self.req and (name, dep) not in self.loose

    # Cycles.

    def cycles(self):
        """Every cycle of required edges, one per strongly connected component, each as a
        list of names that starts and ends with the same name: [a, b, c, a]."""
        return [_cycle_in(comp, self.req) for comp in _components(self.req, self.req)]

    def check(self):
        """Cycles of required edges (see cycles()); also recomputes which optional edges
        would close an ordering cycle (self.loose) and returns those as a second list of
        cycles."""
        succ = {}
        for n in self.req:
            succ[n] = self.req[n] + self.opt[n]
        loose = set()
        soft = []
        for comp in _components(succ, self.req):
            members = set(comp)
            first = None
            for n in comp:
                for d in self.opt[n]:
                    if d in members:
                        loose.add((n, d))
                        if first is None or (n, d) < first:
                            first = (n, d)
            if first is not None:
                # Name one cycle through a loose edge: n -> d -> ... -> n.
                soft.append([first[0]] + _path(members, succ, first[1], first[0]))
        self.loose = loose
        return self.cycles(), soft

    def cycle_through(self, name):
        """A cycle of required edges through name ([name, ..., name]), or None."""
        if name not in self.req:
            return None
        parent = {name: None}
        queue = [name]
        i = 0
        while i < len(queue):
            n = queue[i]
            i += 1
            for d in self.req.get(n, ()):
                if d == name:
                    path = [n]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    path.reverse()
                    path.append(name)
                    return path
                if d in self.req and d not in parent:
                    parent[d] = n
                    queue.append(d)
        return None

    # Orders.

    def waves(self, names=None):
        """Start waves: lists of names such that every name's ordering dependencies
        (required, and optional ones that are defined and not loose) are in earlier
        waves; within a wave, the order of names (default: definition order). Names in or
        behind a required cycle are left out; see cycles()."""
        if names is None:
            names = list(self.req)
        chosen = set(names)
        indeg = {}
        for n in names:
            k = 0
            for d in self.req.get(n, ()):
                if d in chosen:
                    k += 1
            for d in self.opt.get(n, ()):
                if d in chosen and (n, d) not in self.loose:
                    k += 1
            indeg[n] = k
        wave = [n for n in names if indeg[n] == 0]
        out = []
        while wave:
            out.append(wave)
            nxt = []
            for d in wave:
                for n in self.rreq.get(d, ()):
                    if n in indeg:
                        indeg[n] -= 1
                        if indeg[n] == 0:
                            nxt.append(n)
                for n in self.ropt.get(d, ()):
                    if n in indeg and (n, d) not in self.loose:
                        indeg[n] -= 1
                        if indeg[n] == 0:
                            nxt.append(n)
            wave = nxt
        return out

    def closure(self, name):
        """name and everything it requires, transitively, dependencies first (a start
        order); names that are not defined are left out."""
        if name not in self.req:
            return []
        return _postorder(name, self.req, self.req)

    def dependents(self, name, transitive=True):
        """Services that require name (transitively), in a stop order: each before
        anything it requires."""
        if not transitive:
            return [n for n in self.rreq.get(name, ()) if n in self.req]
        order = _postorder(name, self.rreq, self.req)
        order.pop()  # name itself, which comes last
        return order


def _append(index, key, value):
    lst = index.get(key)
    if lst is None:
        index[key] = [value]
    elif len(lst) < _COPY_BELOW:
        # A new list, not a longer one: growing a list made long ago moves its array and
        # frees the old one, far back in the heap, and MicroPython's allocator then scans
        # from that hole past everything allocated since for each object of more than one
        # block. Loading N definitions, which each add a dependent to older services, was
        # O(N^2) so (100,000: 5 ms a definition instead of 2 under TCG). Long lists grow
        # by doubling, seldom.
        index[key] = lst + [value]
    else:
        lst.append(value)


def _discard(index, key, value):
    lst = index.get(key)
    if lst is not None:
        if value in lst:
            lst.remove(value)
        if not lst:
            del index[key]


def _postorder(root, succ, defined):
    # Iterative depth-first post-order from root over succ; names other than root must
    # be defined.
    seen = {root}
    out = []
    stack = [(root, iter(succ.get(root, ())))]
    while stack:
        n, it = stack[-1]
        for d in it:
            if d not in seen and d in defined:
                seen.add(d)
                stack.append((d, iter(succ.get(d, ()))))
                break
        else:
            stack.pop()
            out.append(n)
    return out


def _components(succ, defined):
    """Strongly connected components with a cycle (more than one node, or a self
    edge), by Tarjan's algorithm without recursion."""
    index = {}
    low = {}
    on = set()
    st = []
    comps = []
    counter = 0
    for root in succ:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        st.append(root)
        on.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            n, it = work[-1]
            pushed = False
            for d in it:
                if d not in defined:
                    continue
                if d not in index:
                    index[d] = low[d] = counter
                    counter += 1
                    st.append(d)
                    on.add(d)
                    work.append((d, iter(succ[d])))
                    pushed = True
                    break
                if d in on and index[d] < low[n]:
                    low[n] = index[d]
            if pushed:
                continue
            work.pop()
            if work:
                p = work[-1][0]
                if low[n] < low[p]:
                    low[p] = low[n]
            if low[n] == index[n]:
                comp = []
                while True:
                    m = st.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == n:
                        break
                if len(comp) > 1 or n in succ[n]:
                    comps.append(comp)
    return comps


def _path(members, succ, src, dst):
    # The shortest path src -> ... -> dst inside members (breadth first), as a list.
    parent = {src: None}
    queue = [src]
    i = 0
    while i < len(queue):
        n = queue[i]
        i += 1
        if n == dst:
            path = [n]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            path.reverse()
            return path
        for d in succ[n]:
            if d in members and d not in parent:
                parent[d] = n
                queue.append(d)
    return [src, dst]


def _cycle_in(comp, succ):
    # The shortest cycle through the component's first name in sorted order, found by a
    # breadth-first search inside the component: deterministic and readable.
    members = set(comp)
    start = min(comp)
    parent = {start: None}
    queue = [start]
    i = 0
    while i < len(queue):
        n = queue[i]
        i += 1
        for d in succ[n]:
            if d == start:
                path = [n]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                path.reverse()
                path.append(start)
                return path
            if d in members and d not in parent:
                parent[d] = n
                queue.append(d)
    return [start, start]


def format_cycle(cycle):
    return " -> ".join(cycle)


def cycle_error(cycle):
    return ServiceError(CircularDependency, "circular dependency: " + format_cycle(cycle))
