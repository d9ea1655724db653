#!/usr/bin/env python3
"""Check that the bundled label font(s) cover the characters labels need.

Usage: scripts/check-font.py [FONT ...]
Defaults to every crates/fonts/fonts/NotoSansCJKsc-Label*.otf. Needs fonttools.
Exits non-zero if a font is missing, unreadable, or lacks any required character.
"""
import glob
import os
import sys

from fontTools.ttLib import TTFont

# 硚 埇 堃 喆 are in GBK but not GB2312 (硚口区, 埇桥区, names).
REQUIRED = "硚埇堃喆欧阳乌鲁木齐，·Az09＃ア"

# Tables the renderer relies on (ab_glyph / ttf-parser); outlines in CFF or glyf.
REQUIRED_TABLES = ["cmap", "head", "hhea", "hmtx", "maxp"]


def check(path):
    font = TTFont(path)
    cmap = font.getBestCmap()
    missing = [ch for ch in REQUIRED if ord(ch) not in cmap]
    missing_tables = [t for t in REQUIRED_TABLES if t not in font]
    if not any(t in font for t in ("CFF ", "CFF2", "glyf")):
        missing_tables.append("CFF/glyf")
    size = os.path.getsize(path)
    print("%s: %d bytes (%.2f MiB), %d glyphs, %d cmap entries" % (
        path, size, size / 2**20, font["maxp"].numGlyphs, len(cmap)))
    for ch in missing:
        print("  MISSING U+%04X %s" % (ord(ch), ch))
    for t in missing_tables:
        print("  MISSING table %s" % t)
    return not missing and not missing_tables


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = sys.argv[1:] or sorted(
        glob.glob(os.path.join(root, "assets", "fonts", "NotoSansCJKsc-Label*.otf")))
    if not paths:
        print("no fonts found", file=sys.stderr)
        return 1
    ok = True
    for path in paths:
        try:
            ok = check(path) and ok
        except Exception as e:  # unreadable / not a font
            print("%s: ERROR %s" % (path, e))
            ok = False
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
