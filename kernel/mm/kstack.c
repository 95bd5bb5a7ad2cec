// Kernel stacks in their own virtual range, each over an unmapped guard page: an overflow is a
// page fault (a double fault, as the CPU cannot push the frame) at a known address instead of
// silent corruption of whatever lies below.
#include <hal/mmu.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <hal/irq.h>
#include "internal.h"

#define KSTACK_MAX (256 * 1024)

static struct vrange stacks;
static uint64_t stacks_used[KSTACK_VA_PAGES / 64], stacks_head[KSTACK_VA_PAGES / 64];
static bool ready;

void kstack_init(void) {
    vrange_init(&stacks, KSTACK_VA_BASE, KSTACK_VA_PAGES, stacks_used, stacks_head);
    ready = true;
}

static void unmap_run(uint64_t va, uint64_t pages) {
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa = hal_mmu_unmap(hal_mmu_kernel_root(), va + i * PAGE_SIZE);
        if (pa)
            pmm_free(pa);
    }
}

void *kstack_alloc(size_t size) {
    if (!size || size > KSTACK_MAX)
        return NULL;
    uint64_t pages = PAGE_ROUND_UP((uint64_t)size) / PAGE_SIZE;
    unsigned long fl = hal_irq_save();
    if (!ready)
        kstack_init();
    uint64_t va = vrange_alloc(&stacks, pages + 1, 1); // page 0 stays unmapped: the guard
    if (!va) {
        hal_irq_restore(fl);
        return NULL;
    }
    for (uint64_t i = 1; i <= pages; i++) {
        uint64_t f = pmm_alloc();
        if (!f || hal_mmu_map(hal_mmu_kernel_root(), va + i * PAGE_SIZE, f, HAL_MAP_WRITE) < 0) {
            if (f)
                pmm_free(f);
            unmap_run(va, i);
            vrange_free(&stacks, va);
            hal_irq_restore(fl);
            return NULL;
        }
    }
    hal_irq_restore(fl);
    return (void *)(va + PAGE_SIZE);
}

void kstack_free(void *base, size_t size) {
    if (!base)
        return;
    uint64_t va = (uint64_t)base - PAGE_SIZE;
    uint64_t pages = PAGE_ROUND_UP((uint64_t)size) / PAGE_SIZE;
    unsigned long fl = hal_irq_save();
    if (!ready || vrange_size(&stacks, va) != pages + 1)
        panic("kstack_free: %p (%zu bytes) is not a kernel stack", base, size);
    unmap_run(va, pages + 1);
    vrange_free(&stacks, va);
    hal_irq_restore(fl);
}

bool kstack_is_guard(uint64_t addr) {
    if (!ready || !vrange_contains(&stacks, addr))
        return false;
    uint64_t page = PAGE_ROUND_DOWN(addr);
    // The guard is the first page of an allocation; above it the stack is mapped.
    return vrange_size(&stacks, page) != 0 && !hal_mmu_query(hal_mmu_kernel_root(), page, NULL, NULL);
}
