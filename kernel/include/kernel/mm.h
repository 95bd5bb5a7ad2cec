// Memory: physical frames, the kernel heap, address spaces, kernel stacks, user copies.
#pragma once
#include <hal/boot.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull
#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x) ((x) & ~(PAGE_SIZE - 1))

// User space is the lower half below this address (the canonical hole starts above it).
#define USER_TOP 0x00007ffffffff000ull
#define USER_IMAGE_BASE 0x400000ull       // ELF programs are linked from here
#define USER_MMAP_BASE 0x100000000000ull  // mmap_anon and shm_map place regions from here up
#define USER_STACK_TOP 0x7ffffff00000ull  // initial user stack grows down from here
#define USER_STACK_LIMIT 0x7fff00000000ull // mmap_anon and shm_map stay below this

// --- physical frames (kernel/mm/pmm.c) ---
// Take every usable region of the memory map, minus the kernel image, the boot modules, the
// boot information and the first 1 MiB.
void pmm_init(const struct boot_info *info);
// One 4 KiB frame, zeroed; its physical address, or 0 when memory is exhausted.
// Reserved frames are left alone.
uint64_t pmm_alloc(void);
void pmm_free(uint64_t phys);
// Commit accounting: pmm_reserve(n) promises n free frames (false when fewer are free and
// unreserved, then nothing is reserved); pmm_alloc_reserved takes one of them, zeroed, and
// cannot fail while a reservation is held; pmm_unreserve gives unused ones back.
bool pmm_reserve(uint64_t n);
uint64_t pmm_alloc_reserved(void);
void pmm_unreserve(uint64_t n);
uint64_t pmm_free_frames(void);     // free and not reserved: what pmm_alloc and pmm_reserve can have
uint64_t pmm_reserved_frames(void);
uint64_t pmm_total_frames(void);
// Give the allocator memory it kept at boot (a module, ACPI tables) once nobody needs it. Only
// frames of usable or ACPI-reclaimable memory outside the kernel and the first 1 MiB are taken;
// returns how many frames were added.
uint64_t pmm_reclaim(uint64_t phys, uint64_t len);

// --- kernel heap (kernel/mm/kheap.c) ---
void kheap_init(void);
void *kmalloc(size_t n);   // 16-byte aligned, NULL when exhausted
void *kzalloc(size_t n);
void kfree(void *p);

// --- address spaces (kernel/mm/vm.c) ---
// VM_LAZY (vm_alloc only): no frame until the first touch of each page (vm_fault); a frame is
// reserved for every page at the call, so the touch cannot run out of memory.
// VM_CACHE (vm_alloc_from only, never with VM_WRITE): DATA never changes, so a page takes the
// page cache's frame for the same bytes, shared with every space that maps them and never
// freed (nor written: vm_write and vm_protect to writable refuse such pages).
enum vm_flags { VM_READ = 1, VM_WRITE = 2, VM_EXEC = 4, VM_USER = 8, VM_LAZY = 16, VM_CACHE = 32 };
struct vm_space; // a user address space; the kernel half is shared by all

void vm_init(void); // the kernel's own page tables: W^X image, NX physical window
struct vm_space *vm_create(void);
void vm_destroy(struct vm_space *vs); // frees every user frame it owns and its page tables
void vm_activate(struct vm_space *vs); // NULL: the kernel's own tables
// Anonymous zeroed memory at [va, va+len), page aligned. Writable and executable together is
// refused (-MOS_EINVAL). 0 or -MOS_ENOMEM / -MOS_EINVAL / -MOS_EEXIST.
long vm_alloc(struct vm_space *vs, uint64_t va, size_t len, unsigned flags);
// A VM_LAZY region whose pages start as a copy of DATA_LEN bytes of DATA placed at DATA_VA
// (inside the region), zero elsewhere: a program's segments, copied page by page as they are
// first touched. DATA must stay as long as the space (the initrd's files do).
long vm_alloc_from(struct vm_space *vs, uint64_t va, size_t len, unsigned flags, const void *data, uint64_t data_va,
                   size_t data_len);
// Map existing frames (shared memory): the space does not own them and will not free them.
long vm_map_shared(struct vm_space *vs, uint64_t va, const uint64_t *frames, size_t count, unsigned flags);
long vm_unmap(struct vm_space *vs, uint64_t va, size_t len);
// A touch of VA (ACCESS: VM_READ, VM_WRITE or VM_EXEC) found no page: back it with a zeroed
// frame (from the region's reservation) if VA lies in a VM_LAZY region that allows the access.
// 0; -MOS_EFAULT (no such region, an access it forbids, or the page is there already: a real
// fault).
long vm_fault(struct vm_space *vs, uint64_t va, unsigned access);
// A free, page-aligned user range of len bytes at or above USER_MMAP_BASE; 0 if none.
uint64_t vm_find_free(struct vm_space *vs, size_t len);
// Change protection of mapped pages (used by the ELF loader after it filled them).
long vm_protect(struct vm_space *vs, uint64_t va, size_t len, unsigned flags);
// Write into another (not the active) space's memory, e.g. to fill a new process's image.
// This and the two copies below give lazy pages their frames as they go.
long vm_write(struct vm_space *vs, uint64_t va, const void *src, size_t len);
uint64_t vm_pages(const struct vm_space *vs); // user pages it owns
// Copy from / to another process's user memory as that process may access it (user pages,
// writable for a write): 0 or -MOS_EFAULT. For the service manager's access to its callers.
long vm_read(struct vm_space *vs, uint64_t va, void *dst, size_t len);
long vm_write_checked(struct vm_space *vs, uint64_t va, const void *src, size_t len);

// --- kernel stacks (kernel/mm/kstack.c): an unmapped guard page below each ---
void *kstack_alloc(size_t size); // returns the lowest usable address; NULL when exhausted
void kstack_free(void *base, size_t size);
// ADDR is in the guard page of a kernel stack (for the fault handlers: a stack overflow).
bool kstack_is_guard(uint64_t addr);

// --- user memory (kernel/mm/usercopy.c) ---
// Every pointer and length from user space goes through these. They check the range is in the
// user half and survive a fault (an unmapped page gives -MOS_EFAULT, never a kernel panic).
long copy_from_user(void *dst, const void *usrc, size_t n);
long copy_to_user(void *udst, const void *src, size_t n);
// Copies a NUL-terminated string of at most max-1 chars; its length, -MOS_EFAULT, or
// -MOS_ENAMETOOLONG when no NUL comes within max bytes.
long strncpy_from_user(char *dst, const char *usrc, size_t max);
bool user_range_ok(uint64_t addr, size_t len);
