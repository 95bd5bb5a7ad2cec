// ktest: the kernel's tests, run in the guest as an ordinary program (xv6 usertests style).
//
//   ktest                 every quick test
//   ktest --all           quick and slow tests
//   ktest NAME...         the named tests
//   ktest --list          the table
// Each test prints "ktest: NAME ok" or "ktest: NAME FAILED: reason"; the last line is
// "ktest: N passed, M failed" and the exit status is 0 only when M is 0.
//
// Tests that need a second process start /bin/ktest itself as "ktest --child ROLE [ARG]".
// The parent gives the child handles with handle_grant: first a control endpoint (the
// parent is its server), then up to three more. The child finds the control endpoint (the
// first handle that is an endpoint), notifies it, and calls it ("hello"); the reply's
// words carry the numbers of the other handles. Every wait on a child has a timeout, so a
// kernel bug shows as a FAILED line rather than a hang wherever the ABI allows it.
#include "benchstat.h"

#include <limits.h>
#include <mos.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define SEC 1000000000ull
#define PAGE 4096ul
#define KERNEL_ADDR 0xffff800000000000ul // the kernel half: never valid from user space
#define KERNEL_TEXT 0xffffffff80100000ul
#define NONCANONICAL 0x0000800000000000ul // just past the user half
#define CHILD_TIMEOUT (20 * SEC)

enum { TAG_HELLO = 1, TAG_GRANTED, TAG_STEP, TAG_DONE };

static uint64_t now(void) { return (uint64_t)mos_clock_ns(); }

// --- failure reporting -------------------------------------------------------------------------

static char reason[600];

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return false;
}

static const char *err(long r) { return r < 0 ? mos_errname(r) : "ok"; }

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            return fail(__VA_ARGS__);                                                                        \
    } while (0)

// A system call that must return exactly WANT.
#define EXPECT(call, want)                                                                                   \
    do {                                                                                                     \
        long r_ = (call), w_ = (want);                                                                       \
        if (r_ != w_)                                                                                        \
            return fail("line %d: %s returned %ld (%s), want %ld (%s)", __LINE__, #call, r_, err(r_), w_,    \
                        err(w_));                                                                            \
    } while (0)

// A system call that must succeed (>= 0); its result is stored in VAR.
#define OK(var, call)                                                                                        \
    do {                                                                                                     \
        var = (call);                                                                                        \
        if ((long)(var) < 0)                                                                                 \
            return fail("line %d: %s failed: %s", __LINE__, #call, err((long)(var)));                        \
    } while (0)

// --- processes -------------------------------------------------------------------------------

static const char *const child_env[] = {"KTEST_CHILD=1", NULL};

static long spawn_role(const char *role, const char *arg) {
    const char *argv[] = {"ktest", "--child", role, arg, NULL};
    return mos_spawn("/bin/ktest", argv, child_env);
}

static bool find_proc(long pid, struct mos_proc_info *out) {
    for (long i = 0; mos_proc_info(i, out) == 0; i++)
        if (out->pid == pid)
            return true;
    return false;
}

// Collects child PID once it has ended, waiting at most TIMEOUT; *info gets its last
// proc_info (fault address and all). A child still running then is killed and collected,
// and reap returns false.
static bool reap(long pid, uint64_t timeout, int *status, struct mos_proc_info *info) {
    struct mos_proc_info tmp;
    if (!info)
        info = &tmp;
    uint64_t deadline = now() + timeout;
    for (;;) {
        bool found = find_proc(pid, info);
        if (!found || info->state == MOS_PROC_ZOMBIE) {
            long r = mos_wait(pid, status);
            if (r != pid)
                return fail("wait(%ld) returned %ld (%s)", pid, r, err(r));
            return true;
        }
        if (now() > deadline) {
            mos_kill(pid);
            mos_wait(pid, status);
            return fail("child %ld still running after %lu ms (state %u); killed it", pid,
                        (unsigned long)(timeout / MS), info->state);
        }
        mos_sleep_ns(MS);
    }
}

// Reaps PID and checks it ended with status WANT.
static bool reap_expect(long pid, int want, const char *what) {
    int status = -1;
    if (!reap(pid, CHILD_TIMEOUT, &status, NULL))
        return fail("%s: %s", what, reason);
    CHECK(status == want, "%s: child ended with status %#x, want %#x", what, status, want);
    return true;
}

static void kill_and_reap(long pid) {
    int status;
    if (pid > 0) {
        mos_kill(pid);
        reap(pid, CHILD_TIMEOUT, &status, NULL);
    }
}

// --- parent and child: the control endpoint ----------------------------------------------------

struct child {
    long pid;
    int ctl;
};

static bool wait_call(struct child *c, uint32_t tag, struct mos_msg *m, long *token) {
    uint64_t bits;
    long r = mos_notify_wait(c->ctl, &bits, CHILD_TIMEOUT);
    CHECK(r == 0, "no word from child %ld (waiting for tag %u): %s", c->pid, tag, err(r));
    *token = mos_ipc_recv(c->ctl, m);
    CHECK(*token > 0, "ipc_recv on the control endpoint: %s", err(*token));
    CHECK(m->tag == tag && m->sender == c->pid, "control message tag %u from %ld, want tag %u from %ld", m->tag,
          (long)m->sender, tag, c->pid);
    return true;
}

// Receives a call on endpoint EP whose caller notified it first (notify_call), so that a
// caller that died does not leave this process waiting forever.
static long recv_notified(int ep, struct mos_msg *m) {
    uint64_t bits;
    long r = mos_notify_wait(ep, &bits, CHILD_TIMEOUT);
    return r < 0 ? r : mos_ipc_recv(ep, m);
}

// Answers the child's pending call with words W0, W1.
static bool answer(long token, uint64_t w0, uint64_t w1) {
    struct mos_msg r = {.tag = TAG_DONE, .words = {w0, w1}};
    long e = mos_ipc_reply(token, &r);
    CHECK(e == 0, "ipc_reply to a child: %s", err(e));
    return true;
}

// Starts "ktest --child ROLE ARG" with the control endpoint and the handles in GIVE (up to
// three); the child finds their numbers in given[0..2] and this process's pid in given[3].
static bool child_start(struct child *c, const char *role, const char *arg, const int *give, int ngive) {
    c->pid = -1;
    OK(c->ctl, mos_endpoint_create());
    OK(c->pid, spawn_role(role, arg));
    long h;
    OK(h, mos_handle_grant(c->ctl, c->pid));
    struct mos_msg hello, r = {.tag = TAG_DONE, .words = {[3] = (uint64_t)mos_getpid()}};
    for (int i = 0; i < ngive && i < 3; i++)
        OK(r.words[i], mos_handle_grant(give[i], c->pid));
    long token;
    if (!wait_call(c, TAG_HELLO, &hello, &token))
        return false;
    long e = mos_ipc_reply(token, &r);
    CHECK(e == 0, "hello reply: %s", err(e));
    return true;
}

// Ends a child started by child_start and checks its status.
static bool child_finish(struct child *c, int want, const char *what) {
    bool ok = reap_expect(c->pid, want, what);
    mos_handle_close(c->ctl);
    return ok;
}

static void child_abandon(struct child *c) {
    kill_and_reap(c->pid);
    mos_handle_close(c->ctl);
}

// In a child: the control endpoint and the handles the parent gave.
static const char *role = "?";
static int ctl = -1;
static long given[4];

static _Noreturn void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void child_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    printf("ktest:   child %s (pid %ld): %s\n", role, mos_getpid(), reason);
    exit(1);
}

#define CHILD_EXPECT(call, want)                                                                             \
    do {                                                                                                     \
        long r_ = (call), w_ = (want);                                                                       \
        if (r_ != w_)                                                                                        \
            child_fail("line %d: %s returned %ld (%s), want %ld (%s)", __LINE__, #call, r_, err(r_), w_,     \
                       err(w_));                                                                             \
    } while (0)

// A call announced with a notification (see recv_notified).
static long notify_call(int h, const struct mos_msg *m, struct mos_msg *r) {
    mos_notify(h, 1);
    return mos_ipc_call(h, m, r);
}

// Calls the parent on the control endpoint with TAG and W0; returns the reply.
static struct mos_msg child_call(uint32_t tag, uint64_t w0) {
    struct mos_msg m = {.tag = tag, .words = {w0}}, r;
    long e = notify_call(ctl, &m, &r);
    if (e != 0)
        child_fail("call to the parent (tag %u): %s", tag, err(e));
    return r;
}

static void child_hello(void) {
    uint64_t deadline = now() + CHILD_TIMEOUT;
    while (ctl < 0) {
        // notify with no bits: succeeds on an endpoint, EBADF on anything else.
        for (int h = MOS_COM2 + 1; h < 256 && ctl < 0; h++)
            if (mos_notify(h, 0) == 0)
                ctl = h;
        if (ctl < 0 && now() > deadline)
            child_fail("no control endpoint granted");
        if (ctl < 0)
            mos_sleep_ns(MS);
    }
    struct mos_msg r = child_call(TAG_HELLO, 0);
    for (int i = 0; i < 4; i++)
        given[i] = (long)r.words[i];
}

// --- faults ------------------------------------------------------------------------------------

static const char rodata_bytes[16] = "read-only";
static uint8_t data_code[16] = {0xc3}; // ret, in a writable (so never executable) page

// Recurses until the stack runs out (the depth test only hides that from the compiler).
static int recurse(int n) {
    volatile char frame[1024];
    frame[0] = (char)n;
    return n < 0 ? 0 : recurse(n + 1) + frame[0];
}

static const struct fault_kind {
    const char *name;
    int vector, alt_vector; // the expected exception (alt_vector: also acceptable, or -1)
    uintptr_t addr;         // the expected fault address (for page faults), or 1 for "do not check"
} fault_kinds[] = {
    {"null-write", 14, -1, 0},
    {"null-read", 14, -1, 0},
    {"text-write", 14, -1, 1},
    {"rodata-write", 14, -1, 1},
    {"exec-data", 14, -1, 1},
    {"exec-stack", 14, -1, 1},
    {"exec-heap", 14, -1, 1},
    {"kernel-read", 14, -1, KERNEL_ADDR},
    {"kernel-write", 14, -1, KERNEL_TEXT},
    {"kernel-exec", 14, -1, KERNEL_TEXT},
    {"noncanonical", 13, -1, 1},
    {"ud2", 6, -1, 1},
    {"hlt", 13, -1, 1},
    {"cli", 13, -1, 1},
    {"port-io", 13, -1, 1},
    {"int-0x80", 13, -1, 1},
    {"int3", 3, 13, 1},
    {"divide-zero", 0, -1, 1},
    {"divide-overflow", 0, -1, 1},
    {"stack-overflow", 14, -1, 1},
};

static void do_fault(const char *kind) {
    volatile int zero = 0;
    if (!strcmp(kind, "null-write"))
        *(volatile int *)(uintptr_t)zero = 1;
    else if (!strcmp(kind, "null-read"))
        (void)*(volatile int *)(uintptr_t)zero;
    else if (!strcmp(kind, "text-write"))
        *(volatile uint8_t *)(uintptr_t)do_fault = 0xcc;
    else if (!strcmp(kind, "rodata-write"))
        *(volatile char *)(uintptr_t)rodata_bytes = 'x';
    else if (!strcmp(kind, "exec-data"))
        ((void (*)(void))(uintptr_t)data_code)();
    else if (!strcmp(kind, "exec-stack")) {
        volatile uint8_t code[16] = {0xc3};
        ((void (*)(void))(uintptr_t)code)();
    } else if (!strcmp(kind, "exec-heap")) {
        uint8_t *code = malloc(16);
        code[0] = 0xc3;
        ((void (*)(void))(uintptr_t)code)();
    } else if (!strcmp(kind, "kernel-read"))
        (void)*(volatile long *)KERNEL_ADDR;
    else if (!strcmp(kind, "kernel-write"))
        *(volatile long *)KERNEL_TEXT = 0;
    else if (!strcmp(kind, "kernel-exec"))
        ((void (*)(void))KERNEL_TEXT)();
    else if (!strcmp(kind, "noncanonical"))
        (void)*(volatile long *)0x8000000000000000ul;
    else if (!strcmp(kind, "ud2"))
        __asm__ volatile("ud2");
    else if (!strcmp(kind, "hlt"))
        __asm__ volatile("hlt");
    else if (!strcmp(kind, "cli"))
        __asm__ volatile("cli");
    else if (!strcmp(kind, "port-io"))
        __asm__ volatile("outb %%al, $0x80" ::"a"(0));
    else if (!strcmp(kind, "int-0x80"))
        __asm__ volatile("int $0x80");
    else if (!strcmp(kind, "int3"))
        __asm__ volatile("int3");
    else if (!strcmp(kind, "divide-zero")) {
        volatile int x = 1;
        x = x / zero;
    } else if (!strcmp(kind, "divide-overflow")) {
        volatile int x = INT_MIN, y = -1;
        x = x / y;
    } else if (!strcmp(kind, "stack-overflow"))
        recurse(0);
}

static uintptr_t fault_addr_of(const char *kind) {
    if (!strcmp(kind, "text-write"))
        return (uintptr_t)do_fault;
    if (!strcmp(kind, "rodata-write"))
        return (uintptr_t)rodata_bytes;
    if (!strcmp(kind, "exec-data"))
        return (uintptr_t)data_code;
    return 1;
}

static bool test_faults(void) {
    long before = mos_frames_free();
    for (size_t i = 0; i < sizeof fault_kinds / sizeof fault_kinds[0]; i++) {
        const struct fault_kind *k = &fault_kinds[i];
        long pid;
        OK(pid, spawn_role("fault", k->name));
        int status = -1;
        struct mos_proc_info info;
        if (!reap(pid, CHILD_TIMEOUT, &status, &info))
            return fail("%s: %s", k->name, reason);
        int vec = status & 0xff;
        CHECK((status & ~0xff) == MOS_STATUS_FAULT && (vec == k->vector || vec == k->alt_vector),
              "%s: child ended with status %#x, want %#x (MOS_STATUS_FAULT | vector %d)", k->name, status,
              MOS_STATUS_FAULT | k->vector, k->vector);
        uintptr_t addr = k->addr != 1 ? k->addr : fault_addr_of(k->name);
        CHECK(addr == 1 || info.fault_addr == addr, "%s: proc_info fault_addr %#lx, want %#lx", k->name,
              (unsigned long)info.fault_addr, (unsigned long)addr);
    }
    // The kernel carries on: spawning still works, and nothing leaked.
    long pid;
    OK(pid, mos_spawnv("/bin/true", (const char *[]){"true", NULL}));
    if (!reap_expect(pid, 0, "true after faults"))
        return false;
    long after = mos_frames_free();
    CHECK(after >= before - 4, "free frames %ld before the faults, %ld after", before, after);
    return true;
}

// --- processes -------------------------------------------------------------------------------

static bool test_spawn_args(void) {
    const char *argv[] = {"ktest", "--child", "args", "one", "two words", "", NULL};
    const char *envp[] = {"KTEST_A=1", "KTEST_B=two=2", NULL};
    long pid;
    OK(pid, mos_spawn("/bin/ktest", argv, envp));
    struct mos_proc_info info;
    CHECK(find_proc(pid, &info), "child %ld not in proc_info", pid);
    CHECK(strcmp(info.name, "ktest") == 0 && info.ppid == mos_getpid(), "child's proc_info: name %s, ppid %ld",
          info.name, (long)info.ppid);
    if (!reap_expect(pid, 42, "args child"))
        return false;
    // Exit statuses are truncated to 0..255.
    OK(pid, spawn_role("exit", "300"));
    return reap_expect(pid, 300 & 0xff, "exit(300)");
}

static int child_args(int argc, char **argv) {
    extern char **environ;
    int n = 0;
    while (environ[n])
        n++;
    if (argc != 6 || strcmp(argv[3], "one") || strcmp(argv[4], "two words") || strcmp(argv[5], "") || argv[6])
        child_fail("argv is wrong (argc %d)", argc);
    if (n != 2 || strcmp(getenv("KTEST_A"), "1") || strcmp(getenv("KTEST_B"), "two=2"))
        child_fail("environment is wrong (%d strings)", n);
    return 42;
}

static bool test_spawn_errors(void) {
    static const char *const args[] = {"x", NULL};
    EXPECT(mos_spawn("/bin/no-such-program", args, NULL), -MOS_ENOENT);
    EXPECT(mos_spawn("/etc/motd", args, NULL), -MOS_ENOEXEC);
    EXPECT(mos_spawn("/bin", args, NULL), -MOS_ENOEXEC);
    char longpath[400];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = 0;
    EXPECT(mos_spawn(longpath, args, NULL), -MOS_ENAMETOOLONG);
    // 300 strings, and 80 KiB of argument text: both over the limits.
    static const char *many[302];
    for (int i = 0; i < 300; i++)
        many[i] = "x";
    many[300] = NULL;
    EXPECT(mos_spawn("/bin/true", many, NULL), -MOS_E2BIG);
    char *big = malloc(80 * 1024);
    memset(big, 'y', 80 * 1024 - 1);
    big[80 * 1024 - 1] = 0;
    const char *bigv[] = {"true", big, NULL};
    EXPECT(mos_spawn("/bin/true", bigv, NULL), -MOS_E2BIG);
    free(big);
    EXPECT(mos_wait(-1, NULL), -MOS_ECHILD);
    EXPECT(mos_wait(1000000, NULL), -MOS_ECHILD);
    EXPECT(mos_kill(1000000), -MOS_ESRCH);
    EXPECT(mos_resume(1000000), -MOS_ESRCH);
    EXPECT(mos_suspend(1000000), -MOS_ESRCH);
    EXPECT(mos_set_priority(1000000, 1), -MOS_ESRCH);
    return true;
}

static bool test_wait_any(void) {
    long pids[3];
    OK(pids[0], spawn_role("exit", "3"));
    OK(pids[1], spawn_role("exit", "5"));
    OK(pids[2], spawn_role("exit", "7"));
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        int status = -1;
        long r = mos_wait(-1, &status);
        CHECK(r == pids[0] || r == pids[1] || r == pids[2], "wait(-1) returned %ld (%s)", r, err(r));
        CHECK(status == 3 || status == 5 || status == 7, "wait(-1) status %#x", status);
        seen |= 1 << status;
    }
    CHECK(seen == (1 << 3 | 1 << 5 | 1 << 7), "statuses seen: %#x", seen);
    EXPECT(mos_wait(-1, NULL), -MOS_ECHILD);
    return true;
}

static bool test_kill(void) {
    long spin, sleeper;
    OK(spin, spawn_role("spin", NULL));
    OK(sleeper, spawn_role("sleep", NULL));
    mos_sleep_ns(20 * MS);
    EXPECT(mos_kill(spin), 0);
    EXPECT(mos_kill(sleeper), 0);
    uint64_t t0 = now();
    if (!reap_expect(spin, MOS_STATUS_KILLED, "killed spinner") ||
        !reap_expect(sleeper, MOS_STATUS_KILLED, "killed sleeper"))
        return false;
    CHECK(now() - t0 < 2 * SEC, "killed children took %lu ms to end", (unsigned long)((now() - t0) / MS));
    EXPECT(mos_kill(spin), -MOS_ESRCH);
    return true;
}

static uint64_t cpu_ns(long pid) {
    struct mos_proc_info info;
    return find_proc(pid, &info) ? info.cpu_ns : 0;
}

static bool test_suspend_resume(void) {
    long pid;
    OK(pid, spawn_role("spin", NULL));
    mos_sleep_ns(20 * MS);
    EXPECT(mos_resume(pid), -MOS_EINVAL); // not suspended
    EXPECT(mos_suspend(pid), 0);
    struct mos_proc_info info;
    mos_sleep_ns(5 * MS);
    CHECK(find_proc(pid, &info) && info.state == MOS_PROC_SUSPENDED, "suspended child in state %u", info.state);
    uint64_t c0 = cpu_ns(pid);
    mos_sleep_ns(50 * MS);
    uint64_t c1 = cpu_ns(pid);
    CHECK(c1 == c0, "a suspended child used %lu ns of CPU", (unsigned long)(c1 - c0));
    EXPECT(mos_resume(pid), 0);
    mos_sleep_ns(50 * MS);
    CHECK(cpu_ns(pid) > c1, "a resumed child got no CPU");
    kill_and_reap(pid);
    // A process cannot suspend itself.
    OK(pid, spawn_role("suspend-self", NULL));
    return reap_expect(pid, 0, "suspend(self)");
}

// A busy loop must not starve others: the parent's sleeps end on time while children spin.
static bool test_preemption(void) {
    long spin[2];
    OK(spin[0], spawn_role("spin", NULL));
    OK(spin[1], spawn_role("spin", NULL));
    uint64_t worst = 0;
    for (int i = 0; i < 10; i++) {
        uint64_t t0 = now();
        mos_sleep_ns(10 * MS);
        uint64_t late = now() - t0 - 10 * MS;
        worst = late > worst ? late : worst;
    }
    uint64_t c0 = cpu_ns(spin[0]), c1 = cpu_ns(spin[1]);
    kill_and_reap(spin[0]);
    kill_and_reap(spin[1]);
    CHECK(worst < 200 * MS, "a 10 ms sleep ended %lu ms late while two children spun", (unsigned long)(worst / MS));
    CHECK(c0 > 10 * MS && c1 > 10 * MS, "spinners got %lu and %lu ms of CPU", (unsigned long)(c0 / MS),
          (unsigned long)(c1 / MS));
    return true;
}

// A higher band always runs first: a background spinner gets nothing while a normal one
// spins, and runs once it is alone.
static bool test_priorities(void) {
    EXPECT(mos_set_priority(mos_getpid(), 3), -MOS_EINVAL);
    EXPECT(mos_set_priority(mos_getpid(), -1), -MOS_EINVAL);
    long normal, bg;
    OK(normal, spawn_role("spin", NULL));
    OK(bg, spawn_role("spin", NULL));
    EXPECT(mos_set_priority(bg, 0), 0);
    struct mos_proc_info info;
    CHECK(find_proc(bg, &info) && info.priority == 0, "proc_info priority %d after set_priority(0)", info.priority);
    mos_sleep_ns(20 * MS);
    uint64_t b0 = cpu_ns(bg), n0 = cpu_ns(normal);
    mos_sleep_ns(100 * MS);
    uint64_t b1 = cpu_ns(bg), n1 = cpu_ns(normal);
    kill_and_reap(normal);
    mos_sleep_ns(100 * MS);
    uint64_t b2 = cpu_ns(bg);
    kill_and_reap(bg);
    CHECK(n1 - n0 > 30 * MS, "the normal spinner got only %lu ms of 100", (unsigned long)((n1 - n0) / MS));
    CHECK(b1 - b0 < 2 * MS, "the background spinner got %lu ms while a normal one spun",
          (unsigned long)((b1 - b0) / MS));
    CHECK(b2 - b1 > 30 * MS, "the background spinner got only %lu ms of 100 alone", (unsigned long)((b2 - b1) / MS));
    EXPECT(mos_set_priority(mos_getpid(), 1), 0);
    return true;
}

static bool test_sleep(void) {
    uint64_t took[10];
    for (int i = 0; i < 10; i++) {
        uint64_t t0 = now();
        EXPECT(mos_sleep_ns(10 * MS), 0);
        took[i] = now() - t0;
        CHECK(took[i] >= 10 * MS, "sleep_ns(10 ms) returned after %lu us", (unsigned long)(took[i] / 1000));
    }
    benchstat_sort(took, 10);
    CHECK(took[5] < 20 * MS, "sleep_ns(10 ms) takes %lu us (median)", (unsigned long)(took[5] / 1000));
    CHECK(took[9] < 110 * MS, "sleep_ns(10 ms) took up to %lu us", (unsigned long)(took[9] / 1000));
    uint64_t t0 = now();
    EXPECT(mos_sleep_ns(1 * MS), 0);
    CHECK(now() - t0 >= MS, "sleep_ns(1 ms) returned early");
    t0 = now();
    EXPECT(mos_sleep_ns(0), 0);
    CHECK(now() - t0 < 50 * MS, "sleep_ns(0) took %lu us", (unsigned long)((now() - t0) / 1000));
    return true;
}

static bool test_clock(void) {
    long hz = mos_tsc_hz();
    CHECK(hz > 100000000, "tsc_hz %ld", hz);
    uint64_t c0 = now(), t0 = mos_rdtsc();
    mos_sleep_ns(50 * MS);
    uint64_t c1 = now(), t1 = mos_rdtsc();
    CHECK(c1 > c0, "the monotonic clock did not advance");
    uint64_t tsc_ns = (uint64_t)((double)(t1 - t0) * 1e9 / (double)hz);
    uint64_t clk_ns = c1 - c0;
    CHECK(tsc_ns > clk_ns * 3 / 4 && tsc_ns < clk_ns * 5 / 4, "the TSC says %lu us passed, clock_ns %lu us",
          (unsigned long)(tsc_ns / 1000), (unsigned long)(clk_ns / 1000));
    struct mos_wallclock w;
    EXPECT(mos_wallclock(&w), 0);
    CHECK(w.year >= 2024 && w.month >= 1 && w.month <= 12 && w.day >= 1 && w.day <= 31 && w.hour < 24 &&
              w.minute < 60 && w.second < 60,
          "wallclock %u-%u-%u %u:%u:%u", w.year, w.month, w.day, w.hour, w.minute, w.second);
    return true;
}

static bool test_proc_info(void) {
    struct mos_proc_info info;
    long me = mos_getpid();
    CHECK(me >= 1, "getpid %ld", me);
    CHECK(find_proc(me, &info), "this process is not in proc_info");
    CHECK(strcmp(info.name, "ktest") == 0, "name %s", info.name);
    CHECK(info.state == MOS_PROC_RUNNING, "own state %u, want RUNNING", info.state);
    CHECK(info.mem_bytes >= 3 * PAGE && info.cpu_ns > 0, "mem_bytes %lu cpu_ns %lu", (unsigned long)info.mem_bytes,
          (unsigned long)info.cpu_ns);
    CHECK(info.reserved == 0, "reserved field %u", info.reserved);
    EXPECT(mos_proc_info(-1, &info), -MOS_EINVAL);
    EXPECT(mos_proc_info(1 << 30, &info), -MOS_ESRCH);
    return true;
}

// --- memory ----------------------------------------------------------------------------------

static bool test_mmap(void) {
    long a;
    OK(a, mos_mmap_anon(3 * PAGE, MOS_PROT_READ | MOS_PROT_WRITE));
    CHECK(a % PAGE == 0 && (uintptr_t)a < NONCANONICAL, "mmap_anon returned %#lx", a);
    uint8_t *p = (uint8_t *)a;
    for (unsigned long i = 0; i < 3 * PAGE; i++)
        CHECK(p[i] == 0, "mmap_anon memory not zeroed at %lu", i);
    memset(p, 0x5a, 3 * PAGE);
    EXPECT(mos_munmap((uintptr_t)a + PAGE, PAGE), 0); // a hole in the middle
    EXPECT(mos_munmap((uintptr_t)a, PAGE), 0);
    EXPECT(mos_munmap((uintptr_t)a + 2 * PAGE, PAGE), 0);
    EXPECT(mos_mmap_anon(0, MOS_PROT_READ), -MOS_EINVAL);
    EXPECT(mos_mmap_anon(PAGE, 8), -MOS_EINVAL);
    EXPECT(mos_mmap_anon(PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_PROT_EXEC), -MOS_EINVAL);
    long r = mos_mmap_anon(1ul << 46, MOS_PROT_READ);
    CHECK(r == -MOS_ENOMEM || r == -MOS_EINVAL, "mmap_anon(64 TiB) returned %ld (%s)", r, err(r));
    r = mos_mmap_anon(SIZE_MAX, MOS_PROT_READ);
    CHECK(r == -MOS_ENOMEM || r == -MOS_EINVAL, "mmap_anon(SIZE_MAX) returned %ld (%s)", r, err(r));
    EXPECT(mos_munmap((uintptr_t)a + 1, PAGE), -MOS_EINVAL);
    EXPECT(mos_munmap(KERNEL_ADDR, PAGE), -MOS_EINVAL);
    EXPECT(mos_munmap(0xfffffffffffff000ul, 2 * PAGE), -MOS_EINVAL);
    EXPECT(mos_munmap((uintptr_t)a, 0), -MOS_EINVAL);
    // Memory comes back: 64 pages touched and unmapped, twice.
    long before = 0;
    for (int round = 0; round < 2; round++) {
        OK(a, mos_mmap_anon(64 * PAGE, MOS_PROT_READ | MOS_PROT_WRITE));
        memset((void *)a, 1, 64 * PAGE);
        EXPECT(mos_munmap((uintptr_t)a, 64 * PAGE), 0);
        long f = mos_frames_free();
        if (round == 0)
            before = f;
        else
            CHECK(f == before, "free frames %ld after one map/unmap of 64 pages, %ld after two", before, f);
    }
    // Read-only memory, and unmapped memory, fault in a child.
    long pid;
    OK(pid, spawn_role("mem", "write-readonly"));
    if (!reap_expect(pid, MOS_STATUS_FAULT | 14, "write to PROT_READ memory"))
        return false;
    OK(pid, spawn_role("mem", "use-after-munmap"));
    if (!reap_expect(pid, MOS_STATUS_FAULT | 14, "touch after munmap"))
        return false;
    // munmap takes only what mmap_anon or shm_map gave: not the program's own text.
    OK(pid, spawn_role("mem", "munmap-text"));
    return reap_expect(pid, 0, "munmap of the program text");
}

static int child_mem(const char *what) {
    if (!strcmp(what, "write-readonly")) {
        long a = mos_mmap_anon(PAGE, MOS_PROT_READ);
        if (a < 0)
            child_fail("mmap_anon: %s", err(a));
        if (*(volatile uint8_t *)a != 0)
            child_fail("read-only page not zero");
        *(volatile uint8_t *)a = 1;
    } else if (!strcmp(what, "use-after-munmap")) {
        long a = mos_mmap_anon(PAGE, MOS_PROT_READ | MOS_PROT_WRITE);
        *(volatile uint8_t *)a = 1;
        mos_munmap((uintptr_t)a, PAGE);
        *(volatile uint8_t *)a = 2;
    } else if (!strcmp(what, "munmap-text")) {
        CHILD_EXPECT(mos_munmap(0x400000, PAGE), -MOS_EINVAL);
        return 0;
    } else if (!strcmp(what, "lazy-write-readonly")) {
        long a = mos_mmap_anon(PAGE, MOS_PROT_READ | MOS_MAP_LAZY);
        if (a < 0)
            child_fail("mmap_anon: %s", err(a));
        if (*(volatile uint8_t *)a != 0)
            child_fail("read-only lazy page not zero");
        *(volatile uint8_t *)a = 1;
    } else if (!strcmp(what, "lazy-exec")) {
        long a = mos_mmap_anon(PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY);
        if (a < 0)
            child_fail("mmap_anon: %s", err(a));
        ((void (*)(void))(uintptr_t)a)();
    } else if (!strcmp(what, "lazy-full")) {
        // Reserves nearly every free frame lazily; nobody else can have them meanwhile, and
        // every page, touched by the program or by the kernel copying into it (stat), gets one.
        enum { SLACK = 256 }; // frames left for the kernel's own needs meanwhile
        long pages = mos_frames_free() - SLACK;
        long a = mos_mmap_anon((size_t)pages * PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY);
        if (a < 0)
            child_fail("mmap_anon(MOS_MAP_LAZY) of %ld pages: %s", pages, err(a));
        long f0 = mos_frames_free();
        if (f0 > SLACK)
            child_fail("%ld frames free after reserving all but %d", f0, SLACK);
        CHILD_EXPECT(mos_mmap_anon(2 * SLACK * PAGE, MOS_PROT_READ | MOS_PROT_WRITE), -MOS_ENOMEM);
        CHILD_EXPECT(mos_mmap_anon(2 * SLACK * PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY), -MOS_ENOMEM);
        for (long i = 0; i < pages; i++) {
            if (i % 2 == 0)
                ((volatile uint8_t *)a)[i * PAGE] = 1;
            else if (mos_stat("/etc/motd", (struct mos_stat *)(a + i * PAGE)) < 0)
                child_fail("stat into lazy page %ld failed", i);
        }
        long f1 = mos_frames_free();
        if (f0 - f1 > 4)
            child_fail("touching %ld reserved pages took %ld more frames", pages, f0 - f1);
        struct mos_proc_info info;
        if (!find_proc(mos_getpid(), &info) || info.mem_bytes < (uint64_t)pages * PAGE)
            child_fail("mem_bytes %lu after touching %ld lazy pages", (unsigned long)info.mem_bytes, pages);
        // Half of it back: its frames are free again.
        long half = pages / 2;
        CHILD_EXPECT(mos_munmap((uintptr_t)a, (size_t)half * PAGE), 0);
        long f2 = mos_frames_free();
        if (f2 - f1 < half || f2 - f1 > half + half / 512 + 3) // and their page tables
            child_fail("munmap of %ld touched pages freed %ld frames", half, f2 - f1);
        // Untouched reservations go back at exit too.
        if (mos_mmap_anon(SLACK / 2 * PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY) < 0)
            child_fail("mmap_anon(MOS_MAP_LAZY) of %d pages failed", SLACK / 2);
        return 0;
    } else if (!strcmp(what, "lazy-exit")) {
        long a = mos_mmap_anon(256 * PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY);
        if (a < 0)
            child_fail("mmap_anon: %s", err(a));
        for (int i = 0; i < 256; i++)
            ((volatile uint8_t *)a)[i * PAGE] = 1;
        return 0;
    }
    return 99;
}

// Demand-paged memory (MOS_MAP_LAZY): no frames held after the call (only reserved: frames_free
// drops, mem_bytes does not), a zeroed frame at each page's first touch (by the program or by a
// system call copying to or from it), every frame back after munmap and after the process
// ends, a touch the protection forbids still faults, and programs are loaded page by page.
static bool test_lazy(void) {
    enum { N = 64 };
    long base = 0;
    for (int round = 0; round < 2; round++) {
        struct mos_proc_info self;
        CHECK(find_proc(mos_getpid(), &self), "no proc_info for myself");
        long f0 = mos_frames_free(), m0 = (long)self.mem_bytes, a;
        OK(a, mos_mmap_anon(N * PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY));
        find_proc(mos_getpid(), &self);
        long f1 = mos_frames_free(), m1 = (long)self.mem_bytes;
        // The frames are reserved (no longer free for others) but not held.
        CHECK(f0 - f1 >= N && f0 - f1 < N + 4, "mmap_anon(MOS_MAP_LAZY) of %d pages reserved %ld frames", N,
              f0 - f1);
        CHECK(m1 == m0, "mmap_anon(MOS_MAP_LAZY) of %d pages: mem_bytes %ld -> %ld", N, m0, m1);
        volatile uint8_t *p = (volatile uint8_t *)a;
        for (int i = 0; i < N; i++)
            CHECK(p[i * PAGE + i] == 0, "lazy page %d reads %u, want 0", i, p[i * PAGE + i]);
        find_proc(mos_getpid(), &self);
        long f2 = mos_frames_free(), m2 = (long)self.mem_bytes;
        CHECK(m2 - m1 == N * PAGE, "reading %d lazy pages: mem_bytes %ld -> %ld", N, m1, m2);
        CHECK(f1 - f2 < 4, "reading %d reserved lazy pages took %ld more frames", N, f1 - f2);
        for (int i = 0; i < N; i++)
            p[i * PAGE + 1] = (uint8_t)i;
        for (int i = 0; i < N; i++)
            CHECK(p[i * PAGE + 1] == (uint8_t)i && p[i * PAGE + 2] == 0, "lazy page %d lost a write", i);
        EXPECT(mos_munmap((uintptr_t)a, N * PAGE), 0);
        long f3 = mos_frames_free();
        if (round == 0)
            base = f3;
        else
            CHECK(f3 == base, "free frames %ld after one lazy map/touch/unmap, %ld after two", base, f3);
    }
    // System calls copy to and from pages nobody touched yet; a hole cut in a lazy region
    // leaves both sides lazy.
    long a;
    OK(a, mos_mmap_anon(4 * PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY));
    struct mos_stat *st = (struct mos_stat *)(a + PAGE - 8); // straddles two untouched pages
    EXPECT(mos_stat("/etc/motd", st), 0);
    CHECK(st->size > 0 && st->type == MOS_FT_FILE, "stat into lazy pages: size %lu type %u",
          (unsigned long)st->size, st->type);
    int q;
    OK(q, mos_queue_create(1));
    EXPECT(mos_queue_send(q, (struct mos_msg *)(a + 2 * PAGE), 0), 0); // an untouched page: all zero
    EXPECT(mos_munmap((uintptr_t)a + 2 * PAGE, PAGE), 0);
    struct mos_msg *m = (struct mos_msg *)(a + 3 * PAGE);
    EXPECT(mos_queue_recv(q, m, 0), 0);
    CHECK(m->tag == 0 && m->len == 0 && m->sender == mos_getpid(), "queue message through lazy pages: tag %u len %u",
          m->tag, m->len);
    mos_handle_close(q);
    EXPECT(mos_munmap((uintptr_t)a, 4 * PAGE), 0);
    // Shared memory has its frames already: MOS_MAP_LAZY means nothing there and is refused.
    int h;
    OK(h, mos_shm_create(PAGE));
    EXPECT(mos_shm_map(h, MOS_PROT_READ | MOS_MAP_LAZY), -MOS_EINVAL);
    mos_handle_close(h);
    // Touches the protection forbids: a write to a read-only page, a jump into a data page.
    static const char *const kinds[] = {"lazy-write-readonly", "lazy-exec"};
    for (int i = 0; i < 2; i++) {
        long pid;
        OK(pid, spawn_role("mem", kinds[i]));
        if (!reap_expect(pid, MOS_STATUS_FAULT | 14, kinds[i]))
            return false;
    }
    // A program's image is copied in page by page as it runs: a child asleep holds less than
    // its image (most of the test table's text is never run by one role).
    extern char _end[];
    unsigned long image = (unsigned long)(uintptr_t)_end - 0x400000;
    long sleeper;
    OK(sleeper, spawn_role("sleep", ""));
    struct mos_proc_info si;
    for (int i = 0; i < 100 && (!find_proc(sleeper, &si) || si.state != MOS_PROC_BLOCKED); i++)
        mos_sleep_ns(1000000);
    mos_kill(sleeper);
    if (!reap_expect(sleeper, MOS_STATUS_KILLED, "sleep"))
        return false;
    CHECK(si.mem_bytes < image, "a sleeping child holds %lu bytes, its image has %lu", (unsigned long)si.mem_bytes,
          image);
    printf("ktest: lazy: a sleeping child holds %lu of its image's %lu bytes (and its stack)\n",
           (unsigned long)si.mem_bytes, image);
    // A process that ends with lazy pages touched gives every frame back (the first run warms
    // the kernel's caches up).
    long before = 0;
    for (int run = 0; run < 2; run++) {
        if (run == 1)
            before = mos_frames_free();
        long pid;
        OK(pid, spawn_role("mem", "lazy-exit"));
        if (!reap_expect(pid, 0, "lazy-exit"))
            return false;
    }
    long after = mos_frames_free();
    CHECK(after == before, "free frames %ld before a child touched 256 lazy pages, %ld after it ended", before, after);
    return true;
}

// Lazy memory cannot run out at a first touch: a mapping reserves its frames, so one larger
// than the free frames fails at the call (ENOMEM), and a process that reserved nearly all of
// them touches every page and lives; its reservations come back exactly at munmap and exit,
// and nothing was killed.
static bool test_lazy_oom(void) {
    static char log[4096];
    uint64_t cursor = 0;
    while (mos_klog_read(&cursor, log, sizeof log) > 0) // skip what is logged already
        ;
    long before = mos_frames_free(), pid;
    EXPECT(mos_mmap_anon((size_t)(before + 1) * PAGE, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY), -MOS_ENOMEM);
    CHECK(mos_frames_free() == before, "free frames %ld before a refused lazy mapping, %ld after", before,
          mos_frames_free());
    for (int run = 0; run < 2; run++) { // the first run warms the kernel's caches up
        if (run == 1)
            before = mos_frames_free();
        OK(pid, spawn_role("mem", "lazy-full"));
        if (!reap_expect(pid, 0, "lazy-full"))
            return false;
    }
    long after = mos_frames_free(), n;
    CHECK(after == before, "free frames %ld before a child reserved and touched nearly all, %ld after", before, after);
    OK(n, mos_klog_read(&cursor, log, sizeof log - 1));
    log[n] = 0;
    CHECK(!strstr(log, "killed"), "a process was killed: %.200s", log);
    OK(pid, mos_spawnv("/bin/true", (const char *[]){"true", NULL}));
    return reap_expect(pid, 0, "true after reserving nearly all memory");
}

// --- threads -----------------------------------------------------------------------------------

// What the threads of a test share.
static struct {
    volatile uint64_t count[2]; // progress of the first thread and of the second
    volatile int stop, ready, turn;
    volatile long self_tid, join_self;
    int sem;
} sh;

// Counts in a busy loop (no system call) until stopped.
static void count_loop(void *arg) {
    (void)arg;
    while (!sh.stop)
        sh.count[1]++;
}

// Takes turns with the first thread: waits (yielding) for turn 1, hands back turn 0.
static void ping_pong(void *arg) {
    long rounds = (long)(uintptr_t)arg;
    for (long i = 0; i < rounds; i++) {
        while (sh.turn != 1)
            mos_yield();
        sh.count[1]++;
        sh.turn = 0;
    }
}

// Learns its own id from the first thread, checks it cannot join itself, and leaves through
// thread_exit from below fn (what returning from fn does too, one frame up).
static void exit_from_inside(void *arg) {
    (void)arg;
    while (!sh.ready)
        mos_yield();
    sh.join_self = mos_thread_join(sh.self_tid);
    sh.count[1] = 1;
    mos_thread_exit();
    sh.count[1] = 2; // never reached
}

static void wait_on_sem(void *arg) {
    (void)arg;
    mos_sem_wait(sh.sem, MOS_TIMEOUT_FOREVER);
}

static bool test_threads(void) {
    memset((void *)&sh, 0, sizeof sh);
    // Two threads share memory and the CPU: the second counts while the first spins without a
    // system call, so only preemption lets it run.
    struct mos_thread t;
    long tid;
    OK(tid, mos_thread_spawn(&t, count_loop, NULL, 0));
    CHECK(tid > 0 && tid != mos_getpid(), "thread id %ld", tid);
    uint64_t hz = (uint64_t)mos_tsc_hz(), t0 = mos_rdtsc();
    uint64_t mine = 0;
    while (sh.count[1] < 1000 && mos_rdtsc() - t0 < 5 * hz)
        mine++;
    CHECK(sh.count[1] >= 1000, "the second thread counted to %lu while the first spun %lu times",
          (unsigned long)sh.count[1], (unsigned long)mine);
    sh.stop = 1;
    EXPECT(mos_thread_collect(&t), 0);
    // Yielding hands the CPU back and forth.
    enum { ROUNDS = 200 };
    sh.count[1] = 0;
    OK(tid, mos_thread_spawn(&t, ping_pong, (void *)(uintptr_t)ROUNDS, 16 * 1024));
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t start = mos_rdtsc();
        while (sh.turn != 0) {
            mos_yield();
            CHECK(mos_rdtsc() - start < 5 * hz, "round %d: the second thread did not take its turn", i);
        }
        sh.count[0]++;
        sh.turn = 1;
    }
    EXPECT(mos_thread_collect(&t), 0);
    CHECK(sh.count[0] == ROUNDS && sh.count[1] == ROUNDS, "ping-pong counted %lu and %lu, want %d each",
          (unsigned long)sh.count[0], (unsigned long)sh.count[1], ROUNDS);
    // thread_exit ends only its thread; join waits for it; a thread cannot join itself; an
    // ended thread is unknown.
    sh.count[1] = 0;
    OK(tid, mos_thread_spawn(&t, exit_from_inside, NULL, 0));
    sh.self_tid = tid;
    sh.ready = 1;
    EXPECT(mos_thread_join(tid), 0);
    CHECK(sh.count[1] == 1 && sh.join_self == -MOS_EINVAL, "after thread_exit: count %lu, join(self) %ld",
          (unsigned long)sh.count[1], sh.join_self);
    EXPECT(mos_thread_join(tid), -MOS_ESRCH);
    EXPECT(mos_thread_collect(&t), 0);
    // Bad arguments: errors, nothing started.
    uintptr_t entry = (uintptr_t)count_loop;
    long stack;
    OK(stack, mos_mmap_anon(PAGE, MOS_PROT_READ | MOS_PROT_WRITE));
    uintptr_t sp = (uintptr_t)stack + PAGE - 16;
    const uintptr_t bad_entries[] = {0, 0x1000, KERNEL_ADDR, KERNEL_TEXT, NONCANONICAL, 0xfffffffffffff000ul};
    for (size_t i = 0; i < sizeof bad_entries / sizeof bad_entries[0]; i++) {
        EXPECT(mos_thread_create(bad_entries[i], sp, 0), -MOS_EINVAL);
        EXPECT(mos_thread_create(entry, bad_entries[i], 0), -MOS_EINVAL);
    }
    EXPECT(mos_thread_create(entry, NONCANONICAL + PAGE, 0), -MOS_EINVAL);
    EXPECT(mos_thread_join(0), -MOS_ESRCH);
    EXPECT(mos_thread_join(-1), -MOS_ESRCH);
    EXPECT(mos_thread_join(1l << 40), -MOS_ESRCH);
    EXPECT(mos_munmap((uintptr_t)stack, PAGE), 0);
    // At most MOS_THREADS_MAX threads at once (this one included), all of which can block.
    OK(sh.sem, mos_sem_create(0));
    static struct mos_thread many[MOS_THREADS_MAX];
    int n = 0;
    long r;
    while ((r = mos_thread_spawn(&many[n], wait_on_sem, NULL, 8 * 1024)) > 0 && n < MOS_THREADS_MAX - 1)
        n++;
    CHECK(n == MOS_THREADS_MAX - 1 && r == -MOS_EAGAIN, "%d threads made, then %ld (%s); want %d, then EAGAIN", n,
          r, err(r), MOS_THREADS_MAX - 1);
    for (int i = 0; i < n; i++)
        EXPECT(mos_sem_post(sh.sem), 0);
    for (int i = 0; i < n; i++)
        EXPECT(mos_thread_collect(&many[i]), 0);
    mos_handle_close(sh.sem);
    return true;
}

// A process ends with all its threads: exit or a return from main in any thread, a fault in
// any thread, kill; and when its last thread calls thread_exit, with status 0. Nothing leaks.
static bool test_thread_exit(void) {
    static const struct {
        const char *role;
        int status;
    } cases[] = {
        {"threads-exit", 7},
        {"threads-fault", MOS_STATUS_FAULT | 14},
        {"threads-last", 0},
        {"threads-exit", 7}, // again, to compare free frames against the first run's
    };
    long before = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i == 1)
            before = mos_frames_free();
        long pid;
        OK(pid, spawn_role(cases[i].role, NULL));
        if (!reap_expect(pid, cases[i].status, cases[i].role))
            return false;
    }
    long pid;
    OK(pid, spawn_role("threads-spin", NULL));
    mos_sleep_ns(30 * MS);
    EXPECT(mos_kill(pid), 0);
    if (!reap_expect(pid, MOS_STATUS_KILLED, "kill of a process with spinning threads"))
        return false;
    long after = mos_frames_free();
    CHECK(after == before, "free frames %ld before, %ld after the threaded children ended", before, after);
    return true;
}

static void spin_forever(void *arg) {
    (void)arg;
    for (volatile uint64_t i = 0;; i++)
        ;
}

static void block_forever(void *arg) {
    (void)arg;
    for (;;)
        mos_sleep_ns(SEC);
}

static void fault_soon(void *arg) {
    (void)arg;
    volatile int zero = 0;
    mos_sleep_ns(5 * MS);
    *(volatile int *)(uintptr_t)zero = 1;
}

static void return_soon(void *arg) {
    (void)arg;
    mos_sleep_ns(10 * MS);
}

static int child_threads(const char *what) {
    struct mos_thread t[3];
    if (!strcmp(what, "threads-exit")) {
        // One thread spinning and one blocked when main returns.
        if (mos_thread_spawn(&t[0], spin_forever, NULL, 0) < 0 || mos_thread_spawn(&t[1], block_forever, NULL, 0) < 0)
            child_fail("thread_create failed");
        mos_sleep_ns(10 * MS);
        return 7;
    }
    if (!strcmp(what, "threads-fault")) {
        if (mos_thread_spawn(&t[0], block_forever, NULL, 0) < 0 || mos_thread_spawn(&t[1], fault_soon, NULL, 0) < 0)
            child_fail("thread_create failed");
        block_forever(NULL);
    }
    if (!strcmp(what, "threads-last")) {
        if (mos_thread_spawn(&t[0], return_soon, NULL, 0) < 0)
            child_fail("thread_create failed");
        mos_thread_exit();
    }
    if (!strcmp(what, "threads-spin")) {
        for (int i = 0; i < 2; i++)
            if (mos_thread_spawn(&t[i], spin_forever, NULL, 0) < 0)
                child_fail("thread_create failed");
        spin_forever(NULL);
    }
    return 99;
}

// --- IPC -------------------------------------------------------------------------------------

enum { IPC_ROUNDS = 50 };

static bool test_ipc(void) {
    int ep;
    OK(ep, mos_endpoint_create());
    struct child c;
    if (!child_start(&c, "ipc-client", NULL, &ep, 1))
        return false;
    for (int i = 0; i < IPC_ROUNDS; i++) {
        struct mos_msg m;
        memset(&m, 0xee, sizeof m);
        long token = recv_notified(ep, &m);
        CHECK(token > 0, "ipc_recv: %s", err(token));
        uint32_t len = i == IPC_ROUNDS - 1 ? MOS_MSG_DATA_MAX : (uint32_t)i;
        CHECK(m.sender == c.pid && m.tag == (uint32_t)i && m.len == len && m.words[0] == (uint64_t)i * 3 &&
                  m.words[3] == ~(uint64_t)i,
              "round %d: got tag %u len %u sender %ld words[0] %lu", i, m.tag, m.len, (long)m.sender,
              (unsigned long)m.words[0]);
        for (uint32_t k = 0; k < len; k++)
            CHECK(m.data[k] == (uint8_t)(i + k), "round %d: data[%u] = %u", i, k, m.data[k]);
        struct mos_msg r = {.tag = m.tag + 1000, .len = m.len, .words = {m.words[3], m.words[2], m.words[1], m.words[0]}};
        for (uint32_t k = 0; k < len; k++)
            r.data[k] = (uint8_t)~m.data[k];
        EXPECT(mos_ipc_reply(token, &r), 0);
        EXPECT(mos_ipc_reply(token, &r), -MOS_EINVAL); // answered already
    }
    bool ok = child_finish(&c, 0, "ipc client");
    // Receiving with a timeout, when nobody calls.
    struct mos_msg m;
    long r = mos_ipc_recv_timeout(ep, &m, 0);
    CHECK(ok && (r == -MOS_ETIMEDOUT || r == -MOS_EAGAIN), "ipc_recv_timeout(0) polled: %ld (%s)", r, err(r));
    uint64_t t0 = now();
    EXPECT(mos_ipc_recv_timeout(ep, &m, 10 * MS), -MOS_ETIMEDOUT);
    CHECK(now() - t0 >= 10 * MS, "ipc_recv_timeout(10 ms) gave up after %lu us", (unsigned long)((now() - t0) / 1000));
    mos_handle_close(ep);
    return ok;
}

static int child_ipc_client(void) {
    child_hello();
    int ep = (int)given[0];
    for (int i = 0; i < IPC_ROUNDS; i++) {
        uint32_t len = i == IPC_ROUNDS - 1 ? MOS_MSG_DATA_MAX : (uint32_t)i;
        struct mos_msg m = {.tag = (uint32_t)i, .len = len, .words = {(uint64_t)i * 3, 1, 2, ~(uint64_t)i}}, r;
        for (uint32_t k = 0; k < len; k++)
            m.data[k] = (uint8_t)(i + k);
        CHILD_EXPECT(notify_call(ep, &m, &r), 0);
        if (r.tag != (uint32_t)i + 1000 || r.len != len || r.words[0] != ~(uint64_t)i || r.words[3] != (uint64_t)i * 3)
            child_fail("round %d: reply tag %u len %u", i, r.tag, r.len);
        for (uint32_t k = 0; k < len; k++)
            if (r.data[k] != (uint8_t) ~(i + k))
                child_fail("round %d: reply data[%u] = %u", i, k, r.data[k]);
    }
    // Only the endpoint's creator receives on it; messages have a size limit.
    struct mos_msg m = {.len = MOS_MSG_DATA_MAX + 1}, r;
    CHILD_EXPECT(mos_ipc_recv(ep, &m), -MOS_EPERM);
    CHILD_EXPECT(mos_ipc_call(ep, &m, &r), -MOS_EINVAL);
    return 0;
}

static bool test_ipc_errors(void) {
    int ep, sem;
    OK(ep, mos_endpoint_create());
    OK(sem, mos_sem_create(0));
    struct mos_msg m = {0}, r;
    EXPECT(mos_ipc_call(sem, &m, &r), -MOS_EBADF);
    EXPECT(mos_ipc_call(200, &m, &r), -MOS_EBADF);
    EXPECT(mos_ipc_call(-1, &m, &r), -MOS_EBADF);
    EXPECT(mos_ipc_recv(sem, &m), -MOS_EBADF);
    EXPECT(mos_ipc_reply(0, &m), -MOS_EINVAL);
    EXPECT(mos_ipc_reply(123456789, &m), -MOS_EINVAL);
    EXPECT(mos_notify(sem, 1), -MOS_EBADF);
    // A reply to a caller that has died is dropped with ESRCH.
    struct child c;
    if (!child_start(&c, "ipc-caller", "once", &ep, 1))
        return false;
    long token;
    OK(token, recv_notified(ep, &m));
    kill_and_reap(c.pid);
    mos_handle_close(c.ctl);
    EXPECT(mos_ipc_reply(token, &m), -MOS_ESRCH);
    // A reply too long for a message.
    if (!child_start(&c, "ipc-caller", "once", &ep, 1))
        return false;
    OK(token, recv_notified(ep, &m));
    struct mos_msg toolong = {.len = MOS_MSG_DATA_MAX + 1};
    EXPECT(mos_ipc_reply(token, &toolong), -MOS_EINVAL);
    EXPECT(mos_ipc_reply(token, &m), 0);
    bool ok = child_finish(&c, 0, "caller");
    mos_handle_close(ep);
    mos_handle_close(sem);
    return ok;
}

// The child creates endpoints and grants them to its parent, as a server does.
static int grant_to_parent(int h) {
    long ppid = (long)child_call(TAG_STEP, 0).words[0];
    long ph = mos_handle_grant(h, ppid);
    if (ph < 0)
        child_fail("handle_grant to parent %ld: %s", ppid, err(ph));
    child_call(TAG_GRANTED, (uint64_t)ph);
    return (int)ph;
}

static bool get_granted(struct child *c, int *h) {
    struct mos_msg m;
    long token;
    if (!wait_call(c, TAG_STEP, &m, &token) || !answer(token, (uint64_t)mos_getpid(), 0) ||
        !wait_call(c, TAG_GRANTED, &m, &token))
        return false;
    *h = (int)m.words[0];
    return answer(token, 0, 0);
}

static int child_ipc_server(const char *how) {
    child_hello();
    int ep = mos_endpoint_create();
    grant_to_parent(ep);
    struct mos_msg m;
    if (!strcmp(how, "idle"))
        for (;;)
            mos_sleep_ns(SEC);
    long token = mos_ipc_recv(ep, &m);
    if (token <= 0)
        child_fail("ipc_recv: %s", err(token));
    if (!strcmp(how, "close")) {
        CHILD_EXPECT(mos_handle_close(ep), 0);
        for (;;)
            mos_sleep_ns(SEC);
    }
    if (!strcmp(how, "echo")) {
        // Answer every call with its own request, until killed.
        for (;;) {
            mos_ipc_reply(token, &m);
            token = mos_ipc_recv(ep, &m);
            if (token <= 0)
                child_fail("ipc_recv: %s", err(token));
        }
    }
    return 0; // "exit": leaves with the call unanswered
}

// One call on the endpoint given: "once" wants it answered, "epipe" wants EPIPE.
static int child_ipc_caller(const char *how) {
    child_hello();
    struct mos_msg m = {.tag = 7, .len = MOS_MSG_DATA_MAX}, r;
    long e = notify_call((int)given[0], &m, &r);
    long want = !strcmp(how, "epipe") ? -MOS_EPIPE : 0;
    if (e != want)
        child_fail("the call returned %ld (%s), want %s", e, err(e), err(want));
    return 0;
}

// When a server dies or closes its endpoint, callers get EPIPE: a call it had received,
// calls waiting in its queue, and calls made afterwards. Every call is made by a child, so
// a caller left hanging shows as a timeout.
static bool test_ipc_server_death(void) {
    static const char *const hows[] = {"exit", "close"};
    for (int i = 0; i < 2; i++) {
        struct child s, c;
        int ep;
        if (!child_start(&s, "ipc-server", hows[i], NULL, 0) || !get_granted(&s, &ep))
            return false;
        // The server receives this call, then exits or closes the endpoint without replying.
        if (!child_start(&c, "ipc-caller", "epipe", &ep, 1) || !child_finish(&c, 0, "caller the server received"))
            return false;
        if (i == 0 && !child_finish(&s, 0, "server that exited"))
            return false;
        // Later calls fail at once.
        if (!child_start(&c, "ipc-caller", "epipe", &ep, 1) || !child_finish(&c, 0, "caller after the server"))
            return false;
        EXPECT(mos_notify(ep, 1), -MOS_EPIPE);
        if (i == 1)
            child_abandon(&s);
        mos_handle_close(ep);
    }
    // Two callers queued on a server that never receives; the server is killed.
    struct child s, c1, c2;
    int ep;
    if (!child_start(&s, "ipc-server", "idle", NULL, 0) || !get_granted(&s, &ep))
        return false;
    if (!child_start(&c1, "ipc-caller", "epipe", &ep, 1) || !child_start(&c2, "ipc-caller", "epipe", &ep, 1))
        return false;
    mos_sleep_ns(30 * MS);
    struct mos_proc_info info;
    CHECK(find_proc(c1.pid, &info) && info.state == MOS_PROC_BLOCKED, "caller in state %u, want BLOCKED",
          info.state);
    child_abandon(&s);
    bool ok = child_finish(&c1, 0, "first queued caller") && child_finish(&c2, 0, "second queued caller");
    mos_handle_close(ep);
    return ok;
}

static bool test_notify(void) {
    int ep;
    uint64_t bits = 0;
    OK(ep, mos_endpoint_create());
    EXPECT(mos_notify_wait(ep, &bits, 0), -MOS_EAGAIN);
    uint64_t t0 = now();
    EXPECT(mos_notify_wait(ep, &bits, 10 * MS), -MOS_ETIMEDOUT);
    CHECK(now() - t0 >= 10 * MS, "notify_wait timed out after %lu us", (unsigned long)((now() - t0) / 1000));
    // Bits sent before the wait are kept and arrive together.
    EXPECT(mos_notify(ep, 0x10), 0);
    EXPECT(mos_notify(ep, 0x20), 0);
    EXPECT(mos_notify_wait(ep, &bits, 0), 0);
    CHECK(bits == 0x30, "notify_wait took %#lx, want 0x30", (unsigned long)bits);
    EXPECT(mos_notify_wait(ep, &bits, 0), -MOS_EAGAIN);
    // From another process, while this one waits.
    struct child c;
    if (!child_start(&c, "notify", NULL, &ep, 1))
        return false;
    uint64_t got = 0;
    while (got != 7) {
        long r = mos_notify_wait(ep, &bits, 5 * SEC);
        CHECK(r == 0, "notify_wait for the child's bits: %s (have %#lx)", err(r), (unsigned long)got);
        got |= bits;
    }
    bool ok = child_finish(&c, 0, "notifier");
    mos_handle_close(ep);
    return ok;
}

static int child_notify(void) {
    child_hello();
    for (int i = 0; i < 3; i++) {
        CHILD_EXPECT(mos_notify((int)given[0], 1ull << i), 0);
        mos_sleep_ns(5 * MS);
    }
    return 0;
}

static bool test_queue(void) {
    struct mos_msg m = {0};
    EXPECT(mos_queue_create(0), -MOS_EINVAL);
    EXPECT(mos_queue_create(MOS_QUEUE_DEPTH_MAX + 1), -MOS_EINVAL);
    int q;
    OK(q, mos_queue_create(4));
    for (int i = 0; i < 4; i++) {
        m.tag = (uint32_t)i;
        EXPECT(mos_queue_send(q, &m, 0), 0);
    }
    EXPECT(mos_queue_send(q, &m, 0), -MOS_EAGAIN);
    uint64_t t0 = now();
    EXPECT(mos_queue_send(q, &m, 20 * MS), -MOS_ETIMEDOUT);
    CHECK(now() - t0 >= 20 * MS, "queue_send timed out after %lu us", (unsigned long)((now() - t0) / 1000));
    for (int i = 0; i < 4; i++) {
        EXPECT(mos_queue_recv(q, &m, 0), 0);
        CHECK(m.tag == (uint32_t)i, "queue order: got tag %u, want %d", m.tag, i);
    }
    EXPECT(mos_queue_recv(q, &m, 0), -MOS_EAGAIN);
    t0 = now();
    EXPECT(mos_queue_recv(q, &m, 10 * MS), -MOS_ETIMEDOUT);
    CHECK(now() - t0 >= 10 * MS, "queue_recv timed out after %lu us", (unsigned long)((now() - t0) / 1000));
    m.len = MOS_MSG_DATA_MAX + 1;
    EXPECT(mos_queue_send(q, &m, 0), -MOS_EINVAL);
    // Between processes: ten messages to the child, which blocks for them, and the sum back.
    int out;
    OK(out, mos_queue_create(2));
    int give[2] = {q, out};
    struct child c;
    if (!child_start(&c, "queue", NULL, give, 2))
        return false;
    mos_sleep_ns(20 * MS); // the child is now blocked on an empty queue
    uint64_t sum = 0;
    for (int i = 0; i < 10; i++) {
        struct mos_msg s = {.tag = (uint32_t)i, .len = 8, .words = {(uint64_t)i * i}};
        memcpy(s.data, "queue!!", 8);
        sum += (uint64_t)i * i;
        EXPECT(mos_queue_send(q, &s, 5 * SEC), 0);
    }
    EXPECT(mos_queue_recv(out, &m, 5 * SEC), 0);
    CHECK(m.words[0] == sum && m.sender == c.pid, "the child summed %lu (from %ld), want %lu",
          (unsigned long)m.words[0], (long)m.sender, (unsigned long)sum);
    if (!child_finish(&c, 0, "queue child"))
        return false;
    // The peer has gone: a shared queue with one holder left reports EPIPE instead of waiting.
    EXPECT(mos_queue_recv(q, &m, 2 * SEC), -MOS_EPIPE);
    m.len = 0;
    EXPECT(mos_queue_send(q, &m, 2 * SEC), -MOS_EPIPE);
    mos_handle_close(q);
    mos_handle_close(out);
    return true;
}

static int child_queue(void) {
    child_hello();
    uint64_t sum = 0;
    for (int i = 0; i < 10; i++) {
        struct mos_msg m;
        CHILD_EXPECT(mos_queue_recv((int)given[0], &m, 5 * SEC), 0);
        if (m.tag != (uint32_t)i || m.len != 8 || memcmp(m.data, "queue!!", 8))
            child_fail("message %d: tag %u len %u", i, m.tag, m.len);
        sum += m.words[0];
    }
    struct mos_msg r = {.words = {sum}};
    CHILD_EXPECT(mos_queue_send((int)given[1], &r, 5 * SEC), 0);
    return 0;
}

static bool test_shm(void) {
    EXPECT(mos_shm_create(0), -MOS_EINVAL);
    int h;
    OK(h, mos_shm_create(2 * PAGE));
    EXPECT(mos_shm_map(h, MOS_PROT_READ | MOS_PROT_WRITE | MOS_PROT_EXEC), -MOS_EINVAL);
    EXPECT(mos_shm_map(h, 16), -MOS_EINVAL);
    long a;
    OK(a, mos_shm_map(h, MOS_PROT_READ | MOS_PROT_WRITE));
    volatile uint64_t *w = (volatile uint64_t *)a;
    for (unsigned i = 0; i < 2 * PAGE / 8; i++)
        CHECK(w[i] == 0, "new shared memory not zeroed at word %u", i);
    for (unsigned i = 0; i < PAGE / 8; i++)
        w[i] = i * 0x9e3779b97f4a7c15ull;
    struct child c;
    if (!child_start(&c, "shm", NULL, &h, 1))
        return false;
    // The child checked page 0, wrote page 1, and now watches word 0 for a change.
    struct mos_msg m;
    long token;
    if (!wait_call(&c, TAG_STEP, &m, &token))
        return false;
    for (unsigned i = 0; i < PAGE / 8; i++)
        CHECK(w[PAGE / 8 + i] == ~(uint64_t)i, "the child's write to word %u is not visible", i);
    if (!answer(token, 0, 0))
        return false;
    w[0] = 0xfeed;
    uint64_t deadline = now() + 5 * SEC;
    while (w[PAGE / 8] != 0xbeef && now() < deadline)
        mos_yield();
    CHECK(w[PAGE / 8] == 0xbeef, "the child's answer never showed in shared memory");
    if (!child_finish(&c, 0, "shm child"))
        return false;
    // Mapped read-only, a write faults.
    if (!child_start(&c, "shm-readonly", NULL, &h, 1))
        return false;
    if (!child_finish(&c, MOS_STATUS_FAULT | 14, "write to a read-only shm mapping"))
        return false;
    EXPECT(mos_munmap((uintptr_t)a, 2 * PAGE), 0);
    EXPECT(mos_handle_close(h), 0);
    return true;
}

static int child_shm(bool readonly) {
    child_hello();
    long a = mos_shm_map((int)given[0], readonly ? MOS_PROT_READ : MOS_PROT_READ | MOS_PROT_WRITE);
    if (a < 0)
        child_fail("shm_map: %s", err(a));
    volatile uint64_t *w = (volatile uint64_t *)a;
    if (readonly) {
        if (w[1] != 0x9e3779b97f4a7c15ull)
            child_fail("read-only mapping shows %#lx", (unsigned long)w[1]);
        w[0] = 1;
        return 0;
    }
    for (unsigned i = 0; i < PAGE / 8; i++)
        if (w[i] != i * 0x9e3779b97f4a7c15ull)
            child_fail("the parent's word %u is not visible", i);
    for (unsigned i = 0; i < PAGE / 8; i++)
        w[PAGE / 8 + i] = ~(uint64_t)i;
    child_call(TAG_STEP, 0);
    uint64_t deadline = now() + 5 * SEC;
    while (w[0] != 0xfeed)
        if (now() > deadline)
            child_fail("the parent's later write never showed");
    w[PAGE / 8] = 0xbeef;
    return 0;
}

static bool test_sem(void) {
    int s;
    OK(s, mos_sem_create(0));
    EXPECT(mos_sem_wait(s, 0), -MOS_EAGAIN);
    uint64_t t0 = now();
    EXPECT(mos_sem_wait(s, 10 * MS), -MOS_ETIMEDOUT);
    CHECK(now() - t0 >= 10 * MS, "sem_wait timed out after %lu us", (unsigned long)((now() - t0) / 1000));
    EXPECT(mos_sem_post(s), 0);
    EXPECT(mos_sem_post(s), 0);
    EXPECT(mos_sem_wait(s, 0), 0);
    EXPECT(mos_sem_wait(s, 0), 0);
    EXPECT(mos_sem_wait(s, 0), -MOS_EAGAIN);
    mos_handle_close(s);
    int full;
    OK(full, mos_sem_create(UINT32_MAX));
    EXPECT(mos_sem_post(full), -MOS_EOVERFLOW);
    EXPECT(mos_sem_wait(full, 0), 0);
    mos_handle_close(full);
    // Ping-pong with a child, 100 rounds, each side blocking.
    int ping, pong;
    OK(ping, mos_sem_create(0));
    OK(pong, mos_sem_create(0));
    int give[2] = {ping, pong};
    struct child c;
    if (!child_start(&c, "sem", NULL, give, 2))
        return false;
    for (int i = 0; i < 100; i++) {
        EXPECT(mos_sem_post(ping), 0);
        long r = mos_sem_wait(pong, 5 * SEC);
        CHECK(r == 0, "round %d: sem_wait for the child: %s", i, err(r));
    }
    // A waiter blocked without a timeout wakes when posted.
    mos_sleep_ns(20 * MS);
    struct mos_proc_info info;
    CHECK(find_proc(c.pid, &info) && info.state == MOS_PROC_BLOCKED, "child in state %u, want BLOCKED",
          info.state);
    EXPECT(mos_sem_post(ping), 0);
    bool ok = child_finish(&c, 0, "semaphore child");
    mos_handle_close(ping);
    mos_handle_close(pong);
    return ok;
}

static int child_sem(void) {
    child_hello();
    for (int i = 0; i < 100; i++) {
        CHILD_EXPECT(mos_sem_wait((int)given[0], 5 * SEC), 0);
        CHILD_EXPECT(mos_sem_post((int)given[1]), 0);
    }
    CHILD_EXPECT(mos_sem_wait((int)given[0], MOS_TIMEOUT_FOREVER), 0);
    return 0;
}

// A process uses only the handles it was given.
static bool test_handles(void) {
    int made[6];
    OK(made[0], mos_endpoint_create());
    OK(made[1], mos_sem_create(1));
    OK(made[2], mos_queue_create(1));
    OK(made[3], mos_shm_create(PAGE));
    OK(made[4], mos_open("/etc/motd", MOS_O_RDONLY));
    OK(made[5], mos_endpoint_create());
    long pid;
    OK(pid, spawn_role("no-handles", NULL));
    if (!reap_expect(pid, 0, "child using handles it was not given"))
        return false;
    EXPECT(mos_handle_grant(made[1], 1000000), -MOS_ESRCH);
    EXPECT(mos_handle_grant(250, mos_getpid()), -MOS_EBADF);
    long dup;
    OK(dup, mos_handle_grant(made[1], mos_getpid()));
    EXPECT(mos_sem_wait((int)dup, 0), 0); // the same semaphore under two numbers
    EXPECT(mos_sem_wait(made[1], 0), -MOS_EAGAIN);
    EXPECT(mos_handle_close((int)dup), 0);
    EXPECT(mos_handle_close((int)dup), -MOS_EBADF);
    EXPECT(mos_handle_close(-1), -MOS_EBADF);
    EXPECT(mos_handle_close(100000), -MOS_EBADF);
    for (int i = 0; i < 6; i++)
        EXPECT(mos_handle_close(made[i]), 0);
    // The table is finite: fill it, get EMFILE, empty it.
    static int all[1024];
    int n = 0;
    long r;
    while (n < 1024 && (r = mos_sem_create(0)) >= 0)
        all[n++] = (int)r;
    CHECK(n < 1024 && r == -MOS_EMFILE, "handle %d: sem_create returned %ld (%s), want EMFILE", n, r, err(r));
    for (int i = 0; i < n; i++)
        EXPECT(mos_handle_close(all[i]), 0);
    return true;
}

static int child_no_handles(void) {
    struct mos_msg m = {0}, r;
    uint64_t bits;
    for (int h = MOS_COM2 + 1; h < 64; h++) {
        CHILD_EXPECT(mos_sem_post(h), -MOS_EBADF);
        CHILD_EXPECT(mos_notify(h, 1), -MOS_EBADF);
        CHILD_EXPECT(mos_notify_wait(h, &bits, 0), -MOS_EBADF);
        CHILD_EXPECT(mos_ipc_call(h, &m, &r), -MOS_EBADF);
        CHILD_EXPECT(mos_queue_send(h, &m, 0), -MOS_EBADF);
        CHILD_EXPECT(mos_shm_map(h, MOS_PROT_READ), -MOS_EBADF);
        CHILD_EXPECT(mos_fread(h, &m, 1), -MOS_EBADF);
        CHILD_EXPECT(mos_handle_grant(h, mos_getpid()), -MOS_EBADF);
    }
    return 0;
}

static bool test_files(void) {
    int h;
    OK(h, mos_open("/etc/motd", MOS_O_RDONLY));
    struct mos_stat st;
    EXPECT(mos_stat("/etc/motd", &st), 0);
    CHECK(st.type == MOS_FT_FILE && st.size > 0, "stat /etc/motd: type %u size %lu", st.type,
          (unsigned long)st.size);
    char buf[64];
    uint64_t total = 0;
    long n;
    while ((n = mos_fread(h, buf, sizeof buf)) > 0)
        total += (uint64_t)n;
    CHECK(n == 0 && total == st.size, "read %lu bytes of %lu (last %ld)", (unsigned long)total,
          (unsigned long)st.size, n);
    EXPECT(mos_write(h, "x", 1), -MOS_EBADF);
    EXPECT(mos_close(h), 0);
    EXPECT(mos_close(h), -MOS_EBADF);
    // close is for files; other handles go with handle_close.
    int sem;
    OK(sem, mos_sem_create(0));
    long closed = mos_close(sem);
    mos_handle_close(sem);
    CHECK(closed == -MOS_EBADF, "close(a semaphore) returned %ld (%s), want EBADF (not a file)", closed, err(closed));
    EXPECT(mos_stat("/bin", &st), 0);
    CHECK(st.type == MOS_FT_DIR, "stat /bin: type %u", st.type);
    EXPECT(mos_open("/bin", MOS_O_RDONLY), -MOS_EISDIR);
    EXPECT(mos_open("/nope", MOS_O_RDONLY), -MOS_ENOENT);
    EXPECT(mos_open("/etc/motd", 1), -MOS_EINVAL);
    EXPECT(mos_stat("/etc/motd/x", &st), -MOS_ENOTDIR);
    struct mos_dirent d;
    bool saw_ktest = false;
    long i = 0;
    for (; mos_readdir("/bin", i, &d) == 1; i++)
        saw_ktest |= strcmp(d.name, "ktest") == 0 && d.type == MOS_FT_FILE && d.name_len == 5;
    CHECK(saw_ktest, "readdir /bin: no ktest among %ld entries", i);
    EXPECT(mos_readdir("/bin", i, &d), 0);
    EXPECT(mos_readdir("/bin", -1, &d), -MOS_EINVAL);
    EXPECT(mos_readdir("/etc/motd", 0, &d), -MOS_ENOTDIR);
    return true;
}

static bool test_klog(void) {
    uint64_t cursor = 0;
    static char buf[4096];
    long n;
    OK(n, mos_klog_read(&cursor, buf, sizeof buf - 1));
    buf[n] = 0;
    CHECK(n > 0 && cursor >= (uint64_t)n && strstr(buf, "MultiOS"), "klog_read gave %ld bytes, cursor %lu", n,
          (unsigned long)cursor);
    return true;
}

// --- SSE state ---------------------------------------------------------------------------------

typedef double v2d __attribute__((vector_size(16)));

// Long enough to be preempted many times; every xmm register the loop holds must survive.
static uint64_t sse_work(void) {
    v2d a = {1.0, 2.0}, b = {0.5, 0.25}, acc = {0, 0};
    for (int i = 1; i <= 400000; i++) {
        v2d x = {(double)i, (double)(i ^ 5)};
        acc += a / (x + b);
        a = a * 0.999999 + b;
        b = b * 1.000001;
    }
    union {
        double d;
        uint64_t u;
    } r = {.d = acc[0] * 3 + acc[1]};
    return r.u;
}

static bool test_sse(void) {
    char want[32];
    uint64_t ref = sse_work();
    snprintf(want, sizeof want, "%lu", (unsigned long)ref);
    long pids[3];
    for (int i = 0; i < 3; i++)
        OK(pids[i], spawn_role("sse", want));
    uint64_t mine = sse_work();
    CHECK(mine == ref, "this process's result changed: %#lx then %#lx", (unsigned long)ref, (unsigned long)mine);
    for (int i = 0; i < 3; i++)
        if (!reap_expect(pids[i], 0, "SSE child"))
            return false;
    return true;
}

// What the threads of test_sse_threads report.
static struct {
    volatile uint64_t result[2];
    volatile uint32_t mxcsr_seen;
} sse_sh;

static uint32_t get_mxcsr(void) {
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

static void set_mxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }

static void sse_thread(void *arg) { sse_sh.result[(uintptr_t)arg] = sse_work(); }

// Leaves the FPU with a state of its own (rounding toward zero) and ends while it is loaded.
static void odd_mxcsr_then_exit(void *arg) {
    (void)arg;
    set_mxcsr(0x7f80);
    sse_sh.result[0] = sse_work();
}

static void read_mxcsr(void *arg) {
    (void)arg;
    sse_sh.mxcsr_seen = get_mxcsr();
}

// The x87/SSE state is per thread (the kernel hands the registers over lazily, at a thread's
// first use): threads of one process computing at once each keep theirs, and a new thread
// starts from the default state even when the last owner of the registers has just ended.
static bool test_sse_threads(void) {
    uint64_t ref = sse_work();
    struct mos_thread t[2];
    for (uintptr_t i = 0; i < 2; i++)
        OK(t[i].tid, mos_thread_spawn(&t[i], sse_thread, (void *)i, 0));
    uint64_t mine = sse_work();
    for (int i = 0; i < 2; i++)
        EXPECT(mos_thread_collect(&t[i]), 0);
    CHECK(mine == ref && sse_sh.result[0] == ref && sse_sh.result[1] == ref,
          "results %#lx %#lx %#lx, want %#lx", (unsigned long)mine, (unsigned long)sse_sh.result[0],
          (unsigned long)sse_sh.result[1], (unsigned long)ref);
    uint32_t before = get_mxcsr();
    for (int round = 0; round < 3; round++) {
        OK(t[0].tid, mos_thread_spawn(&t[0], odd_mxcsr_then_exit, NULL, 0));
        EXPECT(mos_thread_collect(&t[0]), 0);
        sse_sh.mxcsr_seen = 0;
        OK(t[1].tid, mos_thread_spawn(&t[1], read_mxcsr, NULL, 0));
        EXPECT(mos_thread_collect(&t[1]), 0);
        CHECK(sse_sh.mxcsr_seen == 0x1f80, "a new thread's MXCSR is %#x, want 0x1f80", sse_sh.mxcsr_seen);
        CHECK(get_mxcsr() == before, "this thread's MXCSR changed from %#x to %#x", before, get_mxcsr());
    }
    return true;
}

// --- bad pointers and lengths ------------------------------------------------------------------

// Addresses no system call may accept as a buffer; the last, an address that was mapped
// and is not any more, is filled in at run time.
static uintptr_t bad[] = {0, KERNEL_ADDR, KERNEL_TEXT, NONCANONICAL - 8, 0xfffffffffffff000ul, 0};
enum { NBAD = sizeof bad / sizeof bad[0] };

// CALL (using p) must give EFAULT for every bad address from index FIRST on (1 skips NULL,
// where NULL means "none" or where the kernel would wait before looking at the buffer).
#define BAD_FROM(first, call, name)                                                                          \
    do {                                                                                                     \
        cover(name);                                                                                         \
        for (int i_ = (first); i_ < NBAD; i_++) {                                                            \
            void *p = (void *)bad[i_];                                                                       \
            long r_ = (call);                                                                                \
            if (r_ != -MOS_EFAULT)                                                                           \
                return fail("line %d: %s with p=%p returned %ld (%s), want EFAULT", __LINE__, #call, p, r_,   \
                            err(r_));                                                                        \
        }                                                                                                    \
    } while (0)
#define BAD_EACH(call, name) BAD_FROM(0, call, name)

// A bad length or range: EFAULT or EINVAL.
#define BAD_LEN(call, name)                                                                                  \
    do {                                                                                                     \
        cover(name);                                                                                         \
        long r_ = (call);                                                                                    \
        if (r_ != -MOS_EFAULT && r_ != -MOS_EINVAL)                                                          \
            return fail("line %d: %s returned %ld (%s), want EFAULT or EINVAL", __LINE__, #call, r_, err(r_)); \
    } while (0)

// A service call with a bad pointer: an error from the service domain, never an errno.
#define BAD_SERVICE(call, name)                                                                              \
    do {                                                                                                     \
        cover(name);                                                                                         \
        for (int i_ = 0; i_ < NBAD; i_++) {                                                                  \
            void *p = (void *)bad[i_];                                                                       \
            long r_ = (call);                                                                                \
            if (r_ != -InvalidConfiguration && r_ != -ServiceTimeout)                                        \
                return fail("line %d: %s with p=%p returned %ld, want -InvalidConfiguration or "             \
                            "-ServiceTimeout", __LINE__, #call, p, r_);                                      \
        }                                                                                                    \
    } while (0)

// The service manager's calls, from anyone else: EPERM whatever the pointers.
#define BAD_EPERM(call, name)                                                                                \
    do {                                                                                                     \
        cover(name);                                                                                         \
        for (int i_ = 0; i_ < NBAD; i_++) {                                                                  \
            void *p = (void *)bad[i_];                                                                       \
            long r_ = (call);                                                                                \
            if (r_ != -MOS_EPERM)                                                                            \
                return fail("line %d: %s with p=%p returned %ld (%s), want EPERM", __LINE__, #call, p, r_,    \
                            err(r_));                                                                        \
        }                                                                                                    \
    } while (0)

static char covered[800];

static void cover(const char *name) {
    char word[40];
    snprintf(word, sizeof word, " %s ", name);
    size_t n = strlen(covered);
    if (!strstr(covered, word) && n + strlen(word) < sizeof covered)
        snprintf(covered + n - (n > 0), sizeof covered - n, "%s", word);
}

// Every system call that takes a pointer, with NULL, kernel, non-canonical and unmapped
// addresses, buffers and strings that run off the end of a mapping, and huge or wrapping
// lengths: an error every time, never a kernel fault, and nothing half done.
static bool test_badptr(void) {
    covered[0] = 0;
    // Buffers that start valid and run into a hole: three pages, each followed by an unmapped
    // one. (One mapping with holes punched in, so that no later mapping fills a hole.)
    long region;
    OK(region, mos_mmap_anon(6 * PAGE, MOS_PROT_READ | MOS_PROT_WRITE));
    char *end = (char *)region + PAGE, *end2 = end + 2 * PAGE, *end3 = end2 + 2 * PAGE;
    EXPECT(mos_munmap((uintptr_t)end, PAGE), 0);
    EXPECT(mos_munmap((uintptr_t)end2, PAGE), 0);
    EXPECT(mos_munmap((uintptr_t)end3, PAGE), 0);
    bad[NBAD - 1] = (uintptr_t)end;
    char *unterminated = end - 8; // 8 bytes of 'a', no NUL before the hole
    memset(unterminated, 'a', 8);
    const char **argv_runs_off = (const char **)(end2 - 8); // "true", then the NULL would be in the hole
    argv_runs_off[0] = "true";
    static const char *argv_bad_string[] = {"true", (const char *)KERNEL_ADDR, NULL};
    // The kernel copies a message's header and its len bytes of data: this one's data runs into
    // the hole.
    struct mos_msg *msg_runs_off = (struct mos_msg *)(end3 - 128);
    memset(msg_runs_off, 0, 128);
    msg_runs_off->len = MOS_MSG_DATA_MAX;
    static char buf[512];
    static const char *const argv_ok[] = {"true", NULL};

    // Processes. NULL argv and envp are left out: the kernel may take them as empty.
    BAD_EACH(mos_spawn(p, argv_ok, NULL), "spawn");
    BAD_FROM(1, mos_spawn("/bin/true", p, NULL), "spawn");
    BAD_FROM(1, mos_spawn("/bin/true", argv_ok, p), "spawn");
    EXPECT(mos_spawn("/bin/true", argv_bad_string, NULL), -MOS_EFAULT);
    EXPECT(mos_spawn("/bin/true", argv_runs_off, NULL), -MOS_EFAULT);
    EXPECT(mos_spawn("/bin/true", argv_ok, argv_runs_off), -MOS_EFAULT);
    EXPECT(mos_spawn(unterminated, argv_ok, NULL), -MOS_EFAULT);
    EXPECT(mos_wait(-1, NULL), -MOS_ECHILD); // nothing was started by mistake
    cover("wait");
    for (int i = 1; i < NBAD; i++) {
        long pid;
        OK(pid, mos_spawnv("/bin/true", argv_ok));
        mos_sleep_ns(5 * MS);
        EXPECT(mos_wait(pid, (int *)bad[i]), -MOS_EFAULT);
        kill_and_reap(pid);
    }
    BAD_EACH(mos_proc_info(0, p), "proc_info");
    BAD_EACH(mos_wallclock(p), "wallclock");

    // Console. read only with addresses refused before it waits for input.
    BAD_EACH(mos_write(MOS_STDOUT, p, 16), "write");
    BAD_LEN(mos_write(MOS_STDOUT, buf, SIZE_MAX), "write");
    BAD_LEN(mos_write(MOS_STDOUT, buf, (size_t)1 << 48), "write");
    BAD_LEN(mos_write(MOS_STDOUT, (void *)(NONCANONICAL - 16), 32), "write");
    cover("read");
    for (int i = 1; i < NBAD - 1; i++)
        EXPECT(mos_read(MOS_STDIN, (void *)bad[i], 16), -MOS_EFAULT);
    BAD_LEN(mos_read(MOS_STDIN, buf, SIZE_MAX), "read");
    BAD_LEN(mos_read(MOS_STDIN, (void *)(NONCANONICAL - 16), 32), "read");

    // IPC: requests are refused before anything is sent; replies are checked after.
    int ep, q, f;
    OK(ep, mos_endpoint_create());
    struct mos_msg m = {.tag = 1, .len = MOS_MSG_DATA_MAX}, r; // full-size, so replies are too
    BAD_EACH(mos_ipc_call(ep, p, &r), "ipc_call");
    EXPECT(mos_ipc_call(ep, msg_runs_off, &r), -MOS_EFAULT);
    cover("ipc_recv");
    for (int i = 1; i < NBAD - 1; i++)
        EXPECT(mos_ipc_recv(ep, (void *)bad[i]), -MOS_EFAULT);
    struct child echo, caller;
    int echo_ep;
    if (!child_start(&echo, "ipc-server", "echo", NULL, 0) || !get_granted(&echo, &echo_ep))
        return false;
    EXPECT(mos_ipc_call(echo_ep, &m, &r), 0);
    BAD_EACH(mos_ipc_call(echo_ep, &m, p), "ipc_call");
    EXPECT(mos_ipc_call(echo_ep, &m, msg_runs_off), -MOS_EFAULT);
    EXPECT(mos_ipc_call(echo_ep, &m, &r), 0); // the server is still fine
    child_abandon(&echo);
    mos_handle_close(echo_ep);
    // A caller waits in this endpoint's queue while it receives into bad buffers.
    if (!child_start(&caller, "ipc-caller", "once", &ep, 1))
        return false;
    uint64_t bits;
    long e = mos_notify_wait(ep, &bits, CHILD_TIMEOUT);
    CHECK(e == 0, "the caller never announced its call: %s", err(e));
    mos_sleep_ns(10 * MS);
    BAD_EACH(mos_ipc_recv(ep, p), "ipc_recv");
    EXPECT(mos_ipc_recv(ep, msg_runs_off), -MOS_EFAULT);
    BAD_EACH(mos_ipc_recv_timeout(ep, p, 0), "ipc_recv_timeout");
    BAD_EACH(mos_ipc_recv_timeout(ep, p, MOS_TIMEOUT_FOREVER), "ipc_recv_timeout");
    long token;
    OK(token, mos_ipc_recv(ep, &m)); // the call was not lost
    CHECK(m.sender == caller.pid && m.tag == 7, "the queued call came from %ld with tag %u", (long)m.sender, m.tag);
    BAD_EACH(mos_ipc_reply(token, p), "ipc_reply");
    EXPECT(mos_ipc_reply(token, msg_runs_off), -MOS_EFAULT);
    EXPECT(mos_ipc_reply(token, &m), 0);
    if (!child_finish(&caller, 0, "caller answered after bad replies"))
        return false;
    cover("notify_wait");
    for (int i = 0; i < NBAD; i++) {
        EXPECT(mos_notify(ep, 1), 0);
        EXPECT(mos_notify_wait(ep, (uint64_t *)bad[i], 0), -MOS_EFAULT);
    }
    EXPECT(mos_notify_wait(ep, &bits, 0), 0); // the bits were kept
    CHECK(bits == 1, "notify_wait after EFAULTs took %#lx", (unsigned long)bits);
    OK(q, mos_queue_create(2));
    BAD_EACH(mos_queue_send(q, p, 0), "queue_send");
    EXPECT(mos_queue_send(q, msg_runs_off, 0), -MOS_EFAULT);
    EXPECT(mos_queue_recv(q, &m, 0), -MOS_EAGAIN); // nothing was sent
    cover("queue_recv");
    for (int i = 0; i < NBAD + 1; i++) {
        m.len = MOS_MSG_DATA_MAX;
        long s_ = mos_queue_send(q, &m, 0); // keep a message waiting
        CHECK(s_ == 0 || s_ == -MOS_EAGAIN, "queue_send: %s", err(s_));
        void *p = i < NBAD ? (void *)bad[i] : (void *)msg_runs_off;
        EXPECT(mos_queue_recv(q, p, 0), -MOS_EFAULT);
    }
    mos_handle_close(q);
    mos_handle_close(ep);

    // Files.
    struct mos_stat st;
    struct mos_dirent d;
    BAD_EACH(mos_open(p, MOS_O_RDONLY), "open");
    EXPECT(mos_open(unterminated, MOS_O_RDONLY), -MOS_EFAULT);
    OK(f, mos_open("/etc/motd", MOS_O_RDONLY));
    BAD_EACH(mos_fread(f, p, 16), "fread");
    BAD_LEN(mos_fread(f, buf, SIZE_MAX), "fread");
    BAD_LEN(mos_fread(f, (void *)(NONCANONICAL - 16), 32), "fread");
    mos_close(f);
    BAD_EACH(mos_stat(p, &st), "stat");
    BAD_EACH(mos_stat("/etc/motd", p), "stat");
    EXPECT(mos_stat(unterminated, &st), -MOS_EFAULT);
    EXPECT(mos_stat("/etc/motd", (void *)(end - 8)), -MOS_EFAULT);
    BAD_EACH(mos_readdir(p, 0, &d), "readdir");
    BAD_EACH(mos_readdir("/", 0, p), "readdir");
    EXPECT(mos_readdir("/", 0, (void *)(end - 64)), -MOS_EFAULT);

    // The kernel log.
    uint64_t cursor = 0;
    BAD_EACH(mos_klog_read(p, buf, sizeof buf), "klog_read");
    BAD_EACH(mos_klog_read(&cursor, p, sizeof buf), "klog_read");
    BAD_LEN(mos_klog_read(&cursor, buf, SIZE_MAX), "klog_read");
    BAD_LEN(mos_klog_read(&cursor, (void *)(NONCANONICAL - 16), 32), "klog_read");
    BAD_LEN(mos_klog_read(&cursor, end - 16, 64), "klog_read");

    // Service calls go to the service manager, which reads the caller's memory itself: a bad
    // pointer is InvalidConfiguration, or ServiceTimeout when no manager runs (as under
    // mos.run). The manager's own calls refuse everyone else.
    service_id_t ids[4];
    BAD_SERVICE(mos_create_service(p), "create_service");
    BAD_SERVICE(mos_discover_services(p, ids, 4), "discover_services");
    BAD_SERVICE(mos_discover_services("*", p, 4), "discover_services");
    BAD_SERVICE(mos_lookup_service(p), "lookup_service");
    BAD_SERVICE(mos_service_status(1, p), "service_status");
    BAD_SERVICE(mos_subscribe_services(p, SERVICE_EVENT_ALL), "subscribe_services");
    BAD_SERVICE(mos_service_query(p, buf, sizeof buf), "service_query");
    BAD_SERVICE(mos_service_query("{\"op\": \"list\"}", p, 64), "service_query");
    long me = mos_getpid();
    BAD_EPERM(mos_svcmgr_read(me, (uintptr_t)buf, p, 16), "svcmgr_read");
    BAD_EPERM(mos_svcmgr_read(me, (uintptr_t)p, buf, 16), "svcmgr_read");
    BAD_EPERM(mos_svcmgr_write(me, (uintptr_t)buf, p, 16), "svcmgr_write");
    BAD_EPERM(mos_svcmgr_write(me, (uintptr_t)p, buf, 16), "svcmgr_write");
    BAD_EPERM(mos_svcmgr_save(p, 16), "svcmgr_save");
    BAD_EPERM(mos_svcmgr_load(p, 16), "svcmgr_load");

    // Lengths without pointers.
    BAD_LEN(mos_munmap(KERNEL_ADDR, PAGE), "munmap");
    long big = mos_shm_create(SIZE_MAX);
    CHECK(big == -MOS_ENOMEM || big == -MOS_EINVAL, "shm_create(SIZE_MAX) returned %ld (%s)", big, err(big));
    BAD_LEN(mos_munmap((uintptr_t)(end - PAGE), SIZE_MAX - PAGE + 1), "munmap");
    char *ends[] = {end, end2, end3};
    for (int i = 0; i < 3; i++)
        EXPECT(mos_munmap((uintptr_t)(ends[i] - PAGE), PAGE), 0);
    printf("ktest: badptr covered%s\n", covered);
    return true;
}

// --- many processes, fuzzing -------------------------------------------------------------------

static bool test_spawn_many(void) {
    static const char *const argv[] = {"true", NULL};
    long before = 0;
    uint64_t t0 = now();
    for (int i = 0; i < 1000; i++) {
        if (i == 10)
            before = mos_frames_free(); // after a warm-up: caches filled, page tables grown
        long pid = mos_spawnv("/bin/true", argv);
        CHECK(pid > 0, "spawn %d: %s", i, err(pid));
        int status = -1;
        long r = mos_wait(pid, &status);
        CHECK(r == pid && status == 0, "spawn %d: wait returned %ld (%s), status %#x", i, r, err(r), status);
    }
    long after = mos_frames_free();
    printf("ktest: spawn_many: 1000 spawn+wait in %lu ms; free frames %ld after 10, %ld after 1000\n",
           (unsigned long)((now() - t0) / MS), before, after);
    CHECK(after == before, "free frames: %ld after 10 processes, %ld after 1000 (%ld leaked)", before, after,
          before - after);
    return true;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static bool trace; // --trace: print every fuzzer call before making it

static uint64_t xorshift(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

// Where the fuzzing child says what it is doing: shared memory the parent reads when the
// child takes too long or dies.
struct fuzz_progress {
    volatile uint64_t n, nr, a[6];
    volatile uint64_t counts[3]; // succeeded, failed cleanly, skipped
    volatile uint64_t done;
};

static bool overlaps(uint64_t lo, uint64_t hi, uint64_t a, uint64_t b) { return lo < b && hi > a; }

// Random system calls (numbers 0..300) with arguments from a pool of interesting values,
// 100,000 of them, in a child: a call that blocks or kills it shows as a failure naming the
// call. Calls that would end or stop the child or its parent are skipped, timeouts are kept
// short, and whatever a call creates is released at once.
static bool test_fuzz(void) {
    int h;
    OK(h, mos_shm_create(PAGE));
    long a;
    OK(a, mos_shm_map(h, MOS_PROT_READ | MOS_PROT_WRITE));
    struct fuzz_progress *pr = (struct fuzz_progress *)a;
    struct child c;
    uint64_t t0 = now();
    if (!child_start(&c, "fuzz", NULL, &h, 1))
        return false;
    int status = -1;
    bool ended = reap(c.pid, 120 * SEC, &status, NULL);
    mos_handle_close(c.ctl);
    char last[200];
    snprintf(last, sizeof last, "call %lu: syscall %lu(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)", (unsigned long)pr->n,
             (unsigned long)pr->nr, (unsigned long)pr->a[0], (unsigned long)pr->a[1], (unsigned long)pr->a[2],
             (unsigned long)pr->a[3], (unsigned long)pr->a[4], (unsigned long)pr->a[5]);
    CHECK(ended, "the fuzzer was stuck at %s (a call that can block belongs on its skip list)", last);
    CHECK(status == 0 && pr->done, "the fuzzer ended with status %#x at %s", status, last);
    printf("ktest: fuzz: %lu calls in %lu ms: %lu succeeded, %lu failed cleanly, %lu skipped\n",
           (unsigned long)pr->n, (unsigned long)((now() - t0) / MS), (unsigned long)pr->counts[0],
           (unsigned long)pr->counts[1], (unsigned long)pr->counts[2]);
    mos_munmap((uintptr_t)a, PAGE);
    mos_handle_close(h);
    // The kernel still answers, and still starts programs.
    long me = mos_getpid(), pid;
    CHECK(me > 0, "getpid after fuzzing: %ld", me);
    OK(pid, mos_spawnv("/bin/true", (const char *[]){"true", NULL}));
    return reap_expect(pid, 0, "spawn after fuzzing");
}

static int child_fuzz(void) {
    enum { CALLS = 100000, NR_MAX = 300 };
    child_hello();
    long me = mos_getpid(), parent = given[3];
    long prog = mos_shm_map((int)given[0], MOS_PROT_READ | MOS_PROT_WRITE);
    if (prog < 0)
        child_fail("shm_map: %s", err(prog));
    struct fuzz_progress *pr = (struct fuzz_progress *)prog;
    uint64_t stack_lo = ((uint64_t)(uintptr_t)&me & ~(PAGE - 1)) - 64 * 1024 * 1024;
    long fuzzbuf = mos_mmap_anon(4 * PAGE, MOS_PROT_READ | MOS_PROT_WRITE);
    if (fuzzbuf < 0)
        child_fail("mmap_anon: %s", err(fuzzbuf));
    uint8_t *fb = (uint8_t *)fuzzbuf;
    for (unsigned i = 0; i < 4 * PAGE; i++)
        fb[i] = (uint8_t)xorshift();
    // Some contents worth pointing at: strings, a message, an argv.
    strcpy((char *)fb + 100, "/etc/motd");
    strcpy((char *)fb + 200, "/");
    strcpy((char *)fb + 300, "/bin/no-such-program");
    *(uint64_t *)(fb + 512) = fuzzbuf + 100;
    *(uint64_t *)(fb + 520) = 0;
    // Handles worth pointing at: one of each kind, kept for the whole run.
    int pool_ep = (int)mos_endpoint_create(), pool_q = (int)mos_queue_create(4), pool_sem = (int)mos_sem_create(1),
        pool_shm = (int)mos_shm_create(PAGE), pool_file = (int)mos_open("/etc/motd", MOS_O_RDONLY);
    if (pool_ep < 0 || pool_q < 0 || pool_sem < 0 || pool_shm < 0 || pool_file < 0)
        child_fail("cannot make the handle pool");
    const uint64_t interesting[] = {
        0, 1, 2, 3, 4, 5, 7, 8, 16, 255, 256, 4095, 4096, 8192, 65536, (uint64_t)-1, (uint64_t)-2,
        (uint64_t)INT32_MAX, (uint64_t)INT32_MIN, UINT32_MAX, (uint64_t)INT64_MIN, (uint64_t)INT64_MAX,
        KERNEL_ADDR, KERNEL_TEXT, NONCANONICAL, NONCANONICAL - 1, 0xfffffffffffff000ull, 0x7ffffffff000ull,
        (uint64_t)fuzzbuf, (uint64_t)fuzzbuf + 100, (uint64_t)fuzzbuf + 200, (uint64_t)fuzzbuf + 300,
        (uint64_t)fuzzbuf + 512, (uint64_t)fuzzbuf + 4 * PAGE - 8, (uint64_t)fuzzbuf + 4 * PAGE,
        (uint64_t)pool_ep, (uint64_t)pool_q, (uint64_t)pool_sem, (uint64_t)pool_shm, (uint64_t)pool_file,
        (uint64_t)me, (uint64_t)parent, MOS_TIMEOUT_FOREVER, 1000, 1000000,
    };
    enum { NI = sizeof interesting / sizeof interesting[0] };
    // With a service manager running, random service calls could stop real services: they are
    // fuzzed only without one (as under mos.run), where the kernel answers them itself.
    bool svcmgr_runs = mos_lookup_service("ktest-no-such-service") != -ServiceTimeout;
    for (int n = 0; n < CALLS; n++) {
        long nr = (long)(xorshift() % (NR_MAX + 1));
        uint64_t a[6];
        for (int i = 0; i < 6; i++) {
            uint64_t x = xorshift();
            a[i] = x % 4 == 0 ? xorshift() : interesting[(x >> 8) % NI];
        }
        int h = (int)a[0];
        long pid = (long)a[0];
        bool own_handle = (h >= 0 && h <= MOS_COM2) || h == ctl || h == given[0] || h == pool_ep || h == pool_q ||
                          h == pool_sem || h == pool_shm || h == pool_file;
        bool skip = svcmgr_runs && nr >= SYS_create_service && nr <= SYS_service_query;
        switch (nr) {
        case SYS_exit:
        case SYS_poweroff:
        case SYS_reboot:
        case SYS_thread_exit:
        case SYS_thread_create: // a thread at a random address would fault and end the fuzzer
            skip = true;
            break;
        case SYS_kill:
        case SYS_suspend:
        case SYS_set_priority: // a background parent would not get to watch the time
            skip = pid == me || pid == parent;
            break;
        case SYS_handle_grant:
            skip = (long)a[1] == parent; // the parent's table is the parent's business
            break;
        case SYS_sleep_ns:
            skip = a[0] > 100000;
            break;
        case SYS_read:
        case SYS_write:
            skip = h >= 0 && h <= MOS_COM2; // consoles: reads wait for input, writes print garbage
            break;
        case SYS_ipc_call:
        case SYS_ipc_recv:
            skip = h == pool_ep || h == ctl; // nobody would answer or call: it would wait forever
            break;
        case SYS_ipc_recv_timeout:
        case SYS_notify_wait:
        case SYS_queue_send:
        case SYS_queue_recv:
            a[2] = a[2] % 3 == 0 ? 0 : a[2] % 100000;
            break;
        case SYS_sem_wait:
            a[1] = a[1] % 3 == 0 ? 0 : a[1] % 100000;
            break;
        case SYS_handle_close:
        case SYS_close:
            skip = own_handle;
            break;
        case SYS_munmap: {
            // Not this program's own memory: its image, its stack, the buffer, the progress
            // page. (The kernel refuses the first two anyway; a fuzzer that managed to unmap its
            // own stack would prove nothing.)
            uint64_t lo = a[0], hi = a[0] + a[1];
            skip = hi < lo || overlaps(lo, hi, 0x400000, 0x40000000) || overlaps(lo, hi, stack_lo, NONCANONICAL) ||
                   overlaps(lo, hi, (uint64_t)fuzzbuf, (uint64_t)fuzzbuf + 4 * PAGE) ||
                   overlaps(lo, hi, (uint64_t)prog, (uint64_t)prog + PAGE);
            break;
        }
        }
        pr->n = (uint64_t)n;
        if (skip) {
            pr->counts[2]++;
            continue;
        }
        pr->nr = (uint64_t)nr;
        for (int i = 0; i < 6; i++)
            pr->a[i] = a[i];
        if (trace)
            printf("ktest: fuzz call %d: %ld(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)\n", n, nr, (unsigned long)a[0],
                   (unsigned long)a[1], (unsigned long)a[2], (unsigned long)a[3], (unsigned long)a[4],
                   (unsigned long)a[5]);
        long r = mos_syscall6(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
        if (r < -4095)
            child_fail("call %d: syscall %ld returned %ld", n, nr, r);
        pr->counts[r >= 0 ? 0 : 1]++;
        if (r < 0)
            continue;
        // Release what the call made.
        switch (nr) {
        case SYS_spawn: {
            int status;
            mos_kill(r);
            mos_wait(r, &status);
            break;
        }
        case SYS_mmap_anon:
            mos_munmap((uintptr_t)r, a[0]);
            break;
        case SYS_shm_map:
            mos_munmap((uintptr_t)r, PAGE);
            break;
        case SYS_endpoint_create:
        case SYS_queue_create:
        case SYS_shm_create:
        case SYS_sem_create:
        case SYS_open:
        case SYS_subscribe_services:
            mos_handle_close((int)r);
            break;
        case SYS_handle_grant:
            if ((long)a[1] == me)
                mos_handle_close((int)r);
            break;
        }
    }
    pr->n = CALLS;
    pr->done = 1;
    return 0;
}

// --- the C library -----------------------------------------------------------------------------

static bool test_libc(void) {
    const char *argv[] = {"libctest", "/etc/motd", NULL};
    const char *envp[] = {"LIBCTEST=yes", NULL};
    long pid;
    OK(pid, mos_spawn("/bin/libctest", argv, envp));
    return reap_expect(pid, 0, "/bin/libctest");
}

// --- the table ---------------------------------------------------------------------------------

static const struct test {
    const char *name;
    bool (*fn)(void);
    bool slow;
} tests[] = {
    {"spawn_args", test_spawn_args, false},
    {"spawn_errors", test_spawn_errors, false},
    {"wait_any", test_wait_any, false},
    {"kill", test_kill, false},
    {"suspend_resume", test_suspend_resume, false},
    {"preemption", test_preemption, false},
    {"priorities", test_priorities, false},
    {"sleep", test_sleep, false},
    {"clock", test_clock, false},
    {"proc_info", test_proc_info, false},
    {"mmap", test_mmap, false},
    {"lazy", test_lazy, false},
    {"lazy_oom", test_lazy_oom, false},
    {"threads", test_threads, false},
    {"thread_exit", test_thread_exit, false},
    {"faults", test_faults, false},
    {"sse", test_sse, false},
    {"sse_threads", test_sse_threads, false},
    {"ipc", test_ipc, false},
    {"ipc_errors", test_ipc_errors, false},
    {"ipc_server_death", test_ipc_server_death, false},
    {"notify", test_notify, false},
    {"queue", test_queue, false},
    {"shm", test_shm, false},
    {"sem", test_sem, false},
    {"handles", test_handles, false},
    {"files", test_files, false},
    {"klog", test_klog, false},
    {"badptr", test_badptr, false},
    {"libc", test_libc, false},
    // Quick enough under TCG (2 s and 3 s) to run by default; "slow" is for tests over ~20 s.
    {"spawn_many", test_spawn_many, false},
    {"fuzz", test_fuzz, false},
};
enum { NTESTS = sizeof tests / sizeof tests[0] };

static int child_main(int argc, char **argv) {
    role = argv[2];
    const char *arg = argc > 3 ? argv[3] : "";
    if (!strcmp(role, "args"))
        return child_args(argc, argv);
    if (!strcmp(role, "exit"))
        return atoi(arg);
    if (!strcmp(role, "spin"))
        for (volatile uint64_t i = 0;; i++)
            ;
    if (!strcmp(role, "sleep"))
        for (;;)
            mos_sleep_ns(SEC);
    if (!strcmp(role, "suspend-self")) {
        CHILD_EXPECT(mos_suspend(mos_getpid()), -MOS_EINVAL);
        return 0;
    }
    if (!strcmp(role, "fault")) {
        do_fault(arg);
        child_fail("fault %s did not fault", arg);
    }
    if (!strcmp(role, "mem"))
        return child_mem(arg);
    if (!strncmp(role, "threads-", 8))
        return child_threads(role);
    if (!strcmp(role, "ipc-client"))
        return child_ipc_client();
    if (!strcmp(role, "ipc-server"))
        return child_ipc_server(arg);
    if (!strcmp(role, "ipc-caller"))
        return child_ipc_caller(arg);
    if (!strcmp(role, "notify"))
        return child_notify();
    if (!strcmp(role, "queue"))
        return child_queue();
    if (!strcmp(role, "shm"))
        return child_shm(false);
    if (!strcmp(role, "shm-readonly"))
        return child_shm(true);
    if (!strcmp(role, "sem"))
        return child_sem();
    if (!strcmp(role, "no-handles"))
        return child_no_handles();
    if (!strcmp(role, "fuzz"))
        return child_fuzz();
    if (!strcmp(role, "sse"))
        return sse_work() == strtoull(arg, NULL, 10) ? 0 : 1;
    child_fail("unknown role");
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "--child"))
        return child_main(argc, argv);
    bool all = false, named = false, list = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = true;
        else if (!strcmp(argv[i], "--list"))
            list = true;
        else if (!strcmp(argv[i], "--trace"))
            trace = true;
        else if (argv[i][0] != '-')
            named = true;
    }
    if (list) {
        for (int i = 0; i < NTESTS; i++)
            printf("%s%s\n", tests[i].name, tests[i].slow ? " (slow)" : "");
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--trace"))
            continue;
        if (argv[i][0] == '-' && strcmp(argv[i], "--all")) {
            fprintf(stderr, "ktest: unknown option %s\n", argv[i]);
            return 2;
        }
        bool known = argv[i][0] == '-';
        for (int k = 0; k < NTESTS; k++)
            known |= !strcmp(argv[i], tests[k].name);
        if (!known) {
            fprintf(stderr, "ktest: no test named %s (ktest --list)\n", argv[i]);
            return 2;
        }
    }
    int passed = 0, failed = 0;
    for (int k = 0; k < NTESTS; k++) {
        bool run = named ? false : (all || !tests[k].slow);
        for (int i = 1; i < argc && named; i++)
            run |= !strcmp(argv[i], tests[k].name);
        if (!run)
            continue;
        printf("ktest: start %s\n", tests[k].name);
        reason[0] = 0;
        uint64_t t0 = now();
        bool ok = tests[k].fn();
        unsigned long ms = (unsigned long)((now() - t0) / MS);
        if (ok) {
            passed++;
            printf("ktest: %s ok (%lu ms)\n", tests[k].name, ms);
        } else {
            failed++;
            printf("ktest: %s FAILED: %s\n", tests[k].name, reason);
        }
        // Leftover children (from a test that failed half-way) would confuse the next one.
        struct mos_proc_info info;
        for (long i = 0; mos_proc_info(i, &info) == 0; i++)
            if (info.ppid == mos_getpid())
                mos_kill(info.pid);
        int status;
        while (mos_wait(-1, &status) > 0)
            ;
    }
    printf("ktest: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
