"""Memory, booted: the frame allocator's count, the final page tables (W^X kernel, NX window,
SMEP/SMAP/WP), the in-kernel memory self-test, and the faults the protections must raise."""
import re

import pytest

from machine import Machine

MEMORY = rb"memory: (\d+) MiB free in (\d+) frames; kept kernel \d+ KiB, modules \d+ KiB, frame maps \d+ KiB"
PAGING = rb"paging: NX SMEP SMAP WP PGE 1G-pages, kernel W\^X; window (\d+) MiB"
HEAP = rb"heap: 16 size classes 16\.\.2016 bytes in frames, larger in 0x[0-9a-f]+"


@pytest.mark.parametrize("memory", [256, 4608])
def test_memory_and_paging_come_up(memory):
    with Machine("memory-%d" % memory, cmdline="mos.exit=ready", memory=memory) as m:
        mib, frames = (int(x) for x in m.wait_for(MEMORY, timeout=30).groups())
        window = int(m.wait_for(PAGING).group(1))
        m.wait_for(HEAP)
        m.wait_for(rb"kernel: boot complete")
        m.expect_exit("MOS_QEMU_EXIT_READY")
    assert mib == frames * 4096 >> 20
    # All of RAM but the first MiB, the kernel, the initrd and the frame maps.
    assert memory - 6 <= mib < memory, mib
    # The window covers all of RAM (above 4 GiB too: QEMU puts 3 GiB below the PCI hole).
    assert window >= memory


def test_memory_self_test():
    with Machine("ktest-mm", cmdline="mos.ktest=mm") as m:
        line = m.wait_for(rb"ktest mm: (\d+) of (\d+) frames free before, (\d+) after; 0 failed checks", timeout=60)
        m.wait_for(rb"ktest mm: passed")
        m.expect_exit("MOS_QEMU_EXIT_READY")
    before, _, after = (int(x) for x in line.groups())
    assert before == after


# (ktest, page-fault error code, cr2): P=1 protection, W=2 write, I=0x10 instruction fetch.
FAULTS = [
    ("mm-null", 0x2, rb"0x0"),                       # not present: no identity map any more
    ("mm-wx", 0x3, rb"0xffffffff8[0-9a-f]+"),        # write to kernel text
    ("mm-nx", 0x11, rb"0xffffffff8[0-9a-f]+"),       # execute kernel data
    ("mm-smap", 0x1, rb"0x400000"),                  # read a user page (SMAP)
    ("mm-smep", 0x11, rb"0x400000"),                 # execute a user page (SMEP)
    ("mm-guard", 0x2, rb"0xffffff0000000ff8"),       # below a kernel stack
]


@pytest.mark.parametrize("name,error,cr2", FAULTS, ids=[f[0] for f in FAULTS])
def test_protection_faults(name, error, cr2):
    with Machine("ktest-" + name, cmdline="mos.ktest=" + name) as m:
        m.wait_for(rb"PANIC: #PF \(vector 14\) error=%#x rip=0x[0-9a-f]+ cr2=%s\b" % (error, cr2),
                   timeout=30, failure=None)
        m.expect_exit("MOS_QEMU_EXIT_PANIC")
        assert not re.search(rb"ktest %s: (read|ran)" % name.encode(), m.console())


def test_a_cpu_without_smep_smap_or_1g_pages():
    # stac/clac are patched out (they would be #UD), the window uses 2 MiB pages.
    with Machine("ktest-mm-qemu64", cmdline="mos.ktest=mm", extra_args=["-cpu", "qemu64"]) as m:
        m.wait_for(rb"paging: NX WP PGE, kernel W\^X; window 256 MiB", timeout=30)
        m.wait_for(rb"ktest mm: passed", timeout=60)
        m.expect_exit("MOS_QEMU_EXIT_READY")
