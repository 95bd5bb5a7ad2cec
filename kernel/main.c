#include <hal/hal.h>
#include <kernel/cmdline.h>
#include <kernel/klog.h>
#include <kernel/string.h>
#include <multios/qemu_exit.h>
#include <multios/version.h>

static void on_trap(struct hal_trapframe *tf) {
    panic("%s (vector %lu) error=%#lx rip=%#lx cr2=%#lx\n"
          "  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n"
          "  rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx\n"
          "  r8 =%016lx r9 =%016lx r10=%016lx r11=%016lx\n"
          "  r12=%016lx r13=%016lx r14=%016lx r15=%016lx\n"
          "  cs=%#lx ss=%#lx rflags=%#lx",
          hal_trap_name(tf->vector), tf->vector, tf->error, tf->rip, hal_read_cr2(), tf->rax, tf->rbx, tf->rcx,
          tf->rdx, tf->rsi, tf->rdi, tf->rbp, tf->rsp, tf->r8, tf->r9, tf->r10, tf->r11, tf->r12, tf->r13, tf->r14,
          tf->r15, tf->cs, tf->ss, tf->rflags);
}

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

void kmain(const struct boot_info *info) {
    klog("MultiOS " MULTIOS_VERSION " x86_64 (built " __DATE__ " " __TIME__ ")\n");
    cmdline_init(info->cmdline);
    hal_trap_set_handler(on_trap);
    log_boot_info(info);

    char arg[32];
    if (cmdline_get("mos.fault", arg, sizeof arg)) {
        klog("kernel: provoking fault \"%s\" (mos.fault)\n", arg);
        if (hal_trap_provoke(arg) < 0) {
            klog("kernel: mos.fault=%s: no such fault (ud, pf, gp, de, bp)\n", arg);
            hal_debug_exit(MOS_QEMU_EXIT_BAD_ARG);
        }
    }
    klog("kernel: boot complete\n");
    if (cmdline_get("mos.exit", arg, sizeof arg) && strcmp(arg, "ready") == 0)
        hal_debug_exit(MOS_QEMU_EXIT_READY);
    hal_halt_forever();
}
