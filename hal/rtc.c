// The CMOS real-time clock: read while no update is in progress, twice until two reads agree,
// BCD or binary and 12 or 24 hours as status register B says.
#include <hal/irq.h>
#include <hal/time.h>
#include "acpi.h"
#include "intr.h"
#include "io.h"

enum { CMOS_INDEX = 0x70, CMOS_DATA = 0x71 };
enum { SEC = 0x00, MIN = 0x02, HOUR = 0x04, DAY = 0x07, MONTH = 0x08, YEAR = 0x09, STATUS_A = 0x0a, STATUS_B = 0x0b };
enum { A_UPDATING = 0x80, B_SET = 0x80, B_24H = 0x02, B_BINARY = 0x04, HOUR_PM = 0x80 };

static uint8_t cmos(uint8_t reg) {
    outb(CMOS_INDEX, reg); // bit 7 clear: NMIs stay enabled
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v) {
    outb(CMOS_INDEX, reg);
    outb(CMOS_DATA, v);
}

struct raw {
    uint8_t sec, min, hour, day, month, year, century;
};

static bool read_raw(struct raw *r) {
    // An update takes under 2 ms once the flag rises; bound the wait anyway.
    for (int i = 0; cmos(STATUS_A) & A_UPDATING; i++)
        if (i > 100000)
            return false;
    r->sec = cmos(SEC);
    r->min = cmos(MIN);
    r->hour = cmos(HOUR);
    r->day = cmos(DAY);
    r->month = cmos(MONTH);
    r->year = cmos(YEAR);
    r->century = acpi.century_reg ? cmos(acpi.century_reg) : 0;
    return true;
}

static bool same(const struct raw *a, const struct raw *b) {
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
           a->month == b->month && a->year == b->year && a->century == b->century;
}

static int bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0xf); }

int hal_rtc_read(struct hal_wallclock *out) {
    if (acpi.no_cmos_rtc)
        return -1;
    unsigned long flags = hal_irq_save();
    struct raw a, b;
    bool ok = read_raw(&a);
    for (int tries = 0; ok && tries < 10; tries++) {
        ok = read_raw(&b);
        if (ok && same(&a, &b))
            break;
        a = b;
        if (tries == 9)
            ok = false;
    }
    uint8_t status_b = cmos(STATUS_B);
    hal_irq_restore(flags);
    if (!ok || a.sec == 0xff)
        return -1; // nothing answers on the CMOS ports
    bool pm = a.hour & HOUR_PM;
    int hour = a.hour & ~HOUR_PM;
    struct hal_wallclock w;
    if (status_b & B_BINARY) {
        w = (struct hal_wallclock){a.year, a.month, a.day, hour, a.min, a.sec};
    } else {
        w = (struct hal_wallclock){bcd(a.year), bcd(a.month), bcd(a.day), bcd((uint8_t)hour), bcd(a.min), bcd(a.sec)};
        a.century = (uint8_t)bcd(a.century);
    }
    if (!(status_b & B_24H)) // 12-hour clock: 12 AM is 0, 1-11 PM are 13-23
        w.hour = (w.hour % 12) + (pm ? 12 : 0);
    w.year += (a.century >= 19 && a.century <= 99) ? a.century * 100 : 2000;
    if (w.month < 1 || w.month > 12 || w.day < 1 || w.day > 31 || w.hour > 23 || w.minute > 59 || w.second > 59)
        return -1;
    *out = w;
    return 0;
}

static uint8_t encode(int v, bool binary) { return (uint8_t)(binary ? v : (v / 10) << 4 | v % 10); }

// For tests (mos.rtc=binary12): switch the RTC to binary and 12 hours, rewriting the time in
// the new format with updates stopped, as the hardware needs.
void rtc_set_format(bool binary, bool h24) {
    struct hal_wallclock w;
    if (hal_rtc_read(&w) < 0)
        return;
    unsigned long flags = hal_irq_save();
    uint8_t b = (uint8_t)((cmos(STATUS_B) & ~(B_BINARY | B_24H)) | (binary ? B_BINARY : 0) | (h24 ? B_24H : 0));
    cmos_write(STATUS_B, b | B_SET);
    uint8_t hour = encode(w.hour, binary);
    if (!h24)
        hour = (uint8_t)(encode(w.hour % 12 ? w.hour % 12 : 12, binary) | (w.hour >= 12 ? HOUR_PM : 0));
    cmos_write(SEC, encode(w.second, binary));
    cmos_write(MIN, encode(w.minute, binary));
    cmos_write(HOUR, hour);
    cmos_write(DAY, encode(w.day, binary));
    cmos_write(MONTH, encode(w.month, binary));
    cmos_write(YEAR, encode(w.year % 100, binary));
    if (acpi.century_reg)
        cmos_write(acpi.century_reg, encode(w.year / 100, binary));
    cmos_write(STATUS_B, b);
    hal_irq_restore(flags);
}
