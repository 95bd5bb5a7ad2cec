// What the parts of libmos share; not a public header.
#pragma once
#include <stddef.h>

void libmos_stdio_init(void);
void libmos_stdio_flush_all(void);
// Sets errno from a system call's result; returns the result, or -1 for an error.
long libmos_check(long r);
