//! The routing zone against the recipient's address: when the zone is a 6-digit
//! GB/T 2260 division code, a label whose address names another county is
//! flagged (a mis-sorted parcel costs a day), and a province or city the
//! address leaves out is taken from the zone.

use crate::model::{division_codes, division_names, divisions_contain, Address};

/// Something the caller should know about a masked waybill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaskWarning {
    /// The zone is a division code, and the recipient's address names a division
    /// outside it. Check the address or the zone before the parcel is sorted.
    ZoneMismatch {
        /// The waybill's zone (a division code, not personal data).
        zone: u32,
    },
}

impl core::fmt::Display for MaskWarning {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MaskWarning::ZoneMismatch { zone } => write!(
                f,
                "zone {zone} is a division code, and recipient.address names another one"
            ),
        }
    }
}

/// What the zone says about the recipient's address.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ZoneCheck {
    /// The address names a division outside the zone.
    pub mismatch: bool,
    /// The zone's province, when the address has none.
    pub province: Option<&'static str>,
    /// The zone's city, when the address has none.
    pub city: Option<&'static str>,
}

/// Checks a domestic address against a zone that is a known division code;
/// says nothing for any other zone or address.
pub(super) fn check(zone: u32, address: &Address) -> ZoneCheck {
    if !address.is_domestic() || !(100_000..=999_999).contains(&zone) {
        return ZoneCheck::default();
    }
    let Some((province, city)) = division_names(zone) else {
        return ZoneCheck::default();
    };
    let named = division_codes(address.province(), address.city(), address.district());
    if !named.is_empty()
        && !named
            .iter()
            .any(|&c| divisions_contain(zone, c) || divisions_contain(c, zone))
    {
        return ZoneCheck {
            mismatch: true,
            ..ZoneCheck::default()
        };
    }
    ZoneCheck {
        mismatch: false,
        province: Some(province).filter(|_| address.province().is_none()),
        city: city.filter(|_| address.city().is_none()),
    }
}
