"""Pack a file tree into a cpio archive in the "newc" format (the initrd the kernel reads).

Files are sorted and their times fixed, so the same tree gives the same bytes.
"""
import os
import sys


def _header(ino, mode, size, name):
    fields = (ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0)
    return b"070701" + b"".join(b"%08X" % v for v in fields) + name.encode() + b"\0"


def _pad(n):
    return b"\0" * (-n % 4)


def pack(entries):
    """entries: list of (archive path, host path or None for a directory). Returns bytes."""
    out = bytearray()
    for ino, (name, src) in enumerate(sorted(entries), start=1):
        if src is None:
            data, mode = b"", 0o040755
        else:
            data = open(src, "rb").read()
            mode = 0o100755 if os.access(src, os.X_OK) else 0o100644
        out += _header(ino, mode, len(data), name)
        out += _pad(len(out))
        out += data
        out += _pad(len(out))
    out += _header(0, 0, 0, "TRAILER!!!")
    out += _pad(len(out))
    return bytes(out)


def tree_entries(root, prefix=""):
    """(archive path, host path) for every file and directory below root."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        base = prefix if rel == "." else (prefix + "/" + rel if prefix else rel)
        if base:
            entries.append((base, None))
        for fn in sorted(filenames):
            entries.append(((base + "/" if base else "") + fn, os.path.join(dirpath, fn)))
    return entries


def main(argv):
    """mkinitrd.py OUT ARCHIVE_PATH=HOST_PATH ... (a HOST_PATH directory adds its whole tree)."""
    out_path, specs = argv[0], argv[1:]
    entries = {}
    for spec in specs:
        dst, src = spec.split("=", 1)
        dst = dst.strip("/")
        if os.path.isdir(src):
            for name, path in tree_entries(src, dst):
                entries[name] = path
        else:
            entries[dst] = src
        # Every parent directory gets an entry of its own.
        parts = dst.split("/")
        for i in range(1, len(parts)):
            entries.setdefault("/".join(parts[:i]), None)
    with open(out_path, "wb") as f:
        f.write(pack(list(entries.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
