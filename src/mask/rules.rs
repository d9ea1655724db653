//! The per-field rules: how a name, a phone number and an address are masked.
//! Every mask has a fixed length, so a mask never tells how long the hidden part was.

use unicode_segmentation::UnicodeSegmentation;

use super::surnames::{COMMON_SINGLE_SURNAMES, COMPOUND_SURNAMES};
use crate::model::{is_digit, is_invisible, Address, Phone};

/// Separators in transliterated minority and foreign names (买买提·艾力).
const NAME_DOTS: [char; 5] = ['·', '•', '・', '‧', '•'];

/// Shows the surname, then `mask`. Names of one letter (punctuation, emoji and
/// invisible characters do not count: `J.`, `李·`, `王😀`) are hidden whole.
pub(crate) fn name_surname(name: &str, mask: &str) -> String {
    let name = name.trim_start_matches(is_invisible);
    let mut letters = name
        .graphemes(true)
        .filter(|g| g.chars().any(char::is_alphanumeric));
    let (Some(_), Some(_)) = (letters.next(), letters.next()) else {
        return mask.to_owned();
    };
    let Some(first) = name.graphemes(true).next() else {
        return mask.to_owned();
    };
    if is_han(first) {
        if !name.contains(NAME_DOTS) {
            // When in doubt, show less: 宗政华 may be 宗 + 政华.
            if let Some(c) = COMPOUND_SURNAMES.iter().find(|c| {
                name.starts_with(*c)
                    && name.len() > c.len()
                    && !c.starts_with(COMMON_SINGLE_SURNAMES)
            }) {
                return format!("{c}{mask}");
            }
        }
        return format!("{first}{mask}");
    }
    // Latin and other scripts: the first letter of the first word.
    let word = name.split_whitespace().next().unwrap_or(name);
    let letter = word.graphemes(true).next().unwrap_or(first);
    format!("{letter}{mask}")
}

fn is_han(grapheme: &str) -> bool {
    grapheme.chars().next().is_some_and(|c| {
        matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
    })
}

/// Digits left visible under the GB/T 41833 floor: at most 4, and at least 6 hidden.
pub(crate) fn floor_visible_digits(total: usize) -> usize {
    total.saturating_sub(6).min(4)
}

/// Masks a phone number, showing the last `visible` national digits. The country
/// code is shown for numbers outside mainland China; the extension never is.
pub(crate) fn phone(phone: &Phone, visible: usize, mask: &str) -> String {
    let digits = phone.national_digits();
    let visible = visible.min(digits.len());
    let mut out = String::with_capacity(mask.len() + 12);
    if let Some(cc) = phone.country_code().filter(|cc| *cc != "86") {
        out.push('+');
        out.push_str(cc);
        out.push(' ');
    }
    if visible < digits.len() {
        out.push_str(mask);
    }
    out.push_str(&digits[digits.len() - visible..]);
    out
}

/// How much of an address stays visible.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AddressLevel {
    City,
    District,
    Street,
}

/// Masks an address at `level`, always ending in `mask`. `fill` is the province
/// and city to show when the address has none (from the zone's division code).
pub(crate) fn address(
    a: &Address,
    level: AddressLevel,
    mask: &str,
    (fill_province, fill_city): (Option<&str>, Option<&str>),
) -> String {
    if a.is_domestic() {
        let mut out = String::with_capacity(48);
        let province = a.province().or(fill_province);
        out.push_str(division(province));
        if let Some(city) = fill_city.filter(|_| a.city().is_none()) {
            out.push_str(division(Some(city)));
        }
        if let Some(city) = a.city().filter(|c| Some(*c) != province) {
            out.push_str(division(Some(city)));
        }
        if level >= AddressLevel::District {
            out.push_str(division(a.district()));
            out.push_str(division(a.township()));
        }
        if level >= AddressLevel::Street {
            if let Some(road) = a.road_name() {
                out.push_str(&road);
            }
        }
        out.push_str(mask);
        out
    } else {
        // International: region, city and country; the postal code truncated.
        // Hong Kong, Macau and Taiwan sort by district (區, 堂區, 鄉鎮市區).
        let mut parts: Vec<String> = vec![mask.to_owned()];
        if level >= AddressLevel::District && matches!(a.country(), "HK" | "MO" | "TW") {
            parts.extend(a.district().map(str::to_owned));
        }
        parts.extend(a.city().map(str::to_owned));
        parts.extend(a.province().map(str::to_owned));
        if let Some(pc) = a.postal_code() {
            parts.push(truncate_postal_code(pc, mask));
        }
        parts.push(a.country().to_owned());
        parts.join(", ")
    }
}

/// A division's name as shown: left out when it holds a digit, which no
/// division name has (a house number typed into the district field, say), so a
/// masked domestic address never shows one.
fn division(name: Option<&str>) -> &str {
    name.filter(|n| !n.chars().any(is_digit)).unwrap_or("")
}

/// Keeps the area part of a postal code (at most 3 characters, and never the
/// last 2) and masks the rest: `NW1 6XE` → `NW1***`.
fn truncate_postal_code(pc: &str, mask: &str) -> String {
    let alnum: Vec<char> = pc.chars().filter(|c| c.is_alphanumeric()).collect();
    let keep = alnum.len().saturating_sub(2).min(3);
    let mut s: String = alnum[..keep].iter().collect();
    s.push_str(mask);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let m = "*";
        assert_eq!(name_surname("张三", m), "张*");
        assert_eq!(name_surname("欧阳娜娜", m), "欧阳*");
        assert_eq!(name_surname("诸葛亮", m), "诸葛*");
        assert_eq!(name_surname("上官婉儿", m), "上官*");
        assert_eq!(name_surname("买买提·艾力", m), "买*");
        assert_eq!(name_surname("王", m), "*");
        assert_eq!(name_surname("Zhang Wei", m), "Z*");
        assert_eq!(name_surname("Ng Ka-ming", m), "N*");
        assert_eq!(name_surname("山田太郎", m), "山*");
        // A compound surname alone is a two-character given-name-less name: show one.
        assert_eq!(name_surname("欧阳", m), "欧*");
        // Combining marks stay with their letter.
        assert_eq!(name_surname("E\u{301}mile Zola", m), "E\u{301}*");
        // One letter with punctuation or an emoji is a one-letter name.
        for one in ["J.", "李·", "王😀", "·李", "J", "😀😀"] {
            assert_eq!(name_surname(one, m), "*", "{one}");
        }
        // Invisible characters before the name are not its first letter.
        assert_eq!(name_surname("\u{200f}张三", m), "张*");
        assert_eq!(name_surname("\u{feff}\u{200b}欧阳娜娜", m), "欧阳*");
        // A compound surname whose first character is a common surname of its
        // own is ambiguous: show one character.
        for (n, shown) in [
            ("年爱华", "年*"),
            ("宗政华", "宗*"),
            ("乐正和", "乐*"),
            ("谷梁栋", "谷*"),
        ] {
            assert_eq!(name_surname(n, m), shown, "{n}");
        }
    }

    #[test]
    fn floor() {
        assert_eq!(floor_visible_digits(11), 4);
        assert_eq!(floor_visible_digits(10), 4);
        assert_eq!(floor_visible_digits(8), 2);
        assert_eq!(floor_visible_digits(6), 0);
        assert_eq!(floor_visible_digits(3), 0);
    }

    #[test]
    fn postal_codes() {
        assert_eq!(truncate_postal_code("NW1 6XE", "***"), "NW1***");
        assert_eq!(truncate_postal_code("94105", "***"), "941***");
        assert_eq!(truncate_postal_code("100-6620", "***"), "100***");
        assert_eq!(truncate_postal_code("2000", "***"), "20***");
        assert_eq!(truncate_postal_code("D02", "***"), "D***");
    }
}
