"""MicroPython in the guest: /bin/python runs files and commands, errors end it with a
traceback and a status, the mos module reaches the kernel, svcmgr starts the COM1 shell
and the COM2 raw REPL, a soft reset gives a fresh interpreter, and a 100,000-key dict
stays fast. Figures go to build/test-logs/python-figures.json."""
import re
import time

import pytest

from machine import Machine, record_figures

RAW_PROMPT = rb"raw REPL; CTRL-B to exit\r\n>"


class RawRepl:
    """MicroPython's raw REPL on COM2 (what pyboard.py does), over the harness's socket."""

    def __init__(self, m):
        self.m = m
        # As pyboard.py: Ctrl-C stops whatever runs, Ctrl-A (again) enters the raw REPL.
        m.send(b"\r\x03\r\x01", port="com2")
        m.wait_for(RAW_PROMPT, port="com2")

    def exec(self, code, timeout=60):
        """Runs code; returns (stdout, the exception text or b"")."""
        self.m.send(code.encode() + b"\x04", port="com2")
        self.m.wait_for(rb"OK", port="com2")
        got = self.m.wait_for(rb"(?s)(.*?)\x04(.*?)\x04>", port="com2", timeout=timeout)
        return got.group(1).replace(b"\r\n", b"\n"), got.group(2).replace(b"\r\n", b"\n")

    def check(self, code, timeout=60):
        out, err = self.exec(code, timeout)
        assert err == b"", err.decode(errors="replace")
        return out.decode()

    def soft_reset(self):
        self.m.send(b"\x04", port="com2")
        self.m.wait_for(rb"soft reboot\r\n", port="com2")
        self.m.wait_for(RAW_PROMPT, port="com2")


def run_python(name, *args, timeout=60):
    """Boots with mos.run=/bin/python,ARGS; returns (COM1 text after the start, status)."""
    # The kernel command line splits at spaces, and mos.run splits its value at commas.
    assert not any("," in a or " " in a for a in args), "no spaces or commas in mos.run arguments"
    with Machine("python-" + name, cmdline="mos.run=" + ",".join(("/bin/python",) + args)) as m:
        m.wait_for(rb"mos.run: /bin/python exited with status (0x[0-9a-f]+)", timeout=timeout)
        status = int(re.search(rb"exited with status (0x[0-9a-f]+)", m.console()).group(1), 16)
        m.wait_exit()
        text = m.console().decode(errors="replace")
        return text[text.index("mos.run: started"):], status


def test_command_runs_and_sets_the_exit_status():
    out, status = run_python("command", "-c", "import\tsys;print('platform:'+sys.platform);sys.exit(7)")
    assert "platform:multios" in out
    assert status == 7


def test_uncaught_exception_prints_traceback_and_fails():
    out, status = run_python("raise", "-c", "raise(ValueError('boom'))")
    assert "Traceback (most recent call last):" in out and "ValueError: boom" in out, out
    assert status == 1


def test_runaway_recursion_and_memory_end_with_a_report():
    out, status = run_python("recursion", "-c", "f=lambda:f();f()")
    assert "RuntimeError: maximum recursion depth exceeded" in out, out
    assert status == 1
    out, status = run_python("memory", "-X", "heapsize=256k", "-X", "heapmax=1m", "-c", "x=bytearray(1<<24)")
    assert "MemoryError" in out, out
    assert status == 1


def test_script_from_the_initrd_with_arguments():
    # /lib/mosutil.py prints the process table when run as a program.
    out, status = run_python("script", "/lib/mosutil.py", "extra", "args")
    assert status == 0, out
    assert re.search(r"PID +PPID +STATE", out), out
    assert re.search(r"\n +1 +0 +running .*python", out), out


@pytest.fixture(scope="module")
def booted():
    """The normal boot: svcmgr starts /bin/sh on COM1 and /bin/python --com2 on COM2."""
    with Machine("python-boot") as m:
        t0 = m.launched_at
        m.wait_for(rb">>> ", port="com2", timeout=60)
        # Boot to the COM2 prompt, from QEMU's start (the harness sees the prompt arrive).
        record_figures("python", boot_to_com2_prompt_s=round(time.monotonic() - t0, 2))
        m.cursor["com2"] = 0
        yield m


def test_svcmgr_starts_the_shell_and_the_com2_repl(booted):
    # The COM2 REPL answered already (the fixture); the shell prompts on COM1.
    booted.cursor["com1"] = 0
    booted.wait_for(rb"multios> ")
    assert RawRepl(booted).check("import mosutil\nprint(sorted(p['name'] for p in mosutil.procs()))")


def test_raw_repl_executes_and_soft_reset_gives_a_fresh_interpreter(booted):
    repl = RawRepl(booted)
    assert repl.check("print(sum(range(10)))") == "45\n"
    out, err = repl.exec("1/0")
    assert out == b"" and b"ZeroDivisionError" in err
    repl.check("leftover = 1")
    assert repl.check("print('leftover' in globals())") == "True\n"
    repl.soft_reset()
    assert repl.check("print('leftover' in globals())") == "False\n"
    # Raw paste mode (what pyboard.py and mpremote use first): Ctrl-E A Ctrl-A.
    booted.send(b"\x05A\x01", port="com2")
    got = booted.wait_for(rb"(?s)R\x01(..)", port="com2")
    window = got.group(1)[0] | got.group(1)[1] << 8
    assert window > 0
    booted.send(b"print(6 * 7)\x04", port="com2")
    booted.wait_for(rb"(?s)\x04.*?42\r\n\x04\x04>", port="com2")


def test_ctrl_c_interrupts_running_code(booted):
    repl = RawRepl(booted)
    booted.send(b"n = 0\nwhile True:\n    n += 1\n\x04", port="com2")
    booted.wait_for(rb"OK", port="com2")
    time.sleep(1)
    booted.send(b"\x03", port="com2")
    got = booted.wait_for(rb"(?s)\x04(.*?)\x04>", port="com2", timeout=20)
    assert b"KeyboardInterrupt" in got.group(1)
    assert int(repl.check("print(n)")) > 0
    # During a sleep too.
    booted.send(b"import time\ntime.sleep(60)\n\x04", port="com2")
    booted.wait_for(rb"OK", port="com2")
    time.sleep(0.5)
    booted.send(b"\x03", port="com2")
    got = booted.wait_for(rb"(?s)\x04(.*?)\x04>", port="com2", timeout=20)
    assert b"KeyboardInterrupt" in got.group(1)


def test_mos_module(booted):
    repl = RawRepl(booted)
    out = repl.check("""
import mos, struct, mos_consts
print('pid', mos.getpid() > 1)
t0 = mos.clock_ns()
pid = mos.spawn('/bin/true', ['true'], [])
got, status = mos.wait(pid)
print('child', got == pid, struct.unpack('<i', status)[0])
print('clock', mos.clock_ns() > t0)
for bad in (lambda: mos.close(99), lambda: mos.open('/no/such/file', 0), lambda: mos.kill(99999)):
    try:
        bad()
    except OSError as e:
        print('errno', mos_consts.ERRNO_NAMES[e.errno])
st = mos.stat('/bin/python')[1]
print('size', struct.unpack_from('<Q', st, 0)[0] > 100000)
""")
    assert out.split("\n") == ["pid True", "child True 0", "clock True", "errno EBADF", "errno ENOENT",
                               "errno ESRCH", "size True", ""], out


def test_files_and_os_over_the_initrd(booted):
    repl = RawRepl(booted)
    out = repl.check("""
import os
print({'bin', 'etc', 'lib'} <= set(os.listdir('/')), 'python' in os.listdir('/bin'))
print(os.stat('/etc')[0] & 0x4000 != 0, os.stat('/etc/motd')[6] > 0)
with open('/etc/motd') as f:
    print(repr(f.readline()))
with open('/etc/motd', 'rb') as f:
    f.seek(3)
    print(f.read(4), f.tell())
try:
    open('/etc/motd', 'w')
except OSError as e:
    print('write', e.errno)
import mosutil
print(any(p['name'] == 'svcmgr' for p in mosutil.procs()))
""")
    lines = out.split("\n")
    assert lines[0] == "True True", out
    assert lines[1] == "True True"
    assert lines[2].startswith("'") and lines[2].endswith("\\n'")
    assert lines[4] == "write 30"
    assert lines[5] == "True"


def test_dict_of_100k_string_keys(booted):
    """100,000 string-keyed inserts and lookups (bench/interp/dict_str_keys.py) in the guest."""
    repl = RawRepl(booted)
    # The script as the image ships it (/bench), with its folder on the path as for any script.
    src = "import sys\nsys.path.insert(0, '/bench')\nexec(open('/bench/dict_str_keys.py').read())"
    t0 = time.monotonic()
    out = repl.check(src, timeout=120)
    wall = time.monotonic() - t0
    ms = float(re.search(r"RESULT dict_str_keys ([0-9.]+)", out).group(1))
    record_figures("python", dict_100k_guest_ms=ms)
    assert ms < 20000, out
    assert wall < 60


def test_friendly_repl_on_com1_from_the_shell(booted):
    booted.send_line("")
    booted.wait_for(rb"multios> ")
    booted.send_line("python")
    booted.wait_for(rb">>> ")
    booted.send_line("print(6 * 7)")
    booted.wait_for(rb"42\r\n>>> ")
    booted.send(b"while True: pass\r\r")
    time.sleep(1)
    booted.send(b"\x03")
    booted.wait_for(rb"KeyboardInterrupt")
    booted.wait_for(rb">>> ")
    booted.send(b"\x04")
    booted.wait_for(rb"multios> ")
