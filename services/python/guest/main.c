// /bin/python and /sbin/svcmgr: MicroPython in MultiOS user space.
//
//   python [-X heapsize=N[k|m]] [-X heapmax=N[k|m]] [--] [-c CMD | FILE [ARGS...] | --com2]
//
// FILE runs a program from the initrd, -c CMD runs CMD; either ends the
// process with 0, SystemExit's code, or 1 after a traceback on stderr. With
// no argument: the REPL on the console (Ctrl-D ends it). --com2 serves
// MicroPython's REPL on COM2 for pyboard.py, mpremote and run-tests.py:
// raw REPL (Ctrl-A), raw paste, friendly REPL (Ctrl-B); Ctrl-D in either or a
// SystemExit gives a soft reset, a fresh interpreter; the process never ends.
// In both REPLs Ctrl-C interrupts running Python: a relay process (python
// --relay HANDLE, started by the REPL) reads the console meanwhile.
// A program whose frozen modules include `main` (svcmgr) runs that instead, with
// the whole command line in sys.argv ("--" ends the interpreter's options there:
// /sbin/svcmgr -- --bench-scale 1000).
//
// The GC heap starts at heapsize bytes of anonymous memory (default 4 MiB:
// every Python service is a process of its own, and the kernel maps memory
// eagerly) and grows by more areas, at least doubling it, when a collection
// leaves too little, up to heapmax bytes in all (default: as long as the
// kernel keeps 8 MiB free). 100,000 string-keyed dict inserts and lookups:
// 855 ms from a 4 MiB start, 627 ms from 16 MiB (TCG).

#include <mos.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py/cstack.h"
#include "py/frozenmod.h"
#include "py/gc.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "shared/runtime/pyexec.h"
#include "guest/port.h"
#include "port/run.h"

#define HEAP_SIZE_DEFAULT ((size_t)4 << 20)
// Processes start with a 256 KiB stack: leave room for what is above main and
// for the C frames between two stack checks.
#define STACK_USABLE ((size_t)224 << 10)

static _Noreturn void usage(void) {
    fprintf(stderr, "usage: python [-X heapsize=N[k|m]] [-X heapmax=N[k|m]] [-c CMD | FILE [ARGS...] | --com2]\n");
    exit(2);
}

static void init_interpreter(int argc, char **argv) {
    mp_init();
    // sys.path: the program's folder (or "" for the root), frozen modules
    // (both from mp_init), /lib.
    mp_obj_list_append(mp_sys_path, MP_OBJ_NEW_QSTR(qstr_from_str("/lib")));
    for (int i = 0; i < argc; i++) {
        mp_obj_list_append(mp_sys_argv, mp_obj_new_str_from_cstr(argv[i]));
    }
}

static void deinit_interpreter(void) {
    // Finalisers run (open files close) before the heap goes.
    gc_sweep_all();
    mp_deinit();
}

// The REPL on COM2, forever: each soft reset starts a fresh interpreter.
static _Noreturn void serve_com2(void) {
    mp_port_in = mp_port_out = mp_port_err = MOS_COM2;
    mp_port_relay_start();
    for (;;) {
        init_interpreter(0, NULL);
        for (;;) {
            int ret = pyexec_mode_kind == PYEXEC_MODE_RAW_REPL ? pyexec_raw_repl() : pyexec_friendly_repl();
            if (ret & PYEXEC_FORCED_EXIT) {
                break;
            }
        }
        mp_hal_stdout_tx_str("MPY: soft reboot\r\n");
        deinit_interpreter();
        mp_port_heap_reset();
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--relay") == 0) {
        return mp_port_relay_main(atoi(argv[2]));
    }
    mp_cstack_init_with_sp_here(STACK_USABLE);

    size_t heap_size = HEAP_SIZE_DEFAULT, heap_max = SIZE_MAX;
    const char *command = NULL;
    bool com2 = false;
    int argi = 1;
    while (argi < argc && argv[argi][0] == '-' && argv[argi][1] != '\0') {
        const char *opt = argv[argi];
        if (strcmp(opt, "-X") == 0 && argi + 1 < argc) {
            const char *x = argv[argi + 1];
            if (strncmp(x, "heapsize=", 9) == 0) {
                heap_size = mp_port_parse_size(x + 9);
            } else if (strncmp(x, "heapmax=", 8) == 0) {
                heap_max = mp_port_parse_size(x + 8);
            } else {
                usage();
            }
            if (heap_size < 65536 || heap_max < 65536) {
                usage();
            }
            argi += 2;
        } else if (strcmp(opt, "-c") == 0 && argi + 1 < argc) {
            command = argv[argi + 1];
            argi += 1; // sys.argv[0] is "-c", as in CPython
            break;
        } else if (strcmp(opt, "--com2") == 0) {
            com2 = true;
            argi++;
        } else if (strcmp(opt, "--") == 0) {
            argi++; // the end of the interpreter's options: the rest is the program's
            break;
        } else {
            usage();
        }
    }

    if (heap_size > heap_max) {
        heap_size = heap_max; // -X heapmax alone, below the default start
    }
    if (!mp_port_heap_init(heap_size, heap_max)) {
        fprintf(stderr, "python: cannot map a %zu-byte heap\n", heap_size);
        return 1;
    }
    if (com2) {
        serve_com2();
    }

    int status = 0;
    int frozen_kind;
    void *frozen_data;
    if (mp_find_frozen_module("main.py", &frozen_kind, &frozen_data) != MP_IMPORT_STAT_NO_EXIST) {
        init_interpreter(argc, argv);
        status = mp_port_exec_module("main");
    } else if (command != NULL) {
        init_interpreter(argc - argi, argv + argi);
        status = mp_port_exec_str(command);
    } else if (argi < argc) {
        init_interpreter(argc - argi, argv + argi);
        // Imports look beside the program first.
        const char *slash = strrchr(argv[argi], '/');
        if (slash != NULL) {
            mp_obj_t dir = slash == argv[argi] ? MP_OBJ_NEW_QSTR(MP_QSTR__slash_)
                : mp_obj_new_str(argv[argi], slash - argv[argi]);
            mp_obj_list_store(mp_sys_path, MP_OBJ_NEW_SMALL_INT(0), dir);
        }
        status = mp_port_exec_file(argv[argi]);
    } else {
        init_interpreter(0, NULL);
        mp_port_relay_start();
        for (;;) {
            int ret = pyexec_mode_kind == PYEXEC_MODE_RAW_REPL ? pyexec_raw_repl() : pyexec_friendly_repl();
            if (ret & PYEXEC_FORCED_EXIT) {
                break;
            }
        }
        mp_port_relay_stop();
    }
    deinit_interpreter();
    return status;
}
