//! Output formats: PNG, ZPL II and PDF, all from one 1-bit raster.

pub(crate) mod deflate;
mod error;
pub use error::ExportError;

mod gfdata;
mod pdf;
mod png;
mod zpl;
mod zpl_read;

pub use pdf::{to_pdf, PdfOptions, PdfPage, PdfWriter};
#[cfg(feature = "bench")]
pub(crate) use png::filtered_one_bit;
pub use png::PngMode;
pub use zpl::{to_zpl, ZplEncoding, ZplOptions};
pub use zpl_read::decode_gf;

use crate::render::Label;

impl Label {
    /// Encodes the label as one ZPL II label (`^XA … ^XZ`), sized from its raster.
    ///
    /// # Errors
    /// The errors of [`to_zpl`].
    pub fn to_zpl(&self, opts: &ZplOptions) -> Result<String, ExportError> {
        to_zpl(self.bitmap(), self.dpi(), self.codes(), opts)
    }

    /// Encodes the label as a one-page PDF at its physical size. For a batch in one
    /// file, push [`Label::to_pdf_page`] pages into a [`PdfWriter`].
    ///
    /// # Errors
    /// The errors of [`PdfPage::new`].
    pub fn to_pdf(&self, opts: &PdfOptions) -> Result<Vec<u8>, ExportError> {
        to_pdf(&[(self.bitmap(), self.dpi())], opts)
    }

    /// The label as a compressed PDF page, for [`PdfWriter`].
    ///
    /// # Errors
    /// The errors of [`PdfPage::new`].
    pub fn to_pdf_page(&self, opts: &PdfOptions) -> Result<PdfPage, ExportError> {
        PdfPage::new(self.bitmap(), self.dpi(), opts)
    }
}
