//! Font data for [waybill-redact](https://docs.rs/waybill-redact) labels in the
//! scripts that Noto Sans CJK does not cover: the fallback faces behind
//! `waybill-redact-fonts`.
//!
//! This crate holds bytes and nothing else. Every face is a regular-weight subset
//! of a Noto font (SIL Open Font License 1.1) that keeps its OpenType layout
//! tables, so a shaper can join Arabic and place Thai and Devanagari marks;
//! `README.md` says how they were made and how to regenerate them.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Noto Sans: Latin (Latin-1, Extended-A and -B, Extended Additional for
/// Vietnamese, IPA), Greek and Cyrillic (TrueType).
pub static NOTO_SANS_WORLD: &[u8] = include_bytes!("../fonts/NotoSans-World.ttf");

/// Noto Sans CJK KR: all 11,172 Hangul syllables and the jamo (OpenType/CFF).
pub static NOTO_SANS_KR_HANGUL: &[u8] = include_bytes!("../fonts/NotoSansKR-Hangul.otf");

/// Noto Sans Arabic: Arabic, its supplement and presentation forms (Uyghur and
/// Persian letters included).
pub static NOTO_SANS_ARABIC: &[u8] = include_bytes!("../fonts/NotoSansArabic-Label.ttf");

/// Noto Sans Hebrew.
pub static NOTO_SANS_HEBREW: &[u8] = include_bytes!("../fonts/NotoSansHebrew-Label.ttf");

/// Noto Sans Thai.
pub static NOTO_SANS_THAI: &[u8] = include_bytes!("../fonts/NotoSansThai-Label.ttf");

/// Noto Sans Devanagari.
pub static NOTO_SANS_DEVANAGARI: &[u8] = include_bytes!("../fonts/NotoSansDevanagari-Label.ttf");

/// Noto Serif Tibetan (Debian ships no sans Tibetan face).
pub static NOTO_SERIF_TIBETAN: &[u8] = include_bytes!("../fonts/NotoSerifTibetan-Label.ttf");

/// Noto Sans Mongolian (traditional Mongolian script).
pub static NOTO_SANS_MONGOLIAN: &[u8] = include_bytes!("../fonts/NotoSansMongolian-Label.ttf");

/// Noto Sans Yi.
pub static NOTO_SANS_YI: &[u8] = include_bytes!("../fonts/NotoSansYi-Label.ttf");

/// Every face, in the order a renderer should try them after the CJK face.
pub static FACES: [&[u8]; 9] = [
    NOTO_SANS_WORLD,
    NOTO_SANS_KR_HANGUL,
    NOTO_SANS_ARABIC,
    NOTO_SANS_HEBREW,
    NOTO_SANS_THAI,
    NOTO_SANS_DEVANAGARI,
    NOTO_SERIF_TIBETAN,
    NOTO_SANS_MONGOLIAN,
    NOTO_SANS_YI,
];

/// The SIL Open Font License 1.1 text that must travel with the fonts.
pub static LICENSE: &str = include_str!("../fonts/OFL.txt");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_are_opentype() {
        for face in FACES {
            let tag = face.get(..4);
            assert!(
                tag == Some(&b"OTTO"[..]) || tag == Some(&[0, 1, 0, 0][..]),
                "{tag:?}"
            );
            assert!(face.len() > 10_000);
        }
        assert!(LICENSE.contains("SIL OPEN FONT LICENSE"));
    }
}
