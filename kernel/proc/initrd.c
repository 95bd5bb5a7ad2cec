// Reading the cpio "newc" archive tools/mkinitrd.py packs. Entries are indexed once at boot;
// lookups scan the index.
#include <kernel/initrd.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <kernel/string.h>
#include <multios/errno.h>

static struct initrd_file *files; // from the kernel heap, sized by a first pass over the archive
static int count;
static const struct initrd_file root = {"", 0, NULL, 0, 0040755, 0};

static uint64_t hex(const char *s, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[i];
        v = v << 4 | (uint64_t)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
    }
    return v;
}

// The archive's entries, into OUT when it is not NULL; how many there are.
static int scan(const void *base, uint64_t len, struct initrd_file *out) {
    const char *p = base, *end = p + len;
    int n = 0;
    while (p + 110 <= end && memcmp(p, "070701", 6) == 0) {
        uint32_t mode = (uint32_t)hex(p + 14, 8);
        uint64_t mtime = hex(p + 46, 8);
        uint64_t size = hex(p + 54, 8);
        uint64_t namesize = hex(p + 94, 8);
        const char *name = p + 110;
        if (name + namesize > end || namesize == 0)
            break;
        const char *data = (const char *)(((uint64_t)(name + namesize) + 3) & ~3ull);
        if (data + size > end)
            break;
        if (namesize == 11 && memcmp(name, "TRAILER!!!", 10) == 0)
            break;
        while (namesize > 1 && (name[0] == '/' || (name[0] == '.' && name[1] == '/')))
            name++, namesize--;
        if (!(namesize == 2 && name[0] == '.')) {
            if (out)
                out[n] = (struct initrd_file){name, namesize - 1, (const uint8_t *)data, size, mode, mtime};
            n++;
        }
        p = (const char *)(((uint64_t)(data + size) + 3) & ~3ull);
    }
    return n;
}

void initrd_init(const void *base, uint64_t len) {
    int n = scan(base, len, NULL);
    count = 0;
    if (n && !(files = kmalloc((size_t)n * sizeof *files))) {
        klog("initrd: no memory for an index of %d files\n", n);
        return;
    }
    count = scan(base, len, files);
}

int initrd_count(void) { return count; }
int initrd_is_dir(const struct initrd_file *f) { return (f->mode & 0170000) == 0040000; }

static int has_slash(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/')
            return 1;
    return 0;
}

static size_t trim(const char **path) {
    while (**path == '/')
        (*path)++;
    size_t n = strlen(*path);
    while (n && (*path)[n - 1] == '/')
        n--;
    return n;
}

const struct initrd_file *initrd_lookup(const char *path) {
    size_t n = trim(&path);
    if (n == 0)
        return &root;
    for (int i = 0; i < count; i++)
        if (files[i].name_len == n && memcmp(files[i].name, path, n) == 0)
            return &files[i];
    return NULL;
}

const struct initrd_file *initrd_readdir(const char *path, long index) {
    size_t n = trim(&path);
    for (int i = 0; i < count; i++) {
        const struct initrd_file *f = &files[i];
        const char *rest;
        if (n == 0)
            rest = f->name;
        else if (f->name_len > n + 1 && memcmp(f->name, path, n) == 0 && f->name[n] == '/')
            rest = f->name + n + 1;
        else
            continue;
        if (has_slash(rest, f->name_len - (size_t)(rest - f->name)))
            continue;
        if (index-- == 0)
            return f;
    }
    return NULL;
}

int initrd_resolve(const char *path, const struct initrd_file **out) {
    *out = initrd_lookup(path);
    if (*out)
        return 0;
    // Not there: a file standing where a directory should be is ENOTDIR, as on POSIX.
    char prefix[256];
    size_t n = strlcpy(prefix, path, sizeof prefix);
    if (n >= sizeof prefix)
        return -MOS_ENAMETOOLONG;
    for (size_t i = 1; i < n; i++) {
        if (prefix[i] != '/')
            continue;
        prefix[i] = 0;
        const struct initrd_file *f = initrd_lookup(prefix);
        prefix[i] = '/';
        if (!f)
            return -MOS_ENOENT;
        if (!initrd_is_dir(f))
            return -MOS_ENOTDIR;
    }
    return -MOS_ENOENT;
}
