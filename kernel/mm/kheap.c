// The kernel heap.
//   up to 2016 bytes  size classes in slabs of one frame, read through the physical window (no
//                     mapping to make or undo). A slab starts with a 64-byte header holding a
//                     bitmap of its objects, so kfree catches double frees and bad pointers.
//                     An empty slab goes straight back to the frame allocator: the heap does not
//                     grow over repeated alloc/free cycles and frame counts stay exact.
//   up to a page      a frame of its own (page aligned, which no slab object ever is).
//   larger            pages mapped in a kernel virtual range, each allocation followed by an
//                     unmapped guard page.
#include <hal/cpu.h>
#include <hal/mmu.h>
#include <kernel/klog.h>
#include <kernel/list.h>
#include <kernel/mm.h>
#include <hal/irq.h>
#include <kernel/string.h>
#include "internal.h"

#if defined(__SANITIZE_ADDRESS__)
// Hosted tests: tell AddressSanitizer which heap bytes are handed out, so that overflows and
// uses after free in the code under test are reported.
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define POISON(p, n)   __asan_poison_memory_region((p), (n))
#define UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define POISON(p, n)   ((void)0)
#define UNPOISON(p, n) ((void)0)
#endif

#define SLAB_MAGIC 0x736c6162u
#define HEADER     64u

// Sizes chosen so that whole objects fill the 4032 bytes after the header: 2016 holds two,
// 1344 three, 1008 four, and so on.
static const uint16_t sizes[] = {16, 32, 48, 64, 96, 128, 192, 256, 336, 448, 576, 672, 800, 1008, 1344, 2016};
#define NCLASSES (sizeof sizes / sizeof sizes[0])
#define SLAB_MAX 2016u

struct slab {
    struct list_head link; // in its class's partial list while it has free objects
    uint32_t magic;
    uint16_t cls, inuse;
    uint64_t map[4]; // 1 = object in use
    uint64_t reserved;
};
_Static_assert(sizeof(struct slab) == HEADER, "slab header size");
_Static_assert((PAGE_SIZE - HEADER) / 16 <= 4 * 64, "slab bitmap too small");

struct cache {
    struct list_head partial;
    uint16_t size, capacity;
};

static struct cache caches[NCLASSES];
static struct vrange large;
static uint64_t large_used[KHEAP_VA_PAGES / 64], large_head[KHEAP_VA_PAGES / 64];

static uint64_t window_offset(const void *p) { return (uint64_t)p - (uint64_t)hal_phys_to_virt(0); }

void kheap_init(void) {
    for (unsigned c = 0; c < NCLASSES; c++) {
        list_init(&caches[c].partial);
        caches[c].size = sizes[c];
        caches[c].capacity = (uint16_t)((PAGE_SIZE - HEADER) / sizes[c]);
    }
    vrange_init(&large, KHEAP_VA_BASE, KHEAP_VA_PAGES, large_used, large_head);
    kstack_init();
    klog("heap: %u size classes %u..%u bytes in frames, larger in %#lx (%lu MiB, guard pages)\n",
         (unsigned)NCLASSES, sizes[0], SLAB_MAX, (uint64_t)KHEAP_VA_BASE,
         (uint64_t)(KHEAP_VA_PAGES * PAGE_SIZE >> 20));
}

static void *slab_alloc(unsigned c, size_t n) {
    struct cache *k = &caches[c];
    unsigned long fl = hal_irq_save();
    struct slab *s;
    if (list_empty(&k->partial)) {
        uint64_t f = pmm_alloc();
        if (!f) {
            hal_irq_restore(fl);
            return NULL;
        }
        s = hal_phys_to_virt(f); // zeroed: an empty bitmap
        s->magic = SLAB_MAGIC;
        s->cls = (uint16_t)c;
        list_add(&s->link, &k->partial);
        POISON((char *)s + HEADER, PAGE_SIZE - HEADER);
    } else {
        s = list_entry(k->partial.next, struct slab, link);
    }
    // A partial slab has a clear bit below its capacity; bits past it are never set.
    unsigned i = 0;
    for (unsigned w = 0; w < 4; w++)
        if (~s->map[w]) {
            i = w * 64 + (unsigned)__builtin_ctzll(~s->map[w]);
            break;
        }
    if (i >= k->capacity)
        panic("kmalloc: slab %p of class %u is corrupt", (void *)s, k->size);
    s->map[i / 64] |= 1ull << (i % 64);
    if (++s->inuse == k->capacity)
        list_del(&s->link);
    hal_irq_restore(fl);
    void *p = (char *)s + HEADER + (size_t)i * k->size;
    UNPOISON(p, n);
    (void)n;
    return p;
}

static void slab_free(void *p) {
    struct slab *s = (struct slab *)((uint64_t)p & ~(PAGE_SIZE - 1));
    unsigned long fl = hal_irq_save();
    if (s->magic != SLAB_MAGIC || s->cls >= NCLASSES)
        panic("kfree: %p is not a heap object", p);
    struct cache *k = &caches[s->cls];
    uint64_t off = (uint64_t)((char *)p - (char *)s) - HEADER;
    if ((uint64_t)((char *)p - (char *)s) < HEADER || off % k->size || off / k->size >= k->capacity)
        panic("kfree: %p is not the start of a heap object", p);
    unsigned i = (unsigned)(off / k->size);
    if (!(s->map[i / 64] & (1ull << (i % 64))))
        panic("kfree: %p freed twice", p);
    s->map[i / 64] &= ~(1ull << (i % 64));
    POISON(p, k->size);
    if (s->inuse-- == k->capacity)
        list_add(&s->link, &k->partial);
    if (s->inuse == 0) {
        list_del(&s->link);
        s->magic = 0;
        UNPOISON(s, PAGE_SIZE);
        pmm_free(window_offset(s));
    }
    hal_irq_restore(fl);
}

static void unmap_run(uint64_t va, uint64_t pages) {
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa = hal_mmu_unmap(hal_mmu_kernel_root(), va + i * PAGE_SIZE);
        if (pa)
            pmm_free(pa);
    }
}

static void *large_alloc(size_t n) {
    if (n > (KHEAP_VA_PAGES - 1) * PAGE_SIZE)
        return NULL;
    uint64_t pages = PAGE_ROUND_UP((uint64_t)n) / PAGE_SIZE;
    unsigned long fl = hal_irq_save();
    uint64_t va = vrange_alloc(&large, pages + 1, 1); // the last page stays unmapped: the guard
    if (!va) {
        hal_irq_restore(fl);
        return NULL;
    }
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t f = pmm_alloc();
        if (!f || hal_mmu_map(hal_mmu_kernel_root(), va + i * PAGE_SIZE, f, HAL_MAP_WRITE) < 0) {
            if (f)
                pmm_free(f);
            unmap_run(va, i);
            vrange_free(&large, va);
            hal_irq_restore(fl);
            return NULL;
        }
    }
    hal_irq_restore(fl);
    return (void *)va;
}

static void large_free(void *p) {
    unsigned long fl = hal_irq_save();
    uint64_t pages = vrange_size(&large, (uint64_t)p);
    if (!pages)
        panic("kfree: %p is not a heap allocation (or freed twice)", p);
    unmap_run((uint64_t)p, pages);
    vrange_free(&large, (uint64_t)p);
    hal_irq_restore(fl);
}

void *kmalloc(size_t n) {
    if (n <= SLAB_MAX) {
        unsigned c = 0;
        while (sizes[c] < n)
            c++;
        return slab_alloc(c, n);
    }
    if (n <= PAGE_SIZE) {
        uint64_t f = pmm_alloc();
        return f ? hal_phys_to_virt(f) : NULL;
    }
    return large_alloc(n);
}

void *kzalloc(size_t n) {
    void *p = kmalloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void kfree(void *p) {
    if (!p)
        return;
    uint64_t off = window_offset(p);
    if (off < pmm_phys_top()) {
        if (off & (PAGE_SIZE - 1))
            slab_free(p);
        else
            pmm_free(off);
    } else if (vrange_contains(&large, (uint64_t)p)) {
        large_free(p);
    } else {
        panic("kfree: %p is not from the kernel heap", p);
    }
}
