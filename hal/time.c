// Time: the TSC calibrated against the HPET (else the PIT) gives hal_time_ns; the local APIC
// timer, calibrated against the TSC, ticks (the PIT's channel 0 where there is no APIC).
//
// Boot should not wait for calibration: the HPET (else the PIT) gives a first figure over
// three 2 ms windows, and the tick refines it once over REFINE_AFTER_MS against the same
// counter (to a few ppm, where 2 ms windows give ~0.05%). The local APIC timer counts across
// those windows meanwhile. The PIT is refined only while the local APIC timer ticks (the
// refinement keeps the PIT's channel 0 counting); where the PIT ticks, its windows are 10 ms.
#include <hal/cpu.h>
#include <hal/irq.h>
#include <hal/time.h>
#include "acpi.h"
#include "intr.h"

#define NS_PER_S 1000000000ull
#define HPET_WINDOW_NS 2000000ull   // a first figure; the refinement makes it exact
#define PIT_WINDOW_US 2000          // the same, where the PIT is refined
#define PIT_WINDOW_US_ONLY 10000    // where it is not
#define REFINE_AFTER_MS 1000

static uint64_t tsc_hz, tsc_start, ns_start;
// ns = ns_start + (tsc - tsc_start) * mult >> 32: one multiply, no division, no floating point.
static uint64_t mult;
// Bumped around a change of the three above (by the tick, so a reader sees it as a change).
static volatile uint32_t clock_seq;
static const char *calibrated_by = "nothing";
static uint64_t cpuid_hz;  // what CPUID 0x15/0x16 claims, 0 if silent
static uint64_t lapic_hz;  // the local APIC timer's input after its divide-by-16
static bool use_lapic;
static uint32_t tick_hz;
static void (*tick_handler)(void);
static char source[128];
// Where the refinement measures from (the HPET's mark, else the PIT's).
static struct hpet_mark refine_mark;
static struct pit_mark refine_pit;
static enum { REFINED, REFINE_HPET, REFINE_PIT } refine_by; // what the tick still has to do

static uint64_t hpet_window(void) { return hpet_measure_tsc(HPET_WINDOW_NS); }
static uint64_t pit_window(void) { return pit_measure_tsc(PIT_WINDOW_US); }
static uint64_t pit_window_only(void) { return pit_measure_tsc(PIT_WINDOW_US_ONLY); }

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

// The local APIC timer's count and the TSC together: the count first, then the TSC at both
// ends of a measurement, so the read's own latency cancels out.
struct lapic_mark { uint32_t count; uint64_t tsc; };

static void lapic_mark(struct lapic_mark *m) {
    m->count = lapic_timer_current();
    m->tsc = hal_rdtsc();
}

static void set_clock(uint64_t hz, uint64_t tsc, uint64_t ns) {
    clock_seq++;
    __asm__ volatile("" ::: "memory");
    tsc_hz = hz;
    mult = (NS_PER_S << 32) / hz;
    tsc_start = tsc;
    ns_start = ns;
    __asm__ volatile("" ::: "memory");
    clock_seq++;
}

void hal_time_init(void) {
    // The local APIC timer counts down from its top while the TSC is calibrated.
    bool want_lapic = irq_apic_mode() && !irq_option("mos.timer=pit");
    struct lapic_mark l0, l1;
    if (want_lapic) {
        lapic_timer_count(0xffffffff);
        lapic_mark(&l0); // twice: the first read of a device can be slow (an emulator's TLB)
        lapic_mark(&l0);
    }
    uint64_t hz = 0;
    bool pit_refinable = false;
    if (acpi.hpet_addr && hpet_init(acpi.hpet_addr) && (hz = median3(hpet_window))) {
        calibrated_by = "hpet";
        hpet_mark(&refine_mark);
        refine_by = REFINE_HPET;
    } else if ((hz = median3(want_lapic ? pit_window : pit_window_only))) {
        calibrated_by = "pit";
        pit_refinable = want_lapic;
    }
    cpuid_hz = tsc_hz_from_cpuid();
    if (!hz && cpuid_hz)
        hz = cpuid_hz, calibrated_by = "cpuid";
    if (!hz)
        hz = NS_PER_S, calibrated_by = "nothing (guessed 1 GHz)";
    set_clock(hz, hal_rdtsc(), 0);
    if (irq_option("mos.rtc=binary12"))
        rtc_set_format(true, false);
    if (want_lapic) {
        lapic_mark(&l1);
        lapic_timer_count(0);
        if (l1.count < l0.count && l1.tsc > l0.tsc)
            lapic_hz = (uint64_t)(l0.count - l1.count) * tsc_hz / (l1.tsc - l0.tsc);
    }
    use_lapic = want_lapic && lapic_hz != 0;
    if (use_lapic && pit_refinable) {
        pit_mark(&refine_pit);
        refine_mark.tsc = refine_pit.tsc;
        refine_by = REFINE_PIT;
    }
}

// Once, from the tick: the TSC's rate over the long span since the first calibration. The
// clock carries on from where it is, at the better rate (no step back or forward).
static void refine(void) {
    uint64_t now = hal_rdtsc();
    if (now - refine_mark.tsc < tsc_hz / 1000 * REFINE_AFTER_MS)
        return;
    uint64_t hz = refine_by == REFINE_HPET ? hpet_tsc_hz_since(&refine_mark) : pit_tsc_hz_since(&refine_pit, tsc_hz);
    refine_by = REFINED;
    // More than 2% from the first figure is a disturbed measurement: keep the first.
    uint64_t diff = hz > tsc_hz ? hz - tsc_hz : tsc_hz - hz;
    if (!hz || diff * 50 > tsc_hz)
        return;
    now = hal_rdtsc();
    set_clock(hz, now, ns_start + (uint64_t)(((unsigned __int128)(now - tsc_start) * mult) >> 32));
}

uint64_t hal_time_ns(void) {
    uint32_t seq;
    uint64_t ns;
    do {
        seq = clock_seq;
        __asm__ volatile("" ::: "memory");
        if (!mult)
            return 0;
        ns = ns_start + (uint64_t)(((unsigned __int128)(hal_rdtsc() - tsc_start) * mult) >> 32);
        __asm__ volatile("" ::: "memory");
    } while (seq != clock_seq);
    return ns;
}

uint64_t hal_tsc_hz(void) { return tsc_hz; }

static void on_tick(void *ctx) {
    (void)ctx;
    if (refine_by != REFINED)
        refine();
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
