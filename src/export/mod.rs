//! Output formats: PNG, ZPL II and PDF, all from one 1-bit raster.

mod gfdata;
mod pdf;
mod zpl;

pub use pdf::{to_pdf, PdfOptions, PdfPage, PdfWriter};
pub use zpl::{decode_gf, to_zpl, ZplEncoding, ZplOptions};
