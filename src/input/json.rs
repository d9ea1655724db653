//! Reading waybills from the JSON input format (one object, a JSON array, or JSON
//! Lines).
//!
//! The input is first read as a `serde_json::Value` and then walked by hand, so
//! that every error names its field path and no error message ever quotes a value
//! (serde's own type errors would print the personal data they choke on).

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::json_strict;
use crate::input::InputLimits;
use crate::model::ModelError;

/// The fields of a structured address (`province` or its synonym `region`).
const ADDRESS_KEYS: [&str; 9] = [
    "country",
    "province",
    "region",
    "city",
    "district",
    "township",
    "street",
    "detail",
    "postal_code",
];
use crate::model::{
    Address, AddressFields, Item, Party, PersonName, Phone, Routing, TrackingNumber, VirtualPhone,
    Waybill,
};

/// A record of a batch that could not be read.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {position}{}: {error}", tracking_number.as_ref().map(|t| format!(" ({t})")).unwrap_or_default())]
pub struct RecordError {
    /// 1-based position of the record in the input (array index or line).
    pub position: usize,
    /// The record's tracking number, when it could be read.
    pub tracking_number: Option<String>,
    /// What is wrong.
    pub error: ModelError,
}

impl Waybill {
    /// Reads one waybill from a JSON object in the input format, with the default
    /// [`InputLimits`](crate::InputLimits) on arrays (the text itself is already in
    /// memory, so its size is not limited here).
    ///
    /// # Errors
    /// [`ModelError::Json`] for malformed JSON, [`ModelError::DuplicateKey`] for a
    /// key repeated in one object, [`ModelError::TooManyEntries`] for an array over
    /// the limit, otherwise the first invalid field.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let value = json_strict::parse(text.as_bytes(), "", InputLimits::DEFAULT_MAX_ITEMS)?;
        Self::from_json_value(&value)
    }

    /// Reads one waybill from an already parsed JSON value (the crate's own
    /// strict parse; callers holding a `serde_json::Value` deserialize it with
    /// the [`Deserialize`](serde::Deserialize) impl, which keeps the checks).
    ///
    /// # Errors
    /// The first invalid or missing field, named by its path; `items` when the
    /// quantities add up to more than `u32::MAX`.
    pub(crate) fn from_json_value(value: &Value) -> Result<Self, ModelError> {
        let o = Obj::root(value)?;
        let tracking_number =
            TrackingNumber::parse_field("tracking_number", o.req_str("tracking_number")?)?;
        let zone = o.u32("zone")?.ok_or_else(|| o.missing("zone"))?;
        let recipient = Party::from_obj(&o.req_obj("recipient")?)?;
        let sender = o.obj("sender")?.map(|s| Party::from_obj(&s)).transpose()?;
        let routing = o.obj("routing")?.map(|r| -> Result<_, ModelError> {
            Ok(Routing {
                sort_code: r.text("sort_code")?,
                hub: r.text("hub")?,
            })
        });
        let mut items = Vec::new();
        if let Some(list) = o.array("items")? {
            for (i, v) in list.iter().enumerate() {
                let it = Obj::at(v, format!("items[{i}]"))?;
                let quantity = it.u32("quantity")?.unwrap_or(1);
                if quantity == 0 {
                    return Err(ModelError::Invalid {
                        field: it.path("quantity"),
                        reason: "must be at least 1",
                    });
                }
                items.push(Item {
                    description: it.text("description")?,
                    category: it.text("category")?,
                    quantity,
                });
            }
        }
        check_total_quantity(&items)?;
        Ok(Waybill {
            tracking_number,
            zone,
            carrier: o.text("carrier")?,
            service: o.text("service")?,
            routing: routing.transpose()?,
            recipient,
            sender,
            items,
            weight_grams: o.u32("weight_grams")?,
            created_at: o.datetime("created_at")?,
        })
    }
}

/// Deserialises from the JSON input format with the same validation as
/// [`Waybill::from_json`] (repeated keys refused, default array limit); errors name
/// the field, never its value.
impl<'de> serde::Deserialize<'de> for Waybill {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = json_strict::deserialize(d, InputLimits::DEFAULT_MAX_ITEMS)?;
        Waybill::from_json_value(&value).map_err(serde::de::Error::custom)
    }
}

/// The label prints the total (`共N件`), so it must exist: a sum over `u32::MAX`
/// is refused rather than saturated.
pub(crate) fn check_total_quantity(items: &[Item]) -> Result<(), ModelError> {
    items
        .iter()
        .try_fold(0u32, |sum, i| sum.checked_add(i.quantity))
        .map(drop)
        .ok_or(ModelError::Invalid {
            field: "items".into(),
            reason: "quantities add up to more than 4294967295",
        })
}

impl Party {
    fn from_obj(o: &Obj<'_>) -> Result<Self, ModelError> {
        let name = PersonName::parse_field(&o.path("name"), o.req_str("name")?)?;
        let phone = Phone::parse_field(&o.path("phone"), &o.req_phone_text("phone")?)?;
        let virtual_phone = match o.obj("virtual_phone")? {
            None => None,
            Some(v) => Some(VirtualPhone {
                number: Phone::parse_field(&v.path("number"), &v.req_phone_text("number")?)?,
                extension: match v.phone_text("extension")? {
                    Some(e)
                        if !e.is_empty()
                            && e.len() <= 8
                            && e.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        Some(e)
                    }
                    Some(_) => {
                        return Err(ModelError::Invalid {
                            field: v.path("extension"),
                            reason: "must be 1 to 8 digits",
                        })
                    }
                    None => None,
                },
                expires_at: v.datetime("expires_at")?,
            }),
        };
        let field = o.path("address");
        let address = match o.get("address") {
            None | Some(Value::Null) => return Err(o.missing("address")),
            Some(Value::String(s)) => Address::from_free_form(&field, s)?,
            Some(v @ Value::Object(_)) => {
                let a = Obj::at(v, field.clone())?;
                // A structured address's fields are all known: one that is not
                // would be lost input (its name is not repeated: it may be anything).
                if a.map.keys().any(|k| !ADDRESS_KEYS.contains(&k.as_str())) {
                    return Err(ModelError::Invalid {
                        field,
                        reason: "unknown field in a structured address (known: country, \
                                 province, region, city, district, township, street, detail, \
                                 postal_code)",
                    });
                }
                let parts = AddressFields {
                    country: a.str("country")?,
                    province: a.str("province")?.or(a.str("region")?),
                    city: a.str("city")?,
                    district: a.str("district")?,
                    township: a.str("township")?,
                    street: a.str("street")?,
                    detail: a.str("detail")?,
                    postal_code: a.str("postal_code")?,
                };
                Address::from_parts(&field, &parts)?
            }
            Some(_) => {
                return Err(ModelError::Invalid {
                    field,
                    reason: "expected a string or an object",
                })
            }
        };
        Ok(Party {
            name,
            phone,
            virtual_phone,
            address,
        })
    }
}

/// Parses one record's JSON text strictly and converts it, attaching its position
/// (and tracking number, when the text parsed) to errors.
pub(crate) fn record_from_slice(
    position: usize,
    bytes: &[u8],
    max_items: usize,
) -> Result<Waybill, RecordError> {
    match json_strict::parse(bytes, "", max_items) {
        Ok(value) => record(position, &value),
        Err(error) => Err(RecordError {
            position,
            tracking_number: None,
            error,
        }),
    }
}

/// Converts one parsed record, attaching its position and tracking number to errors.
pub(crate) fn record(position: usize, value: &Value) -> Result<Waybill, RecordError> {
    Waybill::from_json_value(value).map_err(|error| RecordError {
        position,
        tracking_number: tracking_number(value),
        error,
    })
}

/// A record's tracking number for its error, when it looks like one.
pub(crate) fn tracking_number(value: &Value) -> Option<String> {
    value
        .get("tracking_number")
        .and_then(Value::as_str)
        .filter(|t| t.len() <= 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_owned)
}

/// The reason of a [`ModelError::Json`] for text that ends inside a value.
pub(crate) const EOF_REASON: &str = "unexpected end of input";

/// serde_json's syntax errors carry no input text; its data errors may, so they are
/// reduced to their position.
pub(crate) fn json_error(e: serde_json::Error) -> ModelError {
    let reason = match e.classify() {
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Eof => EOF_REASON,
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Data => "unexpected value",
    };
    ModelError::Json {
        line: e.line(),
        column: e.column(),
        reason: reason.into(),
    }
}

/// A JSON object with its path, for field-named errors.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn root(v: &'a Value) -> Result<Self, ModelError> {
        Self::at(v, String::new())
    }

    fn at(v: &'a Value, path: String) -> Result<Self, ModelError> {
        match v {
            Value::Object(map) => Ok(Self { map, path }),
            _ => Err(ModelError::Invalid {
                field: if path.is_empty() {
                    "record".into()
                } else {
                    path
                },
                reason: "expected an object",
            }),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn missing(&self, key: &str) -> ModelError {
        ModelError::Missing {
            field: self.path(key),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, ModelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ModelError::Invalid {
                field: self.path(key),
                reason: "expected a string",
            }),
        }
    }

    fn req_str(&self, key: &str) -> Result<&'a str, ModelError> {
        self.str(key)?.ok_or_else(|| self.missing(key))
    }

    /// Optional free text, trimmed; empty becomes `None`.
    fn text(&self, key: &str) -> Result<Option<String>, ModelError> {
        let Some(s) = self.str(key)?.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if s.chars().any(char::is_control) {
            return Err(ModelError::ControlCharacter {
                field: self.path(key),
            });
        }
        if s.chars().count() > 200 {
            return Err(ModelError::TooLong {
                field: self.path(key),
                len: s.chars().count(),
                max: 200,
            });
        }
        Ok(Some(s.to_owned()))
    }

    /// Phone numbers often arrive as JSON numbers; accept both.
    fn phone_text(&self, key: &str) -> Result<Option<String>, ModelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(ModelError::Invalid {
                field: self.path(key),
                reason: "expected a string",
            }),
        }
    }

    fn req_phone_text(&self, key: &str) -> Result<String, ModelError> {
        self.phone_text(key)?.ok_or_else(|| self.missing(key))
    }

    fn u32(&self, key: &str) -> Result<Option<u32>, ModelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or(ModelError::Invalid {
                    field: self.path(key),
                    reason: "expected a whole number from 0 to 4294967295",
                }),
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().map(Some).map_err(|_| ModelError::Invalid {
                    field: self.path(key),
                    reason: "number out of range",
                })
            }
            Some(_) => Err(ModelError::Invalid {
                field: self.path(key),
                reason: "expected a whole number",
            }),
        }
    }

    fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, ModelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Obj::at(v, self.path(key)).map(Some),
        }
    }

    fn req_obj(&self, key: &str) -> Result<Obj<'a>, ModelError> {
        self.obj(key)?.ok_or_else(|| self.missing(key))
    }

    fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ModelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(ModelError::Invalid {
                field: self.path(key),
                reason: "expected an array",
            }),
        }
    }

    fn datetime(&self, key: &str) -> Result<Option<OffsetDateTime>, ModelError> {
        self.str(key)?
            .map(|s| {
                OffsetDateTime::parse(s.trim(), &Rfc3339).map_err(|_| ModelError::DateTime {
                    field: self.path(key),
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {

    /// `docs/TOKEN.md` (township) and `docs/INPUT.md`: a structured address's
    /// `township` is read and sealed; a field it does not know is refused, not
    /// dropped, and is not named.
    #[test]
    fn township_is_read_and_unknown_address_fields_are_refused() {
        let record = |address: &str| {
            format!(
                r#"{{"tracking_number":"SF1234567890123","zone":1,"recipient":{{"name":"张三","phone":"13812345678","address":{address}}}}}"#
            )
        };
        let w = Waybill::from_json(&record(
            r#"{"province":"浙江省","city":"杭州市","district":"余杭区","township":"仓前街道","street":"文一西路969号"}"#,
        ))
        .unwrap();
        let a = w.recipient().address();
        assert_eq!(a.township(), Some("仓前街道"));
        assert_eq!(a.to_full_text(), "浙江省杭州市余杭区仓前街道文一西路969号");
        let err = Waybill::from_json(&record(
            r#"{"province":"浙江省","city":"杭州市","town_secret":"x"}"#,
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("unknown field in a structured address"),
            "{err}"
        );
        assert!(!err.contains("town_secret"), "{err}");
    }

    use super::*;

    #[test]
    fn deserialize_validates_like_from_json() {
        #[derive(serde::Deserialize)]
        struct Order {
            waybill: Waybill,
        }
        let ok: Order = serde_json::from_str(
            r#"{"waybill":{"tracking_number":"SF1234567890123","zone":7,"recipient":{"name":"张三","phone":"13812345678","address":"北京市朝阳区"}}}"#,
        )
        .unwrap();
        assert_eq!(ok.waybill.zone(), 7);
        let err = serde_json::from_str::<Order>(
            r#"{"waybill":{"tracking_number":"SF1234567890123","zone":7,"recipient":{"name":"张三","phone":"secret-abc","address":"北京市朝阳区"}}}"#,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.starts_with("recipient.phone: invalid phone number"),
            "{err}"
        );
        assert!(!err.contains("secret"), "{err}");
    }
}
