// The kernel log: COM1 and the screen.
#pragma once
#include <stddef.h>

void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void klog_write(const char *s, size_t n);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
