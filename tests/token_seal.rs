//! Sealing and opening tokens through the public API.

use proptest::prelude::*;
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    parse_batch, KeyRing, MalformedToken, SealError, Token, TokenError, Validity, Waybill,
};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");
/// QR version 12 at level M holds 419 alphanumeric characters.
const QR_12_M: usize = 419;
/// The fixture with a 50-character name and a very long address, exempt from the size goal.
const LONG_RECORD: &str = "SF6660006660006";

/// A master key that is not weak (fixed random bytes).
const STRONG: [u8; 32] = [
    0x05, 0x14, 0x5f, 0x3b, 0x8e, 0x3d, 0x4a, 0x0e, 0x5c, 0x3c, 0x5b, 0x2c, 0x37, 0x0a, 0x6e, 0x1b,
    0x7d, 0x2e, 0x63, 0x4f, 0x11, 0x9a, 0xc4, 0xd2, 0xe0, 0x81, 0x77, 0xa9, 0xbb, 0xc8, 0xf6, 0x21,
];

fn fixtures() -> Vec<Waybill> {
    parse_batch(FIXTURES)
        .into_iter()
        .map(|r| r.expect("every fixture is valid"))
        .collect()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
}

/// The Base45 length of `n` bytes.
fn b45_len(n: usize) -> usize {
    n / 2 * 3 + n % 2 * 2
}

#[test]
fn every_fixture_round_trips_and_fits_qr_12_m() {
    let ring = KeyRing::generate();
    let mut largest = (0, String::new());
    for w in fixtures() {
        let token = ring
            .seal(&w, &Validity::new(now(), Duration::days(30)).unwrap())
            .unwrap();
        let text = token.as_str();
        println!("{:<22} {:>4} chars", w.tracking_number(), text.len());
        assert!(text.starts_with("WB3:"));
        assert!(text
            .bytes()
            .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b)));
        if w.tracking_number().as_str() != LONG_RECORD {
            assert!(
                text.len() <= QR_12_M,
                "{} is {} chars",
                w.tracking_number(),
                text.len()
            );
            // Padding: the length depends only on the tracking number's (printed
            // on the label anyway) and the first bucket, never on the record.
            let n = w.tracking_number().as_str().len();
            assert_eq!(text.len(), 4 + b45_len(10 + n + 24 + 192 + 16));
            if text.len() > largest.0 {
                largest = (text.len(), w.tracking_number().to_string());
            }
        }
        let parsed = Token::parse(text).unwrap();
        let header = parsed.header();
        assert_eq!(header.tracking_number(), w.tracking_number());
        assert_eq!(header.zone(), w.zone());
        assert_eq!(header.kid(), ring.current_kid());
        let p = ring.open(&parsed).unwrap();
        // The clear header only bounds the expiry to its 28-day period.
        let exact = 1_795_000_000 + 30 * 86_400;
        assert_eq!(p.expires_at(), exact);
        assert!(header.expiry_bound_unix() >= exact);
        assert!(header.expiry_bound_unix() < exact + 28 * 86_400);
        let r = w.recipient();
        assert_eq!(p.name(), r.name().as_str());
        assert_eq!(p.phone(), r.phone().to_canonical());
        assert_eq!(p.address(), r.address().to_full_text());
        assert_eq!(p.issued_at(), 1_795_000_000);
        assert_eq!(p.items().len(), w.items().len());
        for (a, b) in p.items().iter().zip(w.items()) {
            assert_eq!(a.description(), b.description());
            assert_eq!(a.category(), b.category());
            assert_eq!(a.quantity(), b.quantity());
        }
        assert_eq!(format!("{p:?}"), "Payload { .. }");
    }
    println!("largest typical token: {} chars ({})", largest.0, largest.1);
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let ring = KeyRing::generate();
    let w = &fixtures()[0];
    let token = ring
        .seal(w, &Validity::new(now(), Duration::days(1)).unwrap())
        .unwrap();
    let bytes = token.as_bytes().to_vec();
    let header_len = 10 + w.tracking_number().as_str().len();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            let mut text = String::from("WB3:");
            text.push_str(&base45(&b));
            match Token::parse(&text) {
                Err(_) => assert!(
                    i < header_len,
                    "byte {i} bit {bit}: only header flips may fail to parse"
                ),
                Ok(t) => assert_eq!(
                    ring.open(&t).unwrap_err(),
                    TokenError::Open,
                    "byte {i} bit {bit}"
                ),
            }
        }
    }
}

#[test]
fn wrong_zone_and_wrong_key_look_the_same() {
    let ring = KeyRing::generate();
    let w = &fixtures()[0];
    let token = ring
        .seal(w, &Validity::new(now(), Duration::days(1)).unwrap())
        .unwrap();
    // Re-label the token for another zone: the header is authenticated.
    let mut b = token.as_bytes().to_vec();
    b[6] ^= 1;
    let moved = Token::parse(&format!("WB3:{}", base45(&b))).unwrap();
    assert_eq!(moved.header().zone(), w.zone() ^ 1);
    assert_eq!(ring.open(&moved).unwrap_err(), TokenError::Open);
    let other = KeyRing::generate();
    assert_eq!(other.open(&token).unwrap_err(), TokenError::Open);
}

#[test]
fn rotation_keeps_old_tokens_until_retired() {
    let mut ring = KeyRing::generate();
    let w = &fixtures()[1];
    let old = ring
        .seal(w, &Validity::new(now(), Duration::days(1)).unwrap())
        .unwrap();
    assert_eq!(ring.rotate().unwrap(), 2);
    let new = ring
        .seal(w, &Validity::new(now(), Duration::days(1)).unwrap())
        .unwrap();
    assert_eq!((old.header().kid(), new.header().kid()), (1, 2));
    assert!(ring.open(&old).is_ok() && ring.open(&new).is_ok());
    ring.retire(1).unwrap();
    assert_eq!(ring.open(&old).unwrap_err(), TokenError::Open);
    assert!(ring.open(&new).is_ok());
    let reloaded = KeyRing::from_json(&ring.to_json()).unwrap();
    assert!(reloaded.open(&new).is_ok());
}

#[test]
fn two_tokens_for_one_waybill_share_no_ciphertext() {
    let ring = KeyRing::generate();
    let w = &fixtures()[0];
    let a = ring
        .seal(w, &Validity::new(now(), Duration::days(1)).unwrap())
        .unwrap();
    let b = ring
        .seal(w, &Validity::new(now(), Duration::days(1)).unwrap())
        .unwrap();
    let header_len = 10 + w.tracking_number().as_str().len();
    let (ha, ra) = a.as_bytes().split_at(header_len);
    let (hb, rb) = b.as_bytes().split_at(header_len);
    assert_eq!(ha, hb, "same clear header");
    assert_eq!(ra.len(), rb.len());
    // No aligned 4-byte window of nonce, ciphertext or tag repeats.
    for (x, y) in ra.chunks(4).zip(rb.chunks(4)) {
        assert_ne!(x, y);
    }
}

#[test]
fn sealing_needs_a_future_expiry() {
    let ring = KeyRing::generate();
    let w = &fixtures()[0];
    assert_eq!(
        Validity::new(now(), Duration::ZERO),
        Err(TokenError::Seal(SealError::Lifetime))
    );
    assert_eq!(
        Validity::new(now(), Duration::days(3651)),
        Err(TokenError::Seal(SealError::Lifetime))
    );
    assert!(ring
        .seal(w, &Validity::new(now(), Duration::seconds(1)).unwrap())
        .is_ok());
}

#[test]
fn malformed_text_gets_a_precise_error() {
    assert!(matches!(
        Token::parse("hello"),
        Err(TokenError::Malformed(MalformedToken::Prefix))
    ));
    assert!(matches!(
        Token::parse("WB3:"),
        Err(TokenError::Malformed(MalformedToken::Truncated))
    ));
    let ring = KeyRing::generate();
    let t = ring
        .seal(
            &fixtures()[0],
            &Validity::new(now(), Duration::days(1)).unwrap(),
        )
        .unwrap();
    let mut b = t.as_bytes().to_vec();
    b.push(0);
    // An extra byte makes the ciphertext no padding bucket's length.
    assert_eq!(
        Token::parse(&format!("WB3:{}", base45(&b))).unwrap_err(),
        TokenError::Malformed(MalformedToken::CiphertextLength)
    );
    b[0] = 9;
    assert_eq!(
        Token::parse(&format!("WB3:{}", base45(&b))).unwrap_err(),
        TokenError::UnsupportedSuite { suite: 9 }
    );
}

proptest! {
    #[test]
    fn opening_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let ring = KeyRing::from_key(1, &STRONG).unwrap();
        for prefix in ["WB3:", "WB2:"] {
            let text = format!("{prefix}{}", base45(&bytes));
            if let Ok(t) = Token::parse(&text) {
                prop_assert_eq!(ring.open(&t).unwrap_err(), TokenError::Open);
            }
        }
    }

    #[test]
    fn opening_arbitrary_text_never_panics(text in "(WB[23]:)?[0-9A-Z $%*+./:-]{0,300}|\\PC{0,100}") {
        let ring = KeyRing::from_key(1, &STRONG).unwrap();
        if let Ok(t) = Token::parse(&text) {
            prop_assert!(ring.open(&t).is_err());
        }
    }
}

/// RFC 9285 Base45, written out here so the test does not trust the crate's encoder.
fn base45(bytes: &[u8]) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut s = String::new();
    for c in bytes.chunks(2) {
        let (mut n, digits) = match c {
            [a, b] => (u32::from(*a) * 256 + u32::from(*b), 3),
            [a] => (u32::from(*a), 2),
            _ => unreachable!(),
        };
        for _ in 0..digits {
            s.push(char::from(A[(n % 45) as usize]));
            n /= 45;
        }
    }
    s
}
