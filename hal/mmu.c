// x86_64 4-level paging: the kernel's final tables, per-process roots, device mappings.
//
// Upper half, shared by every root (PML4 entries 256-511 point at the same 256 PDPTs, all
// allocated at init, so a kernel mapping made through any root is seen through every root):
//   0xffff800000000000  the physical window over RAM [0, phys_top), NX, 1 GiB or 2 MiB pages;
//                       device ranges sit at their window address too, uncached 4 KiB pages
//   0xffffc00000000000  and up to the image: the kernel's own ranges (heap, stacks), mapped
//                       page by page with hal_mmu_map on the kernel root
//   0xffffffff80000000  the kernel image, W^X per section
// Lower half: user mappings only (HAL_MAP_USER), never writable and executable at once.
#include <hal/cpu.h>
#include <hal/irq.h>
#include <hal/mmu.h>
#include <hal/trap.h>
#include <stddef.h>

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define PAGE        4096ull
#define MIB2        (2ull << 20)
#define GIB         (1ull << 30)
#define UPPER_HALF  0xffff800000000000ull
#define LOWER_TOP   0x0000800000000000ull
#define WINDOW_MAX  (64ull << 40) // PML4 slots 256..383
#define KERNEL_VMA  0xffffffff80000000ull
#define BOOT_WINDOW (4ull << 30)  // what boot/boot.S maps in the window
#define DEVICE_MAX  (1ull << 30)

#define CR0_WP   (1ull << 16)
#define CR4_PGE  (1ull << 7)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define MSR_EFER 0xc0000080u
#define EFER_NXE (1ull << 11)

extern char __kernel_phys_start[], __kernel_phys_end[];
extern char __text_start[], __rodata_start[], __data_start[], __bss_end[];
// From hal/usercopy.S: the copy routines, their common fault exit, and where stac/clac sit.
extern char hal_usercopy_start[], hal_usercopy_end[], hal_usercopy_fault[];
extern char *const hal_smap_sites[], *const hal_smap_sites_end[];

static hal_frame_alloc_t alloc_frame;
static hal_frame_free_t free_frame;
static uint64_t kernel_root, active_root;
static uint64_t window_top;
static bool has_nx, has_smep, has_smap, has_pge, has_1g;
static char summary[96];

// Device ranges asked for before the final tables exist; hal_mmu_init maps them.
static struct {
    uint64_t pa, len;
} early_devices[16];
static int early_count;

static uint64_t *table(uint64_t entry) { return hal_phys_to_virt(entry & PTE_ADDR); }
static unsigned slot(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }
static uint64_t level_size(int level) { return 1ull << (12 + 9 * level); }

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t read_cr0(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr4(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

// Everything, global entries included (a changed large page may sit in the TLB as one entry).
static void flush_all(void) {
    uint64_t cr4 = read_cr4();
    if (cr4 & CR4_PGE) {
        write_cr4(cr4 & ~CR4_PGE);
        write_cr4(cr4);
    } else if (active_root) {
        write_cr3(active_root);
    }
}

static void flush_page(uint64_t root, uint64_t va) {
    // Upper-half entries are shared and global; lower-half ones matter only in the live root.
    if (va >= UPPER_HALF || root == active_root)
        invlpg(va);
}

static uint64_t leaf_bits(unsigned flags, bool upper) {
    uint64_t e = PTE_P;
    if (flags & HAL_MAP_WRITE)
        e |= PTE_W;
    if (flags & HAL_MAP_USER)
        e |= PTE_U;
    if (!(flags & HAL_MAP_EXEC) && has_nx)
        e |= PTE_NX;
    if (flags & HAL_MAP_NOCACHE)
        e |= PTE_PCD | PTE_PWT;
    if (upper && has_pge)
        e |= PTE_G;
    return e;
}

// Replace the large page at *E (an entry of LEVEL 2 or 1) by a table of the next level down
// mapping the same memory with the same attributes. -1 when out of memory.
static int split(uint64_t *e, int level) {
    uint64_t t = alloc_frame();
    if (!t)
        return -1;
    uint64_t *sub = table(t);
    uint64_t attrs = *e & ~PTE_ADDR & ~PTE_PS;
    uint64_t base = *e & PTE_ADDR & ~(level_size(level) - 1);
    for (int i = 0; i < 512; i++)
        sub[i] = (base + (uint64_t)i * level_size(level - 1)) | attrs | (level - 1 > 0 ? PTE_PS : 0);
    *e = t | PTE_P | PTE_W | (*e & PTE_U);
    flush_all();
    return 0;
}

// The page-table entry mapping VA at LEVEL (0: a 4 KiB page, 1: 2 MiB, 2: 1 GiB). With CREATE,
// missing tables are allocated and large pages on the way are split; NULL when out of memory,
// or without CREATE where nothing is mapped at that level.
static uint64_t *walk(uint64_t root, uint64_t va, int level, bool create) {
    uint64_t *t = table(root);
    for (int l = 3; l > level; l--) {
        uint64_t *e = &t[slot(va, l)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            uint64_t f = alloc_frame();
            if (!f)
                return NULL;
            // Intermediate entries allow everything; the leaf decides. U only under user space.
            *e = f | PTE_P | PTE_W | (va < LOWER_TOP ? PTE_U : 0);
        } else if (*e & PTE_PS) {
            if (!create || split(e, l) < 0)
                return NULL;
        }
        t = table(*e);
    }
    return &t[slot(va, level)];
}

static bool in_window(uint64_t va) { return va >= UPPER_HALF && va - UPPER_HALF < WINDOW_MAX; }

// The physical window [0, top) with the largest pages that fit. Called on the new root only.
static int map_window(uint64_t root, uint64_t top) {
    for (uint64_t pa = 0; pa < top;) {
        int level = has_1g && !(pa & (GIB - 1)) && top - pa >= GIB ? 2 : 1;
        uint64_t *e = walk(root, UPPER_HALF + pa, level, true);
        if (!e)
            return -1;
        *e = pa | leaf_bits(HAL_MAP_WRITE, true) | PTE_PS;
        pa += level_size(level);
    }
    return 0;
}

static int map_range(uint64_t root, uint64_t va, uint64_t end, uint64_t pa, unsigned flags) {
    for (; va < end; va += PAGE, pa += PAGE) {
        uint64_t *e = walk(root, va, 0, true);
        if (!e)
            return -1;
        *e = pa | leaf_bits(flags, va >= UPPER_HALF);
        flush_page(root, va);
    }
    return 0;
}

static uint64_t round_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static uint64_t round_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }

static int map_device_pages(uint64_t pa, uint64_t len) {
    uint64_t start = round_down(pa, PAGE), end = round_up(pa + len, PAGE);
    return map_range(kernel_root, UPPER_HALF + start, UPPER_HALF + end, start, HAL_MAP_WRITE | HAL_MAP_NOCACHE);
}

void hal_mmu_kernel_image(uint64_t *start, uint64_t *end) {
    *start = (uint64_t)__kernel_phys_start;
    *end = (uint64_t)__kernel_phys_end;
}

// The image, W^X per section, and its alias in the window made read-only where it holds code
// and constants: no writable mapping of kernel text anywhere.
static int map_image(uint64_t root) {
    struct {
        char *start, *end;
        unsigned flags;
    } parts[] = {
        {__text_start, __rodata_start, HAL_MAP_EXEC},
        {__rodata_start, __data_start, 0},
        {__data_start, __bss_end, HAL_MAP_WRITE},
    };
    for (unsigned i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        uint64_t s = round_down((uint64_t)parts[i].start, PAGE), e = round_up((uint64_t)parts[i].end, PAGE);
        if (map_range(root, s, e, s - KERNEL_VMA, parts[i].flags) < 0)
            return -1;
        if (!(parts[i].flags & HAL_MAP_WRITE) && e - KERNEL_VMA <= window_top &&
            map_range(root, UPPER_HALF + s - KERNEL_VMA, UPPER_HALF + e - KERNEL_VMA, s - KERNEL_VMA, 0) < 0)
            return -1;
    }
    return 0;
}

// Without SMAP, stac and clac are invalid opcodes: turn them into 3-byte NOPs while the boot
// tables still map the text writable.
static void patch_smap_sites(void) {
    for (char *const *p = hal_smap_sites; p < hal_smap_sites_end; p++) {
        volatile uint8_t *insn = (volatile uint8_t *)*p;
        insn[0] = 0x0f, insn[1] = 0x1f, insn[2] = 0x00;
    }
}

static void append(const char *s) {
    size_t n = 0;
    while (summary[n])
        n++;
    if (n && *s != ',' && n + 1 < sizeof summary)
        summary[n++] = ' ';
    for (; *s && n + 1 < sizeof summary; s++)
        summary[n++] = *s;
    summary[n] = 0;
}

const char *hal_mmu_init(hal_frame_alloc_t alloc, hal_frame_free_t free, uint64_t phys_top) {
    alloc_frame = alloc;
    free_frame = free;
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    cpuid(1, 0, r);
    has_pge = r[3] & (1u << 13);
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        has_smep = r[1] & (1u << 7);
        has_smap = r[1] & (1u << 20);
    }
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000001u) {
        cpuid(0x80000001u, 0, r);
        has_nx = r[3] & (1u << 20);
        has_1g = r[3] & (1u << 26);
    }

    window_top = round_up(phys_top, MIB2);
    if (window_top > WINDOW_MAX)
        window_top = WINDOW_MAX;
    uint64_t root = alloc();
    if (!root)
        return NULL;
    uint64_t *pml4 = table(root);
    for (int i = 256; i < 512; i++) {
        uint64_t pdpt = alloc();
        if (!pdpt)
            return NULL;
        pml4[i] = pdpt | PTE_P | PTE_W;
    }
    kernel_root = root;
    if (map_window(root, window_top) < 0 || map_image(root) < 0)
        return NULL;
    for (int i = 0; i < early_count; i++)
        if (map_device_pages(early_devices[i].pa, early_devices[i].len) < 0)
            return NULL;
    if (!has_smap)
        patch_smap_sites();

    if (has_nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    write_cr3(root);
    active_root = root;
    uint64_t cr4 = read_cr4();
    if (has_pge)
        cr4 |= CR4_PGE;
    if (has_smep)
        cr4 |= CR4_SMEP;
    if (has_smap)
        cr4 |= CR4_SMAP;
    write_cr4(cr4);
    write_cr0(read_cr0() | CR0_WP);
    flush_all();

    append(has_nx ? "NX" : "no-NX");
    if (has_smep)
        append("SMEP");
    if (has_smap)
        append("SMAP");
    append("WP");
    if (has_pge)
        append("PGE");
    if (has_1g)
        append("1G-pages");
    append(has_nx ? ", kernel W^X" : ", kernel W^X without NX (data executable)");
    return summary;
}

uint64_t hal_mmu_kernel_root(void) { return kernel_root; }

uint64_t hal_mmu_new_root(void) {
    uint64_t root = alloc_frame ? alloc_frame() : 0;
    if (!root)
        return 0;
    uint64_t *dst = table(root), *src = table(kernel_root);
    for (int i = 256; i < 512; i++)
        dst[i] = src[i];
    return root;
}

void hal_mmu_free_root(uint64_t root) {
    if (!root || root == kernel_root)
        return;
    if (root == active_root)
        hal_mmu_activate(kernel_root);
    uint64_t *pml4 = table(root);
    for (int i = 0; i < 256; i++) {
        if (!(pml4[i] & PTE_P))
            continue;
        uint64_t *pdpt = table(pml4[i]);
        for (int j = 0; j < 512; j++) {
            if (!(pdpt[j] & PTE_P) || (pdpt[j] & PTE_PS))
                continue;
            uint64_t *pd = table(pdpt[j]);
            for (int k = 0; k < 512; k++)
                if ((pd[k] & PTE_P) && !(pd[k] & PTE_PS))
                    free_frame(pd[k] & PTE_ADDR);
            free_frame(pdpt[j] & PTE_ADDR);
        }
        free_frame(pml4[i] & PTE_ADDR);
    }
    free_frame(root);
}

// Mappings the kernel may change through hal_mmu_map/unmap: user pages below LOWER_TOP with
// HAL_MAP_USER, kernel pages in the upper half outside the window and the image.
static bool mappable(uint64_t va, unsigned flags) {
    if (va & (PAGE - 1))
        return false;
    if (va < LOWER_TOP)
        return (flags & HAL_MAP_USER) && (flags & (HAL_MAP_WRITE | HAL_MAP_EXEC)) != (HAL_MAP_WRITE | HAL_MAP_EXEC);
    return va >= UPPER_HALF && !in_window(va) && va < KERNEL_VMA && !(flags & HAL_MAP_USER);
}

int hal_mmu_map(uint64_t root, uint64_t va, uint64_t pa, unsigned flags) {
    if (!root || !mappable(va, flags) || (pa & ~PTE_ADDR))
        return -1;
    uint64_t *e = walk(root, va, 0, true);
    if (!e)
        return -1;
    *e = pa | leaf_bits(flags, va >= UPPER_HALF);
    flush_page(root, va);
    return 0;
}

// TABLE has no entry left besides the one at FROM just cleared (looking from there on
// first: unmapping a range in order finds the next entry at once).
static bool empty(const uint64_t *table, unsigned from) {
    for (unsigned i = 1; i < 512; i++)
        if (table[(from + i) & 511])
            return false;
    return true;
}

// Give back the page table (and page directory) that unmapping VA emptied, so that memory freed
// is freed entirely. The upper half's PDPTs stay: every root points at them.
static void release_tables(uint64_t root, uint64_t va) {
    uint64_t *pml4e = &table(root)[slot(va, 3)];
    uint64_t *pdpte = &table(*pml4e)[slot(va, 2)];
    uint64_t *pde = &table(*pdpte)[slot(va, 1)];
    if (!empty(table(*pde), slot(va, 0)))
        return;
    uint64_t f = *pde & PTE_ADDR;
    *pde = 0;
    // One invlpg drops every paging-structure cache entry, whatever its address.
    flush_page(root, va);
    free_frame(f);
    if (!empty(table(*pdpte), slot(va, 1)))
        return;
    f = *pdpte & PTE_ADDR;
    *pdpte = 0;
    flush_page(root, va);
    free_frame(f);
    if (va >= UPPER_HALF || !empty(table(*pml4e), slot(va, 2)))
        return;
    f = *pml4e & PTE_ADDR;
    *pml4e = 0;
    flush_page(root, va);
    free_frame(f);
}

static uint64_t unmap(uint64_t root, uint64_t va, bool release) {
    if (!root || !mappable(va, va < LOWER_TOP ? HAL_MAP_USER : 0))
        return 0;
    uint64_t *e = walk(root, va, 0, false);
    if (!e || !(*e & PTE_P))
        return 0;
    uint64_t pa = *e & PTE_ADDR;
    *e = 0;
    flush_page(root, va);
    if (release)
        release_tables(root, va);
    return pa;
}

uint64_t hal_mmu_unmap(uint64_t root, uint64_t va) { return unmap(root, va, true); }
uint64_t hal_mmu_clear(uint64_t root, uint64_t va) { return unmap(root, va, false); }

int hal_mmu_prepare(uint64_t root, uint64_t va) {
    va &= ~(PAGE - 1);
    if (!root || !mappable(va, va < LOWER_TOP ? HAL_MAP_USER : 0))
        return -1;
    return walk(root, va, 0, true) ? 0 : -1;
}

void hal_mmu_trim(uint64_t root, uint64_t va) {
    va &= ~(PAGE - 1);
    if (!root || !mappable(va, va < LOWER_TOP ? HAL_MAP_USER : 0))
        return;
    uint64_t *pde = walk(root, va, 1, false);
    if (!pde || !(*pde & PTE_P) || (*pde & PTE_PS))
        return;
    const uint64_t *pt = table(*pde);
    for (int i = 0; i < 512; i++)
        if (pt[i])
            return;
    release_tables(root, va);
}

bool hal_mmu_query(uint64_t root, uint64_t va, uint64_t *pa, unsigned *flags) {
    if (!root || (va >= LOWER_TOP && va < UPPER_HALF))
        return false;
    uint64_t *t = table(root);
    for (int l = 3; l >= 0; l--) {
        uint64_t e = t[slot(va, l)];
        if (!(e & PTE_P))
            return false;
        if (l == 0 || (l < 3 && (e & PTE_PS))) {
            uint64_t size = level_size(l);
            if (pa)
                *pa = (e & PTE_ADDR & ~(size - 1)) + (va & (size - 1));
            if (flags)
                *flags = (e & PTE_W ? HAL_MAP_WRITE : 0) | (e & PTE_NX ? 0 : HAL_MAP_EXEC) |
                         (e & PTE_U ? HAL_MAP_USER : 0) | (e & PTE_PCD ? HAL_MAP_NOCACHE : 0);
            return true;
        }
        t = table(e);
    }
    return false;
}

void hal_mmu_activate(uint64_t root) {
    if (!root)
        root = kernel_root;
    if (!root || root == active_root)
        return;
    write_cr3(root);
    active_root = root;
}

void *hal_mmu_map_device(uint64_t pa, uint64_t len) {
    // A bigger "device" is a bad value from the firmware or the loader, not a framebuffer.
    if (!len || len > DEVICE_MAX || pa + len < pa || pa + len > WINDOW_MAX)
        return NULL;
    if (!kernel_root) {
        // The boot tables map the first 4 GiB (cached, but the firmware's MTRRs keep MMIO
        // uncached); remember the range for the final tables.
        if (pa + len > BOOT_WINDOW || early_count == (int)(sizeof early_devices / sizeof early_devices[0]))
            return NULL;
        early_devices[early_count].pa = pa;
        early_devices[early_count].len = len;
        early_count++;
        return hal_phys_to_virt(pa);
    }
    unsigned long fl = hal_irq_save();
    int r = map_device_pages(pa, len);
    hal_irq_restore(fl);
    return r < 0 ? NULL : hal_phys_to_virt(pa);
}

bool hal_in_usercopy(uint64_t rip) {
    return rip >= (uint64_t)hal_usercopy_start && rip < (uint64_t)hal_usercopy_end;
}

bool hal_usercopy_fixup(struct hal_trapframe *tf) {
    // Only a page fault on a user address, raised in ring 0 inside the copy routines.
    if (tf->vector != 14 || (tf->cs & 3) || hal_read_cr2() >= LOWER_TOP || !hal_in_usercopy(tf->rip))
        return false;
    tf->rip = (uint64_t)hal_usercopy_fault;
    return true;
}
