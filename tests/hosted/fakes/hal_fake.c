// A fake HAL (and the few kernel services everything needs: klog, panic, irq_save) for running
// portable kernel code on the host. Every definition is weak, so a test that compiles the real
// kernel file for a function, or a fake of its own, overrides the one here.
//
// Physical memory is a memfd arena mapped at hosted_phys_base, so the code under test reads
// frames "through the physical window" exactly as in the kernel. Page tables are a table of
// (root, page) -> (frame, flags); pages of the kernel's own virtual ranges are also mapped for
// real (the arena's frame at the page's address), so kmalloc's large allocations and kernel
// stacks are usable memory with faulting guard pages.
#define _GNU_SOURCE
#include <hal/cpu.h>
#include <hal/irq.h>
#include <hal/mmu.h>
#include <hal/trap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "hosted.h"

#define WEAK __attribute__((weak))
#if defined(__SANITIZE_ADDRESS__)
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif
#define PAGE 4096ull
#define KVA_SIZE (1ull << 30)
#define USER_LIMIT 0x0000800000000000ull

#ifndef KHEAP_VA_BASE
#error "hostlib.build passes -DKHEAP_VA_BASE and -DKSTACK_VA_BASE"
#endif

uint8_t *hosted_phys_base;
static uint64_t phys_size;
static int memfd = -1;
static uint64_t image_start = 0x100000, image_end = 0x180000;

// --- log and panic --------------------------------------------------------------------------

enum { LOG_SIZE = 64 * 1024 };
static char log_buf[LOG_SIZE + 1];
static size_t log_len;
static char panic_msg[512];
jmp_buf hosted_panic_jmp;
volatile int hosted_panic_armed;

static void log_append(const char *s, size_t n) {
    if (getenv("HOSTED_KLOG"))
        fwrite(s, 1, n, stderr);
    if (n > LOG_SIZE)
        s += n - LOG_SIZE, n = LOG_SIZE;
    if (log_len + n > LOG_SIZE) {
        size_t drop = log_len + n - LOG_SIZE;
        memmove(log_buf, log_buf + drop, log_len - drop);
        log_len -= drop;
    }
    memcpy(log_buf + log_len, s, n);
    log_len += n;
    log_buf[log_len] = 0;
}

WEAK void klog_write(const char *s, size_t n) { log_append(s, n); }

WEAK void klog(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_append(buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

WEAK _Noreturn void panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(panic_msg, sizeof panic_msg, fmt, ap);
    va_end(ap);
    log_append("PANIC: ", 7);
    log_append(panic_msg, strlen(panic_msg));
    log_append("\n", 1);
    if (hosted_panic_armed) {
        hosted_panic_armed = 0;
        longjmp(hosted_panic_jmp, 1);
    }
    fprintf(stderr, "PANIC: %s\n", panic_msg);
    // Under pytest fd 2 is captured and lost when the process dies: leave a copy for conftest.
    const char *crashlog = getenv("MULTIOS_HOSTED_CRASHLOG");
    FILE *f = crashlog ? fopen(crashlog, "a") : NULL;
    if (f) {
        fprintf(f, "PANIC: %s\n", panic_msg);
        fclose(f);
    }
    abort();
}

WEAK const char *hosted_panic_message(void) { return panic_msg; }
WEAK const char *hosted_log(void) { return log_buf; }
WEAK void hosted_log_clear(void) { log_len = 0, log_buf[0] = 0; }

// --- CPU and interrupts ---------------------------------------------------------------------

static int irq_depth;

WEAK uint64_t hal_rdtsc(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
WEAK _Noreturn void hal_halt_forever(void) { abort(); }
WEAK void hal_cpu_relax(void) {}
WEAK void hal_irq_enable(void) {}
WEAK void hal_irq_disable(void) {}
WEAK unsigned long hal_irq_save(void) { return irq_depth++ == 0 ? 1ul << 9 : 0; }
WEAK void hal_irq_restore(unsigned long flags) {
    (void)flags;
    irq_depth--;
}
WEAK unsigned long irq_save(void) { return hal_irq_save(); }
WEAK void irq_restore(unsigned long flags) { hal_irq_restore(flags); }
WEAK int hosted_irq_depth(void) { return irq_depth; }
WEAK void hosted_irq_set_depth(int depth) { irq_depth = depth; }

// --- page tables ----------------------------------------------------------------------------

struct mapping {
    struct mapping *next;
    uint64_t root, va, pa;
    unsigned flags;
};
enum { BUCKETS = 1 << 16 };
static struct mapping *buckets[BUCKETS];
static hal_frame_alloc_t alloc_frame;
static hal_frame_free_t free_frame;
static uint64_t kroot = 1; // before hal_mmu_init: "the boot tables", not a frame
static uint64_t active;
static int roots;
static long fail_after = -1;
static bool kva_reserved;

static bool in_kva(uint64_t va) {
    return (va >= KHEAP_VA_BASE && va - KHEAP_VA_BASE < KVA_SIZE) ||
           (va >= KSTACK_VA_BASE && va - KSTACK_VA_BASE < KVA_SIZE);
}

// The kernel's ranges are shared by every root, as the upper half is.
static uint64_t key_root(uint64_t root, uint64_t va) { return in_kva(va) ? 0 : root; }

static struct mapping **slot(uint64_t root, uint64_t va) {
    uint64_t h = ((va >> 12) * 0x9e3779b97f4a7c15ull) ^ (root * 0xff51afd7ed558ccdull);
    struct mapping **p = &buckets[(h >> 40) % BUCKETS];
    while (*p && ((*p)->root != root || (*p)->va != va))
        p = &(*p)->next;
    return p;
}

static void host_map(uint64_t va, uint64_t pa) {
    if (mmap((void *)va, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd, (off_t)pa) == MAP_FAILED)
        abort();
}

static void host_unmap(uint64_t va, uint64_t len) {
    if (mmap((void *)va, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
        MAP_FAILED)
        abort();
}

static void reserve_kva(void) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (kva_reserved ? MAP_FIXED : MAP_FIXED_NOREPLACE);
    uint64_t bases[] = {KHEAP_VA_BASE, KSTACK_VA_BASE};
    for (int i = 0; i < 2; i++)
        if (mmap((void *)bases[i], KVA_SIZE, PROT_NONE, flags, -1, 0) != (void *)bases[i]) {
            fprintf(stderr, "hal_fake: cannot reserve %#llx for the kernel's virtual ranges\n",
                    (unsigned long long)bases[i]);
            abort();
        }
    kva_reserved = true;
}

static void forget_mappings(void) {
    for (int i = 0; i < BUCKETS; i++)
        while (buckets[i]) {
            struct mapping *m = buckets[i];
            buckets[i] = m->next;
            free(m);
        }
}

WEAK int hosted_phys_init(uint64_t bytes) {
    if (hosted_phys_base)
        munmap(hosted_phys_base, phys_size);
    if (memfd >= 0)
        close(memfd);
    memfd = memfd_create("multios-phys", 0);
    if (memfd < 0 || ftruncate(memfd, (off_t)bytes) < 0)
        return -1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (p == MAP_FAILED)
        return -1;
    hosted_phys_base = p;
    phys_size = bytes;
#if defined(__SANITIZE_ADDRESS__)
    // The heap under test poisons what it has not handed out; a new arena may land where an
    // old one was.
    __asan_unpoison_memory_region(p, bytes);
#endif
    forget_mappings();
    reserve_kva();
    kroot = 1;
    active = 0;
    roots = 0;
    fail_after = -1;
    alloc_frame = NULL;
    free_frame = NULL;
    return 0;
}

WEAK uint64_t hosted_phys_size(void) { return phys_size; }
WEAK void hosted_set_kernel_image(uint64_t start, uint64_t end) { image_start = start, image_end = end; }
WEAK void hal_mmu_kernel_image(uint64_t *start, uint64_t *end) { *start = image_start, *end = image_end; }

WEAK const char *hal_mmu_init(hal_frame_alloc_t alloc, hal_frame_free_t free_fn, uint64_t phys_top) {
    (void)phys_top;
    alloc_frame = alloc;
    free_frame = free_fn;
    kroot = alloc();
    active = kroot;
    return kroot ? "hosted page tables" : NULL;
}

WEAK uint64_t hal_mmu_kernel_root(void) { return kroot; }

WEAK uint64_t hal_mmu_new_root(void) {
    uint64_t r = alloc_frame ? alloc_frame() : 0;
    if (r)
        roots++;
    return r;
}

WEAK void hal_mmu_free_root(uint64_t root) {
    if (!root || root == kroot)
        return;
    if (active == root)
        active = kroot;
    for (int i = 0; i < BUCKETS; i++)
        for (struct mapping **p = &buckets[i]; *p;) {
            if ((*p)->root == root) {
                struct mapping *m = *p;
                *p = m->next;
                free(m);
            } else {
                p = &(*p)->next;
            }
        }
    roots--;
    if (free_frame)
        free_frame(root);
}

WEAK int hal_mmu_map(uint64_t root, uint64_t va, uint64_t pa, unsigned flags) {
    if (!root || (va & (PAGE - 1)) || (pa & (PAGE - 1)))
        return -1;
    if (in_kva(va)) {
        if ((flags & HAL_MAP_USER) || pa + PAGE > phys_size)
            return -1;
    } else if (va >= USER_LIMIT || !(flags & HAL_MAP_USER) ||
               (flags & (HAL_MAP_WRITE | HAL_MAP_EXEC)) == (HAL_MAP_WRITE | HAL_MAP_EXEC)) {
        return -1;
    }
    if (fail_after >= 0 && fail_after-- == 0)
        return -1;
    root = key_root(root, va);
    struct mapping **p = slot(root, va);
    if (!*p) {
        *p = calloc(1, sizeof **p);
        if (!*p)
            abort();
        (*p)->root = root, (*p)->va = va;
    }
    (*p)->pa = pa, (*p)->flags = flags;
    if (in_kva(va))
        host_map(va, pa);
    return 0;
}

WEAK uint64_t hal_mmu_unmap(uint64_t root, uint64_t va) {
    struct mapping **p = slot(key_root(root, va), va);
    if (!root || !*p)
        return 0;
    struct mapping *m = *p;
    uint64_t pa = m->pa;
    *p = m->next;
    free(m);
    if (in_kva(va))
        host_unmap(va, PAGE);
    return pa;
}

// No page tables here: clearing is unmapping, and preparing only fails when told to.
WEAK uint64_t hal_mmu_clear(uint64_t root, uint64_t va) { return hal_mmu_unmap(root, va); }
WEAK int hal_mmu_prepare(uint64_t root, uint64_t va) {
    (void)va;
    if (!root || (fail_after >= 0 && fail_after-- == 0))
        return -1;
    return 0;
}
WEAK void hal_mmu_trim(uint64_t root, uint64_t va) { (void)root, (void)va; }

WEAK bool hal_mmu_query(uint64_t root, uint64_t va, uint64_t *pa, unsigned *flags) {
    struct mapping *m = *slot(key_root(root, va & ~(PAGE - 1)), va & ~(PAGE - 1));
    if (!root || !m)
        return false;
    if (pa)
        *pa = m->pa + (va & (PAGE - 1));
    if (flags)
        *flags = m->flags;
    return true;
}

WEAK void hal_mmu_activate(uint64_t root) { active = root ? root : kroot; }
WEAK void *hal_mmu_map_device(uint64_t pa, uint64_t len) {
    (void)len;
    return hal_phys_to_virt(pa);
}

WEAK uint64_t hosted_mmu_mappings(uint64_t root) {
    uint64_t n = 0;
    for (int i = 0; i < BUCKETS; i++)
        for (struct mapping *m = buckets[i]; m; m = m->next)
            n += m->root == root;
    return n;
}
WEAK uint64_t hosted_mmu_active(void) { return active; }
WEAK int hosted_mmu_roots(void) { return roots; }
WEAK void hosted_mmu_fail_after(long n) { fail_after = n; }

// --- user copies ----------------------------------------------------------------------------

static uintptr_t fault_lo, fault_hi;

WEAK void hosted_user_fault_range(const void *lo, size_t len) {
    fault_lo = (uintptr_t)lo;
    fault_hi = fault_lo + len;
}

static bool faults(const void *p, uint64_t n) { return n && (uintptr_t)p < fault_hi && fault_lo < (uintptr_t)p + n; }

WEAK int hal_copy_from_user(void *dst, const void *usrc, uint64_t n) {
    if (faults(usrc, n))
        return -1;
    memcpy(dst, usrc, n);
    return 0;
}

WEAK int hal_copy_to_user(void *udst, const void *src, uint64_t n) {
    if (faults(udst, n))
        return -1;
    memcpy(udst, src, n);
    return 0;
}

WEAK long hal_strnlen_user(const char *usrc, uint64_t max) {
    for (uint64_t i = 0; i < max; i++) {
        if (faults(usrc + i, 1))
            return -1;
        if (!usrc[i])
            return (long)i;
    }
    return (long)max;
}

WEAK bool hal_usercopy_fixup(struct hal_trapframe *tf) {
    (void)tf;
    return false;
}
