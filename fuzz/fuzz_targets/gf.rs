//! The ZPL `^GF` reader: arbitrary text never panics, and a raster it returns
//! stays within the decoder's 16 MiB budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::decode_gf;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(bitmap) = decode_gf(&text) {
        let bytes = u64::from(bitmap.width()).div_ceil(8) * u64::from(bitmap.height());
        assert!(bytes <= 16 << 20, "{}x{}", bitmap.width(), bitmap.height());
        for y in 0..bitmap.height().min(4) {
            let _ = bitmap.row(y);
        }
    }
});
