//! Phone numbers as people type them, and platform virtual numbers.

use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::model::ModelError;

/// A phone number parsed from free text.
///
/// # Guarantees
/// - The national number has 3 to 15 ASCII digits (E.164 allows 15 in all).
/// - The country code, when known, is 1 to 3 digits, typed after `+` or the
///   international prefix `00`; `+86`, `0086` and the bare `86`
///   before a 13-digit mobile all become `86`.
/// - The extension, when present, has 1 to 6 digits.
///
/// `Debug` prints no digits.
#[derive(Clone, PartialEq, Eq, Hash, Zeroize, ZeroizeOnDrop)]
pub struct Phone {
    country_code: Option<String>,
    national: String,
    extension: Option<String>,
}

/// Longest phone text accepted, separators included.
const MAX_PHONE_CHARS: usize = 40;

/// Extension markers people type after a number (`转` is the Chinese one).
const EXTENSION_MARKERS: [&str; 6] = ["转", "ext.", "ext", "x", "#", ","];

impl Phone {
    /// Parses a phone number. `field` names it in errors.
    ///
    /// # Errors
    /// [`ModelError::Phone`] when the text has no digits, too few or too many, letters,
    /// or a `+` anywhere but the start.
    pub(crate) fn parse_field(field: &str, text: &str) -> Result<Self, ModelError> {
        let err = |reason| ModelError::Phone {
            field: field.into(),
            reason,
        };
        let text = super::name::trim_invisible(text);
        if text.is_empty() {
            return Err(ModelError::Empty {
                field: field.into(),
            });
        }
        if text.chars().count() > MAX_PHONE_CHARS {
            return Err(err("longer than 40 characters"));
        }
        let (main, mut extension) = split_extension(text).map_err(err)?;
        // Canonicalise full-width digits and plus signs before anything else.
        let main: String = main.chars().map(halfwidth).collect();
        let plus = main.starts_with('+');
        let mut groups: Vec<String> = Vec::new();
        for (i, c) in main.chars().enumerate() {
            match c {
                '0'..='9' => match groups.last_mut() {
                    Some(g) if !g.is_empty() => g.push(c),
                    _ => groups.push(c.to_string()),
                },
                '+' if i == 0 => {}
                '+' => return Err(err("'+' may only start the number")),
                ' ' | '-' | '.' | '(' | ')' | '/' | '\u{3000}' => {
                    if groups.last().is_some_and(|g| !g.is_empty()) {
                        groups.push(String::new());
                    }
                }
                _ => return Err(err("contains characters that are not digits or separators")),
            }
        }
        groups.retain(|g| !g.is_empty());
        if groups.is_empty() {
            return Err(err("has no digits"));
        }
        // Chinese landline written 0AAA-NNNNNNNN-EEE: the third group is an extension.
        if extension.is_none()
            && !plus
            && groups.len() == 3
            && groups[0].starts_with('0')
            && (3..=4).contains(&groups[0].len())
            && (7..=8).contains(&groups[1].len())
            && groups[2].len() <= 6
            && text.contains('-')
        {
            extension = groups.pop();
        }
        let mut digits: String = groups.concat();
        let mut country_code = None;
        // The international prefix 00 (`00 44 …`, `0082-…`) is a `+`; no national
        // number in China starts with it.
        let international = !plus && digits.starts_with("00") && !digits.starts_with("0086");
        if international {
            digits.drain(..2);
        }
        if plus || international {
            let cc_len = country_code_len(&digits);
            if digits.len() <= cc_len {
                return Err(err("has a country code but no number"));
            }
            country_code = Some(digits[..cc_len].to_string());
            digits.drain(..cc_len);
        } else if let Some(rest) = digits.strip_prefix("0086") {
            country_code = Some("86".into());
            digits = rest.to_string();
        } else if digits.len() == 13 && digits.starts_with("861") {
            country_code = Some("86".into());
            digits.drain(..2);
        }
        if digits.len() < 3 {
            return Err(err("has fewer than 3 digits"));
        }
        if digits.len() + country_code.as_ref().map_or(0, String::len) > 15 {
            return Err(err("has more than 15 digits"));
        }
        if let Some(ext) = &extension {
            if ext.is_empty() || ext.len() > 6 {
                return Err(err("extension must have 1 to 6 digits"));
            }
        }
        Ok(Self {
            country_code,
            national: digits,
            extension,
        })
    }

    /// The country calling code without `+`, when the number carried one.
    pub fn country_code(&self) -> Option<&str> {
        self.country_code.as_deref()
    }

    /// The national number's digits (area code included, country code and
    /// extension excluded).
    pub fn national_digits(&self) -> &str {
        &self.national
    }

    /// The extension's digits, if any.
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }

    /// The canonical full text: `+CC NATIONAL` or `NATIONAL`, with `-EXT` when
    /// there is an extension. This is personal data: it belongs in a sealed token,
    /// never on a label.
    pub fn to_canonical(&self) -> String {
        let mut out = String::with_capacity(24);
        if let Some(cc) = &self.country_code {
            out.push('+');
            out.push_str(cc);
            out.push(' ');
        }
        out.push_str(&self.national);
        if let Some(ext) = &self.extension {
            out.push('-');
            out.push_str(ext);
        }
        out
    }
}

impl core::fmt::Debug for Phone {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Phone { .. }")
    }
}

fn halfwidth(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - 0xFF10 + 0x30).unwrap_or(c),
        '＋' => '+',
        '－' | '—' | '–' => '-',
        '（' => '(',
        '）' => ')',
        _ => c,
    }
}

/// Splits off an extension written with a marker (`转801`, `ext 12`, `x12`, `#12`).
fn split_extension(text: &str) -> Result<(&str, Option<String>), &'static str> {
    let lower_pos = EXTENSION_MARKERS.iter().find_map(|m| {
        text.char_indices()
            .find(|(i, _)| text[*i..].to_ascii_lowercase().starts_with(m))
            .map(|(i, _)| (i, m.len()))
    });
    let Some((at, len)) = lower_pos else {
        return Ok((text, None));
    };
    let ext: String = text[at + len..]
        .chars()
        .map(halfwidth)
        .filter(|c| !matches!(c, ' ' | '.' | ':'))
        .collect();
    if !ext.bytes().all(|b| b.is_ascii_digit()) {
        return Err("extension must be digits");
    }
    Ok((&text[..at], Some(ext)))
}

/// Length of the ITU-T E.164 country code at the start of `digits`:
/// 1 for zone 1 (NANP) and 7, 2 for the two-digit codes, 3 otherwise.
fn country_code_len(digits: &str) -> usize {
    const TWO_DIGIT: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO_DIGIT.iter().any(|p| digits.starts_with(p)) {
        2
    } else {
        3
    }
}

/// A platform-issued virtual number (隐私号) with an extension and an expiry.
///
/// It exists to be printed: the courier dials it and the platform forwards the call,
/// so it is shown in full in place of the masked real phone.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct VirtualPhone {
    pub(crate) number: Phone,
    pub(crate) extension: Option<String>,
    #[zeroize(skip)]
    pub(crate) expires_at: Option<OffsetDateTime>,
}

impl VirtualPhone {
    /// The virtual number.
    pub fn number(&self) -> &Phone {
        &self.number
    }

    /// The platform extension the caller keys in after the number.
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }

    /// When the platform stops forwarding calls.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    /// The text printed on the label: `17100001111转2345`.
    pub fn to_display(&self) -> String {
        let mut s = self.number.to_canonical();
        if let Some(ext) = &self.extension {
            s.push('转');
            s.push_str(ext);
        }
        s
    }
}

impl core::fmt::Debug for VirtualPhone {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("VirtualPhone { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/TOKEN.md`, point 18: one case per clause of the phone grammar.
    #[test]
    fn the_pages_phone_grammar() {
        let canon = |t: &str| Phone::parse_field("phone", t).map(|p| p.to_canonical());
        for (input, want) in [
            // Full-width digits and plus sign.
            ("＋８６ １３８ １２３４ ５６７８", "+86 13812345678"),
            // 0086 and a bare 861… of 13 digits are +86.
            ("0086 138 1234 5678", "+86 13812345678"),
            ("8613812345678", "+86 13812345678"),
            // 00 other than 0086 is the international prefix; 1 and 7 are 1-digit codes.
            ("00 44 20 7946 0958", "+44 2079460958"),
            ("+1 (415) 555-0100", "+1 4155550100"),
            ("+358 40 123 4567", "+358 401234567"),
            // Markers: 转, ext, x, #; the first in the list wins.
            ("0755-86013388转801", "075586013388-801"),
            ("+44 20 7946 0958 ext. 12", "+44 2079460958-12"),
            ("13812345678 X 9", "13812345678-9"),
            // The landline pattern: the third dash group is the extension…
            ("0755-86013388-801", "075586013388-801"),
            // …but not with spaces only, nor a first group without 0.
            ("0755 86013388 801", "075586013388801"),
            ("755-86013388-801", "75586013388801"),
        ] {
            assert_eq!(canon(input).as_deref(), Ok(want), "{input}");
        }
        for bad in [
            "12",                      // fewer than 3 digits
            "+86 13812345678901",      // 2 + 14 > 15 digits
            "13812345678 ext 1234567", // extension over 6 digits
            "13812345678 ext 1a",      // extension not digits
            "138+12345678",            // + not first
            "138_1234_5678",           // not a separator
            "+44",                     // a country code but no number
            &"1".repeat(41),           // over 40 characters
        ] {
            assert!(canon(bad).is_err(), "{bad}");
        }
    }

    fn p(s: &str) -> Phone {
        Phone::parse_field("phone", s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn chinese_mobiles_in_every_spelling() {
        for s in [
            "13812345678",
            "+86 138 1234 5678",
            "0086-138-1234-5678",
            "8613812345678",
            "+86(138)12345678",
            "１３８１２３４５６７８",
            "138.1234.5678",
        ] {
            let ph = p(s);
            assert_eq!(ph.national_digits(), "13812345678", "{s}");
            assert_eq!(ph.extension(), None);
        }
        assert_eq!(p("+86 139 1234 5678").country_code(), Some("86"));
        assert_eq!(p("13812345678").country_code(), None);
    }

    #[test]
    fn landlines_and_extensions() {
        let ph = p("0769-22223333-801");
        assert_eq!(
            (ph.national_digits(), ph.extension()),
            ("076922223333", Some("801"))
        );
        let ph = p("021-62345678-8012");
        assert_eq!(
            (ph.national_digits(), ph.extension()),
            ("02162345678", Some("8012"))
        );
        let ph = p("010-64001234转 66");
        assert_eq!(
            (ph.national_digits(), ph.extension()),
            ("01064001234", Some("66"))
        );
        let ph = p("+1 (541) 555-0199 ext. 12");
        assert_eq!(
            (ph.country_code(), ph.national_digits(), ph.extension()),
            (Some("1"), "5415550199", Some("12"))
        );
        assert_eq!(p("400-820-8820").national_digits(), "4008208820");
        assert_eq!(p("02088886666").national_digits(), "02088886666");
    }

    #[test]
    fn foreign_numbers() {
        let ph = p("+852 2345 6789");
        assert_eq!(
            (ph.country_code(), ph.national_digits()),
            (Some("852"), "23456789")
        );
        let ph = p("+44 20 7946 0958");
        assert_eq!(
            (ph.country_code(), ph.national_digits()),
            (Some("44"), "2079460958")
        );
        let ph = p("+81 3-1234-5678");
        assert_eq!(
            (ph.country_code(), ph.national_digits()),
            (Some("81"), "312345678")
        );
        assert_eq!(ph.to_canonical(), "+81 312345678");
        // 00 is the international prefix: the country code is kept as with +.
        for (s, cc, national) in [
            ("00 44 20 7946 0958", "44", "2079460958"),
            ("0082-10-1234-5678", "82", "1012345678"),
            ("001 541 555 0199", "1", "5415550199"),
            ("\u{200f}+852 2345 6789", "852", "23456789"),
        ] {
            let ph = p(s);
            assert_eq!(
                (ph.country_code(), ph.national_digits()),
                (Some(cc), national),
                "{s}"
            );
        }
    }

    #[test]
    fn bad_phones_are_typed_errors() {
        for s in [
            "abc",
            "---",
            "12",
            "+",
            "138-1234-abcd",
            "1+38",
            "1234567890123456",
            "138 转 12a",
        ] {
            let e = Phone::parse_field("recipient.phone", s).unwrap_err();
            assert!(
                matches!(e, ModelError::Phone { ref field, .. } if field == "recipient.phone"),
                "{s}: {e:?}"
            );
        }
        assert!(matches!(
            Phone::parse_field("f", "  "),
            Err(ModelError::Empty { .. })
        ));
    }

    #[test]
    fn debug_hides_digits() {
        let dbg = format!("{:?}", p("13812345678"));
        assert!(!dbg.contains("1381"), "{dbg}");
    }
}
