//! Key ring files: reading arbitrary text never panics, and a ring that reads
//! writes back to a file that reads as the same ring.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::KeyRing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(ring) = KeyRing::from_json(text) {
        let again = KeyRing::from_json(&ring.to_json()).expect("a written ring reads back");
        assert_eq!(again.kids(), ring.kids());
        assert_eq!(again.current_kid(), ring.current_kid());
        assert!(ring.kids().contains(&ring.current_kid()));
    }
});
