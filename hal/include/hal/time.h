// Time: a monotonic nanosecond clock from the TSC (calibrated against the HPET or the PIT),
// the local APIC timer (or the PIT) as the tick source, and the CMOS real-time clock.
#pragma once
#include <stdint.h>

void hal_time_init(void);        // after hal_irq_init
uint64_t hal_time_ns(void);      // nanoseconds since hal_time_init, monotonic
uint64_t hal_tsc_hz(void);
uint64_t hal_rdtsc(void);
// Call HANDLER from the timer interrupt HZ times a second.
void hal_timer_start(uint32_t hz, void (*handler)(void));
// e.g. "tsc 2.99 GHz calibrated by hpet; lapic timer 62.50 MHz, 1000 Hz"
const char *hal_time_source(void);

struct hal_wallclock {
    int year, month, day, hour, minute, second;
};
int hal_rtc_read(struct hal_wallclock *out); // 0, or -1 when the RTC does not answer sanely
