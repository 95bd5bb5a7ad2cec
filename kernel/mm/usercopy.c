// Every pointer and length from user space comes through here: the range is checked to lie in
// the user half, then the HAL's fault-tolerant routines copy (a fault on an unmapped or
// protected user page comes back as -1 through the page fault handler's fix-up).
#include <hal/mmu.h>
#include <kernel/mm.h>
#include <multios/errno.h>

bool user_range_ok(uint64_t addr, size_t len) { return addr <= USER_TOP && len <= USER_TOP - addr; }

long copy_from_user(void *dst, const void *usrc, size_t n) {
    if (!n)
        return 0;
    if (!user_range_ok((uint64_t)usrc, n) || hal_copy_from_user(dst, usrc, n) < 0)
        return -MOS_EFAULT;
    return 0;
}

long copy_to_user(void *udst, const void *src, size_t n) {
    if (!n)
        return 0;
    if (!user_range_ok((uint64_t)udst, n) || hal_copy_to_user(udst, src, n) < 0)
        return -MOS_EFAULT;
    return 0;
}

long strncpy_from_user(char *dst, const char *usrc, size_t max) {
    uint64_t addr = (uint64_t)usrc;
    if (!max)
        return -MOS_ENAMETOOLONG;
    if (addr >= USER_TOP)
        return -MOS_EFAULT;
    // Look no further than the end of user space: a string running into it is a bad pointer.
    uint64_t limit = max < USER_TOP - addr ? max : USER_TOP - addr;
    long len = hal_strnlen_user(usrc, limit);
    if (len < 0)
        return -MOS_EFAULT;
    if ((uint64_t)len == limit)
        return limit < max ? -MOS_EFAULT : -MOS_ENAMETOOLONG;
    if (hal_copy_from_user(dst, usrc, (uint64_t)len) < 0)
        return -MOS_EFAULT;
    // Another thread may have changed the string since it was measured: terminate it here.
    dst[len] = 0;
    return len;
}
