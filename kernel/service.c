// Service system calls: the kernel knows nothing of services. It stamps the caller's pid on
// each call, forwards it to the service manager's endpoint and blocks the caller until the
// reply. The service manager reaches the caller's buffers only while that call is pending.
#include <kernel/init.h>
#include <kernel/ipc.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <kernel/string.h>
#include <multios/errno.h>
#include <multios/service_types.h>
#include <multios/syscalls.h>
#include <syscall_dispatch.h>

enum { STATE_MAX = 64 * 1024, COPY_CHUNK = 512 };

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
