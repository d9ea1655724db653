//! Entry points for the crate's benches, to time the parts of [`render`](crate::render)
//! apart. Behind the `bench` feature, which only the benches turn on: not part
//! of the API, may change without notice.

use crate::mask::MaskedWaybill;
use crate::render::{Bitmap, Fonts, LabelSpec, RenderError};

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
pub struct LabelGlyphs(Vec<crate::render::text::Blit>);

impl LabelGlyphs {
    /// Renders the label once, recording its glyphs.
    ///
    /// # Errors
    /// Those of [`render`](crate::render).
    pub fn of(
        masked: &MaskedWaybill,
        token_text: &str,
        spec: &LabelSpec,
        fonts: &Fonts,
    ) -> Result<LabelGlyphs, RenderError> {
        crate::render::layout::render_recorded(masked, token_text, spec, fonts, true)
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
    match crate::render::qr::Qr::encode(text) {
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
    match crate::render::code128::Code128::encode(text) {
        Ok(c) => {
            c.draw(bm, 0, 0, 3, 100);
            c.modules()
        }
        Err(_) => 0,
    }
}
