// kbench: the kernel's first benchmarks, measured in the guest with the TSC.
//
//   kbench [--quick] [--scale N]
// Prints one line per figure, "BENCH name median_ns p99_ns runs", then "kbench: done".
// Each run is timed on its own (rdtsc before and after, the cost of an empty rdtsc pair
// taken off) and converted to ns with the kernel's calibrated TSC frequency. --quick runs
// each figure a handful of times (a smoke test); --scale N multiplies the run counts.
//
// null_syscall   getpid, the cheapest system call
// ipc_roundtrip  ipc_call to a server in another process and its ipc_reply, request and
//                reply of 16 bytes of words, no data
// spawn_wait     spawn of /bin/true (a small static ELF), its exit, and wait
#include <mos.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double ns_per_tick;
static uint64_t overhead; // ticks of an empty rdtsc pair (median)

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t median_overhead(void) {
    enum { N = 1001 };
    static uint64_t t[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = mos_rdtsc();
        t[i] = mos_rdtsc() - t0;
    }
    qsort(t, N, sizeof t[0], cmp_u64);
    return t[N / 2];
}

static void report(const char *name, uint64_t *ticks, int runs) {
    for (int i = 0; i < runs; i++)
        ticks[i] = ticks[i] > overhead ? ticks[i] - overhead : 0;
    qsort(ticks, (size_t)runs, sizeof ticks[0], cmp_u64);
    uint64_t med = ticks[runs / 2], p99 = ticks[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1];
    printf("BENCH %s %lu %lu %d\n", name, (unsigned long)((double)med * ns_per_tick + 0.5),
           (unsigned long)((double)p99 * ns_per_tick + 0.5), runs);
}

static void bench_null_syscall(uint64_t *t, int runs) {
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = mos_rdtsc();
        mos_getpid();
        t[i] = mos_rdtsc() - t0;
    }
    report("null_syscall", t, runs);
}

// The endpoint the server child granted: the first handle that is an endpoint (this
// process creates none).
static int find_endpoint(void) {
    uint64_t deadline = (uint64_t)mos_clock_ns() + 10000000000ull;
    while ((uint64_t)mos_clock_ns() < deadline) {
        for (int h = MOS_COM2 + 1; h < 256; h++)
            if (mos_notify(h, 0) == 0)
                return h;
        mos_sleep_ns(1000000);
    }
    return -1;
}

static bool bench_ipc(uint64_t *t, int runs) {
    char ppid[24];
    snprintf(ppid, sizeof ppid, "%ld", mos_getpid());
    const char *argv[] = {"kbench", "--server", ppid, NULL};
    long pid = mos_spawnv("/bin/kbench", argv);
    if (pid < 0) {
        printf("kbench: cannot start the IPC server: %s\n", mos_errname(pid));
        return false;
    }
    int ep = find_endpoint();
    if (ep < 0) {
        printf("kbench: the IPC server granted no endpoint\n");
        mos_kill(pid);
        mos_wait(pid, NULL);
        return false;
    }
    struct mos_msg req = {.tag = 1, .words = {1, 2}}, rep;
    bool ok = true;
    for (int i = -runs / 10 - 1; i < runs && ok; i++) { // the first tenth warms up
        uint64_t t0 = mos_rdtsc();
        long r = mos_ipc_call(ep, &req, &rep);
        uint64_t dt = mos_rdtsc() - t0;
        if (r != 0 || rep.words[0] != 2) {
            printf("kbench: ipc_call: %s\n", mos_errname(r));
            ok = false;
        }
        if (i >= 0)
            t[i] = dt;
    }
    mos_kill(pid);
    mos_wait(pid, NULL);
    mos_handle_close(ep);
    if (ok)
        report("ipc_roundtrip", t, runs);
    return ok;
}

static int ipc_server(long ppid) {
    int ep = (int)mos_endpoint_create();
    if (ep < 0 || mos_handle_grant(ep, ppid) < 0)
        return 1;
    struct mos_msg m;
    long token = mos_ipc_recv(ep, &m);
    for (;;) {
        if (token <= 0)
            return 1;
        uint64_t w = m.words[0];
        m.words[0] = m.words[1];
        m.words[1] = w;
        mos_ipc_reply(token, &m);
        token = mos_ipc_recv(ep, &m);
    }
}

static bool bench_spawn(uint64_t *t, int runs) {
    static const char *const argv[] = {"true", NULL};
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = mos_rdtsc();
        long pid = mos_spawnv("/bin/true", argv);
        int status = -1;
        long r = pid > 0 ? mos_wait(pid, &status) : pid;
        t[i] = mos_rdtsc() - t0;
        if (r != pid || status != 0) {
            printf("kbench: spawn /bin/true: %s (status %#x)\n", mos_errname(r), status);
            return false;
        }
    }
    report("spawn_wait", t, runs);
    return true;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--server"))
        return ipc_server(atol(argv[2]));
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
    long hz = mos_tsc_hz();
    if (hz <= 0) {
        printf("kbench: no TSC frequency: %s\n", mos_errname(hz));
        return 1;
    }
    ns_per_tick = 1e9 / (double)hz;
    overhead = median_overhead();
    printf("kbench: tsc %ld Hz, rdtsc pair %lu ticks (taken off every figure)\n", hz, (unsigned long)overhead);
    int n_null = quick ? 100 : 20000 * scale, n_ipc = quick ? 20 : 5000 * scale, n_spawn = quick ? 5 : 200 * scale;
    uint64_t *t = malloc(sizeof(uint64_t) * (size_t)n_null);
    if (!t) {
        printf("kbench: out of memory\n");
        return 1;
    }
    bench_null_syscall(t, n_null);
    bool ok = bench_ipc(t, n_ipc);
    ok &= bench_spawn(t, n_spawn);
    free(t);
    printf("kbench: %s\n", ok ? "done" : "FAILED");
    return ok ? 0 : 1;
}
