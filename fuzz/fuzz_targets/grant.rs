//! Grant text (versions 1 and 2) and request proofs: parsing and signature
//! checking must never panic, no random grant passes as signed by the trusted
//! issuer, and a proof's text round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::{Grant, IssuerKey, RequestProof};

fuzz_target!(|data: &[u8]| {
    let trusted = [IssuerKey::from_secret([3; 32]).public_key()];
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(grant) = Grant::parse(text) {
            assert_eq!(Grant::parse(grant.as_str()).as_ref(), Ok(&grant));
            assert!(grant.verify(&trusted).is_err());
        }
        if let Ok(proof) = text.parse::<RequestProof>() {
            assert_eq!(proof.to_string().parse::<RequestProof>(), Ok(proof));
        }
    }
});
