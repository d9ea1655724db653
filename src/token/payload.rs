//! The sealed payload: a CBOR map (RFC 8949) with small integer keys, so that a
//! courier app in any language can read it, padded with zero bytes to a fixed
//! bucket so that the token's length says nothing about the record's.
//!
//! | key | value |
//! |---|---|
//! | 1 | recipient name (text) |
//! | 2 | recipient phone, canonical form `+CC NATIONAL-EXT` (text) |
//! | 3 | recipient address, one line (text) |
//! | 4 | items: array of maps `{1: description, 2: category, 3: quantity}`, omitted when empty |
//! | 5 | issued-at, unix seconds (unsigned) |
//! | 6 | expires-at, unix seconds (unsigned) |
//!
//! Keys ascend strictly; unknown keys are skipped, so later versions can add
//! fields. The exact rules are in `docs/TOKEN.md`.

use core::fmt;

use minicbor::Encoder;
use serde::Serialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::cbor::{CborError, StrictDecoder};
use super::validity::Validity;
use crate::token::{SealError, TokenError};
use crate::Waybill;

const NAME: u64 = 1;
const PHONE: u64 = 2;
const ADDRESS: u64 = 3;
const ITEMS: u64 = 4;
const ISSUED_AT: u64 = 5;
const EXPIRES_AT: u64 = 6;

const ITEM_DESCRIPTION: u64 = 1;
const ITEM_CATEGORY: u64 = 2;
const ITEM_QUANTITY: u64 = 3;

/// The plaintext sizes a payload is padded to: the CBOR map, then zero bytes up
/// to the smallest bucket that holds it. Every typical record fits the first.
pub(crate) const PAD_BUCKETS: [usize; 4] = [192, 512, 1024, 1536];

/// The personal data sealed in a token, as recovered by
/// [`KeyRing::open`](crate::KeyRing::open).
///
/// `Debug` shows nothing; the contents are zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Payload {
    pub(crate) name: String,
    pub(crate) phone: String,
    pub(crate) address: String,
    pub(crate) items: Vec<PayloadItem>,
    #[zeroize(skip)]
    pub(crate) issued_at: u64,
    #[zeroize(skip)]
    pub(crate) expires_at: u64,
}

/// One line of the contents inside a [`Payload`]. `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayloadItem {
    /// What the line is, as the seller wrote it.
    description: Option<String>,
    /// The line's category.
    category: Option<String>,
    /// How many.
    quantity: u32,
}

impl Payload {
    /// Builds the payload for a waybill's recipient. The phone is the real
    /// number (a virtual number is printed on the label, never sealed).
    pub(crate) fn from_waybill(waybill: &Waybill, validity: &Validity) -> Self {
        let r = waybill.recipient();
        Self {
            name: r.name().as_str().to_owned(),
            phone: r.phone().to_canonical(),
            address: r.address().to_full_text(),
            items: waybill
                .items()
                .iter()
                .map(|i| PayloadItem {
                    description: i.description().map(str::to_owned),
                    category: i.category().map(str::to_owned),
                    quantity: i.quantity(),
                })
                .collect(),
            issued_at: validity.issued_at_unix(),
            expires_at: validity.expires_at_unix(),
        }
    }

    /// The recipient's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The recipient's phone number, `+CC NATIONAL-EXT` or `NATIONAL`.
    pub fn phone(&self) -> &str {
        &self.phone
    }

    /// The recipient's full address on one line.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The contents.
    pub fn items(&self) -> &[PayloadItem] {
        &self.items
    }

    /// When the token was sealed, in unix seconds.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// When the token stops opening, in unix seconds (the exact expiry; the clear
    /// header only carries a coarse bound).
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Appends the CBOR map, without padding.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail.
        let _ = self.write(&mut Encoder::new(out));
    }

    fn write(
        &self,
        e: &mut Encoder<&mut Vec<u8>>,
    ) -> Result<(), minicbor::encode::Error<core::convert::Infallible>> {
        let n = if self.items.is_empty() { 5 } else { 6 };
        e.map(n)?;
        e.u64(NAME)?.str(&self.name)?;
        e.u64(PHONE)?.str(&self.phone)?;
        e.u64(ADDRESS)?.str(&self.address)?;
        if !self.items.is_empty() {
            e.u64(ITEMS)?.array(self.items.len() as u64)?;
            for i in &self.items {
                let n = 1 + u64::from(i.description.is_some()) + u64::from(i.category.is_some());
                e.map(n)?;
                if let Some(d) = &i.description {
                    e.u64(ITEM_DESCRIPTION)?.str(d)?;
                }
                if let Some(c) = &i.category {
                    e.u64(ITEM_CATEGORY)?.str(c)?;
                }
                e.u64(ITEM_QUANTITY)?.u64(u64::from(i.quantity))?;
            }
        }
        e.u64(ISSUED_AT)?.u64(self.issued_at)?;
        e.u64(EXPIRES_AT)?.u64(self.expires_at)?;
        Ok(())
    }

    /// Appends the CBOR map padded with zero bytes to its bucket.
    ///
    /// # Errors
    /// [`SealError::RecordTooLarge`] when no bucket holds it.
    pub(crate) fn encode_padded(&self, out: &mut Vec<u8>) -> Result<(), TokenError> {
        let start = out.len();
        self.encode_into(out);
        let len = out.len() - start;
        let bucket = PAD_BUCKETS
            .iter()
            .copied()
            .find(|&b| b >= len)
            .ok_or(TokenError::Seal(SealError::RecordTooLarge))?;
        out.resize(start + bucket, 0);
        Ok(())
    }

    /// Decodes a padded plaintext: one strict CBOR map, then only zero bytes,
    /// the whole exactly one bucket long.
    pub(crate) fn decode_padded(bytes: &[u8]) -> Result<Self, TokenError> {
        let malformed = TokenError::Open;
        if !PAD_BUCKETS.contains(&bytes.len()) {
            return Err(malformed);
        }
        let mut d = StrictDecoder::new(bytes);
        let payload = read_payload(&mut d).map_err(|_| malformed.clone())?;
        let rest = bytes.get(d.position()..).ok_or(malformed.clone())?;
        if rest.iter().all(|&b| b == 0) {
            Ok(payload)
        } else {
            Err(malformed)
        }
    }

    /// Decodes an unpadded CBOR map, rejecting anything after it.
    #[cfg(test)]
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = StrictDecoder::new(bytes);
        let p = read_payload(&mut d)?;
        if d.position() == bytes.len() {
            Ok(p)
        } else {
            Err(CborError)
        }
    }
}

/// Reads the map's keys, requiring them to ascend strictly (which also rules out
/// repeats), and calls `field` for each.
fn read_map<'b>(
    d: &mut StrictDecoder<'b>,
    mut field: impl FnMut(u64, &mut StrictDecoder<'b>) -> Result<(), CborError>,
) -> Result<(), CborError> {
    let mut last = None;
    for _ in 0..d.map()? {
        let key = d.uint()?;
        if last.is_some_and(|l| key <= l) {
            return Err(CborError);
        }
        last = Some(key);
        field(key, d)?;
    }
    Ok(())
}

fn read_payload(d: &mut StrictDecoder<'_>) -> Result<Payload, CborError> {
    let mut p = Payload {
        name: String::new(),
        phone: String::new(),
        address: String::new(),
        items: Vec::new(),
        issued_at: 0,
        expires_at: 0,
    };
    let mut seen = 0u8;
    read_map(d, |key, d| {
        match key {
            NAME => p.name = d.text()?.to_owned(),
            PHONE => p.phone = d.text()?.to_owned(),
            ADDRESS => p.address = d.text()?.to_owned(),
            ITEMS => {
                let n = d.array()?;
                if n == 0 {
                    return Err(CborError);
                }
                for _ in 0..n {
                    p.items.push(read_item(d)?);
                }
            }
            ISSUED_AT => p.issued_at = d.uint()?,
            EXPIRES_AT => p.expires_at = d.uint()?,
            _ => d.skip()?,
        }
        if key <= EXPIRES_AT {
            seen |= 1 << key;
        }
        Ok(())
    })?;
    // Keys 1, 2, 3, 5 and 6 are required; 4 is optional.
    let required = 1 << NAME | 1 << PHONE | 1 << ADDRESS | 1 << ISSUED_AT | 1 << EXPIRES_AT;
    if seen & required != required || p.expires_at <= p.issued_at {
        return Err(CborError);
    }
    Ok(p)
}

fn read_item(d: &mut StrictDecoder<'_>) -> Result<PayloadItem, CborError> {
    let mut item = PayloadItem {
        description: None,
        category: None,
        quantity: 0,
    };
    read_map(d, |key, d| {
        match key {
            ITEM_DESCRIPTION => item.description = Some(d.text()?.to_owned()),
            ITEM_CATEGORY => item.category = Some(d.text()?.to_owned()),
            ITEM_QUANTITY => {
                item.quantity = u32::try_from(d.uint()?).map_err(|_| CborError)?;
            }
            _ => d.skip()?,
        }
        Ok(())
    })?;
    if item.quantity == 0 {
        return Err(CborError);
    }
    Ok(item)
}

impl PayloadItem {
    /// What it is.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Its category.
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }

    /// How many (at least 1).
    pub fn quantity(&self) -> u32 {
        self.quantity
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Payload { .. }")
    }
}

impl fmt::Debug for PayloadItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PayloadItem { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Payload {
        Payload {
            name: "张三".into(),
            phone: "13812345678".into(),
            address: "广东省深圳市南山区".into(),
            items: vec![PayloadItem {
                description: Some("奶粉".into()),
                category: None,
                quantity: 2,
            }],
            issued_at: 1_790_000_000,
            expires_at: 1_792_592_000,
        }
    }

    #[test]
    fn round_trips_with_integer_keys_and_pads_to_a_bucket() {
        let p = sample();
        let mut buf = Vec::new();
        p.encode_into(&mut buf);
        // A 6-entry map whose first key is the unsigned integer 1.
        assert_eq!(&buf[..2], &[0xA6, 0x01]);
        assert_eq!(Payload::decode(&buf).unwrap(), p);
        let mut padded = Vec::new();
        p.encode_padded(&mut padded).unwrap();
        assert_eq!(padded.len(), PAD_BUCKETS[0]);
        assert_eq!(Payload::decode_padded(&padded).unwrap(), p);
        assert_eq!(format!("{p:?}"), "Payload { .. }");
    }

    #[test]
    fn padding_must_be_zero_and_exactly_a_bucket() {
        let mut padded = Vec::new();
        sample().encode_padded(&mut padded).unwrap();
        let mut nonzero = padded.clone();
        *nonzero.last_mut().unwrap() = 1;
        assert!(Payload::decode_padded(&nonzero).is_err());
        padded.push(0);
        assert!(Payload::decode_padded(&padded).is_err());
    }

    #[test]
    fn rejects_trailing_repeated_unordered_and_missing() {
        let mut buf = Vec::new();
        sample().encode_into(&mut buf);
        buf.push(0);
        assert!(Payload::decode(&buf).is_err());
        // {1: "a", 1: "b"}
        assert!(Payload::decode(&[0xA2, 0x01, 0x61, b'a', 0x01, 0x61, b'b']).is_err());
        // {1: "a"} lacks the other required keys.
        assert!(Payload::decode(&[0xA1, 0x01, 0x61, b'a']).is_err());
        // {2:"1", 1:"a", 3:"x", 5:0, 6:1}: keys out of order.
        let unordered = [
            0xA5, 0x02, 0x61, b'1', 0x01, 0x61, b'a', 0x03, 0x61, b'x', 0x05, 0x00, 0x06, 0x01,
        ];
        assert!(Payload::decode(&unordered).is_err());
    }

    #[test]
    fn skips_unknown_keys_of_allowed_types_only() {
        // {1:"a", 2:"1", 3:"x", 5:0, 6:1, 9:"f"}
        let mut bytes = vec![
            0xA6, 0x01, 0x61, b'a', 0x02, 0x61, b'1', 0x03, 0x61, b'x', 0x05, 0x00, 0x06, 0x01,
            0x09, 0x61, b'f',
        ];
        let p = Payload::decode(&bytes).unwrap();
        assert_eq!((p.name(), p.phone(), p.issued_at()), ("a", "1", 0));
        // The same with a float under key 9.
        bytes.truncate(15);
        bytes.extend_from_slice(&[0xF9, 0x3C, 0x00]);
        assert!(Payload::decode(&bytes).is_err());
    }
}
