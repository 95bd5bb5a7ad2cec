// Time: CLOCK_MONOTONIC is the kernel's TSC clock (ns since boot), CLOCK_REALTIME and
// time() come from the RTC (whole seconds).
#pragma once
#include <stddef.h>
#include <sys/types.h>

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCKS_PER_SEC 1000000L

typedef int clockid_t;
typedef long clock_t;

struct timespec {
    time_t tv_sec;
    long tv_nsec;
};

struct tm {
    int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst;
};

int clock_gettime(clockid_t id, struct timespec *ts);
int nanosleep(const struct timespec *req, struct timespec *rem);
time_t time(time_t *out);
// Monotonic time since boot, in CLOCKS_PER_SEC units (not CPU time).
clock_t clock(void);
struct tm *gmtime_r(const time_t *t, struct tm *out);
struct tm *gmtime(const time_t *t);
time_t timegm(struct tm *tm);
