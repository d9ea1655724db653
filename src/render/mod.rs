//! Rendering: a masked waybill and a token's text become a [`Label`] raster.

mod error;
pub use error::{LogoProblem, RenderError};

mod bitmap;
pub(crate) mod code128;
mod codes;
mod font;
#[cfg(feature = "image")]
mod interop;
mod label;
pub(crate) mod layout;
#[cfg(feature = "image")]
mod logo;
pub(crate) mod qr;
mod shape;
mod spec;
mod template;
pub(crate) mod text;

pub use bitmap::Bitmap;
pub use codes::{CodeKind, PlacedCode};
pub use font::Fonts;
pub use label::{Label, RenderWarning};
pub use layout::render;
#[cfg(feature = "image")]
pub use logo::{Logo, LogoMode};
pub use spec::{LabelSize, LabelSpec};
