// Bounded message queues: a ring of depth messages fixed at creation, copied in and out, FIFO,
// no reply. Anyone holding a handle may send or receive.
//
// Like a pipe, a queue knows when its other end is gone: once it has been held by two
// processes, a caller left as its only holder gets -MOS_EPIPE instead of waiting for a peer
// that can never come back (messages already queued are still received first).
#include "ipc.h"

#include <kernel/mm.h>
#include <kernel/string.h>
#include <multios/errno.h>
#include <syscall_dispatch.h>

struct queue {
    struct kobj obj;
    uint32_t depth, head, count;
    int handles; // handles naming it, in every process
    bool shared; // it has been granted to a second process
    struct wait_queue not_full, not_empty;
    struct mos_msg slots[];
};

static void queue_release(struct kobj *o) { kfree(o); }

void queue_granted(struct kobj *o, struct process *from, struct process *to) {
    struct queue *q = (struct queue *)o;
    q->handles++;
    if (from != to)
        q->shared = true;
}

void queue_closed(struct kobj *o) {
    struct queue *q = (struct queue *)o;
    q->handles--;
    // Waiters look again: the one who closed may have been their only peer.
    wq_wake_all(&q->not_full, 0);
    wq_wake_all(&q->not_empty, 0);
}

static bool peer_gone(const struct queue *q) {
    return q->shared && ipc_handle_count(proc_current(), &q->obj) >= q->handles;
}

long ksys_queue_create(uint32_t depth) {
    struct process *cur = proc_current();
    if (!cur)
        return -MOS_EPERM;
    if (depth == 0 || depth > MOS_QUEUE_DEPTH_MAX)
        return -MOS_EINVAL;
    struct queue *q = kzalloc(sizeof *q + depth * sizeof(struct mos_msg));
    if (!q)
        return -MOS_ENOMEM;
    kobj_init(&q->obj, KOBJ_QUEUE, queue_release);
    q->depth = depth;
    q->handles = 1;
    wq_init(&q->not_full);
    wq_init(&q->not_empty);
    long h = handle_install(cur, &q->obj);
    kobj_put(&q->obj);
    return h;
}

long ksys_queue_send(int h, const struct mos_msg *m, uint64_t timeout_ns) {
    struct queue *q = (struct queue *)ipc_get(h, KOBJ_QUEUE);
    if (!q)
        return -MOS_EBADF;
    struct mos_msg k;
    long r = ipc_msg_from_user(&k, m);
    if (r < 0) {
        kobj_put(&q->obj);
        return r;
    }
    k.sender = proc_current()->pid;
    uint64_t deadline = ipc_deadline(timeout_ns);
    unsigned long f = irq_save();
    for (;;) {
        if (peer_gone(q)) {
            r = -MOS_EPIPE;
            break;
        }
        if (q->count < q->depth) {
            memcpy(&q->slots[(q->head + q->count) % q->depth], &k, msg_size(&k));
            q->count++;
            wq_wake_one(&q->not_empty, 0);
            r = 0;
            break;
        }
        if ((r = ipc_block(&q->not_full, timeout_ns, deadline)) < 0)
            break;
    }
    irq_restore(f);
    kobj_put(&q->obj);
    return r;
}

long ksys_queue_recv(int h, struct mos_msg *m, uint64_t timeout_ns) {
    struct queue *q = (struct queue *)ipc_get(h, KOBJ_QUEUE);
    if (!q)
        return -MOS_EBADF;
    if (!user_range_ok((uintptr_t)m, sizeof *m)) {
        kobj_put(&q->obj);
        return -MOS_EFAULT;
    }
    uint64_t deadline = ipc_deadline(timeout_ns);
    long r;
    unsigned long f = irq_save();
    for (;;) {
        if (q->count) {
            // Copied out with interrupts off and taken off the ring only once it arrived, so
            // a bad buffer loses nothing.
            const struct mos_msg *slot = &q->slots[q->head];
            if (copy_to_user(m, slot, msg_size(slot)) < 0) {
                wq_wake_one(&q->not_empty, 0); // the message is still there for another
                r = -MOS_EFAULT;
                break;
            }
            q->head = (q->head + 1) % q->depth;
            q->count--;
            wq_wake_one(&q->not_full, 0);
            r = 0;
            break;
        }
        if (peer_gone(q)) {
            r = -MOS_EPIPE;
            break;
        }
        if ((r = ipc_block(&q->not_empty, timeout_ns, deadline)) < 0)
            break;
    }
    irq_restore(f);
    kobj_put(&q->obj);
    return r;
}
