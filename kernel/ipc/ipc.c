// What the IPC objects share: message copies, timeouts, handle grants and closes, and the
// clean-up when a process dies.
#include "ipc.h"

#include <hal/time.h>
#include <kernel/mm.h>
#include <multios/errno.h>
#include <syscall_dispatch.h>

long ipc_msg_from_user(struct mos_msg *k, const struct mos_msg *u) {
    if (copy_from_user(k, u, MSG_HDR_SIZE) < 0)
        return -MOS_EFAULT;
    if (k->len > MOS_MSG_DATA_MAX)
        return -MOS_EINVAL;
    if (k->len && copy_from_user(k->data, u->data, k->len) < 0)
        return -MOS_EFAULT;
    return 0;
}

struct kobj *ipc_get(int h, enum kobj_type type) {
    unsigned long f = irq_save();
    struct kobj *o = handle_lookup(proc_current(), h, type);
    if (o)
        kobj_get(o);
    irq_restore(f);
    return o;
}

int ipc_handle_count(const struct process *p, const struct kobj *o) {
    int n = 0;
    for (int h = 0; h < HANDLES_MAX; h++)
        n += p->handles[h] == o;
    return n;
}

uint64_t ipc_deadline(uint64_t timeout_ns) {
    if (timeout_ns == WAIT_FOREVER)
        return WAIT_FOREVER;
    uint64_t now = hal_time_ns();
    return timeout_ns >= WAIT_FOREVER - now ? WAIT_FOREVER : now + timeout_ns;
}

uint64_t ipc_remaining(uint64_t deadline) {
    if (deadline == WAIT_FOREVER)
        return WAIT_FOREVER;
    uint64_t now = hal_time_ns();
    return deadline > now ? deadline - now : 0;
}

long ipc_block(struct wait_queue *wq, uint64_t timeout_ns, uint64_t deadline) {
    if (timeout_ns == 0)
        return -MOS_EAGAIN;
    uint64_t left = ipc_remaining(deadline);
    if (left == 0)
        return -MOS_ETIMEDOUT;
    return wq_wait(wq, left) == -MOS_EINTR ? -MOS_EINTR : 0;
}

long ksys_handle_grant(int h, long pid) {
    struct process *cur = proc_current();
    struct kobj *o = ipc_get(h, KOBJ_NONE);
    if (!o)
        return -MOS_EBADF;
    long r;
    unsigned long f = irq_save();
    struct process *to = proc_find(pid);
    if (!to || to->state == MOS_PROC_ZOMBIE || to->killed)
        r = -MOS_ESRCH;
    else if (!to->vm)
        r = -MOS_EPERM; // the kernel's own process holds no handles
    else
        r = handle_install(to, o);
    if (r >= 0 && o->type == KOBJ_QUEUE)
        queue_granted(o, cur, to);
    irq_restore(f);
    kobj_put(o);
    return r;
}

// Close handle H of P, and tell the object's type when P let go of it.
static long close_handle(struct process *p, int h) {
    unsigned long f = irq_save();
    struct kobj *o = handle_lookup(p, h, KOBJ_NONE);
    if (!o) {
        irq_restore(f);
        return -MOS_EBADF;
    }
    kobj_get(o); // it must outlive the hooks below
    handle_close(p, h);
    if (o->type == KOBJ_QUEUE)
        queue_closed(o);
    else if (o->type == KOBJ_ENDPOINT && ipc_handle_count(p, o) == 0)
        endpoint_lost((struct endpoint *)o, p);
    irq_restore(f);
    kobj_put(o);
    return 0;
}

long ksys_handle_close(int h) { return close_handle(proc_current(), h); }

void ipc_process_exit(struct process *p) {
    unsigned long f = irq_save();
    // The process is ending: from here on handle_grant refuses it (a handle granted now would
    // never be closed), and any other thread of it leaves at its next kernel exit.
    p->killed = true;
    endpoint_abandon_calls(p); // normally none left: its threads unwound them with -MOS_EINTR
    irq_restore(f);
    // Close its IPC handles here rather than leave them to the generic teardown, so that its
    // callers and queue peers hear of it (-MOS_EPIPE) at once.
    for (int h = 0; h < HANDLES_MAX; h++) {
        struct kobj *o = p->handles[h];
        if (o && (o->type == KOBJ_ENDPOINT || o->type == KOBJ_QUEUE || o->type == KOBJ_NOTIFY ||
                  o->type == KOBJ_SHM || o->type == KOBJ_SEM))
            close_handle(p, h);
    }
    shm_process_exit(p);
}
