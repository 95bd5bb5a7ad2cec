// Kernel self-tests, chosen at boot with mos.ktest=NAME (the booted tests in tests/qemu use
// them). A test logs what it measured as "ktest NAME: ..." and returns 0 when it passed;
// ktest_run then ends QEMU with MOS_QEMU_EXIT_READY, or panics when it failed. Add a test by
// declaring it here and adding a line to the table in kernel/ktest.c.
#pragma once

typedef int (*ktest_fn)(void);

// Run the test NAME; ends QEMU (MOS_QEMU_EXIT_BAD_ARG when there is no such test).
_Noreturn void ktest_run(const char *name);

// kernel/time.c
int time_ktest_timer(void); // 200 ticks at 1000 Hz against the TSC and the clock
int time_ktest_irq(void);   // software vectors nobody handles are counted, not fatal

// kernel/mm/mm_ktest.c
int mm_ktest(void);       // W^X and NX of the kernel's mappings, frames, heap, stacks, user copies
int mm_ktest_null(void);  // the rest must end in a #PF panic: a NULL write,
int mm_ktest_wx(void);    // a write to kernel text, a call into kernel data,
int mm_ktest_nx(void);
int mm_ktest_smap(void);  // a plain read of a user page (SMAP), a call into user code (SMEP),
int mm_ktest_smep(void);
int mm_ktest_guard(void); // a write to a kernel stack's guard page
