// Standard I/O: console streams over mos_write/mos_read, read-only initrd files over
// mos_open/mos_fread, and printf through the kernel's formatter (kernel/lib/fmt.c).
#include <errno.h>
#include <kernel/fmt.h>
#include <mos.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { CONSOLE, INITRD_FILE };

struct libmos_file {
    int handle;
    int kind;
    int mode;       // _IOFBF, _IOLBF or _IONBF, for output
    int eof, err;
    int last_cr;    // console input: the previous byte was '\r' (so "\r\n" is one newline)
    int unget;      // a byte pushed back by ungetc, or EOF
    char *wbuf;     // output buffer: wlen bytes waiting
    size_t wlen, wcap;
    char *rbuf;     // input buffer: rbuf[rpos..rlen) not yet consumed
    size_t rpos, rlen, rcap;
};

static char out_buf[BUFSIZ], in_buf[256];
static FILE files[3] = {
    {MOS_STDIN, CONSOLE, _IOLBF, 0, 0, 0, EOF, NULL, 0, 0, in_buf, 0, 0, sizeof in_buf},
    {MOS_STDOUT, CONSOLE, _IOLBF, 0, 0, 0, EOF, out_buf, 0, sizeof out_buf, NULL, 0, 0, 0},
    {MOS_STDERR, CONSOLE, _IONBF, 0, 0, 0, EOF, NULL, 0, 0, NULL, 0, 0, 0},
};
FILE *stdin = &files[0], *stdout = &files[1], *stderr = &files[2];

void libmos_stdio_init(void) {}

void libmos_stdio_flush_all(void) { fflush(NULL); }

static int write_all(FILE *f, const char *p, size_t n) {
    while (n) {
        long r = mos_write(f->handle, p, n);
        if (r <= 0) {
            errno = r < 0 ? (int)-r : EIO;
            f->err = 1;
            return EOF;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int fflush(FILE *f) {
    if (!f)
        return fflush(stdout) | fflush(stderr);
    if (!f->wlen)
        return 0;
    size_t n = f->wlen;
    f->wlen = 0;
    return write_all(f, f->wbuf, n);
}

static int put(FILE *f, const char *p, size_t n) {
    if (!f->wbuf || f->mode == _IONBF) {
        if (fflush(f))
            return EOF;
        return write_all(f, p, n);
    }
    while (n) {
        size_t k = f->wcap - f->wlen < n ? f->wcap - f->wlen : n;
        memcpy(f->wbuf + f->wlen, p, k);
        f->wlen += k;
        int newline = f->mode == _IOLBF && memchr(p, '\n', k);
        p += k;
        n -= k;
        if ((f->wlen == f->wcap || newline) && fflush(f))
            return EOF;
    }
    return 0;
}

int setvbuf(FILE *f, char *buf, int mode, size_t size) {
    if (mode != _IOFBF && mode != _IOLBF && mode != _IONBF)
        return -1;
    fflush(f);
    f->mode = mode;
    if (buf && size) {
        f->wbuf = buf;
        f->wcap = size;
    }
    return 0;
}

static void to_file(void *ctx, const char *s, size_t n) { put(ctx, s, n); }

int vfprintf(FILE *f, const char *fmt, va_list ap) {
    int n = fmt_vformat(to_file, f, fmt, ap);
    return f->err ? -1 : n;
}

int vprintf(const char *fmt, va_list ap) { return vfprintf(stdout, fmt, ap); }

int fprintf(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) { return fmt_vsnprintf(buf, size, fmt, ap); }

int vsprintf(char *buf, const char *fmt, va_list ap) { return fmt_vsnprintf(buf, SIZE_MAX / 2, fmt, ap); }

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int sprintf(char *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsprintf(buf, fmt, ap);
    va_end(ap);
    return n;
}

int dprintf(int fd, const char *fmt, ...) {
    char buf[256];
    FILE f = {fd, CONSOLE, _IOFBF, 0, 0, 0, EOF, buf, 0, sizeof buf, NULL, 0, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(&f, fmt, ap);
    va_end(ap);
    return fflush(&f) ? -1 : n;
}

int fputc(int c, FILE *f) {
    char ch = (char)c;
    return put(f, &ch, 1) ? EOF : (unsigned char)ch;
}

int putc(int c, FILE *f) { return fputc(c, f); }

int putchar(int c) { return fputc(c, stdout); }

int fputs(const char *s, FILE *f) { return put(f, s, strlen(s)) ? EOF : 0; }

int puts(const char *s) { return fputs(s, stdout) || fputc('\n', stdout) == EOF ? EOF : 0; }

size_t fwrite(const void *p, size_t size, size_t n, FILE *f) {
    if (!size || !n)
        return 0;
    return put(f, p, size * n) ? 0 : n;
}

void perror(const char *s) {
    if (s && *s)
        fprintf(stderr, "%s: %s\n", s, strerror(errno));
    else
        fprintf(stderr, "%s\n", strerror(errno));
}

// Refills f's input buffer; 0 at end of file or on error (flags set).
static size_t refill(FILE *f) {
    if (f->eof || f->err)
        return 0;
    if (f->kind == CONSOLE)
        fflush(stdout); // a prompt shows before the program waits for its answer
    long r = f->kind == CONSOLE ? mos_read(f->handle, f->rbuf, f->rcap) : mos_fread(f->handle, f->rbuf, f->rcap);
    if (r < 0) {
        errno = (int)-r;
        f->err = 1;
        return 0;
    }
    if (r == 0) {
        f->eof = 1;
        return 0;
    }
    size_t n = (size_t)r;
    if (f->kind == CONSOLE) {
        // Terminals send '\r' for Enter; C programs expect '\n'.
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            char c = f->rbuf[i];
            if (c == '\n' && f->last_cr) {
                f->last_cr = 0;
                continue;
            }
            f->last_cr = c == '\r';
            f->rbuf[k++] = c == '\r' ? '\n' : c;
        }
        n = k;
    }
    f->rpos = 0;
    f->rlen = n;
    return n;
}

int fgetc(FILE *f) {
    if (f->unget != EOF) {
        int c = f->unget;
        f->unget = EOF;
        return c;
    }
    if (!f->rbuf)
        return EOF;
    while (f->rpos == f->rlen)
        if (!refill(f) && (f->eof || f->err))
            return EOF;
    return (unsigned char)f->rbuf[f->rpos++];
}

int getc(FILE *f) { return fgetc(f); }

int getchar(void) { return fgetc(stdin); }

int ungetc(int c, FILE *f) {
    if (c == EOF || f->unget != EOF)
        return EOF;
    f->unget = (unsigned char)c;
    f->eof = 0;
    return f->unget;
}

char *fgets(char *s, int size, FILE *f) {
    int i = 0;
    if (size <= 0)
        return NULL;
    while (i < size - 1) {
        int c = fgetc(f);
        if (c == EOF)
            break;
        s[i++] = (char)c;
        if (c == '\n')
            break;
    }
    if (i == 0)
        return NULL;
    s[i] = 0;
    return s;
}

size_t fread(void *p, size_t size, size_t n, FILE *f) {
    size_t want, got = 0;
    if (!size || !n || __builtin_mul_overflow(size, n, &want))
        return 0;
    char *d = p;
    while (got < want) {
        int c = fgetc(f);
        if (c == EOF)
            break;
        d[got++] = (char)c;
        // Take whatever else is buffered in one copy.
        size_t k = f->rlen - f->rpos < want - got ? f->rlen - f->rpos : want - got;
        memcpy(d + got, f->rbuf + f->rpos, k);
        f->rpos += k;
        got += k;
    }
    return got / size;
}

FILE *fopen(const char *path, const char *mode) {
    if (mode[0] != 'r' || strchr(mode, '+')) {
        errno = EPERM; // the initrd is read-only
        return NULL;
    }
    long h = mos_open(path, MOS_O_RDONLY);
    if (h < 0) {
        errno = (int)-h;
        return NULL;
    }
    FILE *f = calloc(1, sizeof *f + BUFSIZ);
    if (!f) {
        mos_close((int)h);
        return NULL;
    }
    f->handle = (int)h;
    f->kind = INITRD_FILE;
    f->mode = _IOFBF;
    f->unget = EOF;
    f->rbuf = (char *)(f + 1);
    f->rcap = BUFSIZ;
    return f;
}

int fclose(FILE *f) {
    int r = fflush(f);
    if (f->kind == INITRD_FILE) {
        if (mos_close(f->handle) < 0)
            r = EOF;
        free(f);
    }
    return r;
}

int feof(FILE *f) { return f->eof && f->unget == EOF && f->rpos == f->rlen; }
int ferror(FILE *f) { return f->err; }
void clearerr(FILE *f) { f->eof = f->err = 0; }
int fileno(FILE *f) { return f->handle; }
