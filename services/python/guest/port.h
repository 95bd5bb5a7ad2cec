// What the guest build's files share (guest/*.c).

#ifndef MULTIOS_PYTHON_GUEST_PORT_H
#define MULTIOS_PYTHON_GUEST_PORT_H

#include <stdbool.h>
#include <stddef.h>

// The console handles the interpreter uses: MOS_STDIN/STDOUT/STDERR, or
// MOS_COM2 for all three when it serves the raw REPL on COM2.
extern int mp_port_in, mp_port_out, mp_port_err;

// path made absolute against the root (there is no working directory); may
// return path itself, else buf. Raises OSError(ENAMETOOLONG).
const char *mp_port_abspath(const char *path, char *buf, size_t size);

// The GC heap: a first area of size bytes, allowed to grow to limit bytes in
// all; reset frees what it grew by and empties the heap (soft reset).
bool mp_port_heap_init(size_t size, size_t limit);
void mp_port_heap_reset(void);

// Console input through a relay process, so that Ctrl-C interrupts running
// Python (interactive use: the REPLs). start returns false if it could not.
bool mp_port_relay_start(void);
void mp_port_relay_stop(void);
// main of the relay (python --relay HANDLE).
int mp_port_relay_main(int console);

#endif
