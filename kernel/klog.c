#include <hal/hal.h>
#include <kernel/fmt.h>
#include <kernel/klog.h>
#include <multios/qemu_exit.h>
#include <stdarg.h>
#include <stdint.h>

// The last LOG_SIZE bytes of the log, for klog_read: positions count every byte ever logged.
enum { LOG_SIZE = 64 * 1024 };
static char ring[LOG_SIZE];
static uint64_t written;

void klog_write(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        ring[(written + i) % LOG_SIZE] = s[i];
    written += n;
    hal_serial_write(HAL_COM1, s, n);
    hal_screen_write(s, n);
}

static void sink(void *ctx, const char *s, size_t n) {
    (void)ctx;
    klog_write(s, n);
}

void klog(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(sink, 0, fmt, ap);
    va_end(ap);
}

_Noreturn void panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    klog_write("PANIC: ", 7);
    fmt_vformat(sink, 0, fmt, ap);
    va_end(ap);
    klog_write("\n", 1);
    hal_debug_exit(MOS_QEMU_EXIT_PANIC);
    hal_halt_forever();
}

size_t klog_copy(uint64_t *cursor, char *buf, size_t max) {
    if (*cursor > written)
        *cursor = written;
    if (written - *cursor > LOG_SIZE)
        *cursor = written - LOG_SIZE; // the oldest bytes are gone
    size_t n = 0;
    while (n < max && *cursor < written)
        buf[n++] = ring[(*cursor)++ % LOG_SIZE];
    return n;
}
