// Threads at the CPU level: kernel stack switches, the user's SSE/x87 state, entering ring 3,
// and the syscall instruction's entry.
#pragma once
#include <hal/trap.h>
#include <stdint.h>

// The x87/SSE state saved with fxsave. User programs use SSE (MicroPython's floats); the kernel
// never does, so it is saved and restored only when the CPU changes threads.
struct hal_fpu_state {
    uint8_t bytes[512];
} __attribute__((aligned(16)));

void hal_fpu_init_state(struct hal_fpu_state *s); // a clean state: x87 reset, MXCSR default
void hal_fpu_save(struct hal_fpu_state *s);
void hal_fpu_restore(const struct hal_fpu_state *s);

// Save the callee-saved registers on the current stack, store its stack pointer in *save_sp,
// switch to new_sp and restore what that stack saved. Returns when something switches back.
void hal_context_switch(uint64_t *save_sp, uint64_t new_sp);
// Prepare a fresh kernel stack so that switching to the returned stack pointer calls
// entry(arg) with interrupts off. entry must not return.
uint64_t hal_context_init(void *stack_top, void (*entry)(void *), void *arg);

// The kernel stack used when the CPU comes in from ring 3 (interrupts and syscalls).
void hal_set_kernel_stack(uint64_t top);
// Drop to ring 3 at rip with the given stack and arg in rdi, interrupts on, every other
// register zero.
_Noreturn void hal_enter_user(uint64_t rip, uint64_t rsp, uint64_t arg);
// Route the syscall instruction to HANDLER: it gets the caller's registers as a trap frame
// (vector HAL_SYSCALL_VECTOR: rax the number, rdi rsi rdx r10 r8 r9 the arguments) and
// leaves the result in tf->rax. rcx and r11 are clobbered, as the instruction requires.
#define HAL_SYSCALL_VECTOR 0x1000
void hal_syscall_init(void (*handler)(struct hal_trapframe *tf));
// True when the frame came from ring 3.
static inline int hal_trap_from_user(const struct hal_trapframe *tf) { return (tf->cs & 3) == 3; }
