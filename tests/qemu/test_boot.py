"""The foundation, booted: every boot path reaches the kernel banner, the fw_cfg command line
arrives, the exception path reports and ends QEMU, the UEFI framebuffer shows the banner, and
gdb stops at kmain with symbols."""
import re

import pytest

import debug
import fontcheck
from machine import Machine

BANNER = rb"MultiOS \d+\.\d+\.\d+ x86_64"
FIRMWARE_MODES = ["bios-cd", "bios-disk", "uefi-cd", "uefi-disk"]


@pytest.mark.parametrize("mode", ["direct", "microvm"])
def test_direct_boot_reaches_banner_and_logs_boot_info(mode):
    with Machine("direct-boot-" + mode, mode=mode, cmdline="mos.exit=ready") as m:
        m.wait_for(BANNER, timeout=20)
        m.wait_for(rb"boot: pvh via qemu-pvh, BIOS firmware")
        m.wait_for(rb"memory: \d+ regions, \d+ KiB usable")
        m.wait_for(rb"modules: 1 0x[0-9a-f]+-0x[0-9a-f]+")
        m.wait_for(rb"acpi: RSDP at 0x[0-9a-f]+")
        m.wait_for(rb"kernel: boot complete")
        m.expect_exit("MOS_QEMU_EXIT_READY")
        # The banner is the first thing the kernel prints.
        assert re.match(BANNER, m.console()), m.console()[:200]


@pytest.mark.parametrize("mode", FIRMWARE_MODES)
def test_image_boots(mode):
    uefi = mode.startswith("uefi")
    with Machine("image-" + mode, mode=mode, cmdline="mos.exit=ready") as m:
        m.wait_for(BANNER, timeout=90 if uefi else 30)
        m.wait_for(rb"boot: multiboot2 via GRUB [^,]*, %s firmware" % (b"UEFI" if uefi else b"BIOS"))
        m.wait_for(rb'modules: 1 0x[0-9a-f]+-0x[0-9a-f]+ \(\d+ KiB\) "initrd"')
        m.wait_for(rb"screen: framebuffer \d+x\d+x\d+" if uefi else rb"screen: vga-text")
        m.expect_exit("MOS_QEMU_EXIT_READY")


def test_fw_cfg_command_line_reaches_the_kernel():
    with Machine("fwcfg", cmdline="mos.exit=ready mos.test.word=hello,world") as m:
        m.wait_for(rb'cmdline: "console=com1 mos.exit=ready mos.test.word=hello,world" \(with fw_cfg opt/multios/cmdline\)')
        m.expect_exit("MOS_QEMU_EXIT_READY")


@pytest.mark.parametrize("kind,name,vector", [("ud", "#UD", 6), ("pf", "#PF", 14), ("gp", "#GP", 13),
                                               ("de", "#DE", 0), ("bp", "#BP", 3)])
def test_exception_is_reported_and_ends_qemu(kind, name, vector):
    with Machine("fault-" + kind, cmdline="mos.fault=" + kind) as m:
        m.wait_for(rb"PANIC: %s \(vector %d\) error=0x[0-9a-f]+ rip=0x[0-9a-f]+ cr2=0x[0-9a-f]+"
                   % (re.escape(name.encode()), vector), failure=None)
        m.wait_for(rb"rax=[0-9a-f]{16} rbx=[0-9a-f]{16}", failure=None)
        m.wait_for(rb"r12=[0-9a-f]{16}", failure=None)
        m.expect_exit("MOS_QEMU_EXIT_PANIC")
        if kind == "pf":
            assert b"cr2=0x400000000000" in m.console()


def test_unknown_fault_option_is_refused():
    with Machine("fault-bogus", cmdline="mos.fault=nonsense") as m:
        m.wait_for(rb"mos.fault=nonsense: no such fault")
        m.expect_exit("MOS_QEMU_EXIT_BAD_ARG")


def test_uefi_framebuffer_shows_the_banner():
    with Machine("uefi-screen", mode="uefi-cd") as m:
        m.wait_for(rb"kernel: boot complete", timeout=90)
        image = fontcheck.read_ppm(m.screendump())
        # The banner is the kernel's first line, drawn at the top left in the console font.
        found = fontcheck.text_at(image, row=0, col=0, length=len("MultiOS 0.1.0"))
        assert found.startswith("MultiOS "), "the screen's first line reads %r" % found


def test_gdb_stops_at_kmain_with_symbols():
    out = debug.gdb_batch("direct", ["continue", "bt"])
    assert re.search(r"Breakpoint 1, kmain \(info=", out), out
    assert re.search(r"#0\s+kmain .* at kernel/main.c:\d+", out), out
    assert re.search(r"#1\s+0x[0-9a-f]+ in hal_boot ", out), out
