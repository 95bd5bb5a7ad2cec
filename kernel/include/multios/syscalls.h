// The MultiOS system-call table: the one definition of the user/kernel ABI.
//
// tools/gensyscalls.py reads this file (and the multios/ headers it includes) with cffi's C
// parser and generates the kernel dispatch table, the libmos stubs, the MicroPython module
// table, the Python constants and the reference page. To add a call:
//   1. give it a number in enum mos_syscall: SYS_name = N (explicit, < 256, never reused);
//   2. declare `long sys_name(params);` below, right after a doc comment:
//        /** One-line description. Optional details.
//         *  returns: what a result >= 0 means ("never" if the call does not return).
//         *  errors: MOS_EBADF (why), MOS_EFAULT, ...      or  errors: none */
//   3. implement `long ksys_name(params)` in the kernel; the generated prototype checks it.
// Rules the generator enforces: at most 6 parameters, each an integer, an enum or a
// pointer (no struct by value, no floating point); a call with a pointer lists MOS_EFAULT;
// a `const char *` parameter is a NUL-terminated string and must be named *path, *name,
// *pattern or *str (pass bytes as `const void *`); structs have no implicit padding.
// Constants belong in enums (the generator exports enums to Python; it sees no #define).
//
// Calling convention (x86_64 `syscall`): number in rax; arguments in rdi, rsi, rdx, r10, r8,
// r9; result in rax. The kernel preserves every other register except rcx and r11.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <multios/errno.h>
#include <multios/service_types.h>

// Numbers are grouped by area; the gaps leave room to grow each group.
enum mos_syscall {
    SYS_exit = 0,
    SYS_getpid = 1,
    SYS_spawn = 2,
    SYS_wait = 3,
    SYS_kill = 4,
    SYS_yield = 5,
    SYS_sleep_ns = 6,
    SYS_proc_info = 7,
    SYS_suspend = 8,
    SYS_resume = 9,
    SYS_set_priority = 10,
    SYS_thread_create = 11,
    SYS_thread_exit = 12,
    SYS_thread_join = 13,

    SYS_clock_ns = 16,
    SYS_wallclock = 17,
    SYS_tsc_hz = 18,

    SYS_write = 24,
    SYS_read = 25,

    SYS_mmap_anon = 32,
    SYS_munmap = 33,
    SYS_frames_free = 34,

    SYS_endpoint_create = 40,
    SYS_ipc_call = 41,
    SYS_ipc_recv = 42,
    SYS_ipc_reply = 43,
    SYS_notify = 44,
    SYS_notify_wait = 45,
    SYS_queue_create = 46,
    SYS_queue_send = 47,
    SYS_queue_recv = 48,
    SYS_shm_create = 49,
    SYS_shm_map = 50,
    SYS_sem_create = 51,
    SYS_sem_wait = 52,
    SYS_sem_post = 53,
    SYS_handle_grant = 54,
    SYS_handle_close = 55,
    SYS_ipc_recv_timeout = 56,

    SYS_open = 64,
    SYS_fread = 65,
    SYS_close = 66,
    SYS_stat = 67,
    SYS_readdir = 68,

    SYS_poweroff = 80,
    SYS_reboot = 81,
    SYS_klog_read = 82,

    SYS_create_service = 96,
    SYS_start_service = 97,
    SYS_stop_service = 98,
    SYS_restart_service = 99,
    SYS_enable_service = 100,
    SYS_disable_service = 101,
    SYS_pause_service = 102,
    SYS_resume_service = 103,
    SYS_discover_services = 104,
    SYS_lookup_service = 105,
    SYS_service_status = 106,
    SYS_notify_ready = 107,
    SYS_subscribe_services = 108,
    SYS_service_query = 109,

    SYS_svcmgr_register = 112,
    SYS_svcmgr_read = 113,
    SYS_svcmgr_write = 114,
    SYS_svcmgr_adopt = 115,
    SYS_svcmgr_save = 116,
    SYS_svcmgr_load = 117,
};

// Sizes and special values.
enum {
    MOS_PATH_MAX = 256,        // longest path, NUL included
    MOS_PROC_NAME_MAX = 32,    // struct mos_proc_info.name, NUL included
    MOS_DIRENT_NAME_MAX = 112, // struct mos_dirent.name, NUL included
    MOS_MSG_DATA_MAX = 208,    // struct mos_msg.data
    MOS_QUEUE_DEPTH_MAX = 256, // most messages a queue holds
    MOS_TIMEOUT_FOREVER = -1,  // as a uint64_t timeout_ns: wait without limit (0 polls)
    MOS_THREADS_MAX = 64,      // most threads a process has at once
};

// Handles every process starts with.
enum mos_std_handle {
    MOS_STDIN = 0,  // console input (COM1 and keyboard)
    MOS_STDOUT = 1, // console output (COM1 and screen)
    MOS_STDERR = 2, // console output, same device as MOS_STDOUT
    MOS_COM2 = 3,   // second serial port (the MicroPython REPL line)
};

// Memory protection for mmap_anon and shm_map; OR them together.
enum mos_prot {
    MOS_PROT_READ = 1,
    MOS_PROT_WRITE = 2,
    MOS_PROT_EXEC = 4,
    // mmap_anon only: back each page with a zeroed frame at its first touch (a page fault),
    // not at the call. A touch the protection forbids still ends the process.
    MOS_MAP_LAZY = 0x100,
};

// Flags for open: the initrd is read-only, so there is only one.
enum mos_open_flags {
    MOS_O_RDONLY = 0,
};

// Process states reported by proc_info.
enum mos_proc_state {
    MOS_PROC_RUNNING = 0,   // on a CPU now
    MOS_PROC_READY = 1,     // runnable, waiting for a CPU
    MOS_PROC_BLOCKED = 2,   // waiting in a system call
    MOS_PROC_SUSPENDED = 3, // stopped by suspend until resume
    MOS_PROC_ZOMBIE = 4,    // ended, not yet collected by wait
};

// Exit status as wait and proc_info report it: the value passed to exit (0..255), or one
// of these for a process that did not call exit.
enum mos_exit_status {
    MOS_STATUS_KILLED = 0x100, // ended by kill
    MOS_STATUS_FAULT = 0x200,  // ended by a CPU exception; the low byte is the vector
};

// File types in struct mos_stat and struct mos_dirent.
enum mos_file_type {
    MOS_FT_FILE = 1,
    MOS_FT_DIR = 2,
};

/** One process, as proc_info reports it for ps. */
struct mos_proc_info {
    int64_t pid;
    int64_t ppid;
    uint64_t cpu_ns;      // CPU time used so far
    uint64_t mem_bytes;   // memory the process has frames for (lazy pages once touched)
    uint64_t fault_addr;  // faulting address (CR2) when ended by a page fault, else 0
    uint32_t state;       // enum mos_proc_state
    int32_t priority;     // scheduler priority; higher runs first
    int32_t exit_status;  // enum mos_exit_status encoding; valid when MOS_PROC_ZOMBIE
    uint32_t reserved;    // zero
    char name[MOS_PROC_NAME_MAX]; // program name, NUL-terminated
};

/** Calendar time read from the RTC (UTC). */
struct mos_wallclock {
    uint16_t year;  // e.g. 2025
    uint8_t month;  // 1..12
    uint8_t day;    // 1..31
    uint8_t hour;   // 0..23
    uint8_t minute; // 0..59
    uint8_t second; // 0..59
    uint8_t reserved; // zero
};

/** One IPC message: fixed size, copied by the kernel. */
struct mos_msg {
    uint32_t tag;      // meaning chosen by the protocol (for services: the operation)
    uint32_t len;      // bytes used in data, at most MOS_MSG_DATA_MAX
    int64_t sender;    // pid of the sender, stamped by the kernel on delivery
    uint64_t words[4]; // small integer arguments or results
    uint8_t data[MOS_MSG_DATA_MAX];
};

/** What stat reports about a file. */
struct mos_stat {
    uint64_t size;  // bytes
    uint64_t mtime; // seconds since 1970 (UTC), 0 if unknown
    uint32_t type;  // enum mos_file_type
    uint32_t mode;  // permission bits as stored in the initrd
};

/** One directory entry, as readdir reports it. */
struct mos_dirent {
    uint64_t size; // bytes
    uint32_t type; // enum mos_file_type
    uint32_t name_len; // bytes in name, NUL not counted
    char name[MOS_DIRENT_NAME_MAX]; // NUL-terminated
};

// Processes.

/** Ends the calling process with a status its parent collects with wait.
 *  The status is truncated to 0..255.
 *  returns: never
 *  errors: none */
long sys_exit(int status);

/** Returns the caller's process id.
 *  returns: the pid (>= 1).
 *  errors: none */
long sys_getpid(void);

/** Starts a program from the initrd as a child of the caller.
 *  argv and envp are NULL-terminated arrays of strings; argv[0] is the program name.
 *  returns: the child's pid.
 *  errors: MOS_ENOENT (no file at path), MOS_ENOEXEC (not a valid x86_64 ELF),
 *          MOS_E2BIG (argv and envp exceed 64 KiB or 256 strings), MOS_ENAMETOOLONG, MOS_ENOMEM,
 *          MOS_EAGAIN (process table full), MOS_EFAULT */
long sys_spawn(const char *path, const char *const *argv, const char *const *envp);

/** Waits for a child to end and collects it.
 *  pid -1 waits for any child. status may be NULL.
 *  returns: the pid of the collected child; *status receives its exit status (the
 *  mos_exit_status encoding).
 *  errors: MOS_ECHILD (no such child, or no children at all), MOS_EFAULT */
long sys_wait(long pid, int *status);

/** Ends a process; its parent sees MOS_STATUS_KILLED.
 *  returns: 0.
 *  errors: MOS_ESRCH (no such process), MOS_EPERM (the kernel's own or the init process) */
long sys_kill(long pid);

/** Gives up the rest of the caller's time slice.
 *  returns: 0.
 *  errors: none */
long sys_yield(void);

/** Sleeps for at least ns nanoseconds of monotonic time.
 *  returns: 0.
 *  errors: MOS_EINTR (suspended or killed while sleeping) */
long sys_sleep_ns(uint64_t ns);

/** Describes the process in slot index of the process table, for ps.
 *  Iterate index from 0 until MOS_ESRCH; empty slots are skipped, not reported.
 *  returns: 0.
 *  errors: MOS_ESRCH (index is past the last process), MOS_EINVAL (index < 0), MOS_EFAULT */
long sys_proc_info(long index, struct mos_proc_info *out);

/** Stops a process from running until resume; blocked calls return MOS_EINTR.
 *  returns: 0.
 *  errors: MOS_ESRCH, MOS_EPERM (the kernel's own or the init process),
 *          MOS_EINVAL (pid is the caller) */
long sys_suspend(long pid);

/** Lets a suspended process run again.
 *  returns: 0.
 *  errors: MOS_ESRCH, MOS_EINVAL (the process is not suspended) */
long sys_resume(long pid);

/** Moves a process to another scheduling band; a higher band always runs first.
 *  band: 0 background, 1 normal (the default), 2 system.
 *  errors: MOS_ESRCH (no such process), MOS_EINVAL (no such band) */
long sys_set_priority(long pid, int band);

/** Starts a thread in the caller's process: it enters ring 3 at entry with rsp = stack and
 *  rdi = arg, every other register zero and a clean SSE state. The caller provides the stack
 *  (mmap_anon) and aligns it; entry is not a C function (it has no return address): end the
 *  thread with thread_exit. libmos's mos_thread_spawn does all this. A process ends when its
 *  last thread does; exit, kill and a fault in any thread end all of them. The kernel checks
 *  only that entry and stack are user addresses: a bad one faults in the new thread.
 *  returns: the thread id (> 0, never reused).
 *  errors: MOS_EINVAL (entry or stack outside user space), MOS_EAGAIN (the process has
 *          MOS_THREADS_MAX threads), MOS_ENOMEM */
long sys_thread_create(uintptr_t entry, uintptr_t stack, uintptr_t arg);

/** Ends the calling thread. When it is the last thread of its process, the process ends with
 *  status 0, as if it had called exit(0).
 *  returns: never
 *  errors: none */
long sys_thread_exit(void);

/** Waits until thread tid of the caller's process has ended. The kernel keeps no record of
 *  ended threads: a thread that ended before the call gives MOS_ESRCH, as an unknown tid does.
 *  returns: 0 once the thread has ended.
 *  errors: MOS_ESRCH (tid is no running thread of the caller's process),
 *          MOS_EINVAL (tid is the calling thread), MOS_EINTR */
long sys_thread_join(long tid);

// Time.

/** Reads the monotonic clock: nanoseconds since boot.
 *  returns: the time in ns.
 *  errors: none */
long sys_clock_ns(void);

/** Reads the calendar time from the RTC.
 *  returns: 0.
 *  errors: MOS_EIO (the RTC did not answer), MOS_EFAULT */
long sys_wallclock(struct mos_wallclock *out);

/** Reports the TSC frequency the kernel calibrated at boot.
 *  returns: ticks per second.
 *  errors: none */
long sys_tsc_hz(void);

// Console.

/** Writes bytes to a console handle (MOS_STDOUT, MOS_STDERR, MOS_COM2).
 *  returns: the number of bytes written (all of them unless an error cut it short).
 *  errors: MOS_EBADF (not a console handle), MOS_EFAULT */
long sys_write(int handle, const void *buf, size_t len);

/** Reads bytes from a console handle (MOS_STDIN, MOS_COM2), waiting for at least one.
 *  returns: the number of bytes read (>= 1, or 0 when len is 0).
 *  errors: MOS_EBADF (not a console handle), MOS_EINTR, MOS_EFAULT */
long sys_read(int handle, void *buf, size_t len);

// Memory.

/** Maps len bytes of zeroed memory (rounded up to pages) at an address the kernel picks.
 *  With MOS_MAP_LAZY in prot no frame is taken yet: each page gets one at its first touch
 *  (counted in mem_bytes from then on). A frame is reserved for every page at the call, as
 *  with overcommit off, so the touch never runs out of memory; frames_free counts the
 *  reservation as taken until munmap or exit gives untouched pages back.
 *  returns: the address.
 *  errors: MOS_EINVAL (len is 0 or prot has unknown bits), MOS_ENOMEM (also: fewer free
 *  frames than the mapping's pages) */
long sys_mmap_anon(size_t len, int prot);

/** Unmaps pages mapped by mmap_anon or shm_map.
 *  returns: 0.
 *  errors: MOS_EINVAL (addr or len not page-aligned, or not a mapping of the caller) */
long sys_munmap(uintptr_t addr, size_t len);

/** Counts the free physical 4 KiB frames, less those reserved for untouched MOS_MAP_LAZY
 *  pages: what mappings can still have.
 *  returns: the number of free frames.
 *  errors: none */
long sys_frames_free(void);

// IPC.

/** Creates an IPC endpoint; the caller holds the only handle and is its server.
 *  returns: the handle.
 *  errors: MOS_EMFILE, MOS_ENOMEM */
long sys_endpoint_create(void);

/** Sends req to the server of endpoint h and waits for its reply.
 *  returns: 0; *reply holds the server's answer.
 *  errors: MOS_EBADF (h is not an endpoint), MOS_EINVAL (req->len > MOS_MSG_DATA_MAX),
 *          MOS_EPIPE (the server died or closed the endpoint, before or during the call),
 *          MOS_EINTR, MOS_EFAULT */
long sys_ipc_call(int h, const struct mos_msg *req, struct mos_msg *reply);

/** Waits for a call on endpoint h; msg->sender identifies the caller.
 *  returns: a reply token for ipc_reply (> 0).
 *  errors: MOS_EBADF (h is not an endpoint), MOS_EPERM (the caller is not the endpoint's
 *          server), MOS_EINTR, MOS_EFAULT */
long sys_ipc_recv(int h, struct mos_msg *msg);

/** Like ipc_recv, but gives up after timeout_ns (0 polls; MOS_TIMEOUT_FOREVER waits without
 *  limit): what a server needs that also keeps timers.
 *  returns: the reply token, as ipc_recv.
 *  errors: MOS_EBADF, MOS_EPERM (not the endpoint's server), MOS_EFAULT, MOS_ETIMEDOUT,
 *          MOS_EINTR */
long sys_ipc_recv_timeout(int h, struct mos_msg *msg, uint64_t timeout_ns);

/** Answers the call identified by token and wakes its caller.
 *  returns: 0.
 *  errors: MOS_EINVAL (unknown token, or already answered; also reply->len too long),
 *          MOS_ESRCH (the caller died or stopped waiting; the reply is dropped), MOS_EFAULT */
long sys_ipc_reply(long token, const struct mos_msg *reply);

/** ORs bits into the notification word of endpoint h and wakes its waiter.
 *  returns: 0.
 *  errors: MOS_EBADF, MOS_EPIPE (the endpoint's server died or closed it) */
long sys_notify(int h, uint64_t bits);

/** Waits until the notification word of endpoint h is non-zero, then takes and clears it.
 *  timeout_ns 0 polls; MOS_TIMEOUT_FOREVER waits without limit.
 *  returns: 0; *bits holds the bits taken.
 *  errors: MOS_EBADF, MOS_ETIMEDOUT, MOS_EAGAIN (nothing pending and timeout_ns is 0),
 *          MOS_EPIPE (nothing pending and the endpoint's server is gone), MOS_EINTR, MOS_EFAULT */
long sys_notify_wait(int h, uint64_t *bits, uint64_t timeout_ns);

/** Creates a message queue holding up to depth messages.
 *  returns: the handle.
 *  errors: MOS_EINVAL (depth is 0 or above MOS_QUEUE_DEPTH_MAX), MOS_EMFILE, MOS_ENOMEM */
long sys_queue_create(uint32_t depth);

/** Appends a copy of m to queue h, waiting while it is full.
 *  returns: 0.
 *  errors: MOS_EBADF, MOS_EINVAL (m->len too long), MOS_EAGAIN (full and timeout_ns is 0),
 *          MOS_ETIMEDOUT, MOS_EPIPE (the queue was shared and no other process holds it any
 *          more), MOS_EINTR, MOS_EFAULT */
long sys_queue_send(int h, const struct mos_msg *m, uint64_t timeout_ns);

/** Takes the oldest message from queue h, waiting while it is empty.
 *  returns: 0.
 *  errors: MOS_EBADF, MOS_EAGAIN (empty and timeout_ns is 0), MOS_ETIMEDOUT,
 *          MOS_EPIPE (empty, and the queue was shared and no other process holds it any more),
 *          MOS_EINTR, MOS_EFAULT */
long sys_queue_recv(int h, struct mos_msg *m, uint64_t timeout_ns);

/** Creates a shared memory object of len bytes (rounded up to pages), zeroed.
 *  returns: the handle.
 *  errors: MOS_EINVAL (len is 0), MOS_ENOMEM, MOS_EMFILE */
long sys_shm_create(size_t len);

/** Maps shared memory object h into the caller.
 *  returns: the address.
 *  errors: MOS_EBADF, MOS_EINVAL (prot has unknown bits, or is writable and executable),
 *          MOS_ENOMEM */
long sys_shm_map(int h, int prot);

/** Creates a counting semaphore.
 *  returns: the handle.
 *  errors: MOS_EMFILE, MOS_ENOMEM */
long sys_sem_create(uint32_t initial);

/** Decrements semaphore h, waiting while it is 0.
 *  returns: 0.
 *  errors: MOS_EBADF, MOS_EAGAIN (it is 0 and timeout_ns is 0), MOS_ETIMEDOUT, MOS_EINTR */
long sys_sem_wait(int h, uint64_t timeout_ns);

/** Increments semaphore h, waking one waiter.
 *  returns: 0.
 *  errors: MOS_EBADF, MOS_EOVERFLOW (the count is at its maximum) */
long sys_sem_post(int h);

/** Gives process pid a handle to the same object as the caller's handle h.
 *  returns: the handle number in the target process.
 *  errors: MOS_EBADF, MOS_ESRCH (no such process, or it is exiting),
 *          MOS_EMFILE (the target's handle table is full),
 *          MOS_EPERM (the target is the kernel's own process) */
long sys_handle_grant(int h, long pid);

/** Closes handle h of any kind.
 *  returns: 0.
 *  errors: MOS_EBADF */
long sys_handle_close(int h);

// Files (the read-only initrd).

/** Opens a file for reading.
 *  returns: the handle.
 *  errors: MOS_ENOENT, MOS_ENOTDIR (a path component is not a directory),
 *          MOS_EISDIR (path is a directory), MOS_ENAMETOOLONG, MOS_EINVAL (unknown flags),
 *          MOS_EMFILE, MOS_EFAULT */
long sys_open(const char *path, int flags);

/** Reads from an open file at its current position and advances it.
 *  returns: the number of bytes read; 0 at end of file.
 *  errors: MOS_EBADF (h is not a file), MOS_EFAULT */
long sys_fread(int h, void *buf, size_t len);

/** Closes a file handle.
 *  returns: 0.
 *  errors: MOS_EBADF (h is not a file) */
long sys_close(int h);

/** Describes the file or directory at path.
 *  returns: 0.
 *  errors: MOS_ENOENT, MOS_ENOTDIR, MOS_ENAMETOOLONG, MOS_EFAULT */
long sys_stat(const char *path, struct mos_stat *st);

/** Reports entry number index of the directory at path.
 *  returns: 1 when *out holds the entry, 0 when index is past the last entry.
 *  errors: MOS_ENOENT, MOS_ENOTDIR, MOS_ENAMETOOLONG, MOS_EINVAL (index < 0), MOS_EFAULT */
long sys_readdir(const char *path, long index, struct mos_dirent *out);

// System.

/** Turns the machine off (ACPI); under a test harness with isa-debug-exit, QEMU exits
 *  with code.
 *  returns: nothing on success: the machine is off.
 *  errors: MOS_EPERM (the caller may not power off) */
long sys_poweroff(int code);

/** Resets the machine.
 *  returns: nothing on success: the machine restarts.
 *  errors: MOS_EPERM (the caller may not reboot) */
long sys_reboot(void);

/** Copies kernel log bytes starting at *cursor (a byte offset since boot) and advances it.
 *  If the log ring has overwritten bytes at *cursor, copying starts at the oldest byte
 *  kept, so the jump in *cursor shows how much was lost. Start with *cursor = 0.
 *  returns: the number of bytes copied; 0 when nothing is new.
 *  errors: MOS_EFAULT */
long sys_klog_read(uint64_t *cursor, void *buf, size_t len);

// Services. The kernel forwards each of these to the service manager as an IPC message whose
// tag is the call's number, words[0..3] its arguments (pointers as the caller's addresses) and
// sender the caller's pid; the caller blocks until the reply, whose words[0] is the result.
// Results are >= 0, or -ServiceError (service.h), never an errno.

/** Defines a service from a whole definition (TOML or JSON text).
 *  returns: the new service's id.
 *  errors: ConfigurationError (the text does not parse), InvalidConfiguration (a field is
 *          invalid, or a bad pointer), ServiceAlreadyExists, CircularDependency,
 *          DependencyError, ResourceExhausted, ServiceTimeout (no service manager) */
long sys_create_service(const struct service_create_params *params);

/** Starts a service (and its required dependencies) and waits until it is ready.
 *  errors: ServiceNotFound, DependencyError, ServiceFailed, PermissionDenied, ServiceTimeout */
long sys_start_service(service_id_t id);

/** Stops a service gracefully (a stop request, then a kill after its timeout); its required
 *  dependents stop first.
 *  errors: ServiceNotFound, ServiceNotRunning, PermissionDenied, ServiceTimeout */
long sys_stop_service(service_id_t id);

/** Stops and starts a service; dependents restart once it is ready again.
 *  errors: ServiceNotFound, ServiceFailed, PermissionDenied, ServiceTimeout */
long sys_restart_service(service_id_t id);

/** Marks a service to start at boot.
 *  errors: ServiceNotFound, PermissionDenied, ServiceTimeout */
long sys_enable_service(service_id_t id);

/** Stops a service from starting at boot.
 *  errors: ServiceNotFound, PermissionDenied, ServiceTimeout */
long sys_disable_service(service_id_t id);

/** Suspends a running service's processes.
 *  errors: ServiceNotFound, ServiceNotRunning, PermissionDenied, ServiceTimeout */
long sys_pause_service(service_id_t id);

/** Resumes a paused service.
 *  errors: ServiceNotFound, ServiceNotRunning, PermissionDenied, ServiceTimeout */
long sys_resume_service(service_id_t id);

/** Finds services whose name matches pattern (a glob such as web*, or "tag:NAME",
 *  "type:NAME", "re:REGEX", "health:NAME", "meta:KEY=VALUE").
 *  returns: the number of matches (more than max when ids was too small; max ids written).
 *  errors: DiscoveryError (a bad pattern), InvalidConfiguration (a bad pointer), ServiceTimeout */
long sys_discover_services(const char *pattern, service_id_t *ids, size_t max);

/** Looks a service up by its exact name.
 *  returns: its id.
 *  errors: ServiceNotFound, InvalidConfiguration (a bad pointer), ServiceTimeout */
long sys_lookup_service(const char *name);

/** Describes a service.
 *  errors: ServiceNotFound, InvalidConfiguration (a bad pointer), ServiceTimeout */
long sys_service_status(service_id_t id, struct service_status *out);

/** Tells the service manager the calling service is ready (like sd_notify READY=1).
 *  errors: ServiceNotFound (the caller is no service's process), ServiceTimeout */
long sys_notify_ready(void);

/** Subscribes to events of services matching pattern.
 *  returns: a queue handle; each message's tag is an enum service_event bit, words[0] the
 *           service id, words[1] the new state, words[2] a sequence number, and a message with
 *           tag 0 says words[0] events were missed (the subscriber fell behind).
 *  errors: DiscoveryError (a bad pattern), InvalidConfiguration (a bad pointer),
 *          ResourceExhausted, ServiceTimeout */
long sys_subscribe_services(const char *pattern, unsigned events);

/** Sends the service manager a request as JSON text (what the svc command needs beyond the
 *  calls above: list, logs, deps) and takes its JSON answer.
 *  returns: the length of the answer (more than max when it was cut short).
 *  errors: InvalidConfiguration (a bad request or pointer), ServiceTimeout */
long sys_service_query(const char *request_str, char *reply, size_t max);

// The service manager's own calls.

/** Makes endpoint h the one service calls are forwarded to. Only the service manager (the
 *  first program the kernel started) may call it.
 *  errors: MOS_EPERM, MOS_EBADF (h is not an endpoint) */
long sys_svcmgr_register(int h);

/** Copies len bytes from address src in process pid, which must be blocked in a service call.
 *  errors: MOS_EPERM (not the service manager), MOS_ESRCH (pid is not in a service call),
 *          MOS_EFAULT (either address is bad) */
long sys_svcmgr_read(long pid, uintptr_t src, void *buf, size_t len);

/** Copies len bytes to address dst in process pid, which must be blocked in a service call.
 *  errors: MOS_EPERM, MOS_ESRCH, MOS_EFAULT */
long sys_svcmgr_write(long pid, uintptr_t dst, const void *buf, size_t len);

/** Makes an orphan (a process whose parent died) a child of the service manager, so that a
 *  restarted service manager keeps the services its predecessor started.
 *  errors: MOS_EPERM, MOS_ESRCH (no such orphan) */
long sys_svcmgr_adopt(long pid);

/** Keeps up to 64 KiB of the service manager's state in the kernel, across its restarts.
 *  errors: MOS_EPERM, MOS_EINVAL (too long), MOS_ENOMEM, MOS_EFAULT */
long sys_svcmgr_save(const void *buf, size_t len);

/** Reads back what svcmgr_save kept.
 *  returns: its length (0 when nothing was kept).
 *  errors: MOS_EPERM, MOS_EFAULT */
long sys_svcmgr_load(void *buf, size_t max);

