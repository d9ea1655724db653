//! Rendering: a masked waybill and a token's text become a `Label` raster.

mod bitmap;
mod codes;

pub use bitmap::Bitmap;
pub use codes::{CodeKind, PlacedCode};
