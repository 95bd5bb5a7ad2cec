// Counting semaphores. A post with waiters hands its unit straight to the oldest one (the count
// stays 0), so waiters are served in order and a newcomer cannot overtake them.
#include "ipc.h"

#include <kernel/mm.h>
#include <multios/errno.h>
#include <syscall_dispatch.h>

enum { HANDED_OVER = 1 }; // the wake value telling a waiter it has its unit

struct sem {
    struct kobj obj;
    uint32_t count;
    struct wait_queue wq;
};

static void sem_release(struct kobj *o) { kfree(o); }

long ksys_sem_create(uint32_t initial) {
    struct process *cur = proc_current();
    if (!cur)
        return -MOS_EPERM;
    struct sem *s = kzalloc(sizeof *s);
    if (!s)
        return -MOS_ENOMEM;
    kobj_init(&s->obj, KOBJ_SEM, sem_release);
    s->count = initial;
    wq_init(&s->wq);
    long h = handle_install(cur, &s->obj);
    kobj_put(&s->obj);
    return h;
}

long ksys_sem_wait(int h, uint64_t timeout_ns) {
    struct sem *s = (struct sem *)ipc_get(h, KOBJ_SEM);
    if (!s)
        return -MOS_EBADF;
    uint64_t deadline = ipc_deadline(timeout_ns);
    long r;
    unsigned long f = irq_save();
    if (s->count > 0) {
        s->count--;
        r = 0;
    } else if (timeout_ns == 0) {
        r = -MOS_EAGAIN;
    } else {
        for (;;) {
            uint64_t left = ipc_remaining(deadline);
            if (left == 0) {
                r = -MOS_ETIMEDOUT;
                break;
            }
            long w = wq_wait(&s->wq, left);
            if (w == HANDED_OVER) {
                r = 0;
                break;
            }
            if (w == -MOS_EINTR || w == -MOS_ETIMEDOUT) {
                r = w;
                break;
            }
        }
    }
    irq_restore(f);
    kobj_put(&s->obj);
    return r;
}

long ksys_sem_post(int h) {
    unsigned long f = irq_save();
    struct sem *s = (struct sem *)handle_lookup(proc_current(), h, KOBJ_SEM);
    long r = 0;
    if (!s)
        r = -MOS_EBADF;
    else if (!wq_empty(&s->wq))
        wq_wake_one(&s->wq, HANDED_OVER);
    else if (s->count == UINT32_MAX)
        r = -MOS_EOVERFLOW;
    else
        s->count++;
    irq_restore(f);
    return r;
}
