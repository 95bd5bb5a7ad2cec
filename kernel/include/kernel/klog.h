// The kernel log: COM1 and the screen.
#pragma once
#include <stddef.h>
#include <stdint.h>

void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void klog_write(const char *s, size_t n);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Copy log bytes from *cursor on (advancing it); skips ahead past bytes no longer kept.
size_t klog_copy(uint64_t *cursor, char *buf, size_t max);
