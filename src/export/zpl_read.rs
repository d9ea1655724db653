//! Reading ZPL back: the `^GFA` graphic fields of a label become one
//! [`Bitmap`]. For checking our own output; safe on untrusted text.

use crate::export::ExportError;
use crate::render::Bitmap;

use super::gfdata;

/// The decoder refuses to build rasters larger than this (a 100x180 mm label at
/// 600 dpi is about 1.4 MB).
const MAX_DECODE_BYTES: usize = 16 << 20;

/// One `^GF` field found by [`decode_gf`].
struct Field {
    x: u32,
    y: u32,
    row_bytes: usize,
    data: Vec<u8>,
}

/// Reads the `^GFA` graphic fields of the first label (`^XA` … `^XZ`) in `zpl`
/// back into one raster, drawing each at its `^FO` position (relative to the
/// label home). Data in Z64, B64 (CRC checked), plain hex or Zebra's ASCII
/// compression is accepted. The raster is `^PW` wide and `^LL` high, clipped to
/// the fields' extent (a field's width is only known in whole bytes). Native
/// barcode and text commands are ignored.
///
/// Meant for checking ZPL this crate wrote; it reads untrusted text safely.
///
/// # Errors
/// [`ExportError::ZplSyntax`] when there is no graphic field or one is
/// malformed (wrong byte count, bad hex, bad Base64, compression type other
/// than `A`), [`ExportError::ZplChecksum`] for a damaged Z64/B64 field, and
/// [`ExportError::TooLarge`] above 16 MiB of raster.
pub fn decode_gf(zpl: &str) -> Result<Bitmap, ExportError> {
    let mut pw: Option<u32> = None;
    let mut ll: Option<u32> = None;
    let mut origin = (0u32, 0u32);
    let mut fields: Vec<Field> = Vec::new();
    for (name, params) in commands(zpl) {
        match name.as_str() {
            "XA" | "XZ" if !fields.is_empty() => break,
            "PW" => pw = Some(number(first_param(params))?),
            "LL" => ll = Some(number(first_param(params))?),
            "FO" => {
                let mut it = params.split(',');
                let x = it.next().map_or(Ok(0), number_or_zero)?;
                let y = it.next().map_or(Ok(0), number_or_zero)?;
                origin = (x, y);
            }
            "FS" => origin = (0, 0),
            "GF" => fields.push(parse_gf(params, origin)?),
            _ => {}
        }
    }
    compose(&fields, pw, ll)
}

/// Splits ZPL text into (upper-case two-letter name, parameters) pairs.
fn commands(zpl: &str) -> impl Iterator<Item = (String, &str)> {
    zpl.split(['^', '~']).skip(1).map(|cmd| {
        let name: String = cmd
            .chars()
            .take(2)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let params = cmd.get(name.len()..).unwrap_or("");
        (name, params)
    })
}

fn first_param(params: &str) -> &str {
    params.split(',').next().unwrap_or("")
}

fn number(s: &str) -> Result<u32, ExportError> {
    s.trim().parse::<u32>().map_err(|_| ExportError::ZplSyntax {
        reason: "expected a number",
    })
}

fn number_or_zero(s: &str) -> Result<u32, ExportError> {
    if s.trim().is_empty() {
        Ok(0)
    } else {
        number(s)
    }
}

fn parse_gf(params: &str, origin: (u32, u32)) -> Result<Field, ExportError> {
    let syntax = |reason| ExportError::ZplSyntax { reason };
    let mut it = params.splitn(5, ',');
    let kind = it.next().unwrap_or("").trim();
    if !kind.eq_ignore_ascii_case("A") {
        return Err(syntax("only ^GF compression type A is supported"));
    }
    let _binary_count = number(it.next().unwrap_or(""))?;
    let total = number(it.next().unwrap_or(""))? as usize;
    let row_bytes = number(it.next().unwrap_or(""))? as usize;
    let data = it.next().ok_or_else(|| syntax("^GF without data"))?;
    if row_bytes == 0 || total == 0 || !total.is_multiple_of(row_bytes) {
        return Err(syntax("^GF byte count is not a whole number of rows"));
    }
    if total > MAX_DECODE_BYTES {
        return Err(ExportError::TooLarge {
            bytes: total as u64,
        });
    }
    let data = gfdata::decode_field(data, total, row_bytes)?;
    Ok(Field {
        x: origin.0,
        y: origin.1,
        row_bytes,
        data,
    })
}

fn compose(fields: &[Field], pw: Option<u32>, ll: Option<u32>) -> Result<Bitmap, ExportError> {
    if fields.is_empty() {
        return Err(ExportError::ZplSyntax {
            reason: "no ^GF graphic field",
        });
    }
    let mut right = 0u64;
    let mut bottom = 0u64;
    for f in fields {
        let rows = (f.data.len() / f.row_bytes) as u64;
        right = right.max(u64::from(f.x) + f.row_bytes as u64 * 8);
        bottom = bottom.max(u64::from(f.y) + rows);
    }
    let width = pw.map_or(right, |p| right.min(u64::from(p)));
    let height = ll.map_or(bottom, |l| bottom.min(u64::from(l)));
    let bytes = width.div_ceil(8).saturating_mul(height);
    if bytes > MAX_DECODE_BYTES as u64 {
        return Err(ExportError::TooLarge { bytes });
    }
    let (Ok(width), Ok(height)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(ExportError::TooLarge { bytes });
    };
    let mut bitmap = Bitmap::new(width, height);
    for f in fields {
        for (r, row) in f.data.chunks_exact(f.row_bytes).enumerate() {
            let Some(y) = u32::try_from(r).ok().and_then(|r| f.y.checked_add(r)) else {
                break;
            };
            if y >= height {
                break;
            }
            for (i, &byte) in row.iter().enumerate() {
                if byte == 0 {
                    continue;
                }
                for bit in 0..8u32 {
                    if byte & (0x80 >> bit) != 0 {
                        let dx = u32::try_from(i).ok().and_then(|i| i.checked_mul(8));
                        if let Some(x) = dx.and_then(|d| f.x.checked_add(d + bit)) {
                            bitmap.set(x, y, true);
                        }
                    }
                }
            }
        }
    }
    Ok(bitmap)
}
