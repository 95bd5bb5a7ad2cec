#include <hal/hal.h>
#include <kernel/fmt.h>
#include <kernel/klog.h>
#include <multios/qemu_exit.h>
#include <stdarg.h>

void klog_write(const char *s, size_t n) {
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
