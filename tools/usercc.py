"""The compile recipe for MultiOS guest programs in C, defined once: services/runtime's
SConscript builds libmos and the guest programs with it, and `./multios cc` gives it to users.

A guest program is a static ELF64 linked at 0x400000 by services/runtime/user.ld, with three
W^X segments (text R+X, rodata R, data R+W), crt0 and libmos from build/user/libmos.a.
Headers: the libc under services/runtime/include, the ABI (<multios/syscalls.h>,
<multios/errno.h>, the generated <multios/libmos_syscalls.h>) under build/user/include, and
gcc's own freestanding headers (stdint, stddef, stdarg, stdbool, float, ...).
"""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME_INCLUDE = "services/runtime/include"
ABI_INCLUDE = "build/user/include"
LIBMOS = "build/user/libmos.a"
LINKER_SCRIPT = "services/runtime/user.ld"

# Ring 3 may use SSE (the kernel saves user FPU state); no red zone, as in the kernel.
# Not Linux: programs that test __linux__ must not take glibc paths.
CFLAGS = ["-O2", "-g", "-ffreestanding", "-fno-pic", "-fno-pie", "-static", "-mno-red-zone",
          "-fno-stack-protector", "-Werror=implicit-function-declaration",
          "-U__linux__", "-U__linux", "-Ulinux", "-U__gnu_linux__", "-D__multios__=1"]
LINKFLAGS = ["-nostdlib", "-static", "-no-pie", "-Wl,-z,max-page-size=0x1000", "-Wl,-z,noexecstack",
             "-Wl,--build-id=none"]


def gcc_include():
    return subprocess.check_output(["gcc", "-print-file-name=include"], text=True).strip()


def libgcc():
    return subprocess.check_output(["gcc", "-print-libgcc-file-name"], text=True).strip()


def include_flags(root=ROOT):
    return ["-nostdinc", "-I", os.path.join(root, RUNTIME_INCLUDE), "-I", os.path.join(root, ABI_INCLUDE),
            "-isystem", gcc_include()]


def cc_command(sources, out, root=ROOT, extra=()):
    """gcc compiling and linking SOURCES (C, or objects) into the guest program OUT."""
    return (["gcc"] + CFLAGS + include_flags(root) + list(extra) + list(sources) + ["-o", out]
            + LINKFLAGS + ["-Wl,-T," + os.path.join(root, LINKER_SCRIPT), os.path.join(root, LIBMOS), libgcc()])
