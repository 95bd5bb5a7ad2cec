// printf-style formatting into any sink: %d %i %u %x %X %o %p %s %c %%, with flags '-', '0',
// width, precision (also '*'), and the length modifiers l, ll, z, h, hh.
#pragma once
#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink_t)(void *ctx, const char *s, size_t n);

int fmt_vformat(fmt_sink_t sink, void *ctx, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
