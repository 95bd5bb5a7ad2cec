// Shared between HAL files only.
#pragma once
void cpu_init(void);
