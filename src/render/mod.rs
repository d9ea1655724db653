//! Rendering: a masked waybill and a token's text become a [`Label`] raster.

mod error;
pub use error::{LogoProblem, RenderError};

mod bitmap;
mod code128;
mod codes;
mod font;
#[cfg(feature = "image")]
mod interop;
mod label;
mod layout;
#[cfg(feature = "image")]
mod logo;
mod qr;
mod shape;
mod spec;
mod template;
mod text;

pub use bitmap::Bitmap;
pub use codes::{CodeKind, PlacedCode};
pub use font::Fonts;
pub use label::{Label, RenderWarning};
pub use layout::render;
#[cfg(feature = "image")]
pub use logo::{Logo, LogoMode};
pub use spec::{LabelSize, LabelSpec};

/// Entry points for the crate's benches, to time the parts of [`render`] apart.
/// Not part of the API: may change without notice.
#[doc(hidden)]
pub mod bench_parts {
    use super::{Bitmap, Fonts, LabelSpec};
    use crate::mask::MaskedWaybill;
    use crate::render::RenderError;

    /// The PNG scanlines of a raster exactly as the 1-bit PNG encoder deflates
    /// them (inverted, Up-filtered), to time deflating alone.
    pub fn png_scanlines(bm: &Bitmap) -> Vec<u8> {
        crate::export::filtered_one_bit(bm)
    }

    /// Those scanlines deflated as the PNG encoder does it: the same bytes as
    /// fdeflate's, to time the two apart.
    pub fn png_deflate(scanlines: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        crate::export::deflate::compress(scanlines, &mut out);
        out
    }

    /// Every glyph a label draws, taken from the glyph cache and placed, to time
    /// blitting them alone.
    #[derive(Debug, Clone)]
    pub struct LabelGlyphs(Vec<super::text::Blit>);

    impl LabelGlyphs {
        /// Renders the label once, recording its glyphs.
        ///
        /// # Errors
        /// Those of [`render`](super::render).
        pub fn of(
            masked: &MaskedWaybill,
            token_text: &str,
            spec: &LabelSpec,
            fonts: &Fonts,
        ) -> Result<LabelGlyphs, RenderError> {
            super::layout::render_recorded(masked, token_text, spec, fonts, true)
                .map(|(_, blits)| LabelGlyphs(blits))
        }

        /// Number of glyphs.
        pub fn len(&self) -> usize {
            self.0.len()
        }

        /// True when the label has no text.
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }

        /// Blits all the glyphs into `bm` as packed rows.
        pub fn draw(&self, bm: &mut Bitmap) {
            for b in &self.0 {
                b.draw(bm);
            }
        }
    }

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
