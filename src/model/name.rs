//! Personal names.

use unicode_segmentation::UnicodeSegmentation;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::model::ModelError;

/// The longest name accepted, in grapheme clusters.
pub(crate) const MAX_NAME_GRAPHEMES: usize = 100;

/// A person's or company's name as it should appear on a parcel.
///
/// # Guarantees
/// - Trimmed, non-empty, at most 100 grapheme clusters, no control characters.
///
/// `Debug` prints no part of the name; the text is zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PersonName(String);

impl PersonName {
    /// Validates a name. `field` names it in errors.
    ///
    /// # Errors
    /// [`ModelError::Empty`], [`ModelError::TooLong`], [`ModelError::ControlCharacter`].
    pub(crate) fn parse_field(field: &str, text: &str) -> Result<Self, ModelError> {
        let text = trim_invisible(text);
        if text.is_empty() {
            return Err(ModelError::Empty {
                field: field.into(),
            });
        }
        if text.chars().any(char::is_control) {
            return Err(ModelError::ControlCharacter {
                field: field.into(),
            });
        }
        let len = text.graphemes(true).count();
        if len > MAX_NAME_GRAPHEMES {
            return Err(ModelError::TooLong {
                field: field.into(),
                len,
                max: MAX_NAME_GRAPHEMES,
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// The full name. Personal data: seal it, never print it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that print nothing and mark nothing (RLM, LRM, ZWSP, joiners, BOM,
/// bidi controls): pasted in from other systems, they never belong at either end
/// of a field.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}' | '\u{00AD}')
}

/// Trims white space and invisible characters from both ends.
pub(crate) fn trim_invisible(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
}

impl core::str::FromStr for PersonName {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        Self::parse_field("name", s)
    }
}

impl core::fmt::Debug for PersonName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PersonName { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        assert_eq!(" 张三 ".parse::<PersonName>().unwrap().as_str(), "张三");
        for s in ["\u{200f}张三", "\u{feff}张三", "\u{200b} 张三\u{200e}"] {
            assert_eq!(s.parse::<PersonName>().unwrap().as_str(), "张三", "{s:?}");
        }
        assert!(matches!(
            "\u{200b}\u{feff}".parse::<PersonName>(),
            Err(ModelError::Empty { .. })
        ));
        assert!(matches!(
            "".parse::<PersonName>(),
            Err(ModelError::Empty { .. })
        ));
        assert!(matches!(
            "张\u{7}三".parse::<PersonName>(),
            Err(ModelError::ControlCharacter { .. })
        ));
        let long = "张".repeat(101);
        assert!(matches!(
            long.parse::<PersonName>(),
            Err(ModelError::TooLong { len: 101, .. })
        ));
        // Grapheme clusters, not code points: a family emoji is one.
        let family = "👨\u{200d}👩\u{200d}👧".repeat(100);
        assert!(family.parse::<PersonName>().is_ok());
    }

    #[test]
    fn debug_hides_name() {
        assert_eq!(
            format!("{:?}", "欧阳娜娜".parse::<PersonName>().unwrap()),
            "PersonName { .. }"
        );
    }
}
