//! Grant text: parsing and signature checking must never panic, and no random
//! input may pass as signed by the trusted issuer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::{Grant, IssuerKey};

fuzz_target!(|data: &[u8]| {
    let trusted = [IssuerKey::from_secret([3; 32]).public_key()];
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(grant) = Grant::parse(text) {
            assert_eq!(Grant::parse(grant.as_str()).as_ref(), Ok(&grant));
            assert!(grant.verify(&trusted).is_err());
        }
    }
});
