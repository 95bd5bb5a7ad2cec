#pragma once
#include <hal/serial.h>
#include <stdbool.h>

struct process;
void console_init(void);
int console_getc(enum hal_serial_port port);  // a waiting byte or -1
long console_wait(enum hal_serial_port port); // until input may be there; -MOS_EINTR if killed
// Handles 0-3 of a new process; JOURNAL: its stdout and stderr are copied to the service
// manager too (the process is a service).
void files_install_std(struct process *p, bool journal);
