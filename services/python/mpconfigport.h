// MicroPython configuration of the MultiOS port: /bin/python and svcmgr.
// The guest build and the host-native build (host/) both use exactly this
// file; only the HAL behind mphalport.h differs.

#include <stddef.h>
#include <stdint.h>
#include <alloca.h>

// Start from the unix "standard" feature set and pin everything MultiOS relies
// on, so a change of MicroPython's defaults cannot silently drop a module.
#define MICROPY_CONFIG_ROM_LEVEL                (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Core.
#define MICROPY_ENABLE_COMPILER                 (1)
#define MICROPY_ENABLE_GC                       (1)
// The heap grows: when a collection frees too little, gc_alloc adds an area
// from the port (mp_port_heap_alloc: anonymous memory in the guest), at least
// doubling the total, and frees areas that a sweep leaves empty.
#define MICROPY_GC_SPLIT_HEAP                   (1)
#define MICROPY_GC_SPLIT_HEAP_AUTO              (1)
#define MP_PLAT_ALLOC_HEAP(size)                mp_port_heap_alloc(size)
#define MP_PLAT_FREE_HEAP(ptr)                  mp_port_heap_free(ptr)
// Free-space hints per allocation size up to 32 blocks (512 bytes; patches/
// micropython/0002): a larger allocation scans from the lowest hole that could
// hold it, over every smaller hole a collection left in the live heap. With
// the default 8 (128 bytes), a list of 100 items built after a collection took
// 84 us beside 100,000 service definitions (host build), 36 us with 32.
#define MICROPY_GC_FREE_HINTS                   (32)
#define MICROPY_ENABLE_FINALISER                (1)
#define MICROPY_STACK_CHECK                     (1)
#define MICROPY_HELPER_REPL                     (1)
#define MICROPY_KBD_EXCEPTION                   (1)
#define MICROPY_ENABLE_SCHEDULER                (1)
#define MICROPY_ERROR_REPORTING                 (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_WARNINGS                        (1)
#define MICROPY_LONGINT_IMPL                    (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL                      (MICROPY_FLOAT_IMPL_DOUBLE)
// Native _Float16 pulls in libgcc's half-float helpers.
#define MICROPY_FLOAT_USE_NATIVE_FLT16          (0)
// Full 32-bit string hashes (patches/micropython/0001): with the default 16
// bits a dict of 100,000 string keys is ~900x slower than in CPython.
#define MICROPY_QSTR_BYTES_IN_HASH              (4)
#define MICROPY_OPT_COMPUTED_GOTO               (1)
// Bytecode with per-module qstr tables, the format of frozen modules (svcmgr).
#define MICROPY_PERSISTENT_CODE_LOAD            (1)
// Frozen bytecode: asyncio in every build, services/svcmgr in /sbin/svcmgr
// (manifests in this folder, compiled by mpy-cross from the patched tree).
#define MICROPY_MODULE_FROZEN_MPY               (1)
#define MICROPY_QSTR_EXTRA_POOL                 mp_qstr_frozen_const_pool
// Exceptions keep their message and traceback when the heap is full or locked.
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF  (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE    (256)
// Error numbers are MicroPython's own, whatever the libc's errno.h says.
#define MICROPY_USE_INTERNAL_ERRNO              (1)
#define MICROPY_USE_INTERNAL_PRINTF             (0)
#define MICROPY_PY___FILE__                     (1)
// Tracebacks and warnings go to stderr, as in CPython; each HAL provides it.
extern const struct _mp_print_t mp_stderr_print;
#define MICROPY_ERROR_PRINTER                   (&mp_stderr_print)

// Language details beyond the EXTRA_FEATURES level, for CPython parity (each
// is a test of MicroPython's suite that runs rather than skips).
#define MICROPY_PY_FUNCTION_ATTRS_CODE          (1)
#define MICROPY_PY_BUILTINS_MEMORYVIEW_ITEMSIZE (1)
#define MICROPY_PY_BUILTINS_RANGE_BINOP         (1)
#define MICROPY_PY_ALL_INPLACE_SPECIAL_METHODS  (1)
#define MICROPY_PY_MICROPYTHON_HEAP_LOCKED      (1)
#define MICROPY_PY_IO_BUFFEREDWRITER            (1)
#define MICROPY_PY_SYS_GETSIZEOF                (1)
#define MICROPY_PY_SYS_TRACEBACKLIMIT           (1)

// Modules.
#define MICROPY_PY_SYS                          (1)
#define MICROPY_PY_SYS_PLATFORM                 "multios"
#define MICROPY_PY_SYS_PATH_ARGV_DEFAULTS       (1)
#define MICROPY_PY_SYS_EXIT                     (1)
#define MICROPY_PY_SYS_STDFILES                 (1)
#define MICROPY_PY_SYS_STDIO_BUFFER             (1)
#define MICROPY_PY_SYS_EXC_INFO                 (1)
#define MICROPY_PY_GC                           (1)
#define MICROPY_PY_MICROPYTHON                  (1)
#define MICROPY_PY_MATH                         (1)
#define MICROPY_PY_CMATH                        (1)
#define MICROPY_PY_JSON                         (1)
#define MICROPY_PY_RE                           (1)
#define MICROPY_PY_RE_MATCH_GROUPS              (1)
#define MICROPY_PY_RE_MATCH_SPAN_START_END      (1)
#define MICROPY_PY_STRUCT                       (1)
#define MICROPY_PY_COLLECTIONS                  (1)
#define MICROPY_PY_COLLECTIONS_DEQUE            (1)
#define MICROPY_PY_COLLECTIONS_ORDEREDDICT      (1)
#define MICROPY_PY_COLLECTIONS_NAMEDTUPLE__ASDICT (1)
#define MICROPY_PY_HEAPQ                        (1)
#define MICROPY_PY_RANDOM                       (1)
#define MICROPY_PY_RANDOM_EXTRA_FUNCS           (1)
// A different sequence each run unless random.seed() is called.
#define MICROPY_PY_RANDOM_SEED_INIT_FUNC        (mp_port_random_seed())
#define MICROPY_PY_BINASCII                     (1)
#define MICROPY_PY_BINASCII_CRC32               (1)
#define MICROPY_PY_HASHLIB                      (1)
#define MICROPY_PY_HASHLIB_SHA256               (1)
#define MICROPY_PY_IO                           (1)
#define MICROPY_PY_TIME                         (1)
#define MICROPY_PY_TIME_TIME_TIME_NS            (1)
#define MICROPY_PY_TIME_INCLUDEFILE             "port/modtime_port.h"
#define MICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME  (1)
// time.time() counts from 1970, as in CPython (the HAL's wall clock is UTC).
#define MICROPY_EPOCH_IS_1970                   (1)
#define MICROPY_PY_ERRNO                        (1)
#define MICROPY_PY_ARRAY                        (1)
// The C half of asyncio; the Python package (extmod/asyncio) is frozen later.
#define MICROPY_PY_ASYNCIO                      (1)
#define MICROPY_PY_UCTYPES                      (1)
#define MICROPY_PY_DEFLATE                      (1)
#define MICROPY_PY_DEFLATE_COMPRESS             (1)

// select.poll/select.select over stream objects (files, sys.stdin/stdout, ...);
// waits sleep through MICROPY_INTERNAL_WFE. asyncio runs on it.
#define MICROPY_PY_SELECT                       (1)
#define MICROPY_PY_SELECT_SELECT                (1)
// Not extmod's os (it needs the VFS): the guest has its own os module over the
// initrd (guest/modos.c) and an open() for its files (guest/file.c).
#define MICROPY_PY_OS                           (0)
#define MICROPY_PY_PLATFORM                     (0)
#define MICROPY_PY_FRAMEBUF                     (0)
#define MICROPY_PY_MACHINE                      (0)
#define MICROPY_PY_THREAD                       (0)
#define MICROPY_VFS                             (0)

// The native emitters need executable heap memory, which user space lacks.
#define MICROPY_EMIT_X64                        (0)

#define MICROPY_HW_BOARD_NAME                   "MultiOS"
#define MICROPY_HW_MCU_NAME                     "x86_64"

// Every 64th branch or return of the VM calls mp_port_poll(): in the guest it
// looks for console input (Ctrl-C raises KeyboardInterrupt) at most every 10 ms.
extern unsigned int mp_port_poll_countdown;
void mp_port_poll(void);
#define MICROPY_VM_HOOK_LOOP                    if (--mp_port_poll_countdown == 0) { mp_port_poll(); }
#define MICROPY_VM_HOOK_RETURN                  MICROPY_VM_HOOK_LOOP

// Type definitions for x86_64 (LP64), matching py/mpconfig.h's INT_FMT.
typedef long mp_int_t;
typedef unsigned long mp_uint_t;
typedef long mp_off_t;

#define MP_STATE_PORT MP_STATE_VM

// The heap areas behind MICROPY_GC_SPLIT_HEAP_AUTO, from each HAL.
void *mp_port_heap_alloc(size_t size);
void mp_port_heap_free(void *area);
// random's seed when the program sets none: the time-stamp counter.
uint32_t mp_port_random_seed(void);
