"""Portable kernel C on the host: build a shared library from kernel sources plus fakes, load it
with cffi, under AddressSanitizer and UBSan.

    ffi, lib = hostlib.build("pmm", ["kernel/mm/pmm.c"], cdef="uint64_t pmm_alloc(void); ...")

build(name, sources, cdef, extra_c="", defines=())
    sources   kernel files, paths relative to the repository root. The fake HAL
              (tests/hosted/fakes/hal_fake.c) is always linked; every definition in it is weak,
              so a real kernel file (or another fake listed in sources) takes precedence.
    cdef      C declarations for cffi (ABI mode: ffi.dlopen). The fake HAL's own interface
              (FAKES_CDEF below: hosted_phys_init, hosted_log, hosted_irq_depth, ...) is
              declared already.
    extra_c   C appended as one more translation unit, with <hosted.h> included: wrappers the
              test needs, e.g. `int try_free(uint64_t p) { return HOSTED_TRY(pmm_free(p)); }`
              (HOSTED_TRY turns a kernel panic into -1 instead of aborting the process).
    defines   extra -D options, as "NAME" or "NAME=VALUE".
    Returns (ffi, lib). The library lands in build/hosted/NAME-HASH.so and is rebuilt only when
    a source, header, flag or snippet changes.

Include path: tests/hosted/fakes/include first (its hal/cpu.h makes hal_phys_to_virt point
into the fake's physical-memory arena), then hal/include, kernel/include, build/gen. Every file
is compiled with -DMOS_HOSTED=1 and the kernel's virtual ranges moved to host addresses
(KHEAP_VA_BASE, KSTACK_VA_BASE).

ASan in-process: an ASan-instrumented library can only be loaded into a process whose first
library is the ASan runtime, and CPython is not built with it. tests/hosted/conftest.py handles
that: when pytest runs without libasan loaded, each hosted test module runs in a child pytest
with LD_PRELOAD=$(gcc -print-file-name=libasan.so), ASAN_OPTIONS=detect_leaks=0 (CPython keeps
memory until exit on purpose) and halting UBSan; the child's per-test results are reported in
the parent as if run there. A sanitizer report aborts only the child: the tests of that module
not yet reported fail with the report as their message, and the session carries on. To run a
module directly (e.g. under gdb), set those variables yourself; conftest then runs it in-process.
"""
import hashlib
import os
import subprocess

import cffi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "hosted")
FAKES = os.path.join(HERE, "fakes")
OUT = os.path.join(ROOT, "build", "hosted")

CC = os.environ.get("CC", "gcc")
CFLAGS = ["-std=gnu11", "-O1", "-g", "-fPIC", "-shared", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
          "-fno-sanitize-recover=all", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-strict-prototypes",
          "-Werror=implicit-function-declaration", "-DMOS_HOSTED=1",
          # Kernel names such as sched_yield or kill exist in libc too: bind the library's own
          # calls to its own definitions, not to whatever the process loaded first.
          "-Wl,-Bsymbolic",
          # The kernel's own virtual ranges, where the fake maps arena frames for real. Clear of
          # ASan's shadow and allocator (0x6000_0000_0000+) and of the usual mmap area.
          "-DKHEAP_VA_BASE=0x520000000000ull", "-DKSTACK_VA_BASE=0x530000000000ull"]
INCLUDES = [os.path.join(FAKES, "include"), FAKES, os.path.join(ROOT, "hal", "include"),
            os.path.join(ROOT, "kernel", "include"), os.path.join(ROOT, "build", "gen")]

FAKES_CDEF = """
int hosted_phys_init(uint64_t bytes);
uint64_t hosted_phys_size(void);
void hosted_set_kernel_image(uint64_t start, uint64_t end);
const char *hosted_panic_message(void);
const char *hosted_log(void);
void hosted_log_clear(void);
int hosted_irq_depth(void);
void hosted_irq_set_depth(int depth);
uint64_t hosted_mmu_mappings(uint64_t root);
uint64_t hosted_mmu_active(void);
int hosted_mmu_roots(void);
void hosted_mmu_fail_after(long n);
void hosted_user_fault_range(const void *lo, size_t len);
extern uint8_t *hosted_phys_base;
"""

_loaded = {}


def asan_runtime():
    """The ASan runtime gcc links against, for LD_PRELOAD."""
    return subprocess.run([CC, "-print-file-name=libasan.so"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _headers():
    for d in INCLUDES[1:] + [os.path.join(FAKES, "include")]:
        for base, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith(".h"):
                    yield os.path.join(base, f)


def _digest(paths, extra):
    h = hashlib.sha256()
    for part in extra:
        h.update(part.encode() + b"\0")
    for p in paths:
        h.update(p.encode() + b"\0")
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def build(name, sources, cdef, extra_c="", defines=()):
    key = (name, tuple(sources), cdef, extra_c, tuple(defines))
    if key in _loaded:
        return _loaded[key]
    os.makedirs(OUT, exist_ok=True)
    srcs = [os.path.join(ROOT, s) for s in sources] + [os.path.join(FAKES, "hal_fake.c")]
    flags = CFLAGS + ["-D" + d for d in defines] + ["-I" + d for d in INCLUDES]
    digest = _digest(srcs + sorted(set(_headers())), flags + [extra_c, CC])
    so = os.path.join(OUT, "%s-%s.so" % (name, digest))
    if not os.path.exists(so):
        extra_path = os.path.join(OUT, "%s-%s-extra.c" % (name, digest))
        with open(extra_path, "w") as f:
            f.write('#include <hosted.h>\n#line 1 "extra_c"\n' + extra_c + "\n")
        tmp = so + ".tmp%d" % os.getpid()
        cmd = [CC] + flags + ["-o", tmp] + srcs + [extra_path]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if r.returncode:
            raise RuntimeError("hosted build of %s failed:\n%s\n%s" % (name, " ".join(cmd), r.stderr))
        os.replace(tmp, so)
        for old in os.listdir(OUT):
            if old.startswith(name + "-") and old.endswith((".so", "-extra.c")) and digest not in old:
                try:
                    os.unlink(os.path.join(OUT, old))
                except OSError:
                    pass
    ffi = cffi.FFI()
    ffi.cdef(FAKES_CDEF)
    ffi.cdef(cdef, override=True)
    lib = ffi.dlopen(so)
    _loaded[key] = (ffi, lib)
    return ffi, lib


def header_cdef(path):
    """A kernel header (path relative to the root) as cffi declarations: without #pragma,
    #include and function-like macros, which cffi's parser does not take."""
    out = []
    for line in open(os.path.join(ROOT, path)):
        stripped = line.strip()
        if stripped.startswith(("#pragma", "#include")):
            continue
        if stripped.startswith("#define") and ("(" in stripped.split()[1] or len(stripped.split()) < 3):
            continue
        out.append(line)
    return "".join(out)
