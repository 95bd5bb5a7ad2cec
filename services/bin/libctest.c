// libmos's C library checked from the outside: formatting, strings, conversions, sorting,
// malloc, time, environment, stdio. Runs in the guest (/bin/libctest) and on the host
// (tests/unit/test_libc_host.py links the same library against Linux system calls).
// libctest [FILE]: FILE, if given, is read back with fopen and its first line printed.
// Last line: "libctest: N passed, M failed"; exit status 0 when M is 0.
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int passed, failed;
static const char *current;
static int current_failed;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            printf("libctest: %s FAILED: line %d: %s\n", current, __LINE__, #cond);                          \
            current_failed = 1;                                                                              \
        }                                                                                                    \
    } while (0)

static void fmt_is(int line, const char *want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_is(int line, const char *want, const char *fmt, ...) {
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (strcmp(buf, want) != 0 || n != (int)strlen(want)) {
        printf("libctest: %s FAILED: line %d: format \"%s\" gave \"%s\" (%d), want \"%s\"\n", current, line, fmt,
               buf, n, want);
        current_failed = 1;
    }
}
#define FMT(want, ...) fmt_is(__LINE__, want, __VA_ARGS__)

static void test_printf_integers(void) {
    FMT("42 -17 0", "%d %i %d", 42, -17, 0);
    FMT("[   42] [42   ] [00042] [-0042]", "[%5d] [%-5d] [%05d] [%05d]", 42, 42, 42, -42);
    FMT("ff FF 0xff 777", "%x %X %#x %o", 255, 255, 255, 0777);
    FMT("18446744073709551615 -9223372036854775808", "%lu %lld", ULONG_MAX, LLONG_MIN);
    FMT("4294967295 123 -1", "%u %zu %jd", UINT_MAX, (size_t)123, (intmax_t)-1);
    FMT("0x0000000000001234", "%#018lx", 0x1234UL);
    FMT("007", "%.3d", 7);
    FMT("[  7]", "[%*d]", 3, 7);
    FMT("-9223372036854775807 ffffffffffffffff", "%" PRId64 " %" PRIx64, INT64_MIN + 1, UINT64_MAX);
    FMT("0x1000", "%p", (void *)0x1000);
}

static void test_printf_strings(void) {
    FMT("hello", "%s", "hello");
    FMT("[  abc] [abc  ] [ab]", "[%5s] [%-5s] [%.2s]", "abc", "abc", "abc");
    FMT("x%y", "%c%%%c", 'x', 'y');
    const char *volatile null = NULL; // hidden from gcc's format checking
    FMT("(null)", "%s", null);
    char small[8];
    int n = snprintf(small, sizeof small, "%s", "truncated output");
    CHECK(n == 16 && strcmp(small, "truncat") == 0);
    CHECK(snprintf(NULL, 0, "%d", 12345) == 5);
    char big[32];
    CHECK(sprintf(big, "%d-%s", 5, "five") == 6 && strcmp(big, "5-five") == 0);
}

static void test_printf_floats(void) {
    FMT("3.14 0.100000 -2.250", "%.2f %f %.3f", 3.14159, 0.1, -2.25);
    FMT("   3.142 -003.142 3.142   ", "%8.3f %08.3f %-8.3f", 3.14159, -3.14159, 3.14159);
    FMT("100000000000000000000.000000", "%f", 1e20);
    FMT("0 1 -1.0", "%.0f %.0f %.1f", 0.0, 1.0, -1.0);
    FMT("1.234568e+04 1.2E-05 0.000000e+00", "%e %.1E %e", 12345.678, 0.000012, 0.0);
    FMT("0.0001 1e-05 1.23457e+08 100 3.14 0.5", "%g %g %g %g %.3g %g", 0.0001, 0.00001, 123456789.0, 100.0,
        3.14159, 0.5);
    FMT("inf -inf nan", "%f %f %f", __builtin_inf(), -__builtin_inf(), __builtin_nan(""));
    FMT("1e+100 1.5e-300", "%g %g", 1e100, 1.5e-300);
    FMT("0.15 0.14", "%.2f %.2f", 0.1451, 0.1449);
}

static void test_strings(void) {
    char buf[64];
    CHECK(strlen("") == 0 && strlen("abc") == 3 && strnlen("abcdef", 4) == 4);
    CHECK(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && strcmp("same", "same") == 0);
    CHECK(strcmp("\xff", "a") > 0); // compared as unsigned char
    CHECK(strncmp("abcx", "abcy", 3) == 0 && strncmp("ab", "abc", 3) < 0);
    CHECK(strcasecmp("HeLLo", "hello") == 0 && strncasecmp("ABCx", "abcy", 3) == 0);
    const char *s = "a/b/c";
    CHECK(strchr(s, '/') == s + 1 && strrchr(s, '/') == s + 3 && strchr(s, 'z') == NULL && strchr(s, 0) == s + 5);
    CHECK(strstr("haystack", "st") == (char *)"haystack" + 3 || strcmp(strstr("haystack", "st"), "stack") == 0);
    CHECK(strstr("abc", "") != NULL && strstr("abc", "abcd") == NULL);
    strcpy(buf, "foo");
    strcat(buf, "bar");
    strncat(buf, "bazqux", 3);
    CHECK(strcmp(buf, "foobarbaz") == 0);
    memset(buf, 'x', sizeof buf);
    strncpy(buf, "ab", 5);
    CHECK(memcmp(buf, "ab\0\0\0x", 6) == 0);
    CHECK(strlcpy(buf, "abcdef", 4) == 6 && strcmp(buf, "abc") == 0);
    CHECK(strlcat(buf, "defgh", 6) == 8 && strcmp(buf, "abcde") == 0);
    CHECK(strspn("aabbc", "ab") == 4 && strcspn("hello, world", ", ") == 5 && *strpbrk("x=y", "=") == '=');
    char line[] = "  one two,,three ";
    char *tok[4], *save;
    int n = 0;
    for (char *t = strtok_r(line, " ,", &save); t && n < 4; t = strtok_r(NULL, " ,", &save))
        tok[n++] = t;
    CHECK(n == 3 && strcmp(tok[0], "one") == 0 && strcmp(tok[1], "two") == 0 && strcmp(tok[2], "three") == 0);
    char mv[] = "0123456789";
    memmove(mv + 2, mv, 5);
    CHECK(strcmp(mv, "0101234789") == 0);
    memmove(mv, mv + 3, 5);
    CHECK(strcmp(mv, "1234734789") == 0);
    CHECK(memchr("abc", 'c', 3) != NULL && memchr("abc", 'c', 2) == NULL);
    char *d = strdup("copy");
    CHECK(d && strcmp(d, "copy") == 0);
    free(d);
    d = strndup("copy", 2);
    CHECK(d && strcmp(d, "co") == 0);
    free(d);
    CHECK(strcmp(strerror(ENOENT), "No such file or directory") == 0);
}

static void test_conversions(void) {
    char *end;
    CHECK(atoi("123") == 123 && atoi("-42") == -42 && atol("  +7x") == 7);
    CHECK(strtol("0x1f", &end, 0) == 31 && *end == 0);
    CHECK(strtol("077", NULL, 0) == 63 && strtol("077", NULL, 10) == 77);
    CHECK(strtol("zz", NULL, 36) == 1295);
    CHECK(strtol("0x", &end, 16) == 0 && *end == 'x');
    const char *none = "  xyz";
    CHECK(strtol(none, &end, 10) == 0 && end == none);
    errno = 0;
    CHECK(strtol("99999999999999999999", &end, 10) == LONG_MAX && errno == ERANGE && *end == 0);
    errno = 0;
    CHECK(strtol("-9223372036854775808", NULL, 10) == LONG_MIN && errno == 0);
    errno = 0;
    CHECK(strtol("-9223372036854775809", NULL, 10) == LONG_MIN && errno == ERANGE);
    CHECK(strtoul("-1", NULL, 10) == ULONG_MAX);
    CHECK(strtoul("18446744073709551615", NULL, 10) == ULONG_MAX);
    CHECK(strtoull("1010", NULL, 2) == 10);
    CHECK(abs(-5) == 5 && labs(-5L) == 5 && llabs(-5LL) == 5 && div(7, 2).quot == 3 && div(7, 2).rem == 1);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_sorting(void) {
    enum { N = 1000 };
    static int v[N];
    srand(7);
    for (int i = 0; i < N; i++)
        v[i] = rand() % 500 - 250;
    qsort(v, N, sizeof v[0], cmp_int);
    bool sorted = true;
    for (int i = 1; i < N; i++)
        sorted &= v[i - 1] <= v[i];
    CHECK(sorted);
    int key = v[N / 3];
    int *hit = bsearch(&key, v, N, sizeof v[0], cmp_int);
    CHECK(hit && *hit == key);
    key = 1000;
    CHECK(bsearch(&key, v, N, sizeof v[0], cmp_int) == NULL);
    qsort(v, 0, sizeof v[0], cmp_int);
    qsort(v, 1, sizeof v[0], cmp_int);
    srand(7);
    int a = rand();
    srand(7);
    CHECK(rand() == a && a >= 0);
}

static void test_malloc(void) {
    enum { SLOTS = 512 };
    static unsigned char *p[SLOTS];
    static size_t len[SLOTS];
    uint64_t x = 88172645463325252ULL;
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int i = (int)(x % SLOTS);
        if (p[i]) {
            bool intact = true;
            for (size_t k = 0; k < len[i]; k++)
                intact &= p[i][k] == (unsigned char)(i + k);
            if (!intact) {
                CHECK(intact);
                return;
            }
            free(p[i]);
            p[i] = NULL;
        } else {
            // Mostly small, sometimes up to 100 KiB (past the largest class).
            len[i] = (x >> 20) % 16 == 0 ? (x >> 24) % 100000 : (x >> 24) % 600;
            p[i] = malloc(len[i]);
            CHECK(p[i] != NULL && (uintptr_t)p[i] % 16 == 0 && malloc_usable_size(p[i]) >= len[i]);
            for (size_t k = 0; k < len[i]; k++)
                p[i][k] = (unsigned char)(i + k);
        }
    }
    for (int i = 0; i < SLOTS; i++)
        free(p[i]);
    char *r = NULL;
    for (int n = 1; n <= 200000; n *= 3) {
        r = realloc(r, n);
        CHECK(r != NULL);
        r[n - 1] = (char)n;
        if (n > 1)
            CHECK(r[n / 3 - 1] == (char)(n / 3));
    }
    free(r);
    int *z = calloc(1000, sizeof(int));
    bool zero = true;
    for (int i = 0; i < 1000; i++)
        zero &= z[i] == 0;
    CHECK(z && zero);
    free(z);
    CHECK(calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);
    void *al = aligned_alloc(4096, 100);
    CHECK(al && (uintptr_t)al % 4096 == 0);
    free(al);
    void *pm;
    CHECK(posix_memalign(&pm, 64, 1000) == 0 && (uintptr_t)pm % 64 == 0);
    free(pm);
    void *big = malloc(4 << 20);
    CHECK(big != NULL);
    memset(big, 0xab, 4 << 20);
    free(big);
    void *zero_size = malloc(0);
    CHECK(zero_size != NULL);
    free(zero_size);
    free(NULL);
}

static void test_ctype_and_time(void) {
    CHECK(isdigit('7') && !isdigit('a') && isalpha('Q') && isspace('\t') && isxdigit('F') && !isxdigit('g'));
    CHECK(toupper('a') == 'A' && tolower('Z') == 'z' && toupper('1') == '1' && ispunct('!') && !isprint('\n'));
    time_t t = 0;
    struct tm tm;
    gmtime_r(&t, &tm);
    CHECK(tm.tm_year == 70 && tm.tm_mon == 0 && tm.tm_mday == 1 && tm.tm_wday == 4 && tm.tm_yday == 0);
    t = 951782400; // 2000-02-29 00:00:00
    gmtime_r(&t, &tm);
    CHECK(tm.tm_year == 100 && tm.tm_mon == 1 && tm.tm_mday == 29 && tm.tm_yday == 59 && tm.tm_wday == 2);
    CHECK(timegm(&tm) == 951782400);
    struct timespec a, b;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0 && a.tv_nsec >= 0 && a.tv_nsec < 1000000000L);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0 && (b.tv_sec > a.tv_sec || b.tv_nsec >= a.tv_nsec));
}

static void test_environment(void) {
    // The test runners pass LIBCTEST=yes in the environment.
    const char *v = getenv("LIBCTEST");
    CHECK(v && strcmp(v, "yes") == 0);
    CHECK(getenv("LIBCTEST_NOT_SET") == NULL && getenv("LIBCTES") == NULL);
}

static void test_stdio(void) {
    // Line-buffered stdout: nothing is lost or reordered between printf, puts and fwrite.
    printf("libctest: stdio line one %d\n", 1);
    fputs("libctest: stdio line two", stdout);
    putchar('\n');
    fwrite("libctest: stdio line three\n", 1, 27, stdout);
    puts("libctest: stdio line four");
    fprintf(stderr, "libctest: stdio to stderr\n");
    errno = EFAULT;
    perror("libctest: perror");
    CHECK(fflush(stdout) == 0);
    CHECK(fopen("/no/such/file", "r") == NULL && errno == ENOENT);
    CHECK(fopen("/etc/motd", "w") == NULL);
}

static const char *read_path;

static void test_fopen(void) {
    FILE *f = fopen(read_path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[200];
    CHECK(fgets(line, sizeof line, f) != NULL);
    printf("libctest: first line of %s: %s", read_path, line);
    size_t total = strlen(line);
    char chunk[100];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        total += n;
    CHECK(feof(f) && !ferror(f) && total > 0);
    printf("libctest: %s has %zu bytes\n", read_path, total);
    CHECK(fclose(f) == 0);
}

static void at_exit(void) { printf("libctest: atexit handler ran\n"); }

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"printf_integers", test_printf_integers},
    {"printf_strings", test_printf_strings},
    {"printf_floats", test_printf_floats},
    {"strings", test_strings},
    {"conversions", test_conversions},
    {"sorting", test_sorting},
    {"malloc", test_malloc},
    {"ctype_and_time", test_ctype_and_time},
    {"environment", test_environment},
    {"stdio", test_stdio},
    {"fopen", test_fopen},
};

int main(int argc, char **argv) {
    read_path = argc > 1 ? argv[1] : NULL;
    atexit(at_exit);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (tests[i].fn == test_fopen && !read_path)
            continue;
        current = tests[i].name;
        current_failed = 0;
        tests[i].fn();
        if (current_failed) {
            failed++;
        } else {
            passed++;
            printf("libctest: %s ok\n", current);
        }
    }
    assert(passed + failed > 0);
    printf("libctest: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
