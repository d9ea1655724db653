//! Output formats: PNG, ZPL II and PDF, all from one 1-bit raster.

mod png;

pub use png::PngMode;
