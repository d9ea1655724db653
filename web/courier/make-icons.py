#!/usr/bin/env python3
"""Writes static/icon-192.png and static/icon-512.png: static/icon.svg's drawing
(three finder patterns and a few modules, white on black) as 8-bit gray PNGs,
with nothing but the standard library. Run it after changing icon.svg."""
import struct
import zlib
from pathlib import Path

# (x, y, w, h, white) on icon.svg's 96-unit grid, painted in order.
RECTS = [(0, 0, 96, 96, 0), (14, 14, 28, 28, 1), (54, 14, 28, 28, 1), (14, 54, 28, 28, 1),
         (58, 58, 8, 8, 1), (70, 58, 12, 8, 1), (58, 70, 24, 12, 1),
         (20, 20, 16, 16, 0), (60, 20, 16, 16, 0), (20, 60, 16, 16, 0),
         (24, 24, 8, 8, 1), (64, 24, 8, 8, 1), (24, 64, 8, 8, 1)]


def png(n: int) -> bytes:
    px = [[0] * n for _ in range(n)]
    for x, y, w, h, white in RECTS:
        for j in range(y * n // 96, (y + h) * n // 96):
            for i in range(x * n // 96, (x + w) * n // 96):
                px[j][i] = 255 if white else 0
    raw = b"".join(b"\0" + bytes(row) for row in px)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", n, n, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    here = Path(__file__).parent / "static"
    for n in (192, 512):
        (here / f"icon-{n}.png").write_bytes(png(n))
