//! Token text and bytes, suites 1 and 2: parsing and opening must never panic,
//! whatever parses must re-encode to the same text, and nothing random opens.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use waybill_redact::{KeyRing, SealerKey, Token};

/// A master key that passes the weak-key rule (fixed random bytes).
const MASTER: [u8; 32] = [
    0x8e, 0x1f, 0x52, 0xc7, 0x3a, 0x90, 0x6b, 0xd4, 0x27, 0xf8, 0x41, 0x0c, 0xb5, 0x63, 0x9a, 0xe2,
    0x15, 0x7d, 0xc9, 0x30, 0xa6, 0x4e, 0xfb, 0x82, 0x59, 0x0d, 0xe7, 0x36, 0x94, 0xbc, 0x21, 0x6f,
];

/// Built once: the ring's zone-key caches then work as in a resolver.
fn keys() -> &'static (KeyRing, SealerKey) {
    static KEYS: OnceLock<(KeyRing, SealerKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            KeyRing::from_key(1, &MASTER).expect("strong key"),
            SealerKey::from_seed(&[9; 32]),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (ring, sealer) = keys();
    let open = |t: &Token| {
        let _ = ring.open(t);
        let _ = ring.open_sealed(t, sealer.public_key());
    };
    // As text, exactly as scanned from a QR code.
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(token) = Token::parse(text) {
            assert_eq!(Token::parse_header(text).as_ref(), Ok(token.header()));
            open(&token);
        }
    }
    // As envelope bytes behind a valid prefix and Base45, to reach the parser
    // and every cipher past the text layer, in both generations. A leading 1,
    // 2 or 3 selects the suite.
    for prefix in ["WB3:", "WB2:"] {
        let text = format!("{prefix}{}", base45(data));
        if let Ok(token) = Token::parse(&text) {
            assert_eq!(token.as_bytes(), data);
            assert!(ring.open(&token).is_err(), "a random envelope must not open");
            assert!(
                ring.open_sealed(&token, sealer.public_key()).is_err(),
                "a random envelope must not open"
            );
            let _ = ring.sealer_of(&token);
        }
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
