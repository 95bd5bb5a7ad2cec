// From the loader's hand-over to kmain: read multiboot2 or PVH boot information into one
// struct boot_info, add QEMU's fw_cfg command line, bring up the CPU tables and consoles.
#include <hal/hal.h>
#include <stdint.h>
#include "../boot/bootdefs.h"
#include "internal.h"

static struct boot_info info;

static void copy_str(char *dst, size_t max, const char *src) {
    size_t i = 0;
    for (; src && src[i] && i + 1 < max; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

static void append_str(char *dst, size_t max, const char *src) {
    size_t n = 0;
    while (dst[n])
        n++;
    if (n && n + 1 < max)
        dst[n++] = ' ';
    copy_str(dst + n, max - n, src);
}

static void add_mmap(uint64_t base, uint64_t len, uint32_t type) {
    if (info.mmap_count < BOOT_MMAP_MAX)
        info.mmap[info.mmap_count++] = (struct boot_mmap_entry){base, len, type};
}

static void add_module(uint64_t start, uint64_t end, const char *cmdline) {
    if (info.module_count >= BOOT_MODULES_MAX)
        return;
    struct boot_module *m = &info.modules[info.module_count++];
    m->start = start;
    m->end = end;
    copy_str(m->cmdline, sizeof m->cmdline, cmdline);
}

// Multiboot2 information: a total size, then 8-byte aligned tags.
enum {
    MB2_TAG_END = 0, MB2_TAG_CMDLINE = 1, MB2_TAG_LOADER = 2, MB2_TAG_MODULE = 3, MB2_TAG_MMAP = 6,
    MB2_TAG_FRAMEBUFFER = 8, MB2_TAG_EFI64 = 12, MB2_TAG_ACPI_OLD = 14, MB2_TAG_ACPI_NEW = 15,
    MB2_TAG_EFI_BS = 18, MB2_TAG_EFI64_IH = 20,
};

static void parse_multiboot2(uint64_t phys) {
    info.protocol = "multiboot2";
    uint8_t *mbi = hal_phys_to_virt(phys);
    uint32_t total = *(uint32_t *)mbi;
    for (uint32_t off = 8; off + 8 <= total;) {
        uint32_t type = *(uint32_t *)(mbi + off);
        uint32_t size = *(uint32_t *)(mbi + off + 4);
        uint8_t *tag = mbi + off;
        if (type == MB2_TAG_END || size < 8)
            break;
        switch (type) {
        case MB2_TAG_CMDLINE:
            copy_str(info.cmdline, sizeof info.cmdline, (char *)tag + 8);
            break;
        case MB2_TAG_LOADER:
            copy_str(info.loader, sizeof info.loader, (char *)tag + 8);
            break;
        case MB2_TAG_MODULE:
            add_module(*(uint32_t *)(tag + 8), *(uint32_t *)(tag + 12), (char *)tag + 16);
            break;
        case MB2_TAG_MMAP: {
            uint32_t esize = *(uint32_t *)(tag + 8);
            for (uint32_t e = 16; esize && e + esize <= size; e += esize)
                add_mmap(*(uint64_t *)(tag + e), *(uint64_t *)(tag + e + 8), *(uint32_t *)(tag + e + 16));
            break;
        }
        case MB2_TAG_FRAMEBUFFER: {
            struct boot_framebuffer *fb = &info.fb;
            fb->addr = *(uint64_t *)(tag + 8);
            fb->pitch = *(uint32_t *)(tag + 16);
            fb->width = *(uint32_t *)(tag + 20);
            fb->height = *(uint32_t *)(tag + 24);
            fb->bpp = tag[28];
            uint8_t fbtype = tag[29];
            fb->type = fbtype == 1 ? BOOT_FB_RGB : fbtype == 2 ? BOOT_FB_EGA_TEXT : BOOT_FB_NONE;
            if (fbtype == 1) {
                fb->red_pos = tag[32], fb->red_size = tag[33];
                fb->green_pos = tag[34], fb->green_size = tag[35];
                fb->blue_pos = tag[36], fb->blue_size = tag[37];
            }
            break;
        }
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            // The tag holds a copy of the RSDP; prefer the ACPI 2.0 one when both come.
            if (!info.rsdp || type == MB2_TAG_ACPI_NEW)
                info.rsdp = phys + off + 8;
            break;
        case MB2_TAG_EFI64:
        case MB2_TAG_EFI_BS:
        case MB2_TAG_EFI64_IH:
            info.uefi = true;
            break;
        }
        off += (size + 7) & ~7u;
    }
}

// PVH: struct hvm_start_info from Xen's public/arch-x86/hvm/start_info.h.
struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
    uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

static void parse_pvh(uint64_t phys) {
    info.protocol = "pvh";
    const struct hvm_start_info *si = hal_phys_to_virt(phys);
    if (si->magic != PVH_START_MAGIC)
        return;
    copy_str(info.loader, sizeof info.loader, "qemu-pvh");
    if (si->cmdline_paddr)
        copy_str(info.cmdline, sizeof info.cmdline, hal_phys_to_virt(si->cmdline_paddr));
    info.rsdp = si->rsdp_paddr;
    const struct hvm_modlist_entry *mods = hal_phys_to_virt(si->modlist_paddr);
    for (uint32_t i = 0; si->modlist_paddr && i < si->nr_modules; i++)
        add_module(mods[i].paddr, mods[i].paddr + mods[i].size,
                   mods[i].cmdline_paddr ? hal_phys_to_virt(mods[i].cmdline_paddr) : "");
    if (si->version >= 1 && si->memmap_paddr) {
        const struct hvm_memmap_entry *mm = hal_phys_to_virt(si->memmap_paddr);
        for (uint32_t i = 0; i < si->memmap_entries; i++)
            add_mmap(mm[i].addr, mm[i].size, mm[i].type);
    }
}

void hal_boot(uint32_t proto, uint32_t info_phys) {
    hal_serial_init(HAL_COM1);
    hal_serial_init(HAL_COM2);
    cpu_init();
    if (proto == BOOT_PROTO_MULTIBOOT2)
        parse_multiboot2(info_phys);
    else if (proto == BOOT_PROTO_PVH)
        parse_pvh(info_phys);
    else
        info.protocol = "unknown";
    static char extra[BOOT_CMDLINE_MAX];
    if (hal_fwcfg_read_file("opt/multios/cmdline", extra, sizeof extra) > 0) {
        append_str(info.cmdline, sizeof info.cmdline, extra);
        info.fwcfg_cmdline = true;
    }
    hal_screen_init(&info);
    kmain(&info);
    hal_halt_forever();
}
