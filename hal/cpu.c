// Descriptor tables: the GDT with a TSS, and an IDT whose every vector lands in hal_trap.
#include <hal/cpu.h>
#include <hal/trap.h>
#include <stddef.h>
#include <stdint.h>
#include "internal.h"

struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};

struct __attribute__((packed)) table_ptr {
    uint16_t limit;
    uint64_t base;
};

// Selector order is fixed by syscall/sysret: user data must sit 8 below user code.
static uint64_t gdt[7] = {
    0,
    0x00af9a000000ffff, // 0x08 kernel code
    0x00cf92000000ffff, // 0x10 kernel data
    0x00cff2000000ffff, // 0x18 user data
    0x00affa000000ffff, // 0x20 user code
    0, 0,               // 0x28 TSS (16 bytes)
};
static struct tss tss;
static struct idt_gate idt[256];
static uint8_t double_fault_stack[8192] __attribute__((aligned(16)));
extern char hal_vectors[];

static void load_gdt(void) {
    uint64_t base = (uint64_t)&tss;
    uint64_t limit = sizeof tss - 1;
    gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 | ((limit >> 16) & 0xf) << 48 |
             ((base >> 24) & 0xff) << 56;
    gdt[6] = base >> 32;
    struct table_ptr p = {sizeof gdt - 1, (uint64_t)gdt};
    __asm__ volatile("lgdt %0\n"
                     "pushq $0x08\n"
                     "leaq 1f(%%rip), %%rax\n"
                     "pushq %%rax\n"
                     "lretq\n"
                     "1: movw $0x10, %%ax\n"
                     "movw %%ax, %%ds\n"
                     "movw %%ax, %%es\n"
                     "movw %%ax, %%ss\n"
                     :
                     : "m"(p)
                     : "rax", "memory");
    __asm__ volatile("ltr %w0" : : "r"(0x28));
}

static void load_idt(void) {
    for (int v = 0; v < 256; v++) {
        uint64_t addr = (uint64_t)(hal_vectors + 16 * v);
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)addr,
            .selector = 0x08,
            // A double fault may come from a broken stack: give it a known good one.
            .ist = v == 8 ? 1 : 0,
            .type_attr = 0x8e, // present, ring 0, interrupt gate
            .offset_mid = (uint16_t)(addr >> 16),
            .offset_high = (uint32_t)(addr >> 32),
        };
    }
    struct table_ptr p = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(p));
}

void cpu_set_rsp0(uint64_t top) { tss.rsp[0] = top; }

void cpu_init(void) {
    tss.ist[0] = (uint64_t)(double_fault_stack + sizeof double_fault_stack);
    tss.iomap_base = sizeof tss;
    load_gdt();
    load_idt();
}

_Noreturn void hal_halt_forever(void) {
    for (;;)
        __asm__ volatile("cli; hlt");
}

uint64_t hal_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

void hal_cpu_relax(void) { __asm__ volatile("pause"); }
