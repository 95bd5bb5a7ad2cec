// x86_64 4-level page tables, as the kernel's vm layer uses them. A root is the physical
// address of a PML4. The upper half (kernel image, physical window) is shared by every root.
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum hal_map_flags {
    HAL_MAP_WRITE = 1,
    HAL_MAP_EXEC = 2,
    HAL_MAP_USER = 4,
    HAL_MAP_NOCACHE = 8,
};

typedef uint64_t (*hal_frame_alloc_t)(void); // a zeroed 4 KiB frame, 0 when exhausted
typedef void (*hal_frame_free_t)(uint64_t phys);

// Build the kernel's final tables (image W^X, physical window NX over all RAM), switch to
// them, turn on NX, SMEP, SMAP, WP where the CPU has them. Logs nothing; returns a summary.
const char *hal_mmu_init(hal_frame_alloc_t alloc, hal_frame_free_t free, uint64_t phys_top);
uint64_t hal_mmu_kernel_root(void);
uint64_t hal_mmu_new_root(void); // 0 when out of memory
// Free ROOT's lower-half page-table pages (not the frames they map) and the PML4 itself.
void hal_mmu_free_root(uint64_t root);
int hal_mmu_map(uint64_t root, uint64_t va, uint64_t pa, unsigned flags); // 0, -1 no memory
// Remove a 4 KiB mapping; returns the physical address it mapped, 0 if none. Page tables it
// leaves empty are freed.
uint64_t hal_mmu_unmap(uint64_t root, uint64_t va);
// The same, but the page tables stay (for memory that will be mapped again: hal_mmu_trim
// frees them, or hal_mmu_free_root).
uint64_t hal_mmu_clear(uint64_t root, uint64_t va);
// Build the page tables down to the one that maps VA's page, so that hal_mmu_map of any page
// it covers (HAL_MMU_TABLE_SPAN bytes, aligned) needs no memory. 0, -1 no memory.
int hal_mmu_prepare(uint64_t root, uint64_t va);
// Free the page table covering VA, and the tables above it, if they map nothing.
void hal_mmu_trim(uint64_t root, uint64_t va);
#define HAL_MMU_TABLE_SPAN (2ull << 20) // what one last-level page table maps
bool hal_mmu_query(uint64_t root, uint64_t va, uint64_t *pa, unsigned *flags);
void hal_mmu_activate(uint64_t root);
// Map LEN bytes of device memory at physical PA uncached into the kernel; its virtual address
// (always hal_phys_to_virt(pa)), or NULL (above 4 GiB before hal_mmu_init, or a bad range).
// Callable before hal_mmu_init: the range is then carried over into the final tables.
void *hal_mmu_map_device(uint64_t pa, uint64_t len);
// The kernel image's physical extent [start, end), boot code to the end of .bss.
void hal_mmu_kernel_image(uint64_t *start, uint64_t *end);

// Copy between kernel and user memory. Return 0, or -1 when a fault hit a user address (the
// page fault handler sees the faulting RIP inside these and resumes at their fix-up).
int hal_copy_from_user(void *dst, const void *usrc, uint64_t n);
int hal_copy_to_user(void *udst, const void *src, uint64_t n);
// Length of the string (< max) or -1 on fault, or max when no NUL within max bytes.
long hal_strnlen_user(const char *usrc, uint64_t max);
// For the page fault handler: if RIP is inside a user-copy routine, move TF to its fix-up.
struct hal_trapframe;
bool hal_usercopy_fixup(struct hal_trapframe *tf);
// True when RIP is inside a user-copy routine (a fault there is on the routine's user address).
bool hal_in_usercopy(uint64_t rip);
