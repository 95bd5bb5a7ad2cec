// Error codes for the gensyscalls golden test.
#pragma once

enum mos_errno {
    MOS_ENOENT = 2, // no such file or directory
    MOS_EBADF = 9,  // bad handle
    MOS_EFAULT = 14, // bad address
    MOS_EINVAL = 22, // invalid argument
    MOS_ENOSYS = 38, // no such system call
};
