//! Masking: from a full [`Waybill`] to the [`MaskedWaybill`] a label prints.
//!
//! A masked value is a [`MaskedText`], a type of its own that cannot be turned back
//! into model data; the renderer accepts nothing else.

mod error;
pub use error::MaskError;

pub mod danger;
mod policy;
mod rules;
mod surnames;
mod zone;

pub use policy::{AddressRule, ItemRule, MaskPolicy, NameRule, PartyPolicy, PhoneRule};
pub use zone::MaskWarning;

use serde::Serialize;
use time::OffsetDateTime;

use crate::model::{Party, Routing, TrackingNumber, Waybill};
use rules::AddressLevel;

/// Length of the fixed masks, in mask characters.
const NAME_MASK_LEN: usize = 1;
const PHONE_MASK_LEN: usize = 6;
const ADDRESS_MASK_LEN: usize = 4;

/// Text that has been through a masking rule and may be printed.
///
/// # Guarantees
/// Only this crate's masking can make one, so holding a `MaskedText` means the
/// policy was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MaskedText(String);

impl MaskedText {
    /// The text to print.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for MaskedText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A party as the label shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskedParty {
    name: MaskedText,
    phone: MaskedText,
    address: MaskedText,
    #[serde(skip)]
    virtual_phone: bool,
    #[serde(skip)]
    country: String,
    #[serde(skip)]
    mask_char: char,
}

impl MaskedParty {
    /// The masked name (`张*`).
    pub fn name(&self) -> &MaskedText {
        &self.name
    }

    /// The masked phone (`******5678`), or the virtual number in full.
    pub fn phone(&self) -> &MaskedText {
        &self.phone
    }

    /// The masked address (`广东省深圳市南山区深南大道****`).
    pub fn address(&self) -> &MaskedText {
        &self.address
    }

    /// The address's ISO 3166-1 alpha-2 country code (`CN`, `GB`, …): not personal
    /// data, and printed anyway.
    pub fn country(&self) -> &str {
        &self.country
    }

    /// The character the masks are made of (`*` unless the policy changed it).
    pub fn mask_char(&self) -> char {
        self.mask_char
    }

    /// True when [`phone`](Self::phone) is a platform virtual number.
    pub fn is_virtual_phone(&self) -> bool {
        self.virtual_phone
    }
}

/// Everything a label prints, and nothing more: masked parties, routing, the
/// tracking number and item count. It cannot be turned back into a [`Waybill`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskedWaybill {
    tracking_number: TrackingNumber,
    #[serde(skip)]
    zone: u32,
    #[serde(skip)]
    carrier: Option<String>,
    #[serde(skip)]
    service: Option<String>,
    #[serde(skip)]
    routing: Option<Routing>,
    recipient: MaskedParty,
    sender: Option<MaskedParty>,
    items: MaskedText,
    #[serde(skip)]
    item_count: u32,
    #[serde(skip)]
    weight_grams: Option<u32>,
    #[serde(skip)]
    created_at: Option<OffsetDateTime>,
    #[serde(skip)]
    warnings: Vec<MaskWarning>,
}

impl MaskedWaybill {
    /// The tracking number (printed in clear and as a barcode).
    pub fn tracking_number(&self) -> &TrackingNumber {
        &self.tracking_number
    }

    /// The delivery zone id.
    pub fn zone(&self) -> u32 {
        self.zone
    }

    /// The carrier's name.
    pub fn carrier(&self) -> Option<&str> {
        self.carrier.as_deref()
    }

    /// The service level.
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// Routing code and hub.
    pub fn routing(&self) -> Option<&Routing> {
        self.routing.as_ref()
    }

    /// The masked recipient.
    pub fn recipient(&self) -> &MaskedParty {
        &self.recipient
    }

    /// The masked sender.
    pub fn sender(&self) -> Option<&MaskedParty> {
        self.sender.as_ref()
    }

    /// The contents line as the policy allows it (`共2件` by default).
    pub fn items(&self) -> &MaskedText {
        &self.items
    }

    /// Total quantity of all items.
    pub fn item_count(&self) -> u32 {
        self.item_count
    }

    /// Gross weight in grams.
    pub fn weight_grams(&self) -> Option<u32> {
        self.weight_grams
    }

    /// When the waybill was created.
    pub fn created_at(&self) -> Option<OffsetDateTime> {
        self.created_at
    }

    /// What the caller should check before printing: empty for most waybills.
    pub fn warnings(&self) -> &[MaskWarning] {
        &self.warnings
    }
}

/// Masks a waybill under `policy`.
///
/// Masking cannot fail: every [`Waybill`] is already validated, and every rule has
/// an answer for every valid value.
pub fn mask(waybill: &Waybill, policy: &MaskPolicy) -> MaskedWaybill {
    let item_count = waybill
        .items()
        .iter()
        .map(|i| i.quantity())
        .fold(0u32, u32::saturating_add);
    let items = if policy.show_item_details {
        waybill
            .items()
            .iter()
            .map(|i| {
                let mut s = i.description().unwrap_or("").to_owned();
                if let Some(c) = i.category() {
                    s.push_str(&format!("（{c}）"));
                }
                format!("{s}×{}", i.quantity())
            })
            .collect::<Vec<_>>()
            .join("；")
    } else {
        match policy.items {
            ItemRule::Count if item_count > 0 => format!("共{item_count}件"),
            _ => String::new(),
        }
    };
    let zone = zone::check(waybill.zone(), waybill.recipient().address());
    let warnings = if zone.mismatch {
        vec![MaskWarning::ZoneMismatch {
            zone: waybill.zone(),
        }]
    } else {
        Vec::new()
    };
    MaskedWaybill {
        tracking_number: waybill.tracking_number().clone(),
        zone: waybill.zone(),
        carrier: waybill.carrier().map(str::to_owned),
        service: waybill.service().map(str::to_owned),
        routing: waybill.routing().cloned(),
        recipient: mask_party(
            waybill.recipient(),
            &policy.recipient,
            policy,
            waybill.created_at(),
            (zone.province, zone.city),
        ),
        sender: waybill.sender().map(|s| {
            mask_party(
                s,
                &policy.sender,
                policy,
                waybill.created_at(),
                (None, None),
            )
        }),
        items: MaskedText(items),
        item_count,
        weight_grams: waybill.weight_grams(),
        created_at: waybill.created_at(),
        warnings,
    }
}

fn mask_party(
    party: &Party,
    rules: &PartyPolicy,
    policy: &MaskPolicy,
    created: Option<OffsetDateTime>,
    fill: (Option<&str>, Option<&str>),
) -> MaskedParty {
    let name = if rules.danger.full_name {
        party.name().as_str().to_owned()
    } else {
        match rules.name {
            NameRule::Surname => {
                rules::name_surname(party.name().as_str(), &policy.mask_string(NAME_MASK_LEN))
            }
            NameRule::Hidden => policy.mask_string(NAME_MASK_LEN),
        }
    };
    // A virtual number is printed in full, unless it had already expired when the
    // waybill was made.
    let live_virtual = party.virtual_phone().filter(|v| {
        matches!((v.expires_at(), created), (Some(exp), Some(c)) if exp > c)
            || v.expires_at().is_none()
            || created.is_none()
    });
    let (phone, virtual_phone) = match live_virtual {
        Some(v) => (v.to_display(), true),
        None => {
            let total = party.phone().national_digits().len();
            let visible = match (rules.danger.phone_visible_digits, rules.phone) {
                (Some(n), _) => usize::from(n),
                (None, PhoneRule::LastDigits) => rules::floor_visible_digits(total),
                (None, PhoneRule::Hidden) => 0,
            };
            (
                rules::phone(party.phone(), visible, &policy.mask_string(PHONE_MASK_LEN)),
                false,
            )
        }
    };
    let address = if rules.danger.full_address {
        party.address().to_full_text()
    } else {
        let level = match rules.address {
            AddressRule::Street => AddressLevel::Street,
            AddressRule::District => AddressLevel::District,
            AddressRule::City => AddressLevel::City,
        };
        rules::address(
            party.address(),
            level,
            &policy.mask_string(ADDRESS_MASK_LEN),
            fill,
        )
    };
    MaskedParty {
        name: MaskedText(name),
        phone: MaskedText(phone),
        address: MaskedText(address),
        virtual_phone,
        country: party.address().country().to_owned(),
        mask_char: policy.mask_char,
    }
}
