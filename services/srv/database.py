# The database demo service: an in-memory key-value store served over IPC. Requests:
# put(key, value), get(key) -> {"found", "value"}, delete(key), stats() -> {"keys", "puts", "gets"}.
import mos
import service

store = {}
counts = {"puts": 0, "gets": 0}


def handle(req, sender):
    op = req.get("op")
    key = req.get("key")
    if op == "put":
        store[key] = req.get("value")
        counts["puts"] += 1
        return {"ok": True}
    if op == "get":
        counts["gets"] += 1
        return {"found": key in store, "value": store.get(key)}
    if op == "delete":
        return {"found": store.pop(key, None) is not None}
    if op == "stats":
        return {"keys": len(store), "puts": counts["puts"], "gets": counts["gets"]}
    return {"error": "unknown op %r" % (op,)}


ep = service.listen("database")
# One write, line and newline together: the services start at once and share the console.
print("database: ready (pid %d)\n" % mos.getpid(), end="")
try:  # logging is optional
    service.Client("logging").call("log", line="started as pid %d" % mos.getpid(), **{"from": "database"})
except service.ServiceError:
    pass
service.serve(ep, handle)
