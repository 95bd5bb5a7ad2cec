// In-guest checks of the memory code (mos.ktest=mm), and faults the protections must raise
// (mos.ktest=mm-null, mm-wx, mm-nx, mm-smap, mm-smep, mm-guard: each ends in a #PF panic).
#include <hal/hal.h>
#include <hal/mmu.h>
#include <kernel/klog.h>
#include <kernel/ktest.h>
#include <kernel/mm.h>
#include <kernel/string.h>
#include <multios/errno.h>

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            klog("ktest mm: check failed at line %d: %s\n", __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static const char rodata_probe[] = "read-only";
static char data_probe[64] = "writable";

static unsigned kflags(const void *p) {
    unsigned f = 0;
    if (!hal_mmu_query(hal_mmu_kernel_root(), (uint64_t)p, NULL, &f))
        return ~0u;
    return f;
}

// The kernel's own mappings: W^X, an NX window, nothing at the bottom of the address space.
static void check_kernel_mappings(void) {
    CHECK(kflags((const void *)mm_ktest) == HAL_MAP_EXEC);
    CHECK(kflags(rodata_probe) == 0);
    CHECK(kflags(data_probe) == HAL_MAP_WRITE);
    uint64_t f = pmm_alloc();
    CHECK(f && kflags(hal_phys_to_virt(f)) == HAL_MAP_WRITE);
    pmm_free(f);
    uint64_t root = hal_mmu_kernel_root();
    CHECK(!hal_mmu_query(root, 0, NULL, NULL));
    CHECK(!hal_mmu_query(root, 0x100000, NULL, NULL)); // no identity map of low memory
    CHECK(!hal_mmu_query(root, 0xb8000, NULL, NULL));
    // The window's alias of the kernel text is not writable either.
    uint64_t text_phys;
    CHECK(hal_mmu_query(root, (uint64_t)mm_ktest, &text_phys, NULL));
    CHECK(kflags(hal_phys_to_virt(text_phys)) == 0);
}

static void check_frames_and_heap(void) {
    uint64_t free0 = pmm_free_frames();
    static uint64_t frames[512];
    for (int i = 0; i < 512; i++) {
        frames[i] = pmm_alloc();
        CHECK(frames[i]);
        const uint64_t *p = hal_phys_to_virt(frames[i]);
        for (int j = 0; j < 512; j += 97)
            CHECK(p[j] == 0);
        memset(hal_phys_to_virt(frames[i]), 0xa5, PAGE_SIZE);
    }
    CHECK(pmm_free_frames() == free0 - 512);
    for (int i = 0; i < 512; i++)
        pmm_free(frames[i]);
    CHECK(pmm_free_frames() == free0);

    static void *ptrs[600];
    static const size_t sizes[] = {8, 24, 100, 300, 700, 2000, 4000, 9000, 70000};
    for (int cycle = 0; cycle < 20; cycle++) {
        for (int i = 0; i < 600; i++) {
            ptrs[i] = kmalloc(sizes[i % 9]);
            CHECK(ptrs[i] && ((uint64_t)ptrs[i] & 15) == 0);
            if (ptrs[i])
                memset(ptrs[i], i, sizes[i % 9]);
        }
        for (int i = 0; i < 600; i++)
            kfree(ptrs[(i * 7) % 600]);
    }
    CHECK(pmm_free_frames() == free0);

    void *stacks[64];
    for (int i = 0; i < 64; i++) {
        stacks[i] = kstack_alloc(16384);
        CHECK(stacks[i] && kstack_is_guard((uint64_t)stacks[i] - 1));
        if (stacks[i])
            memset(stacks[i], 0x5a, 16384);
    }
    for (int i = 0; i < 64; i++)
        kstack_free(stacks[i], 16384);
    CHECK(pmm_free_frames() == free0);
}

#define UBASE 0x400000ull

static void on_trap(struct hal_trapframe *tf) {
    if (hal_usercopy_fixup(tf))
        return;
    panic("ktest mm: %s at rip %#lx cr2 %#lx error %#lx", hal_trap_name(tf->vector), tf->rip, hal_read_cr2(),
          tf->error);
}

// User copies through a live address space: stac/clac around the copies (SMAP is on), and
// faults on unmapped or read-only user pages come back as -EFAULT.
static void check_user_copies(void) {
    hal_trap_set_handler(on_trap);
    uint64_t free0 = pmm_free_frames();
    struct vm_space *vs = vm_create();
    CHECK(vs);
    if (!vs)
        return;
    CHECK(vm_alloc(vs, UBASE, 2 * PAGE_SIZE, VM_READ | VM_WRITE | VM_USER) == 0);
    CHECK(vm_alloc(vs, UBASE + 4 * PAGE_SIZE, PAGE_SIZE, VM_READ | VM_USER) == 0);
    CHECK(vm_write(vs, UBASE + PAGE_SIZE - 3, "hello, user", 12) == 0);
    vm_activate(vs);
    char buf[32];
    CHECK(copy_from_user(buf, (const void *)(UBASE + PAGE_SIZE - 3), 12) == 0 && strcmp(buf, "hello, user") == 0);
    CHECK(strncpy_from_user(buf, (const char *)(UBASE + PAGE_SIZE - 3), sizeof buf) == 11);
    CHECK(strncpy_from_user(buf, (const char *)(UBASE + PAGE_SIZE - 3), 5) == -MOS_ENAMETOOLONG);
    CHECK(copy_to_user((void *)(UBASE + 100), "back", 5) == 0);
    CHECK(copy_from_user(buf, (const void *)(UBASE + 100), 5) == 0 && strcmp(buf, "back") == 0);
    // Unmapped, read-only, running off the end of a mapping, kernel addresses.
    CHECK(copy_from_user(buf, (const void *)(UBASE + 2 * PAGE_SIZE), 4) == -MOS_EFAULT);
    CHECK(copy_from_user(buf, (const void *)(UBASE + 2 * PAGE_SIZE - 2), 4) == -MOS_EFAULT);
    CHECK(copy_to_user((void *)(UBASE + 4 * PAGE_SIZE), "x", 1) == -MOS_EFAULT);
    CHECK(strncpy_from_user(buf, (const char *)(UBASE + 3 * PAGE_SIZE), sizeof buf) == -MOS_EFAULT);
    CHECK(copy_from_user(buf, (const void *)data_probe, 4) == -MOS_EFAULT);
    CHECK(copy_to_user((void *)0, "x", 1) == -MOS_EFAULT);
    vm_activate(NULL);
    vm_destroy(vs);
    CHECK(pmm_free_frames() == free0);

    // Spawn-like churn: a space with an image, a stack and an mmap region, a thousand times.
    for (int i = 0; i < 1000; i++) {
        vs = vm_create();
        CHECK(vs);
        if (!vs)
            break;
        CHECK(vm_alloc(vs, UBASE, 3 * PAGE_SIZE, VM_READ | VM_WRITE | VM_USER) == 0);
        CHECK(vm_write(vs, UBASE + 10, "code", 4) == 0);
        CHECK(vm_protect(vs, UBASE, 3 * PAGE_SIZE, VM_READ | VM_EXEC | VM_USER) == 0);
        CHECK(vm_alloc(vs, USER_STACK_TOP - 16 * PAGE_SIZE, 16 * PAGE_SIZE, VM_READ | VM_WRITE | VM_USER) == 0);
        uint64_t m = vm_find_free(vs, 8 * PAGE_SIZE);
        CHECK(m >= USER_MMAP_BASE && vm_alloc(vs, m, 8 * PAGE_SIZE, VM_READ | VM_WRITE | VM_USER) == 0);
        vm_activate(vs);
        vm_activate(NULL);
        vm_destroy(vs);
    }
    CHECK(pmm_free_frames() == free0);
}

int mm_ktest(void) {
    failures = 0;
    uint64_t free0 = pmm_free_frames();
    check_kernel_mappings();
    check_frames_and_heap();
    check_user_copies();
    klog("ktest mm: %lu of %lu frames free before, %lu after; %d failed checks\n", free0, pmm_total_frames(),
         pmm_free_frames(), failures);
    return failures ? -1 : 0;
}

// --- faults ---------------------------------------------------------------------------------

static void *launder(void *p) {
    __asm__ volatile("" : "+r"(p)); // hide the value from the optimiser: no UB shortcuts
    return p;
}

int mm_ktest_null(void) {
    *(volatile int *)launder(NULL) = 1;
    return -1;
}

int mm_ktest_wx(void) {
    *(volatile uint8_t *)launder((void *)mm_ktest_wx) = 0xc3;
    return -1;
}

int mm_ktest_nx(void) {
    static uint8_t code[16] = {0xc3}; // ret, in .data
    ((void (*)(void))launder(code))();
    return -1;
}

static struct vm_space *user_page(unsigned flags, uint8_t byte) {
    struct vm_space *vs = vm_create();
    if (!vs || vm_alloc(vs, UBASE, PAGE_SIZE, VM_READ | VM_WRITE | VM_USER) < 0 ||
        vm_write(vs, UBASE, &byte, 1) < 0 || vm_protect(vs, UBASE, PAGE_SIZE, flags) < 0)
        panic("ktest: no user page");
    vm_activate(vs);
    klog("ktest: user page at %#lx\n", (uint64_t)UBASE);
    return vs;
}

int mm_ktest_smap(void) {
    user_page(VM_READ | VM_WRITE | VM_USER, 0x42);
    uint8_t v = *(volatile uint8_t *)launder((void *)UBASE);
    klog("ktest mm-smap: read %#x from a user page without a fault\n", v);
    return -1;
}

int mm_ktest_smep(void) {
    user_page(VM_READ | VM_EXEC | VM_USER, 0xc3);
    ((void (*)(void))launder((void *)UBASE))();
    klog("ktest mm-smep: ran user code in ring 0\n");
    return -1;
}

int mm_ktest_guard(void) {
    uint8_t *stack = kstack_alloc(16384);
    if (!stack)
        return -1;
    klog("ktest mm-guard: stack at %p, guard page %s\n", (void *)stack,
         kstack_is_guard((uint64_t)stack - 8) ? "below" : "missing");
    *(volatile uint64_t *)launder(stack - 8) = 0;
    return -1;
}
