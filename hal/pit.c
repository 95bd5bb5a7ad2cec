// The 8254 PIT (1.193182 MHz). Channel 2, gated through port 0x61 where its output can be
// read, measures the TSC by polling; where there is no port 0x61 (QEMU's microvm), channel
// 0's count read back does. Channel 0 on IRQ0 is the tick where there is no local APIC timer.
#include <hal/cpu.h>
#include "intr.h"
#include "io.h"

#define PIT_HZ 1193182u
enum { CH0 = 0x40, CH2 = 0x42, CMD = 0x43, PORT_B = 0x61 };
enum { B_GATE2 = 0x01, B_SPEAKER = 0x02, B_OUT2 = 0x20 };
enum { WINDOW_TICKS = PIT_HZ / 100 }; // 10 ms
#define MAX_SPINS 50000000 // far more than 10 ms of polling on anything: the PIT is not there

// Channel 2 in mode 0 (interrupt on terminal count): OUT drops when the mode is written and
// rises when the count reaches zero. TSC ticks over the window, 0 when OUT does not behave.
static uint64_t measure_ch2(void) {
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~B_SPEAKER) | B_GATE2));
    outb(CMD, 0xb0); // channel 2, low then high byte, mode 0, binary
    outb(CH2, WINDOW_TICKS & 0xff);
    outb(CH2, WINDOW_TICKS >> 8);
    uint64_t t0 = hal_rdtsc(), t1 = 0;
    if (!(inb(PORT_B) & B_OUT2)) {
        for (uint64_t spins = 0; spins < MAX_SPINS; spins++)
            if (inb(PORT_B) & B_OUT2) {
                t1 = hal_rdtsc();
                break;
            }
    }
    outb(PORT_B, b);
    return t1 ? t1 - t0 : 0;
}

static uint16_t ch0_count(void) {
    outb(CMD, 0x00); // latch channel 0
    uint8_t lo = inb(CH0);
    return (uint16_t)(lo | inb(CH0) << 8);
}

// Channel 0 counting down from 65536 in mode 2, its count latched and read back.
static uint64_t measure_ch0(void) {
    outb(CMD, 0x34);
    outb(CH0, 0);
    outb(CH0, 0);
    uint16_t last = ch0_count();
    uint64_t t0 = hal_rdtsc(), elapsed = 0, t1 = 0;
    for (uint64_t spins = 0; spins < MAX_SPINS; spins++) {
        uint16_t now = ch0_count();
        elapsed += (uint16_t)(last - now); // counts down, wrapping at 65536
        last = now;
        if (elapsed >= WINDOW_TICKS) {
            t1 = hal_rdtsc();
            break;
        }
    }
    pit_periodic(0);
    return t1 ? (t1 - t0) * WINDOW_TICKS / elapsed : 0;
}

uint64_t pit_measure_tsc(void) {
    static int use_ch0;
    uint64_t d = use_ch0 ? 0 : measure_ch2();
    if (!d) {
        use_ch0 = 1;
        d = measure_ch0();
    }
    return d * PIT_HZ / WINDOW_TICKS;
}

void pit_periodic(uint32_t hz) {
    if (!hz) {
        outb(CMD, 0x30); // channel 0, mode 0 with no count written: stays quiet
        return;
    }
    uint32_t div = (PIT_HZ + hz / 2) / hz;
    if (div < 2)
        div = 2;
    if (div > 65535)
        div = 65535;
    outb(CMD, 0x34); // channel 0, low then high byte, mode 2 (rate generator)
    outb(CH0, (uint8_t)div);
    outb(CH0, (uint8_t)(div >> 8));
}
