// Console input: the serial receive interrupt fills a ring per port and wakes readers.
#include <hal/hal.h>
#include <hal/irq.h>
#include <kernel/sched.h>
#include <multios/errno.h>

enum { RING = 1024 };

struct ring {
    char buf[RING];
    unsigned head, tail; // head: next write; tail: next read
    struct wait_queue readers;
    bool irq;
};

static struct ring rings[2];

static void drain(struct ring *r, enum hal_serial_port port) {
    int c;
    while ((c = hal_serial_getc(port)) >= 0)
        if (r->head - r->tail < RING)
            r->buf[r->head++ % RING] = (char)c; // a full ring drops input, like a real UART
}

static void on_rx(void *arg) {
    enum hal_serial_port port = (enum hal_serial_port)(long)arg;
    drain(&rings[port], port);
    wq_wake_all(&rings[port].readers, 0);
}

void console_init(void) {
    for (int port = HAL_COM1; port <= HAL_COM2; port++) {
        wq_init(&rings[port].readers);
        unsigned irq = hal_serial_enable_rx_irq(port);
        rings[port].irq = hal_irq_register(irq, on_rx, (void *)(long)port) == 0;
    }
}

int console_getc(enum hal_serial_port port) {
    struct ring *r = &rings[port];
    unsigned long f = irq_save();
    drain(r, port);
    int c = r->head != r->tail ? (unsigned char)r->buf[r->tail++ % RING] : -1;
    irq_restore(f);
    return c;
}

long console_wait(enum hal_serial_port port) {
    struct ring *r = &rings[port];
    unsigned long f = irq_save();
    drain(r, port);
    long res = 0;
    if (r->head == r->tail)
        // Without the interrupt, look again every 2 ms.
        res = wq_wait(&r->readers, r->irq ? WAIT_FOREVER : 2000000);
    irq_restore(f);
    return res == -MOS_ETIMEDOUT ? 0 : res;
}
