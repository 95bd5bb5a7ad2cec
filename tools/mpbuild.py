"""Building MicroPython with SCons.

Two pieces, used by services/python/SConscript for the interpreter and for
mpy-cross:

- patched_tree(): copies the MicroPython source directories the builds read
  into the build tree and applies patches/micropython/*.patch to the copy;
- generated_headers(): the header generation of MicroPython's py/mkrules.mk
  (makeversionhdr, makeqstrdefs pp/split/cat, makeqstrdata, makemoduledefs,
  make_root_pointers), one SCons action per make rule.

Everything here declares actions; nothing runs while SConscripts are read.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys

from SCons.Scanner import ClassicCPP
from SCons.Script import Action

# Directories of the MicroPython source the builds read, copied whole
# because sources include headers and .c files (lib/re1.5, lib/uzlib) freely.
TREE_DIRS = [
    "py",
    "extmod",
    "shared",
    "lib/libm_dbl",
    "lib/re1.5",
    "lib/uzlib",
    "lib/crypto-algorithms",
    "mpy-cross",
    "tools",
]

# PY_CORE_O_BASENAME of py/py.mk (MicroPython 1.25.0). Files for other
# architectures or disabled features compile to nothing.
PY_CORE = ["py/%s.c" % name for name in """
    mpstate nlr nlrx86 nlrx64 nlrthumb nlraarch64 nlrmips nlrpowerpc nlrxtensa
    nlrrv32 nlrrv64 nlrsetjmp malloc gc pystack qstr vstr mpprint unicode mpz
    reader lexer parse scope compile emitcommon emitbc asmbase asmx64 emitnx64
    asmx86 emitnx86 asmthumb emitnthumb emitinlinethumb asmarm emitnarm
    asmxtensa emitnxtensa emitinlinextensa emitnxtensawin asmrv32 emitnrv32
    emitinlinerv32 emitndebug formatfloat parsenumbase parsenum emitglue
    persistentcode runtime runtime_utils scheduler nativeglue pairheap ringbuf
    cstack stackctrl argcheck warning profile map obj objarray objattrtuple
    objbool objboundmeth objcell objclosure objcode objcomplex objdeque objdict
    objenumerate objexcept objfilter objfloat objfun objgenerator
    objgetitemiter objint objint_longlong objint_mpz objlist objmap objmodule
    objobject objpolyiter objproperty objnone objnamedtuple objrange
    objreversed objringio objset objsingleton objslice objstr objstrunicode
    objstringio objtuple objtype objzip opmethods sequence stream binary
    builtinimport builtinevex builtinhelp modarray modbuiltins modcollections
    modgc modio modmath modcmath modmicropython modstruct modsys moderrno
    modthread vm bc showbc repl smallint frozenmod
""".split()]

# The C scanner on QSTR_CPPPATH, which lacks the generated headers' folder:
# the sources include what is generated from their own preprocessing (behind
# #ifndef NO_QSTR), and the usual scanner would see a cycle.
_QSTR_SCANNER = ClassicCPP("QstrScanner", "$CPPSUFFIXES", "QSTR_CPPPATH",
                           r'^[ \t]*#[ \t]*(?:include|import)[ \t]*(<|")([^>"]+)(>|")')

_trees = {}


def _copy_and_patch(target, source, env):
    src, dest = env["MP_SRC"], env["MP_TREE"]
    shutil.rmtree(dest, ignore_errors=True)
    for d in TREE_DIRS:
        shutil.copytree(os.path.join(src, d), os.path.join(dest, d), symlinks=True)
    for patch in env["MP_PATCHES"]:
        # No fuzz: a patch that does not apply exactly is a build error.
        subprocess.run(["patch", "-p1", "--batch", "--forward", "--fuzz=0", "--quiet",
                        "--no-backup-if-mismatch", "-d", dest, "-i", patch], check=True)
    # The stamp names the patches by content, so it changes with any of them.
    with open(str(target[0]), "w") as f:
        for patch in env["MP_PATCHES"]:
            with open(patch, "rb") as p:
                f.write("%s %s\n" % (hashlib.sha256(p.read()).hexdigest(), os.path.basename(patch)))


def tree_files(mp_src):
    """The files of TREE_DIRS in mp_src (a Dir), relative to it. The source is
    unpacked before the build (./multios setup); listing it is reading inputs."""
    root = mp_src.abspath
    if not os.path.isdir(os.path.join(root, "py")):
        raise SystemExit("MicroPython source missing at %s: run ./multios setup" % root)
    files = []
    for d in TREE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, d)):
            files += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
    return sorted(files)


def patched_tree(env, mp_src, dest, patches):
    """Declares the step that copies TREE_DIRS of mp_src (a Dir) to dest (a
    Dir) and applies patches (Files) in order. Every file of the copy is a
    target, so SCons orders and scans everything read from it after the step.
    Returns dest.

    Declared once per dest, so the SConscript may be read for several
    environments (host, guest)."""
    key = dest.abspath
    patch_paths = [p.abspath for p in patches]
    if key in _trees:
        if _trees[key] != patch_paths:
            raise ValueError("patched_tree(%s) declared twice differently" % key)
        return dest
    _trees[key] = patch_paths
    files = tree_files(mp_src)
    env.Command(
        [dest.File(".patched")] + [dest.File(f) for f in files],
        list(patches) + [mp_src.File(f) for f in files],
        Action(_copy_and_patch, "  PATCH   $MP_TREE"),
        MP_SRC=mp_src.abspath,
        MP_TREE=dest.abspath,
        MP_PATCHES=patch_paths,
    )
    return dest


def _mpversion(target, source, env):
    version = {}
    with open(str(source[1])) as f:
        for line in f:
            m = re.match(r"#define MICROPY_VERSION_(MAJOR|MINOR|MICRO) (\d+)", line)
            if m:
                version[m.group(1)] = m.group(2)
    # makeversionhdr.py asks git first, and git would describe the MultiOS
    # repository around the tree: name the release from py/mpconfig.h instead.
    tag = "v%(MAJOR)s.%(MINOR)s.%(MICRO)s" % version
    run_env = dict(os.environ, MICROPY_GIT_TAG=tag, MICROPY_GIT_HASH="")
    subprocess.run([env.subst("$PYTHON"), str(source[0]), str(target[0])],
                   env=run_env, check=True, stdout=subprocess.DEVNULL)


def generated_headers(env, tree, gendir, qstr_sources, qstr_defs=(), deps=()):
    """Declares the genhdr/ steps of py/mkrules.mk into gendir (a Dir named
    genhdr, on env's CPPPATH through its parent) for a build compiling
    qstr_sources (Files) with env's flags. qstr_defs: the port's extra qstr
    headers (QSTR_DEFS). deps: files that change every qstr, such as the
    port's mpconfigport.h (QSTR_GLOBAL_DEPENDENCIES). Returns the headers."""
    env = env.Clone(PYTHON=env.get("PYTHON", sys.executable))
    py = tree.Dir("py")
    script = {name: py.File(name + ".py") for name in
              ("makeversionhdr", "makeqstrdefs", "makeqstrdata", "makemoduledefs",
               "make_root_pointers")}
    deps = [py.File("mpconfig.h"), tree.File(".patched")] + list(deps)
    cflags = "$CFLAGS $CCFLAGS $_CCCOMCOM"

    mpversion = env.Command(
        gendir.File("mpversion.h"), [script["makeversionhdr"], py.File("mpconfig.h")],
        Action(_mpversion, "  GEN     $TARGET"))

    # Preprocess every source once with -DNO_QSTR; the split/cat steps below
    # pull qstrs, module and root-pointer registrations out of the output.
    # Only changed sources are preprocessed again, unless a global dependency
    # changed: makeqstrdefs.py keeps one output per source in gendir.
    qstr_i = env.Command(
        gendir.File("qstr.i.last"), list(qstr_sources) + deps + [script["makeqstrdefs"]],
        Action("$PYTHON %s pp $CC -E output $TARGET cflags %s -DNO_QSTR cxxflags "
               "sources $SOURCES dependencies $QSTR_DEPS changed_sources $CHANGED_SOURCES"
               % (script["makeqstrdefs"].path, cflags), "  GEN     $TARGET"),
        QSTR_DEPS=deps,
        QSTR_CPPPATH=[d for d in env["CPPPATH"] if env.Dir(d) != gendir.dir],
        source_scanner=_QSTR_SCANNER)
    # mkrules.mk makes these order-only: generated headers the sources include.
    env.Depends(qstr_i, mpversion)

    # makeqstrdefs.py split then cat: mkrules.mk's two rules, joined because
    # a stamp between them would never change content and SCons would skip cat.
    def collected(mode, out):
        return env.Command(
            gendir.File(out), [qstr_i, script["makeqstrdefs"]],
            Action("$PYTHON ${SOURCES[1]} split %s $SOURCE ${TARGET.dir}/%s _ && "
                   "$PYTHON ${SOURCES[1]} cat %s _ ${TARGET.dir}/%s $TARGET >/dev/null"
                   % (mode, mode, mode, mode), "  GEN     $TARGET"))

    preprocessed = env.Command(
        gendir.File("qstrdefs.preprocessed.h"),
        [py.File("qstrdefs.h")] + list(qstr_defs) + collected("qstr", "qstrdefs.collected.h"),
        Action("cat $SOURCES | sed 's/^Q(.*)/\"&\"/' | $CC -E %s - "
               "| sed 's/^\\\"\\(Q(.*)\\)\\\"/\\1/' > $TARGET" % cflags, "  GEN     $TARGET"))
    env.Depends(preprocessed, deps)
    qstrdefs = env.Command(
        gendir.File("qstrdefs.generated.h"), [script["makeqstrdata"], preprocessed],
        Action("$PYTHON $SOURCES > $TARGET", "  GEN     $TARGET"))
    moduledefs = env.Command(
        gendir.File("moduledefs.h"),
        [script["makemoduledefs"], collected("module", "moduledefs.collected")],
        Action("$PYTHON $SOURCES > $TARGET", "  GEN     $TARGET"))
    root_pointers = env.Command(
        gendir.File("root_pointers.h"),
        [script["make_root_pointers"], collected("root_pointer", "root_pointers.collected")],
        Action("$PYTHON $SOURCES > $TARGET", "  GEN     $TARGET"))
    return mpversion + qstrdefs + moduledefs + root_pointers
