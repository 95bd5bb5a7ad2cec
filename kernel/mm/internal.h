// Shared between the files of kernel/mm only.
#pragma once
#include <stdbool.h>
#include <stdint.h>

// Kernel virtual ranges the memory code manages itself, in the upper half between the
// physical window and the image (hal/mmu.c). Hosted builds move them to host addresses.
#ifndef KHEAP_VA_BASE
#define KHEAP_VA_BASE 0xffffc00000000000ull // kmalloc allocations larger than a page
#endif
#ifndef KSTACK_VA_BASE
#define KSTACK_VA_BASE 0xffffff0000000000ull // kernel stacks, each over an unmapped guard page
#endif
#define KHEAP_VA_PAGES (1ull << 18)  // 1 GiB
#define KSTACK_VA_PAGES (1ull << 18) // 1 GiB

// The end of the physical window vm_init asks the HAL to map: the top of RAM, modules, ACPI.
uint64_t pmm_phys_top(void);
// Called by vm_init once the window covers all of RAM: frames above 4 GiB may be handed out.
void pmm_window_ready(void);

// Forget every kernel stack (kheap_init calls it; kstack_alloc does it on first use anyway).
void kstack_init(void);

// A page-granular allocator of virtual address space: a bitmap of taken pages and one of the
// pages that start an allocation. The caller serialises (irq_save).
struct vrange {
    uint64_t base;  // virtual address of page 0
    uint64_t pages; // size of the range, a multiple of 64
    uint64_t *used; // 1 = page taken (mapped, or a guard page)
    uint64_t *head; // 1 = first page of an allocation
    uint64_t hint;  // no free page in words below this
};
void vrange_init(struct vrange *r, uint64_t base, uint64_t pages, uint64_t *used, uint64_t *head);
// PAGES contiguous pages, the first aligned to ALIGN pages (a power of two); 0 when full.
uint64_t vrange_alloc(struct vrange *r, uint64_t pages, uint64_t align);
// The number of pages of the allocation starting at VA, 0 if no allocation starts there.
uint64_t vrange_size(const struct vrange *r, uint64_t va);
void vrange_free(struct vrange *r, uint64_t va);
bool vrange_contains(const struct vrange *r, uint64_t va);
