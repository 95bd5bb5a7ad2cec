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


def read(path):
    """[(name, mode, data)] of a newc archive (what pack() writes)."""
    data = open(path, "rb").read()
    out, off = [], 0
    while True:
        assert data[off:off + 6] == b"070701", "not a newc archive at %d" % off
        fields = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name = data[off + 110:off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        body = data[off:off + size]
        off = (off + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out.append((name, mode, body))


def repack(base, tmp, files, drop=()):
    """The archive base with files ({archive path: text}) added and the paths in drop left
    out, written under the directory tmp; returns the new archive's path."""
    tree = os.path.join(tmp, "tree")
    os.makedirs(tree)
    contents = {}
    for name, mode, body in read(base):
        if mode & 0o170000 == 0o040000:
            os.makedirs(os.path.join(tree, name), exist_ok=True)
        elif name not in drop:
            contents[name] = (body, mode & 0o111)
    for name, text in files.items():
        contents[name] = (text.encode(), 0)
    for name, (body, x) in contents.items():
        host = os.path.join(tree, name)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        with open(host, "wb") as f:
            f.write(body)
        os.chmod(host, 0o755 if x else 0o644)
    out = os.path.join(tmp, "initrd.cpio")
    with open(out, "wb") as f:
        f.write(pack(tree_entries(tree)))
    return out


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
