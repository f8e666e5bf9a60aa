#!/usr/bin/env python3
"""Writes the image fixtures of MERVisionTests with encoders other than ours.

PNGs in every colour type come from Pillow where Pillow can write them, and from the
minimal PNG writer below (zlib + CRC by hand, Adam7 by hand) for 2/4-bit gray, 16-bit
colour and interlaced files, which Pillow cannot write. Every PNG is read back with
Pillow and compared with the formula before it is kept. Pixel values follow formulas
that ImageFixtureTests.swift repeats:

    v8(x, y, c)  = (37x + 71y + 101c + 13) mod 256
    v16(x, y, c) = (9973x + 30011y + 12345c + 7) mod 65536
    vb(x, y, b)  = (x + 3y) mod 2^b                     (1/2/4-bit gray)
    palette index (x + 2y) mod n; entry i = (17i mod 256, (53i + 7) mod 256, (255 - 13i) mod 256),
    tRNS alpha of entry i = (40i + 15) mod 256 for the first 5 entries (the rest opaque)

JPEGs (Pillow, libjpeg-turbo) of smooth known images; for each, Pillow's own decode is
stored losslessly as <name>.decoded.png, and the tests compare against that (within 1
level) as well as against the source formula (within a few levels).

Run: python make_images.py (needs Pillow). Writes into this script's directory.
"""
import os
import struct
import zlib

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 5, 4            # most fixtures
IW, IH = 11, 9         # interlaced ones: every Adam7 pass non-empty


def v8(x, y, c):
    return (37 * x + 71 * y + 101 * c + 13) % 256


def v16(x, y, c):
    return (9973 * x + 30011 * y + 12345 * c + 7) % 65536


def vb(x, y, b):
    return (x + 3 * y) % (1 << b)


def pal_entry(i):
    return ((17 * i) % 256, (53 * i + 7) % 256, (255 - 13 * i) % 256)


def pal_alpha(i):
    return (40 * i + 15) % 256 if i < 5 else 255


# MARK: minimal PNG writer

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples, depth):
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, w, h, depth, ctype, pixel, interlace=False, palette=None, trns=None):
    """pixel(x, y) -> tuple of samples."""
    raw = bytearray()
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            xs, ys = list(range(x0, w, dx)), list(range(y0, h, dy))
            if not xs or not ys:
                continue
            for y in ys:
                raw += b"\0" + pack_row([s for x in xs for s in pixel(x, y)], depth)
    else:
        for y in range(h):
            raw += b"\0" + pack_row([s for x in range(w) for s in pixel(x, y)], depth)
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0))
    if palette is not None:
        data += chunk(b"PLTE", bytes(v for e in palette for v in e))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    data += chunk(b"IEND", b"")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def check(name, expected_mode, expected):
    """Pillow reads the file back; expected(x, y) is what Pillow should see."""
    im = Image.open(os.path.join(HERE, name))
    im.load()
    assert im.mode == expected_mode, (name, im.mode, expected_mode)
    for y in range(im.height):
        for x in range(im.width):
            got = im.getpixel((x, y))
            want = expected(x, y)
            assert got == want, (name, x, y, got, want)
    print(f"ok {name:28s} {im.mode:6s} {im.width}x{im.height} {os.path.getsize(os.path.join(HERE, name))} bytes")


def main():
    # Pillow-written PNGs
    im = Image.new("L", (W, H))
    im.putdata([v8(x, y, 0) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "gray8.png"))
    check("gray8.png", "L", lambda x, y: v8(x, y, 0))

    im = Image.new("1", (W, H))
    im.putdata([255 * vb(x, y, 1) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "gray1.png"))
    check("gray1.png", "1", lambda x, y: 255 * vb(x, y, 1))

    im = Image.new("LA", (W, H))
    im.putdata([(v8(x, y, 0), v8(x, y, 1)) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "gray_alpha8.png"))
    check("gray_alpha8.png", "LA", lambda x, y: (v8(x, y, 0), v8(x, y, 1)))

    im = Image.new("RGB", (W, H))
    im.putdata([tuple(v8(x, y, c) for c in range(3)) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "rgb8.png"))
    check("rgb8.png", "RGB", lambda x, y: tuple(v8(x, y, c) for c in range(3)))

    im = Image.new("RGBA", (W, H))
    im.putdata([tuple(v8(x, y, c) for c in range(4)) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "rgba8.png"))
    check("rgba8.png", "RGBA", lambda x, y: tuple(v8(x, y, c) for c in range(4)))

    im = Image.new("I;16", (W, H))
    im.putdata([v16(x, y, 0) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "gray16.png"))
    check("gray16.png", "I;16", lambda x, y: v16(x, y, 0))

    # Palette, 4-bit, 12 entries, with tRNS for the first 5 entries.
    n = 12
    im = Image.new("P", (W, H))
    im.putpalette([v for i in range(n) for v in pal_entry(i)])
    im.putdata([(x + 2 * y) % n for y in range(H) for x in range(W)])
    im.info["transparency"] = bytes(pal_alpha(i) for i in range(5))
    im.save(os.path.join(HERE, "palette4_trns.png"), bits=4, transparency=bytes(pal_alpha(i) for i in range(5)))
    check("palette4_trns.png", "P", lambda x, y: (x + 2 * y) % n)
    rgba = Image.open(os.path.join(HERE, "palette4_trns.png")).convert("RGBA")
    for y in range(H):
        for x in range(W):
            i = (x + 2 * y) % n
            assert rgba.getpixel((x, y)) == pal_entry(i) + (pal_alpha(i),)

    # Palette, 8-bit, no tRNS.
    n = 200
    im = Image.new("P", (W, H))
    im.putpalette([v for i in range(n) for v in pal_entry(i)])
    im.putdata([(x + 2 * y) % n for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "palette8.png"))
    check("palette8.png", "P", lambda x, y: (x + 2 * y) % n)

    # Gray and RGB with a tRNS colour key: pixels equal to the key become transparent.
    im = Image.new("L", (W, H))
    im.putdata([v8(x, y, 0) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "gray8_trns.png"), transparency=v8(2, 1, 0))
    check("gray8_trns.png", "L", lambda x, y: v8(x, y, 0))
    assert Image.open(os.path.join(HERE, "gray8_trns.png")).info["transparency"] == v8(2, 1, 0)

    im = Image.new("RGB", (W, H))
    im.putdata([tuple(v8(x, y, c) for c in range(3)) for y in range(H) for x in range(W)])
    im.save(os.path.join(HERE, "rgb8_trns.png"), transparency=tuple(v8(3, 2, c) for c in range(3)))
    check("rgb8_trns.png", "RGB", lambda x, y: tuple(v8(x, y, c) for c in range(3)))

    # Hand-written PNGs (Pillow cannot write these); Pillow checks them.
    write_png("gray2.png", W, H, 2, 0, lambda x, y: (vb(x, y, 2),))
    check("gray2.png", "L", lambda x, y: vb(x, y, 2) * 85)
    write_png("gray4.png", W, H, 4, 0, lambda x, y: (vb(x, y, 4),))
    check("gray4.png", "L", lambda x, y: vb(x, y, 4) * 17)
    write_png("gray_alpha16.png", W, H, 16, 4, lambda x, y: (v16(x, y, 0), v16(x, y, 1)))
    check("gray_alpha16.png", "RGBA",  # Pillow reads 16-bit gray+alpha as 8-bit RGBA
          lambda x, y: (v16(x, y, 0) >> 8,) * 3 + (v16(x, y, 1) >> 8,))
    write_png("rgb16.png", W, H, 16, 2, lambda x, y: tuple(v16(x, y, c) for c in range(3)))
    check("rgb16.png", "RGB", lambda x, y: tuple(v16(x, y, c) >> 8 for c in range(3)))
    write_png("rgba16.png", W, H, 16, 6, lambda x, y: tuple(v16(x, y, c) for c in range(4)))
    check("rgba16.png", "RGBA", lambda x, y: tuple(v16(x, y, c) >> 8 for c in range(4)))

    # Adam7
    write_png("interlaced_gray8.png", IW, IH, 8, 0, lambda x, y: (v8(x, y, 0),), interlace=True)
    check("interlaced_gray8.png", "L", lambda x, y: v8(x, y, 0))
    write_png("interlaced_rgb8.png", IW, IH, 8, 2, lambda x, y: tuple(v8(x, y, c) for c in range(3)), interlace=True)
    check("interlaced_rgb8.png", "RGB", lambda x, y: tuple(v8(x, y, c) for c in range(3)))
    write_png("interlaced_rgba16.png", IW, IH, 16, 6, lambda x, y: tuple(v16(x, y, c) for c in range(4)), interlace=True)
    check("interlaced_rgba16.png", "RGBA", lambda x, y: tuple(v16(x, y, c) >> 8 for c in range(4)))
    n = 12
    pal = [pal_entry(i) for i in range(n)]
    write_png("interlaced_palette4_trns.png", IW, IH, 4, 3, lambda x, y: ((x + 2 * y) % n,), interlace=True,
              palette=pal, trns=bytes(pal_alpha(i) for i in range(5)))
    check("interlaced_palette4_trns.png", "P", lambda x, y: (x + 2 * y) % n)
    write_png("interlaced_gray1.png", IW, IH, 1, 0, lambda x, y: (vb(x, y, 1),), interlace=True)
    check("interlaced_gray1.png", "1", lambda x, y: 255 * vb(x, y, 1))

    # JPEGs: 16x16 smooth images. The tests repeat these formulas.
    S = 16
    gray = Image.new("L", (S, S))
    gray.putdata([20 + 10 * x + 5 * y for y in range(S) for x in range(S)])
    rgb = Image.new("RGB", (S, S))
    rgb.putdata([(40 + 8 * x, 60 + 8 * y, 128 + 4 * (x - y)) for y in range(S) for x in range(S)])
    jpegs = [
        ("gray_q95.jpg", gray, dict(quality=95)),
        ("rgb444_q95.jpg", rgb, dict(quality=95, subsampling=0)),
        ("rgb420_q90.jpg", rgb, dict(quality=90, subsampling=2)),
        ("rgb_progressive_q90.jpg", rgb, dict(quality=90, subsampling=2, progressive=True)),
    ]
    for name, im, opts in jpegs:
        im.save(os.path.join(HERE, name), **opts)
        dec = Image.open(os.path.join(HERE, name))
        dec.load()
        dec.save(os.path.join(HERE, name.replace(".jpg", ".decoded.png")))
        print(f"ok {name:28s} {dec.mode:6s} {dec.width}x{dec.height} {os.path.getsize(os.path.join(HERE, name))} bytes")

    # CMYK (Pillow writes Adobe-style inverted CMYK): a uniform cyan square and a 50% black one.
    for name, ink in [("cmyk_cyan.jpg", (255, 0, 0, 0)), ("cmyk_gray50.jpg", (0, 0, 0, 128))]:
        Image.new("CMYK", (8, 8), ink).save(os.path.join(HERE, name), quality=100)
        print(f"ok {name:28s} CMYK   8x8 -> RGB {Image.open(os.path.join(HERE, name)).convert('RGB').getpixel((3, 3))}")


if __name__ == "__main__":
    main()
