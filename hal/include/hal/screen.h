// The screen: VGA text mode under BIOS, the loader's framebuffer (with a PSF font) under UEFI.
#pragma once
#include <stddef.h>
#include <hal/boot.h>

void hal_screen_init(const struct boot_info *info);
void hal_screen_write(const char *buf, size_t len);
// "vga-text 80x25", "framebuffer 1024x768x32", or "none".
const char *hal_screen_describe(void);
