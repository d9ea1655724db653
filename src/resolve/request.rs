//! What a courier asks ([`Purpose`], [`ResolveRequest`]) and what it is shown
//! ([`Disclosure`]).

use core::fmt;

use serde::Serialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::device::RequestProof;
use crate::token::payload::PayloadItem;

/// Why a courier asks to see a parcel's data. Written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// Delivering the parcel.
    Delivery,
    /// Calling the recipient.
    Call,
    /// Returning the parcel to the sender.
    Return,
    /// After-sales service.
    AfterSales,
}

impl Purpose {
    /// The name used in the audit log and the CLI: `delivery`, `call`, `return`,
    /// `after-sales`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivery => "delivery",
            Self::Call => "call",
            Self::Return => "return",
            Self::AfterSales => "after-sales",
        }
    }
}

impl core::fmt::Display for Purpose {
    /// [`as_str`](Self::as_str), which [`FromStr`](core::str::FromStr) reads back.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Purpose {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, &'static str> {
        match s {
            "delivery" => Ok(Self::Delivery),
            "call" => Ok(Self::Call),
            "return" => Ok(Self::Return),
            "after-sales" => Ok(Self::AfterSales),
            _ => Err("purpose must be delivery, call, return or after-sales"),
        }
    }
}

/// A courier's request: why, and for a device-bound grant the device's proof.
/// The time that counts is the resolver's own ([`Clock`](crate::Clock)). Build it with
/// [`new`](Self::new).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolveRequest {
    /// Why the courier asks.
    pub purpose: Purpose,
    /// The device's signature over this request (required for a grant bound to
    /// a device; see [`DeviceKey::prove`](crate::DeviceKey::prove)).
    pub proof: Option<RequestProof>,
}

impl ResolveRequest {
    /// A request for `purpose`, without a device proof.
    pub fn new(purpose: Purpose) -> Self {
        Self {
            purpose,
            proof: None,
        }
    }

    /// The same request, signed by the grant's device.
    pub fn with_proof(mut self, proof: RequestProof) -> Self {
        self.proof = Some(proof);
        self
    }
}

/// What a courier is shown: the fields the grant's scope allows, `None` for the
/// others. `Debug` shows nothing; zeroized on drop. Serializes to JSON with the
/// hidden fields left out.
#[derive(Clone, PartialEq, Eq, Serialize, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Disclosure {
    /// The parcel's tracking number.
    pub tracking_number: String,
    /// The parcel's zone.
    #[zeroize(skip)]
    pub zone: u32,
    /// The recipient's name, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The recipient's phone, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The recipient's address, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The contents, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<PayloadItem>>,
}

impl fmt::Debug for Disclosure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disclosure")
            .field("tracking_number", &self.tracking_number)
            .finish_non_exhaustive()
    }
}
