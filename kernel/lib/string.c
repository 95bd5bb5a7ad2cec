#include <kernel/string.h>
#include <stdint.h>

// Whole 8-byte words where the length allows: under emulation (QEMU's TCG) every guest
// instruction is several host ones, and the kernel zeroes each frame it hands out and copies
// every program image with these, MicroPython each object it allocates. Short and ragged
// lengths take two overlapping words (or halves, quarters) instead of a byte loop. x86 takes
// unaligned words; aligned(1) tells the compiler so, and may_alias lets a word overlay any type.
typedef uint64_t __attribute__((may_alias, aligned(1))) word;
typedef uint32_t __attribute__((may_alias, aligned(1))) word32;
typedef uint16_t __attribute__((may_alias, aligned(1))) word16;

// n < 8 bytes from s to d, every load before any store (memmove relies on that).
static inline void copy_short(unsigned char *d, const unsigned char *s, size_t n) {
    if (n >= 4) {
        uint32_t a = *(const word32 *)s, b = *(const word32 *)(s + n - 4);
        *(word32 *)d = a;
        *(word32 *)(d + n - 4) = b;
    } else if (n >= 2) {
        uint16_t a = *(const word16 *)s, b = *(const word16 *)(s + n - 2);
        *(word16 *)d = a;
        *(word16 *)(d + n - 2) = b;
    } else if (n) {
        *d = *s;
    }
}

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n < 8) {
        copy_short(d, s, n);
        return dst;
    }
    // The last word covers the 1..8 bytes the loops leave.
    word last = *(const word *)(s + n - 8);
    unsigned char *d_last = d + n - 8;
    for (; n > 32; n -= 32, d += 32, s += 32) {
        word a = ((const word *)s)[0], b = ((const word *)s)[1];
        word c = ((const word *)s)[2], e = ((const word *)s)[3];
        ((word *)d)[0] = a;
        ((word *)d)[1] = b;
        ((word *)d)[2] = c;
        ((word *)d)[3] = e;
    }
    for (; n > 8; n -= 8, d += 8, s += 8)
        *(word *)d = *(const word *)s;
    *(word *)d_last = last;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n < 8) {
        copy_short(d, s, n);
        return dst;
    }
    if (d <= s || d >= s + n) {
        // Forward: a word's store never reaches source bytes still to be loaded; the last
        // word, which the loop may overwrite, is loaded first.
        word last = *(const word *)(s + n - 8);
        unsigned char *d_last = d + n - 8;
        for (; n > 8; n -= 8, d += 8, s += 8)
            *(word *)d = *(const word *)s;
        *(word *)d_last = last;
    } else {
        // Backward, the first word loaded first for the same reason.
        word first = *(const word *)s;
        for (; n > 8; ) {
            n -= 8;
            *(word *)(d + n) = *(const word *)(s + n);
        }
        *(word *)d = first;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    uint64_t w = (unsigned char)c * 0x0101010101010101ull;
    if (n < 8) {
        if (n >= 4) {
            *(word32 *)d = (uint32_t)w;
            *(word32 *)(d + n - 4) = (uint32_t)w;
        } else {
            while (n--)
                *d++ = (unsigned char)c;
        }
        return dst;
    }
    *(word *)(d + n - 8) = w;
    for (; n > 32; n -= 32, d += 32) {
        ((word *)d)[0] = w;
        ((word *)d)[1] = w;
        ((word *)d)[2] = w;
        ((word *)d)[3] = w;
    }
    for (; n > 8; n -= 8, d += 8)
        *(word *)d = w;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        uint64_t p = *(const word *)x, q = *(const word *)y;
        if (p != q) {
            // The first differing byte decides: it is the most significant once byte-swapped.
            p = __builtin_bswap64(p);
            q = __builtin_bswap64(q);
            return p < q ? -1 : 1;
        }
    }
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

// Words from the first aligned one on: an aligned 8-byte load never crosses into the next
// page, so reading past the terminator inside one word is safe.
size_t strlen(const char *s) {
    const char *p = s;
    for (; (uintptr_t)p & 7; p++)
        if (!*p)
            return p - s;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (;; p += 8) {
        uint64_t w = *(const word *)p;
        if ((w - ones) & ~w & highs)
            break;
    }
    while (*p)
        p++;
    return p - s;
}

size_t strnlen(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strchr(const char *s, int c) {
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

size_t strlcpy(char *dst, const char *src, size_t size) {
    size_t n = strlen(src);
    if (size) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = 0;
    }
    return n;
}
