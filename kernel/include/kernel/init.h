#pragma once
void init_start(void); // the kernel's first thread (kernel/init.c)
long init_manager_pid(void);      // the service manager's pid, 0 when it is not running
void service_manager_exited(void); // kernel/service.c: forget its endpoint
