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

// A thread of this process with a stack of its own, made by mos_thread_spawn.
struct mos_thread {
    long tid;
    uintptr_t stack; // its stack's mapping, freed by mos_thread_collect
    size_t stack_size;
};

// Runs fn(arg) in a new thread of this process, on a stack of stack_size bytes (0: 64 KiB)
// whose pages are taken as it grows (MOS_MAP_LAZY), over an unmapped guard page. The thread
// ends when fn returns or calls mos_thread_exit. Returns the thread id, or -MOS_Exxx. Beware:
// malloc and stdio keep no locks, so only one thread at a time may use them.
long mos_thread_spawn(struct mos_thread *t, void (*fn)(void *), void *arg, size_t stack_size);
// Waits until T has ended and unmaps its stack: 0 or -MOS_Exxx (thread_join's errors).
long mos_thread_collect(struct mos_thread *t);

// The time-stamp counter: a cycle count at mos_tsc_hz() ticks per second.
static inline uint64_t mos_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
