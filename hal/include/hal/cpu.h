// The CPU as the kernel sees it.
#pragma once
#include <stdint.h>

uint64_t hal_rdtsc(void); // the timestamp counter; hal/time.h turns it into time

#define HAL_PHYS_WINDOW 0xffff800000000000ull

// A kernel pointer to physical memory through the physical-memory window.
static inline void *hal_phys_to_virt(uint64_t phys) { return (void *)(phys + HAL_PHYS_WINDOW); }

// Stop this CPU for good, interrupts off.
_Noreturn void hal_halt_forever(void);
// Spin-wait hint.
void hal_cpu_relax(void);
