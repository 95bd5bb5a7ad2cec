// The kernel's first thread: start the first program, then collect orphaned processes.
// mos.run=/bin/PROG,ARG,... runs a test program instead and ends QEMU with its exit status.
#include <hal/hal.h>
#include <hal/time.h>
#include <kernel/cmdline.h>
#include <kernel/init.h>
#include <kernel/initrd.h>
#include <kernel/klog.h>
#include <kernel/proc.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <multios/qemu_exit.h>
#include <multios/syscalls.h>

enum { ARGV_MAX = 32 };

static char run_line[BOOT_CMDLINE_MAX];
static char *run_argv[ARGV_MAX + 1];
static char *const no_env[1] = {NULL};

static int split(char *line, char **argv) {
    int argc = 0;
    for (char *p = line; *p && argc < ARGV_MAX;) {
        argv[argc++] = p;
        while (*p && *p != ',')
            p++;
        if (*p)
            *p++ = 0;
    }
    argv[argc] = NULL;
    return argc;
}

static unsigned exit_code(int status) {
    return status >= 0 && status <= MOS_QEMU_EXIT_STATUS_MAX ? (unsigned)status : MOS_QEMU_EXIT_ABNORMAL;
}

static void run_test_program(void) {
    int argc = split(run_line, run_argv);
    long pid = proc_spawn(NULL, run_argv[0], run_argv, argc, no_env, 0);
    if (pid < 0) {
        klog("kernel: mos.run: cannot start %s (error %ld)\n", run_argv[0], -pid);
        hal_debug_exit(MOS_QEMU_EXIT_BAD_ARG);
        return;
    }
    klog("kernel: mos.run: started %s as pid %ld\n", run_argv[0], pid);
    int status = 0;
    proc_wait(NULL, pid, &status);
    klog("kernel: mos.run: %s exited with status %#x\n", run_argv[0], status);
    hal_debug_exit(exit_code(status));
}

static long manager; // the service manager's pid while it runs

long init_manager_pid(void) { return manager; }

// Start the first program found; its pid, or 0 when there is none.
static long start_first(const char **which) {
    static const char *const firsts[] = {"/sbin/svcmgr", "/sbin/init", "/bin/sh"};
    for (unsigned i = 0; i < sizeof firsts / sizeof *firsts; i++) {
        if (!initrd_lookup(firsts[i]))
            continue;
        char *argv[2] = {(char *)firsts[i], NULL};
        long pid = proc_spawn(NULL, firsts[i], argv, 1, no_env, 0);
        klog("kernel: started %s as pid %ld\n", firsts[i], pid);
        if (pid > 0) {
            *which = firsts[i];
            if (i == 0)
                manager = pid;
            return pid;
        }
    }
    klog("kernel: no first program in the initrd (/sbin/svcmgr, /sbin/init, /bin/sh)\n");
    return 0;
}

// The first program (the service manager) is restarted when it ends, like MINIX's
// reincarnation server restarts drivers: capped exponential backoff, reset after a long run.
enum { BACKOFF_MIN_MS = 50, BACKOFF_MAX_MS = 5000, HEALTHY_RUN_MS = 30000 };

static void init_main(void *arg) {
    (void)arg;
    if (cmdline_get("mos.run", run_line, sizeof run_line)) {
        run_test_program();
    }
    const char *which = NULL;
    long first = run_line[0] ? 0 : start_first(&which);
    uint64_t backoff_ms = BACKOFF_MIN_MS, started = hal_time_ns();
    for (;;) {
        int status;
        long pid = proc_wait(NULL, -1, &status);
        if (pid < 0) {
            sched_sleep_ns(100 * 1000 * 1000ull);
            continue;
        }
        if (pid != first)
            continue; // an orphan collected
        if (manager == pid) {
            manager = 0;
            service_manager_exited();
        }
        if ((hal_time_ns() - started) / 1000000 > HEALTHY_RUN_MS)
            backoff_ms = BACKOFF_MIN_MS;
        klog("kernel: %s (pid %ld) ended with status %#x; restarting it in %lu ms\n", which, pid, status,
             (unsigned long)backoff_ms);
        sched_sleep_ns(backoff_ms * 1000000ull);
        backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
        started = hal_time_ns();
        first = start_first(&which);
    }
}

void init_start(void) {
    service_init();
    struct thread *t = thread_create("init", NULL, PRIO_SYSTEM, init_main, NULL);
    if (!t)
        panic("cannot create the init thread");
    thread_make_ready(t);
}
