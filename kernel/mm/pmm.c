// Physical frames. Two bitmaps over every frame below the top of usable memory: FREE (1 = free
// now) and OWNED (1 = the allocator manages the frame: usable memory minus what the kernel
// keeps). pmm_free checks both, so a double free, or freeing a frame that was never handed
// out, stops the kernel at the culprit instead of corrupting memory later. The maps sit in
// usable memory below 4 GiB (reachable through the boot tables' window) and are read through
// the physical window.
//
// Free frames may be reserved (commit accounting for lazily backed memory): a reserved frame is
// still free, but only pmm_alloc_reserved hands it out, so whoever holds the reservation gets
// its frames whatever else happens meanwhile.
#include <hal/cpu.h>
#include <hal/mmu.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <hal/irq.h>
#include <kernel/string.h>
#include "internal.h"

#define LOW_RESERVED (1ull << 20) // real-mode IVT, BIOS data, EBDA, option ROMs
#define BOOT_WINDOW  (4ull << 30) // the boot tables map this much of the window
#define RSDP_SIZE    36           // ACPI 2.0 RSDP
#define MAX_FRAMES   (1ull << 32) // 16 TiB
#define FRAME(p)     ((p) / PAGE_SIZE)

struct range {
    uint64_t start, end;
};

static uint64_t *free_map, *owned_map;
static uint64_t nframes, words;
static uint64_t free_count, total_count;
static uint64_t reserved;    // free frames promised to pmm_alloc_reserved, <= free_count
static uint64_t hint;        // no free frame in words below this
static uint64_t alloc_words; // allocations search words below this (frames the window reaches)
static uint64_t phys_top;
static const struct boot_info *boot;
static struct range image, maps;
static struct range kept[BOOT_MODULES_MAX + 4];
static int nkept;

// Saturating: a region may end just below 2^64 in a bad map.
static uint64_t round_up(uint64_t x) {
    return x > UINT64_MAX - (PAGE_SIZE - 1) ? PAGE_ROUND_DOWN(UINT64_MAX) : PAGE_ROUND_UP(x);
}
static bool overlap(uint64_t s, uint64_t e, struct range r) { return s < r.end && r.start < e; }
static bool entry_ok(const struct boot_mmap_entry *m) { return m->len && m->base + m->len > m->base; }
static bool usable_type(uint32_t t) { return t == BOOT_MEM_USABLE; }

static uint64_t popcount(uint64_t v) {
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (v * 0x0101010101010101ull) >> 56;
}

// Frames [from, to) on or off in M, word at a time.
static void fill(uint64_t *m, uint64_t from, uint64_t to, bool on) {
    if (to > nframes)
        to = nframes;
    while (from < to) {
        uint64_t b = from % 64, n = 64 - b;
        if (n > to - from)
            n = to - from;
        uint64_t mask = n == 64 ? ~0ull : ((1ull << n) - 1) << b;
        if (on)
            m[from / 64] |= mask;
        else
            m[from / 64] &= ~mask;
        from += n;
    }
}

static void keep(uint64_t start, uint64_t end) {
    if (end > start && nkept < (int)(sizeof kept / sizeof kept[0]))
        kept[nkept++] = (struct range){PAGE_ROUND_DOWN(start), round_up(end)};
}

// [s, e) touches something kept, or memory the map does not call usable.
static bool blocked(uint64_t s, uint64_t e) {
    for (int i = 0; i < nkept; i++)
        if (overlap(s, e, kept[i]))
            return true;
    for (int i = 0; i < boot->mmap_count; i++) {
        const struct boot_mmap_entry *m = &boot->mmap[i];
        if (entry_ok(m) && !usable_type(m->type) && overlap(s, e, (struct range){m->base, m->base + m->len}))
            return true;
    }
    return false;
}

// Usable memory in [1 MiB, 4 GiB) for BYTES of bitmaps: at the start of a usable region or
// just past something kept or reserved inside one. 0 if none.
static uint64_t place(uint64_t bytes) {
    for (int i = 0; i < boot->mmap_count; i++) {
        const struct boot_mmap_entry *r = &boot->mmap[i];
        if (!entry_ok(r) || !usable_type(r->type))
            continue;
        uint64_t lo = round_up(r->base < LOW_RESERVED ? LOW_RESERVED : r->base);
        uint64_t hi = PAGE_ROUND_DOWN(r->base + r->len < BOOT_WINDOW ? r->base + r->len : BOOT_WINDOW);
        for (int c = -1; c < nkept + boot->mmap_count; c++) {
            uint64_t at = c < 0 ? lo : c < nkept ? kept[c].end : round_up(boot->mmap[c - nkept].base + boot->mmap[c - nkept].len);
            if (at >= lo && at < hi && bytes <= hi - at && !blocked(at, at + bytes))
                return at;
        }
    }
    return 0;
}

void pmm_init(const struct boot_info *info) {
    boot = info;
    nkept = 0;
    uint64_t ks, ke;
    hal_mmu_kernel_image(&ks, &ke);
    image = (struct range){PAGE_ROUND_DOWN(ks), round_up(ke)};
    keep(0, LOW_RESERVED);
    keep(ks, ke);
    uint64_t module_bytes = 0;
    for (int i = 0; i < info->module_count; i++) {
        keep(info->modules[i].start, info->modules[i].end);
        if (info->modules[i].end > info->modules[i].start)
            module_bytes += info->modules[i].end - info->modules[i].start;
    }
    // The multiboot2 information is free once hal/boot.c copied it, except for the RSDP copy
    // inside it that info->rsdp points at.
    if (info->rsdp)
        keep(info->rsdp, info->rsdp + RSDP_SIZE);

    uint64_t top = 0;
    phys_top = image.end;
    for (int i = 0; i < info->mmap_count; i++) {
        const struct boot_mmap_entry *m = &info->mmap[i];
        if (!entry_ok(m))
            continue;
        uint64_t end = m->base + m->len;
        if ((m->type == BOOT_MEM_USABLE || m->type == BOOT_MEM_ACPI_RECLAIMABLE) && PAGE_ROUND_DOWN(end) > top)
            top = PAGE_ROUND_DOWN(end);
        if ((m->type == BOOT_MEM_USABLE || m->type == BOOT_MEM_ACPI_RECLAIMABLE || m->type == BOOT_MEM_ACPI_NVS) &&
            end > phys_top)
            phys_top = end;
    }
    for (int i = 0; i < info->module_count; i++)
        if (info->modules[i].end > phys_top)
            phys_top = info->modules[i].end;
    phys_top = (phys_top + (2ull << 20) - 1) & ~((2ull << 20) - 1); // the window uses 2 MiB pages or larger

    nframes = FRAME(top) < MAX_FRAMES ? FRAME(top) : MAX_FRAMES;
    uint64_t covered = nframes, at;
    for (;;) {
        words = (nframes + 63) / 64;
        if (!nframes)
            panic("memory: no usable memory in the boot memory map");
        at = place(round_up(words * 16));
        if (at)
            break;
        nframes /= 2;
    }
    maps = (struct range){at, at + round_up(words * 16)};
    keep(maps.start, maps.end);
    free_map = hal_phys_to_virt(at);
    owned_map = free_map + words;
    memset(free_map, 0, words * 16);

    for (int i = 0; i < info->mmap_count; i++) {
        const struct boot_mmap_entry *m = &info->mmap[i];
        if (entry_ok(m) && usable_type(m->type))
            fill(owned_map, FRAME(round_up(m->base)), FRAME(PAGE_ROUND_DOWN(m->base + m->len)), true);
    }
    // Reserved wins over usable where a (buggy) map overlaps them.
    for (int i = 0; i < info->mmap_count; i++) {
        const struct boot_mmap_entry *m = &info->mmap[i];
        if (entry_ok(m) && !usable_type(m->type))
            fill(owned_map, FRAME(PAGE_ROUND_DOWN(m->base)), FRAME(round_up(m->base + m->len)), false);
    }
    for (int i = 0; i < nkept; i++)
        fill(owned_map, FRAME(kept[i].start), FRAME(kept[i].end), false);
    free_count = 0;
    for (uint64_t w = 0; w < words; w++) {
        free_map[w] = owned_map[w];
        free_count += popcount(owned_map[w]);
    }
    total_count = free_count;
    reserved = 0;
    hint = 0;
    alloc_words = words < FRAME(BOOT_WINDOW) / 64 ? words : FRAME(BOOT_WINDOW) / 64;

    klog("memory: %lu MiB free in %lu frames; kept kernel %lu KiB, modules %lu KiB, frame maps %lu KiB\n",
         (uint64_t)(free_count * PAGE_SIZE >> 20), free_count, (image.end - image.start) >> 10, module_bytes >> 10,
         (maps.end - maps.start) >> 10);
    if (covered != nframes)
        klog("memory: frame maps cover only %lu of %lu MiB\n", (uint64_t)(nframes * PAGE_SIZE >> 20),
             (uint64_t)(covered * PAGE_SIZE >> 20));
}

uint64_t pmm_phys_top(void) { return phys_top; }

void pmm_window_ready(void) {
    unsigned long fl = hal_irq_save();
    alloc_words = words;
    hal_irq_restore(fl);
}

// A free frame off the maps, zeroed; 0 when none is free beyond KEEP reserved ones.
static uint64_t take(uint64_t keep) {
    unsigned long fl = hal_irq_save();
    uint64_t w = hint;
    while (free_count > keep && w < alloc_words && !free_map[w])
        w++;
    if (free_count <= keep || w == alloc_words) {
        hal_irq_restore(fl);
        return 0;
    }
    hint = w;
    uint64_t bit = (uint64_t)__builtin_ctzll(free_map[w]);
    free_map[w] &= ~(1ull << bit);
    free_count--;
    hal_irq_restore(fl);
    uint64_t phys = (w * 64 + bit) * PAGE_SIZE;
    memset(hal_phys_to_virt(phys), 0, PAGE_SIZE);
    return phys;
}

uint64_t pmm_alloc(void) { return take(reserved); }

uint64_t pmm_alloc_reserved(void) {
    unsigned long fl = hal_irq_save();
    if (!reserved)
        panic("pmm_alloc_reserved: no frame is reserved");
    reserved--;
    // free_count was >= reserved + 1, so a frame is there (the window reaches all of RAM by the
    // time anything reserves).
    uint64_t phys = take(reserved);
    if (!phys)
        panic("pmm_alloc_reserved: a reserved frame is missing");
    hal_irq_restore(fl);
    return phys;
}

bool pmm_reserve(uint64_t n) {
    unsigned long fl = hal_irq_save();
    bool ok = n <= free_count - reserved;
    if (ok)
        reserved += n;
    hal_irq_restore(fl);
    return ok;
}

void pmm_unreserve(uint64_t n) {
    unsigned long fl = hal_irq_save();
    if (n > reserved)
        panic("pmm_unreserve: %lu frames, %lu reserved", n, reserved);
    reserved -= n;
    hal_irq_restore(fl);
}

void pmm_free(uint64_t phys) {
    uint64_t f = FRAME(phys);
    if ((phys & (PAGE_SIZE - 1)) || f >= nframes)
        panic("pmm_free: %#lx is not a frame of RAM", phys);
    uint64_t w = f / 64, bit = 1ull << (f % 64);
    unsigned long fl = hal_irq_save();
    if (!(owned_map[w] & bit))
        panic("pmm_free: frame %#lx was never allocated (reserved memory)", phys);
    if (free_map[w] & bit)
        panic("pmm_free: frame %#lx freed twice", phys);
    free_map[w] |= bit;
    free_count++;
    if (w < hint)
        hint = w;
    hal_irq_restore(fl);
}

uint64_t pmm_free_frames(void) { return free_count - reserved; }
uint64_t pmm_reserved_frames(void) { return reserved; }
uint64_t pmm_total_frames(void) { return total_count; }

// A frame the kernel may take back: inside usable or ACPI-reclaimable memory, touching no
// other kind, and not the first 1 MiB, the kernel image or the frame maps.
static bool reclaimable(uint64_t p) {
    uint64_t e = p + PAGE_SIZE;
    if (p < LOW_RESERVED || overlap(p, e, image) || overlap(p, e, maps))
        return false;
    bool inside = false;
    for (int i = 0; i < boot->mmap_count; i++) {
        const struct boot_mmap_entry *m = &boot->mmap[i];
        if (!entry_ok(m) || !overlap(p, e, (struct range){m->base, m->base + m->len}))
            continue;
        if (m->type != BOOT_MEM_USABLE && m->type != BOOT_MEM_ACPI_RECLAIMABLE)
            return false;
        if (m->base <= p && e <= m->base + m->len)
            inside = true;
    }
    return inside;
}

uint64_t pmm_reclaim(uint64_t phys, uint64_t len) {
    if (!boot || !len || phys + len < phys)
        return 0;
    uint64_t from = FRAME(round_up(phys)), to = FRAME(PAGE_ROUND_DOWN(phys + len)), n = 0;
    if (to > nframes)
        to = nframes;
    unsigned long fl = hal_irq_save();
    for (uint64_t f = from; f < to; f++) {
        uint64_t w = f / 64, bit = 1ull << (f % 64);
        if ((owned_map[w] & bit) || !reclaimable(f * PAGE_SIZE))
            continue;
        owned_map[w] |= bit;
        free_map[w] |= bit;
        if (w < hint)
            hint = w;
        n++;
    }
    free_count += n;
    total_count += n;
    hal_irq_restore(fl);
    return n;
}
