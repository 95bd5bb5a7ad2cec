# The cache demo service: says it is ready, then waits to be stopped.
import mos

print("cache: ready (pid %d)" % mos.getpid())
mos.notify_ready()
while True:
    mos.sleep_ns(1000000000)
