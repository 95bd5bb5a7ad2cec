# json.dumps then json.loads of 10,000 small dicts shaped like service status
# records. Prints: RESULT json_small <ms>
import json
from _clock import elapsed_ms, start

N = 10000


def main():
    records = [{"name": "svc-%d" % i, "state": "running", "pid": 100 + i,
                "restarts": i % 7, "enabled": i % 3 != 0, "uptime": i * 0.5,
                "deps": ["net", "log"]} for i in range(N)]
    t0 = start()
    decoded = [json.loads(json.dumps(r)) for r in records]
    ms = elapsed_ms(t0)
    if decoded != records:
        raise SystemExit("json_small: wrong round trip")
    print("RESULT json_small %.1f" % ms)


main()
