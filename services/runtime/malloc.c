// malloc: segregated size classes for blocks up to 32 KiB, one mapping per larger block.
//
// Every block starts with a 16-byte header (so payloads are 16-byte aligned) saying which
// class it belongs to. Classes run 32, 48, ... 128 bytes in steps of 16, then four steps
// per power of two (160, 192, 224, 256, 320, ...) up to 32 KiB, so no more than a fifth of
// a block is lost to rounding. A class's free blocks form a singly linked list through
// their payloads (the header stays, marked free, to catch double frees); an empty list is
// refilled from a chunk of anonymous memory mapped for that class. Small blocks go back to
// their class, never to the kernel; large blocks are unmapped when freed.
// Single-threaded, like the processes that use it.
#include <errno.h>
#include <mos.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    PAGE = 4096,
    HEADER = 16,
    SMALL_MAX = 32768,       // the largest class, header included
    CLASSES = 39,
    CHUNK_MIN = 64 * 1024,   // a class's refill: at least this, at least 4 blocks
    LARGE = 0xffff,          // class of a block with a mapping of its own
    MAGIC_USED = 0x6d6f7331, // "mos1"
    MAGIC_FREE = 0x66726565, // "free"
    MAGIC_ALIGNED = 0x616c6967, // "alig": an aligned_alloc pointer inside a bigger block
};

struct header {
    uint32_t magic;
    uint32_t cls;
    uint64_t size; // LARGE: bytes mapped; ALIGNED: distance back to the real payload
};
_Static_assert(sizeof(struct header) == HEADER, "the header keeps payloads 16-byte aligned");

struct free_block {
    struct free_block *next;
};

static struct {
    struct free_block *free;
    char *bump, *end; // the unused rest of the class's latest chunk
} classes[CLASSES];

static size_t class_size(unsigned c) {
    if (c < 7)
        return (c + 2) * 16;
    unsigned b = 7 + (c - 7) / 4, k = (c - 7) % 4 + 1;
    return ((size_t)1 << b) + k * (((size_t)1 << b) / 4);
}

// The smallest class holding n bytes (header included); n <= SMALL_MAX.
static unsigned class_of(size_t n) {
    if (n <= 32)
        return 0;
    if (n <= 128)
        return (unsigned)((n + 15) / 16 - 2);
    unsigned b = 63 - (unsigned)__builtin_clzl(n - 1); // 2^b < n <= 2^(b+1)
    size_t step = ((size_t)1 << b) / 4;
    unsigned k = (unsigned)((n - ((size_t)1 << b) + step - 1) / step);
    return 7 + (b - 7) * 4 + (k - 1);
}

static void *map(size_t len) {
    long r = mos_mmap_anon(len, MOS_PROT_READ | MOS_PROT_WRITE);
    return r < 0 ? NULL : (void *)r;
}

static _Noreturn void corrupt(const char *what, void *p) {
    fprintf(stderr, "malloc: %s %p: heap corruption or a bad pointer\n", what, p);
    abort();
}

static struct header *header_of(void *p, const char *what) {
    if ((uintptr_t)p % HEADER)
        corrupt(what, p);
    struct header *h = (struct header *)p - 1;
    if (h->magic == MAGIC_FREE)
        corrupt("double free or use after free:", p);
    if (h->magic != MAGIC_USED && h->magic != MAGIC_ALIGNED)
        corrupt(what, p);
    return h;
}

void *malloc(size_t size) {
    if (size > SIZE_MAX / 2) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = size + HEADER;
    struct header *h;
    if (need > SMALL_MAX) {
        size_t len = (need + PAGE - 1) & ~(size_t)(PAGE - 1);
        h = map(len);
        if (!h) {
            errno = ENOMEM;
            return NULL;
        }
        *h = (struct header){MAGIC_USED, LARGE, len};
        return h + 1;
    }
    unsigned c = class_of(need);
    size_t bsize = class_size(c);
    if (classes[c].free) {
        h = (struct header *)classes[c].free - 1;
        classes[c].free = classes[c].free->next;
    } else {
        if ((size_t)(classes[c].end - classes[c].bump) < bsize) {
            size_t len = bsize * 4 > CHUNK_MIN ? bsize * 4 : CHUNK_MIN;
            char *chunk = map(len);
            if (!chunk) {
                errno = ENOMEM;
                return NULL;
            }
            classes[c].bump = chunk;
            classes[c].end = chunk + len;
        }
        h = (struct header *)classes[c].bump;
        classes[c].bump += bsize;
    }
    *h = (struct header){MAGIC_USED, c, bsize};
    return h + 1;
}

void free(void *p) {
    if (!p)
        return;
    struct header *h = header_of(p, "free of");
    if (h->magic == MAGIC_ALIGNED) {
        free((char *)p - h->size);
        return;
    }
    if (h->cls == LARGE) {
        h->magic = MAGIC_FREE;
        if (mos_munmap((uintptr_t)h, h->size) < 0)
            corrupt("unmap of", p);
        return;
    }
    if (h->cls >= CLASSES || h->size != class_size(h->cls))
        corrupt("free of", p);
    h->magic = MAGIC_FREE;
    struct free_block *b = p;
    b->next = classes[h->cls].free;
    classes[h->cls].free = b;
}

size_t malloc_usable_size(void *p) {
    if (!p)
        return 0;
    struct header *h = header_of(p, "size of");
    if (h->magic == MAGIC_ALIGNED)
        return malloc_usable_size((char *)p - h->size) - h->size;
    return h->size - HEADER;
}

void *calloc(size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(total);
    // Fresh mappings are zero, but reused blocks are not.
    if (p)
        memset(p, 0, total);
    return p;
}

void *realloc(void *p, size_t size) {
    if (!p)
        return malloc(size);
    if (size == 0) {
        free(p);
        return NULL;
    }
    size_t have = malloc_usable_size(p);
    // Shrinking within the block, or growing into its rounding, keeps it in place.
    if (size <= have && (have <= 2 * size || have < 256))
        return p;
    void *q = malloc(size);
    if (!q)
        return NULL;
    memcpy(q, p, have < size ? have : size);
    free(p);
    return q;
}

void *aligned_alloc(size_t align, size_t size) {
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (align <= HEADER)
        return malloc(size);
    if (size > SIZE_MAX / 2 || align > SIZE_MAX / 4) {
        errno = ENOMEM;
        return NULL;
    }
    char *raw = malloc(size + align + HEADER);
    if (!raw)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + HEADER + align - 1) & ~(uintptr_t)(align - 1));
    *((struct header *)p - 1) = (struct header){MAGIC_ALIGNED, 0, (uint64_t)(p - raw)};
    return p;
}

int posix_memalign(void **out, size_t align, size_t size) {
    if (align < sizeof(void *))
        return EINVAL;
    int saved = errno;
    void *p = aligned_alloc(align, size);
    int err = errno;
    errno = saved;
    if (!p)
        return err;
    *out = p;
    return 0;
}
