// The fake HAL's own interface, for hosted tests (tests/hosted/fakes/hal_fake.c). extra_c
// snippets given to hostlib.build() include this file.
#pragma once
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Physical memory: BYTES of zeroed arena, at physical address 0. Also forgets every fake
// mapping, roots and kernel virtual ranges, so a test starts from a clean machine.
int hosted_phys_init(uint64_t bytes);
uint64_t hosted_phys_size(void);
// The kernel image's physical extent as hal_mmu_kernel_image reports it.
void hosted_set_kernel_image(uint64_t start, uint64_t end);

// panic(): with hosted_panic_armed it longjmps to hosted_panic_jmp, else it prints and aborts.
// HOSTED_TRY(statement) runs the statement and is 0, or -1 if it panicked (message in
// hosted_panic_message()).
extern jmp_buf hosted_panic_jmp;
extern volatile int hosted_panic_armed;
const char *hosted_panic_message(void);
// A panic inside an interrupts-off section never reaches its irq_restore: the depth is put back.
#define HOSTED_TRY(stmt)                          \
    ({                                            \
        int hosted_r_ = 0;                        \
        int hosted_depth_ = hosted_irq_depth();   \
        hosted_panic_armed = 1;                   \
        if (setjmp(hosted_panic_jmp) == 0) {      \
            stmt;                                 \
        } else {                                  \
            hosted_r_ = -1;                       \
            hosted_irq_set_depth(hosted_depth_);  \
        }                                         \
        hosted_panic_armed = 0;                   \
        hosted_r_;                                \
    })

// klog() output since the last hosted_log_clear(), NUL-terminated (the last 64 KiB).
const char *hosted_log(void);
void hosted_log_clear(void);

// Interrupts: the fake hal_irq_save/irq_save only count. Depth of interrupts-off sections now.
int hosted_irq_depth(void);
void hosted_irq_set_depth(int depth);

// Page tables: mappings live in a table keyed by (root, page). Mappings in the kernel root
// inside the kernel virtual ranges (KHEAP_VA_BASE, KSTACK_VA_BASE, 1 GiB each) are also real
// host mappings of the arena, so the code under test can use them; unmapped pages there fault.
uint64_t hosted_mmu_mappings(uint64_t root); // pages mapped under ROOT
uint64_t hosted_mmu_active(void);           // the root last activated
int hosted_mmu_roots(void);                 // roots alive (new_root minus free_root)
// Make the Nth hal_mmu_map from now fail (as if out of page-table memory); -1: never.
void hosted_mmu_fail_after(long n);

// User memory for the usercopy fakes: user pointers are host pointers; any access touching
// [lo, lo+len) "faults" (the copy routines return -1).
void hosted_user_fault_range(const void *lo, size_t len);
