//! Postal addresses, structured or free-form.

use unicode_segmentation::UnicodeSegmentation;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{address_cn, country};
use crate::model::ModelError;

/// The longest address field accepted, in grapheme clusters.
const MAX_FIELD_GRAPHEMES: usize = 200;

/// A postal address.
///
/// Built from a structured object (`province`/`region`, `city`, `district`,
/// `street`, `detail`, `postal_code`, `country`) or from one free-form string, which
/// is read as a Chinese address and split by the official division table (longest
/// name first), with suffix rules for names the table lacks.
///
/// # Guarantees
/// - `country` is an assigned ISO 3166-1 alpha-2 code (default `CN`).
/// - Every part is trimmed, non-empty when present, free of control characters and
///   at most 200 grapheme clusters.
/// - At least one part is present.
///
/// `Debug` prints only the country; the text is zeroized on drop.
#[derive(Clone, PartialEq, Eq, Default, Zeroize, ZeroizeOnDrop)]
pub struct Address {
    pub(crate) country: String,
    pub(crate) province: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) district: Option<String>,
    pub(crate) township: Option<String>,
    pub(crate) street: Option<String>,
    pub(crate) detail: Option<String>,
    pub(crate) postal_code: Option<String>,
    pub(crate) free_form: Option<String>,
}

/// The parts of a structured address; every field is optional, `country` defaults
/// to `CN`. For a Chinese address use `province`, `city`, `district`, `street` and
/// `detail`; elsewhere `region` (in `province`), `city`, `street`, `detail` and
/// `postal_code`.
///
/// Start from [`AddressFields::default`] and set the fields with the methods of
/// the same name:
///
/// ```
/// # use waybill_redact::{Address, AddressFields};
/// let fields = AddressFields::default()
///     .country("CN")
///     .province("上海市")
///     .city("上海市")
///     .district("浦东新区")
///     .street("世纪大道100号");
/// assert!(Address::structured(&fields).is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct AddressFields<'a> {
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<&'a str>,
    /// Province, autonomous region or municipality; region or state elsewhere.
    pub province: Option<&'a str>,
    /// City.
    pub city: Option<&'a str>,
    /// District or county.
    pub district: Option<&'a str>,
    /// Town, township or sub-district (镇, 乡, 街道).
    pub township: Option<&'a str>,
    /// Street line.
    pub street: Option<&'a str>,
    /// Building, unit, room.
    pub detail: Option<&'a str>,
    /// Postal code.
    pub postal_code: Option<&'a str>,
}

impl<'a> AddressFields<'a> {
    /// With the ISO 3166-1 alpha-2 country code.
    #[must_use]
    pub const fn country(mut self, country: &'a str) -> Self {
        self.country = Some(country);
        self
    }

    /// With the province, autonomous region or municipality (region or state elsewhere).
    #[must_use]
    pub const fn province(mut self, province: &'a str) -> Self {
        self.province = Some(province);
        self
    }

    /// With the city.
    #[must_use]
    pub const fn city(mut self, city: &'a str) -> Self {
        self.city = Some(city);
        self
    }

    /// With the town, township or sub-district (镇, 乡, 街道).
    #[must_use]
    pub const fn township(mut self, township: &'a str) -> Self {
        self.township = Some(township);
        self
    }

    /// With the district or county.
    #[must_use]
    pub const fn district(mut self, district: &'a str) -> Self {
        self.district = Some(district);
        self
    }

    /// With the street line.
    #[must_use]
    pub const fn street(mut self, street: &'a str) -> Self {
        self.street = Some(street);
        self
    }

    /// With the building, unit and room.
    #[must_use]
    pub const fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }

    /// With the postal code.
    #[must_use]
    pub const fn postal_code(mut self, postal_code: &'a str) -> Self {
        self.postal_code = Some(postal_code);
        self
    }
}

impl Address {
    /// Reads a free-form address (assumed to be in China). `field` names it in errors.
    ///
    /// # Errors
    /// [`ModelError::Empty`], [`ModelError::TooLong`], [`ModelError::ControlCharacter`].
    pub(crate) fn from_free_form(field: &str, text: &str) -> Result<Self, ModelError> {
        let text = check_text(field, text)?.ok_or_else(|| ModelError::Empty {
            field: field.into(),
        })?;
        let split = address_cn::split(&text);
        Ok(Self {
            country: "CN".into(),
            province: split.province,
            city: split.city,
            district: split.district,
            township: split.township,
            street: None,
            detail: Some(split.rest).filter(|r| !r.is_empty()),
            postal_code: None,
            free_form: Some(text),
        })
    }

    /// Validates structured parts. `field` names the address in errors.
    ///
    /// # Errors
    /// [`ModelError::Country`] for an unknown country code, [`ModelError::Missing`]
    /// when no part is present, and the text errors of [`Address::from_free_form`].
    pub(crate) fn from_parts(field: &str, parts: &AddressFields<'_>) -> Result<Self, ModelError> {
        let sub = |name: &str| format!("{field}.{name}");
        let country = match parts.country.map(str::trim).filter(|c| !c.is_empty()) {
            None => "CN".to_owned(),
            Some(c) => country::normalize(c).ok_or_else(|| ModelError::Country {
                field: sub("country"),
            })?,
        };
        let address = Self {
            country,
            province: check_text(&sub("province"), parts.province.unwrap_or(""))?,
            city: check_text(&sub("city"), parts.city.unwrap_or(""))?,
            district: check_text(&sub("district"), parts.district.unwrap_or(""))?,
            township: check_text(&sub("township"), parts.township.unwrap_or(""))?,
            street: check_text(&sub("street"), parts.street.unwrap_or(""))?,
            detail: check_text(&sub("detail"), parts.detail.unwrap_or(""))?,
            postal_code: check_text(&sub("postal_code"), parts.postal_code.unwrap_or(""))?,
            free_form: None,
        };
        if [
            &address.province,
            &address.city,
            &address.district,
            &address.township,
            &address.street,
            &address.detail,
        ]
        .iter()
        .all(|p| p.is_none())
        {
            return Err(ModelError::Missing {
                field: format!("{field} (province, city, street or detail)"),
            });
        }
        Ok(address)
    }

    /// ISO 3166-1 alpha-2 country code.
    pub fn country(&self) -> &str {
        &self.country
    }

    /// True for an address in mainland China, where the Chinese masking rules apply.
    pub fn is_domestic(&self) -> bool {
        self.country == "CN"
    }

    /// Province, autonomous region or municipality (CN); region or state elsewhere.
    pub fn province(&self) -> Option<&str> {
        self.province.as_deref()
    }

    /// Prefecture-level city, autonomous prefecture or league; city elsewhere.
    pub fn city(&self) -> Option<&str> {
        self.city.as_deref()
    }

    /// District, county, banner or county-level city.
    pub fn district(&self) -> Option<&str> {
        self.district.as_deref()
    }

    /// Town, township or sub-district (镇, 乡, 街道), when a free-form address names one.
    pub fn township(&self) -> Option<&str> {
        self.township.as_deref()
    }

    /// The street line as given (with its number). Personal data.
    pub fn street(&self) -> Option<&str> {
        self.street.as_deref()
    }

    /// Everything below the street, or the unsplit remainder of a free-form
    /// address. Personal data.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The postal code. Personal data at house level in some countries.
    pub fn postal_code(&self) -> Option<&str> {
        self.postal_code.as_deref()
    }

    /// True when the address came in as one free-form string.
    pub fn is_free_form(&self) -> bool {
        self.free_form.is_some()
    }

    /// The road name without its number (`深南大道` from `深南大道10000号`), for
    /// Chinese addresses, when one can be found with certainty.
    pub fn road_name(&self) -> Option<String> {
        let source = self.street.as_deref().or(self.detail.as_deref())?;
        address_cn::road_name(source)
    }

    /// The whole address as one line: the free-form text as given, or the parts
    /// joined in the order of the address's country. Personal data: seal it.
    pub fn to_full_text(&self) -> String {
        if let Some(text) = &self.free_form {
            return text.clone();
        }
        let parts = [
            &self.province,
            &self.city,
            &self.district,
            &self.township,
            &self.street,
            &self.detail,
        ];
        if self.is_domestic() {
            let mut s: String = parts.iter().filter_map(|p| p.as_deref()).collect();
            if let Some(pc) = &self.postal_code {
                s.push(' ');
                s.push_str(pc);
            }
            s
        } else {
            // Western order: detail, street, district, city, region postal, country.
            let mut v: Vec<&str> = parts.iter().rev().filter_map(|p| p.as_deref()).collect();
            if let Some(pc) = &self.postal_code {
                v.push(pc);
            }
            v.push(&self.country);
            v.join(", ")
        }
    }
}

impl core::fmt::Debug for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Address")
            .field("country", &self.country)
            .finish_non_exhaustive()
    }
}

/// Trims and validates one text part: `Ok(None)` when empty.
fn check_text(field: &str, text: &str) -> Result<Option<String>, ModelError> {
    let text = super::name::trim_invisible(text);
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().any(char::is_control) {
        return Err(ModelError::ControlCharacter {
            field: field.into(),
        });
    }
    let len = text.graphemes(true).count();
    if len > MAX_FIELD_GRAPHEMES {
        return Err(ModelError::TooLong {
            field: field.into(),
            len,
            max: MAX_FIELD_GRAPHEMES,
        });
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_domestic() {
        let parts = AddressFields {
            province: Some("广东省"),
            city: Some("深圳市"),
            district: Some("南山区"),
            street: Some("深南大道10000号"),
            detail: Some("腾讯大厦1栋1单元1001室"),
            postal_code: Some("518057"),
            ..Default::default()
        };
        let a = Address::from_parts("recipient.address", &parts).unwrap();
        assert!(a.is_domestic());
        assert_eq!(a.road_name().as_deref(), Some("深南大道"));
        assert_eq!(
            a.to_full_text(),
            "广东省深圳市南山区深南大道10000号腾讯大厦1栋1单元1001室 518057"
        );
    }

    #[test]
    fn structured_international() {
        let parts = AddressFields {
            country: Some("gb"),
            province: Some("England"),
            city: Some("London"),
            street: Some("221B Baker Street"),
            detail: Some("Flat 2"),
            postal_code: Some("NW1 6XE"),
            ..Default::default()
        };
        let a = Address::from_parts("a", &parts).unwrap();
        assert_eq!(a.country(), "GB");
        assert_eq!(
            a.to_full_text(),
            "Flat 2, 221B Baker Street, London, England, NW1 6XE, GB"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let bad = AddressFields {
            country: Some("UK"),
            city: Some("London"),
            ..Default::default()
        };
        assert_eq!(
            Address::from_parts("recipient.address", &bad).unwrap_err(),
            ModelError::Country {
                field: "recipient.address.country".into()
            }
        );
        let empty = AddressFields {
            country: Some("CN"),
            ..Default::default()
        };
        assert!(matches!(
            Address::from_parts("x", &empty),
            Err(ModelError::Missing { .. })
        ));
        assert!(matches!(
            Address::from_free_form("x", "  "),
            Err(ModelError::Empty { .. })
        ));
        let long = "路".repeat(201);
        assert!(matches!(
            Address::from_free_form("x", &long),
            Err(ModelError::TooLong { .. })
        ));
    }

    #[test]
    fn free_form_keeps_original_text() {
        let text = "福建省厦门市思明区厦禾路888号";
        let a = Address::from_free_form("x", text).unwrap();
        assert_eq!(a.to_full_text(), text);
        assert_eq!(
            (a.province(), a.city(), a.district()),
            (Some("福建省"), Some("厦门市"), Some("思明区"))
        );
        assert_eq!(a.road_name().as_deref(), Some("厦禾路"));
        assert!(!format!("{a:?}").contains("厦"));
    }
}
