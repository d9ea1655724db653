#!/usr/bin/env python3
"""Regenerate the world-script label fonts in crates/fonts-world/fonts/.

Subsets of Noto faces (SIL Open Font License 1.1) from Debian's fonts-noto-core
and fonts-noto-cjk, one regular face per script. OpenType layout (GSUB, GPOS,
GDEF) is kept: Arabic joining and Thai and Devanagari marks need the shaper.

Usage: scripts/subset-world-fonts.py [OUT_DIR]
Needs: apt-get install fonts-noto-core fonts-noto-cjk; pip install fonttools
"""
import hashlib
import os
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

NOTO = "/usr/share/fonts/truetype/noto"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def r(lo, hi):
    return list(range(lo, hi + 1))


# (output file, source, face family in a collection or None, code points)
FACES = [
    ("NotoSans-World.ttf", NOTO + "/NotoSans-Regular.ttf", None,
     r(0x20, 0x7E) + r(0xA0, 0x24F)          # Latin-1, Extended-A and -B
     + r(0x250, 0x2FF) + r(0x300, 0x36F)     # IPA, modifier letters, combining marks
     + r(0x370, 0x3FF) + r(0x1F00, 0x1FFF)   # Greek and polytonic Greek
     + r(0x400, 0x52F)                       # Cyrillic and its supplement
     + r(0x1E00, 0x1EFF)                     # Latin Extended Additional (Vietnamese)
     + r(0x2000, 0x206F) + r(0x20A0, 0x20BF)),  # punctuation, currency
    ("NotoSansKR-Hangul.otf", CJK, "Noto Sans CJK KR",
     r(0xAC00, 0xD7A3) + r(0x1100, 0x11FF) + r(0x3130, 0x318F)),  # syllables, jamo
    ("NotoSansArabic-Label.ttf", NOTO + "/NotoSansArabic-Regular.ttf", None,
     r(0x600, 0x6FF) + r(0x750, 0x77F) + r(0xFB50, 0xFDFF) + r(0xFE70, 0xFEFF)),
    ("NotoSansHebrew-Label.ttf", NOTO + "/NotoSansHebrew-Regular.ttf", None,
     r(0x590, 0x5FF) + r(0xFB1D, 0xFB4F)),
    ("NotoSansThai-Label.ttf", NOTO + "/NotoSansThai-Regular.ttf", None, r(0xE00, 0xE7F)),
    ("NotoSansDevanagari-Label.ttf", NOTO + "/NotoSansDevanagari-Regular.ttf", None,
     r(0x900, 0x97F) + r(0xA8E0, 0xA8FF) + [0x200C, 0x200D]),
    ("NotoSerifTibetan-Label.ttf", NOTO + "/NotoSerifTibetan-Regular.ttf", None, r(0xF00, 0xFFF)),
    ("NotoSansMongolian-Label.ttf", NOTO + "/NotoSansMongolian-Regular.ttf", None,
     r(0x1800, 0x18AF)),
    ("NotoSansYi-Label.ttf", NOTO + "/NotoSansYi-Regular.ttf", None, r(0xA000, 0xA4CF)),
]


def load(path, family):
    if family is None:
        return TTFont(path)
    for font in TTCollection(path).fonts:
        names = font["name"]
        if (names.getDebugName(16) or names.getDebugName(1)) == family:
            return font
    sys.exit("no face %r in %s" % (family, path))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "crates", "fonts-world", "fonts")
    os.makedirs(out_dir, exist_ok=True)
    for name, src, family, cps in FACES:
        with open(src, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        font = load(src, family)
        opts = subset.Options()
        opts.layout_features = ["*"]
        opts.name_IDs = ["*"]
        opts.name_languages = ["*"]
        opts.name_legacy = True
        opts.notdef_outline = True
        opts.hinting = False
        opts.drop_tables += ["VORG", "vhea", "vmtx", "BASE"]
        sub = subset.Subsetter(opts)
        # Space, no-break space and the joiners, so the shaper sees whole
        # phrases (an Arabic name's words keep their right-to-left order).
        sub.populate(unicodes=cps + [0x20, 0xA0, 0x200C, 0x200D])
        sub.subset(font)
        out = os.path.join(out_dir, name)
        font.save(out)
        cmap = TTFont(out).getBestCmap()
        print("%s: %d bytes, %d cmap entries, from %s%s (sha256 %s)" % (
            name, os.path.getsize(out), len(cmap), src,
            " face %r" % family if family else "", digest))


if __name__ == "__main__":
    main()
