"""kernel/sched/sched.c on the host. The fake HAL switches threads with swapcontext, so the
scheduler's own code runs its real switches: band order, round robin, time slices, timed
waits, wait-queue order and values, suspend/resume. The test's driver is the idle thread; a
fake timer interrupt calls the scheduler's tick and its interrupt-exit hook."""
import pytest

import hostlib

CDEF = """
void setup(void);
int spawn(char tag, int band, int body, long arg);
void run_pending(void);
void advance(uint64_t ns);
const char *trace(void);
void trace_reset(void);
int sleeper_result(int i);
int wake_one(long value);
int wake_all(long value);
void suspend_last(void);
void resume_last(void);
int last_state(void);
"""

EXTRA = r"""
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <hal/irq.h>
#include <hal/time.h>
#include <kernel/proc.h>
#include <kernel/thread.h>
#include <multios/errno.h>

// --- the fake HAL: time, the timer, interrupt flag, contexts ---------------------------------
static uint64_t now_ns;
static void (*tick_fn)(void);
static void (*exit_hook)(struct hal_trapframe *);
static int irq_on;
uint64_t hal_time_ns(void) { return now_ns; }
void hal_timer_start(uint32_t hz, void (*fn)(void)) { (void)hz; tick_fn = fn; }
void hal_irq_set_exit_hook(void (*h)(struct hal_trapframe *)) { exit_hook = h; }
unsigned long hal_irq_save(void) { unsigned long f = irq_on; irq_on = 0; return f; }
void hal_irq_restore(unsigned long f) { irq_on = (int)f; }
void hal_irq_enable(void) { irq_on = 1; }
void hal_irq_disable(void) { irq_on = 0; }
void hal_irq_wait(void) {}
void hal_fpu_init_state(struct hal_fpu_state *s) { (void)s; }
void hal_fpu_save(struct hal_fpu_state *s) { (void)s; }
void hal_fpu_restore(const struct hal_fpu_state *s) { (void)s; }
void hal_set_kernel_stack(uint64_t top) { (void)top; }
void vm_activate(struct vm_space *vs) { (void)vs; }
void *kstack_alloc(size_t size) { return malloc(size); }
void kstack_free(void *base, size_t size) { (void)size; free(base); }
void *kzalloc(size_t n) { return calloc(1, n); }
void *kmalloc(size_t n) { return malloc(n); }
void kfree(void *p) { free(p); }
_Noreturn void proc_exit_current(int status) { (void)status; abort(); }
size_t strlcpy(char *d, const char *src, size_t n) {
    size_t len = strlen(src);
    if (n) { size_t k = len < n - 1 ? len : n - 1; memcpy(d, src, k); d[k] = 0; }
    return len;
}

struct fctx { ucontext_t uc; void (*entry)(void *); void *arg; };
static void fctx_start(unsigned hi, unsigned lo) {
    struct fctx *c = (struct fctx *)((uint64_t)hi << 32 | lo);
    c->entry(c->arg);
    abort();
}
uint64_t hal_context_init(void *stack_top, void (*entry)(void *), void *arg) {
    (void)stack_top;
    struct fctx *c = calloc(1, sizeof *c);
    getcontext(&c->uc);
    c->uc.uc_stack.ss_size = 256 * 1024;
    c->uc.uc_stack.ss_sp = malloc(c->uc.uc_stack.ss_size);
    c->entry = entry;
    c->arg = arg;
    makecontext(&c->uc, (void (*)(void))fctx_start, 2, (unsigned)((uint64_t)c >> 32), (unsigned)(uint64_t)c);
    return (uint64_t)c;
}
void hal_context_switch(uint64_t *save_sp, uint64_t new_sp) {
    struct fctx *cur = (struct fctx *)*save_sp;
    if (!cur) // the boot (idle) context, met for the first time
        *save_sp = (uint64_t)(cur = calloc(1, sizeof *cur));
    swapcontext(&cur->uc, &((struct fctx *)new_sp)->uc);
}

// --- the threads' bodies ---------------------------------------------------------------------
static char log_buf[4096];
static int log_len;
static void note(char c) { if (log_len < (int)sizeof log_buf - 1) log_buf[log_len++] = c; }
const char *trace(void) { log_buf[log_len] = 0; return log_buf; }
void trace_reset(void) { log_len = 0; }

struct body_arg { char tag; long arg; int index; };
static struct wait_queue wq;
static long results[16];
static struct thread *last;

static void timer_interrupt(void) {
    // What the HAL does for the timer vector: the tick, then the exit hook on this thread.
    struct hal_trapframe tf;
    memset(&tf, 0, sizeof tf);
    tf.cs = 0x08;
    int was = irq_on;
    irq_on = 0;
    tick_fn();
    exit_hook(&tf);
    irq_on = was;
}

static void body_yield(struct body_arg *a) {
    for (long i = 0; i < a->arg; i++) { note(a->tag); sched_yield(); }
}
static void body_busy(struct body_arg *a) {
    // "Spins" for arg timer ticks of 1 ms; the tick preempts it when its slice is over.
    for (long i = 0; i < a->arg; i++) { note(a->tag); now_ns += 1000000; timer_interrupt(); }
}
static void body_sleep(struct body_arg *a) {
    note(a->tag);
    results[a->index] = sched_sleep_ns((uint64_t)a->arg);
    note(a->tag);
}
static void body_wait(struct body_arg *a) {
    results[a->index] = wq_wait(&wq, a->arg < 0 ? WAIT_FOREVER : (uint64_t)a->arg);
    note(a->tag);
}

static void run_body(void *p) {
    struct body_arg *a = p;
    int kind = (int)(a->index >> 8);
    a->index &= 0xff;
    if (kind == 0) body_yield(a);
    else if (kind == 1) body_busy(a);
    else if (kind == 2) body_sleep(a);
    else body_wait(a);
    free(a);
}

static int spawned;
void setup(void) {
    sched_init();
    wq_init(&wq);
    spawned = 0;
}

int spawn(char tag, int band, int body, long arg) {
    struct body_arg *a = malloc(sizeof *a);
    a->tag = tag;
    a->arg = arg;
    a->index = body << 8 | spawned;
    last = thread_create("t", NULL, (enum prio_band)band, run_body, a);
    thread_make_ready(last);
    return spawned++;
}

// Let every ready thread run until all have blocked or ended (as idle would).
void run_pending(void) { sched_yield(); }
void advance(uint64_t ns) { now_ns += ns; timer_interrupt(); }
int sleeper_result(int i) { return (int)results[i]; }
int wake_one(long value) { return wq_wake_one(&wq, value); }
int wake_all(long value) { return wq_wake_all(&wq, value); }
void suspend_last(void) { thread_suspend(last); }
void resume_last(void) { thread_resume(last); }
int last_state(void) { return last->state; }
"""

YIELD, BUSY, SLEEP, WAIT = 0, 1, 2, 3
BACKGROUND, NORMAL, SYSTEM = 0, 1, 2
T_READY, T_RUNNING, T_BLOCKED, T_SUSPENDED = 0, 1, 2, 3
MS = 1000000


@pytest.fixture
def s():
    ffi, lib = hostlib.build("sched", ["kernel/sched/sched.c"], CDEF, EXTRA)
    lib.setup()
    lib.trace_reset()
    FFI[0] = ffi
    return lib


FFI = [None]


def trace(lib):
    return FFI[0].string(lib.trace()).decode()


def test_higher_band_first_round_robin_within_a_band(s):
    s.spawn(b"a", NORMAL, YIELD, 3)
    s.spawn(b"d", BACKGROUND, YIELD, 3)
    s.spawn(b"b", NORMAL, YIELD, 3)
    s.spawn(b"c", SYSTEM, YIELD, 3)
    s.run_pending()
    assert trace(s) == "cccababab" + "ddd"


def test_time_slice_preempts_a_busy_thread(s):
    # Two busy threads of one band share the CPU in slices of 5 ticks.
    s.spawn(b"x", NORMAL, BUSY, 12)
    s.spawn(b"y", NORMAL, BUSY, 12)
    s.run_pending()
    assert trace(s) == "xxxxxyyyyyxxxxxyyyyyxxyy"


def test_a_lone_busy_thread_keeps_getting_fresh_slices(s):
    # The bug this guards against: a thread whose slice ran out while it was the only one ready
    # kept slice 0 and was never preempted again, starving a thread that woke later.
    # z sleeps until 8 ms; x spins alone, its first slice ends at 5 ms and a fresh one at 10 ms,
    # when z (awake since 8 ms) gets the CPU.
    s.spawn(b"z", NORMAL, SLEEP, 8 * MS)
    s.spawn(b"x", NORMAL, BUSY, 30)
    s.run_pending()
    assert trace(s) == "z" + "x" * 10 + "z" + "x" * 20


def test_sleepers_wake_in_deadline_order_with_their_result(s):
    s.spawn(b"3", NORMAL, SLEEP, 30 * MS)
    s.spawn(b"1", NORMAL, SLEEP, 10 * MS)
    s.spawn(b"2", NORMAL, SLEEP, 20 * MS)
    s.run_pending()
    assert trace(s) == "312"
    for _ in range(35):
        s.advance(MS)
    s.run_pending()
    assert trace(s) == "312123"
    assert [s.sleeper_result(i) for i in range(3)] == [0, 0, 0]


def test_wait_queue_is_fifo_and_delivers_the_value(s):
    s.spawn(b"a", NORMAL, WAIT, -1)
    s.spawn(b"b", NORMAL, WAIT, -1)
    s.spawn(b"c", NORMAL, WAIT, -1)
    s.run_pending()
    assert trace(s) == ""
    assert s.wake_one(7) == 1
    s.run_pending()
    assert trace(s) == "a"
    assert s.wake_all(9) == 2
    s.run_pending()
    assert trace(s) == "abc"
    assert [s.sleeper_result(i) for i in range(3)] == [7, 9, 9]
    assert s.wake_one(1) == 0


def test_timed_wait_times_out(s):
    ETIMEDOUT = 110
    s.spawn(b"t", NORMAL, WAIT, 5 * MS)
    s.run_pending()
    for _ in range(4):
        s.advance(MS)
    s.run_pending()
    assert trace(s) == ""
    s.advance(MS)
    s.run_pending()
    assert trace(s) == "t"
    assert s.sleeper_result(0) == -ETIMEDOUT


def test_suspend_a_blocked_thread_interrupts_its_wait_and_parks_it(s):
    EINTR = 4
    s.spawn(b"w", NORMAL, WAIT, -1)
    s.run_pending()
    s.suspend_last()
    assert s.last_state() == T_SUSPENDED
    s.run_pending()
    assert trace(s) == ""
    s.resume_last()
    s.run_pending()
    assert trace(s) == "w"
    assert s.sleeper_result(0) == -EINTR
