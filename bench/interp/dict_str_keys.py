# 100,000 inserts into a dict keyed by strings built at run time ("svc-%d"),
# then 100,000 lookups with equal but separately built strings, as a service
# registry does. Runs under CPython and MicroPython.
# Prints: RESULT dict_str_keys <ms>
from _clock import elapsed_ms, start

N = 100000


def main():
    keys = ["svc-%d" % i for i in range(N)]
    probes = ["svc-%d" % i for i in range(N)]
    t0 = start()
    registry = {}
    for i in range(N):
        registry[keys[i]] = i
    total = 0
    for key in probes:
        total += registry[key]
    ms = elapsed_ms(t0)
    if len(registry) != N or total != N * (N - 1) // 2:
        raise SystemExit("dict_str_keys: wrong result")
    print("RESULT dict_str_keys %.1f" % ms)


main()
