// Runs timed one by one, as the benchmarks report them: sorted, the median and the 99th
// percentile (the run at index runs*99/100). Header-only and plain C library, so kbench's
// Linux build (static glibc) uses it as well as kbench, svcbench and svctest on MultiOS.
#ifndef BENCHSTAT_H
#define BENCHSTAT_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline int benchstat_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static inline void benchstat_sort(uint64_t *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], benchstat_cmp);
}

static inline int benchstat_p99(int n) {
    return (n * 99) / 100 < n ? (n * 99) / 100 : n - 1;
}

// Sorts TICKS and prints "BENCH name median_ns p99_ns runs".
static inline void benchstat_report(const char *name, uint64_t *ticks, int runs, double ns_per_tick) {
    benchstat_sort(ticks, runs);
    printf("BENCH %s %lu %lu %d\n", name, (unsigned long)((double)ticks[runs / 2] * ns_per_tick + 0.5),
           (unsigned long)((double)ticks[benchstat_p99(runs)] * ns_per_tick + 0.5), runs);
    fflush(stdout);
}

#endif
