// The MultiOS interpreter configuration built for the host, for benchmarks
// and tests on the build machine:
//
//   micropython [-X heapsize=N[k|m|g]] [-X ...] [file.py [args...]]
//
// Runs file.py, else a program piped to stdin, else the REPL on the
// terminal. Other -X options are ignored (run-tests.py passes -X emit=...).

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "py/cstack.h"
#include "py/gc.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "shared/runtime/pyexec.h"
#include "port/run.h"

#define DEFAULT_HEAP_SIZE ((size_t)64 << 20)

// The C stack the interpreter may use: the soft limit (at most 8 MiB), less
// room for what is already on it and for C frames between stack checks.
static size_t stack_size(void) {
    size_t size = (size_t)8 << 20;
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < size) {
        size = rl.rlim_cur;
    }
    return size - ((size_t)256 << 10);
}

// Ctrl-C raises KeyboardInterrupt while Python code runs, as in CPython.
static void on_sigint(int sig) {
    (void)sig;
    if (mp_interrupt_char != -1) {
        mp_sched_keyboard_interrupt();
    }
}

static int repl(void) {
    struct termios saved;
    tcgetattr(STDIN_FILENO, &saved);
    // shared/readline edits the line itself and takes Enter as '\r'.
    struct termios raw = saved;
    raw.c_iflag &= ~(ICRNL | IXON);
    raw.c_lflag &= ~(ECHO | ICANON | IEXTEN);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    for (;;) {
        int ret = pyexec_mode_kind == PYEXEC_MODE_RAW_REPL ? pyexec_raw_repl() : pyexec_friendly_repl();
        if (ret & PYEXEC_FORCED_EXIT) {
            break;
        }
    }
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    return 0;
}

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [-X heapsize=N[k|m|g]] [file.py [args...]]\n", prog);
    exit(2);
}

int main(int argc, char **argv) {
    mp_cstack_init_with_sp_here(stack_size());

    size_t heap_size = DEFAULT_HEAP_SIZE;
    int argi = 1;
    while (argi < argc && argv[argi][0] == '-' && argv[argi][1] != '\0') {
        if (strcmp(argv[argi], "-X") != 0 || argi + 1 == argc) {
            usage(argv[0]);
        }
        const char *opt = argv[argi + 1];
        if (strncmp(opt, "heapsize=", 9) == 0 && (heap_size = mp_port_parse_size(opt + 9)) == 0) {
            usage(argv[0]);
        }
        argi += 2;
    }

    char *heap = malloc(heap_size);
    if (heap == NULL) {
        fprintf(stderr, "%s: cannot allocate a %zu-byte heap\n", argv[0], heap_size);
        return 1;
    }
    gc_init(heap, heap + heap_size);
    mp_init();
    signal(SIGINT, on_sigint);

    int status;
    if (argi < argc) {
        // sys.argv is the script and its arguments; imports look beside the script.
        for (int i = argi; i < argc; i++) {
            mp_obj_list_append(mp_sys_argv, mp_obj_new_str_from_cstr(argv[i]));
        }
        const char *slash = strrchr(argv[argi], '/');
        if (slash != NULL) {
            mp_obj_t dir = mp_obj_new_str(argv[argi], slash - argv[argi]);
            mp_obj_list_store(mp_sys_path, MP_OBJ_NEW_SMALL_INT(0), dir);
        }
        status = mp_port_exec_file(argv[argi]);
    } else if (!isatty(STDIN_FILENO)) {
        status = mp_port_exec_file("/dev/stdin");
    } else {
        status = repl();
    }

    mp_deinit();
    free(heap);
    return status;
}
