"""kernel/mm/vm.c and usercopy.c on the host, over the real frame allocator and heap and the
fake HAL's page tables: address spaces own exactly their frames, refuse W+X and bad ranges,
roll back cleanly when memory runs out, split regions on partial unmaps, place mmap regions,
change protection, write into other spaces, back lazy regions page by page on faults from
frames reserved at the mapping (so a fault never runs out of memory, and the reservation comes
back exactly); user copies check ranges and survive faults."""
import random

import pytest

import hostlib

KiB, MiB = 1 << 10, 1 << 20
PAGE = 4096
USER_TOP = 0x00007FFFFFFFF000
USER_MMAP_BASE = 0x100000000000
USER_STACK_LIMIT = 0x7FFF00000000
EFAULT, ENOMEM, EEXIST, EINVAL, ENAMETOOLONG = 14, 12, 17, 22, 36
R, W, X, U, LAZY, CACHE = 1, 2, 4, 8, 16, 32
HAL_WRITE, HAL_EXEC, HAL_USER = 1, 2, 4

CDEF = """
struct vm_space;
struct vm_space *vm_create(void);
void vm_destroy(struct vm_space *vs);
void vm_activate(struct vm_space *vs);
long vm_alloc(struct vm_space *vs, uint64_t va, size_t len, unsigned flags);
long vm_map_shared(struct vm_space *vs, uint64_t va, const uint64_t *frames, size_t count, unsigned flags);
long vm_unmap(struct vm_space *vs, uint64_t va, size_t len);
uint64_t vm_find_free(struct vm_space *vs, size_t len);
long vm_protect(struct vm_space *vs, uint64_t va, size_t len, unsigned flags);
long vm_write(struct vm_space *vs, uint64_t va, const void *src, size_t len);
long vm_fault(struct vm_space *vs, uint64_t va, unsigned access);
long vm_read(struct vm_space *vs, uint64_t va, void *dst, size_t len);
long vm_write_checked(struct vm_space *vs, uint64_t va, const void *src, size_t len);
uint64_t vm_pages(const struct vm_space *vs);
long vm_alloc_from(struct vm_space *vs, uint64_t va, size_t len, unsigned flags, const void *data, uint64_t data_va,
                   size_t data_len);
uint64_t vs_root(struct vm_space *vs);
uint64_t pmm_alloc(void);
void pmm_free(uint64_t phys);
uint64_t pmm_free_frames(void);
uint64_t pmm_reserved_frames(void);
uint64_t hal_mmu_kernel_root(void);
bool hal_mmu_query(uint64_t root, uint64_t va, uint64_t *pa, unsigned *flags);
long copy_from_user(void *dst, const void *usrc, size_t n);
long copy_to_user(void *udst, const void *src, size_t n);
long strncpy_from_user(char *dst, const char *usrc, size_t max);
bool user_range_ok(uint64_t addr, size_t len);
int setup(uint64_t arena);
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
    vm_init();
    kheap_init();
    return 0;
}
// The root is the first field of the (private) struct vm_space.
uint64_t vs_root(struct vm_space *vs) { return *(uint64_t *)vs; }
"""
SOURCES = ["kernel/mm/vm.c", "kernel/mm/usercopy.c", "kernel/mm/kheap.c", "kernel/mm/pmm.c",
           "kernel/mm/vrange.c", "kernel/mm/kstack.c"]
BASE = 0x400000


@pytest.fixture(scope="module")
def built():
    return hostlib.build("vm", SOURCES, CDEF, EXTRA)


class Space:
    def __init__(self, ffi, lib):
        self.ffi, self.lib = ffi, lib
        self.vs = lib.vm_create()
        assert self.vs != ffi.NULL
        self.root = lib.vs_root(self.vs)

    def query(self, va):
        pa, flags = self.ffi.new("uint64_t *"), self.ffi.new("unsigned *")
        if not self.lib.hal_mmu_query(self.root, va, pa, flags):
            return None
        return pa[0], flags[0]

    def mapped(self):
        return self.lib.hosted_mmu_mappings(self.root)

    def read(self, va, n):
        pa, _ = self.query(va & ~(PAGE - 1))
        return self.ffi.buffer(self.lib.hosted_phys_base + pa + (va & (PAGE - 1)), n)[:]


@pytest.fixture
def vm(built):
    ffi, lib = built
    assert lib.setup(64 * MiB) == 0
    yield ffi, lib
    assert lib.hosted_irq_depth() == 0, "an interrupts-off section was left open"


def test_destroy_returns_every_frame(vm):
    ffi, lib = vm
    free0 = lib.pmm_free_frames()
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE, 5 * PAGE, R | X | U) == 0
    assert lib.vm_alloc(s.vs, BASE + 16 * PAGE, 3 * PAGE + 1, R | W | U) == 0   # rounded up
    assert lib.vm_alloc(s.vs, USER_TOP - 8 * PAGE, 8 * PAGE, R | W) == 0
    assert lib.vm_pages(s.vs) == 17 and s.mapped() == 17
    assert s.query(BASE)[1] == HAL_USER | HAL_EXEC
    assert s.query(BASE + 16 * PAGE)[1] == HAL_USER | HAL_WRITE
    assert all(s.read(BASE + i * PAGE, PAGE) == bytes(PAGE) for i in range(5))
    lib.vm_destroy(s.vs)
    assert lib.pmm_free_frames() == free0
    assert lib.hosted_mmu_roots() == 0


def test_a_thousand_spaces_leak_nothing(vm):
    ffi, lib = vm
    free0 = lib.pmm_free_frames()
    frames = [lib.pmm_alloc() for _ in range(2)]
    arr = ffi.new("uint64_t[]", frames)
    for i in range(1000):
        s = lib.vm_create()
        assert lib.vm_alloc(s, BASE, 3 * PAGE, R | X) == 0
        assert lib.vm_alloc(s, BASE + 4 * PAGE, 2 * PAGE, R | W) == 0
        assert lib.vm_map_shared(s, USER_MMAP_BASE, arr, 2, R | W) == 0
        assert lib.vm_alloc(s, USER_TOP - 16 * PAGE, 16 * PAGE, R | W) == 0
        if i % 3 == 0:
            assert lib.vm_unmap(s, BASE + PAGE, PAGE) == 0   # a split
        lib.vm_activate(s)
        lib.vm_destroy(s)   # while active: falls back to the kernel's tables
        assert lib.hosted_mmu_active() == lib.hal_mmu_kernel_root()
    for f in frames:
        lib.pmm_free(f)
    assert lib.pmm_free_frames() == free0


@pytest.mark.parametrize("va,length,flags,err", [
    (BASE, PAGE, R | W | X, EINVAL),          # writable and executable
    (BASE, PAGE, W | X | U, EINVAL),
    (BASE + 1, PAGE, R, EINVAL),              # unaligned
    (BASE, 0, R, EINVAL),
    (0, PAGE, R, EINVAL),                     # the NULL page
    (0xF000, PAGE, R, EINVAL),                # below 64 KiB
    (USER_TOP, PAGE, R, EINVAL),              # the top of user space
    (USER_TOP - PAGE, 2 * PAGE, R, EINVAL),
    (0xFFFF800000000000, PAGE, R, EINVAL),    # the kernel half
    (BASE, (1 << 64) - PAGE, R, EINVAL),      # wraps
    (BASE, (1 << 64) - 1, R, EINVAL),         # rounds up to 0
    (BASE, PAGE, 0x100, EINVAL),              # unknown flag
])
def test_bad_requests_are_refused_without_side_effects(vm, va, length, flags, err):
    ffi, lib = vm
    s = Space(ffi, lib)
    free0 = lib.pmm_free_frames()
    assert lib.vm_alloc(s.vs, va, length, flags) == -err
    assert lib.pmm_free_frames() == free0 and s.mapped() == 0
    lib.vm_destroy(s.vs)


def test_overlaps_are_refused(vm):
    ffi, lib = vm
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE + 4 * PAGE, 4 * PAGE, R) == 0
    for va, n in [(BASE + 4 * PAGE, PAGE), (BASE + 7 * PAGE, 4 * PAGE), (BASE, 5 * PAGE), (BASE, 16 * PAGE)]:
        assert lib.vm_alloc(s.vs, va, n, R | W) == -EEXIST
    assert lib.vm_alloc(s.vs, BASE, 4 * PAGE, R) == 0          # adjacent below
    assert lib.vm_alloc(s.vs, BASE + 8 * PAGE, PAGE, R) == 0   # adjacent above
    assert lib.vm_pages(s.vs) == 9
    lib.vm_destroy(s.vs)


def test_out_of_memory_rolls_back(built):
    ffi, lib = built
    assert lib.setup(4 * MiB) == 0
    start = lib.pmm_free_frames()
    s = Space(ffi, lib)
    free0 = lib.pmm_free_frames()
    assert lib.vm_alloc(s.vs, BASE, (free0 + 10) * PAGE, R | W) == -ENOMEM
    assert lib.pmm_free_frames() == free0 and s.mapped() == 0 and lib.vm_pages(s.vs) == 0
    # A page-table allocation failing half way.
    lib.hosted_mmu_fail_after(5)
    assert lib.vm_alloc(s.vs, BASE, 20 * PAGE, R | W) == -ENOMEM
    assert lib.pmm_free_frames() == free0 and s.mapped() == 0
    frames = ffi.new("uint64_t[]", [lib.pmm_alloc() for _ in range(8)])
    lib.hosted_mmu_fail_after(3)
    assert lib.vm_map_shared(s.vs, BASE, frames, 8, R) == -ENOMEM
    assert s.mapped() == 0
    assert lib.vm_map_shared(s.vs, BASE, frames, 8, R) == 0
    lib.vm_destroy(s.vs)
    for f in frames:
        lib.pmm_free(f)
    assert lib.pmm_free_frames() == start
    assert lib.hosted_irq_depth() == 0


def test_shared_frames_are_not_owned(vm):
    ffi, lib = vm
    frames = [lib.pmm_alloc() for _ in range(3)]
    arr = ffi.new("uint64_t[]", frames)
    a = Space(ffi, lib)
    start = lib.pmm_free_frames()
    b = Space(ffi, lib)
    assert lib.vm_map_shared(a.vs, USER_MMAP_BASE, arr, 3, R | W) == 0
    assert lib.vm_map_shared(b.vs, BASE, arr, 3, R) == 0
    assert lib.vm_pages(a.vs) == 0
    assert a.query(USER_MMAP_BASE + PAGE)[0] == frames[1] == b.query(BASE + PAGE)[0]
    assert lib.vm_write(a.vs, USER_MMAP_BASE + PAGE + 10, b"shared", 6) == 0
    assert b.read(BASE + PAGE + 10, 6) == b"shared"
    assert lib.vm_unmap(a.vs, USER_MMAP_BASE, 3 * PAGE) == 0
    lib.vm_destroy(b.vs)
    assert lib.pmm_free_frames() == start   # b's root and heap objects, not the shared frames
    lib.vm_destroy(a.vs)
    for f in frames:
        lib.pmm_free(f)
    bad = ffi.new("uint64_t[]", [frames[0], 0x1234])
    s = Space(ffi, lib)
    assert lib.vm_map_shared(s.vs, BASE, bad, 2, R) == -EINVAL
    assert lib.vm_map_shared(s.vs, BASE, ffi.NULL, 2, R) == -EINVAL
    assert lib.vm_map_shared(s.vs, BASE, bad, 0, R) == -EINVAL
    lib.vm_destroy(s.vs)


def test_partial_unmaps_split_regions(vm):
    ffi, lib = vm
    start = lib.pmm_free_frames()
    s = Space(ffi, lib)
    free0 = lib.pmm_free_frames()
    assert lib.vm_alloc(s.vs, BASE, 10 * PAGE, R | W) == 0
    assert lib.vm_unmap(s.vs, BASE + 4 * PAGE, 2 * PAGE) == 0      # middle
    assert lib.vm_unmap(s.vs, BASE, PAGE) == 0                      # head
    assert lib.vm_unmap(s.vs, BASE + 9 * PAGE, PAGE) == 0           # tail
    assert lib.vm_pages(s.vs) == 6 and s.mapped() == 6
    assert lib.pmm_free_frames() == free0 - 6 - 1   # and a heap slab for the region nodes
    mapped = [i for i in range(10) if s.query(BASE + i * PAGE)]
    assert mapped == [1, 2, 3, 6, 7, 8]
    # The holes are free again; what is left is still taken.
    assert lib.vm_alloc(s.vs, BASE + 4 * PAGE, 2 * PAGE, R) == 0
    assert lib.vm_alloc(s.vs, BASE + 3 * PAGE, PAGE, R) == -EEXIST
    assert lib.vm_unmap(s.vs, BASE + 100 * PAGE, PAGE) == 0         # nothing there
    assert lib.vm_unmap(s.vs, BASE, 10 * PAGE) == 0                 # across everything
    assert lib.vm_pages(s.vs) == 0 and s.mapped() == 0
    assert lib.vm_unmap(s.vs, BASE + 1, PAGE) == -EINVAL
    lib.vm_destroy(s.vs)
    assert lib.pmm_free_frames() == start


def test_find_free_keeps_guard_gaps_and_reuses_holes(vm):
    ffi, lib = vm
    s = Space(ffi, lib)
    a = lib.vm_find_free(s.vs, 3 * PAGE)
    assert a == USER_MMAP_BASE
    assert lib.vm_alloc(s.vs, a, 3 * PAGE, R | W) == 0
    b = lib.vm_find_free(s.vs, PAGE)
    assert b == a + 4 * PAGE
    assert lib.vm_alloc(s.vs, b, PAGE, R | W) == 0
    c = lib.vm_find_free(s.vs, 10 * PAGE)
    assert c == b + 2 * PAGE
    assert lib.vm_alloc(s.vs, c, 10 * PAGE, R | W) == 0
    assert lib.vm_unmap(s.vs, b, PAGE) == 0
    # The hole between a and c has room for one page with a gap on both sides.
    assert lib.vm_find_free(s.vs, PAGE) == b
    assert lib.vm_find_free(s.vs, 2 * PAGE) == c + 11 * PAGE
    assert lib.vm_find_free(s.vs, 0) == 0
    assert lib.vm_find_free(s.vs, USER_TOP) == 0
    # Nothing at or above the stack area, whatever is mapped there.
    assert lib.vm_alloc(s.vs, USER_STACK_LIMIT + PAGE, 64 * PAGE, R | W) == 0
    big = USER_STACK_LIMIT - (c + 11 * PAGE)
    assert lib.vm_find_free(s.vs, big) == c + 11 * PAGE
    assert lib.vm_find_free(s.vs, big + PAGE) == 0
    assert lib.vm_alloc(s.vs, USER_STACK_LIMIT - 64 * PAGE, 64 * PAGE, R | W) == 0
    assert lib.vm_find_free(s.vs, big - 64 * PAGE) == 0
    assert lib.vm_find_free(s.vs, big - 65 * PAGE) == c + 11 * PAGE
    # Regions below USER_MMAP_BASE do not matter.
    assert lib.vm_alloc(s.vs, BASE, PAGE, R) == 0
    assert lib.vm_find_free(s.vs, PAGE) == b
    lib.vm_destroy(s.vs)


def test_protect(vm):
    ffi, lib = vm
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE, 4 * PAGE, R | W) == 0
    pa = s.query(BASE + PAGE)[0]
    assert lib.vm_protect(s.vs, BASE, 2 * PAGE, R | X) == 0
    assert s.query(BASE) == (s.query(BASE)[0], HAL_USER | HAL_EXEC)
    assert s.query(BASE + PAGE) == (pa, HAL_USER | HAL_EXEC)
    assert s.query(BASE + 2 * PAGE)[1] == HAL_USER | HAL_WRITE
    assert lib.vm_protect(s.vs, BASE, PAGE, R | W | X) == -EINVAL
    assert lib.vm_protect(s.vs, BASE + 2 * PAGE, 4 * PAGE, R) == -EFAULT   # runs past the region
    assert s.query(BASE + 2 * PAGE)[1] == HAL_USER | HAL_WRITE             # untouched
    assert lib.vm_protect(s.vs, BASE + 1, PAGE, R) == -EINVAL
    lib.vm_destroy(s.vs)


def test_write_into_another_space(vm):
    ffi, lib = vm
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE, 4 * PAGE, R) == 0      # read-only for the user, not for vm_write
    data = bytes(range(256)) * 40
    assert lib.vm_write(s.vs, BASE + PAGE - 100, data, len(data)) == 0
    got = b"".join(s.read(BASE + i * PAGE, PAGE) for i in range(4))
    assert got[PAGE - 100:PAGE - 100 + len(data)] == data
    assert got[:PAGE - 100] == bytes(PAGE - 100)
    assert lib.vm_write(s.vs, BASE + 4 * PAGE - 10, data, 20) == -EFAULT
    assert lib.vm_write(s.vs, USER_TOP - 4, data, 8) == -EFAULT
    assert lib.vm_write(s.vs, 0xFFFF800000000000, data, 8) == -EFAULT
    assert lib.vm_write(s.vs, BASE, data, 0) == 0
    lib.vm_destroy(s.vs)


def test_lazy_region_takes_frames_only_when_touched(vm):
    ffi, lib = vm
    free0 = lib.pmm_free_frames()
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE, 8 * PAGE, R | W | U | LAZY) == 0
    assert s.mapped() == 0 and lib.vm_pages(s.vs) == 0
    assert lib.vm_fault(s.vs, BASE + 3 * PAGE + 123, R) == 0            # a read backs the page too
    assert s.mapped() == 1 and lib.vm_pages(s.vs) == 1
    assert s.query(BASE + 3 * PAGE)[1] == HAL_USER | HAL_WRITE           # the region's protection
    assert s.read(BASE + 3 * PAGE, PAGE) == bytes(PAGE)
    assert lib.vm_fault(s.vs, BASE + 3 * PAGE, W) == -EFAULT             # present: a real fault
    assert lib.vm_fault(s.vs, BASE + 7 * PAGE, W) == 0
    assert lib.vm_fault(s.vs, BASE + 8 * PAGE, W) == -EFAULT             # past the region
    assert lib.vm_fault(s.vs, BASE - 1, R) == -EFAULT
    assert lib.vm_fault(s.vs, USER_TOP, R) == -EFAULT
    assert lib.vm_fault(s.vs, BASE, X) == -EFAULT                        # not executable
    assert lib.vm_pages(s.vs) == 2
    lib.vm_destroy(s.vs)
    assert lib.pmm_free_frames() == free0


def test_lazy_faults_honour_the_protection(vm):
    ffi, lib = vm
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE, 2 * PAGE, R | U | LAZY) == 0
    assert lib.vm_alloc(s.vs, BASE + 4 * PAGE, 2 * PAGE, R | X | U | LAZY) == 0
    assert lib.vm_alloc(s.vs, BASE + 8 * PAGE, PAGE, R | W | U) == 0     # eager: never faulted in
    assert lib.vm_fault(s.vs, BASE, W) == -EFAULT and s.mapped() == 1
    assert lib.vm_fault(s.vs, BASE, R) == 0 and s.query(BASE)[1] == HAL_USER
    assert lib.vm_fault(s.vs, BASE + 4 * PAGE, X) == 0 and s.query(BASE + 4 * PAGE)[1] == HAL_USER | HAL_EXEC
    assert lib.vm_unmap(s.vs, BASE + 8 * PAGE, PAGE) == 0
    assert lib.vm_fault(s.vs, BASE + 8 * PAGE, W) == -EFAULT
    assert lib.vm_alloc(s.vs, BASE + 12 * PAGE, PAGE, R | W | X | LAZY) == -EINVAL
    frames = ffi.new("uint64_t[]", [lib.pmm_alloc()])
    assert lib.vm_map_shared(s.vs, BASE + 12 * PAGE, frames, 1, R | LAZY) == -EINVAL
    lib.vm_destroy(s.vs)
    lib.pmm_free(frames[0])


def test_lazy_regions_split_and_free_exactly(vm):
    ffi, lib = vm
    free0 = lib.pmm_free_frames()
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE, 16 * PAGE, R | W | U | LAZY) == 0
    for i in range(0, 16, 2):
        assert lib.vm_fault(s.vs, BASE + i * PAGE, W) == 0
    free1 = lib.pmm_free_frames()
    assert free1 <= free0 - 16 and lib.pmm_reserved_frames() == 8       # 8 touched, 8 reserved
    assert lib.vm_unmap(s.vs, BASE + 4 * PAGE, 8 * PAGE) == 0            # a hole: two regions left
    assert lib.pmm_free_frames() == free1 + 8 and lib.vm_pages(s.vs) == 4   # 4 frames, 4 reserved
    assert lib.pmm_reserved_frames() == 4
    assert lib.vm_fault(s.vs, BASE + 6 * PAGE, W) == -EFAULT             # in the hole
    assert lib.vm_fault(s.vs, BASE + 3 * PAGE, W) == 0                   # both sides stay lazy
    assert lib.vm_fault(s.vs, BASE + 13 * PAGE, W) == 0
    assert lib.vm_pages(s.vs) == 6 and lib.pmm_reserved_frames() == 2
    assert lib.vm_unmap(s.vs, BASE, 16 * PAGE) == 0
    assert lib.vm_pages(s.vs) == 0 and s.mapped() == 0 and lib.pmm_reserved_frames() == 0
    lib.vm_destroy(s.vs)
    assert lib.pmm_free_frames() == free0


def test_copies_into_other_spaces_back_lazy_pages(vm):
    ffi, lib = vm
    s = Space(ffi, lib)
    assert lib.vm_alloc(s.vs, BASE, 4 * PAGE, R | U | LAZY) == 0
    data = bytes(range(256)) * 8
    assert lib.vm_write(s.vs, BASE + PAGE - 10, data, len(data)) == 0    # the loader's write ignores R
    assert lib.vm_pages(s.vs) == 2
    assert s.read(BASE + PAGE - 10, 10) == data[:10]
    buf = ffi.new("char[]", 64)
    assert lib.vm_read(s.vs, BASE + 3 * PAGE, buf, 64) == 0              # untouched: reads zeros
    assert ffi.buffer(buf, 64)[:] == bytes(64) and lib.vm_pages(s.vs) == 3
    assert lib.vm_write_checked(s.vs, BASE + 3 * PAGE, data, 8) == -EFAULT   # read-only for the user
    assert lib.vm_write_checked(s.vs, BASE, data, 8) == -EFAULT          # read-only, and not backed
    assert lib.vm_pages(s.vs) == 3
    lib.vm_destroy(s.vs)


def test_lazy_regions_filled_from_data(vm):
    ffi, lib = vm
    start = lib.pmm_free_frames()
    s = Space(ffi, lib)
    data = ffi.new("char[]", bytes((i * 7) & 255 for i in range(2 * PAGE)))
    text = ffi.buffer(data, 2 * PAGE)[:]
    # 2 * PAGE - 300 bytes of data from BASE + 100, in 4 pages: the rest reads zero.
    n = 2 * PAGE - 300
    assert lib.vm_alloc_from(s.vs, BASE, 4 * PAGE, R | X | U | LAZY, data, BASE + 100, n) == 0
    assert s.mapped() == 0 and lib.pmm_reserved_frames() == 4
    assert lib.vm_fault(s.vs, BASE + PAGE + 5, X) == 0
    assert s.query(BASE + PAGE)[1] == HAL_USER | HAL_EXEC
    assert s.read(BASE + PAGE, PAGE) == text[PAGE - 100:n] + bytes(2 * PAGE - 100 - n)
    assert lib.vm_unmap(s.vs, BASE, PAGE) == 0                       # splits keep the placement
    buf = ffi.new("char[]", PAGE)
    assert lib.vm_read(s.vs, BASE + 2 * PAGE, buf, PAGE) == 0 and ffi.buffer(buf, PAGE)[:] == bytes(PAGE)
    assert lib.vm_pages(s.vs) == 2 and lib.pmm_reserved_frames() == 1
    assert lib.vm_fault(s.vs, BASE, R) == -EFAULT
    lib.vm_destroy(s.vs)
    assert lib.pmm_reserved_frames() == 0
    s = Space(ffi, lib)
    assert lib.vm_alloc_from(s.vs, BASE, PAGE, R | U | LAZY, data, BASE, PAGE) == 0
    assert lib.vm_write(s.vs, BASE + 8, b"xy", 2) == 0                 # the kernel's write lands on the copy
    assert s.read(BASE, 16) == text[:8] + b"xy" + text[10:16]
    assert lib.vm_alloc_from(s.vs, BASE + 2 * PAGE, PAGE, R | U, data, BASE + 2 * PAGE, 8) == -EINVAL   # not lazy
    assert lib.vm_alloc_from(s.vs, BASE + 2 * PAGE, PAGE, R | U | LAZY, data, BASE + 2 * PAGE - 1, 8) == -EINVAL
    assert lib.vm_alloc_from(s.vs, BASE + 2 * PAGE, PAGE, R | U | LAZY, data, BASE + 3 * PAGE - 4, 8) == -EINVAL
    lib.vm_destroy(s.vs)
    assert lib.pmm_free_frames() == start and lib.pmm_reserved_frames() == 0


def test_cached_regions_share_read_only_pages(vm):
    # The page cache is the kernel's for good (it is never emptied): this is the module's one
    # test that fills it.
    ffi, lib = vm
    data = ffi.new("char[]", bytes((i * 11) & 255 for i in range(3 * PAGE)))
    text = ffi.buffer(data, 3 * PAGE)[:]
    n = 2 * PAGE + 50
    start = lib.pmm_free_frames()
    a, b = Space(ffi, lib), Space(ffi, lib)
    for s in (a, b):
        assert lib.vm_alloc_from(s.vs, BASE, 4 * PAGE, R | X | U | LAZY | CACHE, data, BASE + 100, n) == 0
    assert lib.pmm_reserved_frames() == 8
    mapped = lib.pmm_free_frames()
    assert lib.vm_fault(a.vs, BASE + PAGE, X) == 0 and lib.vm_fault(b.vs, BASE + PAGE + 9, R) == 0
    assert a.query(BASE + PAGE) == b.query(BASE + PAGE)              # one frame, in both spaces
    assert a.query(BASE + PAGE)[1] == HAL_USER | HAL_EXEC
    assert a.read(BASE + PAGE, PAGE) == text[PAGE - 100:2 * PAGE - 100]
    # The first touch took a reserved frame for the cache, the second gave its reservation back.
    assert lib.pmm_reserved_frames() == 6 and lib.pmm_free_frames() == mapped + 1
    assert lib.vm_pages(a.vs) == 0                                   # not the spaces' own
    # The last page holds the data's end: zero after it; the same bytes elsewhere share too.
    assert lib.vm_fault(a.vs, BASE + 2 * PAGE, R) == 0
    assert a.read(BASE + 2 * PAGE, PAGE) == text[2 * PAGE - 100:n] + bytes(3 * PAGE - 100 - n)
    c = Space(ffi, lib)
    assert lib.vm_alloc_from(c.vs, BASE + 16 * PAGE, PAGE, R | U | LAZY | CACHE, data + 1, BASE + 16 * PAGE,
                             PAGE) == 0                              # other bytes: another frame
    assert lib.vm_fault(c.vs, BASE + 16 * PAGE, R) == 0
    assert c.query(BASE + 16 * PAGE)[0] != a.query(BASE + PAGE)[0]
    # Never written: not by the kernel, not after a change of protection.
    assert lib.vm_write(a.vs, BASE + PAGE, b"x", 1) == -EFAULT
    assert lib.vm_write(a.vs, BASE + 3 * PAGE, b"x", 1) == -EFAULT    # nor an untouched page
    assert lib.vm_write_checked(a.vs, BASE + PAGE, b"x", 1) == -EFAULT
    assert lib.vm_protect(a.vs, BASE + PAGE, PAGE, R | W | U) == -EINVAL
    assert lib.vm_protect(a.vs, BASE + PAGE, PAGE, R | U) == 0
    assert a.read(BASE + PAGE, PAGE) == text[PAGE - 100:2 * PAGE - 100]
    # Refused: writable cached pages, and cached pages without data.
    assert lib.vm_alloc_from(c.vs, BASE, PAGE, R | W | U | LAZY | CACHE, data, BASE, 8) == -EINVAL
    assert lib.vm_alloc(c.vs, BASE, PAGE, R | U | LAZY | CACHE) == -EINVAL
    # The spaces end: their reservations come back, the cache keeps its 3 frames (and the
    # kernel heap may keep a frame it took for the cache's entries).
    for s in (a, b, c):
        lib.vm_destroy(s.vs)
    assert lib.pmm_reserved_frames() == 0 and start - 4 <= lib.pmm_free_frames() <= start - 3


def test_lazy_regions_reserve_their_frames(built):
    ffi, lib = built
    assert lib.setup(4 * MiB) == 0
    start = lib.pmm_free_frames()
    s = Space(ffi, lib)
    free0 = lib.pmm_free_frames()
    # More pages than there are frames: refused at the call, nothing reserved.
    assert lib.vm_alloc(s.vs, BASE, (free0 + 1) * PAGE, R | W | U | LAZY) == -ENOMEM
    assert lib.pmm_free_frames() == free0 and lib.pmm_reserved_frames() == 0
    # The page tables cannot be built: refused, nothing kept.
    lib.hosted_mmu_fail_after(0)
    assert lib.vm_alloc(s.vs, BASE, 2 * PAGE, R | W | U | LAZY) == -ENOMEM
    assert lib.pmm_free_frames() == free0 and lib.pmm_reserved_frames() == 0
    lib.hosted_mmu_fail_after(-1)
    assert lib.vm_alloc(s.vs, BASE, 2 * PAGE, R | W | U | LAZY) == 0
    free1 = lib.pmm_free_frames()
    assert free1 <= free0 - 2 and lib.pmm_reserved_frames() == 2
    # Nobody else gets the reserved frames...
    taken = []
    while True:
        f = lib.pmm_alloc()
        if not f:
            break
        taken.append(f)
    assert lib.pmm_free_frames() == 0 and lib.pmm_reserved_frames() == 2
    assert lib.vm_alloc(s.vs, BASE + 4 * PAGE, PAGE, R | W | U | LAZY) == -ENOMEM
    assert lib.vm_alloc(s.vs, BASE + 4 * PAGE, PAGE, R | W | U) == -ENOMEM
    # ...while the region's faults and the kernel's writes get them.
    assert lib.vm_fault(s.vs, BASE, W) == 0 and lib.vm_pages(s.vs) == 1
    data = b"x" * 8
    assert lib.vm_write(s.vs, BASE + PAGE, data, 8) == 0 and lib.vm_pages(s.vs) == 2
    assert s.read(BASE + PAGE, 8) == data and s.read(BASE, 8) == bytes(8)
    assert lib.pmm_free_frames() == 0 and lib.pmm_reserved_frames() == 0
    for f in taken:
        lib.pmm_free(f)
    assert lib.pmm_free_frames() == free1
    # A mapping refused when the page can not be mapped gives the frame back to the reservation.
    assert lib.vm_alloc(s.vs, BASE + 4 * PAGE, PAGE, R | W | U | LAZY) == 0
    lib.hosted_mmu_fail_after(0)
    assert lib.vm_fault(s.vs, BASE + 4 * PAGE, W) == -ENOMEM and lib.pmm_reserved_frames() == 1
    lib.hosted_mmu_fail_after(-1)
    lib.vm_destroy(s.vs)
    assert lib.pmm_free_frames() == start and lib.pmm_reserved_frames() == 0
    assert lib.hosted_irq_depth() == 0


def test_random_operations_match_a_model(vm):
    ffi, lib = vm
    rng = random.Random(99)
    free0 = lib.pmm_free_frames()
    s = Space(ffi, lib)
    owned, shared, lazy = set(), set(), set()   # owned: every page with a frame of its own
    pool = [lib.pmm_alloc() for _ in range(16)]
    for step in range(3000):
        page = rng.randrange(64)
        n = rng.randint(1, 8)
        va, pages = BASE + page * PAGE, set(range(page, page + n))
        op = rng.random()
        if op < 0.3:
            r = lib.vm_alloc(s.vs, va, n * PAGE, rng.choice([R, R | W, R | X]))
            assert r == (-EEXIST if pages & (owned | shared | lazy) else 0), step
            if r == 0:
                owned |= pages
        elif op < 0.4:
            r = lib.vm_alloc(s.vs, va, n * PAGE, R | W | U | LAZY)
            assert r == (-EEXIST if pages & (owned | shared | lazy) else 0), step
            if r == 0:
                lazy |= pages
        elif op < 0.5:
            r = lib.vm_fault(s.vs, va, W)
            assert r == (0 if page in lazy - owned else -EFAULT), step
            if r == 0:
                owned.add(page)
        elif op < 0.6:
            frames = ffi.new("uint64_t[]", rng.sample(pool, n))
            r = lib.vm_map_shared(s.vs, va, frames, n, R)
            assert r == (-EEXIST if pages & (owned | shared | lazy) else 0), step
            if r == 0:
                shared |= pages
        else:
            assert lib.vm_unmap(s.vs, va, n * PAGE) == 0
            owned -= pages
            shared -= pages
            lazy -= pages
        assert lib.vm_pages(s.vs) == len(owned), step
        assert s.mapped() == len(owned | shared), step
        assert lib.pmm_reserved_frames() == len(lazy - owned), step
    assert {p for p in range(80) if s.query(BASE + p * PAGE)} == owned | shared
    lib.vm_destroy(s.vs)
    for f in pool:
        lib.pmm_free(f)
    assert lib.pmm_free_frames() == free0


def test_user_range_checks(vm):
    ffi, lib = vm
    assert lib.user_range_ok(0x1000, 0x1000)
    assert lib.user_range_ok(USER_TOP - 1, 1)
    assert lib.user_range_ok(USER_TOP, 0)
    assert not lib.user_range_ok(USER_TOP - 1, 2)
    assert not lib.user_range_ok(USER_TOP, 1)
    assert not lib.user_range_ok(0xFFFF800000000000, 1)
    assert not lib.user_range_ok(0x1000, (1 << 64) - 0x800)   # wraps


def test_user_copies_check_ranges_and_survive_faults(vm):
    ffi, lib = vm
    src = ffi.new("char[]", b"hello, kernel")
    dst = ffi.new("char[64]")
    assert lib.copy_from_user(dst, src, 14) == 0 and ffi.string(dst) == b"hello, kernel"
    assert lib.copy_to_user(dst, b"back", 5) == 0 and ffi.string(dst) == b"back"
    kernel = ffi.cast("void *", 0xFFFF800000001000)
    assert lib.copy_from_user(dst, kernel, 8) == -EFAULT
    assert lib.copy_to_user(kernel, src, 8) == -EFAULT
    assert lib.copy_from_user(dst, ffi.cast("void *", USER_TOP - 4), 8) == -EFAULT
    assert lib.copy_from_user(dst, kernel, 0) == 0
    lib.hosted_user_fault_range(ffi.cast("char *", src) + 5, 1)
    assert lib.copy_from_user(dst, src, 14) == -EFAULT
    assert lib.copy_to_user(src, dst, 6) == -EFAULT
    assert lib.copy_to_user(src, dst, 5) == 0
    lib.hosted_user_fault_range(ffi.NULL, 0)


def test_strncpy_from_user(vm):
    ffi, lib = vm
    dst = ffi.new("char[16]")
    s = ffi.new("char[]", b"0123456789")
    assert lib.strncpy_from_user(dst, s, 16) == 10 and ffi.string(dst) == b"0123456789"
    assert lib.strncpy_from_user(dst, s, 11) == 10                   # max-1 characters fit
    assert lib.strncpy_from_user(dst, s, 10) == -ENAMETOOLONG
    assert lib.strncpy_from_user(dst, s, 0) == -ENAMETOOLONG
    assert lib.strncpy_from_user(dst, ffi.cast("char *", 0xFFFF800000000000), 16) == -EFAULT
    assert lib.strncpy_from_user(dst, ffi.cast("char *", USER_TOP), 16) == -EFAULT
    lib.hosted_user_fault_range(ffi.cast("char *", s) + 7, 1)
    assert lib.strncpy_from_user(dst, s, 16) == -EFAULT
    assert lib.strncpy_from_user(dst, s, 5) == -ENAMETOOLONG        # stops before the fault
    lib.hosted_user_fault_range(ffi.NULL, 0)
    empty = ffi.new("char[]", b"")
    assert lib.strncpy_from_user(dst, empty, 16) == 0 and ffi.string(dst) == b""
