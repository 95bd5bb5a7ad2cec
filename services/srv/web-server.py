# The web-server demo service (the seed's example): serves key-value "pages" over IPC,
# endpoint "web-server", keeping them in database, reading through cache, and logging each
# request to logging when it runs. Requests: put(key, value) -> {"ok"},
# get(key) -> {"found", "value", "from": "cache" | "database"}.
import mos
import service

CACHE_TTL_MS = 5000

# Its required dependencies are Running (they published their endpoints) before it starts.
db = service.Client("database", 5000)
cache = service.Client("cache", 5000)
log = None


def logline(text):
    global log
    try:
        if log is None:
            log = service.Client("logging")
        log.call("log", line=text, **{"from": "web-server"})
    except (service.ServiceError, OSError):
        log = None  # optional: not running (now)


def handle(req, sender):
    op = req.get("op")
    key = req.get("key")
    if op == "put":
        r = db.call("put", key=key, value=req.get("value"))
        if "error" in r:
            return r
        cache.call("put", key=key, value=req.get("value"), ttl_ms=int(req.get("ttl_ms", CACHE_TTL_MS)))
        logline("PUT %s from pid %d" % (key, sender))
        return {"ok": True}
    if op == "get":
        r = cache.call("get", key=key)
        source = "cache"
        if not r.get("found"):
            r = db.call("get", key=key)
            source = "database"
            if r.get("found"):
                cache.call("put", key=key, value=r["value"], ttl_ms=CACHE_TTL_MS)
        logline("GET %s from pid %d: %s" % (key, sender, source if r.get("found") else "not found"))
        return {"found": r.get("found", False), "value": r.get("value"), "from": source}
    return {"error": "unknown op %r" % (op,)}


ep = service.listen("web-server")
service.notify_ready()
# One write, line and newline together: the services start at once and share the console.
print("web-server: ready (pid %d)\n" % mos.getpid(), end="")
logline("started as pid %d" % mos.getpid())
service.serve(ep, handle)
