#include <hal/context.h>
#include <stdint.h>
#include "internal.h"

enum { MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_FMASK = 0xc0000084 };
enum { RFLAGS_IF = 0x200, RFLAGS_DF = 0x400, RFLAGS_TF = 0x100, RFLAGS_AC = 0x40000 };

extern char hal_thread_trampoline[], hal_syscall_entry[];
extern uint64_t syscall_kernel_rsp;
extern void (*syscall_handler)(struct hal_trapframe *);

static void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void hal_fpu_init_state(struct hal_fpu_state *s) {
    for (unsigned i = 0; i < sizeof s->bytes; i++)
        s->bytes[i] = 0;
    // fxsave layout: FCW at 0 (0x037f: all x87 exceptions masked), MXCSR at 24 (0x1f80: all
    // SSE exceptions masked, round to nearest).
    s->bytes[0] = 0x7f;
    s->bytes[1] = 0x03;
    s->bytes[24] = 0x80;
    s->bytes[25] = 0x1f;
}

void hal_fpu_save(struct hal_fpu_state *s) { __asm__ volatile("fxsave64 %0" : "=m"(*s)); }

void hal_fpu_restore(const struct hal_fpu_state *s) { __asm__ volatile("fxrstor64 %0" : : "m"(*s)); }

uint64_t hal_context_init(void *stack_top, void (*entry)(void *), void *arg) {
    uint64_t *sp = (uint64_t *)((uint64_t)stack_top & ~15ull);
    *--sp = 0;                                // keeps the trampoline's call 16-byte aligned
    *--sp = (uint64_t)hal_thread_trampoline;  // hal_context_switch's ret
    *--sp = 0;                                // rbp
    *--sp = 0;                                // rbx
    *--sp = (uint64_t)entry;                  // r12
    *--sp = (uint64_t)arg;                    // r13
    *--sp = 0;                                // r14
    *--sp = 0;                                // r15
    return (uint64_t)sp;
}

void hal_set_kernel_stack(uint64_t top) {
    cpu_set_rsp0(top);
    syscall_kernel_rsp = top;
}

void hal_syscall_init(void (*handler)(struct hal_trapframe *tf)) {
    syscall_handler = handler;
    // STAR: syscall loads CS 0x08 / SS 0x10; sysret loads CS 0x10+16 | 3, SS 0x10+8 | 3.
    wrmsr(MSR_STAR, (uint64_t)0x10 << 48 | (uint64_t)0x08 << 32);
    wrmsr(MSR_LSTAR, (uint64_t)hal_syscall_entry);
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC);
}
