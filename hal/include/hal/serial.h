// 16550 UARTs: COM1 is the kernel log and shell, COM2 the MicroPython REPL.
#pragma once
#include <stddef.h>

enum hal_serial_port { HAL_COM1 = 0, HAL_COM2 = 1 };

// Program the UART at 115200 8N1 with FIFOs; returns 0, or -1 when no UART answers.
int hal_serial_init(enum hal_serial_port port);
// Writes buf; on COM1 (a terminal) each "\n" goes out as "\r\n", COM2 gets the bytes unchanged.
void hal_serial_write(enum hal_serial_port port, const char *buf, size_t len);
// A byte when one is waiting, else -1.
int hal_serial_getc(enum hal_serial_port port);
// Ask the UART to interrupt when a byte arrives; returns its ISA IRQ number (4 for COM1,
// 3 for COM2). The handler drains hal_serial_getc.
unsigned hal_serial_enable_rx_irq(enum hal_serial_port port);
