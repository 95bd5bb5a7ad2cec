// The HPET's main counter, only as a reference clock for calibrating the TSC.
#include <hal/cpu.h>
#include "acpi.h"
#include "intr.h"

enum { REG_CAP = 0x00, REG_CONFIG = 0x10, REG_COUNTER = 0xf0, CONFIG_ENABLE = 1, CAP_64BIT = 1 << 13 };
#define FS_PER_NS 1000000ull

static volatile uint8_t *mmio;
static uint64_t period_fs; // counter period in femtoseconds
static bool wide;

static uint64_t rd(unsigned reg) { return *(volatile uint64_t *)(mmio + reg); }
static void wr(unsigned reg, uint64_t v) { *(volatile uint64_t *)(mmio + reg) = v; }

static uint64_t counter(void) {
    return wide ? rd(REG_COUNTER) : *(volatile uint32_t *)(mmio + REG_COUNTER);
}

bool hpet_init(uint64_t phys) {
    if (!(mmio = acpi_map_device(phys, 1024)))
        return false;
    uint64_t cap = rd(REG_CAP);
    period_fs = cap >> 32;
    // The specification bounds the period at 100 ns; 0 or more is no HPET.
    if (period_fs == 0 || period_fs > 100000000ull)
        return false;
    wide = cap & CAP_64BIT;
    wr(REG_CONFIG, rd(REG_CONFIG) | CONFIG_ENABLE);
    return true;
}

static uint64_t since(uint64_t start) {
    uint64_t now = counter();
    return wide ? now - start : (uint32_t)(now - start);
}

uint64_t hpet_measure_tsc(uint64_t window_ns) {
    if (!mmio || !period_fs)
        return 0;
    uint64_t ticks = window_ns * FS_PER_NS / period_fs;
    uint64_t h0 = counter(), t0 = hal_rdtsc(), spins = 0, elapsed;
    while ((elapsed = since(h0)) < ticks)
        if (++spins > 100000000)
            return 0; // the counter does not move
    uint64_t t1 = hal_rdtsc();
    return (t1 - t0) * 1000000000ull / (elapsed * period_fs / FS_PER_NS);
}

void hpet_mark(struct hpet_mark *m) {
    m->count = counter();
    m->tsc = hal_rdtsc();
}

uint64_t hpet_tsc_hz_since(const struct hpet_mark *m) {
    uint64_t elapsed = since(m->count), tsc = hal_rdtsc() - m->tsc;
    // In microseconds (1 ppm over the second the caller waits); 64 bits hold 184 s of the
    // counter at 100 MHz, and the TSC's ticks times a million for 7000 s at 2.6 GHz.
    if (!mmio || !elapsed || elapsed > UINT64_MAX / period_fs || tsc > UINT64_MAX / 1000000)
        return 0;
    uint64_t us = elapsed * period_fs / 1000000000ull;
    return us ? tsc * 1000000 / us : 0;
}
