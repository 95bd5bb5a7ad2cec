// The HAL of the host-native build, on POSIX: console on fds 0-2, clocks,
// and source files for the runner and for import.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "py/builtin.h"
#include "py/gc.h"
#include "py/lexer.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "shared/readline/readline.h"

static void write_all(int fd, const char *str, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, str, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        str += n;
        len -= n;
    }
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    write_all(STDOUT_FILENO, str, len);
    return len;
}

// Host terminals and pipes want plain "\n"; only the guest's serial console
// cooks newlines (shared/runtime/stdout_helpers.c).
void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len) {
    write_all(STDOUT_FILENO, str, len);
}

void mp_hal_stdout_tx_str(const char *str) {
    write_all(STDOUT_FILENO, str, strlen(str));
}

static void stderr_print_strn(void *env, const char *str, size_t len) {
    (void)env;
    write_all(STDERR_FILENO, str, len);
}

const mp_print_t mp_stderr_print = {NULL, stderr_print_strn};

int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        unsigned char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 1) {
            return c;
        }
        if (n < 0 && errno == EINTR) {
            mp_handle_pending(true);
            continue;
        }
        // End of input ends the REPL as Ctrl-D does.
        return CHAR_CTRL_D;
    }
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    struct pollfd fds[2] = {
        {.fd = STDIN_FILENO, .events = POLLIN},
        {.fd = STDOUT_FILENO, .events = POLLOUT},
    };
    uintptr_t ret = 0;
    if (poll(fds, 2, 0) > 0) {
        if ((poll_flags & MP_STREAM_POLL_RD) && (fds[0].revents & POLLIN)) {
            ret |= MP_STREAM_POLL_RD;
        }
        if ((poll_flags & MP_STREAM_POLL_WR) && (fds[1].revents & POLLOUT)) {
            ret |= MP_STREAM_POLL_WR;
        }
    }
    return ret;
}

static uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

mp_uint_t mp_hal_ticks_ms(void) {
    return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

mp_uint_t mp_hal_ticks_us(void) {
    return clock_ns(CLOCK_MONOTONIC) / 1000;
}

uint64_t mp_hal_time_ns(void) {
    return clock_ns(CLOCK_REALTIME);
}

void mp_hal_delay_us(mp_uint_t us) {
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        mp_handle_pending(true);
    }
}

void mp_hal_delay_ms(mp_uint_t ms) {
    mp_hal_delay_us(ms * 1000);
}

// Ctrl-C arrives as SIGINT on the host: nothing to look for.
unsigned int mp_port_poll_countdown = 1;

void mp_port_poll(void) {
    mp_port_poll_countdown = 1u << 30;
}

uint32_t mp_port_random_seed(void) {
    return (uint32_t)mp_hal_ticks_cpu();
}

void mp_port_wfe(mp_int_t timeout_ms) {
    mp_hal_delay_us(timeout_ms >= 0 && timeout_ms < 1 ? 0 : 1000);
}

// Heap areas added as the heap grows (MICROPY_GC_SPLIT_HEAP_AUTO), up to
// 1 GiB more than main's first area.
static size_t heap_added;
#define HEAP_GROWTH_MAX ((size_t)1 << 30)

void *mp_port_heap_alloc(size_t size) {
    void *p = malloc(size + sizeof(size_t));
    if (p == NULL) {
        return NULL;
    }
    *(size_t *)p = size;
    heap_added += size;
    return (size_t *)p + 1;
}

void mp_port_heap_free(void *area) {
    size_t *p = (size_t *)area - 1;
    heap_added -= *p;
    free(p);
}

size_t gc_get_max_new_split(void) {
    return HEAP_GROWTH_MAX - heap_added;
}

// Reads the whole file, which may be a pipe such as /dev/stdin.
mp_lexer_t *mp_lexer_new_from_file(qstr filename) {
    int fd = open(qstr_str(filename), O_RDONLY);
    if (fd < 0) {
        mp_raise_OSError(MP_ENOENT);
    }
    enum { CHUNK = 4096 };
    vstr_t src;
    vstr_init(&src, CHUNK);
    for (;;) {
        char *p = vstr_add_len(&src, CHUNK);
        ssize_t n = read(fd, p, CHUNK);
        vstr_cut_tail_bytes(&src, CHUNK - (n > 0 ? n : 0));
        if (n == 0 || (n < 0 && errno != EINTR)) {
            break;
        }
    }
    close(fd);
    // The lexer owns the buffer and frees it when done.
    return mp_lexer_new_from_str_len(filename, src.buf, src.len, src.alloc);
}

mp_import_stat_t mp_import_stat(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return MP_IMPORT_STAT_DIR;
        }
        if (S_ISREG(st.st_mode)) {
            return MP_IMPORT_STAT_FILE;
        }
    }
    return MP_IMPORT_STAT_NO_EXIST;
}

// FIXME: open() has no file objects yet, here or in the guest.
mp_obj_t mp_builtin_open(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    (void)n_args;
    (void)args;
    (void)kwargs;
    mp_raise_OSError(MP_ENOENT);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mp_builtin_open_obj, 1, mp_builtin_open);

void nlr_jump_fail(void *val) {
    fprintf(stderr, "FATAL: uncaught NLR %p\n", val);
    exit(1);
}
