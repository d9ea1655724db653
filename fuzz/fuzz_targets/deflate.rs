//! The PNG encoder's deflate (`src/export/deflate.rs`) against fdeflate, whose
//! bytes it promises to write: for any input the two zlib streams are equal, and
//! they inflate back to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::bench_parts::png_deflate;

fuzz_target!(|data: &[u8]| {
    let ours = png_deflate(data);
    assert_eq!(ours, fdeflate::compress_to_vec(data), "{} bytes in", data.len());
    let back = fdeflate::decompress_to_vec(&ours).expect("our stream inflates");
    assert_eq!(back, data);
});
