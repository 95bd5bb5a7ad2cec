// Interrupt controllers and timers, private to the HAL: the parts hal/irq.c and hal/time.c
// assemble into hal/irq.h and hal/time.h.
#pragma once
#include <hal/trap.h>
#include <stdbool.h>
#include <stdint.h>

// Vector layout: exceptions 0-31; ISA IRQs at 0x20 + irq whichever controller delivers them
// (the 8259s are remapped there even when masked, so a stray one is never an exception);
// the local APIC's timer, error and spurious vectors.
#define VEC_IRQ0        0x20
#define VEC_LAPIC_TIMER 0x40
#define VEC_LAPIC_ERROR 0xfe
#define VEC_SPURIOUS    0xff

// irq.c
void irq_dispatch(struct hal_trapframe *tf);   // every vector >= 32, from hal_trap
bool irq_apic_mode(void);
bool irq_option(const char *word);             // a word on the boot command line
void irq_set_vector(unsigned vector, void (*fn)(void *), void *ctx);
int irq_route_isa(unsigned irq, void (*fn)(void *), void *ctx); // no "already taken" check

// pic.c: the two 8259s
void pic_init(void); // remapped to 0x20-0x2f, all masked
void pic_mask(unsigned irq, bool masked);
void pic_eoi(unsigned irq);
bool pic_in_service(unsigned irq);

// apic.c: this CPU's local APIC
bool lapic_init(uint64_t phys);
uint32_t lapic_id(void);
void lapic_eoi(void);
bool lapic_in_service(unsigned vector);
void lapic_timer_count(uint32_t count); // one-shot, masked: for calibration
uint32_t lapic_timer_current(void);
void lapic_timer_periodic(unsigned vector, uint32_t count); // count 0: stop
uint64_t lapic_error_count(void);

// ioapic.c
bool ioapic_add(uint8_t id, uint64_t phys, uint32_t gsi_base); // all inputs masked
int ioapic_route(uint32_t gsi, unsigned vector, uint16_t mps_flags, uint8_t dest, bool nmi);
void ioapic_mask(uint32_t gsi, bool masked);
unsigned ioapic_count(void);
unsigned ioapic_inputs(void);

// pit.c: the 8254 (1.193182 MHz)
uint64_t pit_measure_tsc(uint32_t window_us); // TSC Hz over a window of channel 2 (or 0); 0 when it does not count
// Channel 0 left counting (only while nothing else uses it: the local APIC timer ticks), and
// the TSC's Hz from the mark to now, given its rate roughly (within 1%); 0 if unknown. Stops
// channel 0.
struct pit_mark { uint16_t count; uint64_t tsc; };
void pit_mark(struct pit_mark *m);
uint64_t pit_tsc_hz_since(const struct pit_mark *m, uint64_t tsc_hz);
void pit_periodic(uint32_t hz);   // channel 0 at HZ; 0 stops it

// hpet.c
bool hpet_init(uint64_t phys);
uint64_t hpet_measure_tsc(uint64_t window_ns); // TSC Hz over a window of the main counter; 0 when it stands
// The counter and the TSC read together, and the TSC's Hz from there to now (0 if unknown);
// the 32-bit counter of some HPETs wraps after 42 s at 100 MHz.
struct hpet_mark { uint64_t count, tsc; };
void hpet_mark(struct hpet_mark *m);
uint64_t hpet_tsc_hz_since(const struct hpet_mark *m);

// rtc.c
void rtc_set_format(bool binary, bool h24);

// Model-specific registers and CPUID.
static inline uint64_t msr_read(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void msr_write(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid_query(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

// Building the one-line summaries (no formatter in the HAL): append to BUF, always terminated.
struct strbuf {
    char *p, *end;
};
static inline void sb_str(struct strbuf *b, const char *s) {
    while (*s && b->p + 1 < b->end)
        *b->p++ = *s++;
    *b->p = 0;
}
static inline void sb_uint(struct strbuf *b, uint64_t v, int min_digits) {
    char d[24];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10), v /= 10;
    while (v || n < min_digits);
    while (n && b->p + 1 < b->end)
        *b->p++ = d[--n];
    *b->p = 0;
}
