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
}
