//! JSON records parsed strictly: a key repeated in one object is refused (with
//! `serde_json::Value` the last one would silently win), and an array longer than
//! the item limit is refused as soon as its first extra entry arrives, before that
//! entry is built.

use std::cell::RefCell;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::json::json_error;
use crate::model::ModelError;

/// Every key of the JSON input format. Only these are named in errors: an unknown
/// key may be anything, personal data included.
const KNOWN_KEYS: [&str; 31] = [
    "tracking_number",
    "zone",
    "carrier",
    "service",
    "routing",
    "sort_code",
    "hub",
    "recipient",
    "sender",
    "name",
    "phone",
    "virtual_phone",
    "number",
    "extension",
    "expires_at",
    "address",
    "country",
    "province",
    "region",
    "city",
    "district",
    "township",
    "street",
    "detail",
    "postal_code",
    "items",
    "description",
    "category",
    "quantity",
    "weight_grams",
    "created_at",
];

/// Parses one record's JSON text strictly (see the module doc). `root` names the
/// field the text stands for in errors (`items` for a CSV `items_json` cell), or
/// is empty for a whole record.
pub(crate) fn parse(
    bytes: &[u8],
    root: &'static str,
    max_items: usize,
) -> Result<Value, ModelError> {
    let issue = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let step = if root.is_empty() {
        Step::Root
    } else {
        Step::Field(root)
    };
    let strict = Strict {
        at: &step,
        issue: &issue,
        max_items,
    };
    let value = strict
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    value.map_err(|e| issue.take().unwrap_or_else(|| json_error(e)))
}

/// Deserialises any JSON value as strictly as [`parse`], for `Deserialize` impls;
/// the error says what [`parse`] would, as a message.
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
    d: D,
    max_items: usize,
) -> Result<Value, D::Error> {
    let issue = RefCell::new(None);
    let strict = Strict {
        at: &Step::Root,
        issue: &issue,
        max_items,
    };
    strict.deserialize(d).map_err(|e| match issue.take() {
        Some(issue) => de::Error::custom(issue),
        None => e,
    })
}

/// Where a value sits in its record: a chain of keys and indices up to the root.
enum Step<'a> {
    Root,
    /// A named root (`items` for a CSV cell).
    Field(&'static str),
    Key(&'a str, &'a Step<'a>),
    Index(usize, &'a Step<'a>),
}

impl Step<'_> {
    /// The path as errors print it (`recipient.address.city`, `items[2]`);
    /// unknown keys print as `<unknown>`.
    fn path(&self) -> String {
        match self {
            Step::Root => String::new(),
            Step::Field(name) => (*name).to_owned(),
            Step::Key(key, parent) => {
                let key = KNOWN_KEYS
                    .iter()
                    .find(|k| *k == key)
                    .copied()
                    .unwrap_or("<unknown>");
                let parent = parent.path();
                if parent.is_empty() {
                    key.to_owned()
                } else {
                    format!("{parent}.{key}")
                }
            }
            Step::Index(i, parent) => format!("{}[{i}]", parent.path()),
        }
    }

    /// The path, or `record` for the root itself.
    fn field(&self) -> String {
        let path = self.path();
        if path.is_empty() {
            "record".into()
        } else {
            path
        }
    }
}

/// Builds a `Value` like serde_json's own visitor, with the two checks.
struct Strict<'a> {
    at: &'a Step<'a>,
    issue: &'a RefCell<Option<ModelError>>,
    max_items: usize,
}

impl Strict<'_> {
    /// Records the issue and returns the error that unwinds the parser.
    fn fail<E: de::Error>(&self, issue: ModelError) -> E {
        let message = issue.to_string();
        *self.issue.borrow_mut() = Some(issue);
        E::custom(message)
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let index = out.len();
            if index >= self.max_items {
                // One more entry is skipped, not built, to tell.
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(self.fail(ModelError::TooManyEntries {
                        field: self.at.field(),
                        max: self.max_items,
                    }));
                }
                break;
            }
            let step = Step::Index(index, self.at);
            let entry = Strict {
                at: &step,
                issue: self.issue,
                max_items: self.max_items,
            };
            match seq.next_element_seed(entry)? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let step = Step::Key(&key, self.at);
            if out.contains_key(&key) {
                return Err(self.fail(ModelError::DuplicateKey {
                    field: step.field(),
                }));
            }
            let value = map.next_value_seed(Strict {
                at: &step,
                issue: self.issue,
                max_items: self.max_items,
            })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text.as_bytes(), "", 3).unwrap_err().to_string()
    }

    #[test]
    fn repeated_keys_are_refused_at_any_level_without_the_value() {
        assert_eq!(
            err(r#"{"zone":1,"zone":2}"#),
            "zone: key appears more than once"
        );
        assert_eq!(
            err(r#"{"recipient":{"address":{"city":"甲","city":"乙"}}}"#),
            "recipient.address.city: key appears more than once"
        );
        assert_eq!(
            err(r#"{"items":[{},{"quantity":1,"quantity":2}]}"#),
            "items[1].quantity: key appears more than once"
        );
        // An unknown key may be personal data: it is not echoed.
        let e = err(r#"{"x":{"13812345678":1,"13812345678":2}}"#);
        assert_eq!(e, "<unknown>.<unknown>: key appears more than once");
        // The same key in different objects is fine.
        assert!(parse(br#"{"a":{"k":1},"b":{"k":1}}"#, "", 3).is_ok());
    }

    #[test]
    fn arrays_are_capped_at_any_level() {
        assert!(parse(br#"{"items":[1,2,3]}"#, "", 3).is_ok());
        assert_eq!(err(r#"{"items":[1,2,3,4]}"#), "items: more than 3 entries");
        assert_eq!(
            err(r#"{"x":[[1,2,3,4]]}"#),
            "<unknown>[0]: more than 3 entries"
        );
        assert_eq!(
            parse(b"[1,2,3,4]", "items", 3).unwrap_err().to_string(),
            "items: more than 3 entries"
        );
    }

    #[test]
    fn values_match_serde_json() {
        let text = r#"{"a":[1,-2,3.5,true,null,"x",{"b":{}}],"c":18446744073709551615}"#;
        let strict = parse(text.as_bytes(), "", 10).unwrap();
        assert_eq!(strict, serde_json::from_str::<Value>(text).unwrap());
        assert!(matches!(
            parse(b"{\"a\":1} x", "", 10),
            Err(ModelError::Json { .. })
        ));
    }
}
