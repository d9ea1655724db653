//! Output formats: PNG, ZPL II and PDF, all from one 1-bit raster.
