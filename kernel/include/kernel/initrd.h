// The initrd: a cpio (newc) archive the loader put in memory, read in place and never written.
#pragma once
#include <stddef.h>
#include <stdint.h>

struct initrd_file {
    const char *name;   // path without the leading '/', e.g. "bin/sh"
    size_t name_len;
    const uint8_t *data;
    uint64_t size;
    uint32_t mode;      // st_mode bits as packed (type + permissions)
    uint64_t mtime;
};

void initrd_init(const void *base, uint64_t len);
// The entry for PATH ("/bin/sh", "bin/sh", "/" and "" for the root), or NULL.
const struct initrd_file *initrd_lookup(const char *path);
// The INDEX-th entry directly inside directory PATH, or NULL past the end.
const struct initrd_file *initrd_readdir(const char *path, long index);
int initrd_count(void);
// initrd_lookup with a reason: 0, -MOS_ENOENT, -MOS_ENOTDIR (a file in the way), -MOS_ENAMETOOLONG.
int initrd_resolve(const char *path, const struct initrd_file **out);
int initrd_is_dir(const struct initrd_file *f);
