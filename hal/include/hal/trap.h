// Exceptions and interrupts: every vector enters hal_trap with the saved registers, which
// hands it to the handler the kernel registered.
#pragma once
#include <stdint.h>

struct hal_trapframe {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; // pushed by the CPU
};

typedef void (*hal_trap_handler_t)(struct hal_trapframe *tf);

void hal_trap_set_handler(hal_trap_handler_t handler);
uint64_t hal_read_cr2(void);
// What a page fault (vector 14) was, from its error code.
enum hal_pf_kind {
    HAL_PF_PRESENT = 1, // the page was there: a protection fault, not a missing page
    HAL_PF_WRITE = 2,   // a write (else a read or an instruction fetch)
    HAL_PF_EXEC = 4,    // an instruction fetch
};
unsigned hal_pf_kind(const struct hal_trapframe *tf);
// The exception's short name ("#PF"), or "IRQ" past the first 32 vectors.
const char *hal_trap_name(uint64_t vector);
// Trigger a fault on purpose, for testing the exception path: "ud", "pf", "gp", "de", "bp".
// "int27", "int99", "intff" raise those vectors by software, for the interrupt path: they are
// counted (spurious or unexpected, see hal/irq.h) and return.
int hal_trap_provoke(const char *kind);
