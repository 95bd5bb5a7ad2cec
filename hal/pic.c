// The two cascaded 8259s: remapped to vectors 0x20-0x2f, the slave on the master's IRQ2.
#include "intr.h"
#include "io.h"

enum { MASTER_CMD = 0x20, MASTER_DATA = 0x21, SLAVE_CMD = 0xa0, SLAVE_DATA = 0xa1 };
enum { ICW1_INIT_ICW4 = 0x11, ICW4_8086 = 0x01, OCW2_EOI = 0x20, OCW3_READ_ISR = 0x0b, CASCADE = 2 };

static uint16_t mask = 0xffff; // bit per IRQ, 1 masked

static void write_masks(void) {
    outb(MASTER_DATA, (uint8_t)mask);
    outb(SLAVE_DATA, (uint8_t)(mask >> 8));
}

void pic_init(void) {
    outb(MASTER_CMD, ICW1_INIT_ICW4);
    outb(SLAVE_CMD, ICW1_INIT_ICW4);
    outb(MASTER_DATA, VEC_IRQ0);
    outb(SLAVE_DATA, VEC_IRQ0 + 8);
    outb(MASTER_DATA, 1 << CASCADE); // a slave on IRQ2
    outb(SLAVE_DATA, CASCADE);       // its cascade identity
    outb(MASTER_DATA, ICW4_8086);
    outb(SLAVE_DATA, ICW4_8086);
    mask = 0xffff;
    write_masks();
}

void pic_mask(unsigned irq, bool masked) {
    if (irq >= 16)
        return;
    if (masked)
        mask |= (uint16_t)(1u << irq);
    else
        mask &= (uint16_t)~(1u << irq);
    // The cascade is open while any slave input is.
    if ((mask & 0xff00) != 0xff00)
        mask &= (uint16_t)~(1u << CASCADE);
    else
        mask |= 1u << CASCADE;
    write_masks();
}

void pic_eoi(unsigned irq) {
    if (irq >= 8)
        outb(SLAVE_CMD, OCW2_EOI);
    outb(MASTER_CMD, OCW2_EOI);
}

bool pic_in_service(unsigned irq) {
    uint16_t cmd = irq >= 8 ? SLAVE_CMD : MASTER_CMD;
    outb(cmd, OCW3_READ_ISR);
    return inb(cmd) & (1u << (irq & 7));
}
