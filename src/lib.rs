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

pub use error::{Error, ExportError, MaskError, ModelError, RenderError, Result, TokenError};
#[cfg(feature = "render")]
pub use export::PngMode;
pub use mask::{
    danger, mask, AddressRule, ItemRule, MaskPolicy, MaskedParty, MaskedText, MaskedWaybill,
    NameRule, PartyPolicy, PhoneRule,
};
pub use model::{
    parse_batch, Address, Item, Party, PersonName, Phone, RecordError, Routing, TrackingNumber,
    TrackingScheme, VirtualPhone, Waybill,
};
#[cfg(feature = "render")]
#[doc(hidden)]
pub use render::bench_parts;
#[cfg(feature = "render")]
pub use render::{
    render, Bitmap, CodeKind, Fonts, Label, LabelSize, LabelSpec, PlacedCode, RenderWarning,
};
