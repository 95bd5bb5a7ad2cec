// POSIX-flavoured wrappers (<unistd.h>, <time.h>): errno and -1 instead of -MOS_Exxx.
#include <errno.h>
#include <mos.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

ssize_t write(int fd, const void *buf, size_t len) { return libmos_check(mos_write(fd, buf, len)); }

ssize_t read(int fd, void *buf, size_t len) { return libmos_check(mos_read(fd, buf, len)); }

pid_t getpid(void) { return mos_getpid(); }

unsigned sleep(unsigned seconds) {
    mos_sleep_ns((uint64_t)seconds * 1000000000u);
    return 0;
}

int usleep(unsigned long usec) { return (int)libmos_check(mos_sleep_ns((uint64_t)usec * 1000u)); }

int nanosleep(const struct timespec *req, struct timespec *rem) {
    if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000L || req->tv_sec < 0) {
        errno = EINVAL;
        return -1;
    }
    if (rem)
        rem->tv_sec = rem->tv_nsec = 0;
    return (int)libmos_check(mos_sleep_ns((uint64_t)req->tv_sec * 1000000000u + (uint64_t)req->tv_nsec));
}

static long days_from_civil(long y, unsigned m, unsigned d) {
    // Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar.
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

time_t timegm(struct tm *tm) {
    long days = days_from_civil(tm->tm_year + 1900L, (unsigned)tm->tm_mon + 1, (unsigned)tm->tm_mday);
    return days * 86400 + tm->tm_hour * 3600L + tm->tm_min * 60L + tm->tm_sec;
}

struct tm *gmtime_r(const time_t *t, struct tm *out) {
    long days = *t / 86400, secs = *t % 86400;
    if (secs < 0)
        secs += 86400, days--;
    out->tm_hour = (int)(secs / 3600);
    out->tm_min = (int)(secs / 60 % 60);
    out->tm_sec = (int)(secs % 60);
    out->tm_wday = (int)((days % 7 + 11) % 7); // 1970-01-01 was a Thursday
    // The inverse of days_from_civil.
    long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    out->tm_year = (int)(y - 1900);
    out->tm_mon = (int)m - 1;
    out->tm_mday = (int)d;
    out->tm_yday = (int)(days - days_from_civil(y, 1, 1));
    out->tm_isdst = 0;
    return out;
}

struct tm *gmtime(const time_t *t) {
    static struct tm tm;
    return gmtime_r(t, &tm);
}

time_t time(time_t *out) {
    struct mos_wallclock w;
    time_t t = -1;
    if (mos_wallclock(&w) == 0) {
        struct tm tm = {w.second, w.minute, w.hour, w.day, w.month - 1, w.year - 1900, 0, 0, 0};
        t = timegm(&tm);
    }
    if (out)
        *out = t;
    return t;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (id == CLOCK_MONOTONIC) {
        long ns = mos_clock_ns();
        ts->tv_sec = ns / 1000000000L;
        ts->tv_nsec = ns % 1000000000L;
        return 0;
    }
    if (id == CLOCK_REALTIME) {
        time_t t = time(NULL);
        if (t < 0) {
            errno = EIO;
            return -1;
        }
        ts->tv_sec = t;
        ts->tv_nsec = 0;
        return 0;
    }
    errno = EINVAL;
    return -1;
}

clock_t clock(void) { return mos_clock_ns() / (1000000000L / CLOCKS_PER_SEC); }
