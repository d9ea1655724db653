//! Font data for [waybill-redact](https://docs.rs/waybill-redact) labels.
//!
//! This crate holds bytes and nothing else, so that an embedder who brings its own
//! fonts downloads none of it: `waybill-redact` depends on it only through its
//! `bundled-font` feature.
//!
//! Both faces are subsets of Noto Sans CJK SC (SIL Open Font License 1.1) with GBK
//! coverage plus Latin and kana; `README.md` says how they were made and how to
//! regenerate them.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Noto Sans CJK SC Regular, GBK subset (OpenType/CFF, one face).
pub static NOTO_SANS_CJK_SC_REGULAR: &[u8] = include_bytes!("../fonts/NotoSansCJKsc-Label.otf");

/// Noto Sans CJK SC Bold, GBK subset (OpenType/CFF, one face), for the routing code.
pub static NOTO_SANS_CJK_SC_BOLD: &[u8] = include_bytes!("../fonts/NotoSansCJKsc-Label-Bold.otf");

/// The SIL Open Font License 1.1 text that must travel with the fonts.
pub static LICENSE: &str = include_str!("../fonts/OFL.txt");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_are_opentype_cff() {
        for face in [NOTO_SANS_CJK_SC_REGULAR, NOTO_SANS_CJK_SC_BOLD] {
            assert_eq!(face.get(..4), Some(&b"OTTO"[..]));
            assert!(face.len() > 1_000_000);
        }
        assert!(LICENSE.contains("SIL OPEN FONT LICENSE"));
    }
}
