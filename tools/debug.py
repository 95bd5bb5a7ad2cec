"""./multios debug: QEMU halted with its gdb stub, and gdb with the kernel's symbols, stopped
at kmain. The tests use gdb_batch() to prove the same thing non-interactively."""
import os
import socket
import subprocess

import qemu_cmd as qemu

GDB_SCRIPT = [
    "set pagination off",
    "set confirm off",
    # Until kmain the CPU passes through 32-bit code with paging off: a software breakpoint
    # at a higher-half address cannot be planted yet, a hardware one can.
]
# After "target remote": a breakpoint set before connecting is never planted in the guest.
AT_KMAIN = ["hbreak kmain"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_command(mode, port, extra=()):
    return qemu.base_args(mode, accel="tcg") + ["-S", "-gdb", "tcp:127.0.0.1:%d" % port, "-display", "none",
                                                "-serial", "file:/dev/null"] + list(extra)


def gdb_command(port, commands):
    cmd = ["gdb", "-q", "-nx", qemu.KERNEL]
    for c in GDB_SCRIPT + ["target remote 127.0.0.1:%d" % port] + AT_KMAIN + commands:
        cmd += ["-ex", c]
    return cmd


def interactive(mode, extra):
    port = free_port()
    vm = subprocess.Popen(qemu_command(mode, port, extra))
    try:
        print("multios debug: QEMU is halted with its gdb stub on port %d; gdb stops at kmain" % port)
        subprocess.run(gdb_command(port, ["continue"]))
    finally:
        vm.kill()
        vm.wait()


def gdb_batch(mode="direct", commands=("continue", "bt", "info registers rip"), timeout=60):
    """Run gdb in batch mode against a halted QEMU; returns gdb's output."""
    port = free_port()
    vm = subprocess.Popen(qemu_command(mode, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = subprocess.run(gdb_command(port, list(commands)) + ["-batch"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return r.stdout
    finally:
        vm.kill()
        vm.wait()
