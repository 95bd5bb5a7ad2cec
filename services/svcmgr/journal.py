# Logs: each service's stdout and stderr, and svcmgr's own decisions.
#
# A service's journal is a bounded list of (time_ms, stream, text) lines, created when
# the service first writes; the oldest lines go first. svcmgr's decisions (why a service
# was started, stopped, skipped or restarted) are structured: one JSON object per line,
# kept in a bounded list of their own, copied into the journal of the service they are
# about (stream "svcmgr") and handed to a sink (the console) as they happen. Without a
# sink they are kept as records, and made into text only when read.

import json

LINES_PER_SERVICE = 100   # lines kept per service (1,000 services: at most ~10 MB)
LINE_MAX = 512            # characters kept of one line; the rest is cut
DECISIONS_KEPT = 1000     # decision lines kept in svcmgr's own log

STDOUT = "stdout"
STDERR = "stderr"
SVCMGR = "svcmgr"


class Journal:
    def __init__(self, clock, sink=None, lines_per_service=LINES_PER_SERVICE, decisions_kept=DECISIONS_KEPT):
        self.clock = clock          # returns milliseconds
        self.sink = sink            # called with each decision line (JSON text)
        self.per_service = lines_per_service
        self.kept = decisions_kept
        self.logs = {}              # service name -> list of (t, stream, text)
        self.partial = {}           # (name, stream) -> text written without a newline yet
        self.decisions = []         # JSON lines
        self.dropped = {}           # service name -> lines dropped from the front

    def write(self, name, stream, data):
        """Appends output of a service; data may hold several lines or part of one."""
        if type(data) is not str:
            data = _decode(data)
        key = (name, stream)
        head = self.partial.pop(key, None)
        if head is not None:
            data = head + data
        parts = data.split("\n")
        tail = parts.pop()
        for line in parts:
            self._add(name, stream, line.rstrip("\r"))
        if tail:
            if len(tail) > LINE_MAX:
                self._add(name, stream, tail)
            else:
                self.partial[key] = tail

    def flush(self, name):
        """Ends a partial line of a service whose process ended."""
        for stream in (STDOUT, STDERR):
            tail = self.partial.pop((name, stream), None)
            if tail:
                self._add(name, stream, tail)

    def _add(self, name, stream, text, t=None):
        # text is a str, or a decision's record whose sentence lines() makes (t: its time).
        if type(text) is str and len(text) > LINE_MAX:
            text = text[:LINE_MAX - 3] + "..."
        lines = self.logs.get(name)
        if lines is None:
            lines = self.logs[name] = []
        if len(lines) >= self.per_service:
            del lines[0]
            self.dropped[name] = self.dropped.get(name, 0) + 1
        lines.append((self.clock() if t is None else t, stream, text))

    def lines(self, name, n=None):
        """The last n lines of a service (all kept lines when n is None), oldest first."""
        lines = self.logs.get(name, ())
        if n is not None and n <= 0:
            return []
        if n is not None and n < len(lines):
            lines = lines[len(lines) - n:]
        return [x if type(x[2]) is str else (x[0], x[1], _sentence(x[2])) for x in lines]

    def forget(self, name):
        self.logs.pop(name, None)
        self.dropped.pop(name, None)
        for stream in (STDOUT, STDERR):
            self.partial.pop((name, stream), None)

    def decide(self, action, service, reason, extra=None):
        """Records a decision: {"t": ms, "action": ..., "service": ..., "reason": ...}
        plus the fields of extra. Decisions come with every start, exit and restart: the
        JSON line (and the service journal's sentence) is made only when someone reads
        it, or at once for a sink."""
        record = (self.clock(), action, service, reason, extra)
        if len(self.decisions) >= self.kept:
            del self.decisions[0]
        if self.sink is not None:
            line = _decision_line(record)
            self.decisions.append(line)
            self.sink(line)
        else:
            self.decisions.append(record)
        if service:
            # The service's own journal gets the same as a sentence (see _sentence).
            self._add(service, SVCMGR, record, record[0])

    def recent_decisions(self, n=None):
        """The last n decisions (all kept when n is None) as JSON lines, oldest first."""
        d = self.decisions
        if n is not None and n <= 0:
            return []
        if n is not None and n < len(d):
            d = d[len(d) - n:]
        return [x if type(x) is str else _decision_line(x) for x in d]


def _decision_line(record):
    # Built by hand so that the keys keep their order on MicroPython too, whose dicts do
    # not remember insertion order.
    t, action, service, reason, extra = record
    parts = ['{"t": %d' % t, '"action": ' + json.dumps(action), '"service": ' + json.dumps(service),
             '"reason": ' + json.dumps(reason)]
    if extra:
        for k in extra:
            parts.append(json.dumps(k) + ": " + json.dumps(extra[k]))
    return ", ".join(parts) + "}"


def _sentence(record):
    """A decision as its service's journal shows it: 'restart: why (delay_ms=0, ...)'."""
    t, action, service, reason, extra = record
    text = action + ": " + reason
    if extra:
        text += " (" + ", ".join(["%s=%s" % (k, _plain(extra[k])) for k in extra]) + ")"
    if len(text) > LINE_MAX:
        text = text[:LINE_MAX - 3] + "..."
    return text


def _decode(data):
    # MicroPython's str() has no error handler: on bad UTF-8 keep the ASCII, mark the rest.
    try:
        return str(data, "utf-8")
    except Exception:
        return "".join([chr(b) if b < 128 else "?" for b in data])


def _plain(v):
    if type(v) is list or type(v) is tuple:
        return " ".join([str(x) for x in v])
    return str(v)
