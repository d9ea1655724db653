//! The data encodings of a ZPL `^GFA` graphic field: Zebra's Z64 (zlib, Base64,
//! CRC-16) and ASCII hex, with a decoder for both (and for Zebra's ASCII
//! compression scheme, which other tools emit) that never panics on bad input.

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::export::ExportError;

/// CRC-16 lookup table for polynomial 0x1021, MSB first (not reflected).
const CRC_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no final XOR).
///
/// Zebra's guide only says "a CRC across the Base64-encoded data, four
/// hexadecimal digits"; Zebra's own published sample (developer.zebra.com) and
/// independent encoders compute it with this variant over the Base64 text.
pub(crate) fn crc16_xmodem(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| {
        let idx = usize::from((crc >> 8) as u8 ^ b);
        (crc << 8) ^ CRC_TABLE[idx]
    })
}

/// Appends `:Z64:<base64 of zlib(raw)>:<CRC>` to `out`.
pub(crate) fn z64_encode(raw: &[u8], level: u32, out: &mut String) -> Result<(), ExportError> {
    let mut enc = ZlibEncoder::new(Vec::with_capacity(raw.len() / 8), Compression::new(level));
    enc.write_all(raw).map_err(ExportError::Io)?;
    let compressed = enc.finish().map_err(ExportError::Io)?;
    out.push_str(":Z64:");
    let start = out.len();
    STANDARD.encode_string(&compressed, out);
    let crc = crc16_xmodem(&out.as_bytes()[start..]);
    out.push(':');
    push_hex4(out, crc);
    Ok(())
}

fn push_hex4(out: &mut String, v: u16) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for shift in [12u16, 8, 4, 0] {
        out.push(char::from(DIGITS[usize::from((v >> shift) & 0xF)]));
    }
}

/// Appends the plain ASCII hex form of `raw` (two digits a byte) to `out`.
pub(crate) fn hex_encode(raw: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = Vec::with_capacity(raw.len() * 2);
    for &b in raw {
        buf.push(DIGITS[usize::from(b >> 4)]);
        buf.push(DIGITS[usize::from(b & 0xF)]);
    }
    // Only ASCII digits were pushed, so this never fails.
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// Appends `raw` in Zebra's ASCII compression scheme: hex digits with
/// run-length codes (`G`..`Y` = 1..19 and `g`..`z` = 20..400 repeats, added
/// together), `,` = rest of the row 0, `!` = rest of the row 1, `:` = repeat
/// the previous row. One line per row.
pub(crate) fn acs_encode(raw: &[u8], row_bytes: usize, out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf: Vec<u8> = Vec::with_capacity(raw.len() / 2);
    let mut prev: Option<&[u8]> = None;
    let mut nibbles: Vec<u8> = Vec::with_capacity(row_bytes * 2);
    for row in raw.chunks(row_bytes.max(1)) {
        if prev == Some(row) {
            buf.push(b':');
        } else {
            nibbles.clear();
            nibbles.extend(row.iter().flat_map(|&b| [b >> 4, b & 0xF]));
            let mut i = 0;
            while let Some(&nib) = nibbles.get(i) {
                let run = nibbles[i..].iter().take_while(|&&n| n == nib).count();
                if i + run == nibbles.len() && (nib == 0 || nib == 0xF) {
                    buf.push(if nib == 0 { b',' } else { b'!' });
                    break;
                }
                push_count(&mut buf, run);
                buf.push(DIGITS[usize::from(nib)]);
                i += run;
            }
        }
        buf.push(b'\n');
        prev = Some(row);
    }
    // Only ASCII was pushed, so this never fails.
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// Writes the repeat code for `n` copies of the next digit (nothing for 1).
fn push_count(buf: &mut Vec<u8>, n: usize) {
    if n < 2 {
        return;
    }
    let mut rest = n;
    while rest >= 400 {
        buf.push(b'z');
        rest -= 400;
    }
    if rest >= 20 {
        // 'g' = 20 .. 'y' = 380.
        buf.push(b'g' + (rest / 20 - 1) as u8);
        rest %= 20;
    }
    if rest > 0 {
        // 'G' = 1 .. 'Y' = 19.
        buf.push(b'G' + (rest - 1) as u8);
    }
}

/// Decodes the data part of a `^GFA` field into exactly `total` bytes of
/// `row_bytes`-byte rows. Z64 and B64 (with CRC check), plain hex, and hex with
/// Zebra's ASCII compression (`G`–`Y`, `g`–`z` repeat counts, `,` `!` `:`).
pub(crate) fn decode_field(
    data: &str,
    total: usize,
    row_bytes: usize,
) -> Result<Vec<u8>, ExportError> {
    let data = data.trim();
    if let Some(rest) = data.strip_prefix(":Z64:") {
        let bytes = b64_checked(rest)?;
        inflate_exact(&bytes, total)
    } else if let Some(rest) = data.strip_prefix(":B64:") {
        let bytes = b64_checked(rest)?;
        if bytes.len() != total {
            return Err(syntax("B64 data length differs from the byte count"));
        }
        Ok(bytes)
    } else {
        hex_decode(data, total, row_bytes)
    }
}

fn syntax(reason: &'static str) -> ExportError {
    ExportError::ZplSyntax { reason }
}

/// Splits `<base64>:<crc>`, checks the CRC and decodes. Line breaks inside the
/// Base64 text are allowed (Zebra's guide permits them) and excluded from the CRC.
fn b64_checked(rest: &str) -> Result<Vec<u8>, ExportError> {
    let (text, crc) = rest
        .rsplit_once(':')
        .ok_or_else(|| syntax("Z64/B64 data without a CRC"))?;
    let crc = crc.trim();
    if crc.len() != 4 {
        return Err(syntax("Z64/B64 CRC is not four hex digits"));
    }
    let want = u16::from_str_radix(crc, 16).map_err(|_| syntax("Z64/B64 CRC is not hex"))?;
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if crc16_xmodem(&clean) != want {
        return Err(ExportError::ZplChecksum);
    }
    STANDARD
        .decode(&clean)
        .map_err(|_| syntax("Z64/B64 data is not Base64"))
}

fn inflate_exact(compressed: &[u8], total: usize) -> Result<Vec<u8>, ExportError> {
    let limit = u64::try_from(total).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| syntax("Z64 data is not a valid zlib stream"))?;
    if out.len() != total {
        return Err(syntax("Z64 data length differs from the byte count"));
    }
    Ok(out)
}

/// ASCII hex with optional Zebra ASCII compression. Works on nibbles: a row is
/// `2 * row_bytes` nibbles; the output must be exactly `total` bytes. Repeats,
/// row fills and repeated rows are written a row at a time, so a short field
/// that expands to the 16 MiB budget costs a copy, not a step per nibble.
fn hex_decode(data: &str, total: usize, row_bytes: usize) -> Result<Vec<u8>, ExportError> {
    let row_nibbles = row_bytes
        .checked_mul(2)
        .filter(|&n| n > 0)
        .ok_or_else(|| syntax("zero bytes per row"))?;
    let mut raster = Raster {
        out: Vec::new(),
        line: Vec::with_capacity(row_nibbles),
        prev: None,
        row_nibbles,
        total,
    };
    let mut count: usize = 0;
    for c in data.bytes() {
        match c {
            b'0'..=b'9' | b'A'..=b'F' | b'a'..=b'f' => {
                raster.push_run(hex_val(c), count.max(1))?;
                count = 0;
            }
            b'G'..=b'Y' => count = count.saturating_add(usize::from(c - b'G' + 1)),
            b'g'..=b'z' => count = count.saturating_add(20 * usize::from(c - b'g' + 1)),
            b',' | b'!' => {
                // The rest of the row, or a whole row when none is begun.
                let fill = if c == b',' { 0 } else { 0xF };
                raster.push_run(fill, row_nibbles - raster.line.len())?;
                count = 0;
            }
            b':' => {
                raster.repeat_row()?;
                count = 0;
            }
            c if c.is_ascii_whitespace() => {}
            _ => return Err(syntax("invalid character in hex graphic data")),
        }
    }
    if !raster.line.is_empty() || raster.out.len() != total {
        return Err(syntax("hex graphic data shorter than the byte count"));
    }
    Ok(raster.out)
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// A raster being decoded from hex: whole rows in `out`, the row begun in
/// `line` (nibbles, always shorter than a row), the last whole row in `prev`.
/// `total` is a whole number of rows (the caller checks).
struct Raster {
    out: Vec<u8>,
    line: Vec<u8>,
    prev: Option<Vec<u8>>,
    row_nibbles: usize,
    total: usize,
}

impl Raster {
    /// Nibbles that still fit before the raster holds `total` bytes.
    fn room(&self) -> usize {
        self.total
            .saturating_sub(self.out.len())
            .saturating_mul(2)
            .saturating_sub(self.line.len())
    }

    /// Appends `n` copies of the nibble `nib`.
    fn push_run(&mut self, nib: u8, n: usize) -> Result<(), ExportError> {
        if n > self.room() {
            return Err(syntax("graphic data longer than the byte count"));
        }
        let mut left = n;
        while left > 0 {
            if self.line.is_empty() && left >= self.row_nibbles {
                // Whole rows of the same nibble at once.
                let rows = left / self.row_nibbles;
                let bytes = rows * (self.row_nibbles / 2);
                self.out.resize(self.out.len() + bytes, (nib << 4) | nib);
                self.prev = Some(vec![nib; self.row_nibbles]);
                left -= rows * self.row_nibbles;
                continue;
            }
            let take = left.min(self.row_nibbles - self.line.len());
            self.line.resize(self.line.len() + take, nib);
            left -= take;
            if self.line.len() == self.row_nibbles {
                pack(&self.line, &mut self.out);
                self.prev = Some(std::mem::replace(
                    &mut self.line,
                    Vec::with_capacity(self.row_nibbles),
                ));
            }
        }
        Ok(())
    }

    /// `:` repeats the last whole row; it may only start a row.
    fn repeat_row(&mut self) -> Result<(), ExportError> {
        if !self.line.is_empty() {
            return Err(syntax("':' (repeat row) in the middle of a row"));
        }
        let row = self
            .prev
            .as_ref()
            .ok_or_else(|| syntax("':' (repeat row) before any row"))?;
        if row.len() > self.room() {
            return Err(syntax("graphic data longer than the byte count"));
        }
        pack(row, &mut self.out);
        Ok(())
    }
}

/// Appends nibbles (an even number) as bytes, high nibble first.
fn pack(nibbles: &[u8], out: &mut Vec<u8>) {
    out.extend(nibbles.chunks_exact(2).map(|pair| match pair {
        [hi, lo] => (hi << 4) | lo,
        _ => 0,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_xmodem() {
        // The CRC-16/XMODEM check value from the CRC catalogue.
        assert_eq!(crc16_xmodem(b"123456789"), 0x31C3);
        assert_eq!(crc16_xmodem(b""), 0);
    }

    #[test]
    fn z64_round_trip_and_crc_detects_damage() {
        let raw: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut s = String::new();
        z64_encode(&raw, 1, &mut s).unwrap();
        assert!(s.starts_with(":Z64:"));
        assert_eq!(decode_field(&s, 1000, 10).unwrap(), raw);
        let damaged = s.replacen('A', "B", 1);
        assert!(matches!(
            decode_field(&damaged, 1000, 10),
            Err(ExportError::ZplChecksum)
        ));
        assert!(decode_field(&s, 999, 10).is_err());
    }

    #[test]
    fn ascii_compression_round_trips() {
        let mut raw = vec![0u8; 30 * 4];
        raw[0] = 0xFF; // row 0: FF then zeros
        raw[30..60].fill(0xFF); // row 1: all ones
        raw[60..90].fill(0xFF); // row 2: same as row 1
        for (i, b) in raw[90..].iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) & 0xF0; // row 3: mixed
        }
        let mut s = String::new();
        acs_encode(&raw, 30, &mut s);
        assert_eq!(s.lines().nth(1), Some("!"));
        assert_eq!(s.lines().nth(2), Some(":"));
        assert!(s.starts_with("HF,\n"));
        assert_eq!(decode_field(&s, raw.len(), 30).unwrap(), raw);
        let long = vec![0x11u8; 500];
        let mut s = String::new();
        acs_encode(&long, 500, &mut s);
        assert_eq!(s, "zzp1\n"); // 1000 nibbles = 400 + 400 + 200
    }

    #[test]
    fn ascii_compression_is_understood() {
        // 2 rows of 3 bytes: "FF0000" then repeat; then ",": a zero row.
        let d = "FF,\n:\n,";
        assert_eq!(
            decode_field(d, 9, 3).unwrap(),
            vec![0xFF, 0, 0, 0xFF, 0, 0, 0, 0, 0]
        );
        // I = 3 repeats, h = 40 repeats.
        assert_eq!(decode_field("IF!", 2, 2).unwrap(), vec![0xFF, 0xFF]);
        assert_eq!(decode_field("h0", 20, 20).unwrap(), vec![0; 20]);
        assert!(decode_field(":", 2, 2).is_err());
        assert!(decode_field("FFFF00", 2, 2).is_err());
        assert!(decode_field("FF", 2, 2).is_err());
    }

    /// The decoder as it was, a nibble at a time: the reference the row-at-a-time
    /// decoder must agree with, result for result.
    fn reference_decode(
        data: &str,
        total: usize,
        row_bytes: usize,
    ) -> Result<Vec<u8>, ExportError> {
        let row_nibbles = row_bytes
            .checked_mul(2)
            .filter(|&n| n > 0)
            .ok_or_else(|| syntax("zero bytes per row"))?;
        let mut out: Vec<u8> = Vec::new();
        let mut line: Vec<u8> = Vec::new();
        let mut prev: Option<Vec<u8>> = None;
        let mut count: usize = 0;
        let mut push = |line: &mut Vec<u8>, prev: &mut Option<Vec<u8>>, nib: u8| {
            if out.len() >= total {
                return Err(syntax("graphic data longer than the byte count"));
            }
            line.push(nib);
            if line.len() == row_nibbles {
                pack(line, &mut out);
                *prev = Some(std::mem::take(line));
            }
            Ok(())
        };
        for c in data.bytes() {
            match c {
                b'0'..=b'9' | b'A'..=b'F' | b'a'..=b'f' => {
                    for _ in 0..count.max(1) {
                        push(&mut line, &mut prev, hex_val(c))?;
                    }
                    count = 0;
                }
                b'G'..=b'Y' => count += usize::from(c - b'G' + 1),
                b'g'..=b'z' => count += 20 * usize::from(c - b'g' + 1),
                b',' | b'!' => {
                    let fill = if c == b',' { 0 } else { 0xF };
                    loop {
                        push(&mut line, &mut prev, fill)?;
                        if line.is_empty() {
                            break;
                        }
                    }
                    count = 0;
                }
                b':' => {
                    if !line.is_empty() {
                        return Err(syntax("':' (repeat row) in the middle of a row"));
                    }
                    let row = prev
                        .clone()
                        .ok_or_else(|| syntax("':' (repeat row) before any row"))?;
                    for nib in row {
                        push(&mut line, &mut prev, nib)?;
                    }
                    count = 0;
                }
                c if c.is_ascii_whitespace() => {}
                _ => return Err(syntax("invalid character in hex graphic data")),
            }
        }
        if !line.is_empty() || out.len() != total {
            return Err(syntax("hex graphic data shorter than the byte count"));
        }
        Ok(out)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn the_row_at_a_time_decoder_agrees_with_the_nibble_at_a_time_one(
            // Any characters, and a few that fill whole rows often.
            data in "[0-9A-Fa-fG-Yg-z,!: \n]{0,40}|[0F,!:GIh]{0,16}",
            rows in 1usize..8,
            row_bytes in 1usize..5,
        ) {
            let total = rows * row_bytes;
            // ExportError has no PartialEq: its Debug text names the variant and reason.
            proptest::prop_assert_eq!(
                format!("{:?}", hex_decode(&data, total, row_bytes)),
                format!("{:?}", reference_decode(&data, total, row_bytes))
            );
        }
    }
}
