//! ZPL II output: the raster as `^GFA` graphic fields (Z64 or plain hex),
//! optionally with the barcode and QR as native printer commands.

use crate::export::ExportError;
use crate::render::{Bitmap, CodeKind, PlacedCode};

use super::gfdata;

/// ZPL's largest label side and field coordinate, in dots.
const MAX_DOTS: u32 = 32_000;
/// Zebra documents 1..=99,999 for the byte counts of `^GF`, so larger rasters
/// are sent as several horizontal bands.
const MAX_GF_BYTES: usize = 99_999;
/// `^PQ` accepts up to 99,999,999 copies.
const MAX_COPIES: u32 = 99_999_999;

/// How the raster data of a `^GF` graphic field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ZplEncoding {
    /// Zebra's Z64: zlib-deflated, Base64-encoded, with a CRC-16. About 10 to 20
    /// times smaller than hex; understood by Zebra firmware since x.14.
    #[default]
    Z64,
    /// Plain ASCII hex, two digits a byte: large (240 KB for a 100x150 mm label
    /// at 203 dpi), but every ZPL II printer and clone reads it.
    Hex,
    /// ASCII hex with Zebra's ASCII compression (run-length codes, `,` `!` `:`
    /// for blank, black and repeated rows), from the ZPL II guide since the
    /// first ZPL II firmware: for printers without Z64, several times smaller
    /// than [`ZplEncoding::Hex`].
    Acs,
}

/// Options for [`to_zpl`]. Build with [`ZplOptions::new`] and the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZplOptions {
    encoding: ZplEncoding,
    copies: u32,
    native_codes: bool,
    home: (u32, u32),
    level: u32,
}

impl Default for ZplOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ZplOptions {
    /// Z64, one copy, codes as raster, label home at (0, 0), fast compression.
    pub fn new() -> Self {
        Self {
            encoding: ZplEncoding::Z64,
            copies: 1,
            native_codes: false,
            home: (0, 0),
            level: 1,
        }
    }

    /// The graphic-field encoding.
    pub fn encoding(mut self, encoding: ZplEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// How many copies the printer prints (`^PQ`), 1 to 99,999,999.
    pub fn copies(mut self, copies: u32) -> Self {
        self.copies = copies;
        self
    }

    /// Draw the Code 128 barcode (`^BC`) and the QR code (`^BQ`) with printer
    /// commands at their raster positions, so the printer draws them at full
    /// sharpness; their rectangles are left blank in the raster. A code that a
    /// printer cannot draw exactly (module above 10 dots, data outside
    /// `A-Z a-z 0-9 space $%*+-./:`) stays in the raster.
    pub fn native_codes(mut self, native: bool) -> Self {
        self.native_codes = native;
        self
    }

    /// Label home (`^LH`): shifts the whole label by (`x`, `y`) dots on the media.
    pub fn home(mut self, x: u32, y: u32) -> Self {
        self.home = (x, y);
        self
    }

    /// zlib level for Z64, 0 (store) to 9 (smallest). The default 1 is the
    /// fastest; higher levels save little on label rasters.
    pub fn compression_level(mut self, level: u32) -> Self {
        self.level = level;
        self
    }
}

/// Writes one label as a ZPL II format: `^XA`, `^PW`/`^LL` from the raster
/// size, `^LH`, the raster as `^GFA` graphic fields (one per band of at most
/// 99,999 bytes), native codes if asked for, `^PQ`, `^XZ`.
///
/// `dpi` is the resolution the raster was rendered for; ZPL itself counts dots,
/// so the printer must have the same resolution.
///
/// ```
/// use waybill_redact::{decode_gf, to_zpl, Bitmap, ZplOptions};
///
/// let mut raster = Bitmap::new(800, 1200); // 100x150 mm at 203 dpi
/// raster.fill_rect(40, 40, 720, 8, true);
/// let zpl = to_zpl(&raster, 203, &[], &ZplOptions::new().copies(2))?;
/// assert!(zpl.starts_with("^XA\n^PW800\n^LL1200\n"));
/// assert_eq!(decode_gf(&zpl)?, raster);
/// # Ok::<(), waybill_redact::ExportError>(())
/// ```
///
/// # Errors
/// [`ExportError::InvalidSize`] for an empty raster or one above 32,000 dots a
/// side, [`ExportError::Dpi`] for a resolution outside 1..=9600,
/// [`ExportError::InvalidOption`] for 0 or too many copies, a home beyond
/// 32,000 dots or a compression level above 9.
pub fn to_zpl(
    bitmap: &Bitmap,
    dpi: u16,
    codes: &[PlacedCode],
    opts: &ZplOptions,
) -> Result<String, ExportError> {
    let (w, h) = (bitmap.width(), bitmap.height());
    if w == 0 || h == 0 {
        return Err(ExportError::InvalidSize {
            width: w,
            height: h,
            reason: "empty raster",
        });
    }
    if w > MAX_DOTS || h > MAX_DOTS {
        return Err(ExportError::InvalidSize {
            width: w,
            height: h,
            reason: "ZPL labels are at most 32000 dots a side",
        });
    }
    if !(1..=9600).contains(&dpi) {
        return Err(ExportError::Dpi { dpi });
    }
    if !(1..=MAX_COPIES).contains(&opts.copies) {
        return Err(ExportError::InvalidOption {
            reason: "copies must be 1 to 99999999",
        });
    }
    if opts.home.0 > MAX_DOTS || opts.home.1 > MAX_DOTS {
        return Err(ExportError::InvalidOption {
            reason: "label home beyond 32000 dots",
        });
    }
    if opts.level > 9 {
        return Err(ExportError::InvalidOption {
            reason: "compression level must be 0 to 9",
        });
    }

    let native: Vec<&PlacedCode> = if opts.native_codes {
        codes.iter().filter(|c| native_ok(c, bitmap)).collect()
    } else {
        Vec::new()
    };
    let rb = bitmap.row_bytes();
    let blanked: Vec<u8>;
    let data = if native.is_empty() {
        bitmap.as_bytes()
    } else {
        let mut copy = bitmap.as_bytes().to_vec();
        for c in &native {
            clear_rect(&mut copy, rb, c);
        }
        blanked = copy;
        &blanked
    };

    let mut out = String::with_capacity(match opts.encoding {
        ZplEncoding::Z64 => rb * h as usize / 6 + 256,
        ZplEncoding::Hex => rb * h as usize * 2 + 256,
        ZplEncoding::Acs => rb * h as usize / 2 + 256,
    });
    out.push_str(&format!(
        "^XA\n^PW{w}\n^LL{h}\n^LH{},{}\n",
        opts.home.0, opts.home.1
    ));
    let rows_per_band = (MAX_GF_BYTES / rb).max(1);
    for (i, band) in data.chunks(rows_per_band * rb).enumerate() {
        let y0 = i * rows_per_band;
        let n = band.len();
        out.push_str(&format!("^FO0,{y0}^GFA,{n},{n},{rb},"));
        match opts.encoding {
            ZplEncoding::Z64 => gfdata::z64_encode(band, opts.level, &mut out)?,
            ZplEncoding::Hex => gfdata::hex_encode(band, &mut out),
            ZplEncoding::Acs => gfdata::acs_encode(band, rb, &mut out),
        }
        out.push_str("^FS\n");
    }
    for c in native {
        push_native(&mut out, c);
    }
    out.push_str(&format!("^PQ{}\n^XZ\n", opts.copies));
    Ok(out)
}

/// Clears the dots of `c`'s rectangle (already checked to lie inside the
/// raster) in packed rows, a byte at a time.
fn clear_rect(data: &mut [u8], row_bytes: usize, c: &PlacedCode) {
    let (x0, x1) = (c.x as usize, c.x as usize + c.width as usize);
    for y in c.y as usize..c.y as usize + c.height as usize {
        let Some(row) = data.get_mut(y * row_bytes..(y + 1) * row_bytes) else {
            return;
        };
        for (i, byte) in row.iter_mut().enumerate().take(x1.div_ceil(8)).skip(x0 / 8) {
            let lo = (i * 8).max(x0) - i * 8; // first cleared bit in this byte
            let hi = ((i + 1) * 8).min(x1) - i * 8; // one past the last
            let mask = (0xFFu16 >> lo) as u8 & !((0xFFu16 >> hi) as u8);
            *byte &= !mask;
        }
    }
}

/// Characters every printer reads literally in `^FD` of `^BC` (mode A) and `^BQ`:
/// no `^`/`~` (command prefixes), `>` (Code 128 invocation), `_` (`^FH`), `|`.
fn native_data_ok(data: &str) -> bool {
    !data.is_empty()
        && data.len() <= 2000
        && data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" $%*+-./:".contains(&b))
}

fn native_ok(c: &PlacedCode, bitmap: &Bitmap) -> bool {
    let inside =
        c.x.checked_add(c.width)
            .is_some_and(|r| r <= bitmap.width())
            && c.y
                .checked_add(c.height)
                .is_some_and(|b| b <= bitmap.height());
    let kind_ok = match c.kind {
        CodeKind::Code128 => true,
        // ^BQ places the symbol one ^BY height below ^FO; we use a 1-dot ^BY
        // height and ^FO one dot higher, so the code needs y >= 1.
        CodeKind::Qr => c.y >= 1,
    };
    inside
        && kind_ok
        && (1..=10).contains(&c.module)
        && c.width > 0
        && c.height > 0
        && native_data_ok(&c.data)
}

fn push_native(out: &mut String, c: &PlacedCode) {
    let m = c.module;
    match c.kind {
        // Mode A: the printer picks the Code 128 subsets (C for digit runs), as
        // a width-optimising encoder does; no human-readable line.
        CodeKind::Code128 => out.push_str(&format!(
            "^FO{},{}^BY{m},2,{h}^BCN,{h},N,N,N,A^FD{}^FS\n",
            c.x,
            c.y,
            c.data,
            h = c.height
        )),
        // Model 2, level M, automatic input mode (`MA,`); see native_ok for the
        // ^BY height shift.
        CodeKind::Qr => out.push_str(&format!(
            "^FO{},{}^BY{m},2,1^BQN,2,{m},M^FDMA,{}^FS\n",
            c.x,
            c.y - 1,
            c.data
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_rect_matches_fill_rect() {
        for (x, w) in [(0, 1), (3, 2), (5, 11), (7, 9), (8, 8), (0, 21), (13, 8)] {
            let mut b = Bitmap::new(21, 3);
            b.fill_rect(0, 0, 21, 3, true);
            let code = PlacedCode {
                kind: CodeKind::Qr,
                data: "A".into(),
                x,
                y: 1,
                width: w,
                height: 2,
                module: 1,
            };
            let mut data = b.as_bytes().to_vec();
            clear_rect(&mut data, b.row_bytes(), &code);
            b.fill_rect(x, 1, w, 2, false);
            assert_eq!(data, b.as_bytes(), "x={x} w={w}");
        }
    }
}
