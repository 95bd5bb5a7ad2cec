// Threads and the scheduler. One CPU today; every thread carries a CPU field so that SMP is a
// change of policy, not of structure. Mutual exclusion inside the kernel: interrupts off
// (irq_save/irq_restore), which is enough on one CPU.
#pragma once
#include <kernel/list.h>
#include <stdbool.h>
#include <stdint.h>

#define WAIT_FOREVER UINT64_MAX

// Bands as the ABI numbers them (sys_set_priority): a higher band always runs first.
enum prio_band { PRIO_BACKGROUND = 0, PRIO_NORMAL = 1, PRIO_SYSTEM = 2, PRIO_BANDS = 3 };
enum thread_state { T_READY, T_RUNNING, T_BLOCKED, T_SUSPENDED, T_DEAD };

struct process;
struct thread;

struct wait_queue {
    struct list_head waiters;
};

void wq_init(struct wait_queue *wq);
// Block the current thread on WQ. The caller has interrupts off (irq_save) and has checked its
// condition under them, so no wake-up is lost between the check and the sleep. Returns the
// value given to wq_wake_*, -MOS_ETIMEDOUT after timeout_ns (WAIT_FOREVER: never), or
// -MOS_EINTR when the thread's process is being killed.
long wq_wait(struct wait_queue *wq, uint64_t timeout_ns);
// Wake the first / every waiter; wq_wait returns VALUE in them. Number woken.
int wq_wake_one(struct wait_queue *wq, long value);
int wq_wake_all(struct wait_queue *wq, long value);
bool wq_empty(const struct wait_queue *wq);

unsigned long irq_save(void);
void irq_restore(unsigned long flags);

struct thread *thread_current(void);
struct process *proc_current(void);
void sched_yield(void);
long sched_sleep_ns(uint64_t ns);
// Give up the CPU here if a higher band became ready or the slice ran out.
void sched_preempt_point(void);
