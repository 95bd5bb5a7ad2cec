#pragma once
// Exceptions and the syscall entry, routed into the kernel.
void trap_init(void);
