// Kernel stack switching, the first entry of a thread, the way down to ring 3, and the
// syscall instruction's entry and exit.

#include "frame.h"

    .section .text.hot, "ax" // see boot/linker.ld
    .code64

// void hal_context_switch(uint64_t *save_sp, uint64_t new_sp)
    .globl hal_context_switch
hal_context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

// A new thread's first return lands here with entry in r12 and its argument in r13.
    .globl hal_thread_trampoline
hal_thread_trampoline:
    movq %r13, %rdi
    xorl %ebp, %ebp
    callq *%r12
    ud2

// _Noreturn void hal_enter_user(uint64_t rip, uint64_t rsp, uint64_t arg)
    .globl hal_enter_user
hal_enter_user:
    cli
    pushq $0x1b                                // ss: user data | RPL 3
    pushq %rsi                                 // rsp
    pushq $0x202                               // rflags: IF
    pushq $0x23                                // cs: user code | RPL 3
    pushq %rdi                                 // rip
    movq %rdx, %rdi                            // arg: the first argument register
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    iretq

// The syscall instruction: rip in rcx, rflags in r11, interrupts masked by FMASK, still on the
// user stack. One CPU, so the scratch slots are plain globals.
// FIXME: per-CPU slots (swapgs) when a second CPU runs user code.
    .globl hal_syscall_entry
hal_syscall_entry:
    movq %rsp, syscall_user_rsp(%rip)
    movq syscall_kernel_rsp(%rip), %rsp
    pushq $0x1b                                // ss
    pushq syscall_user_rsp(%rip)               // rsp
    pushq %r11                                 // rflags
    pushq $0x23                                // cs
    pushq %rcx                                 // rip
    pushq $0                                   // error
    pushq $0x1000                              // vector: HAL_SYSCALL_VECTOR
    SAVE_GPRS
    cld
    movq %rsp, %rdi
    callq *syscall_handler(%rip)
    cli
    RESTORE_GPRS
    addq $16, %rsp                             // vector, error
    // sysret would load a non-canonical rip in ring 0 and fault there: such a return (only a
    // frame the kernel rewrote could hold one) goes through iretq, which faults in ring 3.
    movq (%rsp), %rcx
    movq %rcx, %r11
    sarq $47, %r11
    jnz 1f
    movq 16(%rsp), %r11                        // rflags
    movq 24(%rsp), %rsp                        // user rsp
    sysretq
1:  iretq

    .section .data.hot, "aw" // see boot/linker.ld
    .balign 8
    .globl syscall_kernel_rsp, syscall_handler
syscall_kernel_rsp: .quad 0
syscall_user_rsp:   .quad 0
syscall_handler:    .quad 0

    .section .note.GNU-stack, "", @progbits
