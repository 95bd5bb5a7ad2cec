// What the loader told us, in one shape whether we came through multiboot2 (GRUB) or PVH
// (QEMU's direct boot). Filled once by the HAL before kmain runs.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define BOOT_MMAP_MAX    128
#define BOOT_MODULES_MAX 8
#define BOOT_CMDLINE_MAX 1024

enum boot_mem_type {
    BOOT_MEM_USABLE = 1,
    BOOT_MEM_RESERVED = 2,
    BOOT_MEM_ACPI_RECLAIMABLE = 3,
    BOOT_MEM_ACPI_NVS = 4,
    BOOT_MEM_BAD = 5,
};

struct boot_mmap_entry {
    uint64_t base;
    uint64_t len;
    uint32_t type;
};

struct boot_module {
    uint64_t start; // physical
    uint64_t end;   // physical, exclusive
    char cmdline[64];
};

enum boot_fb_type { BOOT_FB_NONE, BOOT_FB_RGB, BOOT_FB_EGA_TEXT };

struct boot_framebuffer {
    enum boot_fb_type type;
    uint64_t addr; // physical
    uint32_t pitch, width, height;
    uint8_t bpp;
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_info {
    const char *protocol;     // "multiboot2" or "pvh"
    char loader[64];          // the boot loader's name, when it gives one
    char cmdline[BOOT_CMDLINE_MAX];
    struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
    int mmap_count;
    struct boot_module modules[BOOT_MODULES_MAX];
    int module_count;
    struct boot_framebuffer fb;
    uint64_t rsdp;            // physical address of the ACPI RSDP, 0 if unknown
    bool uefi;                // booted through UEFI firmware
    bool fwcfg_cmdline;       // part of cmdline came from QEMU's fw_cfg
};

// The kernel's entry point, called by the HAL once the CPU and the consoles are set up.
void kmain(const struct boot_info *info);
