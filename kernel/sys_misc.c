// Memory, power and kernel-log system calls.
#include <hal/hal.h>
#include <hal/power.h>
#include <kernel/ipc.h>
#include <kernel/klog.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <multios/errno.h>
#include <multios/qemu_exit.h>
#include <multios/syscalls.h>
#include <syscall_dispatch.h>

enum { MMAP_MAX = 1ull << 32 };

long ksys_mmap_anon(size_t len, int prot) {
    if (len == 0 || len > MMAP_MAX || (prot & ~(MOS_PROT_READ | MOS_PROT_WRITE | MOS_PROT_EXEC | MOS_MAP_LAZY)))
        return -MOS_EINVAL;
    if ((prot & MOS_PROT_WRITE) && (prot & MOS_PROT_EXEC))
        return -MOS_EINVAL;
    struct vm_space *vs = proc_current()->vm;
    len = PAGE_ROUND_UP(len);
    uint64_t va = vm_find_free(vs, len);
    if (!va)
        return -MOS_ENOMEM;
    unsigned flags = VM_USER | VM_READ | (prot & MOS_PROT_WRITE ? VM_WRITE : 0) | (prot & MOS_PROT_EXEC ? VM_EXEC : 0) |
                     (prot & MOS_MAP_LAZY ? VM_LAZY : 0);
    long r = vm_alloc(vs, va, len, flags);
    return r < 0 ? r : (long)va;
}

long ksys_munmap(uintptr_t addr, size_t len) {
    // Only the mmap area: the program's image and its stack are not the caller's to unmap.
    if (addr & (PAGE_SIZE - 1) || len == 0 || addr < USER_MMAP_BASE || len > USER_STACK_LIMIT - addr)
        return -MOS_EINVAL;
    long r = vm_unmap(proc_current()->vm, addr, PAGE_ROUND_UP(len));
    if (r == 0) // shared memory mapped there lets go of its frames once no mapping is left
        ipc_vm_unmapped(proc_current(), addr, PAGE_ROUND_UP(len));
    return r;
}

long ksys_frames_free(void) { return (long)pmm_free_frames(); }

long ksys_poweroff(int code) {
    klog("kernel: power off (code %d)\n", code);
    hal_debug_exit(code < 0 || code > MOS_QEMU_EXIT_STATUS_MAX ? MOS_QEMU_EXIT_ABNORMAL : (unsigned)code);
    hal_poweroff();
    hal_halt_forever();
}

long ksys_reboot(void) {
    klog("kernel: reboot\n");
    hal_reboot();
}

long ksys_klog_read(uint64_t *cursor, void *buf, size_t len) {
    uint64_t c;
    if (copy_from_user(&c, cursor, sizeof c) < 0 || !user_range_ok((uint64_t)buf, len))
        return -MOS_EFAULT;
    char chunk[512];
    size_t done = 0;
    while (done < len) {
        size_t n = klog_copy(&c, chunk, len - done < sizeof chunk ? len - done : sizeof chunk);
        if (n == 0)
            break;
        if (copy_to_user((char *)buf + done, chunk, n) < 0)
            return -MOS_EFAULT;
        done += n;
    }
    if (copy_to_user(cursor, &c, sizeof c) < 0)
        return -MOS_EFAULT;
    return (long)done;
}
