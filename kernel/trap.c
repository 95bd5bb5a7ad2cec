// CPU exceptions: a touch of a lazy page that has no frame yet gets one (demand paging); any
// other fault in ring 3 ends that process with the reason recorded; a fault in a user-memory
// copy returns an error to the system call; anything else in ring 0 is a panic.
#include <hal/hal.h>
#include <hal/context.h>
#include <hal/irq.h>
#include <hal/mmu.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <kernel/trap.h>
#include <syscall_dispatch.h>
#include <multios/syscalls.h>

enum { VEC_DF = 8, VEC_PF = 14 };

// A page fault on a missing page, from ring 3 or from a user-memory copy, inside a lazy region
// of the current process: true when the page now has its frame and the access can be retried.
// The frame was reserved when the region was mapped, so this cannot run out of memory.
static bool demand_page(struct hal_trapframe *tf) {
    struct process *p = proc_current();
    unsigned kind = hal_pf_kind(tf);
    if (!p || !p->vm || (kind & HAL_PF_PRESENT) || !(hal_trap_from_user(tf) || hal_in_usercopy(tf->rip)))
        return false;
    unsigned access = kind & HAL_PF_EXEC ? VM_EXEC : kind & HAL_PF_WRITE ? VM_WRITE : VM_READ;
    return vm_fault(p->vm, hal_read_cr2(), access) == 0;
}

static void on_trap(struct hal_trapframe *tf) {
    if (tf->vector == VEC_PF && demand_page(tf))
        return;
    if (tf->vector == VEC_PF && !hal_trap_from_user(tf) && hal_usercopy_fixup(tf))
        return;
    struct process *p = proc_current();
    if (hal_trap_from_user(tf) && p) {
        uint64_t cr2 = tf->vector == VEC_PF ? hal_read_cr2() : 0;
        p->fault = MOS_STATUS_FAULT | (int)tf->vector;
        p->fault_addr = tf->vector == VEC_PF ? cr2 : tf->rip;
        klog("kernel: process %ld (%s) killed: %s (vector %lu) error=%#lx rip=%#lx cr2=%#lx\n", p->pid, p->name,
             hal_trap_name(tf->vector), tf->vector, tf->error, tf->rip, cr2);
        hal_irq_enable();
        proc_exit_current(MOS_STATUS_FAULT | (int)tf->vector);
    }
    if (tf->vector == VEC_DF && kstack_is_guard(hal_read_cr2()))
        klog("kernel: the double fault is a kernel stack overflow (cr2 in a guard page)\n");
    panic("%s (vector %lu) error=%#lx rip=%#lx cr2=%#lx\n"
          "  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n"
          "  rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx\n"
          "  r8 =%016lx r9 =%016lx r10=%016lx r11=%016lx\n"
          "  r12=%016lx r13=%016lx r14=%016lx r15=%016lx\n"
          "  cs=%#lx ss=%#lx rflags=%#lx",
          hal_trap_name(tf->vector), tf->vector, tf->error, tf->rip, hal_read_cr2(), tf->rax, tf->rbx, tf->rcx,
          tf->rdx, tf->rsi, tf->rdi, tf->rbp, tf->rsp, tf->r8, tf->r9, tf->r10, tf->r11, tf->r12, tf->r13, tf->r14,
          tf->r15, tf->cs, tf->ss, tf->rflags);
}

static void on_syscall(struct hal_trapframe *tf) {
    hal_irq_enable();
    tf->rax = (uint64_t)syscall_dispatch(tf->rax, tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9);
    sched_preempt_point();
    // After the preemption point: another thread of the process may have ended it meanwhile.
    struct process *p = proc_current();
    if (p && p->killed)
        proc_exit_current(MOS_STATUS_KILLED);
}

void trap_init(void) {
    hal_trap_set_handler(on_trap);
    hal_syscall_init(on_syscall);
}
