#pragma once
void init_start(void); // the kernel's first thread (kernel/init.c)
long init_manager_pid(void);      // the service manager's pid, 0 when it is not running
void service_manager_exited(void); // kernel/service.c: forget its endpoint
struct process;
// kernel/service.c: the service manager learns of its children's exits through its endpoint.
void service_child_exited(struct process *parent, long pid, int status);
void service_init(void);
#include <stddef.h>
// kernel/service.c: a service wrote to its stdout (1) or stderr (2); the service manager gets a copy.
void service_output(long pid, int stream, const char *buf, size_t len);
