// Time: the TSC calibrated against the HPET (else the PIT) gives hal_time_ns; the local APIC
// timer, calibrated against the TSC, ticks (the PIT's channel 0 where there is no APIC).
#include <hal/cpu.h>
#include <hal/irq.h>
#include <hal/time.h>
#include "acpi.h"
#include "intr.h"

#define NS_PER_S 1000000000ull

static uint64_t tsc_hz, tsc_start;
// ns = (tsc - tsc_start) * mult >> 32: one multiply, no division, no floating point.
static uint64_t mult;
static const char *calibrated_by = "nothing";
static uint64_t cpuid_hz;  // what CPUID 0x15/0x16 claims, 0 if silent
static uint64_t lapic_hz;  // the local APIC timer's input after its divide-by-16
static bool use_lapic;
static uint32_t tick_hz;
static void (*tick_handler)(void);
static char source[128];

// The median of three measurements: one disturbed window does not count. Below 10 MHz is no
// measurement (a reference that does not tick as it claims).
static uint64_t median3(uint64_t (*measure)(void)) {
    uint64_t a = measure(), b = measure(), c = measure();
    if (a < 10000000 || b < 10000000 || c < 10000000)
        return 0;
    if (a > b) { uint64_t t = a; a = b; b = t; }
    if (b > c) { uint64_t t = b; b = c; c = t; }
    return a > b ? a : b;
}

// CPUID 0x15 (TSC/crystal ratio and crystal Hz) or 0x16 (base MHz): often absent or rounded,
// so only a cross-check and a last resort.
static uint64_t tsc_hz_from_cpuid(void) {
    uint32_t r[4];
    cpuid_query(0, 0, r);
    uint32_t max = r[0];
    if (max >= 0x15) {
        cpuid_query(0x15, 0, r);
        if (r[0] && r[1] && r[2])
            return (uint64_t)r[2] * r[1] / r[0];
    }
    if (max >= 0x16) {
        cpuid_query(0x16, 0, r);
        if (r[0] & 0xffff)
            return (uint64_t)(r[0] & 0xffff) * 1000000;
    }
    return 0;
}

static uint64_t calibrate_lapic(void) {
    lapic_timer_count(0xffffffff);
    // Read the count then the TSC at both ends, so the read's own latency cancels out.
    uint32_t c0 = lapic_timer_current();
    uint64_t t0 = hal_rdtsc();
    while (hal_rdtsc() - t0 < tsc_hz / 100) // 10 ms
        hal_cpu_relax();
    uint32_t c1 = lapic_timer_current();
    uint64_t t1 = hal_rdtsc();
    lapic_timer_count(0);
    if (c1 >= c0)
        return 0;
    return (uint64_t)(c0 - c1) * tsc_hz / (t1 - t0);
}

void hal_time_init(void) {
    uint64_t hz = 0;
    if (acpi.hpet_addr && hpet_init(acpi.hpet_addr) && (hz = median3(hpet_measure_tsc)))
        calibrated_by = "hpet";
    else if ((hz = median3(pit_measure_tsc)))
        calibrated_by = "pit";
    cpuid_hz = tsc_hz_from_cpuid();
    if (!hz && cpuid_hz)
        hz = cpuid_hz, calibrated_by = "cpuid";
    if (!hz)
        hz = NS_PER_S, calibrated_by = "nothing (guessed 1 GHz)";
    tsc_hz = hz;
    mult = (NS_PER_S << 32) / hz;
    tsc_start = hal_rdtsc();
    if (irq_option("mos.rtc=binary12"))
        rtc_set_format(true, false);
    use_lapic = irq_apic_mode() && !irq_option("mos.timer=pit") && (lapic_hz = calibrate_lapic()) != 0;
}

uint64_t hal_time_ns(void) {
    if (!mult)
        return 0;
    return (uint64_t)(((unsigned __int128)(hal_rdtsc() - tsc_start) * mult) >> 32);
}

uint64_t hal_tsc_hz(void) { return tsc_hz; }

static void on_tick(void *ctx) {
    (void)ctx;
    if (tick_handler)
        tick_handler();
}

void hal_timer_start(uint32_t hz, void (*handler)(void)) {
    unsigned long flags = hal_irq_save();
    tick_handler = handler;
    tick_hz = handler ? hz : 0;
    if (use_lapic) {
        uint64_t count = tick_hz ? lapic_hz / tick_hz : 0; // 0 stops it
        if (tick_hz && !count)
            count = 1;
        if (count > 0xffffffff)
            count = 0xffffffff;
        irq_set_vector(VEC_LAPIC_TIMER, on_tick, 0);
        lapic_timer_periodic(VEC_LAPIC_TIMER, (uint32_t)count);
    } else if (tick_hz) {
        pit_periodic(tick_hz);
        irq_route_isa(0, on_tick, 0);
    } else {
        hal_irq_mask(0, true);
        pit_periodic(0);
    }
    hal_irq_restore(flags);
}

static void add_mhz2(struct strbuf *b, uint64_t hz) {
    // Two decimals of the largest unit that keeps a digit before the point.
    const char *unit = hz >= NS_PER_S ? " GHz" : " MHz";
    uint64_t div = hz >= NS_PER_S ? NS_PER_S : 1000000;
    uint64_t hundredths = (hz + div / 200) / (div / 100);
    sb_uint(b, hundredths / 100, 1);
    sb_str(b, ".");
    sb_uint(b, hundredths % 100, 2);
    sb_str(b, unit);
}

const char *hal_time_source(void) {
    struct strbuf b = {source, source + sizeof source};
    sb_str(&b, "tsc ");
    add_mhz2(&b, tsc_hz);
    sb_str(&b, " calibrated by ");
    sb_str(&b, calibrated_by);
    if (cpuid_hz) {
        uint64_t diff = cpuid_hz > tsc_hz ? cpuid_hz - tsc_hz : tsc_hz - cpuid_hz;
        sb_str(&b, diff * 50 > tsc_hz ? " (cpuid disagrees: " : " (cpuid agrees: ");
        add_mhz2(&b, cpuid_hz);
        sb_str(&b, ")");
    }
    if (use_lapic) {
        sb_str(&b, "; lapic timer ");
        add_mhz2(&b, lapic_hz);
    } else {
        sb_str(&b, irq_apic_mode() ? "; pit timer via ioapic gsi " : "; pit timer");
        if (irq_apic_mode())
            sb_uint(&b, acpi.isa[0].gsi, 1);
    }
    if (tick_hz) {
        sb_str(&b, ", ");
        sb_uint(&b, tick_hz, 1);
        sb_str(&b, " Hz");
    }
    return source;
}
