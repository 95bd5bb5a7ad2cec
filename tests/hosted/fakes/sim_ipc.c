#define _GNU_SOURCE // process_vm_readv
// A deterministic stand-in for the scheduler, processes, memory and user copies, so that
// kernel/ipc/*.c runs on the host under pytest (tests/hosted/test_ipc.py).
//
// Every simulated kernel thread is a host thread, but only one ever runs: a baton passes
// between the test's thread (the scheduler: sim_run) and the simulated thread it picked, which
// keeps it until it blocks in wq_wait, yields or finishes its system call. So a run is a
// sequence, the same every time, and "interrupts off" needs no lock. Time is a counter that
// only moves when every thread is blocked and one has a deadline (or when the test moves it).
//
// User memory is host memory; a pointer is bad when it is NULL, in the top half, or inside the
// window set with sim_set_fault (a mapped-looking range whose copy faults).
// The kernel's sched_yield is not POSIX's (pthread.h declares that one).
#define sched_yield kernel_sched_yield
#include <kernel/ipc.h>
#include <kernel/kobj.h>
#include <kernel/list.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#undef sched_yield
#include <multios/errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <syscall_dispatch.h>

#include "sim_ipc.h"

// --- threads and the baton -------------------------------------------------------------

enum sim_state { S_READY, S_RUNNING, S_BLOCKED, S_DONE };

struct sim_thread {
    int id;
    pthread_t th;
    pthread_cond_t cv;
    struct process *proc;
    enum sim_state state;
    struct list_head link;    // ready list or a wait queue
    struct list_head timed;   // timed waiters
    uint64_t deadline;        // 0: none
    long wait_result;
    bool irq_off;
    struct sim_op op;
    long result;
    bool joined;
};

enum { MAX_PROCS = 64, MAX_STEPS = 1000000 };

static pthread_mutex_t baton = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t main_cv = PTHREAD_COND_INITIALIZER;
static struct sim_thread *running; // NULL: the test's thread has the baton
static struct sim_thread **threads;
static int nthreads, threads_cap;
static struct list_head ready = LIST_INIT(ready);
static struct list_head timed = LIST_INIT(timed);
static uint64_t clock_ns;
static struct sim_stats stats;
static bool main_irq_off;
static struct process *procs[MAX_PROCS];
static const char *fault_lo, *fault_hi;

static void give_baton_and_wait(struct sim_thread *self) {
    pthread_mutex_lock(&baton);
    running = NULL;
    pthread_cond_signal(&main_cv);
    while (running != self)
        pthread_cond_wait(&self->cv, &baton);
    pthread_mutex_unlock(&baton);
}

static void finish_thread(struct sim_thread *self) {
    pthread_mutex_lock(&baton);
    self->state = S_DONE;
    running = NULL;
    pthread_cond_signal(&main_cv);
    pthread_mutex_unlock(&baton);
}

static void make_ready(struct sim_thread *t, long result) {
    if (t->state != S_BLOCKED)
        return;
    list_del(&t->link);
    list_del(&t->timed);
    t->deadline = 0;
    t->wait_result = result;
    t->state = S_READY;
    list_add_tail(&t->link, &ready);
}

static void do_exit(struct process *p);

static void *thread_main(void *arg) {
    struct sim_thread *self = arg;
    pthread_mutex_lock(&baton);
    while (running != self)
        pthread_cond_wait(&self->cv, &baton);
    pthread_mutex_unlock(&baton);
    struct sim_op *op = &self->op;
    switch (op->kind) {
    case SIM_SYSCALL:
        self->result = syscall_dispatch(op->nr, op->a[0], op->a[1], op->a[2], op->a[3], op->a[4], op->a[5]);
        break;
    case SIM_EXIT:
        do_exit(self->proc);
        self->result = 0;
        break;
    case SIM_KCALL: {
        struct kobj *o = handle_lookup(self->proc, (int)op->a[0], KOBJ_NONE);
        self->result = ipc_kcall(o, (struct mos_msg *)(uintptr_t)op->a[1]);
        break;
    }
    case SIM_UNMAPPED:
        ipc_vm_unmapped(self->proc, op->a[0], op->a[1]);
        self->result = 0;
        break;
    default:
        self->result = -MOS_ENOSYS;
    }
    if (self->irq_off)
        stats.irq_left_off++;
    finish_thread(self);
    return NULL;
}

struct process *sim_proc(long pid) {
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i] && procs[i]->pid == pid)
            return procs[i];
    return NULL;
}

int sim_spawn(long pid, const struct sim_op *op) {
    struct process *p = sim_proc(pid);
    if (!p)
        return -1;
    if (nthreads == threads_cap) {
        threads_cap = threads_cap ? 2 * threads_cap : 256;
        threads = realloc(threads, threads_cap * sizeof *threads);
    }
    struct sim_thread *t = calloc(1, sizeof *t);
    t->id = nthreads;
    t->proc = p;
    t->op = *op;
    t->state = S_READY;
    list_init(&t->timed);
    pthread_cond_init(&t->cv, NULL);
    list_add_tail(&t->link, &ready);
    threads[nthreads++] = t;
    pthread_create(&t->th, NULL, thread_main, t);
    return t->id;
}

static void switch_to(struct sim_thread *t) {
    pthread_mutex_lock(&baton);
    t->state = S_RUNNING;
    running = t;
    pthread_cond_signal(&t->cv);
    while (running != NULL)
        pthread_cond_wait(&main_cv, &baton);
    pthread_mutex_unlock(&baton);
    stats.switches++;
}

static void expire(uint64_t now) {
    bool again = true;
    while (again) {
        again = false;
        list_for_each(pos, &timed) {
            struct sim_thread *t = list_entry(pos, struct sim_thread, timed);
            if (t->deadline <= now) {
                make_ready(t, -MOS_ETIMEDOUT);
                again = true;
                break;
            }
        }
    }
}

int sim_run(void) {
    for (int steps = 0; steps < MAX_STEPS; steps++) {
        struct list_head *n = list_pop(&ready);
        if (!n) {
            // Everyone waits: jump the clock to the nearest deadline, if any.
            uint64_t next = 0;
            list_for_each(pos, &timed) {
                struct sim_thread *t = list_entry(pos, struct sim_thread, timed);
                if (!next || t->deadline < next)
                    next = t->deadline;
            }
            if (!next)
                return 0;
            if (next > clock_ns)
                clock_ns = next;
            expire(clock_ns);
            continue;
        }
        struct sim_thread *t = list_entry(n, struct sim_thread, link);
        switch_to(t);
        if (t->state == S_DONE && !t->joined) {
            pthread_join(t->th, NULL);
            t->joined = true;
        }
    }
    return -1; // livelock
}

// Run thread ID alone, once, if it is ready (to force an order the run loop would not pick).
int sim_step_thread(int id) {
    if (id < 0 || id >= nthreads || threads[id]->state != S_READY)
        return 0;
    struct sim_thread *t = threads[id];
    list_del(&t->link);
    switch_to(t);
    if (t->state == S_DONE && !t->joined) {
        pthread_join(t->th, NULL);
        t->joined = true;
    }
    return 1;
}

void sim_advance(uint64_t ns) {
    clock_ns += ns;
    expire(clock_ns);
}

uint64_t sim_clock(void) { return clock_ns; }

int sim_thread_done(int id, long *result) {
    if (id < 0 || id >= nthreads)
        return 0;
    struct sim_thread *t = threads[id];
    if (t->state != S_DONE)
        return 0;
    *result = t->result;
    return 1;
}

int sim_thread_state(int id) { return id >= 0 && id < nthreads ? (int)threads[id]->state : -1; }

// The lead's kill: flag the process and cut its blocked threads' waits short.
void sim_kill(long pid) {
    struct process *p = sim_proc(pid);
    p->killed = true;
    for (int i = 0; i < nthreads; i++)
        if (threads[i]->proc == p && threads[i]->state == S_BLOCKED)
            make_ready(threads[i], -MOS_EINTR);
}

// Process teardown as the process code does it: the IPC hook, then every handle left.
static void do_exit(struct process *p) {
    ipc_process_exit(p);
    for (int h = 0; h < HANDLES_MAX; h++)
        if (p->handles[h])
            handle_close(p, h);
    p->state = MOS_PROC_ZOMBIE;
}

// --- the scheduler interface (sched.h) ---------------------------------------------------

unsigned long irq_save(void) {
    bool *off = running ? &running->irq_off : &main_irq_off;
    unsigned long old = *off;
    *off = true;
    return old;
}

void irq_restore(unsigned long flags) {
    bool *off = running ? &running->irq_off : &main_irq_off;
    *off = flags != 0;
}

struct thread *thread_current(void) { return (struct thread *)running; }
struct process *proc_current(void) { return running ? running->proc : NULL; }

void wq_init(struct wait_queue *wq) { list_init(&wq->waiters); }
bool wq_empty(const struct wait_queue *wq) { return list_empty(&wq->waiters); }

long wq_wait(struct wait_queue *wq, uint64_t timeout_ns) {
    struct sim_thread *self = running;
    if (!self) {
        stats.violations++; // the test's thread cannot block
        return -MOS_EINTR;
    }
    if (!self->irq_off)
        stats.violations++; // check-then-wait without interrupts off loses wake-ups
    if (self->proc && self->proc->killed)
        return -MOS_EINTR;
    if (timeout_ns == 0)
        return -MOS_ETIMEDOUT;
    self->state = S_BLOCKED;
    self->wait_result = 0;
    list_add_tail(&self->link, &wq->waiters);
    if (timeout_ns != WAIT_FOREVER) {
        self->deadline = timeout_ns > UINT64_MAX - clock_ns ? UINT64_MAX : clock_ns + timeout_ns;
        list_add_tail(&self->timed, &timed);
    }
    stats.waits++;
    give_baton_and_wait(self);
    return self->wait_result;
}

int wq_wake_one(struct wait_queue *wq, long value) {
    if (list_empty(&wq->waiters))
        return 0;
    make_ready(list_entry(wq->waiters.next, struct sim_thread, link), value);
    return 1;
}

int wq_wake_all(struct wait_queue *wq, long value) {
    int n = 0;
    while (!list_empty(&wq->waiters)) {
        make_ready(list_entry(wq->waiters.next, struct sim_thread, link), value);
        n++;
    }
    return n;
}

uint64_t hal_time_ns(void) { return clock_ns; }

// --- processes ---------------------------------------------------------------------------

struct vm_space {
    uint64_t next;
    int count;
    struct {
        uint64_t va;
        size_t pages;
        unsigned flags;
        uint64_t frames[64];
    } maps[32];
};

struct process *sim_proc_new(long pid) {
    for (int i = 0; i < MAX_PROCS; i++) {
        if (!procs[i]) {
            struct process *p = calloc(1, sizeof *p);
            p->pid = pid;
            p->state = MOS_PROC_RUNNING;
            p->vm = calloc(1, sizeof *p->vm);
            p->vm->next = USER_MMAP_BASE;
            list_init(&p->threads);
            list_init(&p->link);
            wq_init(&p->child_exit);
            procs[i] = p;
            return p;
        }
    }
    return NULL;
}

struct process *proc_find(long pid) { return sim_proc(pid); }

void sim_proc_set_vm(long pid, int present) {
    struct process *p = sim_proc(pid);
    if (!present) {
        free(p->vm);
        p->vm = NULL;
    } else if (!p->vm) {
        p->vm = calloc(1, sizeof *p->vm);
        p->vm->next = USER_MMAP_BASE;
    }
}

int sim_handle_count(long pid, int h) {
    struct process *p = sim_proc(pid);
    struct kobj *o = handle_lookup(p, h, KOBJ_NONE);
    return o ? o->refs : -1;
}

int sim_handle_type(long pid, int h) {
    struct kobj *o = handle_lookup(sim_proc(pid), h, KOBJ_NONE);
    return o ? (int)o->type : -1;
}

// An object of a type IPC does not own (a console), never released.
static struct kobj console = {KOBJ_CONSOLE, 1, NULL};
int sim_install_console(long pid) { return handle_install(sim_proc(pid), &console); }

// --- memory ------------------------------------------------------------------------------

enum { FRAME_BASE = 0x200000, MAX_FRAMES = 4096 };
static bool frame_used[MAX_FRAMES];
static uint64_t frame_cap = 1024, frames_used;
static int map_fail;

uint64_t pmm_alloc(void) {
    if (frames_used >= frame_cap)
        return 0;
    for (uint64_t i = 0; i < frame_cap; i++) {
        if (!frame_used[i]) {
            frame_used[i] = true;
            frames_used++;
            stats.frames_allocated++;
            return FRAME_BASE + i * PAGE_SIZE;
        }
    }
    return 0;
}

void pmm_free(uint64_t phys) {
    uint64_t i = (phys - FRAME_BASE) / PAGE_SIZE;
    if (phys < FRAME_BASE || phys % PAGE_SIZE || i >= MAX_FRAMES || !frame_used[i]) {
        stats.bad_frees++;
        return;
    }
    frame_used[i] = false;
    frames_used--;
    stats.frames_freed++;
}

uint64_t pmm_free_frames(void) { return frame_cap - frames_used; }
uint64_t pmm_total_frames(void) { return frame_cap; }
void sim_set_frames(uint64_t cap) { frame_cap = cap < MAX_FRAMES ? cap : MAX_FRAMES; }

void *kmalloc(size_t n) {
    stats.kmalloc_live++;
    return malloc(n);
}
void *kzalloc(size_t n) {
    stats.kmalloc_live++;
    return calloc(1, n);
}
void kfree(void *p) {
    if (p)
        stats.kmalloc_live--;
    free(p);
}

uint64_t vm_find_free(struct vm_space *vs, size_t len) {
    if (!vs || vs->count == 32)
        return 0;
    uint64_t va = vs->next;
    vs->next += PAGE_ROUND_UP(len) + PAGE_SIZE;
    return va;
}

long vm_map_shared(struct vm_space *vs, uint64_t va, const uint64_t *frames, size_t count, unsigned flags) {
    if ((flags & VM_WRITE) && (flags & VM_EXEC))
        return -MOS_EINVAL;
    if (map_fail)
        return -MOS_ENOMEM;
    if (!vs || vs->count == 32)
        return -MOS_ENOMEM;
    vs->maps[vs->count].va = va;
    vs->maps[vs->count].pages = count;
    vs->maps[vs->count].flags = flags;
    for (size_t i = 0; i < count && i < 64; i++)
        vs->maps[vs->count].frames[i] = frames[i];
    vs->count++;
    return 0;
}

void sim_set_map_fail(int fail) { map_fail = fail; }

// The frame behind page INDEX of the mapping at VA in PID, its flags in *flags; 0 if none.
uint64_t sim_mapped_frame(long pid, uint64_t va, size_t index, unsigned *flags) {
    struct vm_space *vs = sim_proc(pid)->vm;
    for (int i = 0; vs && i < vs->count; i++) {
        if (vs->maps[i].va == va && index < vs->maps[i].pages && index < 64) {
            *flags = vs->maps[i].flags;
            return vs->maps[i].frames[index];
        }
    }
    return 0;
}

void sim_set_fault(const void *lo, size_t len) {
    fault_lo = lo;
    fault_hi = (const char *)lo + len;
}

bool user_range_ok(uint64_t addr, size_t len) {
    return addr != 0 && addr < (1ull << 47) && len <= (1ull << 47) - addr;
}

static bool faults(const void *p, size_t n) {
    const char *a = p;
    return fault_lo && a < fault_hi && a + n > fault_lo;
}

// The copies survive bad pointers like the kernel's: the host kernel does them for us and
// answers EFAULT for memory this process cannot read (or write).
long copy_from_user(void *dst, const void *usrc, size_t n) {
    stats.copied_in += n;
    if (!user_range_ok((uintptr_t)usrc, n) || faults(usrc, n))
        return -MOS_EFAULT;
    struct iovec local = {dst, n}, remote = {(void *)usrc, n};
    if (n && process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)n)
        return -MOS_EFAULT;
    return 0;
}

long copy_to_user(void *udst, const void *src, size_t n) {
    stats.copied_out += n;
    if (!user_range_ok((uintptr_t)udst, n) || faults(udst, n))
        return -MOS_EFAULT;
    struct iovec local = {(void *)src, n}, remote = {udst, n};
    if (n && process_vm_writev(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)n)
        return -MOS_EFAULT;
    return 0;
}

// --- logging -----------------------------------------------------------------------------

void klog(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "panic: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    stats.panics++;
    if (running) { // end the simulated thread, give the baton back
        finish_thread(running);
        pthread_exit(NULL);
    }
    abort();
}

// --- the whole simulation ----------------------------------------------------------------

void sim_stats(struct sim_stats *out) {
    *out = stats;
    out->frames_in_use = frames_used;
}

// Forget every thread (all must be done or blocked forever) and process, for the next test.
// Blocked threads are abandoned, not freed: their stacks hold kernel records.
void sim_reset(void) {
    for (int i = 0; i < nthreads; i++) {
        if (threads[i]->state == S_DONE) {
            if (!threads[i]->joined)
                pthread_join(threads[i]->th, NULL);
            pthread_cond_destroy(&threads[i]->cv);
            free(threads[i]);
        } else {
            pthread_detach(threads[i]->th);
        }
        threads[i] = NULL;
    }
    nthreads = 0;
    list_init(&ready);
    list_init(&timed);
    for (int i = 0; i < MAX_PROCS; i++)
        procs[i] = NULL; // processes stay allocated: leaked objects may point at them
    memset(&stats, 0, sizeof stats);
    memset(frame_used, 0, sizeof frame_used);
    frames_used = 0;
    frame_cap = 1024;
    map_fail = 0;
    fault_lo = fault_hi = NULL;
    clock_ns = 1000;
    main_irq_off = false;
}
