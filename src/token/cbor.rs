//! A strict CBOR reader over `minicbor`: definite lengths and shortest-form
//! heads only, no tags, floats or simple values (`docs/TOKEN.md`, "CBOR rules").
//!
//! minicbor decodes non-shortest heads and indefinite lengths like any other, so
//! every read here compares the bytes consumed with the shortest encoding of the
//! value read.

use minicbor::data::Type;
use minicbor::Decoder;

/// The input is not CBOR as the token format allows it. Carries no detail on
/// purpose: the payload is only ever decoded after authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CborError;

/// How many arrays and maps an ignored value under an unknown key may hold
/// inside one another, counting the value itself: `[[[[0]]]]` is the deepest.
const MAX_DEPTH: u8 = 4;

/// The length of the shortest CBOR head carrying argument `v`.
pub(crate) const fn head_len(v: u64) -> usize {
    match v {
        0..=23 => 1,
        24..=0xFF => 2,
        0x100..=0xFFFF => 3,
        0x1_0000..=0xFFFF_FFFF => 5,
        _ => 9,
    }
}

/// Reads strict CBOR from a byte slice.
pub(crate) struct StrictDecoder<'b> {
    d: Decoder<'b>,
}

impl<'b> StrictDecoder<'b> {
    pub(crate) fn new(bytes: &'b [u8]) -> Self {
        Self {
            d: Decoder::new(bytes),
        }
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.d.position()
    }

    fn datatype(&self) -> Result<Type, CborError> {
        self.d.datatype().map_err(|_| CborError)
    }

    /// Checks that the item just read from `start` took `expected` bytes.
    fn shortest(&self, start: usize, expected: usize) -> Result<(), CborError> {
        let used = self.d.position().checked_sub(start).ok_or(CborError)?;
        if used == expected {
            Ok(())
        } else {
            Err(CborError)
        }
    }

    /// An unsigned integer (major type 0) in shortest form.
    pub(crate) fn uint(&mut self) -> Result<u64, CborError> {
        match self.datatype()? {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => {}
            _ => return Err(CborError),
        }
        let start = self.position();
        let v = self.d.u64().map_err(|_| CborError)?;
        self.shortest(start, head_len(v))?;
        Ok(v)
    }

    /// A text string (major type 3) with a definite, shortest length; valid UTF-8.
    pub(crate) fn text(&mut self) -> Result<&'b str, CborError> {
        if self.datatype()? != Type::String {
            return Err(CborError);
        }
        let start = self.position();
        let s = self.d.str().map_err(|_| CborError)?;
        self.shortest(start, head_len(s.len() as u64).saturating_add(s.len()))?;
        Ok(s)
    }

    /// The entry count of a definite-length map, head in shortest form.
    pub(crate) fn map(&mut self) -> Result<u64, CborError> {
        if self.datatype()? != Type::Map {
            return Err(CborError);
        }
        let start = self.position();
        let n = self.d.map().map_err(|_| CborError)?.ok_or(CborError)?;
        self.shortest(start, head_len(n))?;
        Ok(n)
    }

    /// The element count of a definite-length array, head in shortest form.
    pub(crate) fn array(&mut self) -> Result<u64, CborError> {
        if self.datatype()? != Type::Array {
            return Err(CborError);
        }
        let start = self.position();
        let n = self.d.array().map_err(|_| CborError)?.ok_or(CborError)?;
        self.shortest(start, head_len(n))?;
        Ok(n)
    }

    /// Reads and drops one value under an unknown key: an unsigned or negative
    /// integer, a byte or text string, or an array or map of those, nested at
    /// most [`MAX_DEPTH`] deep. Anything else is rejected.
    pub(crate) fn skip(&mut self) -> Result<(), CborError> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: u8) -> Result<(), CborError> {
        match self.datatype()? {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => self.uint().map(drop),
            Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
                let start = self.position();
                let n = i128::from(self.d.int().map_err(|_| CborError)?);
                // Major type 1 carries -1 - n.
                let arg = u64::try_from(-1 - n).map_err(|_| CborError)?;
                self.shortest(start, head_len(arg))
            }
            Type::Bytes => {
                let start = self.position();
                let b = self.d.bytes().map_err(|_| CborError)?;
                self.shortest(start, head_len(b.len() as u64).saturating_add(b.len()))
            }
            Type::String => self.text().map(drop),
            Type::Array if depth < MAX_DEPTH => {
                for _ in 0..self.array()? {
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            Type::Map if depth < MAX_DEPTH => {
                // The payload's own map rules hold here too: unsigned integer
                // keys, strictly ascending (so never repeated).
                let mut last = None;
                for _ in 0..self.map()? {
                    let key = self.uint()?;
                    if last.is_some_and(|l| key <= l) {
                        return Err(CborError);
                    }
                    last = Some(key);
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            _ => Err(CborError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_heads_only() {
        assert_eq!(StrictDecoder::new(&[0x17]).uint(), Ok(23));
        assert_eq!(StrictDecoder::new(&[0x18, 0x18]).uint(), Ok(24));
        assert_eq!(StrictDecoder::new(&[0x18, 0x05]).uint(), Err(CborError));
        assert_eq!(
            StrictDecoder::new(&[0x19, 0x00, 0xFF]).uint(),
            Err(CborError)
        );
        assert_eq!(
            StrictDecoder::new(&[0x78, 0x01, b'a']).text(),
            Err(CborError)
        );
        assert_eq!(StrictDecoder::new(&[0x61, b'a']).text(), Ok("a"));
        assert_eq!(StrictDecoder::new(&[0xB8, 0x00]).map(), Err(CborError));
        assert_eq!(
            StrictDecoder::new(&[0x98, 0x01, 0x00]).array(),
            Err(CborError)
        );
    }

    #[test]
    fn no_indefinite_lengths_tags_or_floats() {
        assert_eq!(StrictDecoder::new(&[0xBF, 0xFF]).map(), Err(CborError));
        assert_eq!(StrictDecoder::new(&[0x9F, 0xFF]).array(), Err(CborError));
        assert_eq!(
            StrictDecoder::new(&[0x7F, 0x61, b'a', 0xFF]).text(),
            Err(CborError)
        );
        for bad in [&[0xC1, 0x00][..], &[0xF9, 0x3C, 0x00], &[0xF5], &[0xF6]] {
            assert_eq!(StrictDecoder::new(bad).skip(), Err(CborError), "{bad:02x?}");
        }
        // A negative integer, bytes, and nested containers are fine.
        for good in [
            &[0x20][..],
            &[0x38, 0x18],
            &[0x42, 1, 2],
            &[0x81, 0xA1, 1, 2],
        ] {
            assert_eq!(StrictDecoder::new(good).skip(), Ok(()), "{good:02x?}");
        }
        assert_eq!(StrictDecoder::new(&[0x38, 0x05]).skip(), Err(CborError));
        // Nesting deeper than MAX_DEPTH: four containers, not five.
        assert_eq!(
            StrictDecoder::new(&[0x81, 0x81, 0x81, 0x81, 0x00]).skip(),
            Ok(())
        );
        assert_eq!(
            StrictDecoder::new(&[0x81, 0x81, 0x81, 0xA1, 0x01, 0x00]).skip(),
            Ok(())
        );
        assert_eq!(
            StrictDecoder::new(&[0x81, 0x81, 0x81, 0x81, 0x81, 0x00]).skip(),
            Err(CborError)
        );
    }

    #[test]
    fn maps_inside_unknown_values_follow_the_payload_rules() {
        // {1: 0, 2: 0}: fine.
        assert_eq!(
            StrictDecoder::new(&[0xA2, 0x01, 0x00, 0x02, 0x00]).skip(),
            Ok(())
        );
        for bad in [
            // {"a": 0}: a text key.
            &[0xA1, 0x61, b'a', 0x00][..],
            // {-1: 0}: a negative key.
            &[0xA1, 0x20, 0x00],
            // {2: 0, 1: 0}: out of order.
            &[0xA2, 0x02, 0x00, 0x01, 0x00],
            // {1: 0, 1: 0}: repeated.
            &[0xA2, 0x01, 0x00, 0x01, 0x00],
            // [{1: [], 1: 0}]: the same one level down.
            &[0x81, 0xA2, 0x01, 0x80, 0x01, 0x00],
        ] {
            assert_eq!(StrictDecoder::new(bad).skip(), Err(CborError), "{bad:02x?}");
        }
    }
}
