# MicroPython's tests/perf_bench, run the same way on MultiOS (/bin/python) and on the Linux
# peer (MicroPython's unix port): tools/linuxpeer.py puts this file next to the test files
# (/bench/perf in both guests).
#
#   driver.py [--quick] [--repeat R] [NAME ...]
# Per test: "PERF name median_us max_us runs", each run timed on its own around the test's
# run() with time.ticks_us (setup and result checks are not timed); then "PERF done N failed".
# Parameters are fixed per test (the benchrun.py rule picks the test's bm_params entry for
# (N, M)), so both systems do exactly the same work.
import gc
import sys
import time

# (N, M) per test: 10-130 ms each natively, so the set (5 runs each) takes well under two
# minutes under TCG on each system.
PARAMS = {
    "bm_chaos": (1000, 1000),
    "bm_fannkuch": (1000, 1000),
    "bm_fft": (1000, 1000),
    "bm_float": (1000, 1000),
    "bm_hexiom": (1000, 1000),
    "bm_nqueens": (1000, 1000),
    "bm_pidigits": (1000, 1000),
    "bm_wordcount": (1000, 1000),
    "core_locals": (1000, 1000),
    "core_qstr": (5000, 1000),
    "core_str": (1000, 1000),
    "core_yield_from": (5000, 1000),
    "misc_aes": (1000, 1000),
    "misc_mandel": (1000, 1000),
    "misc_pystone": (1000, 1000),
    "misc_raytrace": (1000, 1000),
}
# Run on neither system (tools/linuxpeer.py reports these).
SKIPPED = {
    "viper_call0": "needs the native emitter (@micropython.viper): our port has none (MICROPY_EMIT_X64 0)",
    "viper_call1a": "needs the native emitter",
    "viper_call1b": "needs the native emitter",
    "viper_call1c": "needs the native emitter",
    "viper_call2a": "needs the native emitter",
    "viper_call2b": "needs the native emitter",
    "core_import_mpy_multi": "needs the vfs module to mount a RAM file system: our port has no VFS",
    "core_import_mpy_single": "needs the vfs module to mount a RAM file system: our port has no VFS",
}
QUICK = ("misc_pystone", "bm_nqueens")
REPEAT = 5


def pick(bm_params, n, m):
    # benchrun.py's rule: the largest entry with 10 * N' <= 12 * N and M' <= M.
    cur, param = (0, 0), None
    for nm, p in bm_params.items():
        if 10 * nm[0] <= 12 * n and nm[1] <= m and nm > cur:
            cur, param = nm, p
    return param


HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."


def run_test(name, repeat):
    with open(HERE + "/" + name + ".py") as f:
        src = f.read()
    times = []
    for _ in range(repeat):
        g = {"__name__": name}
        exec(src, g)
        run, result = g["bm_setup"](pick(g["bm_params"], *PARAMS[name]))
        gc.collect()
        t0 = time.ticks_us()
        run()
        t1 = time.ticks_us()
        times.append(time.ticks_diff(t1, t0))
        result()
    times.sort()
    return times


def main(argv):
    repeat, names, quick = REPEAT, [], False
    i = 0
    while i < len(argv):
        if argv[i] == "--quick":
            quick = True
        elif argv[i] == "--repeat" and i + 1 < len(argv):
            i += 1
            repeat = int(argv[i])
        else:
            names.append(argv[i])
        i += 1
    if quick:
        names, repeat = names or list(QUICK), 1
    names = names or sorted(PARAMS)
    failed = 0
    for name in names:
        try:
            times = run_test(name, repeat)
        except Exception as e:
            failed += 1
            print("PERF %s FAILED %s: %s" % (name, type(e).__name__, e))
            continue
        print("PERF %s %d %d %d" % (name, times[len(times) // 2], times[-1], len(times)))
    print("PERF done %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
