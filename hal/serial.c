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

// QEMU holds THRE low while its chardev cannot take more (a test harness reading slowly), so
// give the host time before dropping a byte: ~1 s of spinning. A port that timed out is
// presumed dead and gets short waits until a byte goes through again, so a wedged UART on
// real hardware cannot stall the log for a second per byte.
enum { SPIN_LONG = 20000000, SPIN_DEAD = 1000 };
static int stalled[2];

static void putc_raw(enum hal_serial_port port, char c) {
    uint16_t base = base_of[port];
    int limit = stalled[port] ? SPIN_DEAD : SPIN_LONG;
    int spin = 0;
    while (!(inb(base + LSR) & LSR_THR_EMPTY) && spin < limit) {
        __asm__ volatile("pause");
        spin++;
    }
    stalled[port] = spin >= limit;
    outb(base + THR, (uint8_t)c);
}

void hal_serial_write(enum hal_serial_port port, const char *buf, size_t len) {
    if (!ready[port])
        return;
    for (size_t i = 0; i < len; i++) {
        // COM2 carries MicroPython's raw REPL, a binary protocol: bytes go out as they are.
        if (buf[i] == '\n' && port == HAL_COM1)
            putc_raw(port, '\r');
        putc_raw(port, buf[i]);
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
