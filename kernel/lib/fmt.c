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

#ifdef FMT_FLOAT
// %f %e %g for user space (libmos builds this file with FMT_FLOAT; the kernel has no FPU
// state to spare). Exact for up to 17 significant digits, which is what a double holds.
static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
                               1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

// v >= 0 as digits * 10^exp with digits holding `prec + 1` significant digits, rounded.
static uint64_t sig_digits(double v, int prec, int *exp) {
    int e = 0;
    if (v != 0) {
        while (v >= 1e16)
            v /= 10, e++;
        while (v < 1e15)
            v *= 10, e--;
    }
    // Now v has 16 digits before the point: v * 10^e is the value, 1e15 <= v < 1e16.
    uint64_t d = (uint64_t)v;
    int have = 16;
    if (have > prec + 1) {
        // One rounding step: rounding digit by digit would round 0.1449 up to 0.15.
        uint64_t div = (uint64_t)pow10[have - prec - 1];
        d = d / div + (d % div >= div / 2);
        e += have - prec - 1;
        have = prec + 1;
    }
    if (d >= (uint64_t)pow10[have])
        d /= 10, e++;
    while (have < prec + 1)
        d *= 10, have++, e--;
    *exp = e + prec; // the decimal exponent of the leading digit
    return d;
}

static int put_digits(char *out, uint64_t d, int n) {
    for (int i = n - 1; i >= 0; i--, d /= 10)
        out[i] = (char)('0' + d % 10);
    return n;
}

static int format_e(char *out, double v, int prec, int upper, int alt) {
    int exp, n = 0;
    if (prec > 16)
        prec = 16;
    char digits[20];
    put_digits(digits, sig_digits(v, prec, &exp), prec + 1);
    if (v == 0)
        exp = 0;
    out[n++] = digits[0];
    if (prec || alt)
        out[n++] = '.';
    for (int i = 1; i <= prec; i++)
        out[n++] = digits[i];
    out[n++] = upper ? 'E' : 'e';
    out[n++] = exp < 0 ? '-' : '+';
    if (exp < 0)
        exp = -exp;
    n += put_digits(out + n, (uint64_t)exp, exp >= 100 ? 3 : 2);
    return n;
}

static int format_f(char *out, double v, int prec, int alt) {
    int n = 0;
    if (prec > 17)
        prec = 17;
    if (v < 9e18 / pow10[prec]) {
        uint64_t m = (uint64_t)(v * pow10[prec] + 0.5), p = (uint64_t)pow10[prec];
        uint64_t ip = m / p;
        char tmp[24];
        int k = 0;
        do
            tmp[k++] = (char)('0' + ip % 10);
        while (ip /= 10);
        while (k)
            out[n++] = tmp[--k];
        if (prec || alt)
            out[n++] = '.';
        n += put_digits(out + n, m % p, prec);
        return n;
    }
    // Too big for 64 bits: 17 significant digits, then zeros up to the point.
    int exp;
    char digits[20];
    put_digits(digits, sig_digits(v, 16, &exp), 17);
    for (int i = 0; i <= exp && n < 330; i++)
        out[n++] = i < 17 ? digits[i] : '0';
    if (prec || alt)
        out[n++] = '.';
    for (int i = 0; i < prec; i++)
        out[n++] = '0';
    return n;
}

static void floating(fmt_sink_t sink, void *ctx, double v, char conv, struct spec sp, int *count) {
    char buf[360];
    int n = 0, neg = __builtin_signbit(v) != 0, upper = conv == 'F' || conv == 'E' || conv == 'G';
    int prec = sp.precision < 0 ? 6 : sp.precision;
    if (neg)
        v = -v;
    if (v != v || v > 1.7976931348623157e308) {
        const char *s = v != v ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        sp.zero = 0;
        if (neg)
            buf[n++] = '-';
        for (; *s; s++)
            buf[n++] = *s;
        emit(sink, ctx, buf, n, sp, count);
        return;
    }
    if (neg && !sp.zero)
        buf[n++] = '-';
    if (conv == 'f' || conv == 'F') {
        n += format_f(buf + n, v, prec, sp.alt);
    } else if (conv == 'e' || conv == 'E') {
        n += format_e(buf + n, v, prec, upper, sp.alt);
    } else {
        // %g: %e when the exponent is < -4 or >= the precision, else %f; no trailing zeros.
        int exp;
        if (prec == 0)
            prec = 1;
        sig_digits(v, prec > 17 ? 16 : prec - 1, &exp);
        if (v == 0)
            exp = 0;
        int start = n;
        if (exp < -4 || exp >= prec)
            n += format_e(buf + n, v, prec - 1, upper, sp.alt);
        else
            n += format_f(buf + n, v, prec - 1 - exp, sp.alt);
        if (!sp.alt) {
            int epos = n;
            for (int i = start; i < n; i++)
                if (buf[i] == 'e' || buf[i] == 'E')
                    epos = i;
            int dot = -1;
            for (int i = start; i < epos; i++)
                if (buf[i] == '.')
                    dot = i;
            if (dot >= 0) {
                int end = epos;
                while (end > dot + 1 && buf[end - 1] == '0')
                    end--;
                if (end == dot + 1)
                    end = dot;
                for (int i = epos; i < n; i++)
                    buf[end + i - epos] = buf[i];
                n -= epos - end;
            }
        }
    }
    if (neg && sp.zero) {
        // The sign goes before the zero padding.
        sink(ctx, "-", 1);
        (*count)++;
        sp.width--;
    }
    emit(sink, ctx, buf, n, sp, count);
}
#endif

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
#ifdef FMT_FLOAT
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
            floating(sink, ctx, va_arg(ap, double), *p, sp, &count);
            break;
#endif
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
