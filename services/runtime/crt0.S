// The entry point of every C program. The kernel starts a process at _start with the SysV
// initial stack: argc at (%rsp), then argv[0..argc-1], NULL, envp[...], NULL; rsp is
// 16-byte aligned here, so the call below leaves the callee the ABI's alignment.
    .text
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp              // the outermost frame: debuggers stop unwinding here
    mov (%rsp), %rdi            // argc
    lea 8(%rsp), %rsi           // argv
    lea 16(%rsp,%rdi,8), %rdx   // envp: past argv's NULL
    and $-16, %rsp
    call __libmos_start         // never returns: it calls exit(main(...))
    ud2
    .size _start, . - _start

// long mos_syscall6(long nr, long a1, ..., long a6): nr arrives in rdi, a1..a5 in rsi, rdx,
// rcx, r8, r9 and a6 on the stack; the kernel wants nr in rax and a1..a6 in rdi, rsi, rdx,
// r10, r8, r9.
    .globl mos_syscall6
    .type mos_syscall6, @function
mos_syscall6:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    mov 8(%rsp), %r9
    syscall
    ret
    .size mos_syscall6, . - mos_syscall6

    .section .note.GNU-stack, "", @progbits
