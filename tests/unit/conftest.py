import os
import pytest
import sys
from pathlib import Path

# The service manager's modules are plain top-level modules on the guest.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "svcmgr"))


# The generated ABI constants (build/gen/mos_consts.py) that svcmgr imports: regenerated
# from the headers when missing or older than any of them, then importable.
def _ensure_mos_consts():
    import os
    root = Path(__file__).resolve().parents[2]
    gen = root / "build" / "gen"
    target = gen / "mos_consts.py"
    headers = sorted((root / "kernel" / "include" / "multios").glob("*.h"))
    newest = max((h.stat().st_mtime for h in headers), default=0)
    if not target.exists() or target.stat().st_mtime < newest:
        tools = str(root / "tools")
        if tools not in sys.path:
            sys.path.insert(0, tools)
        import gensyscalls
        gensyscalls.generate(str(root / "kernel" / "include" / "multios" / "syscalls.h"),
                             str(gen), include_dir=str(root / "kernel" / "include"))
        # generate() leaves unchanged files alone; mark this one as checked.
        os.utime(target, None)
    if str(gen) not in sys.path:
        sys.path.insert(0, str(gen))


_ensure_mos_consts()


@pytest.fixture(scope="session")
def host_micropython():
    """This repo's MicroPython configuration built natively (build/host/python/micropython),
    built here when missing: the service manager and the TOML parser run on it in the guest."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "build", "host", "python", "micropython")
    if not os.path.exists(path):
        r = subprocess.run([os.path.join(root, ".venv", "bin", "scons"), "-Q", "-C", root, path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        if r.returncode != 0 or not os.path.exists(path):
            pytest.fail("building %s failed:\n%s" % (path, r.stdout[-3000:]))
    return path
