// Running Python programs, shared by the host-native and the guest mains.

#ifndef MULTIOS_PYTHON_PORT_RUN_H
#define MULTIOS_PYTHON_PORT_RUN_H

#include <stddef.h>

// "64m", "512k", "1g" or plain bytes as a size; 0 if s is not one (-X heapsize=...).
size_t mp_port_parse_size(const char *s);

// Runs the file at path as __main__ and returns the process exit status: 0,
// SystemExit's code, or 1 after printing an uncaught exception to stderr.
int mp_port_exec_file(const char *path);

// The same for the program text src (python -c) and for importing the
// module name (a frozen main).
int mp_port_exec_str(const char *src);
int mp_port_exec_module(const char *name);

#endif
