// The console font, generated at build time from a PSF font of Debian's console-setup-linux
// (tools/mkfont.py).
#pragma once
#include <stdint.h>

extern const uint8_t font_glyphs[];
extern const uint16_t font_map[256]; // Latin-1 code point -> glyph index
extern const uint32_t font_width, font_height, font_bytes_per_glyph;
