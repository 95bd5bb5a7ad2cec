// Notifications: a word of bits on each endpoint. notify ORs bits in and wakes a waiter;
// notify_wait takes the whole word and clears it, so bits sent before anyone waited are kept
// and several notifications between two waits arrive together.
#include "ipc.h"

#include <kernel/mm.h>
#include <multios/errno.h>
#include <syscall_dispatch.h>

long ksys_notify(int h, uint64_t bits) {
    unsigned long f = irq_save();
    struct endpoint *ep = (struct endpoint *)handle_lookup(proc_current(), h, KOBJ_ENDPOINT);
    long r = 0;
    if (!ep) {
        r = -MOS_EBADF;
    } else if (!ep->server) {
        r = -MOS_EPIPE;
    } else {
        ep->bits |= bits;
        if (ep->bits)
            wq_wake_one(&ep->notifyq, 0);
    }
    irq_restore(f);
    return r;
}

long ksys_notify_wait(int h, uint64_t *bits, uint64_t timeout_ns) {
    struct endpoint *ep = (struct endpoint *)ipc_get(h, KOBJ_ENDPOINT);
    if (!ep)
        return -MOS_EBADF;
    if (!user_range_ok((uintptr_t)bits, sizeof *bits)) {
        kobj_put(&ep->obj);
        return -MOS_EFAULT;
    }
    uint64_t deadline = ipc_deadline(timeout_ns), got = 0;
    long r;
    unsigned long f = irq_save();
    for (;;) {
        if (ep->bits) { // pending bits are delivered even after the server has gone
            got = ep->bits;
            ep->bits = 0;
            r = 0;
            break;
        }
        if (!ep->server) {
            r = -MOS_EPIPE;
            break;
        }
        if ((r = ipc_block(&ep->notifyq, timeout_ns, deadline)) < 0)
            break;
    }
    if (r == 0 && copy_to_user(bits, &got, sizeof got) < 0) {
        // Not lost: the bits go back for the next wait.
        ep->bits |= got;
        wq_wake_one(&ep->notifyq, 0);
        r = -MOS_EFAULT;
    }
    irq_restore(f);
    kobj_put(&ep->obj);
    return r;
}
