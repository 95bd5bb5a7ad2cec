// Conversions, sorting and small arithmetic from <stdlib.h>.
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

// Parses the magnitude of an integer after strtol's rules; *neg gets the sign and *overflow
// whether it exceeded ULLONG_MAX. Returns where parsing stopped (s itself if no digits).
static const char *parse(const char *s, int base, unsigned long long *out, int *neg, int *overflow) {
    const char *p = s;
    *out = 0, *neg = 0, *overflow = 0;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '+' || *p == '-')
        *neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2]))
        p += 2, base = 16;
    else if (base == 0)
        base = *p == '0' ? 8 : 10;
    if (base < 2 || base > 36) {
        errno = EINVAL;
        return s;
    }
    const char *digits = p;
    unsigned long long v = 0;
    for (;; p++) {
        int d = isdigit((unsigned char)*p) ? *p - '0'
                : isalpha((unsigned char)*p) ? tolower((unsigned char)*p) - 'a' + 10 : 99;
        if (d >= base)
            break;
        if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
            *overflow = 1;
        v = v * (unsigned)base + (unsigned)d;
    }
    if (p == digits)
        return s;
    *out = v;
    return p;
}

static long long to_signed(const char *s, char **end, int base, long long min, long long max) {
    unsigned long long v;
    int neg, overflow;
    const char *p = parse(s, base, &v, &neg, &overflow);
    if (end)
        *end = (char *)p;
    unsigned long long limit = neg ? (unsigned long long)max + 1 : (unsigned long long)max;
    if (overflow || v > limit) {
        errno = ERANGE;
        return neg ? min : max;
    }
    return neg ? (long long)(0 - v) : (long long)v;
}

static unsigned long long to_unsigned(const char *s, char **end, int base, unsigned long long max) {
    unsigned long long v;
    int neg, overflow;
    const char *p = parse(s, base, &v, &neg, &overflow);
    if (end)
        *end = (char *)p;
    if (overflow || v > max) {
        errno = ERANGE;
        return max;
    }
    // As in C: a minus sign negates in the unsigned type.
    return neg ? (0 - v) & max : v;
}

long strtol(const char *s, char **end, int base) { return (long)to_signed(s, end, base, LONG_MIN, LONG_MAX); }
long long strtoll(const char *s, char **end, int base) { return to_signed(s, end, base, LLONG_MIN, LLONG_MAX); }
unsigned long strtoul(const char *s, char **end, int base) { return (unsigned long)to_unsigned(s, end, base, ULONG_MAX); }
unsigned long long strtoull(const char *s, char **end, int base) { return to_unsigned(s, end, base, ULLONG_MAX); }
intmax_t strtoimax(const char *s, char **end, int base) { return strtoll(s, end, base); }
uintmax_t strtoumax(const char *s, char **end, int base) { return strtoull(s, end, base); }
int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
long atol(const char *s) { return strtol(s, NULL, 10); }
long long atoll(const char *s) { return strtoll(s, NULL, 10); }

static void swap(char *a, char *b, size_t size) {
    for (size_t i = 0; i < size; i++) {
        char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

static void sift_down(char *base, size_t root, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (cmp(base + root * size, base + child * size) >= 0)
            return;
        swap(base + root * size, base + child * size, size);
        root = child;
    }
}

// Heapsort: O(n log n) whatever the input, no recursion, no allocation.
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    char *b = base;
    if (n < 2 || size == 0)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(b, i, n, size, cmp);
    for (size_t end = n - 1; end > 0; end--) {
        swap(b, b + end * size, size);
        sift_down(b, 0, end, size, cmp);
    }
}

void *bsearch(const void *key, const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    const char *b = base;
    while (n > 0) {
        const char *mid = b + (n / 2) * size;
        int c = cmp(key, mid);
        if (c == 0)
            return (void *)mid;
        if (c > 0) {
            b = mid + size;
            n -= n / 2 + 1;
        } else {
            n /= 2;
        }
    }
    return NULL;
}

int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }
long long llabs(long long x) { return x < 0 ? -x : x; }
div_t div(int a, int b) { return (div_t){a / b, a % b}; }
ldiv_t ldiv(long a, long b) { return (ldiv_t){a / b, a % b}; }

static uint64_t rand_state = 1;

// A 64-bit LCG (Knuth's MMIX constants); the high bits are the good ones.
int rand(void) {
    rand_state = rand_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)(rand_state >> 33);
}

void srand(unsigned seed) { rand_state = seed; }
