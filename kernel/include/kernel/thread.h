// The thread structure, for the scheduler and the process code.
#pragma once
#include <hal/context.h>
#include <kernel/list.h>
#include <kernel/sched.h>
#include <stdint.h>

#define KSTACK_SIZE (16 * 1024)

struct thread {
    long tid;
    char name[32];
    struct process *proc;          // NULL for kernel threads
    enum thread_state state;
    enum prio_band band;
    int cpu;                       // the CPU it runs on (affinity); always 0 today
    uint64_t sp;                   // saved kernel stack pointer while switched out
    void *kstack;                  // lowest address of its kernel stack
    struct hal_fpu_state fpu;
    struct list_head run_link;     // run queue, or a wait queue while blocked
    struct list_head proc_link;    // its process's thread list
    struct list_head sleep_link;   // the timeout list while it waits with a deadline
    struct wait_queue *waiting_on;
    uint64_t deadline;             // hal_time_ns() at which a timed wait ends, or 0
    long wait_result;
    bool suspend_pending;          // suspended while blocked: park when woken
    uint32_t slice_left;           // ticks left in its time slice
    uint64_t cpu_ns;               // CPU time used
    uint64_t ran_since;            // hal_time_ns() when it last got the CPU
};

// A thread running fn(arg), parked until thread_make_ready. NULL when out of memory.
struct thread *thread_create(const char *name, struct process *proc, enum prio_band band, void (*fn)(void *),
                             void *arg);
// End the current thread. Its stack is freed by the next thread to run.
_Noreturn void thread_exit(void);
void thread_make_ready(struct thread *t);
void thread_suspend(struct thread *t);
void thread_resume(struct thread *t);
// Cut a blocked thread's wait short: wq_wait returns RESULT in it.
void thread_interrupt(struct thread *t, long result);
void thread_set_band(struct thread *t, enum prio_band band);

void sched_init(void);     // the idle thread, the tick; interrupts still off
_Noreturn void sched_start(void); // interrupts on, runs the ready threads; never returns
uint64_t sched_ticks(void);
