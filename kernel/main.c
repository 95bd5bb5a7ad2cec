#include <hal/hal.h>
#include <hal/irq.h>
#include <hal/time.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/init.h>
#include <kernel/initrd.h>
#include <kernel/proc.h>
#include <kernel/thread.h>
#include <kernel/trap.h>
#include <kernel/klog.h>
#include <kernel/ktest.h>
#include <kernel/mm.h>
#include <kernel/string.h>
#include <multios/qemu_exit.h>
#include <multios/version.h>

static const char *mem_type_name(uint32_t type) {
    switch (type) {
    case BOOT_MEM_USABLE:
        return "usable";
    case BOOT_MEM_ACPI_RECLAIMABLE:
        return "acpi";
    case BOOT_MEM_ACPI_NVS:
        return "acpi-nvs";
    case BOOT_MEM_BAD:
        return "bad";
    default:
        return "reserved";
    }
}

static void log_boot_info(const struct boot_info *info) {
    klog("boot: %s via %s, %s firmware\n", info->protocol, info->loader[0] ? info->loader : "?",
         info->uefi ? "UEFI" : "BIOS");
    klog("cmdline: \"%s\"%s\n", info->cmdline, info->fwcfg_cmdline ? " (with fw_cfg opt/multios/cmdline)" : "");
    uint64_t usable = 0, top = 0;
    for (int i = 0; i < info->mmap_count; i++) {
        const struct boot_mmap_entry *e = &info->mmap[i];
        if (e->type == BOOT_MEM_USABLE) {
            usable += e->len;
            if (e->base + e->len > top)
                top = e->base + e->len;
        }
    }
    klog("memory: %d regions, %lu KiB usable, top of usable %#lx\n", info->mmap_count, usable / 1024, top);
    if (cmdline_has("mos.verbose"))
        for (int i = 0; i < info->mmap_count; i++)
            klog("  %#014lx-%#014lx %s\n", info->mmap[i].base, info->mmap[i].base + info->mmap[i].len,
                 mem_type_name(info->mmap[i].type));
    klog("modules: %d", info->module_count);
    for (int i = 0; i < info->module_count; i++)
        klog("%s %#lx-%#lx (%lu KiB) \"%s\"", i ? "," : "", info->modules[i].start, info->modules[i].end,
             (info->modules[i].end - info->modules[i].start) / 1024, info->modules[i].cmdline);
    klog("\n");
    const struct boot_framebuffer *fb = &info->fb;
    if (fb->type == BOOT_FB_RGB)
        klog("screen: framebuffer %ux%ux%u at %#lx, pitch %u\n", fb->width, fb->height, fb->bpp, fb->addr, fb->pitch);
    else
        klog("screen: %s\n", hal_screen_describe());
    if (info->rsdp) {
        const char *r = hal_phys_to_virt(info->rsdp);
        klog("acpi: RSDP at %#lx, revision %d, OEM \"%.6s\"\n", info->rsdp, r[15], r + 9);
    } else {
        klog("acpi: no RSDP\n");
    }
}

static void log_time(void) {
    struct hal_wallclock w;
    if (hal_rtc_read(&w) == 0)
        klog("time: %s; rtc %04d-%02d-%02d %02d:%02d:%02d\n", hal_time_source(), w.year, w.month, w.day, w.hour,
             w.minute, w.second);
    else
        klog("time: %s; rtc not answering\n", hal_time_source());
}

void kmain(const struct boot_info *info) {
    klog("MultiOS " MULTIOS_VERSION " x86_64 (built " __DATE__ " " __TIME__ ")\n");
    cmdline_init(info->cmdline);
    trap_init();
    log_boot_info(info);
    pmm_init(info);
    vm_init();
    kheap_init();
    // Interrupts and time come after the memory init: their MMIO mappings need the final tables.
    hal_irq_init(info);
    klog("irq: %s\n", hal_irq_controller());
    hal_time_init();
    log_time();
    if (info->module_count > 0) {
        const struct boot_module *m = &info->modules[0];
        initrd_init(hal_phys_to_virt(m->start), m->end - m->start);
    }
    klog("initrd: %d files\n", initrd_count());
    proc_init();
    sched_init();
    console_init();

    char arg[32];
    if (cmdline_get("mos.fault", arg, sizeof arg)) {
        klog("kernel: provoking fault \"%s\" (mos.fault)\n", arg);
        if (hal_trap_provoke(arg) < 0) {
            klog("kernel: mos.fault=%s: no such fault (ud, pf, gp, de, bp)\n", arg);
            hal_debug_exit(MOS_QEMU_EXIT_BAD_ARG);
        }
    }
    if (cmdline_get("mos.ktest", arg, sizeof arg))
        ktest_run(arg);
    klog("kernel: boot complete\n");
    if (cmdline_get("mos.exit", arg, sizeof arg) && strcmp(arg, "ready") == 0)
        hal_debug_exit(MOS_QEMU_EXIT_READY);
    init_start();
    sched_start();
}
