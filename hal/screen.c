// Text on the screen. Two back ends behind one cursor: the VGA text buffer (BIOS boots and
// QEMU's direct boot) and a linear framebuffer drawn with the console font (UEFI boots).
#include <hal/cpu.h>
#include <hal/mmu.h>
#include <hal/screen.h>
#include <stdint.h>
#include "font.h"
#include "io.h"

enum { VGA_COLS = 80, VGA_ROWS = 25, VGA_ATTR = 0x07 };

static enum boot_fb_type mode;
static volatile uint16_t *vga;
static volatile uint8_t *fb;
static struct boot_framebuffer fbi;
static uint32_t cols, rows, col, row;
static uint32_t fg, bg;

static uint32_t pack_rgb(uint8_t r, uint8_t g, uint8_t b) {
    return (uint32_t)(r >> (8 - fbi.red_size)) << fbi.red_pos |
           (uint32_t)(g >> (8 - fbi.green_size)) << fbi.green_pos |
           (uint32_t)(b >> (8 - fbi.blue_size)) << fbi.blue_pos;
}

static void put_pixel(uint32_t x, uint32_t y, uint32_t color) {
    volatile uint8_t *p = fb + (uint64_t)y * fbi.pitch + (uint64_t)x * (fbi.bpp / 8);
    if (fbi.bpp == 32)
        *(volatile uint32_t *)p = color;
    else if (fbi.bpp == 24) {
        p[0] = (uint8_t)color;
        p[1] = (uint8_t)(color >> 8);
        p[2] = (uint8_t)(color >> 16);
    } else if (fbi.bpp == 16)
        *(volatile uint16_t *)p = (uint16_t)color;
}

static void draw_glyph(uint32_t cx, uint32_t cy, unsigned char c) {
    const uint8_t *glyph = font_glyphs + (uint32_t)font_map[c] * font_bytes_per_glyph;
    uint32_t row_bytes = (font_width + 7) / 8;
    for (uint32_t y = 0; y < font_height; y++) {
        const uint8_t *line = glyph + y * row_bytes;
        for (uint32_t x = 0; x < font_width; x++) {
            int on = line[x / 8] & (0x80 >> (x % 8));
            put_pixel(cx * font_width + x, cy * font_height + y, on ? fg : bg);
        }
    }
}

static void vga_cursor(void) {
    uint16_t pos = (uint16_t)(row * VGA_COLS + col);
    outb(0x3d4, 0x0f);
    outb(0x3d5, (uint8_t)pos);
    outb(0x3d4, 0x0e);
    outb(0x3d5, (uint8_t)(pos >> 8));
}

static void scroll(void) {
    if (mode == BOOT_FB_EGA_TEXT) {
        for (uint32_t i = 0; i < (rows - 1) * cols; i++)
            vga[i] = vga[i + cols];
        for (uint32_t i = (rows - 1) * cols; i < rows * cols; i++)
            vga[i] = VGA_ATTR << 8 | ' ';
    } else {
        uint64_t line = (uint64_t)fbi.pitch * font_height;
        volatile uint64_t *dst = (volatile uint64_t *)fb;
        volatile uint64_t *src = (volatile uint64_t *)(fb + line);
        uint64_t words = line * (rows - 1) / 8;
        for (uint64_t i = 0; i < words; i++)
            dst[i] = src[i];
        for (uint32_t x = 0; x < cols; x++)
            draw_glyph(x, rows - 1, ' ');
    }
    row = rows - 1;
}

static void put(char c) {
    if (c == '\n') {
        col = 0;
        row++;
    } else if (c == '\r') {
        col = 0;
    } else if (c == '\b') {
        if (col > 0)
            col--;
    } else if (c == '\t') {
        col = (col + 8) & ~7u;
    } else {
        if (mode == BOOT_FB_EGA_TEXT)
            vga[row * cols + col] = (uint16_t)(VGA_ATTR << 8 | (unsigned char)c);
        else
            draw_glyph(col, row, (unsigned char)c);
        col++;
    }
    if (col >= cols) {
        col = 0;
        row++;
    }
    if (row >= rows)
        scroll();
}

void hal_screen_init(const struct boot_info *info) {
    fbi = info->fb;
    mode = fbi.type;
    // Device mappings made now are carried into the final page tables by hal_mmu_init; before
    // those, only the first 4 GiB can be reached (a framebuffer above gives no screen).
    if (mode == BOOT_FB_RGB && (fbi.bpp == 32 || fbi.bpp == 24 || fbi.bpp == 16) &&
        (fb = hal_mmu_map_device(fbi.addr, (uint64_t)fbi.pitch * fbi.height))) {
        cols = fbi.width / font_width;
        rows = fbi.height / font_height;
        fg = pack_rgb(0xcc, 0xcc, 0xcc);
        bg = pack_rgb(0x00, 0x00, 0x20);
        for (uint32_t y = 0; y < fbi.height; y++)
            for (uint32_t x = 0; x < fbi.width; x++)
                put_pixel(x, y, bg);
    } else if (mode == BOOT_FB_EGA_TEXT || (mode == BOOT_FB_NONE && !info->uefi)) {
        // Without a framebuffer tag a BIOS machine is still in the text mode the firmware set.
        mode = BOOT_FB_EGA_TEXT;
        vga = hal_mmu_map_device(fbi.addr ? fbi.addr : 0xb8000, VGA_COLS * VGA_ROWS * 2);
        cols = VGA_COLS;
        rows = VGA_ROWS;
        for (uint32_t i = 0; vga && i < cols * rows; i++)
            vga[i] = VGA_ATTR << 8 | ' ';
        if (!vga)
            mode = BOOT_FB_NONE;
    } else {
        mode = BOOT_FB_NONE;
    }
    col = row = 0;
}

void hal_screen_write(const char *buf, size_t len) {
    if (mode == BOOT_FB_NONE)
        return;
    for (size_t i = 0; i < len; i++)
        put(buf[i]);
    if (mode == BOOT_FB_EGA_TEXT)
        vga_cursor();
}

const char *hal_screen_describe(void) {
    switch (mode) {
    case BOOT_FB_EGA_TEXT:
        return "vga-text";
    case BOOT_FB_RGB:
        return "framebuffer";
    default:
        return "none";
    }
}
