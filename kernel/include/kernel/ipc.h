// IPC entry points for the rest of the kernel (the system calls are the ksys_ functions;
// ipc_process_exit is declared in <kernel/proc.h>).
#pragma once
#include <kernel/kobj.h>
#include <multios/syscalls.h>
#include <stddef.h>
#include <stdint.h>

struct process;

// Call endpoint O from the kernel on behalf of the current process (e.g. a service system
// call forwarded to the service manager): MSG is in kernel memory, its sender is stamped with
// the current pid (0 for a kernel thread), and the reply replaces it. 0, or -MOS_EBADF (not an
// endpoint), -MOS_EINVAL (msg->len too long), -MOS_EPIPE (server gone), -MOS_EINTR.
long ipc_kcall(struct kobj *o, struct mos_msg *msg);

// P unmapped [va, va+len): shared-memory mappings wholly inside it release their object (else
// they hold it until P exits). For munmap.
void ipc_vm_unmapped(struct process *p, uint64_t va, size_t len);
