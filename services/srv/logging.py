# The logging demo service: collects log lines from the other services over IPC. Requests
# (service.Client("logging").call(...)): log(line, from) -> {"total"};
# find(text, from?) -> {"count", "last"}: the lines containing text; tail(n) -> {"lines"}.
import mos
import service

LINES_MAX = 512  # the oldest lines go first
lines = []       # (ms, sender pid, source, text)
total = 0


def handle(req, sender):
    global total
    op = req.get("op")
    if op == "log":
        lines.append((mos.clock_ns() // 1000000, sender, str(req.get("from", "")), str(req.get("line", ""))))
        total += 1
        if len(lines) > LINES_MAX:
            del lines[0]
        return {"total": total}
    if op == "find":
        text, source = req.get("text", ""), req.get("from")
        hits = [x for x in lines if text in x[3] and (source is None or x[2] == source)]
        return {"count": len(hits), "last": hits[-1][3][:120] if hits else None}
    if op == "tail":
        out = []
        size = 40
        for x in reversed(lines[-int(req.get("n", 5)):]):
            size += len(x[2]) + len(x[3]) + 8
            if size > 200:  # one message holds 208 bytes
                break
            out.insert(0, "%s: %s" % (x[2], x[3]))
        return {"lines": out, "total": total}
    return {"error": "unknown op %r" % (op,)}


ep = service.listen("logging")
# One write, line and newline together: the services start at once and share the console.
print("logging: ready (pid %d)\n" % mos.getpid(), end="")
service.serve(ep, handle)
