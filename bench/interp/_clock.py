# The clock the interpreter benchmarks share: MicroPython's ticks where they exist, CPython's
# perf_counter elsewhere. Not a benchmark itself (bench.py skips names starting with "_").
import time

if hasattr(time, "ticks_ms"):
    def start():
        return time.ticks_ms()

    def elapsed_ms(t0):
        return time.ticks_diff(time.ticks_ms(), t0)
else:
    def start():
        return time.perf_counter()

    def elapsed_ms(t0):
        return (time.perf_counter() - t0) * 1000
