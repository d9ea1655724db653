//! Rendering: a masked waybill and a token's text become a [`Label`] raster.

mod bitmap;

pub use bitmap::Bitmap;
