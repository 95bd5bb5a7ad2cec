// The systemd peer's measuring program, run by smbench@N.service once bench-N.target is reached.
//
//   smbench N        options from the kernel command line: smbench.measure=1, smbench.runs=R
//
// It waits until every svc-0..svc-(N-1) has written /run/svc-I.started (Type=simple services
// count as started once forked; the file says the program is really running), prints
// "SMBENCH ready N" on the serial console (the host times its boot figure by that line),
// then "SMBENCH name median p99 runs" lines, and ends QEMU through isa-debug-exit: code 0 on
// success, 1 on failure. With smbench.measure=1 it also times the systemctl figures, R runs
// each (default 20). Times are CLOCK_MONOTONIC in the guest, in ns; memory is in bytes.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/io.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYSTEMCTL "/usr/bin/systemctl"
#define MAX_RUNS 1000
// A service without dependents (svc-I for I % 10 == 9 requires svc-(I-1); see systemdpeer.py).
#define TARGET "svc-5"

static FILE *con;

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(con, fmt, ap);
    va_end(ap);
    fflush(con);
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// QEMU exits with (code << 1) | 1 when the guest writes code to port 0xf4.
static void qemu_exit(int code) {
    fflush(con);
    if (ioperm(0xf4, 4, 1) == 0)
        outb(code, 0xf4);
    say("smbench: isa-debug-exit did not end QEMU (%s)\n", strerror(errno));
    exit(code);
}

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("SMBENCH FAILED: ", con);
    vfprintf(con, fmt, ap);
    va_end(ap);
    fputc('\n', con);
    qemu_exit(1);
}

// Runs systemctl ARGS with output discarded; returns its wall time in ns, or fails unless it
// exited with status 0.
static long long systemctl(const char *a1, const char *a2) {
    long long t0 = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execl(SYSTEMCTL, "systemctl", a1, a2, (char *)NULL);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        fail("fork/wait of systemctl %s: %s", a1, strerror(errno));
    long long dt = now_ns() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("systemctl %s %s exited with status 0x%x", a1, a2 ? a2 : "", status);
    return dt;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

// "SMBENCH name median p99 runs" (p99 by nearest rank: with 20 runs it is the maximum), then
// every sample on a "SMBENCH-RUNS name v1 v2 ..." line, so the host can pool several boots.
static void report(const char *name, long long *v, int n) {
    qsort(v, n, sizeof *v, cmp_ll);
    int p99 = (n * 99 + 99) / 100 - 1;
    say("SMBENCH %s %lld %lld %d\n", name, v[n / 2], v[p99 < 0 ? 0 : p99], n);
    fprintf(con, "SMBENCH-RUNS %s", name);
    for (int i = 0; i < n; i++)
        fprintf(con, " %lld", v[i]);
    say("\n");
}

static int read_started(const char *name, long long *ts, int *pid) {
    char path[256];
    snprintf(path, sizeof path, "/run/%s.started", name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%lld %d", ts, pid) == 2;
    fclose(f);
    return ok ? 0 : -1;
}

static void wait_started(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "/run/%s.started", name);
    long long deadline = now_ns() + 300LL * 1000000000LL;
    struct stat st;
    while (stat(path, &st) != 0) {
        if (now_ns() > deadline)
            fail("%s never started", name);
        usleep(1000);
    }
}

static void wait_all_started(int n) {
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "svc-%d", i);
        wait_started(name);
    }
}

static long long vmrss_bytes(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    if (kb < 0)
        fail("no VmRSS in %s", path);
    return kb * 1024;
}

// SIGKILL the service's main process; Restart=always, RestartSec=0 brings up a new one, which
// stamps /run/svc-X.started with its own start time. Returns kill -> new instance running.
static long long restart_once(int ino) {
    long long old_ts, ts;
    int old_pid, pid;
    if (read_started(TARGET, &old_ts, &old_pid) != 0)
        fail("cannot read /run/" TARGET ".started");
    long long t0 = now_ns();
    if (kill(old_pid, SIGKILL) != 0)
        fail("kill %d: %s", old_pid, strerror(errno));
    for (;;) {
        if (read_started(TARGET, &ts, &pid) == 0 && pid != old_pid)
            return ts - t0;
        struct pollfd p = {ino, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            fail(TARGET " did not come back within 10 s of SIGKILL");
        char buf[4096];
        if (read(ino, buf, sizeof buf) < 0)
            fail("inotify read: %s", strerror(errno));
    }
}

static void measure(int runs) {
    static long long v[MAX_RUNS];
    // Warm the page cache and PID 1's code paths once, untimed.
    systemctl("--version", NULL);
    systemctl("is-active", TARGET);

    for (int i = 0; i < runs; i++)
        v[i] = systemctl("--version", NULL);
    report("sm_exec_cost", v, runs);

    for (int i = 0; i < runs; i++)
        v[i] = systemctl("is-active", TARGET);
    report("sm_status_cli", v, runs);

    for (int i = 0; i < runs; i++) {
        systemctl("stop", TARGET);
        unlink("/run/" TARGET ".started");
        v[i] = systemctl("start", TARGET);
        // Type=simple counts as started once forked: wait, untimed, for the program itself,
        // so the next stop (and the restart figure) find it running.
        wait_started(TARGET);
    }
    report("sm_start_cli", v, runs);

    int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ino < 0 || inotify_add_watch(ino, "/run", IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
        fail("inotify on /run: %s", strerror(errno));
    for (int i = 0; i < runs; i++) {
        v[i] = restart_once(ino);
    }
    close(ino);
    report("sm_restart", v, runs);
}

int main(int argc, char **argv) {
    con = fopen("/dev/ttyS0", "w");
    if (!con)
        con = stdout;
    if (argc < 2)
        fail("usage: smbench N");
    int n = atoi(argv[1]), runs = 20, do_measure = 0;
    char cmdline[4096] = "";
    FILE *f = fopen("/proc/cmdline", "r");
    if (f) {
        if (!fgets(cmdline, sizeof cmdline, f))
            cmdline[0] = 0;
        fclose(f);
    }
    for (char *tok = strtok(cmdline, " \n"); tok; tok = strtok(NULL, " \n")) {
        if (strcmp(tok, "smbench.measure=1") == 0)
            do_measure = 1;
        else if (strncmp(tok, "smbench.runs=", 13) == 0)
            runs = atoi(tok + 13);
    }
    if (runs < 1 || runs > MAX_RUNS)
        fail("runs=%d is out of range", runs);
    wait_all_started(n);
    struct timespec up;
    clock_gettime(CLOCK_BOOTTIME, &up);
    say("SMBENCH ready %d\n", n);
    say("smbench: %d services running, %lld ms after the kernel started\n", n,
        (long long)up.tv_sec * 1000 + up.tv_nsec / 1000000);
    long long rss = vmrss_bytes(1);
    char name[32];
    snprintf(name, sizeof name, "sm_mem_%d", n);
    report(name, &rss, 1);
    if (do_measure)
        measure(runs);
    say("SMBENCH done\n");
    qemu_exit(0);
}
