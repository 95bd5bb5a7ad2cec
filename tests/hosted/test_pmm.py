"""kernel/mm/pmm.c on the host: initialisation from crafted memory maps (holes, overlaps, bad
entries, modules, the RSDP and the kernel image kept), allocation to exhaustion, exact counts,
double and bogus frees caught, reclaiming boot memory, frames above the boot window, and
reservations (frames promised to lazily backed memory that nobody else can take)."""
import pytest

import hostlib

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
PAGE = 4096
USABLE, RESERVED, ACPI_RECLAIMABLE, ACPI_NVS = 1, 2, 3, 4

CDEF = hostlib.header_cdef("hal/include/hal/boot.h") + """
void pmm_init(const struct boot_info *info);
uint64_t pmm_alloc(void);
void pmm_free(uint64_t phys);
uint64_t pmm_free_frames(void);
uint64_t pmm_total_frames(void);
uint64_t pmm_reclaim(uint64_t phys, uint64_t len);
uint64_t pmm_phys_top(void);
void pmm_window_ready(void);
bool pmm_reserve(uint64_t n);
uint64_t pmm_alloc_reserved(void);
void pmm_unreserve(uint64_t n);
uint64_t pmm_reserved_frames(void);
int try_free(uint64_t phys);
int try_init(const struct boot_info *info);
int try_alloc_reserved(void);
int try_unreserve(uint64_t n);
"""
EXTRA = """
#include <kernel/mm.h>
void pmm_init(const struct boot_info *info);
int try_free(uint64_t phys) { return HOSTED_TRY(pmm_free(phys)); }
int try_init(const struct boot_info *info) { return HOSTED_TRY(pmm_init(info)); }
int try_alloc_reserved(void) { return HOSTED_TRY(pmm_alloc_reserved()); }
int try_unreserve(uint64_t n) { return HOSTED_TRY(pmm_unreserve(n)); }
"""

KERNEL = (0x100000, 0x100000 + 700 * KiB)


@pytest.fixture(scope="module")
def lib():
    return hostlib.build("pmm", ["kernel/mm/pmm.c"], CDEF, EXTRA)


class Machine:
    """A crafted boot_info over a fresh arena of ARENA bytes, handed to pmm_init."""

    def __init__(self, lib, regions, modules=(), rsdp=0, kernel=KERNEL, arena=64 * MiB, init=True):
        self.ffi, self.lib = lib
        self.regions, self.modules, self.rsdp, self.kernel = regions, modules, rsdp, kernel
        assert self.lib.hosted_phys_init(arena) == 0
        self.lib.hosted_set_kernel_image(*kernel)
        self.lib.hosted_log_clear()
        info = self.ffi.new("struct boot_info *")
        for i, (base, length, kind) in enumerate(regions):
            info.mmap[i].base, info.mmap[i].len, info.mmap[i].type = base, length, kind
        info.mmap_count = len(regions)
        for i, (start, end) in enumerate(modules):
            info.modules[i].start, info.modules[i].end = start, end
        info.module_count = len(modules)
        info.rsdp = rsdp
        self.info = info  # pmm keeps the pointer: keep the memory alive
        if init:
            self.lib.pmm_init(info)

    def top(self):
        return max(b + n for b, n, k in self.regions if k in (USABLE, ACPI_RECLAIMABLE) and n and b + n < 1 << 64)

    def maps_pages(self):
        """Pages the two frame bitmaps take."""
        words = -(-(self.top() // PAGE) // 64)
        return -(-words * 16 // PAGE)

    def expected_frames(self):
        """Frames the map calls usable, minus everything kept (before the frame maps)."""
        frames, limit = set(), self.top() // PAGE
        for base, length, kind in self.regions:
            if kind == USABLE and length and base + length < 1 << 64:
                frames.update(range(-(-base // PAGE), min((base + length) // PAGE, limit)))
        for base, length, kind in self.regions:
            if kind != USABLE and length and base + length < 1 << 64:
                frames.difference_update(range(base // PAGE, min(-(-(base + length) // PAGE), limit)))
        kept = [(0, MiB), self.kernel] + list(self.modules)
        if self.rsdp:
            kept.append((self.rsdp, self.rsdp + 36))
        for start, end in kept:
            frames.difference_update(range(start // PAGE, -(-end // PAGE)))
        return frames

    def alloc_all(self):
        got = []
        while True:
            f = self.lib.pmm_alloc()
            if not f:
                return got
            got.append(f)

    def frame(self, phys):
        return self.ffi.buffer(self.lib.hosted_phys_base + phys, PAGE)

    def log(self):
        return self.ffi.string(self.lib.hosted_log()).decode()


# A PC-like 64 MiB map: low memory with the EBDA and BIOS area reserved, a reserved hole, ACPI
# tables at the top, an initrd module, and the RSDP straddling two pages of usable memory.
PC_MAP = [
    (0, 0x9fc00, USABLE),
    (0x9fc00, 0x400, RESERVED),
    (0xf0000, 0x10000, RESERVED),
    (0x100000, 40 * MiB - 0x100000, USABLE),
    (40 * MiB, 64 * KiB, RESERVED),
    (40 * MiB + 64 * KiB, 22 * MiB - 64 * KiB, USABLE),
    (62 * MiB, 1 * MiB, ACPI_RECLAIMABLE),
    (63 * MiB, 1 * MiB, ACPI_NVS),
    (0xfffc0000, 0x40000, RESERVED),
]
PC_MODULES = [(20 * MiB + 100, 23 * MiB + 5000)]
PC_RSDP = 30 * MiB + PAGE - 10


def pc(lib, **kw):
    return Machine(lib, PC_MAP, modules=PC_MODULES, rsdp=PC_RSDP, **kw)


def test_counts_are_usable_memory_minus_what_is_kept(lib):
    m = pc(lib)
    expected = m.expected_frames()
    total = lib[1].pmm_total_frames()
    # The frame maps (two bits a frame over 63 MiB) take one page out of what is left.
    assert m.maps_pages() == 1
    assert total == len(expected) - 1
    assert lib[1].pmm_free_frames() == total
    assert "memory: %d MiB free in %d frames" % (total * PAGE >> 20, total) in m.log()
    # The window covers everything usable, ACPI and modules, in 2 MiB steps.
    assert lib[1].pmm_phys_top() == 64 * MiB


def test_alloc_to_exhaustion_gives_each_usable_frame_once(lib):
    ffi, L = lib
    m = pc(lib)
    expected = m.expected_frames()
    got = m.alloc_all()
    assert len(got) == len(set(got)) == L.pmm_total_frames()
    assert all(f % PAGE == 0 for f in got)
    frames = {f // PAGE for f in got}
    assert frames <= expected, "handed out frames it should keep: %s" % sorted(hex(f * PAGE) for f in frames - expected)[:8]
    # What is missing is the frame maps: one page, inside usable memory.
    assert len(expected - frames) == 1
    assert L.pmm_free_frames() == 0
    assert L.pmm_alloc() == 0 and L.pmm_alloc() == 0
    for f in got:
        L.pmm_free(f)
    assert L.pmm_free_frames() == L.pmm_total_frames()


def test_frames_come_back_zeroed(lib):
    ffi, L = lib
    m = pc(lib)
    got = m.alloc_all()
    for f in got:
        m.frame(f)[:] = b"\xa5" * PAGE
    for f in got:
        L.pmm_free(f)
    again = m.alloc_all()
    assert sorted(again) == sorted(got)
    zero = bytes(PAGE)
    assert all(m.frame(f)[:] == zero for f in again)


def test_the_frame_maps_survive_heavy_use(lib):
    ffi, L = lib
    m = pc(lib)
    total = L.pmm_total_frames()
    live = []
    import random
    rng = random.Random(7)
    for step in range(20000):
        if live and (rng.random() < 0.45 or L.pmm_free_frames() == 0):
            L.pmm_free(live.pop(rng.randrange(len(live))))
        else:
            f = L.pmm_alloc()
            assert f
            live.append(f)
        if step % 1000 == 0:
            assert L.pmm_free_frames() + len(live) == total
    assert len(set(live)) == len(live)
    for f in live:
        L.pmm_free(f)
    assert L.pmm_free_frames() == total


def test_double_free_is_caught(lib):
    ffi, L = lib
    m = pc(lib)  # noqa: F841 (pmm keeps a pointer to its boot_info)
    f = L.pmm_alloc()
    before = L.pmm_free_frames()
    assert L.try_free(f) == 0
    assert L.try_free(f) == -1
    assert "freed twice" in ffi.string(L.hosted_panic_message()).decode()
    assert L.pmm_free_frames() == before + 1


@pytest.mark.parametrize("phys,why", [
    (KERNEL[0], "never allocated"),          # the kernel image
    (KERNEL[0] + 600 * KiB, "never allocated"),
    (PC_MODULES[0][0] & ~0xFFF, "never allocated"),  # the initrd
    (PC_RSDP & ~0xFFF, "never allocated"),
    ((PC_RSDP & ~0xFFF) + PAGE, "never allocated"),  # the RSDP's second page
    (40 * MiB, "never allocated"),            # the reserved hole
    (0x9f000, "never allocated"),            # low memory
    (0, "never allocated"),
    (62 * MiB, "never allocated"),           # ACPI tables
    (63 * MiB, "not a frame of RAM"),        # ACPI NVS, above the frame maps' reach
    (5 * MiB + 8, "not a frame of RAM"),     # not page aligned
    (1 << 40, "not a frame of RAM"),
    ((1 << 64) - PAGE, "not a frame of RAM"),
])
def test_freeing_what_was_never_allocated_is_caught(lib, phys, why):
    ffi, L = lib
    m = pc(lib)  # noqa: F841 (pmm keeps a pointer to its boot_info)
    before = L.pmm_free_frames()
    assert L.try_free(phys) == -1
    assert why in ffi.string(L.hosted_panic_message()).decode()
    assert L.pmm_free_frames() == before


def test_reclaim_gives_back_the_module_once(lib):
    ffi, L = lib
    m = pc(lib)
    total = L.pmm_total_frames()
    start, end = PC_MODULES[0]
    # Whole frames only: the partial first and last pages are shared with what surrounds them.
    n = L.pmm_reclaim(start, end - start)
    assert n == (end // PAGE) - (-(-start // PAGE))
    assert L.pmm_total_frames() == L.pmm_free_frames() == total + n
    assert L.pmm_reclaim(start, end - start) == 0
    got = {f // PAGE for f in m.alloc_all()}
    assert set(range(-(-start // PAGE), end // PAGE)) <= got


@pytest.mark.parametrize("phys,length", [
    (KERNEL[0], KERNEL[1] - KERNEL[0]),      # the kernel image stays
    (0, MiB),                                # low memory stays
    (40 * MiB, 64 * KiB),                    # reserved
    (63 * MiB, MiB),                         # ACPI NVS
    (0xfffc0000, 0x40000),                   # firmware, beyond the frame maps
    ((1 << 64) - PAGE, 2 * PAGE),            # wraps
    (5 * MiB, 0),
])
def test_reclaim_refuses_what_is_not_ram(lib, phys, length):
    ffi, L = lib
    m = pc(lib)  # noqa: F841 (pmm keeps a pointer to its boot_info)
    total = L.pmm_total_frames()
    assert L.pmm_reclaim(phys, length) == 0
    assert L.pmm_total_frames() == total


def test_reclaim_of_acpi_tables_below_the_top(lib):
    ffi, L = lib
    regions = [(MiB, 30 * MiB, USABLE), (31 * MiB, MiB, ACPI_RECLAIMABLE), (32 * MiB, 8 * MiB, USABLE)]
    m = Machine(lib, regions)  # noqa: F841
    total = L.pmm_total_frames()
    assert L.pmm_reclaim(31 * MiB, MiB) == MiB // PAGE
    assert L.pmm_total_frames() == total + MiB // PAGE


def test_overlapping_and_broken_entries(lib):
    ffi, L = lib
    regions = [
        (MiB, 20 * MiB, USABLE),
        (8 * MiB, 4 * MiB, USABLE),               # overlaps the first
        (10 * MiB, PAGE + 1, RESERVED),           # inside usable memory: wins, rounded outward
        (16 * MiB + 1, 3 * PAGE, USABLE),         # unaligned, overlapping
        (30 * MiB + 100, 2 * PAGE, USABLE),       # unaligned alone: one whole frame inside
        (25 * MiB, 0, USABLE),                    # empty
        ((1 << 64) - PAGE, 2 * PAGE, USABLE),     # wraps
        (48 * MiB, 0x7fffffffffffffff, 5),        # bad memory over everything above
    ]
    m = Machine(lib, regions)
    expected = m.expected_frames()
    got = {f // PAGE for f in m.alloc_all()}
    assert got <= expected
    assert len(expected - got) == 1  # the frame maps
    assert 10 * MiB // PAGE not in got and 10 * MiB // PAGE + 1 not in got
    assert (30 * MiB + PAGE) // PAGE in got


def test_a_region_far_above_the_arena_shrinks_the_maps_instead_of_failing(lib):
    ffi, L = lib
    regions = [(MiB, 15 * MiB, USABLE), (1 << 44, 1 << 30, USABLE)]
    m = Machine(lib, regions, arena=16 * MiB)
    assert "frame maps cover only" in m.log()
    got = m.alloc_all()
    assert got and max(got) < 16 * MiB
    assert len(got) == L.pmm_total_frames()


def test_no_usable_memory_panics(lib):
    ffi, L = lib
    m = Machine(lib, [(0, MiB, USABLE), (MiB, 8 * MiB, RESERVED)], init=False)
    assert L.try_init(m.info) == -1
    assert "no usable memory" in ffi.string(L.hosted_panic_message()).decode() or \
        "no room" in ffi.string(L.hosted_panic_message()).decode()


def test_frames_above_4_gib_wait_for_the_window(lib):
    ffi, L = lib
    # A sparse arena: only frames touched cost host memory.
    regions = [(MiB, 3 * MiB, USABLE), (4 * GiB, 2 * MiB, USABLE)]
    m = Machine(lib, regions, arena=4 * GiB + 2 * MiB)
    total = L.pmm_total_frames()
    assert total == (3 * MiB - 700 * KiB) // PAGE - m.maps_pages() + 2 * MiB // PAGE
    low = m.alloc_all()
    assert low and max(low) < 4 * GiB
    assert L.pmm_free_frames() == 2 * MiB // PAGE
    L.pmm_window_ready()
    high = m.alloc_all()
    assert len(high) == 2 * MiB // PAGE and min(high) >= 4 * GiB
    for f in low + high:
        L.pmm_free(f)
    assert L.pmm_free_frames() == total


def test_reserved_frames_go_only_to_their_holder(lib):
    ffi, L = lib
    pc(lib)
    total = L.pmm_total_frames()
    assert not L.pmm_reserve(total + 1) and L.pmm_reserved_frames() == 0
    assert L.pmm_reserve(10) and L.pmm_free_frames() == total - 10 and L.pmm_reserved_frames() == 10
    assert not L.pmm_reserve(total - 9)
    got = []
    while True:
        f = L.pmm_alloc()
        if not f:
            break
        got.append(f)
    assert len(got) == total - 10 and L.pmm_free_frames() == 0
    assert not L.pmm_reserve(1)
    mine = [L.pmm_alloc_reserved() for _ in range(4)]
    assert all(mine) and not set(mine) & set(got) and L.pmm_reserved_frames() == 6
    assert L.pmm_alloc() == 0
    L.pmm_unreserve(6)
    assert L.pmm_reserved_frames() == 0 and L.pmm_free_frames() == 6
    assert L.try_alloc_reserved() != 0              # nothing reserved: a panic
    assert L.try_unreserve(1) != 0
    for f in got + mine:
        L.pmm_free(f)
    assert L.pmm_free_frames() == total and L.pmm_reserved_frames() == 0
