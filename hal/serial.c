#include <hal/serial.h>
#include <stdint.h>
#include "io.h"

static const uint16_t base_of[] = {0x3f8, 0x2f8};
static int ready[2];

enum { THR = 0, RBR = 0, DLL = 0, IER = 1, DLM = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
enum { LSR_DATA = 0x01, LSR_THR_EMPTY = 0x20 };

int hal_serial_init(enum hal_serial_port port) {
    uint16_t base = base_of[port];
    // No UART decodes the scratch register on a machine without one: it reads back 0xff.
    outb(base + SCR, 0x5a);
    if (inb(base + SCR) != 0x5a)
        return -1;
    outb(base + IER, 0x00);
    outb(base + LCR, 0x80); // divisor latch
    outb(base + DLL, 1);    // 115200 baud
    outb(base + DLM, 0);
    outb(base + LCR, 0x03); // 8N1
    outb(base + FCR, 0xc7); // FIFOs on, cleared, 14-byte trigger
    outb(base + MCR, 0x0b); // DTR, RTS, OUT2
    ready[port] = 1;
    return 0;
}

static void putc_raw(uint16_t base, char c) {
    // Bounded wait: a wedged UART must not hang the kernel log forever.
    for (int spin = 0; spin < 100000 && !(inb(base + LSR) & LSR_THR_EMPTY); spin++)
        __asm__ volatile("pause");
    outb(base + THR, (uint8_t)c);
}

void hal_serial_write(enum hal_serial_port port, const char *buf, size_t len) {
    if (!ready[port])
        return;
    uint16_t base = base_of[port];
    for (size_t i = 0; i < len; i++) {
        // COM2 carries MicroPython's raw REPL, a binary protocol: bytes go out as they are.
        if (buf[i] == '\n' && port == HAL_COM1)
            putc_raw(base, '\r');
        putc_raw(base, buf[i]);
    }
}

int hal_serial_getc(enum hal_serial_port port) {
    if (!ready[port])
        return -1;
    uint16_t base = base_of[port];
    if (!(inb(base + LSR) & LSR_DATA))
        return -1;
    return inb(base + RBR);
}

unsigned hal_serial_enable_rx_irq(enum hal_serial_port port) {
    if (ready[port])
        outb(base_of[port] + IER, 0x01); // received data available
    return port == HAL_COM1 ? 4 : 3;
}
