"""Read text off a framebuffer screendump: each character cell is compared with the glyphs of
the console font the kernel draws with, so a test can check what a person would see."""
import gzip
import os

import mkfont

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FONT = os.path.join(ROOT, "build", "deps", "console-setup", "usr", "share", "consolefonts", "Lat15-Terminus16.psf.gz")


def read_ppm(path):
    """(width, height, rows of (r, g, b) tuples) from a binary PPM (P6), as QEMU writes it."""
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError("%s is not an 8-bit binary PPM" % path)
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos:pos + width * height * 3]
    return width, height, pixels


def _font():
    data = gzip.decompress(open(FONT, "rb").read())
    width, height, size, count, glyphs, mapping = mkfont.load_psf(data)
    row_bytes = (width + 7) // 8
    shapes = {}
    for ch in range(32, 127):
        g = mapping.get(ch)
        if g is None:
            continue
        bits = glyphs[g * size:(g + 1) * size]
        shape = tuple(tuple(bool(bits[y * row_bytes + x // 8] & (0x80 >> (x % 8))) for x in range(width))
                      for y in range(height))
        shapes.setdefault(shape, chr(ch))
    return width, height, shapes


def text_at(image, row, col, length):
    """The characters in LENGTH cells from (row, col); '?' where a cell matches no glyph."""
    width, height, pixels = image
    fw, fh, shapes = _font()
    out = []
    for c in range(col, col + length):
        x0, y0 = c * fw, row * fh
        background = pixels[(y0 * width + x0) * 3:(y0 * width + x0) * 3 + 3]
        cell = []
        for y in range(fh):
            line = []
            for x in range(fw):
                i = ((y0 + y) * width + x0 + x) * 3
                line.append(pixels[i:i + 3] != background)
            cell.append(tuple(line))
        shape = tuple(cell)
        if not any(any(line) for line in shape):
            out.append(" ")
        else:
            out.append(shapes.get(shape, "?"))
    return "".join(out)
