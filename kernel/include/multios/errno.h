// Error codes of the MultiOS system-call ABI.
//
// A system call returns a long: >= 0 is its result, -MOS_Exxx is an error. Numbers and
// names are Linux's (with a MOS_ prefix), so errors read the same in strace-trained eyes.
// tools/gensyscalls.py derives the Python constants (mos.EPERM, mos.ERRNO_NAMES) and the
// reference page from this enum; the comment on each line is its meaning.
//
// IPC peers: a caller whose server is gone (it died or closed the endpoint, before or
// during the call) gets MOS_EPIPE, whichever side of the exchange it was on. MOS_ECONNREFUSED
// means nobody was ever there to take the call: no server has the endpoint open for
// receiving, or a service request found no service manager running.
#pragma once

enum mos_errno {
    MOS_EPERM = 1,          // operation not permitted
    MOS_ENOENT = 2,         // no such file or directory
    MOS_ESRCH = 3,          // no such process
    MOS_EINTR = 4,          // interrupted: the wait was cut short (process suspended or killed)
    MOS_EIO = 5,            // input/output error
    MOS_E2BIG = 7,          // argument list too long
    MOS_ENOEXEC = 8,        // not an executable (bad ELF)
    MOS_EBADF = 9,          // bad handle: not open, or the wrong kind of handle
    MOS_ECHILD = 10,        // no such child process
    MOS_EAGAIN = 11,        // resource temporarily unavailable: try again
    MOS_ENOMEM = 12,        // out of memory (or over the process's memory quota)
    MOS_EFAULT = 14,        // bad address: a pointer argument is not valid user memory
    MOS_EBUSY = 16,         // resource busy
    MOS_EEXIST = 17,        // already exists
    MOS_ENOTDIR = 20,       // not a directory
    MOS_EISDIR = 21,        // is a directory
    MOS_EINVAL = 22,        // invalid argument
    MOS_ENFILE = 23,        // too many objects in the system
    MOS_EMFILE = 24,        // the process's handle table is full
    MOS_ENOSPC = 28,        // no space left
    MOS_EPIPE = 32,         // the other end is gone: the server died or closed the endpoint
    MOS_ERANGE = 34,        // result out of range
    MOS_ENAMETOOLONG = 36,  // path or name too long
    MOS_ENOSYS = 38,        // no such system call
    MOS_EOVERFLOW = 75,     // value too large (a counter would overflow)
    MOS_ENOTSUP = 95,       // operation not supported
    MOS_ETIMEDOUT = 110,    // timed out
    MOS_ECONNREFUSED = 111, // nobody is serving the endpoint or service
};
