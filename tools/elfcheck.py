"""Check the kernel ELF after every link, and report its size.

What must hold, because a loader or the boot code depends on it:
- the entry point (_start_mb2) lies in the boot segment, at its physical address;
- a valid multiboot2 header sits 8-byte aligned in the first 32 KiB of the file (GRUB's rule);
- the PVH note names an entry inside a loaded segment (QEMU's direct boot);
- .boot is at 1 MiB; .text/.rodata/.data/.bss are in the top 2 GiB and load at VMA - KERNEL_VMA;
- no segment is writable and executable, except the boot segment (32-bit code that writes its
  own variables before paging exists).
"""
import struct
import sys

from elftools.elf.elffile import ELFFile

KERNEL_VMA = 0xFFFFFFFF80000000
MB2_MAGIC = 0xE85250D6
PF_X, PF_W = 1, 2


class CheckError(Exception):
    pass


def find_multiboot2(data):
    for off in range(0, min(len(data), 32768) - 16, 8):
        magic, arch, length, checksum = struct.unpack_from("<IIII", data, off)
        if magic == MB2_MAGIC and (magic + arch + length + checksum) & 0xFFFFFFFF == 0:
            return off
    raise CheckError("no multiboot2 header (8-byte aligned, valid checksum) in the first 32 KiB")


def pvh_entry(elf):
    for seg in elf.iter_segments():
        if seg.header.p_type != "PT_NOTE":
            continue
        for note in seg.iter_notes():
            if note["n_name"] == "Xen" and note["n_type"] == 18:
                desc = note["n_desc"]
                raw = desc if isinstance(desc, bytes) else bytes.fromhex(desc) if isinstance(desc, str) else desc
                return struct.unpack_from("<I", raw)[0]
    raise CheckError("no PVH entry note (Xen, type 18) in a PT_NOTE segment")


def check(path):
    data = open(path, "rb").read()
    with open(path, "rb") as f:
        elf = ELFFile(f)
        if elf.elfclass != 64 or elf["e_machine"] != "EM_X86_64":
            raise CheckError("not an x86_64 ELF64")
        loads = [s for s in elf.iter_segments() if s.header.p_type == "PT_LOAD"]
        sections = {s.name: s for s in elf.iter_sections()}
        for name in (".boot", ".text", ".rodata", ".data", ".bss"):
            if name not in sections:
                raise CheckError("section %s is missing" % name)
        boot = sections[".boot"]
        if boot["sh_addr"] != 0x100000:
            raise CheckError(".boot is at %#x, not 1 MiB" % boot["sh_addr"])
        boot_seg = next(s for s in loads if s.header.p_vaddr <= boot["sh_addr"] < s.header.p_vaddr + s.header.p_memsz)

        def segment_of(addr):
            for s in loads:
                if s.header.p_vaddr <= addr < s.header.p_vaddr + max(s.header.p_memsz, 1):
                    return s
            return None

        entry = elf["e_entry"]
        if segment_of(entry) is not boot_seg:
            raise CheckError("entry point %#x is not in the boot segment" % entry)
        mb2 = find_multiboot2(data)
        pvh = pvh_entry(elf)
        if segment_of(pvh) is not boot_seg:
            raise CheckError("PVH entry %#x is not in the boot segment" % pvh)
        for name in (".text", ".rodata", ".data", ".bss"):
            addr = sections[name]["sh_addr"]
            if addr < KERNEL_VMA:
                raise CheckError("%s is at %#x, below the kernel's higher half" % (name, addr))
        for s in loads:
            h = s.header
            if h.p_vaddr >= KERNEL_VMA and h.p_paddr != h.p_vaddr - KERNEL_VMA:
                raise CheckError("segment at %#x loads at %#x, not at VMA - KERNEL_VMA" % (h.p_vaddr, h.p_paddr))
            if h.p_flags & PF_X and h.p_flags & PF_W and s is not boot_seg:
                raise CheckError("segment at %#x is writable and executable" % h.p_vaddr)
        size = {n: sections[n]["sh_size"] for n in (".boot", ".text", ".rodata", ".data", ".bss")}
    return entry, mb2, pvh, size, len(data)


def main(argv):
    path = argv[0]
    try:
        entry, mb2, pvh, size, total = check(path)
    except CheckError as e:
        sys.exit("elfcheck: %s: %s" % (path, e))
    print("elfcheck: %s ok: entry %#x, multiboot2 header at file offset %#x, PVH entry %#x; "
          "text %d KiB, rodata %d KiB, data %d KiB, bss %d KiB, file %d KiB"
          % (path, entry, mb2, pvh, size[".text"] // 1024, size[".rodata"] // 1024, size[".data"] // 1024,
             size[".bss"] // 1024, total // 1024))


if __name__ == "__main__":
    main(sys.argv[1:])
