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
