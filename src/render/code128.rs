//! Code 128 (ISO/IEC 15417): code sets B and C, chosen to give the fewest symbols,
//! with the mod-103 check symbol. Drawn in whole dots.

use super::Bitmap;
use crate::render::RenderError;

/// Bar/space widths in modules (bar first) of symbol values 0–105; each sums to 11.
/// From the ISO/IEC 15417 symbol table.
const PATTERNS: [&[u8; 6]; 106] = [
    b"212222", b"222122", b"222221", b"121223", b"121322", b"131222", b"122213", b"122312",
    b"132212", b"221213", b"221312", b"231212", b"112232", b"122132", b"122231", b"113222",
    b"123122", b"123221", b"223211", b"221132", b"221231", b"213212", b"223112", b"312131",
    b"311222", b"321122", b"321221", b"312212", b"322112", b"322211", b"212123", b"212321",
    b"232121", b"111323", b"131123", b"131321", b"112313", b"132113", b"132311", b"211313",
    b"231113", b"231311", b"112133", b"112331", b"132131", b"113123", b"113321", b"133121",
    b"313121", b"211331", b"231131", b"213113", b"213311", b"213131", b"311123", b"311321",
    b"331121", b"312113", b"312311", b"332111", b"314111", b"221411", b"431111", b"111224",
    b"111422", b"121124", b"121421", b"141122", b"141221", b"112214", b"112412", b"122114",
    b"122411", b"142112", b"142211", b"241211", b"221114", b"413111", b"241112", b"134111",
    b"111242", b"121142", b"121241", b"114212", b"124112", b"124211", b"411212", b"421112",
    b"421211", b"212141", b"214121", b"412121", b"111143", b"111341", b"131141", b"114113",
    b"114311", b"411113", b"411311", b"113141", b"114131", b"311141", b"411131", b"211412",
    b"211214", b"211232",
];
/// The stop pattern, 13 modules including the final bar.
const STOP: &[u8; 7] = b"2331112";
const SWITCH_TO_C: u8 = 99;
const SWITCH_TO_B: u8 = 100;
const START_B: u8 = 104;
const START_C: u8 = 105;

/// Quiet zone each side, in modules (ISO/IEC 15417 asks for 10).
pub(crate) const QUIET: u32 = 10;

/// An encoded Code 128 symbol: start, data, check and the stop symbol's value list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Code128 {
    /// Symbol values: start, data (with code set switches), check. Stop is implied.
    values: Vec<u8>,
}

impl Code128 {
    /// Encodes printable ASCII with the fewest symbols (runs of digits in set C).
    ///
    /// # Errors
    /// [`RenderError::Barcode`] for an empty text or a character outside ASCII
    /// 32–126.
    pub fn encode(text: &str) -> Result<Code128, RenderError> {
        let s = text.as_bytes();
        if s.is_empty() || s.iter().any(|b| !(32..=126).contains(b)) {
            return Err(RenderError::Barcode {
                reason: "tracking number must be printable ASCII",
            });
        }
        let n = s.len();
        let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
        let pair = |i: usize| digit(i) && digit(i + 1);
        const INF: usize = usize::MAX / 4;
        // b[i] / c[i]: fewest symbols for s[i..] when set B / C is current.
        let (mut b, mut c) = (vec![INF; n + 1], vec![INF; n + 1]);
        b[n] = 0;
        c[n] = 0;
        for i in (0..n).rev() {
            let stay_b = 1 + b[i + 1];
            let stay_c = if pair(i) { 1 + c[i + 2] } else { INF };
            b[i] = stay_b.min(1 + stay_c);
            c[i] = stay_c.min(1 + stay_b);
        }
        let mut in_c = pair(0) && c[0] < b[0];
        let mut values = vec![if in_c { START_C } else { START_B }];
        let mut i = 0;
        while i < n {
            let stay_c = if pair(i) { 1 + c[i + 2] } else { INF };
            let stay_b = 1 + b[i + 1];
            if in_c && stay_c > 1 + stay_b {
                values.push(SWITCH_TO_B);
                in_c = false;
            } else if !in_c && stay_c < INF && 1 + stay_c < stay_b {
                values.push(SWITCH_TO_C);
                in_c = true;
            }
            if in_c {
                values.push((s[i] - b'0') * 10 + (s[i + 1] - b'0'));
                i += 2;
            } else {
                values.push(s[i] - 32);
                i += 1;
            }
        }
        let sum = values
            .iter()
            .enumerate()
            .map(|(k, v)| k.max(1) as u64 * u64::from(*v))
            .sum::<u64>();
        values.push((sum % 103) as u8);
        Ok(Code128 { values })
    }

    /// Width in modules, quiet zones excluded.
    pub fn modules(&self) -> u32 {
        self.values.len() as u32 * 11 + 13
    }

    /// Symbol values (start, data, check), for tests.
    #[cfg(test)]
    fn values(&self) -> &[u8] {
        &self.values
    }

    /// Draws the bars with their left edge at `x`, `module` dots per module: one
    /// row of bars is built, then copied into the `height` rows.
    pub fn draw(&self, bm: &mut Bitmap, x: u32, y: u32, module: u32, height: u32) {
        let mut row = Bitmap::new(bm.width(), 1);
        let mut pen = x;
        let widths = self
            .values
            .iter()
            .filter_map(|v| PATTERNS.get(usize::from(*v)))
            .flat_map(|p| p.iter())
            .chain(STOP.iter());
        for (k, w) in widths.enumerate() {
            let dots = u32::from(w - b'0') * module;
            if k % 2 == 0 {
                row.fill_span(0, pen, pen.saturating_add(dots), true);
            }
            pen = pen.saturating_add(dots);
        }
        let bytes = (x as usize / 8)..(pen as usize).div_ceil(8).min(row.row_bytes());
        bm.or_rows(row.as_bytes(), bytes, y, height);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed() {
        for p in PATTERNS {
            assert_eq!(p.iter().map(|w| u32::from(w - b'0')).sum::<u32>(), 11);
        }
        let mut all: Vec<_> = PATTERNS.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 106);
    }

    #[test]
    fn picks_set_c_for_digit_runs() {
        // Worked example: "SF1234567890123" = B(S F 1) C(23 45 67 89 01 23).
        let c = Code128::encode("SF1234567890123").unwrap();
        assert_eq!(c.values()[..5], [START_B, 51, 38, 17, SWITCH_TO_C]);
        assert_eq!(c.values().len(), 1 + 3 + 1 + 6 + 1);
        // All digits, even length: start C only.
        let d = Code128::encode("1234").unwrap();
        assert_eq!(d.values(), &[START_C, 12, 34, (105 + 12 + 2 * 34) % 103]);
        // Short digit runs stay in B.
        let e = Code128::encode("A12B").unwrap();
        assert_eq!(e.values()[0], START_B);
        assert_eq!(e.values().len(), 6);
        assert!(Code128::encode("").is_err());
        assert!(Code128::encode("快递").is_err());
    }

    #[test]
    fn bars_are_whole_modules() {
        let c = Code128::encode("AB").unwrap();
        let mut bm = Bitmap::new(c.modules() * 3, 1);
        c.draw(&mut bm, 0, 0, 3, 1);
        // Start B "211214": 6 dots black, 3 white, 3 black.
        let row: Vec<bool> = (0..12).map(|x| bm.get(x, 0)).collect();
        assert_eq!(
            row,
            [true, true, true, true, true, true, false, false, false, true, true, true]
        );
        assert!(bm.get(c.modules() * 3 - 1, 0));
    }

    /// Decodes symbol values back to text, checking the check symbol.
    fn decode(values: &[u8]) -> Option<String> {
        let (data, check) = values.split_at(values.len() - 1);
        let sum: u64 = data
            .iter()
            .enumerate()
            .map(|(k, v)| k.max(1) as u64 * u64::from(*v))
            .sum();
        if (sum % 103) as u8 != check[0] {
            return None;
        }
        let mut in_c = match data[0] {
            START_B => false,
            START_C => true,
            _ => return None,
        };
        let mut out = String::new();
        for &v in &data[1..] {
            match (in_c, v) {
                (false, SWITCH_TO_C) => in_c = true,
                (true, SWITCH_TO_B) => in_c = false,
                (true, 0..=99) => out.push_str(&format!("{v:02}")),
                (false, 0..=94) => out.push(char::from(v + 32)),
                _ => return None,
            }
        }
        Some(out)
    }

    proptest::proptest! {
        #[test]
        fn encodes_any_printable_ascii_no_longer_than_set_b(text in "[ -~]{1,40}|[0-9]{1,40}|[A-Z]{2}[0-9]{9,20}") {
            let c = Code128::encode(&text).unwrap();
            proptest::prop_assert_eq!(decode(c.values()), Some(text.clone()));
            // Never worse than all of it in set B: start + one symbol per character + check.
            proptest::prop_assert!(c.values().len() <= text.len() + 2);
        }
    }
}
