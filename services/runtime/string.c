// The string functions user programs expect beyond kernel/lib/string.c's (which libmos
// builds a second time rather than keeping two copies).
#include <errno.h>
#include <mos.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void *memchr(const void *s, int c, size_t n) {
    const unsigned char *p = s;
    for (; n; n--, p++)
        if (*p == (unsigned char)c)
            return (void *)p;
    return NULL;
}

char *strrchr(const char *s, int c) {
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

char *strstr(const char *h, const char *n) {
    size_t len = strlen(n);
    if (!len)
        return (char *)h;
    for (; (h = strchr(h, *n)); h++)
        if (strncmp(h, n, len) == 0)
            return (char *)h;
    return NULL;
}

int strcoll(const char *a, const char *b) { return strcmp(a, b); }

char *strcpy(char *dst, const char *src) {
    char *d = dst;
    while ((*d++ = *src++))
        ;
    return dst;
}

char *strncpy(char *dst, const char *src, size_t n) {
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = 0;
    return dst;
}

char *strcat(char *dst, const char *src) {
    strcpy(dst + strlen(dst), src);
    return dst;
}

char *strncat(char *dst, const char *src, size_t n) {
    char *d = dst + strlen(dst);
    while (n-- && *src)
        *d++ = *src++;
    *d = 0;
    return dst;
}

size_t strlcat(char *dst, const char *src, size_t size) {
    size_t used = strnlen(dst, size);
    if (used == size)
        return size + strlen(src);
    return used + strlcpy(dst + used, src, size - used);
}

size_t strspn(const char *s, const char *accept) {
    size_t n = 0;
    while (s[n] && strchr(accept, s[n]))
        n++;
    return n;
}

size_t strcspn(const char *s, const char *reject) {
    size_t n = 0;
    while (s[n] && !strchr(reject, s[n]))
        n++;
    return n;
}

char *strpbrk(const char *s, const char *accept) {
    s += strcspn(s, accept);
    return *s ? (char *)s : NULL;
}

char *strtok_r(char *s, const char *delim, char **save) {
    if (!s)
        s = *save;
    s += strspn(s, delim);
    if (!*s) {
        *save = s;
        return NULL;
    }
    char *end = s + strcspn(s, delim);
    if (*end)
        *end++ = 0;
    *save = end;
    return s;
}

char *strtok(char *s, const char *delim) {
    static char *save;
    return strtok_r(s, delim, &save);
}

char *strdup(const char *s) { return strndup(s, (size_t)-1); }

char *strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = 0;
    }
    return d;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

int strcasecmp(const char *a, const char *b) {
    while (*a && lower(*a) == lower(*b))
        a++, b++;
    return lower((unsigned char)*a) - lower((unsigned char)*b);
}

int strncasecmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        if (lower(*a) != lower(*b))
            return lower((unsigned char)*a) - lower((unsigned char)*b);
        if (!*a)
            break;
    }
    return 0;
}

static const struct {
    int num;
    const char *name, *text;
} errors[] = {
    {0, "OK", "Success"},
    {MOS_EPERM, "EPERM", "Operation not permitted"},
    {MOS_ENOENT, "ENOENT", "No such file or directory"},
    {MOS_ESRCH, "ESRCH", "No such process"},
    {MOS_EINTR, "EINTR", "Interrupted"},
    {MOS_EIO, "EIO", "Input/output error"},
    {MOS_E2BIG, "E2BIG", "Argument list too long"},
    {MOS_ENOEXEC, "ENOEXEC", "Exec format error"},
    {MOS_EBADF, "EBADF", "Bad handle"},
    {MOS_ECHILD, "ECHILD", "No child processes"},
    {MOS_EAGAIN, "EAGAIN", "Resource temporarily unavailable"},
    {MOS_ENOMEM, "ENOMEM", "Out of memory"},
    {MOS_EFAULT, "EFAULT", "Bad address"},
    {MOS_EBUSY, "EBUSY", "Resource busy"},
    {MOS_EEXIST, "EEXIST", "File exists"},
    {MOS_ENOTDIR, "ENOTDIR", "Not a directory"},
    {MOS_EISDIR, "EISDIR", "Is a directory"},
    {MOS_EINVAL, "EINVAL", "Invalid argument"},
    {MOS_ENFILE, "ENFILE", "Too many objects in the system"},
    {MOS_EMFILE, "EMFILE", "Too many open handles"},
    {MOS_ENOSPC, "ENOSPC", "No space left"},
    {MOS_EPIPE, "EPIPE", "Broken pipe: the other end is gone"},
    {EDOM, "EDOM", "Argument out of domain"},
    {MOS_ERANGE, "ERANGE", "Result out of range"},
    {MOS_ENAMETOOLONG, "ENAMETOOLONG", "File name too long"},
    {MOS_ENOSYS, "ENOSYS", "No such system call"},
    {MOS_EOVERFLOW, "EOVERFLOW", "Value too large"},
    {MOS_ENOTSUP, "ENOTSUP", "Operation not supported"},
    {MOS_ETIMEDOUT, "ETIMEDOUT", "Timed out"},
    {MOS_ECONNREFUSED, "ECONNREFUSED", "Connection refused"},
};

const char *mos_errname(long err) {
    if (err < 0)
        err = -err;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].num == err)
            return errors[i].name;
    return "E?";
}

char *strerror(int errnum) {
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].num == errnum)
            return (char *)errors[i].text;
    return "Unknown error";
}
