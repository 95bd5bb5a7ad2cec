#include <hal/cpu.h>
#include <hal/trap.h>
#include <stddef.h>
#include "intr.h"

static hal_trap_handler_t handler;

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

void hal_trap_set_handler(hal_trap_handler_t h) { handler = h; }

const char *hal_trap_name(uint64_t vector) { return vector < 32 ? names[vector] : "IRQ"; }

uint64_t hal_read_cr2(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

unsigned hal_pf_kind(const struct hal_trapframe *tf) {
    // The error code's bits: 0 present (protection violation), 1 write, 4 instruction fetch.
    return (tf->error & 1 ? HAL_PF_PRESENT : 0) | (tf->error & 2 ? HAL_PF_WRITE : 0) |
           (tf->error & 16 ? HAL_PF_EXEC : 0);
}

void hal_trap(struct hal_trapframe *tf) {
    // User code may set AC; with SMAP on, a kernel handler running with AC set could touch
    // user memory unchecked. The interrupt gate does not clear it, so clear it here.
    if ((tf->cs & 3) == 3)
        __asm__ volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
    // Interrupts go to the HAL's dispatch (and from there the exit hook); exceptions to the kernel.
    if (tf->vector >= 32 && tf->vector < 256) {
        irq_dispatch(tf);
        return;
    }
    if (handler)
        handler(tf);
    else
        hal_halt_forever();
}

static int streq(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

int hal_trap_provoke(const char *kind) {
    if (streq(kind, "ud"))
        __asm__ volatile("ud2");
    else if (streq(kind, "pf"))
        *(volatile int *)0x400000000000ull = 1; // not mapped by the boot tables
    else if (streq(kind, "gp"))
        __asm__ volatile("movq $0x8000000000000000, %%rax; movq (%%rax), %%rax" : : : "rax");
    else if (streq(kind, "de"))
        __asm__ volatile("xorl %%ecx, %%ecx; movl $1, %%eax; cltd; idivl %%ecx" : : : "eax", "ecx", "edx");
    else if (streq(kind, "bp"))
        __asm__ volatile("int3");
    else if (streq(kind, "int27"))
        __asm__ volatile("int $0x27");
    else if (streq(kind, "int99"))
        __asm__ volatile("int $0x99");
    else if (streq(kind, "intff"))
        __asm__ volatile("int $0xff");
    else
        return -1;
    return 0;
}
