// The HAL of the guest build (see mphalport.h) over libmos: the console on
// MultiOS handles, clocks from the kernel, source files from the initrd, and
// the anonymous memory the GC heap grows into.

#include <mos.h>
#include <stdlib.h>
#include <string.h>

#include "py/builtin.h"
#include "py/gc.h"
#include "py/lexer.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "shared/readline/readline.h"
#include "guest/port.h"

// --- console -----------------------------------------------------------------

// MOS_STDIN/MOS_STDOUT/MOS_STDERR, or MOS_COM2 for all three (python --com2).
int mp_port_in = MOS_STDIN, mp_port_out = MOS_STDOUT, mp_port_err = MOS_STDERR;

// Input read ahead of the interpreter: a read returns what has arrived.
static unsigned char in_buf[256];
static size_t in_pos, in_len;

// With a relay (mp_port_relay_start), a second process reads the console and
// queues what arrives, so the interpreter can look for input while Python
// runs (the kernel's read always waits): Ctrl-C then interrupts the program,
// and other bytes wait in ring for the REPL.
static int relay_queue = -1;
static long relay_pid = -1;
static unsigned char ring[8192];
static size_t ring_head, ring_tail; // head: next write; tail: next read
static uint64_t poll_next, poll_ticks;
unsigned int mp_port_poll_countdown = 64;
static void write_all(int handle, const char *str, size_t len) {
    while (len > 0) {
        long n = mos_write(handle, str, len);
        if (n <= 0) {
            return;
        }
        str += n;
        len -= (size_t)n;
    }
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    write_all(mp_port_out, str, len);
    return len;
}

// Text for a terminal: "\n" becomes "\r\n". The kernel does that on the
// standard handles (COM1 and the screen); COM2 passes bytes unchanged, as the
// raw REPL needs, so text for COM2 is cooked here.
static void write_cooked(int handle, const char *str, size_t len) {
    if (handle != MOS_COM2) {
        write_all(handle, str, len);
        return;
    }
    while (len > 0) {
        const char *nl = memchr(str, '\n', len);
        size_t n = nl ? (size_t)(nl - str) : len;
        write_all(handle, str, n);
        if (nl) {
            write_all(handle, "\r\n", 2);
            n++;
        }
        str += n;
        len -= n;
    }
}

void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len) {
    write_cooked(mp_port_out, str, len);
}

void mp_hal_stdout_tx_str(const char *str) {
    mp_hal_stdout_tx_strn(str, strlen(str));
}

static void stderr_print_strn(void *env, const char *str, size_t len) {
    (void)env;
    write_cooked(mp_port_err, str, len);
}

const mp_print_t mp_stderr_print = {NULL, stderr_print_strn};

// Moves a message from the relay into ring; Ctrl-C while Python runs is not
// input but KeyboardInterrupt.
static void relay_take(const struct mos_msg *m) {
    for (uint32_t i = 0; i < m->len && i < sizeof m->data; i++) {
        int c = m->data[i];
        if (c == mp_interrupt_char) {
            mp_sched_keyboard_interrupt();
        } else if (ring_head - ring_tail < sizeof ring) {
            ring[ring_head++ % sizeof ring] = (unsigned char)c;
        }
    }
}

// Takes what the relay has queued, without waiting, while ring has room.
static void relay_drain(void) {
    struct mos_msg m;
    while (sizeof ring - (ring_head - ring_tail) >= sizeof m.data
           && mos_queue_recv(relay_queue, &m, 0) == 0) {
        relay_take(&m);
    }
}

void mp_port_poll(void) {
    mp_port_poll_countdown = 64;
    if (relay_queue < 0) {
        return;
    }
    uint64_t now = mp_hal_ticks_cpu();
    if (now >= poll_next) {
        poll_next = now + poll_ticks;
        relay_drain();
    }
}

int mp_hal_stdin_rx_chr(void) {
    if (relay_queue >= 0) {
        while (ring_head == ring_tail) {
            struct mos_msg m;
            long r = mos_queue_recv(relay_queue, &m, MOS_TIMEOUT_FOREVER);
            if (r == 0) {
                relay_take(&m);
            } else if (r != -MOS_EINTR) {
                return CHAR_CTRL_D; // the relay is gone
            }
        }
        return ring[ring_tail++ % sizeof ring];
    }
    while (in_pos == in_len) {
        long n = mos_read(mp_port_in, in_buf, sizeof in_buf);
        if (n > 0) {
            in_pos = 0;
            in_len = (size_t)n;
        } else if (n != -MOS_EINTR) {
            // The console is gone: end input as Ctrl-D does.
            return CHAR_CTRL_D;
        }
    }
    return in_buf[in_pos++];
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    // Only input already read ahead is known to be there: the kernel offers no
    // way to look at a console without waiting (the relay's queue is one).
    uintptr_t ret = poll_flags & MP_STREAM_POLL_WR;
    if (relay_queue >= 0) {
        relay_drain();
    }
    if ((poll_flags & MP_STREAM_POLL_RD) && (in_pos < in_len || ring_head != ring_tail)) {
        ret |= MP_STREAM_POLL_RD;
    }
    return ret;
}

bool mp_port_relay_start(void) {
    long q = mos_queue_create(64);
    if (q < 0) {
        return false;
    }
    char handle[4] = {(char)('0' + mp_port_in), 0};
    const char *argv[] = {"python", "--relay", handle, NULL};
    const char *envp[] = {NULL};
    long pid = mos_spawn("/bin/python", argv, envp);
    if (pid < 0 || mos_handle_grant((int)q, pid) < 0) {
        if (pid >= 0) {
            mos_kill(pid);
            mos_wait(pid, NULL);
        }
        mos_handle_close((int)q);
        return false;
    }
    relay_queue = (int)q;
    relay_pid = pid;
    poll_ticks = (uint64_t)mos_tsc_hz() / 100;
    return true;
}

void mp_port_relay_stop(void) {
    if (relay_pid >= 0) {
        mos_kill(relay_pid);
        mos_wait(relay_pid, NULL);
        mos_handle_close(relay_queue);
        relay_pid = relay_queue = -1;
    }
}

// The relay itself (python --relay HANDLE): console bytes to the queue the
// interpreter grants it, until either end is gone. Its handles 0-3 are the
// consoles; the granted queue is the first that answers as one.
int mp_port_relay_main(int console) {
    int q = -1;
    for (int tries = 0; q < 0; tries++) {
        for (int h = MOS_COM2 + 1; h < 64 && q < 0; h++) {
            struct mos_msg m;
            if (mos_queue_recv(h, &m, 0) != -MOS_EBADF) {
                q = h;
            }
        }
        if (q < 0) {
            if (tries == 5000) {
                return 1;
            }
            mos_sleep_ns(1000000);
        }
    }
    for (;;) {
        struct mos_msg m = {0};
        long n = mos_read(console, m.data, sizeof m.data);
        if (n == -MOS_EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        m.len = (uint32_t)n;
        if (mos_queue_send(q, &m, MOS_TIMEOUT_FOREVER) < 0) {
            return 0; // the interpreter is gone
        }
    }
}

uint32_t mp_port_random_seed(void) {
    return (uint32_t)mp_hal_ticks_cpu();
}

// --- time --------------------------------------------------------------------

mp_uint_t mp_hal_ticks_ms(void) {
    return (mp_uint_t)mos_clock_ns() / 1000000;
}

mp_uint_t mp_hal_ticks_us(void) {
    return (mp_uint_t)mos_clock_ns() / 1000;
}

// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

// The wall clock: the RTC's second read once, then the monotonic clock.
uint64_t mp_hal_time_ns(void) {
    static int64_t offset_ns;
    static bool known;
    if (!known) {
        struct mos_wallclock wc;
        if (mos_wallclock(&wc) == 0) {
            int64_t s = days_from_civil(wc.year, wc.month, wc.day) * 86400
                + wc.hour * 3600 + wc.minute * 60 + wc.second;
            offset_ns = s * 1000000000 - mos_clock_ns();
        }
        known = true;
    }
    return (uint64_t)(mos_clock_ns() + offset_ns);
}

// Sleeps in slices so that a scheduled callback or Ctrl-C runs on time.
void mp_hal_delay_us(mp_uint_t us) {
    long end = mos_clock_ns() + (long)us * 1000;
    for (;;) {
        mp_port_poll();
        mp_handle_pending(true);
        long left = end - mos_clock_ns();
        if (left <= 0) {
            return;
        }
        mos_sleep_ns((uint64_t)(left < 10000000 ? left : 10000000));
    }
}

void mp_hal_delay_ms(mp_uint_t ms) {
    mp_hal_delay_us(ms * 1000);
}

void mp_port_wfe(mp_int_t timeout_ms) {
    if (timeout_ms != 0) {
        mos_sleep_ns(1000000);
    }
    mp_port_poll();
}

// --- files -------------------------------------------------------------------

const char *mp_port_abspath(const char *path, char *buf, size_t size) {
    if (path[0] == '/') {
        return path;
    }
    // No working directory but the root.
    size_t n = strlen(path);
    if (n + 2 > size) {
        mp_raise_OSError(MOS_ENAMETOOLONG);
    }
    buf[0] = '/';
    memcpy(buf + 1, path, n + 1);
    return buf;
}

mp_lexer_t *mp_lexer_new_from_file(qstr filename) {
    char buf[MOS_PATH_MAX];
    const char *path = mp_port_abspath(qstr_str(filename), buf, sizeof buf);
    long h = mos_open(path, MOS_O_RDONLY);
    if (h < 0) {
        mp_raise_OSError((int)-h);
    }
    struct mos_stat st;
    size_t hint = mos_stat(path, &st) == 0 ? (size_t)st.size : 0;
    vstr_t src;
    vstr_init(&src, hint + 1);
    for (;;) {
        size_t room = src.alloc - src.len;
        if (room < 512) {
            vstr_hint_size(&src, 4096);
            room = src.alloc - src.len;
        }
        long n = mos_fread((int)h, src.buf + src.len, room);
        if (n <= 0) {
            break;
        }
        src.len += (size_t)n;
    }
    mos_close((int)h);
    // The lexer owns the buffer and frees it when done.
    return mp_lexer_new_from_str_len(filename, src.buf, src.len, src.alloc);
}

mp_import_stat_t mp_import_stat(const char *path) {
    char buf[MOS_PATH_MAX];
    struct mos_stat st;
    if (strlen(path) + 2 > sizeof buf || mos_stat(mp_port_abspath(path, buf, sizeof buf), &st) < 0) {
        return MP_IMPORT_STAT_NO_EXIST;
    }
    return st.type == MOS_FT_DIR ? MP_IMPORT_STAT_DIR : MP_IMPORT_STAT_FILE;
}

// --- the GC heap -------------------------------------------------------------

// Every mapping of the heap, for munmap; the first is gc_init's. The areas are
// lazily backed (MOS_MAP_LAZY): a page takes a frame when the GC first uses
// it, so a process holds what its heap has reached, not the whole area. The
// kernel reserves the frames at the mapping all the same, so running out of
// memory is still a clean MemoryError here (the mapping fails), never a kill
// at a first touch, and mos_frames_free counts the areas as taken.
enum { AREAS_MAX = 64 };
static struct {
    uintptr_t addr;
    size_t len;
} areas[AREAS_MAX];
static size_t heap_total, heap_limit;
static char *heap0_start, *heap0_end;

// Frames left to the rest of the system however much a heap wants.
#define FRAMES_RESERVED 2048

static size_t page_round(size_t n) {
    return (n + 4095) & ~(size_t)4095;
}

void *mp_port_heap_alloc(size_t size) {
    size = page_round(size);
    for (size_t i = 0; i < AREAS_MAX; i++) {
        if (areas[i].addr == 0) {
            long p = mos_mmap_anon(size, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY);
            if (p < 0) {
                return NULL;
            }
            areas[i].addr = (uintptr_t)p;
            areas[i].len = size;
            heap_total += size;
            return (void *)p;
        }
    }
    return NULL;
}

void mp_port_heap_free(void *area) {
    for (size_t i = 0; i < AREAS_MAX; i++) {
        if (areas[i].addr == (uintptr_t)area) {
            mos_munmap(areas[i].addr, areas[i].len);
            heap_total -= areas[i].len;
            areas[i].addr = 0;
            return;
        }
    }
}

size_t gc_get_max_new_split(void) {
    long frames = mos_frames_free();
    size_t avail = frames > FRAMES_RESERVED ? (size_t)(frames - FRAMES_RESERVED) * 4096 : 0;
    size_t left = heap_limit > heap_total ? heap_limit - heap_total : 0;
    for (size_t i = 0; i < AREAS_MAX; i++) {
        if (areas[i].addr == 0) {
            // Whole pages only: mp_port_heap_alloc rounds up.
            size_t n = avail < left ? avail : left;
            return n & ~(size_t)4095;
        }
    }
    return 0;
}

bool mp_port_heap_init(size_t size, size_t limit) {
    heap_limit = limit;
    void *p = mp_port_heap_alloc(size);
    if (p == NULL) {
        return false;
    }
    heap0_start = p;
    heap0_end = (char *)p + page_round(size);
    gc_init(heap0_start, heap0_end);
    return true;
}

void mp_port_heap_reset(void) {
    // Areas added while growing go back; gc_init forgets them.
    for (mp_state_mem_area_t *a = MP_STATE_MEM(area).next; a != NULL;) {
        mp_state_mem_area_t *next = a->next;
        mp_port_heap_free(a);
        a = next;
    }
    MP_STATE_MEM(area).next = NULL;
    gc_init(heap0_start, heap0_end);
}

// --- failures ----------------------------------------------------------------

void nlr_jump_fail(void *val) {
    static const char msg[] = "python: FATAL: an exception escaped every handler\n";
    mos_write(MOS_STDERR, msg, sizeof msg - 1);
    (void)val;
    abort();
}
