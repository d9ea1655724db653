#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod mask;
mod model;
mod token;

#[cfg(feature = "render")]
mod export;
#[cfg(feature = "render")]
mod render;

pub use error::{Error, ExportError, MaskError, ModelError, Result, TokenError};
#[cfg(feature = "render")]
pub use export::{
    decode_gf, to_pdf, to_zpl, PdfOptions, PdfPage, PdfWriter, ZplEncoding, ZplOptions,
};
pub use mask::{
    danger, mask, AddressRule, ItemRule, MaskPolicy, MaskedParty, MaskedText, MaskedWaybill,
    NameRule, PartyPolicy, PhoneRule,
};
pub use model::{
    parse_batch, Address, Item, Party, PersonName, Phone, RecordError, Routing, TrackingNumber,
    TrackingScheme, VirtualPhone, Waybill,
};
#[cfg(feature = "render")]
pub use render::{Bitmap, CodeKind, PlacedCode};
