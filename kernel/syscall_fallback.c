// Every call in the table links even before its subsystem exists: these weak definitions
// answer -MOS_ENOSYS and give way to the real ksys_NAME at link time.
// FIXME: delete this file once every call is implemented (the tests check none answers ENOSYS).
#include <multios/errno.h>

#define MOS_SYSCALL(name, nr, nargs, sig) \
    __attribute__((weak)) long ksys_##name() { return -MOS_ENOSYS; }
#include "modmos_table.h"
