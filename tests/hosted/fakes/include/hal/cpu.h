// Hosted stand-in for hal/include/hal/cpu.h (found first on the include path by
// tests/hosted/hostlib.py): "physical memory" is a shared-memory arena of the test process,
// and the physical window is wherever that arena is mapped.
#pragma once
#include <stdint.h>

extern uint8_t *hosted_phys_base;

#define HAL_PHYS_WINDOW ((uint64_t)(uintptr_t)hosted_phys_base)

static inline void *hal_phys_to_virt(uint64_t phys) { return hosted_phys_base + phys; }

uint64_t hal_rdtsc(void);
_Noreturn void hal_halt_forever(void);
void hal_cpu_relax(void);
