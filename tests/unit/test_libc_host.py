"""libmos's C library, run on the host: services/bin/libctest.c and the runtime sources,
compiled with the guest recipe (tools/usercc.py) and linked by the guest linker script, with
the mos_* calls answered by Linux system calls (libc_host/linux_stubs.c). The same program
runs in the guest (tests/qemu/test_user.py)."""
import os
import subprocess

import pytest

import gensyscalls
import usercc

ROOT = usercc.ROOT
HERE = os.path.dirname(os.path.abspath(__file__))
LIBC_SOURCES = ["start.c", "stdio.c", "string.c", "stdlib.c", "malloc.c", "unistd.c"]


@pytest.fixture(scope="module")
def libctest(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("libc_host")
    # The ABI headers as the build installs them: multios/*.h plus the generated stubs' header.
    abi = tmp / "include" / "multios"
    abi.mkdir(parents=True)
    gen = tmp / "gen"
    gensyscalls.generate(os.path.join(ROOT, "kernel/include/multios/syscalls.h"), str(gen),
                         include_dir=os.path.join(ROOT, "kernel/include"))
    for src in [os.path.join(ROOT, "kernel/include/multios", h) for h in ("syscalls.h", "errno.h")] + \
            [str(gen / "libmos_syscalls.h")]:
        (abi / os.path.basename(src)).write_bytes(open(src, "rb").read())
    runtime = os.path.join(ROOT, "services/runtime")
    # The C library's files (not the service API, which needs the real system calls).
    sources = [os.path.join(runtime, f) for f in LIBC_SOURCES] + [
        os.path.join(runtime, "crt0.S"), os.path.join(ROOT, "kernel/lib/fmt.c"),
        os.path.join(ROOT, "kernel/lib/string.c"), os.path.join(HERE, "libc_host/linux_stubs.c"),
        os.path.join(ROOT, "services/bin/libctest.c")]
    out = str(tmp / "libctest")
    cmd = (["gcc"] + usercc.CFLAGS + ["-nostdinc", "-I", os.path.join(ROOT, usercc.RUNTIME_INCLUDE),
                                      "-I", str(tmp / "include"), "-I", os.path.join(ROOT, "kernel/include"),
                                      "-isystem", usercc.gcc_include(), "-DFMT_FLOAT",
                                      "-fno-tree-loop-distribute-patterns", "-Wall", "-Wextra", "-Werror"]
           + sources + ["-o", out] + usercc.LINKFLAGS
           + ["-Wl,-T," + os.path.join(ROOT, usercc.LINKER_SCRIPT), usercc.libgcc()])
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, "compile failed:\n%s\n%s" % (" ".join(cmd), r.stderr)
    return out


def test_libc_checks_pass_on_the_host(libctest, tmp_path):
    sample = tmp_path / "sample.txt"
    sample.write_text("first line\n" + "x" * 5000 + "\n")
    r = subprocess.run([libctest, str(sample)], capture_output=True, text=True, timeout=60,
                       env={"LIBCTEST": "yes", "OTHER": "1"})
    out = r.stdout
    assert "FAILED" not in out, out
    assert out.rstrip().endswith("libctest: 11 passed, 0 failed\nlibctest: atexit handler ran"), out
    assert r.returncode == 0, out + r.stderr
    # Line-buffered stdout keeps its order; stderr goes straight out.
    assert ("libctest: stdio line one 1\nlibctest: stdio line two\nlibctest: stdio line three\n"
            "libctest: stdio line four\n") in out
    assert "libctest: stdio to stderr\nlibctest: perror: Bad address\n" == r.stderr
    assert "libctest: first line of %s: first line\n" % sample in out
    assert "libctest: %s has 5012 bytes\n" % sample in out
