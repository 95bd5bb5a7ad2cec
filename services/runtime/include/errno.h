// errno: the library's last error. System-call wrappers from the C library (<unistd.h>,
// <stdio.h>, malloc) set it; the mos_* stubs in <mos.h> return -MOS_Exxx instead.
#pragma once
#include <multios/errno.h>

extern int errno;

// The numbers are the ABI's, which are Linux's.
#define EPERM MOS_EPERM
#define ENOENT MOS_ENOENT
#define ESRCH MOS_ESRCH
#define EINTR MOS_EINTR
#define EIO MOS_EIO
#define E2BIG MOS_E2BIG
#define ENOEXEC MOS_ENOEXEC
#define EBADF MOS_EBADF
#define ECHILD MOS_ECHILD
#define EAGAIN MOS_EAGAIN
#define EWOULDBLOCK MOS_EAGAIN
#define ENOMEM MOS_ENOMEM
#define EFAULT MOS_EFAULT
#define EBUSY MOS_EBUSY
#define EEXIST MOS_EEXIST
#define ENOTDIR MOS_ENOTDIR
#define EISDIR MOS_EISDIR
#define EINVAL MOS_EINVAL
#define ENFILE MOS_ENFILE
#define EMFILE MOS_EMFILE
#define ENOSPC MOS_ENOSPC
#define EPIPE MOS_EPIPE
#define EDOM 33
#define ERANGE MOS_ERANGE
#define ENAMETOOLONG MOS_ENAMETOOLONG
#define ENOSYS MOS_ENOSYS
#define EOVERFLOW MOS_EOVERFLOW
#define ENOTSUP MOS_ENOTSUP
#define EOPNOTSUPP MOS_ENOTSUP
#define ETIMEDOUT MOS_ETIMEDOUT
#define ECONNREFUSED MOS_ECONNREFUSED
