//! Rendering: a masked waybill and a token's text become a [`Label`] raster.

mod bitmap;
mod code128;
mod codes;
mod font;
mod label;
mod layout;
mod qr;
mod spec;
mod text;

pub use bitmap::Bitmap;
pub use codes::{CodeKind, PlacedCode};
pub use font::Fonts;
pub use label::{Label, RenderWarning};
pub use layout::render;
pub use spec::{LabelSize, LabelSpec};
