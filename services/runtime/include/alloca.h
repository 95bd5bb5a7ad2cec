// alloca(): stack allocation, gcc's builtin. Declared so that a use never falls back to an
// implicit int-returning declaration, which truncates the pointer.
#pragma once
#include <stddef.h>

#define alloca(size) __builtin_alloca(size)
