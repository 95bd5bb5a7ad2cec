// Address spaces. A vm_space is a root page table (its upper half shared with the kernel) and a
// sorted list of regions, each either owned (anonymous memory: its frames are freed with it)
// or shared (frames that belong to someone else, e.g. a shared-memory object). Page-table
// entries hold the protection; regions hold ownership and occupancy. An owned region may be
// lazy: its pages get frames one at a time when first touched (vm_fault), so the region also
// keeps the protection to map them with.
//
// A lazy region never runs out of memory after it is mapped. Mapping it reserves a frame for
// each page (pmm_reserve: it fails with -MOS_ENOMEM then, not later) and builds the page
// tables over it, which stay while any lazy region needs them (unmaps clear pages and trim
// only tables no lazy region covers); a first touch takes one of the reserved frames. So a
// lazy region's untouched pages are exactly its reservation, which goes back with them at
// unmap or exit.
//
// The page cache: a VM_CACHE region (a program's text and read-only data, from the initrd,
// which never changes) takes its pages from frames shared by every space that maps the same
// bytes; they are filled once, never written, never freed (at most the initrd's read-only
// segments, as far as they are ever touched). A program's second start copies nothing, and
// the frames keep their physical addresses: an emulator that keeps its translations of code
// by physical page (QEMU's TCG) translates a program's code once, not in every process
// (spawn, start and exit of /bin/python -c pass: 12 ms -> 1 ms under TCG).
#include <hal/cpu.h>
#include <hal/mmu.h>
#include <kernel/klog.h>
#include <kernel/list.h>
#include <kernel/mm.h>
#include <hal/irq.h>
#include <kernel/string.h>
#include <multios/errno.h>
#include "internal.h"

#define USER_BOTTOM 0x10000ull // nothing mapped below 64 KiB: NULL plus an offset still faults

struct region {
    struct list_head link;
    uint64_t start, end;
    unsigned flags; // enum vm_flags it was mapped with (VM_LAZY: frames come at first touch)
    bool shared;
    // A lazy page starts as a copy of the bytes of [data_va, data_end) it covers, from DATA
    // (which holds the byte for data_va), zero elsewhere. Absolute, so splits keep them.
    const uint8_t *data;
    uint64_t data_va, data_end;
};

struct cached_page {
    struct cached_page *next;
    const uint8_t *src;  // where the file's bytes for this page's start are (maybe before DATA)
    uint32_t from, to;   // the page's bytes [from, to) are copied from src, the rest is zero
    uint64_t frame;
};

#define CACHE_BUCKETS 512
static struct cached_page *cache[CACHE_BUCKETS];

struct vm_space {
    uint64_t root;
    struct list_head regions; // sorted by start, never overlapping
    uint64_t pages;           // owned pages
};

static const struct vm_space *active;

void vm_init(void) {
    const char *summary = hal_mmu_init(pmm_alloc, pmm_free, pmm_phys_top());
    if (!summary)
        panic("paging: out of memory building the kernel's page tables");
    pmm_window_ready();
    klog("paging: %s; window %lu MiB\n", summary, pmm_phys_top() >> 20);
}

static unsigned hal_flags(unsigned flags) {
    return HAL_MAP_USER | (flags & VM_WRITE ? HAL_MAP_WRITE : 0) | (flags & VM_EXEC ? HAL_MAP_EXEC : 0);
}

// A user range: page aligned, not empty, inside [USER_BOTTOM, USER_TOP).
static bool range_ok(uint64_t va, uint64_t len) {
    return !(va & (PAGE_SIZE - 1)) && len && va >= USER_BOTTOM && va < USER_TOP && len <= USER_TOP - va;
}

static bool flags_ok(unsigned flags) {
    return !(flags & ~(unsigned)(VM_READ | VM_WRITE | VM_EXEC | VM_USER | VM_LAZY | VM_CACHE)) &&
           (flags & (VM_WRITE | VM_EXEC)) != (VM_WRITE | VM_EXEC) &&
           (flags & (VM_WRITE | VM_CACHE)) != (VM_WRITE | VM_CACHE);
}

// The page cache's frames are not the space's own.
static bool owns_frames(const struct region *r) { return !r || !(r->shared || (r->flags & VM_CACHE)); }

// The first region ending above VA (the one containing it, or the next), or the list head.
static struct list_head *first_after(struct vm_space *vs, uint64_t va) {
    list_for_each(pos, &vs->regions) if (list_entry(pos, struct region, link)->end > va) return pos;
    return &vs->regions;
}

static bool overlaps(struct vm_space *vs, uint64_t start, uint64_t end) {
    struct list_head *pos = first_after(vs, start);
    return pos != &vs->regions && list_entry(pos, struct region, link)->start < end;
}

static void insert(struct vm_space *vs, struct region *r) { list_add_tail(&r->link, first_after(vs, r->start)); }

struct vm_space *vm_create(void) {
    struct vm_space *vs = kzalloc(sizeof *vs);
    if (!vs)
        return NULL;
    vs->root = hal_mmu_new_root();
    if (!vs->root) {
        kfree(vs);
        return NULL;
    }
    list_init(&vs->regions);
    return vs;
}

// Unmap [start, end) of region R (NULL: pages being mapped for a new owned region), freeing
// the frames the space owns and the reservation of untouched lazy pages. Page tables stay.
static void unmap_pages(struct vm_space *vs, uint64_t start, uint64_t end, const struct region *r) {
    bool owned = owns_frames(r);
    uint64_t absent = 0;
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        uint64_t pa = hal_mmu_clear(vs->root, va);
        if (!pa)
            absent++;
        else if (owned) {
            pmm_free(pa);
            vs->pages--;
        }
    }
    if (r && (r->flags & VM_LAZY))
        pmm_unreserve(absent);
}

// A lazy region has pages in [start, end).
static bool lazy_in(struct vm_space *vs, uint64_t start, uint64_t end) {
    if (start >= end)
        return false;
    struct list_head *pos = first_after(vs, start);
    for (; pos != &vs->regions; pos = pos->next) {
        struct region *r = list_entry(pos, struct region, link);
        if (r->start >= end)
            return false;
        if (r->flags & VM_LAZY)
            return true;
    }
    return false;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

// Free the page tables over [start, end), a part of [gone_start, gone_end) where nothing stays
// mapped, unless a lazy region outside that needs them.
static void trim(struct vm_space *vs, uint64_t start, uint64_t end, uint64_t gone_start, uint64_t gone_end) {
    for (uint64_t t = start & ~(HAL_MMU_TABLE_SPAN - 1); t < end; t += HAL_MMU_TABLE_SPAN) {
        uint64_t t_end = t + HAL_MMU_TABLE_SPAN;
        if (!lazy_in(vs, t, min_u64(gone_start, t_end)) && !lazy_in(vs, max_u64(gone_end, t), t_end))
            hal_mmu_trim(vs->root, max_u64(t, start));
    }
}

void vm_destroy(struct vm_space *vs) {
    if (!vs)
        return;
    unsigned long fl = hal_irq_save();
    if (active == vs)
        vm_activate(NULL);
    list_for_each_safe(pos, tmp, &vs->regions) {
        struct region *r = list_entry(pos, struct region, link);
        unmap_pages(vs, r->start, r->end, r);
        list_del(&r->link);
        kfree(r);
    }
    hal_mmu_free_root(vs->root);
    hal_irq_restore(fl);
    kfree(vs);
}

void vm_activate(struct vm_space *vs) {
    active = vs;
    hal_mmu_activate(vs ? vs->root : hal_mmu_kernel_root());
}

// Map [va, va+len) from FRAMES (shared), fresh zeroed frames (owned), or nothing yet (VM_LAZY,
// the pages to be filled from INIT when touched, if given).
static long map_region(struct vm_space *vs, uint64_t va, uint64_t len, const uint64_t *frames, unsigned flags,
                       const struct region *init) {
    if (!vs || !range_ok(va, len) || !flags_ok(flags) || (frames && (flags & VM_LAZY)))
        return -MOS_EINVAL;
    uint64_t end = va + len;
    struct region *r = kmalloc(sizeof *r);
    if (!r)
        return -MOS_ENOMEM;
    unsigned long fl = hal_irq_save();
    if (overlaps(vs, va, end)) {
        hal_irq_restore(fl);
        kfree(r);
        return -MOS_EEXIST;
    }
    if (flags & VM_LAZY) {
        if (!pmm_reserve((end - va) / PAGE_SIZE))
            goto no_memory;
        for (uint64_t t = va; t < end; t = (t & ~(HAL_MMU_TABLE_SPAN - 1)) + HAL_MMU_TABLE_SPAN)
            if (hal_mmu_prepare(vs->root, t) < 0) {
                pmm_unreserve((end - va) / PAGE_SIZE);
                trim(vs, va, end, va, end);
                goto no_memory;
            }
    }
    for (uint64_t p = va; p < end && !(flags & VM_LAZY); p += PAGE_SIZE) {
        uint64_t f = frames ? frames[(p - va) / PAGE_SIZE] : pmm_alloc();
        if (!f || hal_mmu_map(vs->root, p, f, hal_flags(flags)) < 0) {
            if (f && !frames)
                pmm_free(f);
            if (frames) {
                struct region shared = {.shared = true};
                unmap_pages(vs, va, p, &shared);
            } else {
                unmap_pages(vs, va, p, NULL);
            }
            trim(vs, va, end, va, end);
            goto no_memory;
        }
        if (!frames)
            vs->pages++;
    }
    *r = (struct region){.start = va, .end = end, .flags = flags, .shared = frames != NULL};
    if (init) {
        r->data = init->data;
        r->data_va = init->data_va;
        r->data_end = init->data_end;
    }
    insert(vs, r);
    hal_irq_restore(fl);
    return 0;
no_memory:
    hal_irq_restore(fl);
    kfree(r);
    return -MOS_ENOMEM;
}

long vm_alloc(struct vm_space *vs, uint64_t va, size_t len, unsigned flags) {
    if (flags & VM_CACHE)
        return -MOS_EINVAL;
    return map_region(vs, va, PAGE_ROUND_UP((uint64_t)len), NULL, flags, NULL);
}

long vm_alloc_from(struct vm_space *vs, uint64_t va, size_t len, unsigned flags, const void *data, uint64_t data_va,
                   size_t data_len) {
    if (!(flags & VM_LAZY) || data_va < va || data_len > len || data_va - va > len - data_len)
        return -MOS_EINVAL;
    struct region init = {.data = data, .data_va = data_va, .data_end = data_va + data_len};
    return map_region(vs, va, PAGE_ROUND_UP((uint64_t)len), NULL, flags, &init);
}

long vm_map_shared(struct vm_space *vs, uint64_t va, const uint64_t *frames, size_t count, unsigned flags) {
    if (!frames || !count || count > USER_TOP / PAGE_SIZE)
        return -MOS_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (!frames[i] || (frames[i] & (PAGE_SIZE - 1)))
            return -MOS_EINVAL;
    return map_region(vs, va, count * PAGE_SIZE, frames, flags, NULL);
}

long vm_unmap(struct vm_space *vs, uint64_t va, size_t len) {
    uint64_t n = PAGE_ROUND_UP((uint64_t)len);
    if (!vs || !range_ok(va, n))
        return -MOS_EINVAL;
    uint64_t end = va + n;
    // Cutting a hole in one region needs a second node: get it before changing anything.
    struct region *spare = kmalloc(sizeof *spare);
    if (!spare)
        return -MOS_ENOMEM;
    unsigned long fl = hal_irq_save();
    for (struct list_head *pos = first_after(vs, va), *next; pos != &vs->regions; pos = next) {
        next = pos->next;
        struct region *r = list_entry(pos, struct region, link);
        if (r->start >= end)
            break;
        uint64_t s = r->start > va ? r->start : va, e = r->end < end ? r->end : end;
        unmap_pages(vs, s, e, r);
        trim(vs, s, e, va, end);
        if (s == r->start && e == r->end) {
            list_del(&r->link);
            kfree(r);
        } else if (s == r->start) {
            r->start = e;
        } else if (e == r->end) {
            r->end = s;
        } else {
            *spare = *r;
            spare->start = e;
            r->end = s;
            list_add(&spare->link, &r->link);
            spare = NULL;
        }
    }
    hal_irq_restore(fl);
    kfree(spare);
    return 0;
}

// Map PAGE of region R from the page cache: the frame that holds the same bytes, made now if
// none does (from the region's reservation, which the cache keeps).
static long populate_cached(struct vm_space *vs, uint64_t page, const struct region *r, uint64_t from, uint64_t to) {
    const uint8_t *src = r->data + (page - r->data_va); // before DATA for a segment's first page
    uint32_t f0 = from < to ? (uint32_t)(from - page) : 0, f1 = from < to ? (uint32_t)(to - page) : 0;
    struct cached_page **bucket = &cache[((uintptr_t)src >> 12) % CACHE_BUCKETS];
    for (struct cached_page *c = *bucket; c; c = c->next) {
        if (c->src == src && c->from == f0 && c->to == f1) {
            if (hal_mmu_map(vs->root, page, c->frame, hal_flags(r->flags)) < 0)
                return -MOS_ENOMEM;
            pmm_unreserve(1);
            return 0;
        }
    }
    struct cached_page *c = kmalloc(sizeof *c);
    if (!c)
        return -MOS_ENOMEM;
    uint64_t f = pmm_alloc_reserved();
    memcpy((char *)hal_phys_to_virt(f) + f0, src + f0, f1 - f0);
    if (hal_mmu_map(vs->root, page, f, hal_flags(r->flags)) < 0) {
        pmm_free(f);
        pmm_reserve(1);
        kfree(c);
        return -MOS_ENOMEM;
    }
    *c = (struct cached_page){.next = *bucket, .src = src, .from = f0, .to = f1, .frame = f};
    *bucket = c;
    return 0;
}

// The region holding VA, or NULL.
static struct region *region_at(struct vm_space *vs, uint64_t va) {
    struct list_head *pos = first_after(vs, va);
    if (pos == &vs->regions)
        return NULL;
    struct region *r = list_entry(pos, struct region, link);
    return r->start <= va ? r : NULL;
}

// Give the absent page at VA a zeroed frame if a lazy region there allows ACCESS (VM_WRITE,
// VM_EXEC, or 0 for the kernel's own writes into a new image). Interrupts are off.
static long populate(struct vm_space *vs, uint64_t va, unsigned access) {
    uint64_t page = PAGE_ROUND_DOWN(va);
    struct list_head *pos = first_after(vs, page);
    if (pos == &vs->regions)
        return -MOS_EFAULT;
    struct region *r = list_entry(pos, struct region, link);
    if (!(r->flags & VM_LAZY) || r->start > page || (access & (VM_WRITE | VM_EXEC) & ~r->flags) ||
        hal_mmu_query(vs->root, page, NULL, NULL))
        return -MOS_EFAULT;
    uint64_t from = max_u64(page, r->data_va), to = min_u64(page + PAGE_SIZE, r->data_end);
    if (r->flags & VM_CACHE)
        return populate_cached(vs, page, r, from, to);
    uint64_t f = pmm_alloc_reserved();
    if (r->data && from < to)
        memcpy((char *)hal_phys_to_virt(f) + (from - page), r->data + (from - r->data_va), to - from);
    if (hal_mmu_map(vs->root, page, f, hal_flags(r->flags)) < 0) {
        // Not with the tables the mapping built; the frame goes back to the reservation.
        pmm_free(f);
        pmm_reserve(1);
        return -MOS_ENOMEM;
    }
    vs->pages++;
    return 0;
}

long vm_fault(struct vm_space *vs, uint64_t va, unsigned access) {
    if (!vs || va >= USER_TOP)
        return -MOS_EFAULT;
    unsigned long fl = hal_irq_save();
    long r = populate(vs, va, access);
    hal_irq_restore(fl);
    return r;
}

uint64_t vm_find_free(struct vm_space *vs, size_t len) {
    uint64_t n = PAGE_ROUND_UP((uint64_t)len);
    if (!vs || !n || n > USER_STACK_LIMIT - USER_MMAP_BASE)
        return 0;
    unsigned long fl = hal_irq_save();
    // First fit in [USER_MMAP_BASE, USER_STACK_LIMIT), keeping an unmapped page on both sides.
    uint64_t at = USER_MMAP_BASE, found = 0;
    list_for_each(pos, &vs->regions) {
        struct region *r = list_entry(pos, struct region, link);
        if (r->end + PAGE_SIZE <= at)
            continue;
        if (r->start >= at + PAGE_SIZE && r->start - PAGE_SIZE - at >= n) {
            found = at;
            break;
        }
        at = r->end + PAGE_SIZE;
        if (at >= USER_STACK_LIMIT)
            break;
    }
    if (!found && at < USER_STACK_LIMIT && USER_STACK_LIMIT - at >= n)
        found = at;
    hal_irq_restore(fl);
    return found;
}

long vm_protect(struct vm_space *vs, uint64_t va, size_t len, unsigned flags) {
    uint64_t n = PAGE_ROUND_UP((uint64_t)len);
    if (!vs || !range_ok(va, n) || !flags_ok(flags) || (flags & VM_CACHE))
        return -MOS_EINVAL;
    unsigned long fl = hal_irq_save();
    for (uint64_t p = va; p < va + n; p += PAGE_SIZE) {
        if (!hal_mmu_query(vs->root, p, NULL, NULL)) {
            hal_irq_restore(fl);
            return -MOS_EFAULT;
        }
        const struct region *r = region_at(vs, p);
        if ((flags & VM_WRITE) && r && (r->flags & VM_CACHE)) {
            hal_irq_restore(fl); // the page cache's frames are never written
            return -MOS_EINVAL;
        }
    }
    for (uint64_t p = va; p < va + n; p += PAGE_SIZE) {
        uint64_t pa;
        hal_mmu_query(vs->root, p, &pa, NULL);
        // Tables exist for a mapped page, so remapping it allocates nothing and cannot fail.
        hal_mmu_map(vs->root, p, pa, hal_flags(flags));
    }
    hal_irq_restore(fl);
    return 0;
}

long vm_write(struct vm_space *vs, uint64_t va, const void *src, size_t len) {
    if (!vs || (len && (va >= USER_TOP || len > USER_TOP - va)))
        return -MOS_EFAULT;
    const char *from = src;
    unsigned long fl = hal_irq_save();
    while (len) {
        uint64_t pa, off = va & (PAGE_SIZE - 1), chunk = PAGE_SIZE - off;
        if (chunk > len)
            chunk = len;
        const struct region *r = region_at(vs, va - off);
        if (r && (r->flags & VM_CACHE)) {
            hal_irq_restore(fl); // the page cache's frames are never written
            return -MOS_EFAULT;
        }
        if (!hal_mmu_query(vs->root, va - off, &pa, NULL)) {
            long r = populate(vs, va, 0);
            if (r < 0) {
                hal_irq_restore(fl);
                return r;
            }
            hal_mmu_query(vs->root, va - off, &pa, NULL);
        }
        memcpy((char *)hal_phys_to_virt(pa) + off, from, chunk);
        va += chunk, from += chunk, len -= chunk;
    }
    hal_irq_restore(fl);
    return 0;
}

uint64_t vm_pages(const struct vm_space *vs) { return vs ? vs->pages : 0; }

// Copy between another process's user pages and the kernel, honouring the pages' permissions
// as that process would meet them: a page must be a user page, and writable for a write.
static long copy_other(struct vm_space *vs, uint64_t va, void *kbuf, size_t len, bool write) {
    if (!vs || (len && (va >= USER_TOP || len > USER_TOP - va)))
        return -MOS_EFAULT;
    char *k = kbuf;
    unsigned long fl = hal_irq_save();
    while (len) {
        uint64_t pa, off = va & (PAGE_SIZE - 1), chunk = PAGE_SIZE - off;
        unsigned flags;
        if (chunk > len)
            chunk = len;
        bool present = hal_mmu_query(vs->root, va - off, &pa, &flags) ||
                       (populate(vs, va, write ? VM_WRITE : VM_READ) == 0 &&
                        hal_mmu_query(vs->root, va - off, &pa, &flags));
        if (!present || !(flags & HAL_MAP_USER) || (write && !(flags & HAL_MAP_WRITE))) {
            hal_irq_restore(fl);
            return -MOS_EFAULT;
        }
        char *page = (char *)hal_phys_to_virt(pa) + off;
        if (write)
            memcpy(page, k, chunk);
        else
            memcpy(k, page, chunk);
        va += chunk, k += chunk, len -= chunk;
    }
    hal_irq_restore(fl);
    return 0;
}

long vm_read(struct vm_space *vs, uint64_t va, void *dst, size_t len) { return copy_other(vs, va, dst, len, false); }

long vm_write_checked(struct vm_space *vs, uint64_t va, const void *src, size_t len) {
    return copy_other(vs, va, (void *)src, len, true);
}
