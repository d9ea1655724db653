//! The `waybill-redact` command: a thin layer over the library.

fn main() {}
