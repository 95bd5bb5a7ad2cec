#pragma once
#include <stdint.h>

struct vm_space;
// Map the program's segments into VS (W^X as the file asks); 0 and *entry, or -MOS_ENOEXEC
// for a file that is not a valid static x86_64 executable, -MOS_ENOMEM. The pages are filled
// from DATA as they are first touched: DATA must stay as long as VS (the initrd's files do).
long elf_load(struct vm_space *vs, const uint8_t *data, uint64_t size, uint64_t *entry);
