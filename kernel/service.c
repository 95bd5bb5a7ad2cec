// Service system calls: the kernel knows nothing of services. It stamps the caller's pid on
// each call, forwards it to the service manager's endpoint and blocks the caller until the
// reply. The service manager reaches the caller's buffers only while that call is pending.
#include <kernel/init.h>
#include <kernel/ipc.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <multios/errno.h>
#include <multios/service_types.h>
#include <multios/syscalls.h>
#include <syscall_dispatch.h>

enum { STATE_MAX = 64 * 1024, COPY_CHUNK = 512, EXITS_MAX = 1024, OUTPUT_MAX = 64 * 1024 };

static struct kobj *endpoint; // the service manager's, while it runs
static long manager_pid;
static void *saved_state;     // svcmgr_save's blob, kept across service-manager restarts
static size_t saved_len;

static long forward(uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2) {
    struct process *p = proc_current();
    struct kobj *ep = endpoint;
    if (!ep || p->pid == manager_pid)
        return -ServiceTimeout; // no service manager (or it called itself: it would deadlock)
    kobj_get(ep);
    struct mos_msg m;
    memset(&m, 0, sizeof m);
    m.tag = op;
    m.words[0] = a0;
    m.words[1] = a1;
    m.words[2] = a2;
    p->in_service_call = true;
    long r = ipc_kcall(ep, &m);
    p->in_service_call = false;
    kobj_put(ep);
    if (r < 0)
        return -ServiceTimeout; // the service manager died or went away during the call
    long result = (long)m.words[0];
    // Whatever the manager answers stays inside the service domain.
    return result < -CircularDependency ? -ServiceFailed : result;
}

long ksys_create_service(const struct service_create_params *params) {
    return forward(SYS_create_service, (uint64_t)params, 0, 0);
}
long ksys_start_service(service_id_t id) { return forward(SYS_start_service, id, 0, 0); }
long ksys_stop_service(service_id_t id) { return forward(SYS_stop_service, id, 0, 0); }
long ksys_restart_service(service_id_t id) { return forward(SYS_restart_service, id, 0, 0); }
long ksys_enable_service(service_id_t id) { return forward(SYS_enable_service, id, 0, 0); }
long ksys_disable_service(service_id_t id) { return forward(SYS_disable_service, id, 0, 0); }
long ksys_pause_service(service_id_t id) { return forward(SYS_pause_service, id, 0, 0); }
long ksys_resume_service(service_id_t id) { return forward(SYS_resume_service, id, 0, 0); }
long ksys_discover_services(const char *pattern, service_id_t *ids, size_t max) {
    return forward(SYS_discover_services, (uint64_t)pattern, (uint64_t)ids, max);
}
long ksys_lookup_service(const char *name) { return forward(SYS_lookup_service, (uint64_t)name, 0, 0); }
long ksys_service_status(service_id_t id, struct service_status *out) {
    return forward(SYS_service_status, id, (uint64_t)out, 0);
}
long ksys_notify_ready(void) { return forward(SYS_notify_ready, 0, 0, 0); }
long ksys_subscribe_services(const char *pattern, unsigned events) {
    return forward(SYS_subscribe_services, (uint64_t)pattern, events, 0);
}
long ksys_service_query(const char *request_str, char *reply, size_t max) {
    return forward(SYS_service_query, (uint64_t)request_str, (uint64_t)reply, max);
}

// --- the service manager's side ----------------------------------------------------------

static bool is_manager(void) { return proc_current()->pid == init_manager_pid(); }

long ksys_svcmgr_register(int h) {
    if (!is_manager())
        return -MOS_EPERM;
    struct kobj *o = handle_lookup(proc_current(), h, KOBJ_ENDPOINT);
    if (!o)
        return -MOS_EBADF;
    kobj_get(o);
    struct kobj *old = endpoint;
    endpoint = o;
    manager_pid = proc_current()->pid;
    if (old)
        kobj_put(old);
    klog("kernel: service calls go to pid %ld\n", manager_pid);
    return 0;
}

void service_manager_exited(void) {
    struct kobj *old = endpoint;
    endpoint = NULL;
    manager_pid = 0;
    if (old)
        kobj_put(old);
}

// Copy between the service manager and a process blocked in a service call, through a
// bounce buffer: one side's memory is active, the other's is reached through its page tables.
static long caller_copy(long pid, uint64_t caller_addr, uint64_t own_addr, size_t len, bool to_caller) {
    if (!is_manager())
        return -MOS_EPERM;
    struct process *target = proc_find(pid);
    if (!target || !target->in_service_call || !target->vm)
        return -MOS_ESRCH;
    char chunk[COPY_CHUNK];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        long r;
        if (to_caller) {
            r = copy_from_user(chunk, (const void *)(own_addr + done), n);
            if (r == 0)
                r = vm_write_checked(target->vm, caller_addr + done, chunk, n);
        } else {
            r = vm_read(target->vm, caller_addr + done, chunk, n);
            if (r == 0)
                r = copy_to_user((void *)(own_addr + done), chunk, n);
        }
        if (r < 0)
            return r;
        done += n;
    }
    return (long)len;
}

long ksys_svcmgr_read(long pid, uintptr_t src, void *buf, size_t len) {
    return caller_copy(pid, src, (uint64_t)buf, len, false);
}

long ksys_svcmgr_write(long pid, uintptr_t dst, const void *buf, size_t len) {
    return caller_copy(pid, dst, (uint64_t)buf, len, true);
}

long ksys_svcmgr_adopt(long pid) {
    if (!is_manager())
        return -MOS_EPERM;
    return proc_adopt(proc_current(), pid);
}

long ksys_svcmgr_save(const void *buf, size_t len) {
    if (!is_manager())
        return -MOS_EPERM;
    if (len > STATE_MAX)
        return -MOS_EINVAL;
    void *copy = len ? kmalloc(len) : NULL;
    if (len && !copy)
        return -MOS_ENOMEM;
    if (len && copy_from_user(copy, buf, len) < 0) {
        kfree(copy);
        return -MOS_EFAULT;
    }
    kfree(saved_state);
    saved_state = copy;
    saved_len = len;
    return 0;
}

long ksys_svcmgr_load(void *buf, size_t max) {
    if (!is_manager())
        return -MOS_EPERM;
    size_t n = saved_len < max ? saved_len : max;
    if (n && copy_to_user(buf, saved_state, n) < 0)
        return -MOS_EFAULT;
    return (long)saved_len;
}

// --- telling the service manager its children ended --------------------------------------
// proc_exit_current records the exit; a kernel thread delivers it as a call from the kernel
// (sender 0), so the manager hears of every exit as it happens, in order, while it waits for
// calls. Exits wait here while the manager is between lives.

static struct {
    long pid;
    int status;
} exits[EXITS_MAX];
static unsigned exits_head, exits_tail;
static struct wait_queue exits_wq;

void service_child_exited(struct process *parent, long pid, int status) {
    if (!parent || parent->pid != manager_pid)
        return;
    unsigned long f = irq_save();
    if (exits_head - exits_tail < EXITS_MAX) {
        exits[exits_head % EXITS_MAX].pid = pid;
        exits[exits_head % EXITS_MAX].status = status;
        exits_head++;
    } else {
        klog("kernel: service manager's exit queue full; exit of pid %ld not delivered\n", pid);
    }
    wq_wake_all(&exits_wq, 0);
    irq_restore(f);
}

// Services' output, as records: pid (8 bytes), stream (1), length (1), then the bytes. A full
// ring drops new output and counts it; the count travels with the next record delivered.
static uint8_t output[OUTPUT_MAX];
static uint64_t out_head, out_tail, out_dropped;

void service_output(long pid, int stream, const char *buf, size_t len) {
    unsigned long f = irq_save();
    if (!endpoint) {
        irq_restore(f);
        return;
    }
    while (len) {
        size_t n = len < MOS_MSG_DATA_MAX ? len : MOS_MSG_DATA_MAX;
        if (OUTPUT_MAX - (out_head - out_tail) < 10 + n) {
            out_dropped += len;
            break;
        }
        uint8_t rec[10];
        memcpy(rec, &pid, 8);
        rec[8] = (uint8_t)stream;
        rec[9] = (uint8_t)n;
        for (size_t i = 0; i < 10; i++)
            output[out_head++ % OUTPUT_MAX] = rec[i];
        for (size_t i = 0; i < n; i++)
            output[out_head++ % OUTPUT_MAX] = (uint8_t)buf[i];
        buf += n, len -= n;
    }
    wq_wake_all(&exits_wq, 0);
    irq_restore(f);
}

// Take the next output record into M (interrupts off); false when there is none.
static bool next_output(struct mos_msg *m, uint64_t *consumed) {
    if (out_head == out_tail)
        return false;
    uint8_t rec[10];
    for (size_t i = 0; i < 10; i++)
        rec[i] = output[(out_tail + i) % OUTPUT_MAX];
    int64_t pid;
    memcpy(&pid, rec, 8);
    memset(m, 0, sizeof *m);
    m->tag = SERVICE_KMSG_OUTPUT;
    m->len = rec[9];
    m->words[0] = (uint64_t)pid;
    m->words[1] = rec[8];
    m->words[2] = out_dropped;
    for (size_t i = 0; i < m->len; i++)
        m->data[i] = output[(out_tail + 10 + i) % OUTPUT_MAX];
    *consumed = 10 + m->len;
    return true;
}

static void notifier(void *arg) {
    (void)arg;
    for (;;) {
        unsigned long f = irq_save();
        while ((exits_head == exits_tail && out_head == out_tail) || !endpoint)
            wq_wait(&exits_wq, endpoint ? WAIT_FOREVER : 100 * 1000 * 1000ull);
        // Output first: a service's last words come before the news of its end.
        struct mos_msg m;
        uint64_t consumed = 0;
        bool is_output = next_output(&m, &consumed);
        if (is_output) {
            out_dropped = 0;
        } else {
            memset(&m, 0, sizeof m);
            m.tag = SERVICE_KMSG_CHILD_EXIT;
            m.words[0] = (uint64_t)exits[exits_tail % EXITS_MAX].pid;
            m.words[1] = (uint64_t)(int64_t)exits[exits_tail % EXITS_MAX].status;
        }
        struct kobj *ep = endpoint;
        kobj_get(ep);
        irq_restore(f);
        long r = ipc_kcall(ep, &m);
        kobj_put(ep);
        if (r == 0 && is_output)
            out_tail += consumed;
        else if (r == 0)
            exits_tail++; // delivered; if the manager died meanwhile, its successor gets it
        else
            sched_sleep_ns(10 * 1000 * 1000ull);
    }
}

void service_init(void) {
    wq_init(&exits_wq);
    struct thread *t = thread_create("svcnotify", NULL, PRIO_SYSTEM, notifier, NULL);
    if (!t)
        panic("cannot create the service notifier thread");
    thread_make_ready(t);
}
