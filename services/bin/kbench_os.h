// What kbench needs from the system under test. kbench.c (the measured loops, the clock and
// the report) is one source built twice: against libmos with kbench_mos.c for MultiOS, and
// statically against glibc with kbench_linux.c for the Linux peer, so both run the same code.
//
// Every function returning int returns 0 on success; on failure it has printed one line
// saying why ("kbench: ...") and returns -1. A figure whose primitive fails is left out and
// kbench ends with "kbench: FAILED".
#ifndef KBENCH_OS_H
#define KBENCH_OS_H
#include <stddef.h>
#include <stdint.h>

static inline uint64_t kb_tsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

extern const char *const kb_system; // "MultiOS" or "Linux"
double kb_tsc_hz(void);             // TSC ticks per second, <= 0 when unknown

// A role other than the benchmark itself (kbench --server ...): returns the exit status,
// or -1 when argv names no role of this system.
int kb_role(int argc, char **argv);

void kb_null_syscall(void); // the cheapest system call (getpid on both)

// IPC round trip: a peer process answering one request at a time.
int kb_ipc_start(void);
int kb_ipc_roundtrip(void);
void kb_ipc_stop(void);

int kb_spawn_wait(void); // start the trivial program (/bin/true), let it exit, collect it

// Page fault-in: a region of BYTES whose pages are not yet backed by memory; the first
// write to each page is what is measured.
char *kb_lazy_map(size_t bytes);
void kb_lazy_unmap(char *p, size_t bytes);

// Context switch: a second thread of this process that yields in a loop until stopped.
int kb_switch_start(void);
void kb_yield(void);
void kb_switch_stop(void);

#endif
