//! Deflate for PNG scanlines: the zlib stream `fdeflate` makes, made faster.
//!
//! The bytes are exactly those of `fdeflate::Compressor` (one dynamic Huffman
//! block with fdeflate's fixed table, tuned for filtered scanlines, and zero runs
//! as matches of distance 1), so the PNG files do not change; the tests compare
//! the two on label rasters and on random data. Like fdeflate, this reads the
//! data 8 bytes at a time and adds a word of zeros to the pending run. Unlike
//! it, a word that is not all zeros is coded without branches: fdeflate's
//! branches on whether a run is pending and on where the word's zeros are go
//! whichever way the data says, about once a word on a label, and the CPU
//! mispredicts them. Here both cases are one computation: an empty run codes no
//! bits, a pending run's bits come from one table, all eight bytes are coded and
//! the bits of the zeros that belong to runs are dropped, and the bits are
//! stored 8 bytes at a time without a test. On 16 different labels in turn
//! this takes 49 µs a label against fdeflate's 66–75 µs (`cargo bench --bench
//! render -- 16_labels`); on one label over and over fdeflate is faster, as
//! the branch predictor learns that label's data.
//!
//! fdeflate's zero runs, which this keeps: zeros at the end of a word start a
//! run, whole zero words extend it, and the zeros at the start of the next word
//! that is not all zeros end it. Other zeros are literals, and so are the bytes
//! after the last whole word. A run of n zeros is a literal 0 and a match of
//! n - 1 (several for more than 258); a match shorter than 5 is written as
//! literal zeros instead.

/// fdeflate 0.3's code lengths for the literal/length alphabet (its
/// `tables::HUFFMAN_LENGTHS`, MIT OR Apache-2.0): short codes for bytes near 0 and
/// near 255, which is what Up-filtered rows hold.
const LENGTHS: [u8; 286] = [
    2, 3, 4, 5, 5, 6, 6, 7, 7, 7, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10,
    10, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 10, 11, 10, 10, 10, 10, 10, 10, 10, 10, 10, 9, 9, 9, 9, 9, 8, 9, 8, 8, 8, 8, 8, 7,
    7, 7, 6, 6, 6, 5, 4, 3, 12, 12, 12, 9, 9, 11, 10, 11, 11, 10, 11, 11, 11, 11, 11, 11, 12, 11,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 9,
];

/// The canonical Huffman codes of [`LENGTHS`], bit-reversed for deflate's
/// least-significant-bit-first order.
const CODES: [u16; 286] = canonical_codes(&LENGTHS);

// Runs and masked literals rely on the code of a zero byte being zero bits.
const _: () = assert!(CODES[0] == 0);

/// fdeflate's zlib header and the block header that describes its table: the
/// first 53 bytes whole, then the low 5 bits of the last.
const HEADER: [u8; 54] = [
    120, 1, 237, 192, 3, 160, 36, 89, 150, 198, 241, 255, 119, 238, 141, 200, 204, 167, 114, 75,
    99, 174, 109, 219, 182, 109, 219, 182, 109, 219, 182, 109, 105, 140, 158, 150, 74, 175, 158,
    50, 51, 34, 238, 249, 118, 183, 106, 122, 166, 135, 59, 107, 213, 15,
];

/// The symbol that ends a block.
const END_OF_BLOCK: usize = 256;

/// The symbol of a match of 258 bytes, the longest.
const LENGTH_258: usize = 285;

/// Deflate's match lengths (RFC 1951, 3.2.5): the shortest length of each length
/// symbol from 257 on, and how many extra bits follow it.
const LENGTH_BASES: [(u16, u8); 29] = [
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 0),
    (7, 0),
    (8, 0),
    (9, 0),
    (10, 0),
    (11, 1),
    (13, 1),
    (15, 1),
    (17, 1),
    (19, 2),
    (23, 2),
    (27, 2),
    (31, 2),
    (35, 3),
    (43, 3),
    (51, 3),
    (59, 3),
    (67, 4),
    (83, 4),
    (99, 4),
    (115, 4),
    (131, 5),
    (163, 5),
    (195, 5),
    (227, 5),
    (258, 0),
];

/// For each match length 0 to 258, the index in [`LENGTH_BASES`] of its symbol
/// (lengths below 3 map to 0 and are never looked up).
const LENGTH_SYMBOLS: [u8; 259] = {
    let mut table = [0u8; 259];
    let mut len = 3;
    let mut sym = 0;
    while len <= 258 {
        if sym + 1 < LENGTH_BASES.len() && LENGTH_BASES[sym + 1].0 as usize <= len {
            sym += 1;
        }
        table[len] = sym as u8;
        len += 1;
    }
    table
};

/// Canonical Huffman codes from code lengths (RFC 1951, 3.2.2), bit-reversed.
///
/// # Panics
/// At compile time, when the lengths do not make a complete code.
const fn canonical_codes(lengths: &[u8; 286]) -> [u16; 286] {
    let mut codes = [0u16; 286];
    let mut code = 0u32;
    let mut len = 1;
    while len <= 15 {
        let mut sym = 0;
        while sym < lengths.len() {
            if lengths[sym] == len {
                codes[sym] = (code as u16).reverse_bits() >> (16 - len);
                code += 1;
            }
            sym += 1;
        }
        code <<= 1;
        len += 1;
    }
    assert!(
        code == 1 << 16,
        "the code lengths do not make a complete code"
    );
    codes
}

/// For each run of 0 to 258 zeros, its bits as fdeflate writes them (a literal
/// 0, then the length code, its extra bits and the one-bit distance code 0, or
/// for short runs only literal zeros) and how many: at most 2 + 12 + 5 + 1.
const RUN_BITS: [(u32, u8); 259] = {
    let mut table = [(0u32, 0u8); 259];
    let mut n = 1;
    while n <= 258 {
        let rest = n - 1;
        let zero = LENGTHS[0] as u32;
        table[n] = if rest <= 4 {
            // The code of 0 is all zero bits.
            (0, (n as u32 * zero) as u8)
        } else {
            let sym = LENGTH_SYMBOLS[rest] as usize;
            let (base, extra) = LENGTH_BASES[sym];
            let len = LENGTHS[257 + sym] as u32;
            let bits = CODES[0] as u32
                | (CODES[257 + sym] as u32) << zero
                | (rest as u32 - base as u32) << (zero + len);
            (bits, (zero + len + extra as u32 + 1) as u8)
        };
        n += 1;
    }
    table
};

/// Appends the zlib stream of `data` to `out`: the bytes
/// `fdeflate::compress_to_vec(data)` returns.
pub(crate) fn compress(data: &[u8], out: &mut Vec<u8>) {
    let mut coder = Coder::new(out);
    let (words, tail) = data.as_chunks::<8>();
    for word in words {
        coder.word(u64::from_le_bytes(*word));
    }
    coder.finish(tail, simd_adler32::adler32(&data));
}

/// fdeflate's coder: 8-byte words in, deflate bits out.
struct Coder<'a> {
    /// The stream up to `at`, then room that [`Coder::put`] stores 8 bytes into.
    out: &'a mut Vec<u8>,
    /// Where the next whole byte of bits goes in `out`.
    at: usize,
    /// Bits not yet past `at`, the first lowest: `count` of them, fewer than 8
    /// between calls.
    bits: u64,
    count: u32,
    /// Zero bytes taken and not yet coded.
    run: usize,
}

impl<'a> Coder<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        let at = out.len();
        out.extend_from_slice(&HEADER[..53]);
        let mut coder = Coder {
            out,
            at: at + 53,
            bits: 0,
            count: 0,
            run: 0,
        };
        coder.put(u64::from(HEADER[53]), 5);
        coder
    }

    /// Appends the low `n` bits of `bits` (`n` ≤ 56, no bits set above them).
    #[inline(always)]
    fn put(&mut self, bits: u64, n: u32) {
        self.bits |= bits << self.count;
        self.count += n;
        if self.out.len() < self.at + 8 {
            // Rarely: the caller reserves room, which is used up first.
            self.out.resize((self.at + 8).max(self.out.capacity()), 0);
        }
        // All 8 bytes are stored, and `at` moves past the whole ones: no branch
        // on whether the bits filled a byte.
        if let Some(spare) = self.out.get_mut(self.at..self.at + 8) {
            spare.copy_from_slice(&self.bits.to_le_bytes());
        }
        let whole = self.count / 8;
        self.at += whole as usize;
        self.bits >>= 8 * whole;
        self.count %= 8;
    }

    /// Appends the code of `sym`.
    #[inline(always)]
    fn code(&mut self, sym: usize) {
        self.put(u64::from(CODES[sym]), u32::from(LENGTHS[sym]));
    }

    /// Takes the next 8 bytes, the first lowest.
    #[inline(always)]
    fn word(&mut self, word: u64) {
        if word == 0 {
            self.run += 8;
            return;
        }
        // A pending run takes the zeros this word starts with; the zeros it ends
        // with start the next run; the bytes between are literals.
        let first = if self.run > 0 {
            word.trailing_zeros() / 8
        } else {
            0
        };
        let ending = word.leading_zeros() / 8;
        self.code_run(self.run + first as usize);
        self.run = ending as usize;
        self.literals(word, first, 8 - ending);
    }

    /// Literals for bytes `first..end` of `word`. The bytes outside are zeros,
    /// whose code is 2 zero bits: all eight bytes are coded, in two steps of four
    /// whose codes are ORed together, and the bits of the zeros outside are
    /// dropped from the front and the back of each step.
    #[inline(always)]
    fn literals(&mut self, word: u64, first: u32, end: u32) {
        const ZERO: u32 = LENGTHS[0] as u32;
        for half in 0..2 {
            let (mut bits, mut n) = (0u64, 0u32);
            for i in 4 * half..4 * half + 4 {
                let sym = usize::from((word >> (8 * i)) as u8);
                bits |= u64::from(CODES[sym]) << n;
                n += u32::from(LENGTHS[sym]);
            }
            let front = ZERO * first.saturating_sub(4 * half).min(4);
            let back = ZERO * (4 * half + 4).saturating_sub(end).min(4);
            self.put(bits >> front, n.saturating_sub(front + back));
        }
    }

    /// A run of `n` zeros (none for 0).
    #[inline(always)]
    fn code_run(&mut self, n: usize) {
        match RUN_BITS.get(n) {
            Some(&(bits, len)) => self.put(u64::from(bits), u32::from(len)),
            None => self.code_long_run(n),
        }
    }

    /// A run of more than 258 zeros: a literal 0, then matches of 258 (each
    /// followed by the distance code), then the rest as [`RUN_BITS`] codes it
    /// less its literal 0.
    #[cold]
    fn code_long_run(&mut self, n: usize) {
        self.code(0);
        let mut rest = n - 1;
        while rest >= 258 {
            self.put(
                u64::from(CODES[LENGTH_258]),
                u32::from(LENGTHS[LENGTH_258]) + 1,
            );
            rest -= 258;
        }
        // `RUN_BITS[rest + 1]` is a literal 0 and then `rest` as wanted here.
        if let Some(&(bits, len)) = RUN_BITS.get(rest + 1) {
            let zero = u32::from(LENGTHS[0]);
            self.put(u64::from(bits) >> zero, u32::from(len) - zero);
        }
    }

    /// Codes the pending run, then `tail` (the bytes after the last whole word,
    /// as literals), the end of the block and the checksum.
    fn finish(mut self, tail: &[u8], checksum: u32) {
        self.code_run(self.run);
        for b in tail {
            self.code(usize::from(*b));
        }
        self.code(END_OF_BLOCK);
        // The last bits, padded to a whole byte, are already stored.
        let end = self.at + self.count.div_ceil(8) as usize;
        self.out.truncate(end);
        self.out.extend_from_slice(&checksum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Bitmap;
    use proptest::prelude::*;

    fn ours(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress(data, &mut out);
        out
    }

    /// A raster from a seed: `density` in 256ths of the rows change, in short
    /// spans, so that rows equal to the row above, zero stretches of every length
    /// and changed words all occur in its scanlines.
    fn raster(width: u32, height: u32, density: u8, seed: u64) -> Bitmap {
        let mut bm = Bitmap::new(width, height);
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for y in 0..height {
            if (next() & 0xFF) as u8 >= density && y > 0 {
                for x in 0..width {
                    let v = bm.get(x, y - 1);
                    bm.set(x, y, v);
                }
                continue;
            }
            for _ in 0..(next() % 6) {
                let x0 = (next() % u64::from(width)) as u32;
                let x1 = (x0 + (next() % 40) as u32).min(width);
                bm.fill_span(y, x0, x1, next() & 1 == 0);
            }
        }
        bm
    }

    #[test]
    fn edge_cases_match_fdeflate() {
        let mut cases: Vec<Vec<u8>> = vec![vec![], vec![0], vec![7], vec![0; 8], vec![0; 13]];
        // Zeros then one byte, for every run length around the table's end and
        // the 258-byte matches, at every alignment.
        for zeros in (0..20)
            .chain(250..270)
            .chain(510..530)
            .chain([5000, 70_000])
        {
            for lead in 0..8 {
                let mut v = vec![9; lead];
                v.extend(std::iter::repeat_n(0, zeros));
                v.push(200);
                cases.push(v);
            }
        }
        // Every byte value, so every literal code.
        cases.push((0..=255).collect());
        for data in cases {
            assert_eq!(ours(&data), fdeflate::compress_to_vec(&data), "{data:?}");
        }
    }

    #[test]
    fn blank_and_black_rasters_match_fdeflate() {
        for (w, h) in [(1, 1), (8, 1), (7, 3), (800, 1200), (64, 9), (2100, 5)] {
            let mut bm = Bitmap::new(w, h);
            let raw = super::super::png::filtered_one_bit(&bm);
            assert_eq!(ours(&raw), fdeflate::compress_to_vec(&raw), "blank {w}x{h}");
            bm.fill_rect(0, 0, w, h, true);
            let raw = super::super::png::filtered_one_bit(&bm);
            assert_eq!(ours(&raw), fdeflate::compress_to_vec(&raw), "black {w}x{h}");
        }
    }

    proptest! {
        #[test]
        fn raster_scanlines_match_fdeflate(
            width in 1u32..300,
            height in 1u32..40,
            density in any::<u8>(),
            seed in any::<u64>(),
        ) {
            let raw = super::super::png::filtered_one_bit(&raster(width, height, density, seed));
            prop_assert_eq!(ours(&raw), fdeflate::compress_to_vec(&raw));
        }

        #[test]
        fn any_bytes_match_fdeflate(
            data in proptest::collection::vec(
                prop_oneof![4 => Just(0u8), 1 => any::<u8>()], 0..2000),
        ) {
            prop_assert_eq!(ours(&data), fdeflate::compress_to_vec(&data));
        }
    }
}
