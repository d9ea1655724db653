//! Output formats: PNG, ZPL II and PDF, all from one 1-bit raster.

mod gfdata;
mod pdf;
mod png;
mod zpl;
mod zpl_read;

pub use pdf::{to_pdf, PdfOptions, PdfPage, PdfWriter};
pub use png::PngMode;
pub use zpl::{to_zpl, ZplEncoding, ZplOptions};
pub use zpl_read::decode_gf;
