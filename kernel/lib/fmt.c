#include <kernel/fmt.h>
#include <stdint.h>

struct spec {
    int left, zero, alt, width, precision;
};

static void pad(fmt_sink_t sink, void *ctx, char c, int n, int *count) {
    for (; n > 0; n--, (*count)++)
        sink(ctx, &c, 1);
}

static void emit(fmt_sink_t sink, void *ctx, const char *s, int len, struct spec sp, int *count) {
    int fill = sp.width > len ? sp.width - len : 0;
    if (!sp.left)
        pad(sink, ctx, sp.zero ? '0' : ' ', fill, count);
    sink(ctx, s, (size_t)len);
    *count += len;
    if (sp.left)
        pad(sink, ctx, ' ', fill, count);
}

static void number(fmt_sink_t sink, void *ctx, uint64_t v, int neg, unsigned base, int upper, struct spec sp,
                   int *count) {
    if (sp.alt && base == 16) {
        sink(ctx, "0x", 2);
        *count += 2;
        sp.width -= 2;
    }
    char buf[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int i = sizeof buf;
    do {
        buf[--i] = digits[v % base];
        v /= base;
    } while (v);
    while (sp.precision >= 0 && (int)sizeof buf - i < sp.precision)
        buf[--i] = '0';
    if (neg) {
        if (sp.zero && sp.width > 0) {
            // The sign goes before the zero padding.
            sink(ctx, "-", 1);
            (*count)++;
            sp.width--;
        } else {
            buf[--i] = '-';
        }
    }
    emit(sink, ctx, buf + i, (int)sizeof buf - i, sp, count);
}

int fmt_vformat(fmt_sink_t sink, void *ctx, const char *fmt, va_list ap) {
    int count = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            const char *q = p;
            while (q[1] && q[1] != '%')
                q++;
            sink(ctx, p, (size_t)(q - p + 1));
            count += (int)(q - p + 1);
            p = q;
            continue;
        }
        struct spec sp = {0, 0, 0, 0, -1};
        for (p++;; p++) {
            if (*p == '-')
                sp.left = 1;
            else if (*p == '0')
                sp.zero = 1;
            else if (*p == '#')
                sp.alt = 1;
            else if (*p == ' ' || *p == '+')
                continue;
            else
                break;
        }
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0)
                sp.left = 1, sp.width = -sp.width;
            p++;
        }
        while (*p >= '0' && *p <= '9')
            sp.width = sp.width * 10 + (*p++ - '0');
        if (*p == '.') {
            p++;
            sp.precision = 0;
            if (*p == '*') {
                sp.precision = va_arg(ap, int);
                p++;
            }
            while (*p >= '0' && *p <= '9')
                sp.precision = sp.precision * 10 + (*p++ - '0');
        }
        int longness = 0;
        while (*p == 'l' || *p == 'z' || *p == 'h' || *p == 'j' || *p == 't') {
            if (*p == 'l' || *p == 'z' || *p == 'j' || *p == 't')
                longness = 1;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = longness ? va_arg(ap, long) : va_arg(ap, int);
            number(sink, ctx, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, 0, sp, &count);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = longness ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            unsigned base = *p == 'u' ? 10 : *p == 'o' ? 8 : 16;
            number(sink, ctx, v, 0, base, *p == 'X', sp, &count);
            break;
        }
        case 'p': {
            uint64_t v = (uint64_t)va_arg(ap, void *);
            sink(ctx, "0x", 2);
            count += 2;
            number(sink, ctx, v, 0, 16, 0, sp, &count);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while (s[len] && (sp.precision < 0 || len < sp.precision))
                len++;
            sp.zero = 0;
            emit(sink, ctx, s, len, sp, &count);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            sp.zero = 0;
            emit(sink, ctx, &c, 1, sp, &count);
            break;
        }
        case '%':
            sink(ctx, "%", 1);
            count++;
            break;
        case 0:
            return count;
        default:
            sink(ctx, p - 1, 2);
            count += 2;
        }
    }
    return count;
}

struct bufsink {
    char *buf;
    size_t size, used;
};

static void to_buffer(void *ctx, const char *s, size_t n) {
    struct bufsink *b = ctx;
    for (size_t i = 0; i < n; i++, b->used++)
        if (b->used + 1 < b->size)
            b->buf[b->used] = s[i];
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    struct bufsink b = {buf, size, 0};
    int n = fmt_vformat(to_buffer, &b, fmt, ap);
    if (size)
        buf[b.used < size ? b.used : size - 1] = 0;
    return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
