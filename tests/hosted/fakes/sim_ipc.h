// The simulation's interface to the tests (also fed to cffi's cdef: plain declarations only).
#pragma once

enum sim_op_kind {
    SIM_SYSCALL = 0,  // syscall_dispatch(nr, a[0..5])
    SIM_EXIT = 1,     // process teardown: ipc_process_exit, then every handle left is closed
    SIM_KCALL = 2,    // ipc_kcall(object behind handle a[0], (struct mos_msg *)a[1])
    SIM_UNMAPPED = 3, // ipc_vm_unmapped(proc, a[0], a[1])
};

struct sim_op {
    int kind;
    unsigned long nr;
    unsigned long a[6];
};

struct sim_stats {
    long switches;           // baton passes to simulated threads
    long waits;              // wq_wait calls that blocked
    long violations;         // wq_wait with interrupts on, or from the test's thread
    long irq_left_off;       // system calls that returned with interrupts off
    long panics;
    long kmalloc_live;       // kmalloc/kzalloc minus kfree
    long frames_allocated;
    long frames_freed;
    long bad_frees;          // pmm_free of a frame not allocated (double free)
    unsigned long frames_in_use;
    unsigned long copied_in;  // bytes asked of copy_from_user
    unsigned long copied_out; // bytes asked of copy_to_user
};

struct process *sim_proc_new(long pid);
void sim_proc_set_vm(long pid, int present);
int sim_spawn(long pid, const struct sim_op *op);
int sim_run(void);
int sim_step_thread(int id);
void sim_advance(unsigned long ns);
unsigned long sim_clock(void);
int sim_thread_done(int id, long *result);
int sim_thread_state(int id);
void sim_kill(long pid);
int sim_handle_count(long pid, int h);
int sim_handle_type(long pid, int h);
int sim_install_console(long pid);
void sim_set_frames(unsigned long cap);
void sim_set_map_fail(int fail);
unsigned long sim_mapped_frame(long pid, unsigned long va, unsigned long index, unsigned *flags);
void sim_set_fault(const void *lo, unsigned long len);
void sim_stats(struct sim_stats *out);
void sim_reset(void);
