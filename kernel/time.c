// Time for user space (the clock, the calendar, the TSC rate) and the kernel's own checks of
// the interrupt and timer paths (mos.ktest=timer, mos.ktest=irq).
#include <hal/irq.h>
#include <hal/time.h>
#include <hal/trap.h>
#include <kernel/klog.h>
#include <kernel/ktest.h>
#include <kernel/mm.h>
#include <multios/errno.h>
#include <multios/syscalls.h>
#include <syscall_dispatch.h>

long ksys_clock_ns(void) { return (long)hal_time_ns(); }

long ksys_tsc_hz(void) { return (long)hal_tsc_hz(); }

long ksys_wallclock(struct mos_wallclock *out) {
    struct hal_wallclock w;
    if (hal_rtc_read(&w) < 0)
        return -MOS_EIO;
    struct mos_wallclock m = {
        .year = (uint16_t)w.year, .month = (uint8_t)w.month, .day = (uint8_t)w.day,
        .hour = (uint8_t)w.hour, .minute = (uint8_t)w.minute, .second = (uint8_t)w.second,
    };
    long r = copy_to_user(out, &m, sizeof m);
    return r < 0 ? r : 0;
}

// --- mos.ktest=timer ----------------------------------------------------------------------

static volatile uint64_t ticks, exit_hooks;

static void on_tick(void) { ticks++; }
static void on_irq_exit(struct hal_trapframe *tf) {
    (void)tf;
    exit_hooks++;
}

static uint64_t tenths(uint64_t ns) { return ns / 100000 % 10; }

int time_ktest_timer(void) {
    const uint32_t hz = 1000, want = 200;
    const struct hal_irq_stats *st = hal_irq_stats();
    uint64_t spurious0 = st->spurious, unexpected0 = st->unexpected;
    // The host measures wall time from this line to the result.
    klog("ktest timer: starting %u Hz\n", hz);
    unsigned long flags = hal_irq_save();
    hal_irq_set_exit_hook(on_irq_exit);
    hal_timer_start(hz, on_tick);
    // Measure from the first tick: the part period before it is no period.
    while (ticks < 1)
        hal_irq_wait();
    uint64_t tsc0 = hal_rdtsc(), ns0 = hal_time_ns(), hooks0 = exit_hooks;
    bool monotonic = true;
    uint64_t last = ns0;
    while (ticks < want + 1) {
        hal_irq_wait();
        uint64_t now = hal_time_ns();
        monotonic = monotonic && now >= last;
        last = now;
    }
    uint64_t tsc1 = hal_rdtsc(), ns1 = hal_time_ns();
    uint64_t counted = ticks - 1, hooks = exit_hooks - hooks0;
    klog("ktest timer: %s\n", hal_time_source());
    hal_timer_start(0, 0);
    hal_irq_set_exit_hook(0);
    hal_irq_restore(flags);
    for (int i = 0; i < 100000; i++) {
        uint64_t now = hal_time_ns();
        monotonic = monotonic && now >= last;
        last = now;
    }
    // The same interval two ways: TSC ticks over the calibrated rate, and the ns clock.
    uint64_t tsc_ns = (tsc1 - tsc0) * 1000000 / (hal_tsc_hz() / 1000);
    uint64_t clock_ns = ns1 - ns0;
    uint64_t spurious = st->spurious - spurious0, unexpected = st->unexpected - unexpected0;
    klog("ktest timer: %lu ticks in %lu.%lu ms (tsc), clock %lu.%lu ms, %lu exit hooks, spurious %lu, "
         "unexpected %lu, monotonic %s\n",
         counted, tsc_ns / 1000000, tenths(tsc_ns), clock_ns / 1000000, tenths(clock_ns), hooks, spurious,
         unexpected, monotonic ? "yes" : "NO");
    uint64_t diff = tsc_ns > clock_ns ? tsc_ns - clock_ns : clock_ns - tsc_ns;
    return counted == want && hooks >= counted && monotonic && diff * 100 <= tsc_ns && unexpected == 0 ? 0 : -1;
}

// --- mos.ktest=irq ------------------------------------------------------------------------

int time_ktest_irq(void) {
    const struct hal_irq_stats *st = hal_irq_stats();
    uint64_t spurious0 = st->spurious, unexpected0 = st->unexpected, v99 = st->count[0x99];
    // 0x99 has no handler under any controller. 0x27 looks like the 8259's IRQ7 and 0xff is the
    // APIC's spurious vector: whichever controller runs, one of the two is spurious and the
    // other unexpected.
    hal_trap_provoke("int99");
    hal_trap_provoke("int27");
    hal_trap_provoke("intff");
    uint64_t spurious = st->spurious - spurious0, unexpected = st->unexpected - unexpected0;
    klog("ktest irq: %s: vector 0x99 counted %lu, spurious +%lu, unexpected +%lu\n", hal_irq_controller(),
         st->count[0x99] - v99, spurious, unexpected);
    return st->count[0x99] - v99 == 1 && spurious == 1 && unexpected == 2 ? 0 : -1;
}
