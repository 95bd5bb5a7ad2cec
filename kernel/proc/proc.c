// Processes: spawn from the initrd, exit, wait, kill, suspend/resume, priorities, and the
// threads of a process.
#include <hal/context.h>
#include <kernel/console.h>
#include <kernel/elf.h>
#include <kernel/init.h>
#include <kernel/initrd.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <multios/errno.h>
#include <multios/syscalls.h>

enum { MAX_PROCS = 4096, USER_STACK_SIZE = 256 * 1024, ARGS_MAX = 64 * 1024, ARGC_MAX = 256 };

static struct list_head procs = LIST_INIT(procs);
static int nprocs;
static long next_pid = 1;
// Children of the kernel itself (ppid 0): programs started by mos.run, and orphans.
static struct wait_queue kernel_children;

// Where a user thread starts: its first instruction, stack pointer and rdi.
struct start {
    uint64_t entry, sp, arg;
};

__attribute__((weak)) void ipc_process_exit(struct process *p) { (void)p; }

void proc_init(void) { wq_init(&kernel_children); }

struct process *proc_find(long pid) {
    list_for_each(pos, &procs) {
        struct process *p = list_entry(pos, struct process, link);
        if (p->pid == pid)
            return p;
    }
    return NULL;
}

static void user_start(void *arg) {
    struct start s = *(struct start *)arg;
    kfree(arg);
    // A thread created just before its process was killed never reaches ring 3.
    if (proc_current()->killed)
        proc_exit_current(MOS_STATUS_KILLED);
    hal_enter_user(s.entry, s.sp, s.arg);
}

// The initial stack, System V style: argc, argv[], NULL, envp[], NULL, an empty auxv, then
// the strings. rsp is 16-byte aligned at argc.
static long build_stack(struct vm_space *vs, char *const *argv, int argc, char *const *envp, int envc, uint64_t *sp) {
    size_t strings = 0;
    for (int i = 0; i < argc; i++)
        strings += strlen(argv[i]) + 1;
    for (int i = 0; i < envc; i++)
        strings += strlen(envp[i]) + 1;
    size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2;
    size_t total = ((words * 8 + strings) + 15) & ~15ull;
    uint8_t *block = kzalloc(total);
    if (!block)
        return -MOS_ENOMEM;
    uint64_t base = USER_STACK_TOP - total;
    uint64_t *w = (uint64_t *)block;
    char *str = (char *)block + words * 8;
    uint64_t str_va = base + words * 8;
    *w++ = (uint64_t)argc;
    for (int pass = 0; pass < 2; pass++) {
        char *const *list = pass ? envp : argv;
        int n = pass ? envc : argc;
        for (int i = 0; i < n; i++) {
            size_t len = strlen(list[i]) + 1;
            memcpy(str, list[i], len);
            *w++ = str_va;
            str += len;
            str_va += len;
        }
        *w++ = 0;
    }
    *w++ = 0; // AT_NULL
    *w++ = 0;
    long r = vm_write(vs, base, block, total);
    kfree(block);
    *sp = base;
    return r;
}

static void free_process(struct process *p) {
    list_del(&p->link);
    nprocs--;
    kfree(p);
}

long proc_spawn(struct process *parent, const char *path, char *const *argv, int argc, char *const *envp, int envc) {
    const struct initrd_file *f = initrd_lookup(path);
    if (!f)
        return -MOS_ENOENT;
    if (initrd_is_dir(f))
        return -MOS_ENOEXEC;
    if (nprocs >= MAX_PROCS)
        return -MOS_EAGAIN;
    struct process *p = kzalloc(sizeof *p);
    struct start *start = kzalloc(sizeof *start);
    if (!p || !start) {
        kfree(p);
        kfree(start);
        return -MOS_ENOMEM;
    }
    p->vm = vm_create();
    long r = p->vm ? 0 : -MOS_ENOMEM;
    if (r == 0)
        r = elf_load(p->vm, f->data, f->size, &start->entry);
    if (r == 0)
        r = vm_alloc(p->vm, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE,
                     VM_READ | VM_WRITE | VM_USER | VM_LAZY); // most programs touch a few pages of it
    if (r == 0)
        r = build_stack(p->vm, argv, argc, envp, envc, &start->sp);
    if (r < 0) {
        if (p->vm)
            vm_destroy(p->vm);
        kfree(p);
        kfree(start);
        return r;
    }
    const char *base = path + strlen(path);
    while (base > path && base[-1] != '/')
        base--;
    strlcpy(p->name, base, sizeof p->name);
    p->ppid = parent ? parent->pid : 0;
    p->prio = PRIO_NORMAL;
    p->state = MOS_PROC_READY;
    list_init(&p->threads);
    wq_init(&p->child_exit);
    wq_init(&p->thread_ended);
    files_install_std(p, parent && parent->pid == init_manager_pid());
    unsigned long fl = irq_save();
    p->pid = next_pid++;
    list_add_tail(&p->link, &procs);
    nprocs++;
    irq_restore(fl);
    struct thread *t = thread_create(p->name, p, p->prio, user_start, start);
    if (!t) {
        for (int h = 0; h < HANDLES_MAX; h++)
            handle_close(p, h);
        vm_destroy(p->vm);
        kfree(start);
        fl = irq_save();
        free_process(p);
        irq_restore(fl);
        return -MOS_ENOMEM;
    }
    list_add_tail(&t->proc_link, &p->threads);
    thread_make_ready(t);
    return p->pid;
}

static void for_threads(struct process *p, void (*fn)(struct thread *)) {
    list_for_each(pos, &p->threads) fn(list_entry(pos, struct thread, proc_link));
}

// Cut T's wait short (thread_interrupt leaves the running caller alone).
static void interrupt_thread(struct thread *t) { thread_interrupt(t, -MOS_EINTR); }

// Interrupts off. Unless T is the last thread of P, take it out of P and end it here; the last
// thread is the one that tears the process down.
static void leave_unless_last(struct process *p, struct thread *t) {
    if (p->threads.next == &t->proc_link && p->threads.prev == &t->proc_link)
        return;
    list_del(&t->proc_link);
    t->proc = NULL;
    wq_wake_all(&p->thread_ended, 0);
    thread_exit();
}

_Noreturn void proc_exit_current(int status) {
    struct thread *t = thread_current();
    struct process *p = t->proc;
    if (!p)
        thread_exit();
    unsigned long f = irq_save();
    if (!p->exiting) {
        p->exiting = true;
        p->exit_status = status;
        p->killed = true;
        for_threads(p, interrupt_thread); // blocked ones return MOS_EINTR and leave on their way out
    }
    leave_unless_last(p, t);
    irq_restore(f);
    ipc_process_exit(p);
    for (int h = 0; h < HANDLES_MAX; h++)
        if (p->handles[h])
            handle_close(p, h);
    vm_activate(NULL);
    vm_destroy(p->vm);
    f = irq_save();
    p->vm = NULL;
    list_del(&t->proc_link);
    t->proc = NULL; // the process may be freed by its parent as soon as we block
    p->state = MOS_PROC_ZOMBIE;
    // Orphans become the kernel's children; zombies among them are collected by the kernel.
    bool orphans = false;
    list_for_each(pos, &procs) {
        struct process *c = list_entry(pos, struct process, link);
        if (c->ppid == p->pid) {
            c->ppid = 0;
            orphans = true;
        }
    }
    struct process *parent = p->ppid ? proc_find(p->ppid) : NULL;
    if (!parent)
        p->ppid = 0;
    service_child_exited(parent, p->pid, p->exit_status);
    wq_wake_all(parent ? &parent->child_exit : &kernel_children, 0);
    if (orphans)
        wq_wake_all(&kernel_children, 0);
    irq_restore(f);
    thread_exit();
}

long proc_wait(struct process *parent, long pid, int *status) {
    long ppid = parent ? parent->pid : 0;
    for (;;) {
        unsigned long f = irq_save();
        bool has_child = false;
        list_for_each(pos, &procs) {
            struct process *c = list_entry(pos, struct process, link);
            if (c->ppid != ppid || (pid != -1 && c->pid != pid))
                continue;
            has_child = true;
            if (c->state != MOS_PROC_ZOMBIE)
                continue;
            long cpid = c->pid;
            *status = c->exit_status;
            free_process(c);
            irq_restore(f);
            return cpid;
        }
        if (!has_child) {
            irq_restore(f);
            return -MOS_ECHILD;
        }
        long r = wq_wait(parent ? &parent->child_exit : &kernel_children, WAIT_FOREVER);
        irq_restore(f);
        if (r == -MOS_EINTR)
            return r;
    }
}

long proc_adopt(struct process *parent, long pid) {
    unsigned long f = irq_save();
    struct process *p = proc_find(pid);
    long r = -MOS_ESRCH;
    if (p && p->ppid == 0 && p != parent) {
        p->ppid = parent->pid;
        r = 0;
        if (p->state == MOS_PROC_ZOMBIE)
            wq_wake_all(&parent->child_exit, 0);
    }
    irq_restore(f);
    return r;
}

long proc_kill(long pid) {
    struct process *p = proc_find(pid);
    if (!p || p->state == MOS_PROC_ZOMBIE)
        return -MOS_ESRCH;
    if (p == proc_current())
        proc_exit_current(MOS_STATUS_KILLED);
    unsigned long f = irq_save();
    p->killed = true;
    for_threads(p, interrupt_thread);
    irq_restore(f);
    return 0;
}

// --- system calls ----------------------------------------------------------------------------
#include <syscall_dispatch.h>

long ksys_exit(int status) { proc_exit_current(status & 0xff); }

long ksys_thread_create(uintptr_t entry, uintptr_t stack, uintptr_t arg) {
    // Only addresses user space could map; whether anything is mapped there is the thread's
    // problem (a fault ends the process, as a bad jump would).
    if (entry < USER_IMAGE_BASE || entry >= USER_TOP || stack <= USER_IMAGE_BASE || stack > USER_TOP)
        return -MOS_EINVAL;
    struct process *p = proc_current();
    struct start *s = kmalloc(sizeof *s);
    if (!s)
        return -MOS_ENOMEM;
    *s = (struct start){.entry = entry, .sp = stack, .arg = arg};
    // Counting and adding in one step keeps two threads creating at once under the limit
    // (thread_create only allocates: it never waits).
    unsigned long f = irq_save();
    long n = 0;
    list_for_each(pos, &p->threads) n++;
    struct thread *t = n < MOS_THREADS_MAX ? thread_create(p->name, p, p->prio, user_start, s) : NULL;
    long tid = t ? t->tid : 0; // read now: once ready, the thread may end and be freed
    if (t) {
        list_add_tail(&t->proc_link, &p->threads);
        thread_make_ready(t);
    }
    irq_restore(f);
    if (!t) {
        kfree(s);
        return n < MOS_THREADS_MAX ? -MOS_ENOMEM : -MOS_EAGAIN;
    }
    return tid;
}

long ksys_thread_exit(void) {
    struct thread *t = thread_current();
    struct process *p = t->proc;
    unsigned long f = irq_save();
    leave_unless_last(p, t);
    irq_restore(f);
    proc_exit_current(0); // the last thread: the process ends as if it had called exit(0)
}

static bool has_thread(struct process *p, long tid) {
    list_for_each(pos, &p->threads) if (list_entry(pos, struct thread, proc_link)->tid == tid) return true;
    return false;
}

long ksys_thread_join(long tid) {
    if (tid == thread_current()->tid)
        return -MOS_EINVAL;
    struct process *p = proc_current();
    unsigned long f = irq_save();
    if (!has_thread(p, tid)) {
        irq_restore(f);
        return -MOS_ESRCH;
    }
    long r = 0;
    while (r == 0 && has_thread(p, tid))
        r = wq_wait(&p->thread_ended, WAIT_FOREVER);
    irq_restore(f);
    return r;
}

long ksys_getpid(void) { return proc_current()->pid; }
long ksys_yield(void) {
    sched_yield();
    return 0;
}
long ksys_sleep_ns(uint64_t ns) { return sched_sleep_ns(ns); }
long ksys_kill(long pid) { return proc_kill(pid); }

long ksys_wait(long pid, int *status) {
    if (status && !user_range_ok((uint64_t)status, sizeof *status))
        return -MOS_EFAULT;
    int st = 0;
    long r = proc_wait(proc_current(), pid, &st);
    if (r >= 0 && status && copy_to_user(status, &st, sizeof st) < 0)
        return -MOS_EFAULT;
    return r;
}

// Copy a NULL-terminated user array of strings into one kernel buffer.
static long copy_strv(const char *const *uv, char **vec, int *count, char *buf, size_t *used) {
    *count = 0;
    if (!uv)
        return 0;
    for (;;) {
        const char *s;
        if (copy_from_user(&s, uv + *count, sizeof s) < 0)
            return -MOS_EFAULT;
        if (!s)
            return 0;
        if (*count >= ARGC_MAX)
            return -MOS_E2BIG;
        long n = strncpy_from_user(buf + *used, s, ARGS_MAX - *used);
        if (n == -MOS_ENAMETOOLONG)
            return -MOS_E2BIG;
        if (n < 0)
            return n;
        vec[(*count)++] = buf + *used;
        *used += (size_t)n + 1;
    }
}

long ksys_spawn(const char *path, const char *const *argv, const char *const *envp) {
    char kpath[MOS_PATH_MAX];
    long r = strncpy_from_user(kpath, path, sizeof kpath);
    if (r < 0)
        return r;
    char *buf = kmalloc(ARGS_MAX);
    char **vec = kmalloc(sizeof(char *) * 2 * (ARGC_MAX + 1));
    if (!buf || !vec) {
        kfree(buf);
        kfree(vec);
        return -MOS_ENOMEM;
    }
    size_t used = 0;
    int argc = 0, envc = 0;
    r = copy_strv(argv, vec, &argc, buf, &used);
    if (r == 0)
        r = copy_strv(envp, vec + ARGC_MAX + 1, &envc, buf, &used);
    if (r == 0) {
        char *fallback[1] = {kpath};
        r = proc_spawn(proc_current(), kpath, argc ? vec : fallback, argc ? argc : 1, vec + ARGC_MAX + 1, envc);
    }
    kfree(buf);
    kfree(vec);
    return r;
}

static uint32_t proc_state(struct process *p);

static void suspend_thread(struct thread *t) { thread_suspend(t); }
static void resume_thread(struct thread *t) { thread_resume(t); }

long ksys_suspend(long pid) {
    struct process *p = proc_find(pid);
    if (!p || p->state == MOS_PROC_ZOMBIE)
        return -MOS_ESRCH;
    if (p == proc_current())
        return -MOS_EINVAL;
    if (p->pid == 1)
        return -MOS_EPERM; // the first program (the service manager) is never stopped
    for_threads(p, suspend_thread);
    return 0;
}

long ksys_resume(long pid) {
    struct process *p = proc_find(pid);
    if (!p || p->state == MOS_PROC_ZOMBIE)
        return -MOS_ESRCH;
    if (proc_state(p) != MOS_PROC_SUSPENDED)
        return -MOS_EINVAL;
    for_threads(p, resume_thread);
    return 0;
}

static enum prio_band new_band;
static void set_band(struct thread *t) { thread_set_band(t, new_band); }

long ksys_set_priority(long pid, int band) {
    if (band < 0 || band >= PRIO_BANDS)
        return -MOS_EINVAL;
    struct process *p = proc_find(pid);
    if (!p || p->state == MOS_PROC_ZOMBIE)
        return -MOS_ESRCH;
    unsigned long f = irq_save();
    p->prio = (enum prio_band)band;
    new_band = p->prio;
    for_threads(p, set_band);
    irq_restore(f);
    return 0;
}

static uint32_t proc_state(struct process *p) {
    if (p->state == MOS_PROC_ZOMBIE || list_empty(&p->threads))
        return MOS_PROC_ZOMBIE;
    struct thread *t = list_entry(p->threads.next, struct thread, proc_link);
    switch (t->state) {
    case T_RUNNING:
        return MOS_PROC_RUNNING;
    case T_READY:
        return MOS_PROC_READY;
    case T_SUSPENDED:
        return MOS_PROC_SUSPENDED;
    default:
        return t->suspend_pending ? MOS_PROC_SUSPENDED : MOS_PROC_BLOCKED;
    }
}

long ksys_proc_info(long index, struct mos_proc_info *out) {
    if (index < 0)
        return -MOS_EINVAL;
    if (!user_range_ok((uint64_t)out, sizeof *out))
        return -MOS_EFAULT;
    struct mos_proc_info info;
    memset(&info, 0, sizeof info);
    unsigned long f = irq_save();
    struct process *found = NULL;
    long i = 0;
    list_for_each(pos, &procs) {
        if (i++ == index) {
            found = list_entry(pos, struct process, link);
            break;
        }
    }
    if (found) {
        info.pid = found->pid;
        info.ppid = found->ppid;
        info.cpu_ns = found->cpu_ns;
        info.mem_bytes = found->vm ? vm_pages(found->vm) * PAGE_SIZE : 0;
        info.fault_addr = found->fault_addr;
        info.state = proc_state(found);
        info.priority = found->prio;
        info.exit_status = found->state == MOS_PROC_ZOMBIE ? found->exit_status : 0;
        strlcpy(info.name, found->name, sizeof info.name);
    }
    irq_restore(f);
    if (!found)
        return -MOS_ESRCH;
    return copy_to_user(out, &info, sizeof info) < 0 ? -MOS_EFAULT : 0;
}
