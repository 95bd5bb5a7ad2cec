// Shared between HAL files only.
#pragma once
void cpu_init(void);
#include <stdint.h>
void cpu_set_rsp0(uint64_t top);
