// kbench: kernel benchmarks, measured in the guest with the TSC. One source for MultiOS and
// its Linux peer; the system-specific primitives are in kbench_mos.c / kbench_linux.c
// (interface: kbench_os.h).
//
//   kbench [--quick] [--scale N]
// Prints "kbench: SYSTEM tsc HZ Hz ...", one line per figure, "BENCH name median_ns p99_ns
// runs", then "kbench: done" (or "kbench: FAILED"). Each run is timed on its own (rdtsc before
// and after, the median cost of an empty rdtsc pair taken off) and converted to ns with the
// TSC frequency. --quick runs each figure a handful of times (a smoke test); --scale N
// multiplies the run counts.
//
// null_syscall   getpid
// ipc_roundtrip  MultiOS: ipc_call to a server process and its ipc_reply (two words);
//                Linux: one byte written to a pipe, echoed back by the peer on another pipe
// spawn_wait     MultiOS: spawn /bin/true + exit + wait; Linux: fork + exec /bin/true + wait
// page_fault     first write to a 4 KiB page of anonymous memory not yet backed (fault-in)
// ctx_switch     one switch between two threads of a process that yield to each other
//                (half of a yield that lets the other thread run once)
#include "benchstat.h"
#include "kbench_os.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096

static double ns_per_tick;
static uint64_t overhead; // ticks of an empty rdtsc pair (median)

static uint64_t median_overhead(void) {
    enum { N = 1001 };
    static uint64_t t[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = kb_tsc();
        t[i] = kb_tsc() - t0;
    }
    benchstat_sort(t, N);
    return t[N / 2];
}

static void report(const char *name, uint64_t *ticks, int runs, int divide) {
    for (int i = 0; i < runs; i++)
        ticks[i] = (ticks[i] > overhead ? ticks[i] - overhead : 0) / (uint64_t)divide;
    benchstat_report(name, ticks, runs, ns_per_tick);
}

static bool bench_null_syscall(uint64_t *t, int runs) {
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = kb_tsc();
        kb_null_syscall();
        t[i] = kb_tsc() - t0;
    }
    report("null_syscall", t, runs, 1);
    return true;
}

static bool bench_ipc(uint64_t *t, int runs) {
    if (kb_ipc_start() < 0)
        return false;
    bool ok = true;
    for (int i = -runs / 10 - 1; i < runs && ok; i++) { // the first tenth warms up
        uint64_t t0 = kb_tsc();
        ok = kb_ipc_roundtrip() == 0;
        uint64_t dt = kb_tsc() - t0;
        if (i >= 0)
            t[i] = dt;
    }
    kb_ipc_stop();
    if (ok)
        report("ipc_roundtrip", t, runs, 1);
    return ok;
}

static bool bench_spawn(uint64_t *t, int runs) {
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = kb_tsc();
        if (kb_spawn_wait() < 0)
            return false;
        t[i] = kb_tsc() - t0;
    }
    report("spawn_wait", t, runs, 1);
    return true;
}

static bool bench_page_fault(uint64_t *t, int runs) {
    size_t bytes = (size_t)runs * PAGE;
    char *p = kb_lazy_map(bytes);
    if (!p)
        return false;
    for (int i = 0; i < runs; i++) {
        volatile char *page = p + (size_t)i * PAGE;
        uint64_t t0 = kb_tsc();
        *page = 1;
        t[i] = kb_tsc() - t0;
    }
    kb_lazy_unmap(p, bytes);
    report("page_fault", t, runs, 1);
    return true;
}

static bool bench_ctx_switch(uint64_t *t, int runs) {
    if (kb_switch_start() < 0)
        return false;
    for (int i = -runs / 10 - 1; i < runs; i++) {
        uint64_t t0 = kb_tsc();
        kb_yield();
        uint64_t dt = kb_tsc() - t0;
        if (i >= 0)
            t[i] = dt;
    }
    kb_switch_stop();
    report("ctx_switch", t, runs, 2);
    return true;
}

int main(int argc, char **argv) {
    int role = kb_role(argc, argv);
    if (role >= 0)
        return role;
    int scale = 1;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: kbench [--quick] [--scale N]\n");
            return 2;
        }
    }
    if (scale < 1)
        scale = 1;
    double hz = kb_tsc_hz();
    if (hz <= 0) {
        printf("kbench: no TSC frequency\n");
        return 1;
    }
    ns_per_tick = 1e9 / hz;
    overhead = median_overhead();
    printf("kbench: %s tsc %.0f Hz, rdtsc pair %lu ticks (taken off every figure)\n", kb_system, hz,
           (unsigned long)overhead);
    int n_null = quick ? 100 : 20000 * scale, n_ipc = quick ? 20 : 5000 * scale, n_spawn = quick ? 5 : 200 * scale,
        n_fault = quick ? 64 : 4000 * scale, n_switch = quick ? 20 : 5000 * scale;
    uint64_t *t = malloc(sizeof(uint64_t) * (size_t)n_null);
    if (!t) {
        printf("kbench: out of memory\n");
        return 1;
    }
    bool ok = bench_null_syscall(t, n_null);
    ok &= bench_ipc(t, n_ipc);
    ok &= bench_spawn(t, n_spawn);
    ok &= bench_page_fault(t, n_fault);
    ok &= bench_ctx_switch(t, n_switch);
    free(t);
    printf("kbench: %s\n", ok ? "done" : "FAILED");
    return ok ? 0 : 1;
}
