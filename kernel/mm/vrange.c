// Page-granular allocation of kernel virtual address space (the heap's large allocations,
// kernel stacks). First fit from a hint; the bitmaps are the caller's.
#include <kernel/mm.h>
#include <kernel/string.h>
#include "internal.h"

static bool test(const uint64_t *m, uint64_t i) { return m[i / 64] >> (i % 64) & 1; }
static void set(uint64_t *m, uint64_t i) { m[i / 64] |= 1ull << (i % 64); }
static void clear(uint64_t *m, uint64_t i) { m[i / 64] &= ~(1ull << (i % 64)); }

void vrange_init(struct vrange *r, uint64_t base, uint64_t pages, uint64_t *used, uint64_t *head) {
    r->base = base;
    r->pages = pages & ~63ull;
    r->used = used;
    r->head = head;
    r->hint = 0;
    memset(used, 0, r->pages / 8);
    memset(head, 0, r->pages / 8);
}

bool vrange_contains(const struct vrange *r, uint64_t va) {
    return va >= r->base && (va - r->base) / PAGE_SIZE < r->pages;
}

uint64_t vrange_alloc(struct vrange *r, uint64_t pages, uint64_t align) {
    if (!pages || pages > r->pages || !align || (align & (align - 1)))
        return 0;
    uint64_t i = r->hint * 64;
    for (;;) {
        i = (i + align - 1) & ~(align - 1);
        if (i + pages > r->pages || i + pages < i)
            return 0;
        if (r->used[i / 64] == ~0ull) {
            i = (i / 64 + 1) * 64;
            continue;
        }
        uint64_t n = 0;
        while (n < pages && !test(r->used, i + n))
            n++;
        if (n == pages)
            break;
        i += n + 1;
    }
    set(r->head, i);
    for (uint64_t n = 0; n < pages; n++)
        set(r->used, i + n);
    uint64_t words = r->pages / 64;
    while (r->hint < words && r->used[r->hint] == ~0ull)
        r->hint++;
    return r->base + i * PAGE_SIZE;
}

uint64_t vrange_size(const struct vrange *r, uint64_t va) {
    if (!vrange_contains(r, va) || (va & (PAGE_SIZE - 1)))
        return 0;
    uint64_t i = (va - r->base) / PAGE_SIZE;
    if (!test(r->head, i))
        return 0;
    uint64_t n = 1;
    while (i + n < r->pages && test(r->used, i + n) && !test(r->head, i + n))
        n++;
    return n;
}

void vrange_free(struct vrange *r, uint64_t va) {
    uint64_t n = vrange_size(r, va);
    if (!n)
        return;
    uint64_t i = (va - r->base) / PAGE_SIZE;
    clear(r->head, i);
    for (uint64_t k = 0; k < n; k++)
        clear(r->used, i + k);
    if (i / 64 < r->hint)
        r->hint = i / 64;
}
