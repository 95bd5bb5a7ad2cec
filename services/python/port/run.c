// Running Python programs, shared by the host-native and the guest mains.

#include <stdlib.h>
#include <string.h>

#include "py/compile.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "shared/readline/readline.h"
#include "port/run.h"

// The exit status CPython gives a program that ended by raising exc.
static int exit_status(mp_obj_t exc) {
    if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        mp_obj_print_exception(MICROPY_ERROR_PRINTER, exc);
        return 1;
    }
    mp_obj_t value = mp_obj_exception_get_value(exc);
    mp_int_t status = 0;
    if (value != mp_const_none && !mp_obj_get_int_maybe(value, &status)) {
        // sys.exit("message") prints the message and fails.
        mp_obj_print_helper(MICROPY_ERROR_PRINTER, value, PRINT_STR);
        mp_print_str(MICROPY_ERROR_PRINTER, "\n");
        status = 1;
    }
    return status & 255;
}

size_t mp_port_parse_size(const char *s) {
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    switch (*end) {
        case 'k': case 'K': n <<= 10; end++; break;
        case 'm': case 'M': n <<= 20; end++; break;
        case 'g': case 'G': n <<= 30; end++; break;
    }
    return *end ? 0 : (size_t)n;
}

// Run body(arg), which arms Ctrl-C once it runs Python code; 0, or the exit status of the
// exception that ended it.
static int run_protected(void (*body)(const char *), const char *arg) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        body(arg);
        mp_hal_set_interrupt_char(-1);
        mp_handle_pending(true);
        nlr_pop();
        return 0;
    }
    mp_hal_set_interrupt_char(-1);
    mp_handle_pending(false);
    return exit_status(MP_OBJ_FROM_PTR(nlr.ret_val));
}

static void exec_lexer(mp_lexer_t *lex, qstr name) {
    mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
    mp_obj_t module_fun = mp_compile(&tree, name, false);
    mp_hal_set_interrupt_char(CHAR_CTRL_C);
    mp_call_function_0(module_fun);
}

static void file_body(const char *path) {
    qstr name = qstr_from_str(path);
    mp_lexer_t *lex = mp_lexer_new_from_file(name);
    mp_store_global(MP_QSTR___file__, MP_OBJ_NEW_QSTR(name));
    exec_lexer(lex, name);
}

static void str_body(const char *src) {
    exec_lexer(mp_lexer_new_from_str_len(MP_QSTR__lt_string_gt_, src, strlen(src), 0), MP_QSTR__lt_string_gt_);
}

static void module_body(const char *name) {
    mp_hal_set_interrupt_char(CHAR_CTRL_C);
    mp_import_name(qstr_from_str(name), mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
}

int mp_port_exec_file(const char *path) { return run_protected(file_body, path); }
int mp_port_exec_str(const char *src) { return run_protected(str_body, src); }
int mp_port_exec_module(const char *name) { return run_protected(module_body, name); }
