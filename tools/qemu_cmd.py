"""QEMU command lines for MultiOS, shared by ./multios run, ./multios debug and the tests.

Boot modes:
  direct     QEMU loads build/kernel/kernel.elf through its PVH note (fast: no firmware menu)
  microvm    the same on QEMU's microvm machine: no PCI, no VGA, no option ROMs (fastest)
  bios-cd    images/multios.iso as a CD under SeaBIOS
  bios-disk  images/multios.iso as a raw disk under SeaBIOS
  uefi-cd    the same under OVMF (UEFI)
  uefi-disk
Extra kernel options travel in the fw_cfg file opt/multios/cmdline, so no mode needs a rebuild.
"""
import os
import shutil
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(ROOT, "build", "kernel", "kernel.elf")
INITRD = os.path.join(ROOT, "build", "initrd.cpio")
ISO = os.path.join(ROOT, "images", "multios.iso")
OVMF = "/usr/share/ovmf/OVMF.fd"
MODES = ("direct", "microvm", "bios-cd", "bios-disk", "uefi-cd", "uefi-disk")

# Keep in step with kernel/include/multios/qemu_exit.h.
def _exit_codes():
    codes = {}
    for line in open(os.path.join(ROOT, "kernel", "include", "multios", "qemu_exit.h")):
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "#define":
            codes[parts[1]] = int(parts[2], 0)
    return codes


EXIT_CODES = _exit_codes()


def qemu_status(code):
    """The exit status QEMU gives when the guest writes CODE to isa-debug-exit."""
    return ((code << 1) | 1) & 0xFF


def machine_args(accel="tcg", memory=256, smp=1, microvm=False):
    """The emulated machine without its boot media: what the benchmark peers share with us."""
    # -nodefaults: no NIC, so no network option ROM for the firmware to load (~50 ms).
    machine = ["-machine", "microvm,acpi=on,pit=on,pic=on,rtc=on"] if microvm else ["-vga", "std"]
    args = ["qemu-system-x86_64", "-nodefaults"] + machine + ["-accel", accel, "-m", str(memory), "-smp", str(smp),
            "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if accel == "tcg":
        # The default TCG CPU lacks what a 2010s PC has (SSE4, x2APIC, TSC flags); "max" has it.
        args += ["-cpu", "max"]
    return args


def base_args(mode="direct", accel="tcg", memory=256, cmdline="", smp=1, initrd=None):
    if mode not in MODES:
        raise ValueError("unknown boot mode %r (one of %s)" % (mode, ", ".join(MODES)))
    args = machine_args(accel, memory, smp, microvm=mode == "microvm")
    if cmdline:
        args += ["-fw_cfg", "name=opt/multios/cmdline,string=" + cmdline.replace(",", ",,")]
    if mode in ("direct", "microvm"):
        args += ["-kernel", KERNEL, "-initrd", initrd or INITRD, "-append", "console=com1"]
    else:
        if mode.startswith("uefi"):
            args += ["-bios", OVMF]
        if mode.endswith("-cd"):
            args += ["-cdrom", ISO]
        else:
            # snapshot=on: several QEMUs may share the image, and a raw drive takes a write lock.
            args += ["-drive", "file=%s,format=raw,snapshot=on" % ISO]
    return args


_probe_result = {}


def kvm_usable(timeout=15):
    """A short direct boot under KVM. This machine's /dev/kvm exists but cannot run the guest
    (DESIGN.md), so KVM is used only where the probe reaches the kernel's end of boot."""
    if "kvm" in _probe_result:
        return _probe_result["kvm"]
    ok, why = False, ""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        why = "/dev/kvm is not there or not usable"
    else:
        # Ring 3 and the syscall instruction are what a paravirtual KVM gets wrong here, so the
        # probe runs a user program, not just the kernel's boot.
        args = base_args("direct", accel="kvm", cmdline="mos.run=/bin/true") + ["-display", "none", "-serial", "null"]
        try:
            r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
            ok = r.returncode == qemu_status(0)
            why = "" if ok else "probe boot ended with status %d" % r.returncode
        except subprocess.TimeoutExpired:
            why = "probe boot did not finish in %d s" % timeout
    _probe_result["kvm"] = ok
    _probe_result["why"] = why
    return ok


def choose_accel(requested=None, report=print):
    """The accelerator to use: MULTIOS_ACCEL (tcg, kvm, auto), default tcg."""
    requested = requested or os.environ.get("MULTIOS_ACCEL", "tcg")
    if requested == "tcg":
        return "tcg"
    if requested not in ("kvm", "auto"):
        raise ValueError("MULTIOS_ACCEL must be tcg, kvm or auto, not %r" % requested)
    if kvm_usable():
        return "kvm"
    report("accelerator: KVM failed its probe (%s); using TCG" % _probe_result.get("why"))
    return "tcg"
