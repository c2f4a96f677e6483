# SPDX-License-Identifier: MIT
"""The picture guest/vbedraw.c draws, computed on the host, plus a small PNG/PPM reader.

picture(w, h, pattern) returns a bytearray of w * h * 3 bytes (RGB, rows top
to bottom) that must equal the guest's framebuffer pixel for pixel. The font
is read from guest/vga/font.c so there is one copy of it. Keep draw_* in step
with vbedraw.c.
"""
import os
import re
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FONT_C = os.path.join(HERE, "..", "..", "guest", "vga", "font.c")

BANDS = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000]
GRID_STEP = 32
GRID_LINE = 0x808080
GRID_BG = 0x000020
TITLE_FG = 0xffffff
MODE_FG = 0xffff00
TEXT_BG = 0x000000
CELL_FG = 0x00ff00
CELL_W, CELL_H = 8, 16

_font = None


def font():
    """95 glyphs of 7 rows (5 bits, bit 4 leftmost) parsed from guest/vga/font.c."""
    global _font
    if _font is None:
        with open(FONT_C) as f:
            rows = re.findall(r"^\s*\{((?:0x[0-9a-f]{2}, ){6}0x[0-9a-f]{2})\},", f.read(), re.M)
        if len(rows) != 95:
            raise ValueError("%s: %d glyphs, want 95" % (FONT_C, len(rows)))
        _font = [[int(v, 16) for v in r.split(", ")] for r in rows]
    return _font


def font_bit(c, fx, fy):
    """vga_font_bit(): glyph pixel (fx, fy) of the 8x16 cell of character c."""
    g = ord(c)
    if g < 0x20 or g > 0x7e:
        g = ord("?")
    if fx < 1 or fx > 5 or fy < 1 or fy > 14:
        return 0
    return (font()[g - 0x20][(fy - 1) // 2] >> (5 - fx)) & 1


class Canvas:
    """RGB image with the clipping rules of guest/vga/vga.c."""

    def __init__(self, w, h, rgb=0):
        self.w, self.h = w, h
        self.px = bytearray(rgb.to_bytes(3, "big") * (w * h))

    def rect(self, x, y, w, h, rgb):
        if x >= self.w or y >= self.h:
            return
        w = min(w, self.w - x)
        h = min(h, self.h - y)
        line = rgb.to_bytes(3, "big") * w
        for j in range(y, y + h):
            o = (j * self.w + x) * 3
            self.px[o:o + 3 * w] = line

    def char(self, x, y, c, fg, bg, scale):
        if x >= self.w or y >= self.h:
            return
        scale = min(max(scale, 1), 64)
        for fy in range(CELL_H):
            for fx in range(CELL_W):
                self.rect(x + fx * scale, y + fy * scale, scale, scale,
                          fg if font_bit(c, fx, fy) else bg)

    def text(self, x, y, s, fg, bg, scale):
        scale = min(max(scale, 1), 64)
        for c in s:
            if x >= self.w:
                break
            self.char(x, y, c, fg, bg, scale)
            x += CELL_W * scale
        return x


def picture(w, h, pattern=0):
    """draw_picture() of guest/vbedraw.c for a w x h mode."""
    pattern %= 8
    cv = Canvas(w, h)
    q, h2 = h // 4, h // 2
    for i in range(8):
        x0, x1 = i * w // 8, (i + 1) * w // 8
        cv.rect(x0, 0, x1 - x0, q, BANDS[(i + pattern) % 8])
    for y in range(q, h2):
        g = (y - q) * 256 // (h2 - q)
        row = bytearray(3 * w)
        for x in range(w):
            r = x * 256 // w
            row[3 * x:3 * x + 3] = bytes((r, g, (r + 64 * pattern) & 0xff))
        cv.px[y * w * 3:(y + 1) * w * 3] = row
    cv.rect(0, h2, w, h - h2, GRID_BG)
    for y in range(h2, h, GRID_STEP):
        cv.rect(0, y, w, 1, GRID_LINE)
    cv.rect(0, h - 1, w, 1, GRID_LINE)
    for x in range(0, w, GRID_STEP):
        cv.rect(x, h2, 1, h - h2, GRID_LINE)
    cv.rect(w - 1, h2, 1, h - h2, GRID_LINE)
    cv.text(16, h2 + 16, "cellvm VBE test", TITLE_FG, TEXT_BG, 2)
    cv.text(16, h2 + 64, "%dx%dx32 pattern=%d" % (w, h, pattern), MODE_FG, TEXT_BG, 1)
    return cv.px


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    """(w, h, rgb bytearray) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG" % path)
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if not hdr:
        raise ValueError("%s: no IHDR" % path)
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("%s: unsupported PNG (depth %d type %d interlace %d)"
                         % (path, depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise ValueError("%s: %d bytes of image data, want %d" % (path, len(raw), h * (stride + 1)))
    out = bytearray(w * h * 3)
    prev = bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif ft == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif ft == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif ft == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                ul = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], ul)) & 0xff
        elif ft != 0:
            raise ValueError("%s: bad filter %d in row %d" % (path, ft, y))
        if bpp == 3:
            out[y * w * 3:(y + 1) * w * 3] = line
        else:
            o = y * w * 3
            out[o:o + w * 3:3] = line[0::4]
            out[o + 1:o + w * 3:3] = line[1::4]
            out[o + 2:o + w * 3:3] = line[2::4]
        prev = line
    return w, h, out


def read_ppm(path):
    """(w, h, rgb bytearray) of a binary PPM (P6, maxval 255), as QEMU's screendump writes."""
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    if not m:
        raise ValueError("%s: not a P6 PPM with maxval 255" % path)
    w, h = int(m.group(1)), int(m.group(2))
    px = data[m.end():m.end() + w * h * 3]
    if len(px) != w * h * 3:
        raise ValueError("%s: truncated" % path)
    return w, h, bytearray(px)


def diff(w, got, want, limit=5):
    """Number of differing pixels and a few 'x,y got G want W' strings."""
    bad, notes = 0, []
    if got == want:
        return 0, notes
    for i in range(0, min(len(got), len(want)), 3):
        if got[i:i + 3] != want[i:i + 3]:
            bad += 1
            if len(notes) < limit:
                p = i // 3
                notes.append("%d,%d got %s want %s" % (p % w, p // w, got[i:i + 3].hex(),
                                                       want[i:i + 3].hex()))
    return bad, notes
