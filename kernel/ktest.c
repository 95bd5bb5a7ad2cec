#include <hal/hal.h>
#include <kernel/klog.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <multios/qemu_exit.h>

static const struct {
    const char *name;
    ktest_fn fn;
} tests[] = {
    {"timer", time_ktest_timer},
    {"irq", time_ktest_irq},
    {"mm", mm_ktest},
    {"mm-null", mm_ktest_null},
    {"mm-wx", mm_ktest_wx},
    {"mm-nx", mm_ktest_nx},
    {"mm-smap", mm_ktest_smap},
    {"mm-smep", mm_ktest_smep},
    {"mm-guard", mm_ktest_guard},
};

_Noreturn void ktest_run(const char *name) {
    for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (strcmp(tests[i].name, name) != 0)
            continue;
        klog("ktest %s: start\n", name);
        if (tests[i].fn() != 0)
            panic("ktest %s failed", name);
        klog("ktest %s: passed\n", name);
        hal_debug_exit(MOS_QEMU_EXIT_READY);
        hal_halt_forever();
    }
    klog("kernel: mos.ktest=%s: no such test (", name);
    for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++)
        klog("%s%s", i ? ", " : "", tests[i].name);
    klog(")\n");
    hal_debug_exit(MOS_QEMU_EXIT_BAD_ARG);
    hal_halt_forever();
}
