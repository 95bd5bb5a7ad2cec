// svcbench: the service manager's figures for ./multios bench (tools/svcbench.py), measured
// in the guest with the TSC against the running svcmgr. The image it runs in defines the
// trivial services svc-1..svc-N (svctest --serve), and two more that are not started at
// boot: bench-idle (a trivial service) and bench-restart (the same with auto_restart).
//
//   svcbench [--quick] [--mem]
// Prints "BENCH name median_ns p99_ns runs" per figure and "svcbench: done" (or
// "svcbench: FAILED: reason"). --mem prints only svcmgr's memory; --quick runs each figure
// a handful of times.
//
// sm_start_cli     /bin/svc start bench-idle spawned and waited for (svc answers once the
//                  service is running: it called notify_ready); stopped between runs
// sm_start_call    start_service(bench-idle) until it returns (running); stopped between runs
// sm_status_cli    /bin/svc is-active svc-1 spawned and waited for (it prints "running" and
//                  exits 0, as systemctl is-active prints "active")
// sm_status_call   service_status(svc-1)
// sm_discover_tag  discover_services("tag:b0") (the 10 services svc-1..svc-10 carry b0)
// sm_restart       bench-restart killed (mos_kill of its pid) until the subscription's
//                  event says it is running again (restart_delay = 0, as the peer's RestartSec=0)
// sm_mem           "MEM svcmgr BYTES": the frames svcmgr holds (mos_proc_info's mem_bytes:
//                  pages it has touched; its heap and program image are demand-loaded)
#include "benchstat.h"

#include <mos.h>
#include <multios/service.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RUNS = 1000, EVENT_WAIT_MS = 10000 };

static double ns_per_tick;
static uint64_t ticks[MAX_RUNS];

static void report(const char *name, int runs) {
    benchstat_report(name, ticks, runs, ns_per_tick);
}

// Says what failed, with a call's result (and its error's name when negative).
static bool fail(const char *what, long r) {
    printf("svcbench: FAILED: %s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? service_error_name(r) : "");
    return false;
}

static long id_of(const char *name) {
    long id = lookup_service(name);
    if (id < 0)
        fail(name, id);
    return id;
}

// Runs /bin/svc with argv and waits for it; its exit status, or -1.
static int run_svc(const char *const *argv) {
    long pid = mos_spawnv("/bin/svc", argv);
    if (pid < 0)
        return -1;
    int status = -1;
    if (mos_wait(pid, &status) < 0)
        return -1;
    return status;
}

static bool stop(long id) {
    long r = stop_service((service_id_t)id);
    return r == 0 || fail("stop_service", r);
}

static bool bench_start(int runs, bool cli) {
    long id = id_of("bench-idle");
    if (id < 0)
        return false;
    const char *argv[] = {"svc", "start", "bench-idle", NULL};
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = mos_rdtsc();
        long r = cli ? run_svc(argv) : start_service((service_id_t)id);
        ticks[i] = mos_rdtsc() - t0;
        if (r != 0)
            return fail(cli ? "svc start bench-idle: exit status" : "start_service(bench-idle)", r);
        struct service_status st;
        if ((r = service_status((service_id_t)id, &st)) < 0 || st.state != SERVICE_RUNNING)
            return fail("bench-idle is not running after its start", r);
        if (!stop(id))
            return false;
    }
    report(cli ? "sm_start_cli" : "sm_start_call", runs);
    return true;
}

static bool bench_status(int runs, bool cli) {
    long id = id_of("svc-1");
    if (id < 0)
        return false;
    const char *argv[] = {"svc", "is-active", "svc-1", NULL};
    struct service_status st;
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = mos_rdtsc();
        long r = cli ? run_svc(argv) : service_status((service_id_t)id, &st);
        ticks[i] = mos_rdtsc() - t0;
        if (r != 0)
            return fail(cli ? "svc is-active svc-1: exit status" : "service_status(svc-1)", r);
    }
    report(cli ? "sm_status_cli" : "sm_status_call", runs);
    return true;
}

static bool bench_discover(int runs) {
    service_id_t ids[64];
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = mos_rdtsc();
        long n = discover_services("tag:b0", ids, 64);
        ticks[i] = mos_rdtsc() - t0;
        if (n <= 0)
            return fail("discover_services(tag:b0)", n);
    }
    report("sm_discover_tag", runs);
    return true;
}

// The next state event of service id within EVENT_WAIT_MS: its state, or -1.
static long next_state(long h, long id) {
    struct service_event_msg ev;
    for (;;) {
        long r = service_next_event((int)h, &ev, EVENT_WAIT_MS * 1000000ull);
        if (r < 0)
            return -1;
        if (ev.event == SERVICE_EVENT_STATE && ev.id == (service_id_t)id)
            return ev.state;
    }
}

static bool bench_restart(int runs) {
    long id = id_of("bench-restart");
    if (id < 0)
        return false;
    long r = start_service((service_id_t)id); // answers once it is running
    if (r != 0)
        return fail("start_service(bench-restart)", r);
    long h = subscribe_services("bench-restart", SERVICE_EVENT_STATE);
    if (h < 0)
        return fail("subscribe_services(bench-restart)", h);
    bool ok = true;
    for (int i = 0; ok && i < runs; i++) {
        struct service_status st;
        r = service_status((service_id_t)id, &st);
        if (r < 0 || st.pid <= 0 || st.state != SERVICE_RUNNING) {
            ok = fail("bench-restart is not running with a process", r);
            break;
        }
        uint64_t t0 = mos_rdtsc();
        r = mos_kill(st.pid);
        long s = 0; // failed, starting (the backoff), then running
        while (r == 0 && (s = next_state(h, id)) >= 0 && s != SERVICE_RUNNING)
            ;
        ticks[i] = mos_rdtsc() - t0;
        if (r < 0 || s < 0)
            ok = fail("bench-restart is not running again after a kill", r);
    }
    mos_handle_close((int)h);
    if (ok)
        report("sm_restart", runs);
    r = stop_service((service_id_t)id);
    return ok && (r == 0 || fail("stop_service(bench-restart)", r));
}

static bool report_memory(void) {
    struct mos_proc_info info;
    for (long i = 0; mos_proc_info(i, &info) == 0; i++)
        if (strcmp(info.name, "svcmgr") == 0) {
            printf("MEM svcmgr %lu\n", (unsigned long)info.mem_bytes);
            return true;
        }
    return fail("no process named svcmgr", 0);
}

int main(int argc, char **argv) {
    bool quick = false, mem_only = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--mem") == 0)
            mem_only = true;
        else {
            printf("usage: svcbench [--quick] [--mem]\n");
            return 2;
        }
    }
    ns_per_tick = 1e9 / (double)mos_tsc_hz();
    service_cache_ttl_ns = 0; // every lookup asks the manager
    bool ok = report_memory();
    if (!mem_only) {
        int few = quick ? 3 : 20, many = quick ? 20 : 1000;
        ok = ok && bench_start(few, false) && bench_start(few, true);
        ok = ok && bench_status(many, false) && bench_status(few, true);
        ok = ok && bench_discover(quick ? 20 : 1000) && bench_restart(quick ? 2 : 20);
    }
    printf(ok ? "svcbench: done\n" : "svcbench: FAILED\n");
    return ok ? 0 : 1;
}
