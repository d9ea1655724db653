//! The QR token: level M, smallest version, one fixed mask pattern.
//!
//! The mask search of `qrcode` costs about 2 ms per code (it scores all eight);
//! a fixed mask costs far less. Any mask gives a valid code; the search only
//! avoids patterns that are harder for poor readers, which does not matter for a
//! sharp thermal print of high-entropy Base45 text.
//!
//! The data bit stream (mode segments, terminator, padding) comes from `qrcode`.
//! The symbol is then built from tables made once per version: the symbol with
//! every data bit 0 (function patterns, format and version information, the
//! mask over the data area), and where each data bit goes. Encoding is a
//! table-driven Reed–Solomon pass and one flip per dark data bit. The tables are
//! made with `qrcode`'s own canvas, and the tests compare every module with it.

use std::sync::OnceLock;

use qrcode::canvas::{Canvas, MaskPattern, Module};
use qrcode::{Color, EcLevel, Version};

use super::Bitmap;
use crate::render::RenderError;

/// Quiet zone each side, in modules (ISO/IEC 18004).
pub(crate) const QUIET: u32 = 4;

/// The fixed mask: pattern 000, `(x + y) % 2 == 0`.
const MASK: MaskPattern = MaskPattern::Checkerboard;

/// Level M blocks of versions 1–40 (ISO/IEC 18004, table 9): error correction
/// codewords per block, then data codewords per block and number of blocks of
/// the first and of the second group.
const BLOCKS_M: [(u8, u8, u8, u8, u8); 40] = [
    (10, 16, 1, 0, 0),
    (16, 28, 1, 0, 0),
    (26, 44, 1, 0, 0),
    (18, 32, 2, 0, 0),
    (24, 43, 2, 0, 0),
    (16, 27, 4, 0, 0),
    (18, 31, 4, 0, 0),
    (22, 38, 2, 39, 2),
    (22, 36, 3, 37, 2),
    (26, 43, 4, 44, 1),
    (30, 50, 1, 51, 4),
    (22, 36, 6, 37, 2),
    (22, 37, 8, 38, 1),
    (24, 40, 4, 41, 5),
    (24, 41, 5, 42, 5),
    (28, 45, 7, 46, 3),
    (28, 46, 10, 47, 1),
    (26, 43, 9, 44, 4),
    (26, 44, 3, 45, 11),
    (26, 41, 3, 42, 13),
    (26, 42, 17, 0, 0),
    (28, 46, 17, 0, 0),
    (28, 47, 4, 48, 14),
    (28, 45, 6, 46, 14),
    (28, 47, 8, 48, 13),
    (28, 46, 19, 47, 4),
    (28, 45, 22, 46, 3),
    (28, 45, 3, 46, 23),
    (28, 45, 21, 46, 7),
    (28, 47, 19, 48, 10),
    (28, 46, 2, 47, 29),
    (28, 46, 10, 47, 23),
    (28, 46, 14, 47, 21),
    (28, 46, 14, 47, 23),
    (28, 47, 12, 48, 26),
    (28, 47, 6, 48, 34),
    (28, 46, 29, 47, 14),
    (28, 46, 13, 47, 32),
    (28, 47, 40, 48, 7),
    (28, 47, 18, 48, 31),
];

/// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1: powers of α, twice
/// over so that a sum of two logarithms needs no reduction.
const EXP: [u8; 512] = {
    let mut t = [0u8; 512];
    let mut x = 1u16;
    let mut i = 0;
    while i < 512 {
        t[i] = x as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= 0x11d;
        }
        i += 1;
    }
    t
};

/// Logarithms to base α (`LOG[0]` unused).
const LOG: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 255 {
        t[EXP[i] as usize] = i as u8;
        i += 1;
    }
    t
};

fn gf_mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    EXP[usize::from(LOG[usize::from(a)]) + usize::from(LOG[usize::from(b)])]
}

/// The tables of one version.
struct Table {
    width: u32,
    /// The symbol with every data bit 0, row-major, `true` = dark.
    base: Vec<bool>,
    /// Module index (`y * width + x`) of each data bit, in placement order.
    order: Vec<u16>,
    /// Blocks: error correction codewords per block, then (data codewords,
    /// blocks) of each group.
    ec_len: usize,
    groups: [(usize, usize); 2],
    /// `gen_times[f * ec_len..][..ec_len]`: the generator polynomial (leading
    /// term dropped) times `f`, the step of the Reed–Solomon division.
    gen_times: Vec<u8>,
}

static TABLES: [OnceLock<Option<Table>>; 40] = [const { OnceLock::new() }; 40];

impl Table {
    /// The tables of version `v` (1–40), made on first use.
    fn of(v: i16) -> Option<&'static Table> {
        let slot = TABLES.get(usize::try_from(v).ok()?.checked_sub(1)?)?;
        slot.get_or_init(|| Table::make(v)).as_ref()
    }

    fn make(v: i16) -> Option<Table> {
        let &(ec, s1, n1, s2, n2) = BLOCKS_M.get(usize::try_from(v - 1).ok()?)?;
        let version = Version::Normal(v);
        let w = version.width();
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        // The data area in placement order: pairs of columns from the right,
        // upwards then downwards, skipping the vertical timing pattern.
        let mut order = Vec::new();
        let (mut right, mut upward) = (w - 1, true);
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            for i in 0..w {
                let y = if upward { w - 1 - i } else { i };
                for x in [right, right - 1] {
                    if canvas.get(x, y) == Module::Empty {
                        order.push(u16::try_from(y * w + x).ok()?);
                    }
                }
            }
            upward = !upward;
            right -= 2;
        }
        let (ec_len, groups) = (
            usize::from(ec),
            [
                (usize::from(s1), usize::from(n1)),
                (usize::from(s2), usize::from(n2)),
            ],
        );
        let data_len: usize = groups.iter().map(|(s, n)| s * n).sum();
        let blocks: usize = groups.iter().map(|(_, n)| n).sum();
        canvas.draw_data(&vec![0; data_len], &vec![0; ec_len * blocks]);
        canvas.apply_mask(MASK);
        let base = canvas
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        // Generator polynomial of degree ec_len: the product of (x - α^i).
        let mut gen = vec![1u8];
        for i in 0..ec_len {
            let root = EXP.get(i).copied().unwrap_or(0);
            let mut next = vec![0u8; gen.len() + 1];
            for (k, g) in gen.iter().enumerate() {
                if let Some(n) = next.get_mut(k) {
                    *n ^= g;
                }
                if let Some(n) = next.get_mut(k + 1) {
                    *n ^= gf_mul(*g, root);
                }
            }
            gen = next;
        }
        let mut gen_times = Vec::with_capacity(256 * ec_len);
        for f in 0..=255u8 {
            gen_times.extend(gen.iter().skip(1).map(|g| gf_mul(*g, f)));
        }
        Some(Table {
            width: u32::try_from(w).ok()?,
            base,
            order,
            ec_len,
            groups,
            gen_times,
        })
    }

    /// The codewords in placement order: data blocks interleaved, then their
    /// error correction blocks interleaved.
    fn codewords(&self, data: &[u8]) -> Vec<u8> {
        let mut blocks = Vec::new();
        let mut rest = data;
        for &(size, count) in &self.groups {
            for _ in 0..count {
                let (block, tail) = rest.split_at(size.min(rest.len()));
                blocks.push(block);
                rest = tail;
            }
        }
        let ecs: Vec<Vec<u8>> = blocks.iter().map(|b| self.error_correction(b)).collect();
        let mut out = Vec::with_capacity(data.len() + ecs.len() * self.ec_len);
        let longest = blocks.iter().map(|b| b.len()).max().unwrap_or(0);
        for i in 0..longest {
            out.extend(blocks.iter().filter_map(|b| b.get(i)));
        }
        for i in 0..self.ec_len {
            out.extend(ecs.iter().filter_map(|e| e.get(i)));
        }
        out
    }

    /// Reed–Solomon error correction codewords of one block: the remainder of
    /// the block (times x^ec_len) divided by the generator, one table row per
    /// data codeword.
    fn error_correction(&self, block: &[u8]) -> Vec<u8> {
        let n = self.ec_len;
        let mut work = Vec::with_capacity(block.len() + n);
        work.extend_from_slice(block);
        work.resize(block.len() + n, 0);
        for i in 0..block.len() {
            let f = work.get(i).copied().unwrap_or(0);
            if f == 0 {
                continue;
            }
            let row = self.gen_times.get(usize::from(f) * n..).unwrap_or_default();
            if let Some(rest) = work.get_mut(i + 1..i + 1 + n) {
                for (r, g) in rest.iter_mut().zip(row) {
                    *r ^= g;
                }
            }
        }
        work.split_off(block.len())
    }
}

/// A QR code's modules, row-major, `true` = dark.
#[derive(Debug, Clone)]
pub(crate) struct Qr {
    width: u32,
    dark: Vec<bool>,
}

impl Qr {
    /// Encodes `text` at level M with the fixed mask.
    ///
    /// # Errors
    /// [`RenderError::TokenTooLong`] when it does not fit QR version 40-M.
    pub fn encode(text: &str) -> Result<Qr, RenderError> {
        let too_long = || RenderError::TokenTooLong { len: text.len() };
        let bits =
            qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M).map_err(|_| too_long())?;
        let Version::Normal(v) = bits.version() else {
            return Err(too_long());
        };
        let table = Table::of(v).ok_or_else(too_long)?;
        let codewords = table.codewords(&bits.into_bytes());
        let mut dark = table.base.clone();
        // Each set bit, most significant first, flips the module it goes to. All
        // eight bits are XORed in, set or not: a loop over the set bits only ends
        // where the data says, and the CPU mispredicts that about once a byte.
        for (&c, at) in codewords.iter().zip(table.order.chunks_exact(8)) {
            for (k, a) in at.iter().enumerate() {
                if let Some(m) = dark.get_mut(usize::from(*a)) {
                    *m ^= c & (0x80 >> k) != 0;
                }
            }
        }
        Ok(Qr {
            width: table.width,
            dark,
        })
    }

    /// Modules per side, quiet zone excluded.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Draws the modules with the top-left corner at (`x`, `y`), `module` dots
    /// each: each module row is built once as a packed row, then copied into its
    /// `module` scan lines. The caller keeps the code inside the bitmap.
    pub fn draw(&self, bm: &mut Bitmap, x: u32, y: u32, module: u32) {
        let side = self.width.saturating_mul(module);
        let first = x as usize / 8;
        let end = (x.saturating_add(side) as usize)
            .div_ceil(8)
            .min(bm.row_bytes());
        let mut line = vec![0u8; bm.row_bytes()];
        let module = module.min(32);
        let ones = (1u64 << module) - 1;
        for (r, row) in self.dark.chunks(self.width.max(1) as usize).enumerate() {
            // Modules become dots through a bit accumulator, starting at the
            // first dot's offset in its byte.
            let (mut acc, mut n) = (0u64, x % 8);
            let mut out = line.iter_mut().skip(first);
            for dark in row {
                acc = acc << module | if *dark { ones } else { 0 };
                n += module;
                while n >= 8 {
                    n -= 8;
                    if let Some(b) = out.next() {
                        *b = (acc >> n) as u8;
                    }
                }
            }
            if let Some(b) = out.next() {
                *b = if n > 0 { (acc << (8 - n)) as u8 } else { 0 };
            }
            bm.or_rows(&line, first..end, y + r as u32 * module, module);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The symbol as `qrcode` builds it, with the same fixed mask: its bit
    /// stream, its Reed–Solomon code and its canvas.
    fn reference(text: &str) -> (u32, Vec<bool>) {
        let bits = qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M).unwrap();
        let version = bits.version();
        let (data, ec) =
            qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M).unwrap();
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        canvas.apply_mask(MASK);
        let dark = canvas
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        (version.width() as u32, dark)
    }

    /// Base45-like text of `len` characters, with digit runs and lowercase
    /// stretches so that `qrcode` mixes numeric, alphanumeric and byte segments.
    fn text(len: usize, seed: u64) -> String {
        const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abc";
        let mut s = seed.wrapping_add(1);
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from(CHARS[((s >> 33) % CHARS.len() as u64) as usize])
            })
            .collect()
    }

    #[test]
    fn every_version_matches_qrcode_module_for_module() {
        let mut versions = std::collections::BTreeSet::new();
        // Lengths that reach every version from 1 to 40 at level M.
        let mut len = 1;
        while len < 3300 {
            for seed in 0..2 {
                let t = if seed == 0 {
                    "WB1:".to_owned() + &text(len, 7).to_uppercase()
                } else {
                    text(len, len as u64)
                };
                let Ok(q) = Qr::encode(&t) else { continue };
                let (width, dark) = reference(&t);
                assert_eq!(
                    (q.width, &q.dark),
                    (width, &dark),
                    "length {len}, seed {seed}"
                );
                versions.insert(q.width);
            }
            len += 1 + len / 40;
        }
        assert_eq!(versions.len(), 40, "{versions:?}");
    }

    #[test]
    fn reed_solomon_matches_qrcode() {
        let t = Table::of(12).unwrap();
        let block: Vec<u8> = (0..37u8).map(|b| b.wrapping_mul(97)).collect();
        assert_eq!(
            t.error_correction(&block),
            qrcode::ec::create_error_correction_code(&block, 22)
        );
    }

    #[test]
    fn too_long_is_an_error() {
        let text = "WR1:".to_owned() + &"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".repeat(8);
        let q = Qr::encode(&text).unwrap();
        assert_eq!(
            q.width(),
            17 + 4 * 12,
            "364 alphanumeric characters fit version 12-M"
        );
        assert!(matches!(
            Qr::encode(&"A".repeat(5000)),
            Err(RenderError::TokenTooLong { .. })
        ));
    }
}
