"""Ring 3, booted: the kernel's in-guest test table (/bin/ktest), a program's arguments and
exit status, kbench's smoke run, and a program compiled with `./multios cc` and added to the
image with `./multios build --extra`. Each runs through the kernel's test mode:
mos.run=/bin/PROG,ARG,... starts PROG and ends QEMU with its exit status."""
import importlib.util
import os
import re
import subprocess

import pytest

import qemu_cmd as qemu
from machine import ROOT, Machine

KTEST_TIMEOUT = 600  # the whole table takes about 10 s under TCG here
# Tests the issue names; the table may hold more.
REQUIRED_TESTS = {"preemption", "priorities", "sleep", "ipc", "ipc_errors", "ipc_server_death", "notify", "queue",
                  "shm", "sem", "faults", "badptr", "spawn_many", "fuzz", "libc", "lazy", "lazy_oom",
                  "threads", "thread_exit"}


def run_cmdline(prog, *args):
    return ",".join(["mos.run=/bin/" + prog] + list(args))


def text(m):
    return m.console().decode("utf-8", "replace").replace("\r", "")


def mos_consts():
    spec = importlib.util.spec_from_file_location("mos_consts", os.path.join(ROOT, "build", "gen", "mos_consts.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ktest_table_passes():
    with Machine("ktest-all", cmdline=run_cmdline("ktest", "--all")) as m:
        done = m.wait_for(rb"ktest: (\d+) passed, (\d+) failed", timeout=KTEST_TIMEOUT)
        status = m.wait_exit(30)
        out = text(m)
    failures = re.findall(r"^ktest: \S+ FAILED: .*$", out, re.M)
    assert not failures and done.group(2) == b"0", "\n".join(failures) + "\n--- tail ---\n" + m.tail(lines=60)
    assert status == qemu.qemu_status(0), "ktest exit status: QEMU ended with %d\n%s" % (status, m.tail())
    passed = set(re.findall(r"^ktest: (\w+) ok", out, re.M))
    assert int(done.group(1)) == len(passed)
    assert REQUIRED_TESTS <= passed, "not run: %s" % sorted(REQUIRED_TESTS - passed)
    # badptr tried every system call that takes a pointer.
    covered = set(re.search(r"^ktest: badptr covered (.*)$", out, re.M).group(1).split())
    with_pointers = {name for name, (_, kinds) in mos_consts().SYSCALLS.items() if set(kinds) & set("posv")}
    assert with_pointers <= covered, "badptr does not cover %s" % sorted(with_pointers - covered)


def test_ktest_refuses_an_unknown_test_name():
    with Machine("ktest-unknown", cmdline=run_cmdline("ktest", "no_such_test")) as m:
        m.wait_for(rb"ktest: no test named no_such_test")
        assert m.wait_exit(30) == qemu.qemu_status(2)


def test_program_gets_its_arguments_and_exits_0():
    with Machine("hello", cmdline=run_cmdline("hello", "one", "two")) as m:
        m.wait_for(rb"hello from /bin/hello \(pid \d+\)\r?\n  argv\[1\] = one\r?\n  argv\[2\] = two")
        assert m.wait_exit(30) == qemu.qemu_status(0)


def test_kbench_smoke():
    with Machine("kbench-quick", cmdline=run_cmdline("kbench", "--quick")) as m:
        m.wait_for(rb"kbench: done", failure=rb"PANIC: |kbench: FAILED", timeout=120)
        assert m.wait_exit(30) == qemu.qemu_status(0)
        out = text(m)
    figures = {name: (int(med), int(p99), int(runs))
               for name, med, p99, runs in re.findall(r"^BENCH (\w+) (\d+) (\d+) (\d+)$", out, re.M)}
    assert set(figures) == {"null_syscall", "ipc_roundtrip", "spawn_wait", "page_fault", "ctx_switch"}, out
    for name, (med, p99, runs) in figures.items():
        assert 0 < med <= p99 and runs > 0, (name, med, p99, runs)


GUEST_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "greeting.h"

int main(int argc, char **argv) {
    char *s = malloc(100);
    snprintf(s, 100, "%s %s, %d args, %.2f", GREETING, argc > 1 ? argv[1] : "nobody", argc, 1.0 / 3);
    puts(s);
    free(s);
    return twice(21) == 42 ? 7 : 1;
}
"""
SECOND_FILE = "int twice(int x) { return 2 * x; }\n"


@pytest.fixture
def extra_tree(tmp_path):
    """A folder for --extra; the image is rebuilt without it afterwards."""
    yield tmp_path / "extra"
    r = subprocess.run([os.path.join(ROOT, "multios"), "build"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, "rebuilding without --extra failed:\n" + r.stdout + r.stderr


def test_cc_and_build_extra(tmp_path, extra_tree):
    src = tmp_path / "src"
    src.mkdir()
    (src / "prog.c").write_text(GUEST_PROGRAM)
    (src / "twice.c").write_text(SECOND_FILE)
    (src / "greeting.h").write_text('#define GREETING "hello from a user program to"\nint twice(int x);\n')
    prog = extra_tree / "bin" / "userprog"
    r = subprocess.run([os.path.join(ROOT, "multios"), "cc", "prog.c", "twice.c", "-Wall", "-Werror", "-o", str(prog)],
                       cwd=src, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([os.path.join(ROOT, "multios"), "build", "--extra", str(extra_tree)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    with Machine("cc-extra", cmdline=run_cmdline("userprog", "you")) as m:
        m.wait_for(rb"hello from a user program to you, 2 args, 0\.33")
        assert m.wait_exit(30) == qemu.qemu_status(7)
