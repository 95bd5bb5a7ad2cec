// HAL of the MultiOS port. py/mphal.h declares the hooks; each build defines
// them (host/mphal_host.c for the host-native build):
//   mp_hal_stdout_tx_strn, mp_hal_stdin_rx_chr, mp_hal_stdio_poll: the console
//     (the guest takes mp_hal_stdout_tx_strn_cooked and mp_hal_stdout_tx_str
//     from shared/runtime/stdout_helpers.c);
//   mp_stderr_print: where tracebacks go (MICROPY_ERROR_PRINTER);
//   mp_hal_ticks_ms, mp_hal_ticks_us, mp_hal_delay_ms, mp_hal_delay_us,
//     mp_hal_time_ns: a monotonic clock, sleeping, and the wall clock;
//   mp_lexer_new_from_file, mp_import_stat: source files for running and import;
//   mp_builtin_open_obj: open();
//   nlr_jump_fail: an exception escaped every handler; must not return.
// Hooks the same on both sides are defined here.

#include "shared/runtime/interrupt_char.h"

// The time-stamp counter: x86_64 only, readable in ring 3 while CR4.TSD is clear.
static inline mp_uint_t mp_hal_ticks_cpu(void) {
    return (mp_uint_t)__builtin_ia32_rdtsc();
}
#define mp_hal_ticks_cpu mp_hal_ticks_cpu

// Waiting for an event (select.poll, asyncio): MultiOS delivers none to a
// process yet, so sleep at most a millisecond and let the caller look again.
void mp_port_wfe(mp_int_t timeout_ms);
#define MICROPY_INTERNAL_WFE(timeout_ms) mp_port_wfe(timeout_ms)
