// The scheduler: three priority bands, round robin inside each, a time slice per thread,
// preemption from the timer tick. Timed waits sit on one list sorted by deadline.
#include <hal/context.h>
#include <hal/cpu.h>
#include <hal/irq.h>
#include <hal/time.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <multios/errno.h>
#include <multios/syscalls.h>

enum { TICK_HZ = 1000, SLICE_TICKS = 5 };

static struct list_head run_queue[PRIO_BANDS];
static struct list_head sleepers = LIST_INIT(sleepers); // timed waits, soonest deadline first
static struct thread *current;
static struct thread *idle;
static struct thread *dead;       // exited, its stack still in use until the next switch
static bool need_resched;
static long next_tid = 1;
static uint64_t ticks;

unsigned long irq_save(void) { return hal_irq_save(); }
void irq_restore(unsigned long flags) { hal_irq_restore(flags); }

struct thread *thread_current(void) { return current; }
struct process *proc_current(void) { return current ? current->proc : NULL; }
uint64_t sched_ticks(void) { return ticks; }

static void enqueue(struct thread *t) {
    t->state = T_READY;
    list_add_tail(&t->run_link, &run_queue[t->band]);
    if (current && t->band > current->band)
        need_resched = true;
}

static struct thread *pick_next(void) {
    for (int band = PRIO_BANDS - 1; band >= 0; band--) {
        struct list_head *n = list_pop(&run_queue[band]);
        if (n)
            return list_entry(n, struct thread, run_link);
    }
    return idle;
}

static void account(struct thread *t, uint64_t now) {
    uint64_t used = now - t->ran_since;
    t->cpu_ns += used;
    if (t->proc)
        t->proc->cpu_ns += used;
}

static void free_dead(void) {
    if (dead && dead != current) {
        kstack_free(dead->kstack, KSTACK_SIZE);
        kfree(dead);
        dead = NULL;
    }
}

// Switch to the next ready thread. Interrupts are off. The current thread has already been
// put where it belongs (a run queue, a wait queue, nowhere if it is dead).
static void schedule(void) {
    need_resched = false;
    struct thread *prev = current, *next = pick_next();
    if (next == prev) {
        // Still the only ready thread in its band: it keeps the CPU with a fresh slice.
        prev->state = T_RUNNING;
        prev->slice_left = SLICE_TICKS;
        return;
    }
    uint64_t now = hal_time_ns();
    account(prev, now);
    next->state = T_RUNNING;
    next->ran_since = now;
    next->slice_left = SLICE_TICKS;
    if (prev->proc)
        hal_fpu_save(&prev->fpu);
    if (next->proc) {
        hal_fpu_restore(&next->fpu);
        if (!prev->proc || prev->proc->vm != next->proc->vm)
            vm_activate(next->proc->vm);
    }
    if (next->kstack) // the idle thread runs on the boot stack and never enters ring 3
        hal_set_kernel_stack((uint64_t)next->kstack + KSTACK_SIZE);
    current = next;
    hal_context_switch(&prev->sp, next->sp);
    // Back in prev, later.
    free_dead();
}

void thread_make_ready(struct thread *t) {
    unsigned long f = irq_save();
    if (t->state != T_READY && t->state != T_RUNNING && t->state != T_DEAD)
        enqueue(t);
    irq_restore(f);
}

static void trampoline(void *arg);

struct thread *thread_create(const char *name, struct process *proc, enum prio_band band, void (*fn)(void *),
                             void *arg) {
    struct thread *t = kzalloc(sizeof *t);
    if (!t)
        return NULL;
    t->kstack = kstack_alloc(KSTACK_SIZE);
    if (!t->kstack) {
        kfree(t);
        return NULL;
    }
    strlcpy(t->name, name, sizeof t->name);
    t->proc = proc;
    t->band = band;
    t->state = T_BLOCKED; // not runnable until made ready below
    list_init(&t->run_link);
    list_init(&t->proc_link);
    list_init(&t->sleep_link);
    hal_fpu_init_state(&t->fpu);
    // The entry and its argument travel on the new stack, above the switch frame.
    void **args = (void **)((char *)t->kstack + KSTACK_SIZE) - 2;
    args[0] = (void *)fn;
    args[1] = arg;
    t->sp = hal_context_init(args, trampoline, args);
    unsigned long f = irq_save();
    t->tid = next_tid++;
    irq_restore(f);
    return t;
}

// Every thread starts here, interrupts off, right after its first switch.
static void trampoline(void *arg) {
    void **args = arg;
    void (*fn)(void *) = (void (*)(void *))args[0];
    free_dead();
    hal_irq_enable();
    fn(args[1]);
    thread_exit();
}

_Noreturn void thread_exit(void) {
    hal_irq_disable();
    free_dead(); // at most one thread waits to be freed
    current->state = T_DEAD;
    dead = current;
    schedule();
    panic("a dead thread was scheduled");
}

void thread_set_band(struct thread *t, enum prio_band band) {
    unsigned long f = irq_save();
    if (t->state == T_READY) {
        list_del(&t->run_link);
        t->band = band;
        enqueue(t);
    } else {
        t->band = band;
        if (t == current)
            need_resched = true;
    }
    irq_restore(f);
}

void sched_yield(void) {
    unsigned long f = irq_save();
    if (current != idle) // idle is never queued: it runs when nothing else can
        enqueue(current);
    schedule();
    irq_restore(f);
}

// --- waiting ---------------------------------------------------------------------------------

void wq_init(struct wait_queue *wq) { list_init(&wq->waiters); }
bool wq_empty(const struct wait_queue *wq) { return list_empty(&wq->waiters); }

static void add_sleeper(struct thread *t) {
    list_for_each(pos, &sleepers) {
        struct thread *o = list_entry(pos, struct thread, sleep_link);
        if (o->deadline > t->deadline) {
            list_insert(&t->sleep_link, pos->prev, pos);
            return;
        }
    }
    list_add_tail(&t->sleep_link, &sleepers);
}

// Take T off whatever it waits on and make it runnable with RESULT. Interrupts are off.
static void wake(struct thread *t, long result) {
    if (t->state != T_BLOCKED)
        return;
    list_del(&t->run_link);
    list_del(&t->sleep_link);
    t->waiting_on = NULL;
    t->wait_result = result;
    if (t->suspend_pending) {
        t->suspend_pending = false;
        t->state = T_SUSPENDED;
        return;
    }
    enqueue(t);
}

long wq_wait(struct wait_queue *wq, uint64_t timeout_ns) {
    unsigned long f = irq_save();
    struct thread *t = current;
    if (t->proc && t->proc->killed) {
        irq_restore(f);
        return -MOS_EINTR;
    }
    if (timeout_ns == 0) {
        irq_restore(f);
        return -MOS_ETIMEDOUT;
    }
    t->state = T_BLOCKED;
    t->wait_result = 0;
    t->waiting_on = wq;
    if (wq)
        list_add_tail(&t->run_link, &wq->waiters);
    else
        list_init(&t->run_link);
    if (timeout_ns != WAIT_FOREVER) {
        uint64_t now = hal_time_ns();
        t->deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
        add_sleeper(t);
    }
    schedule();
    long r = t->wait_result;
    irq_restore(f);
    return r;
}

int wq_wake_one(struct wait_queue *wq, long value) {
    unsigned long f = irq_save();
    int n = 0;
    struct list_head *first = wq->waiters.next;
    if (first != &wq->waiters) {
        wake(list_entry(first, struct thread, run_link), value);
        n = 1;
    }
    irq_restore(f);
    return n;
}

int wq_wake_all(struct wait_queue *wq, long value) {
    unsigned long f = irq_save();
    int n = 0;
    while (!list_empty(&wq->waiters)) {
        wake(list_entry(wq->waiters.next, struct thread, run_link), value);
        n++;
    }
    irq_restore(f);
    return n;
}

void thread_interrupt(struct thread *t, long result) {
    unsigned long f = irq_save();
    if (t->state == T_BLOCKED)
        wake(t, result);
    else if (t->state == T_SUSPENDED) {
        t->wait_result = result;
        enqueue(t);
    }
    irq_restore(f);
}

void thread_suspend(struct thread *t) {
    unsigned long f = irq_save();
    if (t->state == T_READY) {
        list_del(&t->run_link);
        t->state = T_SUSPENDED;
    } else if (t->state == T_BLOCKED) {
        // Its call ends with MOS_EINTR, delivered when it is resumed.
        t->suspend_pending = true;
        wake(t, -MOS_EINTR);
    } else if (t == current) {
        t->state = T_SUSPENDED;
        schedule();
    }
    irq_restore(f);
}

void thread_resume(struct thread *t) {
    unsigned long f = irq_save();
    if (t->state == T_SUSPENDED)
        enqueue(t);
    t->suspend_pending = false;
    irq_restore(f);
}

long sched_sleep_ns(uint64_t ns) {
    if (ns == 0) {
        sched_yield();
        return 0;
    }
    long r = wq_wait(NULL, ns);
    return r == -MOS_ETIMEDOUT ? 0 : r;
}

// --- the tick --------------------------------------------------------------------------------

static void tick(void) {
    ticks++;
    uint64_t now = hal_time_ns();
    while (!list_empty(&sleepers)) {
        struct thread *t = list_entry(sleepers.next, struct thread, sleep_link);
        if (t->deadline > now)
            break;
        wake(t, -MOS_ETIMEDOUT);
    }
    if (current != idle && current->slice_left && --current->slice_left == 0)
        need_resched = true;
    if (current == idle)
        for (int band = 0; band < PRIO_BANDS; band++)
            if (!list_empty(&run_queue[band]))
                need_resched = true;
}

// After every interrupt: preempt when the slice is over or a higher band became ready.
static void irq_exit(struct hal_trapframe *tf) {
    if (need_resched && current) {
        if (current != idle && current->state == T_RUNNING)
            enqueue(current);
        schedule();
    }
    if (hal_trap_from_user(tf) && current->proc && current->proc->killed)
        proc_exit_current(MOS_STATUS_KILLED);
}

static _Noreturn void idle_loop(void) {
    for (;;) {
        hal_irq_disable();
        if (need_resched)
            schedule();
        else
            hal_irq_wait(); // an interrupt may switch away from inside
        hal_irq_enable();
    }
}

void sched_init(void) {
    for (int band = 0; band < PRIO_BANDS; band++)
        list_init(&run_queue[band]);
    list_init(&sleepers);
    // The boot thread becomes the idle thread: kmain ends in sched_start on this stack.
    idle = kzalloc(sizeof *idle);
    if (!idle)
        panic("no memory for the idle thread");
    strlcpy(idle->name, "idle", sizeof idle->name);
    idle->state = T_RUNNING;
    idle->band = PRIO_BACKGROUND;
    list_init(&idle->run_link);
    list_init(&idle->sleep_link);
    list_init(&idle->proc_link);
    current = idle;
    hal_irq_set_exit_hook(irq_exit);
    hal_timer_start(TICK_HZ, tick); // interrupts stay off until sched_start
}

_Noreturn void sched_start(void) {
    hal_irq_disable();
    need_resched = true;
    idle_loop();
}

void sched_preempt_point(void) {
    unsigned long f = irq_save();
    if (need_resched && current != idle) {
        enqueue(current);
        schedule();
    }
    irq_restore(f);
}
