# The cache demo service: key-value with a time-to-live, over IPC. Requests:
# put(key, value, ttl_ms), get(key) -> {"found", "value"}, stats() -> {"keys", "hits", "misses", "expired"}.
import mos
import service

TTL_DEFAULT_MS = 10000
entries = {}  # key -> (value, expiry in ms)
counts = {"hits": 0, "misses": 0, "expired": 0}


def now_ms():
    return mos.clock_ns() // 1000000


def expire():
    t = now_ms()
    for k in [k for k in entries if entries[k][1] <= t]:
        del entries[k]
        counts["expired"] += 1


def handle(req, sender):
    op = req.get("op")
    key = req.get("key")
    if op == "put":
        entries[key] = (req.get("value"), now_ms() + int(req.get("ttl_ms", TTL_DEFAULT_MS)))
        return {"ok": True}
    if op == "get":
        expire()
        hit = entries.get(key)
        counts["hits" if hit else "misses"] += 1
        return {"found": hit is not None, "value": hit[0] if hit else None}
    if op == "stats":
        expire()
        out = dict(counts)
        out["keys"] = len(entries)
        return out
    return {"error": "unknown op %r" % (op,)}


ep = service.listen("cache")
# One write, line and newline together: the services start at once and share the console.
print("cache: ready (pid %d)\n" % mos.getpid(), end="")
try:  # logging is optional
    service.Client("logging").call("log", line="started as pid %d" % mos.getpid(), **{"from": "cache"})
except service.ServiceError:
    pass
service.serve(ep, handle, on_idle=expire)
