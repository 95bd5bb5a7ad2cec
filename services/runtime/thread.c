// Threads on stacks libmos maps: the user side of thread_create.
#include <mos.h>

enum { DEFAULT_STACK = 64 * 1024 };

// A thread made by mos_thread_spawn starts here (see thread_create): rdi holds fn's argument
// and rsp, 16-byte aligned, points at fn at the top of the thread's stack.
void libmos_thread_entry(void);
__asm__(".text\n"
        ".type libmos_thread_entry, @function\n"
        "libmos_thread_entry:\n"
        "    xor %ebp, %ebp\n"
        "    call *(%rsp)\n"
        "    call mos_thread_exit\n"
        "    ud2\n"
        ".size libmos_thread_entry, . - libmos_thread_entry\n");

long mos_thread_spawn(struct mos_thread *t, void (*fn)(void *), void *arg, size_t stack_size) {
    size_t size = stack_size ? (stack_size + 4095) & ~(size_t)4095 : DEFAULT_STACK;
    long stack = mos_mmap_anon(size, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY);
    if (stack < 0)
        return stack;
    // fn sits at the top of the stack, where libmos_thread_entry calls it from.
    uintptr_t sp = (uintptr_t)stack + size - 16;
    *(void (**)(void *))sp = fn;
    long tid = mos_thread_create((uintptr_t)libmos_thread_entry, sp, (uintptr_t)arg);
    if (tid < 0) {
        mos_munmap((uintptr_t)stack, size);
        return tid;
    }
    *t = (struct mos_thread){.tid = tid, .stack = (uintptr_t)stack, .stack_size = size};
    return tid;
}

long mos_thread_collect(struct mos_thread *t) {
    long r = mos_thread_join(t->tid);
    // The kernel keeps no record of ended threads: ESRCH for our own tid means it ended first.
    if (r < 0 && r != -MOS_ESRCH)
        return r;
    mos_munmap(t->stack, t->stack_size);
    t->stack = 0;
    return 0;
}
