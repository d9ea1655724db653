#!/usr/bin/env bash
# Regenerate the bundled label font: a GBK (+ Latin, kana, label punctuation)
# subset of Noto Sans CJK SC, taken from Debian's fonts-noto-cjk collection.
#
# Usage:
#   scripts/subset-font.sh                      # Regular and Bold, Debian paths
#   scripts/subset-font.sh SOURCE_TTC [OUT]     # one face
#
# SOURCE_TTC defaults to /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
# OUT defaults to crates/fonts/fonts/NotoSansCJKsc-Label.otf
#   (…-Label-Bold.otf when SOURCE_TTC's name contains "Bold").
#
# Needs: python3 with fonttools (pip install fonttools), which provides pyftsubset.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
font_dir="/usr/share/fonts/opentype/noto"
family="Noto Sans CJK SC"

if ! command -v pyftsubset >/dev/null 2>&1; then
    echo "error: pyftsubset not found (pip install fonttools)" >&2
    exit 1
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
unicodes="$workdir/unicodes.txt"

# Code points to keep, generated at run time (no big list file in the repo).
python3 - "$unicodes" <<'PY'
import sys

keep = set()
# Everything encodable in GBK (includes ASCII and the GB2312 punctuation),
# so 硚 埇 堃 喆 etc. are covered, which GB2312 alone would miss.
for cp in range(0x20, 0x10000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    try:
        chr(cp).encode("gbk")
    except UnicodeEncodeError:
        continue
    keep.add(cp)

ranges = [
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A (pinyin tone marks)
    (0x2190, 0x2193),  # arrows
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # hiragana + katakana (Japanese addresses)
    (0xFF01, 0xFF5E),  # full-width ASCII forms
]
for lo, hi in ranges:
    keep.update(range(lo, hi + 1))

keep.update([
    0x002A, 0xFF0A,                  # * ＊ (masking)
    0x00B7, 0x2022, 0x30FB, 0x2027,  # middle dots
    0x2014, 0x2026, 0x00D7,          # — … ×
    0x2116, 0x2122,                  # № ™
])

with open(sys.argv[1], "w") as f:
    for cp in sorted(keep):
        f.write("U+%04X\n" % cp)
PY

# Index of the face whose family name is "Noto Sans CJK SC" in a collection.
face_index() {
    python3 - "$1" "$family" <<'PY'
import sys
from fontTools.ttLib import TTCollection
path, family = sys.argv[1], sys.argv[2]
coll = TTCollection(path, lazy=True)
for i, font in enumerate(coll.fonts):
    # nameID 1 is "Noto Sans CJK SC" for Regular and Bold alike
    # (nameID 16 would be used if present).
    names = font["name"]
    fam = names.getDebugName(16) or names.getDebugName(1)
    if fam == family:
        print(i)
        sys.exit(0)
sys.exit("no face with family %r in %s" % (family, path))
PY
}

subset_one() {
    local src="$1" out="$2" idx
    [[ -f "$src" ]] || { echo "error: $src not found (apt-get install fonts-noto-cjk)" >&2; exit 1; }
    idx="$(face_index "$src")"
    mkdir -p "$(dirname "$out")"
    echo "subsetting $src (face $idx, \"$family\") -> $out"

    # CFF outlines kept (ab_glyph/ttf-parser reads CFF); no hinting, no
    # OpenType layout, no vertical metrics. --desubroutinize was measured and
    # makes the output larger, so subroutines are kept.
    pyftsubset "$src" \
        --font-number="$idx" \
        --unicodes-file="$unicodes" \
        --output-file="$out" \
        --no-hinting \
        --layout-features='' \
        --drop-tables+=GSUB,GPOS,GDEF,BASE,VORG,vhea,vmtx \
        --name-IDs='*' \
        --name-legacy \
        --name-languages='*' \
        --notdef-outline

    python3 - "$out" <<'PY'
import os, sys
from fontTools.ttLib import TTFont
path = sys.argv[1]
f = TTFont(path)
print("%s: %d bytes (%.2f MiB), %d glyphs, %d cmap entries, tables: %s" % (
    path, os.path.getsize(path), os.path.getsize(path) / 2**20,
    f["maxp"].numGlyphs, len(f.getBestCmap()), " ".join(sorted(f.keys()))))
PY
}

if [[ $# -eq 0 ]]; then
    subset_one "$font_dir/NotoSansCJK-Regular.ttc" "$repo_root/crates/fonts/fonts/NotoSansCJKsc-Label.otf"
    subset_one "$font_dir/NotoSansCJK-Bold.ttc" "$repo_root/crates/fonts/fonts/NotoSansCJKsc-Label-Bold.otf"
else
    src="$1"
    if [[ $# -ge 2 ]]; then
        out="$2"
    elif [[ "$(basename "$src")" == *Bold* ]]; then
        out="$repo_root/crates/fonts/fonts/NotoSansCJKsc-Label-Bold.otf"
    else
        out="$repo_root/crates/fonts/fonts/NotoSansCJKsc-Label.otf"
    fi
    subset_one "$src" "$out"
fi
