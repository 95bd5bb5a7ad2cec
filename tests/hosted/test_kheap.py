"""kernel/mm/kheap.c and kstack.c on the host, over the real frame allocator: size classes,
alignment, random alloc/free sequences checked for overlap (and by ASan, which the heap tells
which bytes are handed out), no growth over cycles, exhaustion, bad and double frees caught,
guard pages after large allocations and below kernel stacks."""
import random

import pytest

import hostlib

KiB, MiB = 1 << 10, 1 << 20
PAGE = 4096

CDEF = """
void kheap_init(void);
void *kmalloc(size_t n);
void *kzalloc(size_t n);
void kfree(void *p);
void *kstack_alloc(size_t size);
void kstack_free(void *base, size_t size);
bool kstack_is_guard(uint64_t addr);
uint64_t pmm_free_frames(void);
uint64_t pmm_total_frames(void);
uint64_t hal_mmu_kernel_root(void);
bool hal_mmu_query(uint64_t root, uint64_t va, uint64_t *pa, unsigned *flags);
int setup(uint64_t arena);
int try_kfree(void *p);
int try_kstack_free(void *base, size_t size);
int poisoned(const void *p);
"""
EXTRA = r"""
#include <kernel/mm.h>
#include <string.h>
static struct boot_info info;
int setup(uint64_t arena) {
    if (hosted_phys_init(arena))
        return -1;
    memset(&info, 0, sizeof info);
    info.mmap[0] = (struct boot_mmap_entry){1 << 20, arena - (1 << 20), BOOT_MEM_USABLE};
    info.mmap_count = 1;
    pmm_init(&info);
    kheap_init();
    return 0;
}
int try_kfree(void *p) { return HOSTED_TRY(kfree(p)); }
int try_kstack_free(void *base, size_t size) { return HOSTED_TRY(kstack_free(base, size)); }
int __asan_address_is_poisoned(void const volatile *addr);
int poisoned(const void *p) { return __asan_address_is_poisoned(p); }
"""
SOURCES = ["kernel/mm/kheap.c", "kernel/mm/pmm.c", "kernel/mm/vrange.c", "kernel/mm/kstack.c"]


@pytest.fixture(scope="module")
def built():
    return hostlib.build("kheap", SOURCES, CDEF, EXTRA)


@pytest.fixture
def heap(built):
    ffi, lib = built
    assert lib.setup(64 * MiB) == 0
    yield ffi, lib
    assert lib.hosted_irq_depth() == 0, "an interrupts-off section was left open"


def addr(ffi, p):
    return int(ffi.cast("uintptr_t", p))


def panic_text(ffi, lib):
    return ffi.string(lib.hosted_panic_message()).decode()


def test_every_size_is_16_byte_aligned_and_usable(heap):
    ffi, lib = heap
    free0 = lib.pmm_free_frames()
    sizes = list(range(0, 300)) + [1000, 1008, 1009, 1344, 2015, 2016, 2017, 3000, 4095, 4096, 4097, 8191, 8192,
                                   65536, 300000]
    ptrs = []
    for n in sizes:
        p = lib.kmalloc(n)
        assert p != ffi.NULL, n
        assert addr(ffi, p) % 16 == 0, (n, hex(addr(ffi, p)))
        ffi.memmove(p, bytes([n & 0xFF]) * n, n)
        ptrs.append((p, n))
    for p, n in ptrs:
        assert ffi.buffer(p, n)[:] == bytes([n & 0xFF]) * n, n
        lib.kfree(p)
    assert lib.pmm_free_frames() == free0


def test_asan_sees_exactly_the_bytes_handed_out(heap):
    ffi, lib = heap
    p = lib.kmalloc(24)
    other = lib.kmalloc(24)            # keeps the slab (and its poisoning) alive
    c = ffi.cast("char *", p)
    assert not lib.poisoned(c) and not lib.poisoned(c + 23)
    assert lib.poisoned(c + 24)        # the rest of its 32-byte slot
    lib.kfree(p)
    assert lib.poisoned(c)             # use after free would be reported
    lib.kfree(other)


def test_random_sequences_never_overlap_and_return_every_frame(heap):
    ffi, lib = heap
    rng = random.Random(1234)
    free0 = lib.pmm_free_frames()
    live = {}
    for step in range(30000):
        if live and (rng.random() < 0.48 or len(live) > 3000):
            key = rng.choice(list(live)) if step % 7 == 0 else next(iter(live))
            p, n, tag = live.pop(key)
            assert ffi.buffer(p, n)[:] == tag * n, "allocation %#x of %d bytes was overwritten" % (key, n)
            lib.kfree(p)
            continue
        r = rng.random()
        n = rng.randint(1, 256) if r < 0.7 else rng.randint(257, 2016) if r < 0.9 else \
            rng.randint(2017, 4096) if r < 0.97 else rng.randint(4097, 40000)
        p = lib.kmalloc(n)
        assert p != ffi.NULL
        a = addr(ffi, p)
        assert a % 16 == 0 and a not in live
        tag = bytes([step & 0xFF])
        ffi.memmove(p, tag * n, n)
        live[a] = (p, n, tag)
    for p, n, tag in live.values():
        assert ffi.buffer(p, n)[:] == tag * n
        lib.kfree(p)
    assert lib.pmm_free_frames() == free0


def test_no_growth_over_cycles(heap):
    ffi, lib = heap
    free0 = lib.pmm_free_frames()
    sizes = [16, 40, 100, 200, 500, 1500, 2016, 3000, 4096, 10000, 70000] * 20
    for cycle in range(50):
        ptrs = [lib.kmalloc(n) for n in sizes]
        assert ffi.NULL not in ptrs
        for p in reversed(ptrs) if cycle % 2 else ptrs:
            lib.kfree(p)
        assert lib.pmm_free_frames() == free0, "cycle %d kept frames" % cycle


def test_kzalloc_zeroes_recycled_memory(heap):
    ffi, lib = heap
    for n in (48, 1000, 4000, 9000):
        p = lib.kmalloc(n)
        ffi.memmove(p, b"\xff" * n, n)
        lib.kfree(p)
        q = lib.kzalloc(n)
        assert ffi.buffer(q, n)[:] == bytes(n)
        lib.kfree(q)


def test_large_allocations_have_a_guard_page_and_are_unmapped_when_freed(heap):
    ffi, lib = heap
    root = lib.hal_mmu_kernel_root()
    p = lib.kmalloc(3 * PAGE + 1)
    a = addr(ffi, p)
    assert a % PAGE == 0
    for i in range(4):
        assert lib.hal_mmu_query(root, a + i * PAGE, ffi.NULL, ffi.NULL)
    assert not lib.hal_mmu_query(root, a + 4 * PAGE, ffi.NULL, ffi.NULL)   # the guard
    q = lib.kmalloc(2 * PAGE)
    assert addr(ffi, q) >= a + 5 * PAGE                                     # after it
    lib.kfree(p)
    for i in range(4):
        assert not lib.hal_mmu_query(root, a + i * PAGE, ffi.NULL, ffi.NULL)
    lib.kfree(q)


@pytest.mark.parametrize("n", [16, 500, 2016, 4096, 20000])
def test_exhaustion_returns_null_and_recovers(built, n):
    ffi, lib = built
    assert lib.setup(4 * MiB) == 0
    free0 = lib.pmm_free_frames()
    ptrs = []
    while True:
        p = lib.kmalloc(n)
        if p == ffi.NULL:
            break
        ptrs.append(p)
        assert len(ptrs) < 400000
    assert ptrs and lib.pmm_free_frames() < 20
    assert lib.kmalloc(n) == ffi.NULL
    for p in ptrs:
        lib.kfree(p)
    assert lib.pmm_free_frames() == free0
    assert lib.hosted_irq_depth() == 0


@pytest.mark.parametrize("n", [32, 1344, 4096, 12000])
def test_double_free_is_caught(heap, n):
    ffi, lib = heap
    p = lib.kmalloc(n)
    keep = lib.kmalloc(n)  # keeps a slab alive, so the double free hits a live slab
    assert lib.try_kfree(p) == 0
    assert lib.try_kfree(p) == -1
    assert "twice" in panic_text(ffi, lib)
    lib.kfree(keep)


def test_bad_pointers_are_caught(heap):
    ffi, lib = heap
    p = ffi.cast("char *", lib.kmalloc(64))
    assert lib.try_kfree(p + 16) == -1
    assert "not the start of a heap object" in panic_text(ffi, lib)
    host = ffi.new("char[64]")
    assert lib.try_kfree(host) == -1
    assert "not from the kernel heap" in panic_text(ffi, lib)
    big = ffi.cast("char *", lib.kmalloc(5 * PAGE))
    assert lib.try_kfree(big + PAGE) == -1
    assert "not a heap allocation" in panic_text(ffi, lib)
    lib.kfree(p)
    lib.kfree(big)
    lib.kfree(ffi.NULL)


def test_kernel_stacks_sit_over_guard_pages(heap):
    ffi, lib = heap
    free0 = lib.pmm_free_frames()
    root = lib.hal_mmu_kernel_root()
    stacks = [lib.kstack_alloc(16 * KiB) for _ in range(50)]
    assert ffi.NULL not in stacks
    for s in stacks:
        a = addr(ffi, s)
        assert a % PAGE == 0
        assert lib.kstack_is_guard(a - 1) and lib.kstack_is_guard(a - PAGE)
        assert not lib.kstack_is_guard(a) and not lib.kstack_is_guard(a + 16 * KiB - 1)
        assert not lib.hal_mmu_query(root, a - PAGE, ffi.NULL, ffi.NULL)
        ffi.memmove(s, b"\x5a" * (16 * KiB), 16 * KiB)      # the whole stack is writable
    assert lib.pmm_free_frames() == free0 - 50 * 4
    assert lib.try_kstack_free(stacks[0], 8 * KiB) == -1   # the wrong size
    assert "not a kernel stack" in panic_text(ffi, lib)
    assert lib.try_kstack_free(ffi.cast("char *", stacks[0]) + PAGE, 12 * KiB) == -1
    for s in stacks:
        lib.kstack_free(s, 16 * KiB)
    assert lib.pmm_free_frames() == free0
    # Freed ranges are reused.
    again = lib.kstack_alloc(16 * KiB)
    assert addr(ffi, again) in {addr(ffi, s) for s in stacks}
    lib.kstack_free(again, 16 * KiB)


def test_kernel_stack_sizes(heap):
    ffi, lib = heap
    assert lib.kstack_alloc(0) == ffi.NULL
    assert lib.kstack_alloc(1 << 30) == ffi.NULL
    s = lib.kstack_alloc(100)
    assert s != ffi.NULL
    lib.kstack_free(s, 100)
