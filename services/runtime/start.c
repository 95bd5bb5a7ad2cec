// Process start and end: __libmos_start (called by crt0), exit, atexit, abort, environ.
#include <errno.h>
#include <mos.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int errno;
char **environ;

enum { ATEXIT_MAX = 32 };
static void (*atexit_fns[ATEXIT_MAX])(void);
static int atexit_count;

extern void (*__init_array_start[])(void) __attribute__((weak));
extern void (*__init_array_end[])(void) __attribute__((weak));

int main(int argc, char **argv, char **envp);

_Noreturn void __libmos_start(int argc, char **argv, char **envp) {
    environ = envp;
    libmos_stdio_init();
    for (void (**f)(void) = __init_array_start; f < __init_array_end; f++)
        (*f)();
    exit(main(argc, argv, envp));
}

int atexit(void (*fn)(void)) {
    if (atexit_count == ATEXIT_MAX)
        return -1;
    atexit_fns[atexit_count++] = fn;
    return 0;
}

_Noreturn void exit(int status) {
    while (atexit_count > 0)
        atexit_fns[--atexit_count]();
    libmos_stdio_flush_all();
    mos_exit(status);
}

_Noreturn void _Exit(int status) { mos_exit(status); }

_Noreturn void _exit(int status) { mos_exit(status); }

_Noreturn void abort(void) {
    libmos_stdio_flush_all();
    static const char msg[] = "abort() called\n";
    mos_write(MOS_STDERR, msg, sizeof msg - 1);
    // An invalid opcode ends the process with MOS_STATUS_FAULT | 6, as a crash should look.
    __builtin_trap();
}

_Noreturn void __libmos_assert_fail(const char *expr, const char *file, int line, const char *func) {
    fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, expr);
    abort();
}

char *getenv(const char *name) {
    size_t n = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

long mos_spawnv(const char *path, const char *const *argv) {
    static const char *const empty[] = {NULL};
    return mos_spawn(path, argv, environ ? (const char *const *)environ : empty);
}

long libmos_check(long r) {
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}
