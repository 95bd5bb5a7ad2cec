// A few POSIX calls over the MultiOS system calls. File descriptors are console handles:
// 0 (input), 1 and 2 (output), 3 (COM2). They return -1 and set errno on failure.
#pragma once
#include <stddef.h>
#include <sys/types.h>

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

ssize_t write(int fd, const void *buf, size_t len);
ssize_t read(int fd, void *buf, size_t len);
pid_t getpid(void);
unsigned sleep(unsigned seconds);
int usleep(unsigned long usec);
_Noreturn void _exit(int status);

// lseek's whence values, which POSIX also puts here (as in <stdio.h>).
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
