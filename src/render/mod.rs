//! Rendering: a masked waybill and a token's text become a [`Label`] raster.

mod bitmap;
mod code128;
mod codes;
mod font;
#[cfg(feature = "image")]
mod interop;
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

/// Entry points for the crate's benches, to time the parts of [`render`] apart.
/// Not part of the API: may change without notice.
#[doc(hidden)]
pub mod bench_parts {
    use super::Bitmap;

    /// Encodes `text` as a level-M QR code with the fixed mask and draws it at
    /// 4 dots per module; returns the width in modules.
    pub fn qr(text: &str, bm: &mut Bitmap) -> u32 {
        match super::qr::Qr::encode(text) {
            Ok(q) => {
                q.draw(bm, 0, 0, 4);
                q.width()
            }
            Err(_) => 0,
        }
    }

    /// Encodes `text` as Code 128 and draws it at 3 dots per module, 100 dots
    /// tall; returns the width in modules.
    pub fn code128(text: &str, bm: &mut Bitmap) -> u32 {
        match super::code128::Code128::encode(text) {
            Ok(c) => {
                c.draw(bm, 0, 0, 3, 100);
                c.modules()
            }
            Err(_) => 0,
        }
    }
}
