// A small system-call table for the gensyscalls golden test: every parameter kind, a
// call that does not return, a gap in the numbering, structs and enums.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fixture_errno.h"

#define MOS_FIXTURE_MAGIC 0x7c // a #define with an integer is a constant too
#define MOS_FIXTURE_LIMIT 16

enum mos_syscall {
    SYS_exit = 0,
    SYS_write = 1,
    SYS_spawn = 2,
    SYS_sample = 5,
    SYS_sleep_ns = 6,
};

enum {
    MOS_SAMPLE_MAX = 4, // values per sample
};

/** Colours a sample can have. */
enum mos_colour {
    MOS_RED = 1,   // the first colour
    MOS_GREEN = 2,
    MOS_CRIMSON = 1, // another name for red
};

/** One measurement. */
struct mos_sample {
    uint32_t colour; // enum mos_colour
    int32_t delta;
    uint64_t values[MOS_SAMPLE_MAX]; // raw readings
    char label[MOS_FIXTURE_LIMIT];
};

/** Ends the caller.
 *  returns: never
 *  errors: none */
long sys_exit(int status);

/** Writes bytes to a handle.
 *  returns: the number of bytes written.
 *  errors: MOS_EBADF (not a writable handle), MOS_EFAULT */
long sys_write(int handle, const void *buf, size_t len);

/** Starts a program. The program runs as a child of the caller.
 *
 *  argv ends with NULL.
 *  returns: the pid.
 *  errors: MOS_ENOENT, MOS_EFAULT */
long sys_spawn(const char *path, const char *const *argv);

/** Takes a sample. errors: MOS_EINVAL (index < 0), MOS_EFAULT */
long sys_sample(long index, const struct mos_sample *prev, struct mos_sample *out,
                uint32_t flags, int64_t *cursor, const char *name);

/** Sleeps. returns: 0. errors: none */
long sys_sleep_ns(uint64_t ns);
