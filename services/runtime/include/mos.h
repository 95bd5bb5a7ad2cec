// MultiOS system calls for C programs: the ABI (<multios/syscalls.h>: numbers, structs,
// enums, errors) and one stub per call, long mos_NAME(...), generated from it
// (<multios/libmos_syscalls.h>; build/gen/syscalls.md documents every call). The stubs
// return the result (>= 0) or -MOS_Exxx and never touch errno.
#pragma once
#include <stdint.h>

#include <multios/libmos_syscalls.h>
#include <multios/syscalls.h>

// Issues system call NR with six raw arguments (for tests and fuzzers; prefer the stubs).
long mos_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

// The name of an error number (positive or negative), e.g. "EFAULT"; "E?" if unknown.
const char *mos_errname(long err);

// Starts PATH with the NULL-terminated ARGV and the caller's environment.
long mos_spawnv(const char *path, const char *const *argv);

// The time-stamp counter: a cycle count at mos_tsc_hz() ticks per second.
static inline uint64_t mos_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
