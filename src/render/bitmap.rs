//! The 1-bit raster every output format shares.

/// A 1-bit image: rows of packed bits, most significant bit first, each row padded
/// to a whole byte, `1` = black (printed) dot. This is the layout of ZPL's `^GF`
/// and of PBM, so exporters copy rows as they are.
///
/// # Guarantees
/// `data.len() == row_bytes() * height`, and the padding bits at the end of each row
/// are 0.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Bitmap {
    /// A white bitmap.
    pub fn new(width: u32, height: u32) -> Self {
        let row = (width as usize).div_ceil(8);
        Self {
            width,
            height,
            data: vec![0; row * height as usize],
        }
    }

    /// Width in dots.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in dots.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row (`ceil(width / 8)`).
    pub fn row_bytes(&self) -> usize {
        (self.width as usize).div_ceil(8)
    }

    /// All rows, packed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// One row, packed.
    ///
    /// # Panics
    /// If `y >= height`.
    pub fn row(&self, y: u32) -> &[u8] {
        let r = self.row_bytes();
        &self.data[y as usize * r..(y as usize + 1) * r]
    }

    /// True when the dot at (`x`, `y`) is black. Out-of-range dots are white.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let i = y as usize * self.row_bytes() + x as usize / 8;
        self.data[i] & (0x80 >> (x % 8)) != 0
    }

    /// Sets the dot at (`x`, `y`); out-of-range dots are ignored.
    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let i = y as usize * self.row_bytes() + x as usize / 8;
        let bit = 0x80 >> (x % 8);
        if black {
            self.data[i] |= bit;
        } else {
            self.data[i] &= !bit;
        }
    }

    /// Fills a rectangle, clipped to the bitmap.
    pub fn fill_rect(&mut self, x: u32, y: u32, w: u32, h: u32, black: bool) {
        let x1 = x.saturating_add(w).min(self.width);
        let y1 = y.saturating_add(h).min(self.height);
        for yy in y.min(y1)..y1 {
            self.fill_span(yy, x, x1, black);
        }
    }

    /// Sets dots `x0..x1` of row `y` (a horizontal run), clipped to the bitmap.
    /// Whole bytes are written at once, so this is the fast path for text and bars.
    pub fn fill_span(&mut self, y: u32, x0: u32, x1: u32, black: bool) {
        let x1 = x1.min(self.width);
        if y >= self.height || x0 >= x1 {
            return;
        }
        let r = self.row_bytes();
        let start = y as usize * r;
        let Some(row) = self.data.get_mut(start..start + r) else {
            return;
        };
        let (mut x, end) = (x0 as usize, x1 as usize);
        while x < end {
            let (byte, bit) = (x / 8, x % 8);
            let n = (8 - bit).min(end - x);
            // `n` ones, placed `bit` dots from the byte's most significant bit.
            let mask = ((0xFFu16 << (8 - n)) as u8) >> bit;
            if let Some(b) = row.get_mut(byte) {
                if black {
                    *b |= mask;
                } else {
                    *b &= !mask;
                }
            }
            x += n;
        }
    }
}

/// Packed 1-bit rows to draw into a [`Bitmap`]: `stride` bytes per row, most
/// significant bit first, `width` dots wide, padding bits 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packed<'a> {
    pub bits: &'a [u8],
    pub stride: usize,
    pub width: u32,
    /// The same rows as whole words (most significant bit first), when the
    /// source is at most 57 dots wide, else empty: a row then shifts into place
    /// with one shift and one OR of a word.
    pub words: &'a [u64],
}

/// A clip rectangle in dots: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clip {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Bitmap {
    /// Draws `src` with its top-left dot at (`x`, `y`), clipped to `clip` and to
    /// the bitmap: black dots are set (`black`) or cleared (white on black). Each
    /// source byte is shifted into place and ORed (or masked) into the row, so a
    /// glyph costs a few byte operations per row instead of one span per run.
    pub(crate) fn blit(&mut self, src: Packed<'_>, x: i32, y: i32, clip: Clip, black: bool) {
        let (w, h) = (self.width as i32, self.height as i32);
        let (cx0, cx1) = (clip.x0.max(0), clip.x1.min(w));
        let (cy0, cy1) = (clip.y0.max(0), clip.y1.min(h));
        if src.stride == 0 || cx0 >= cx1 || cy0 >= cy1 {
            return;
        }
        let r = self.row_bytes();
        let inside = x >= cx0 && x.saturating_add(src.width as i32) <= cx1;
        for (k, line) in src.bits.chunks_exact(src.stride).enumerate() {
            let yy = y.saturating_add(k as i32);
            if yy < cy0 {
                continue;
            }
            if yy >= cy1 {
                break;
            }
            let start = yy as usize * r;
            let Some(row) = self.data.get_mut(start..start + r) else {
                return;
            };
            if inside {
                let word = src.words.get(k).copied();
                let x = x as usize;
                match (word, row.get_mut(x / 8..x / 8 + 8)) {
                    (Some(word), Some(dst)) => or_word(dst, word >> (x % 8), black),
                    _ => shift_into(row, line, x, black),
                }
            } else {
                clipped_into(row, line, src.width, x, (cx0, cx1), black);
            }
        }
    }

    /// ORs `row` (one packed row, as built by [`Bitmap::row`]) into rows
    /// `y..y + n`: the fast path for bars and QR modules, built once and copied
    /// down. Only the bytes `bytes` of each row are touched.
    pub(crate) fn or_rows(&mut self, row: &[u8], bytes: core::ops::Range<usize>, y: u32, n: u32) {
        let r = self.row_bytes();
        let Some(src) = row.get(bytes.clone()) else {
            return;
        };
        for yy in y..y.saturating_add(n).min(self.height) {
            let start = yy as usize * r;
            if let Some(dst) = self.data.get_mut(start + bytes.start..start + bytes.end) {
                for (d, s) in dst.iter_mut().zip(src) {
                    *d |= *s;
                }
            }
        }
    }
}

/// ORs (or clears) the 64 dots of `v` into the 8 bytes of `dst`.
fn or_word(dst: &mut [u8], v: u64, black: bool) {
    let mut cur = [0u8; 8];
    cur.copy_from_slice(dst);
    let cur = u64::from_be_bytes(cur);
    let new = if black { cur | v } else { cur & !v };
    dst.copy_from_slice(&new.to_be_bytes());
}

/// Shifts `line` right by `x % 8` and ORs (or clears) it into `row` from byte
/// `x / 8`. The caller has checked that the ink fits inside the row.
fn shift_into(row: &mut [u8], line: &[u8], x: usize, black: bool) {
    let (first, shift) = (x / 8, x % 8);
    let Some(dst) = row.get_mut(first..) else {
        return;
    };
    let mut carry = 0u8;
    let mut i = 0;
    for (d, s) in dst.iter_mut().zip(line) {
        let v = (s >> shift) | carry;
        carry = if shift == 0 { 0 } else { s << (8 - shift) };
        if black {
            *d |= v;
        } else {
            *d &= !v;
        }
        i += 1;
    }
    if carry != 0 {
        if let Some(d) = dst.get_mut(i) {
            if black {
                *d |= carry;
            } else {
                *d &= !carry;
            }
        }
    }
}

/// The slow path of [`Bitmap::blit`] for rows that cross the clip's left or
/// right edge: dot by dot, keeping columns `cx0..cx1` only.
fn clipped_into(
    row: &mut [u8],
    line: &[u8],
    width: u32,
    x: i32,
    (cx0, cx1): (i32, i32),
    black: bool,
) {
    for i in 0..width as i32 {
        let Some(byte) = line.get(i as usize / 8) else {
            break;
        };
        let xx = x.saturating_add(i);
        if byte & (0x80 >> (i % 8)) == 0 || xx < cx0 || xx >= cx1 {
            continue;
        }
        if let Some(d) = row.get_mut(xx as usize / 8) {
            let bit = 0x80 >> (xx % 8);
            if black {
                *d |= bit;
            } else {
                *d &= !bit;
            }
        }
    }
}

impl core::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Bitmap")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "image")]
impl Bitmap {
    /// All rows, packed, for writers that fill whole rows (the `image` interop).
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Draws `src`'s black dots onto this bitmap with its top-left corner at
    /// (`x`, `y`), a whole packed row at a time; what falls outside is clipped.
    pub(crate) fn draw_bitmap(&mut self, src: &Bitmap, x: u32, y: u32) {
        let row_bytes = self.row_bytes();
        let (byte, shift) = ((x / 8) as usize, x % 8);
        let visible = self.width.saturating_sub(x).min(src.width);
        // Only the source bytes that hold visible dots, the last one masked.
        let src_bytes = (visible as usize).div_ceil(8);
        let last_mask = match visible % 8 {
            0 => 0xFF,
            n => 0xFFu8 << (8 - n),
        };
        for sy in 0..src.height.min(self.height.saturating_sub(y)) {
            let from = &src.data[sy as usize * src.row_bytes()..][..src_bytes];
            let to = &mut self.data[(y + sy) as usize * row_bytes..][..row_bytes];
            for (i, &b) in from.iter().enumerate() {
                let b = if i + 1 == src_bytes { b & last_mask } else { b };
                if let Some(d) = to.get_mut(byte + i) {
                    *d |= b >> shift;
                }
                if shift > 0 {
                    if let Some(d) = to.get_mut(byte + i + 1) {
                        *d |= b << (8 - shift);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_msb_first_and_padded() {
        let mut b = Bitmap::new(10, 2);
        assert_eq!(b.row_bytes(), 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        b.set(10, 1, true); // out of range: ignored
        assert_eq!(b.as_bytes(), &[0x80, 0x00, 0x00, 0x40]);
        assert!(b.get(9, 1) && !b.get(8, 1) && !b.get(100, 100));
        b.fill_rect(0, 0, 100, 1, true);
        assert_eq!(b.row(0), &[0xFF, 0xC0]);
    }

    #[test]
    fn fill_span_matches_set() {
        for w in [1u32, 7, 8, 9, 17, 33] {
            for x0 in 0..w + 2 {
                for x1 in 0..w + 3 {
                    let mut a = Bitmap::new(w, 1);
                    let mut b = Bitmap::new(w, 1);
                    a.fill_span(0, x0, x1, true);
                    for x in x0..x1 {
                        b.set(x, 0, true);
                    }
                    assert_eq!(a, b, "w={w} {x0}..{x1}");
                    a.fill_span(0, x0, x1, false);
                    assert_eq!(a, Bitmap::new(w, 1));
                }
            }
        }
    }

    #[cfg(feature = "image")]
    #[test]
    fn draw_bitmap_matches_dot_by_dot_with_clipping() {
        let mut src = Bitmap::new(21, 7);
        for y in 0..7 {
            for x in 0..21 {
                src.set(x, y, (x * 7 + y * 3) % 5 < 2);
            }
        }
        for (x, y) in [(0, 0), (3, 2), (8, 1), (13, 5), (30, 9), (39, 0), (45, 12)] {
            let mut fast = Bitmap::new(45, 12);
            fast.fill_rect(0, 0, 45, 1, true);
            let mut slow = fast.clone();
            fast.draw_bitmap(&src, x, y);
            for sy in 0..7 {
                for sx in 0..21 {
                    if src.get(sx, sy) {
                        slow.set(x + sx, y + sy, true);
                    }
                }
            }
            assert!(fast == slow, "at ({x}, {y})");
        }
    }

    #[test]
    fn blit_matches_dot_by_dot_drawing_inside_any_clip() {
        // A 13-dot-wide source of 3 rows with an irregular pattern.
        let src_dots = |x: u32, y: u32| (x * 7 + y * 3) % 5 < 2;
        let (sw, sh) = (13u32, 3u32);
        let stride = sw.div_ceil(8) as usize;
        let mut bits = vec![0u8; stride * sh as usize];
        for y in 0..sh {
            for x in 0..sw {
                if src_dots(x, y) {
                    bits[y as usize * stride + x as usize / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        let words: Vec<u64> = bits
            .chunks_exact(stride)
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold(0, |w, (i, b)| w | u64::from(*b) << (56 - 8 * i))
            })
            .collect();
        let src = Packed {
            bits: &bits,
            stride,
            width: sw,
            words: &words,
        };
        for black in [true, false] {
            for x in -10..30i32 {
                for clip in [
                    (0, 0, 40, 6),
                    (3, 1, 17, 4),
                    (-5, -5, 100, 100),
                    (9, 0, 9, 6),
                ] {
                    let clip = Clip {
                        x0: clip.0,
                        y0: clip.1,
                        x1: clip.2,
                        y1: clip.3,
                    };
                    let start = if black {
                        Bitmap::new(37, 6)
                    } else {
                        inked(37, 6)
                    };
                    let mut a = start.clone();
                    a.blit(src, x, 2, clip, black);
                    let mut b = start;
                    for yy in 0..sh {
                        for xx in 0..sw {
                            let (px, py) = (x + xx as i32, 2 + yy as i32);
                            let inside =
                                px >= clip.x0 && px < clip.x1 && py >= clip.y0 && py < clip.y1;
                            if src_dots(xx, yy) && inside && px >= 0 {
                                b.set(px as u32, py as u32, black);
                            }
                        }
                    }
                    assert_eq!(a.as_bytes(), b.as_bytes(), "x={x} {clip:?} black={black}");
                }
            }
        }
    }

    fn inked(w: u32, h: u32) -> Bitmap {
        let mut b = Bitmap::new(w, h);
        b.fill_rect(0, 0, w, h, true);
        b
    }

    #[test]
    fn or_rows_copies_a_row_down() {
        let mut row = Bitmap::new(20, 1);
        row.fill_span(0, 3, 15, true);
        let mut b = Bitmap::new(20, 5);
        b.or_rows(row.as_bytes(), 0..3, 1, 10);
        for y in 0..5 {
            assert_eq!(b.row(y), if y == 0 { &[0u8, 0, 0][..] } else { row.row(0) });
        }
    }
}
