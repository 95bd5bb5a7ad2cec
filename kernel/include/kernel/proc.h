// Processes: an address space, threads, a handle table, a parent, an exit status.
#pragma once
#include <kernel/kobj.h>
#include <kernel/list.h>
#include <kernel/sched.h>
#include <stdbool.h>
#include <stdint.h>

struct vm_space;

struct process {
    long pid;
    long ppid;
    char name[32];
    struct vm_space *vm;
    struct kobj *handles[HANDLES_MAX];
    struct list_head threads;
    struct list_head link;      // all processes
    int state;                  // enum mos_proc_state
    int exit_status;            // valid once the process is a zombie
    int fault;                  // enum mos_exit_status reason when killed by a fault (0 if none)
    uint64_t fault_addr;        // rip or cr2 of the fault
    bool killed;                // kill requested: threads exit at their next kernel exit
    bool exiting;               // a thread has begun ending the process: exit_status is set
    bool in_service_call;       // blocked in a service call: the service manager may copy its buffers
    enum prio_band prio;
    struct wait_queue child_exit; // the parent waits here for children
    struct wait_queue thread_ended; // thread_join waits here
    uint64_t cpu_ns;            // summed over its threads, including dead ones
};

struct process *proc_find(long pid);
// End the calling process with STATUS (an exit code or an enum mos_exit_status value): its
// other threads are told to end, and the last thread out tears the process down. When another
// thread ended the process first, its status stands.
_Noreturn void proc_exit_current(int status);
// Start PATH from the initrd with argv/envp (kernel copies), as a child of PARENT (NULL: none).
long proc_spawn(struct process *parent, const char *path, char *const *argv, int argc, char *const *envp, int envc);
void proc_init(void);
// Collect a zombie child of PARENT (NULL: the kernel's own children): its pid and *status.
long proc_wait(struct process *parent, long pid, int *status);
long proc_kill(long pid);
// Make orphan PID a child of PARENT: 0, or -MOS_ESRCH when PID is no orphan.
long proc_adopt(struct process *parent, long pid);
// Hooks run when a process dies, before its handles are closed (IPC wakes its callers here).
void ipc_process_exit(struct process *p);
