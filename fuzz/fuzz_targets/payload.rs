//! The CBOR payload behind a successful open: arbitrary bytes sealed as the
//! plaintext with a fixed key always open (the tag is right) and then decode to a
//! payload or fail with the opaque error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::{KeyRing, Token, TokenError};

/// A fixed test key (not all one byte, so a weak-key check cannot refuse it).
const KEY: [u8; 32] = *b"fuzz payload key: 32 bytes long!";

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let ring = KeyRing::from_key(1, &KEY).expect("strong key");
    let token = ring.fuzz_seal_plaintext(755_021, data).expect("fixture seals");
    // The text round-trips, so the decoder is reached from a scanned QR too.
    if let Ok(parsed) = Token::parse(token.as_str()) {
        assert_eq!(parsed.as_bytes(), token.as_bytes());
    }
    match ring.open(&token) {
        Ok(payload) => {
            // Every accessor works on whatever decoded.
            let _ = (payload.name().len(), payload.phone().len(), payload.address().len());
            for item in payload.items() {
                let _ = (item.description(), item.category(), item.quantity());
            }
            let _ = payload.issued_at();
        }
        Err(e) => assert_eq!(e, TokenError::Open),
    }
});
