// Loading a static ELF64 x86_64 executable into a fresh address space. Everything in the file
// is checked before it is trusted: the headers, every segment's bounds and permissions.
#include <kernel/elf.h>
#include <kernel/mm.h>
#include <kernel/string.h>
#include <multios/errno.h>

struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

enum { PT_LOAD = 1, PF_X = 1, PF_W = 2, PF_R = 4, ET_EXEC = 2, EM_X86_64 = 62, MAX_PHDRS = 32 };

long elf_load(struct vm_space *vs, const uint8_t *data, uint64_t size, uint64_t *entry) {
    struct ehdr eh;
    if (size < sizeof eh)
        return -MOS_ENOEXEC;
    memcpy(&eh, data, sizeof eh);
    if (memcmp(eh.ident, "\177ELF", 4) != 0 || eh.ident[4] != 2 || eh.ident[5] != 1 || eh.type != ET_EXEC ||
        eh.machine != EM_X86_64 || eh.phentsize != sizeof(struct phdr) || eh.phnum == 0 || eh.phnum > MAX_PHDRS ||
        eh.phoff > size || eh.phnum * sizeof(struct phdr) > size - eh.phoff)
        return -MOS_ENOEXEC;
    bool entry_ok = false;
    for (int pass = 0; pass < 2; pass++) {
        // Pass 0 checks every segment; pass 1 maps them. Nothing is mapped for a bad file.
        for (unsigned i = 0; i < eh.phnum; i++) {
            struct phdr ph;
            memcpy(&ph, data + eh.phoff + i * sizeof ph, sizeof ph);
            if (ph.type != PT_LOAD || ph.memsz == 0)
                continue;
            uint64_t start = PAGE_ROUND_DOWN(ph.vaddr);
            if (pass == 0) {
                if (ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset ||
                    ph.vaddr < USER_IMAGE_BASE || ph.memsz > USER_MMAP_BASE ||
                    ph.vaddr > USER_MMAP_BASE - ph.memsz || (ph.flags & PF_W && ph.flags & PF_X))
                    return -MOS_ENOEXEC;
                if (ph.flags & PF_X && eh.entry >= ph.vaddr && eh.entry < ph.vaddr + ph.memsz)
                    entry_ok = true;
                continue;
            }
            // Lazily: a page is copied from the file at its first touch (most programs never
            // run much of their text), from frames reserved now; a read-only page comes from
            // the page cache (the initrd's files never change), shared by every process.
            uint64_t len = PAGE_ROUND_UP(ph.vaddr + ph.memsz) - start;
            unsigned flags = VM_USER | VM_LAZY | (ph.flags & PF_R ? VM_READ : 0) | (ph.flags & PF_W ? VM_WRITE : 0) |
                             (ph.flags & PF_X ? VM_EXEC : 0) | (ph.flags & PF_W ? 0 : VM_CACHE);
            long r = vm_alloc_from(vs, start, len, flags, data + ph.offset, ph.vaddr, ph.filesz);
            if (r < 0)
                return r == -MOS_EEXIST ? -MOS_ENOEXEC : r; // segments must not share pages
        }
        if (pass == 0 && !entry_ok)
            return -MOS_ENOEXEC;
    }
    *entry = eh.entry;
    return 0;
}
