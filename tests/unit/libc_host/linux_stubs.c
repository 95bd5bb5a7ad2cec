// The mos_* calls libmos uses, answered by Linux system calls, so that libmos's C library
// runs as a static Linux program for tests/unit/test_libc_host.py. Linux takes arguments in
// the same registers and returns -errno with the same numbers, so mos_syscall6 (crt0.S)
// issues them unchanged.
#include <mos.h>

enum { L_READ = 0, L_WRITE = 1, L_OPEN = 2, L_CLOSE = 3, L_MMAP = 9, L_MUNMAP = 11, L_NANOSLEEP = 35,
       L_GETPID = 39, L_CLOCK_GETTIME = 228, L_EXIT_GROUP = 231 };

long mos_write(int h, const void *buf, size_t len) { return mos_syscall6(L_WRITE, h, (long)buf, (long)len, 0, 0, 0); }
long mos_read(int h, void *buf, size_t len) { return mos_syscall6(L_READ, h, (long)buf, (long)len, 0, 0, 0); }
long mos_fread(int h, void *buf, size_t len) { return mos_read(h, buf, len); }
long mos_open(const char *path, int flags) { return mos_syscall6(L_OPEN, (long)path, flags, 0, 0, 0, 0); }
long mos_close(int h) { return mos_syscall6(L_CLOSE, h, 0, 0, 0, 0, 0); }
long mos_getpid(void) { return mos_syscall6(L_GETPID, 0, 0, 0, 0, 0, 0); }
long mos_wallclock(struct mos_wallclock *out) { (void)out; return -MOS_EIO; }
long mos_spawn(const char *path, const char *const *argv, const char *const *envp) {
    (void)path, (void)argv, (void)envp;
    return -MOS_ENOSYS;
}

long mos_mmap_anon(size_t len, int prot) {
    if (len == 0)
        return -MOS_EINVAL;
    return mos_syscall6(L_MMAP, 0, (long)len, prot, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
}

long mos_munmap(uintptr_t addr, size_t len) { return mos_syscall6(L_MUNMAP, (long)addr, (long)len, 0, 0, 0, 0); }

long mos_clock_ns(void) {
    long ts[2];
    mos_syscall6(L_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, (long)ts, 0, 0, 0, 0);
    return ts[0] * 1000000000L + ts[1];
}

long mos_sleep_ns(uint64_t ns) {
    long ts[2] = {(long)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return mos_syscall6(L_NANOSLEEP, (long)ts, 0, 0, 0, 0, 0);
}

long mos_exit(int status) {
    for (;;)
        mos_syscall6(L_EXIT_GROUP, status, 0, 0, 0, 0, 0);
}
