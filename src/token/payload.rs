//! The sealed payload: a CBOR map (RFC 8949) with small integer keys, so that a
//! courier app in any language can read it.
//!
//! | key | value |
//! |---|---|
//! | 1 | recipient name (text) |
//! | 2 | recipient phone, canonical form `+CC NATIONAL-EXT` (text) |
//! | 3 | recipient address, one line (text) |
//! | 4 | items: array of maps `{1: description, 2: category, 3: quantity}`, omitted when empty |
//! | 5 | issued-at, unix seconds (unsigned) |
//!
//! Unknown keys are ignored, so that later versions can add fields.

use core::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::TokenError;
use crate::Waybill;

const NAME: u8 = 1;
const PHONE: u8 = 2;
const ADDRESS: u8 = 3;
const ITEMS: u8 = 4;
const ISSUED_AT: u8 = 5;

const ITEM_DESCRIPTION: u8 = 1;
const ITEM_CATEGORY: u8 = 2;
const ITEM_QUANTITY: u8 = 3;

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
}

/// One line of the contents inside a [`Payload`]. `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop, Serialize)]
pub struct PayloadItem {
    description: Option<String>,
    category: Option<String>,
    quantity: u32,
}

impl Payload {
    /// Builds the payload for a waybill's recipient, issued at `now`.
    pub(crate) fn from_waybill(waybill: &Waybill, now: OffsetDateTime) -> Self {
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
            issued_at: u64::try_from(now.unix_timestamp()).unwrap_or(0),
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

    /// Appends the CBOR encoding to `out`.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), TokenError> {
        ciborium::into_writer(self, out).map_err(|_| TokenError::Seal {
            reason: "payload could not be encoded",
        })
    }

    /// Decodes a CBOR payload, rejecting trailing bytes.
    pub(crate) fn decode(mut bytes: &[u8]) -> Result<Self, TokenError> {
        let malformed = TokenError::Malformed {
            reason: "payload is not the expected CBOR map",
        };
        let mut scratch = Zeroizing::new([0u8; 512]);
        let payload: Self =
            ciborium::de::from_reader_with_buffer(&mut bytes, scratch.as_mut_slice())
                .map_err(|_| malformed.clone())?;
        if bytes.is_empty() {
            Ok(payload)
        } else {
            Err(malformed)
        }
    }
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

    /// How many.
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

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = if self.items.is_empty() { 4 } else { 5 };
        let mut m = s.serialize_map(Some(n))?;
        m.serialize_entry(&NAME, &self.name)?;
        m.serialize_entry(&PHONE, &self.phone)?;
        m.serialize_entry(&ADDRESS, &self.address)?;
        if !self.items.is_empty() {
            m.serialize_entry(&ITEMS, &CborItems(&self.items))?;
        }
        m.serialize_entry(&ISSUED_AT, &self.issued_at)?;
        m.end()
    }
}

/// The items as CBOR maps with integer keys (the JSON disclosure uses names).
struct CborItems<'a>(&'a [PayloadItem]);

impl Serialize for CborItems<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(CborItem))
    }
}

struct CborItem<'a>(&'a PayloadItem);

impl Serialize for CborItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let n = 1 + usize::from(i.description.is_some()) + usize::from(i.category.is_some());
        let mut m = s.serialize_map(Some(n))?;
        if let Some(d) = &i.description {
            m.serialize_entry(&ITEM_DESCRIPTION, d)?;
        }
        if let Some(c) = &i.category {
            m.serialize_entry(&ITEM_CATEGORY, c)?;
        }
        m.serialize_entry(&ITEM_QUANTITY, &i.quantity)?;
        m.end()
    }
}

/// Stores `value` in `slot`, rejecting a key seen twice.
fn set_once<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom("duplicate key"));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a payload map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload, A::Error> {
                let (mut name, mut phone, mut address, mut items, mut issued) =
                    (None, None, None, None, None);
                while let Some(key) = map.next_key::<u64>()? {
                    match key {
                        1 => set_once(&mut name, map.next_value::<String>()?)?,
                        2 => set_once(&mut phone, map.next_value::<String>()?)?,
                        3 => set_once(&mut address, map.next_value::<String>()?)?,
                        4 => set_once(&mut items, map.next_value::<Vec<PayloadItem>>()?)?,
                        5 => set_once(&mut issued, map.next_value::<u64>()?)?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let missing = |k: &str| de::Error::custom(format_args!("missing key {k}"));
                Ok(Payload {
                    name: name.ok_or_else(|| missing("name"))?,
                    phone: phone.ok_or_else(|| missing("phone"))?,
                    address: address.ok_or_else(|| missing("address"))?,
                    items: items.unwrap_or_default(),
                    issued_at: issued.ok_or_else(|| missing("issued-at"))?,
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for PayloadItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PayloadItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an item map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PayloadItem, A::Error> {
                let (mut description, mut category, mut quantity) = (None, None, None);
                while let Some(key) = map.next_key::<u64>()? {
                    match key {
                        1 => set_once(&mut description, map.next_value::<String>()?)?,
                        2 => set_once(&mut category, map.next_value::<String>()?)?,
                        3 => set_once(&mut quantity, map.next_value::<u32>()?)?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(PayloadItem {
                    description,
                    category,
                    quantity: quantity.ok_or_else(|| de::Error::custom("missing quantity"))?,
                })
            }
        }
        d.deserialize_map(V)
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
        }
    }

    #[test]
    fn round_trips_with_integer_keys() {
        let p = sample();
        let mut buf = Vec::new();
        p.encode_into(&mut buf).unwrap();
        // A 5-entry map whose first key is the unsigned integer 1.
        assert_eq!(&buf[..2], &[0xA5, 0x01]);
        assert_eq!(Payload::decode(&buf).unwrap(), p);
        assert_eq!(format!("{p:?}"), "Payload { .. }");
    }

    #[test]
    fn rejects_trailing_duplicate_and_missing() {
        let mut buf = Vec::new();
        sample().encode_into(&mut buf).unwrap();
        buf.push(0);
        assert!(Payload::decode(&buf).is_err());
        // {1: "a", 1: "b"}
        assert!(Payload::decode(&[0xA2, 0x01, 0x61, b'a', 0x01, 0x61, b'b']).is_err());
        // {1: "a"} lacks phone, address and issued-at.
        assert!(Payload::decode(&[0xA1, 0x01, 0x61, b'a']).is_err());
    }

    #[test]
    fn ignores_unknown_keys() {
        // {1:"a", 2:"1", 3:"x", 5:0, 9:"future"}
        let bytes = [
            0xA5, 0x01, 0x61, b'a', 0x02, 0x61, b'1', 0x03, 0x61, b'x', 0x05, 0x00, 0x09, 0x61,
            b'f',
        ];
        let p = Payload::decode(&bytes).unwrap();
        assert_eq!((p.name(), p.phone(), p.issued_at()), ("a", "1", 0));
    }
}
