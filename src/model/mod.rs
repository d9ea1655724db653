//! The waybill as the shipper's system knows it: full personal data, validated.
//!
//! Nothing here knows about masking, tokens or rendering.

mod error;
pub use error::ModelError;

pub(crate) mod address;
pub(crate) mod address_cn;
pub(crate) mod country;
pub(crate) mod divisions;
pub(crate) mod name;
pub(crate) mod phone;
pub(crate) mod tracking;

pub use address::Address;
pub use address::AddressFields;
pub use name::PersonName;
pub use phone::{Phone, VirtualPhone};
pub use tracking::{TrackingNumber, TrackingScheme};

pub(crate) use address_cn::{division_codes, is_digit};
pub(crate) use divisions::{contains as divisions_contain, names as division_names};
pub(crate) use name::is_invisible;

use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// One parcel's full shipping data.
///
/// Build it from the JSON input format with [`Waybill::from_json`] (or a whole
/// file with [`parse_batch`](crate::parse_batch)). It holds personal data in clear: hand it to
/// [`mask`](crate::mask()) for a label and to the token sealer, nothing else.
/// `Debug` shows the tracking number and zone only.
#[derive(Clone)]
pub struct Waybill {
    pub(crate) tracking_number: TrackingNumber,
    pub(crate) zone: u32,
    pub(crate) carrier: Option<String>,
    pub(crate) service: Option<String>,
    pub(crate) routing: Option<Routing>,
    pub(crate) recipient: Party,
    pub(crate) sender: Option<Party>,
    pub(crate) items: Vec<Item>,
    pub(crate) weight_grams: Option<u32>,
    pub(crate) created_at: Option<OffsetDateTime>,
}

impl Waybill {
    /// The tracking number.
    pub fn tracking_number(&self) -> &TrackingNumber {
        &self.tracking_number
    }

    /// The delivery station or zone id the token is bound to; `0` means no zone.
    pub fn zone(&self) -> u32 {
        self.zone
    }

    /// The carrier's name (`顺丰速运`).
    pub fn carrier(&self) -> Option<&str> {
        self.carrier.as_deref()
    }

    /// The service level (`标准快递`).
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// Sorting information printed large on the label.
    pub fn routing(&self) -> Option<&Routing> {
        self.routing.as_ref()
    }

    /// Who receives the parcel.
    pub fn recipient(&self) -> &Party {
        &self.recipient
    }

    /// Who sends it.
    pub fn sender(&self) -> Option<&Party> {
        self.sender.as_ref()
    }

    /// The contents.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Gross weight in grams.
    pub fn weight_grams(&self) -> Option<u32> {
        self.weight_grams
    }

    /// When the shipper created the waybill.
    pub fn created_at(&self) -> Option<OffsetDateTime> {
        self.created_at
    }
}

impl core::fmt::Debug for Waybill {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Waybill")
            .field("tracking_number", &self.tracking_number.as_str())
            .field("zone", &self.zone)
            .finish_non_exhaustive()
    }
}

/// Sorting data: the routing code (大头笔 / 三段码) and the consolidation hub (集包地).
/// Not personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub(crate) sort_code: Option<String>,
    pub(crate) hub: Option<String>,
}

impl Routing {
    /// The routing code printed large (`755W-021-03`).
    pub fn sort_code(&self) -> Option<&str> {
        self.sort_code.as_deref()
    }

    /// The consolidation hub (`深圳转运中心`).
    pub fn hub(&self) -> Option<&str> {
        self.hub.as_deref()
    }
}

/// A sender or recipient. Every field is personal data; `Debug` shows none of it.
#[derive(Clone)]
pub struct Party {
    pub(crate) name: PersonName,
    pub(crate) phone: Phone,
    pub(crate) virtual_phone: Option<VirtualPhone>,
    pub(crate) address: Address,
}

impl Party {
    /// The name.
    pub fn name(&self) -> &PersonName {
        &self.name
    }

    /// The real phone number.
    pub fn phone(&self) -> &Phone {
        &self.phone
    }

    /// A platform virtual number that stands in for the real one on the label.
    pub fn virtual_phone(&self) -> Option<&VirtualPhone> {
        self.virtual_phone.as_ref()
    }

    /// The address.
    pub fn address(&self) -> &Address {
        &self.address
    }
}

impl core::fmt::Debug for Party {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Party { .. }")
    }
}

/// One line of the contents. Item details are personal data (they are used to pick
/// fraud victims); `Debug` shows only the quantity.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Item {
    pub(crate) description: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) quantity: u32,
}

impl Item {
    /// What it is (`婴儿奶粉 900g`).
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Its category (`母婴`).
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }

    /// How many; at least 1.
    pub fn quantity(&self) -> u32 {
        self.quantity
    }
}

impl core::fmt::Debug for Item {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Item")
            .field("quantity", &self.quantity)
            .finish_non_exhaustive()
    }
}
