//! Token text and bytes: parsing and opening must never panic, and whatever
//! parses must re-encode to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::{KeyRing, Token};

fuzz_target!(|data: &[u8]| {
    let ring = KeyRing::from_key(1, [7; 32]);
    // As text, exactly as scanned from a QR code.
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(token) = Token::parse(text) {
            assert_eq!(Token::parse_header(text).as_ref(), Ok(token.header()));
            let _ = ring.open(&token);
        }
    }
    // As envelope bytes behind a valid prefix and Base45, to reach the parser
    // and the AEAD past the text layer.
    let text = format!("WB1:{}", base45(data));
    if let Ok(token) = Token::parse(&text) {
        assert_eq!(token.as_bytes(), data);
        assert!(ring.open(&token).is_err(), "a random envelope must not open");
    }
});

fn base45(bytes: &[u8]) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut s = String::new();
    for c in bytes.chunks(2) {
        let (mut n, digits) = match c {
            [a, b] => (u32::from(*a) << 8 | u32::from(*b), 3),
            [a] => (u32::from(*a), 2),
            _ => return s,
        };
        for _ in 0..digits {
            s.push(char::from(A[(n % 45) as usize]));
            n /= 45;
        }
    }
    s
}
