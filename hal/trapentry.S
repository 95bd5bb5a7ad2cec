// One stub per vector: push a zero where the CPU pushes no error code, push the vector,
// save the general registers in struct hal_trapframe order and call hal_trap.

#include "frame.h"

    .text
    .code64

    .balign 16
    .globl hal_vectors
hal_vectors:
    .set i, 0
    .rept 256
    .balign 16
    .if (i == 8 || (i >= 10 && i <= 14) || i == 17 || i == 21 || i == 29 || i == 30)
    .else
    pushq $0
    .endif
    pushq $i
    jmp trap_common
    .set i, i + 1
    .endr

trap_common:
    SAVE_GPRS
    cld
    movq %rsp, %rdi
    call hal_trap
    RESTORE_GPRS
    addq $16, %rsp                             // vector and error code
    iretq

    .section .note.GNU-stack, "", @progbits
