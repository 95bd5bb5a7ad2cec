// The 8254 PIT (1.193182 MHz). Channel 2, gated through port 0x61 where its output can be
// read, measures the TSC by polling; where there is no port 0x61 (QEMU's microvm), channel
// 0's count read back does. Channel 0 on IRQ0 is the tick where there is no local APIC timer.
#include <hal/cpu.h>
#include "intr.h"
#include "io.h"

#define PIT_HZ 1193182u
enum { CH0 = 0x40, CH2 = 0x42, CMD = 0x43, PORT_B = 0x61 };
enum { B_GATE2 = 0x01, B_SPEAKER = 0x02, B_OUT2 = 0x20 };
#define MAX_SPINS 50000000 // far more than 10 ms of polling on anything: the PIT is not there

// Channel 2 in mode 0 (interrupt on terminal count): OUT drops when the mode is written and
// rises when the count reaches zero. TSC ticks over the window, 0 when OUT does not behave.
static uint64_t measure_ch2(uint32_t window_ticks) {
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~B_SPEAKER) | B_GATE2));
    outb(CMD, 0xb0); // channel 2, low then high byte, mode 0, binary
    outb(CH2, window_ticks & 0xff);
    outb(CH2, window_ticks >> 8);
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

// Channel 0 counting down from 65536 in mode 2 (wrapping every 55 ms).
static void ch0_free_running(void) {
    outb(CMD, 0x34);
    outb(CH0, 0);
    outb(CH0, 0);
}

// Channel 0 free-running, its count latched and read back.
static uint64_t measure_ch0(uint32_t window_ticks) {
    ch0_free_running();
    uint16_t last = ch0_count();
    uint64_t t0 = hal_rdtsc(), elapsed = 0, t1 = 0;
    for (uint64_t spins = 0; spins < MAX_SPINS; spins++) {
        uint16_t now = ch0_count();
        elapsed += (uint16_t)(last - now); // counts down, wrapping at 65536
        last = now;
        if (elapsed >= window_ticks) {
            t1 = hal_rdtsc();
            break;
        }
    }
    pit_periodic(0);
    return t1 ? (t1 - t0) * window_ticks / elapsed : 0;
}

uint64_t pit_measure_tsc(uint32_t window_us) {
    static int use_ch0;
    uint32_t ticks = (uint32_t)((uint64_t)PIT_HZ * window_us / 1000000);
    if (ticks < 2 || ticks > 65535)
        return 0;
    uint64_t d = use_ch0 ? 0 : measure_ch2(ticks);
    if (!d) {
        use_ch0 = 1;
        d = measure_ch0(ticks);
    }
    return d * PIT_HZ / ticks;
}

void pit_mark(struct pit_mark *m) {
    ch0_free_running();
    m->count = ch0_count();
    m->tsc = hal_rdtsc();
}

uint64_t pit_tsc_hz_since(const struct pit_mark *m, uint64_t tsc_hz) {
    uint16_t count = ch0_count();
    uint64_t tsc = hal_rdtsc() - m->tsc;
    pit_periodic(0);
    if (!tsc_hz || tsc > UINT64_MAX / PIT_HZ)
        return 0; // (more than an hour and a half at 2.6 GHz)
    // The count wraps every 65536 ticks; the TSC at its first rate says how often it did.
    uint64_t guess = tsc * PIT_HZ / tsc_hz;
    uint64_t part = (uint16_t)(m->count - count), wraps = 0;
    if (guess > part)
        wraps = (guess - part + 32768) / 65536;
    uint64_t elapsed = wraps * 65536 + part;
    uint64_t off = elapsed > guess ? elapsed - guess : guess - elapsed;
    if (!elapsed || off > 16384)
        return 0; // the guess is too far off to tell the wraps apart
    return tsc * PIT_HZ / elapsed;
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
