//! PNG: 1-bit grayscale for thermal printers, or 8-bit grayscale.
//!
//! Written directly (signature, IHDR, pHYs, one IDAT, IEND). Rows are
//! Up-filtered, so the many rows that repeat the row above become zeros, and
//! compressed as `fdeflate` does, the fast deflate the `png` crate uses for its
//! `Fast` setting, by our faster coder of the same bytes ([`super::deflate`]).
//! With fdeflate itself a 100 × 150 mm label took 74 µs (1-bit) and 0.38 ms
//! (gray), against 0.55 ms and 1.7 ms with flate2's fastest level and no filter.

use flate2::Crc;

use super::deflate;
use crate::export::ExportError;
use crate::render::{Bitmap, Label};

/// Pixel format of a PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PngMode {
    /// 1 bit per pixel, black and white: what thermal printers take. Smallest.
    #[default]
    OneBit,
    /// 8-bit grayscale (0 or 255), for viewers and pipelines that dislike 1-bit PNG.
    Gray,
}

impl Label {
    /// Encodes the label as PNG, with its resolution recorded (pHYs), so that
    /// printing at 100 % gives the physical size.
    ///
    /// # Errors
    /// [`ExportError::InvalidSize`] for an empty or oversized raster.
    pub fn to_png(&self, mode: PngMode) -> Result<Vec<u8>, ExportError> {
        encode(self.bitmap(), self.dpi(), mode)
    }
}

/// Eight packed dots (1 = black) to eight gray bytes (0 = black, 255 = white).
const GRAY: [[u8; 8]; 256] = {
    let mut t = [[255u8; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut k = 0;
        while k < 8 {
            if b & (0x80 >> k) != 0 {
                t[b][k] = 0;
            }
            k += 1;
        }
        b += 1;
    }
    t
};

/// Encodes a bitmap as PNG.
pub(crate) fn encode(bm: &Bitmap, dpi: u16, mode: PngMode) -> Result<Vec<u8>, ExportError> {
    let (w, h) = (bm.width(), bm.height());
    if w == 0 || h == 0 || w > i32::MAX as u32 || h > i32::MAX as u32 {
        return Err(ExportError::InvalidSize {
            width: w,
            height: h,
            reason: "a PNG side must be 1 to 2^31-1 pixels",
        });
    }
    // The scanlines go to a buffer kept per thread: a fresh 120 KB buffer per
    // label costs page faults with some allocators.
    thread_local! {
        static SCANLINES: core::cell::RefCell<Vec<u8>> = const { core::cell::RefCell::new(Vec::new()) };
    }
    SCANLINES.with(|buf| match buf.try_borrow_mut() {
        Ok(mut raw) => write_png(bm, dpi, mode, &mut raw),
        Err(_) => write_png(bm, dpi, mode, &mut Vec::new()),
    })
}

/// [`encode`] with `raw` as the scanline buffer.
fn write_png(
    bm: &Bitmap,
    dpi: u16,
    mode: PngMode,
    raw: &mut Vec<u8>,
) -> Result<Vec<u8>, ExportError> {
    let (w, h) = (bm.width(), bm.height());
    match mode {
        PngMode::OneBit => filter_one_bit(bm, raw),
        PngMode::Gray => filter_gray(bm, raw),
    }
    let mut out = Vec::with_capacity(raw.len() / 8 + 128);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    let depth = match mode {
        PngMode::OneBit => 1,
        PngMode::Gray => 8,
    };
    // depth, colour type 0 (gray), compression 0, filter 0, no interlace
    ihdr.extend_from_slice(&[depth, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    let mut phys = Vec::with_capacity(9);
    phys.extend_from_slice(&ppm.to_be_bytes());
    phys.extend_from_slice(&ppm.to_be_bytes());
    phys.push(1); // unit: metre
    chunk(&mut out, b"pHYs", &phys);
    idat_chunk(&mut out, raw)?;
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// The PNG scanlines of a 1-bit raster, inverted (PNG gray 0 is black) and
/// Up-filtered in one pass: each line is the filter byte 2, then for the first
/// row the inverted bytes, for the others `above - this` (the difference of the
/// inverted rows). Padding bits are carried along as the inversion left them.
#[cfg(any(test, feature = "bench"))]
pub(crate) fn filtered_one_bit(bm: &Bitmap) -> Vec<u8> {
    let mut raw = Vec::new();
    filter_one_bit(bm, &mut raw);
    raw
}

/// [`filtered_one_bit`] into `raw` (its contents replaced).
fn filter_one_bit(bm: &Bitmap, raw: &mut Vec<u8>) {
    let r = bm.row_bytes().max(1);
    // Every byte is written below: only the length matters.
    raw.resize((1 + r) * bm.height() as usize, 0);
    let rows = bm.as_bytes().chunks_exact(r);
    let mut lines = raw.chunks_exact_mut(1 + r);
    if let (Some((f, line)), Some(first)) = (
        lines.next().and_then(<[u8]>::split_first_mut),
        bm.as_bytes().get(..r),
    ) {
        *f = 2;
        for (o, t) in line.iter_mut().zip(first) {
            *o = !t;
        }
    }
    // Row k of the image against row k - 1, in fixed-size slices the compiler
    // turns into vector code.
    for (line, (up, this)) in lines.zip(rows.clone().zip(rows.skip(1))) {
        if let Some((f, line)) = line.split_first_mut() {
            *f = 2;
            for (o, (u, t)) in line.iter_mut().zip(up.iter().zip(this)) {
                *o = u.wrapping_sub(*t);
            }
        }
    }
}

/// The scanlines of the 8-bit gray image of a raster, Up-filtered as they are
/// widened.
fn filter_gray(bm: &Bitmap, raw: &mut Vec<u8>) {
    let w = bm.width() as usize;
    let r = bm.row_bytes();
    raw.clear();
    raw.reserve((1 + w) * bm.height() as usize);
    let mut above: Option<&[u8]> = None;
    for this in bm.as_bytes().chunks_exact(r.max(1)) {
        raw.push(2);
        let start = raw.len();
        match above {
            None => {
                for b in this {
                    raw.extend_from_slice(&GRAY[usize::from(*b)]);
                }
            }
            Some(up) => {
                for (u, t) in up.iter().zip(this) {
                    let (g, p) = (&GRAY[usize::from(*t)], &GRAY[usize::from(*u)]);
                    raw.extend(g.iter().zip(p).map(|(g, p)| g.wrapping_sub(*p)));
                }
            }
        }
        raw.truncate(start + w);
        above = Some(this);
    }
}

/// Appends the IDAT chunk: `raw` deflated straight into `out`, then the chunk's
/// length and CRC filled in.
fn idat_chunk(out: &mut Vec<u8>, raw: &[u8]) -> Result<(), ExportError> {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IDAT");
    deflate::compress(raw, out);
    let len = out.len() - start - 8;
    let Ok(len) = u32::try_from(len) else {
        return Err(ExportError::InvalidSize {
            width: 0,
            height: 0,
            reason: "compressed image data too large for one PNG chunk",
        });
    };
    if let Some(field) = out.get_mut(start..start + 4) {
        field.copy_from_slice(&len.to_be_bytes());
    }
    let mut crc = Crc::new();
    crc.update(out.get(start + 4..).unwrap_or_default());
    out.extend_from_slice(&crc.sum().to_be_bytes());
    Ok(())
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Chunk lengths are below 2^31: the raster size is checked above and
    // compressed data of a label is far smaller.
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_modes_decode_to_the_same_pixels() {
        let mut bm = Bitmap::new(13, 5);
        bm.fill_rect(2, 1, 9, 3, true);
        bm.set(12, 4, true);
        for mode in [PngMode::OneBit, PngMode::Gray] {
            let png = encode(&bm, 203, mode).unwrap();
            let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
                .unwrap()
                .to_luma8();
            assert_eq!(img.dimensions(), (13, 5));
            for (x, y, p) in img.enumerate_pixels() {
                assert_eq!(p.0[0] == 0, bm.get(x, y), "{mode:?} {x},{y}");
            }
        }
        assert!(matches!(
            encode(&Bitmap::new(0, 3), 203, PngMode::OneBit),
            Err(ExportError::InvalidSize { .. })
        ));
    }
}
