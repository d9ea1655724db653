//! Sealing and opening tokens through the public API.

use proptest::prelude::*;
use time::{Duration, OffsetDateTime};
use waybill_redact::{parse_batch, KeyRing, Token, TokenError, Waybill};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");
/// QR version 12 at level M holds 419 alphanumeric characters.
const QR_12_M: usize = 419;
/// The fixture with a 50-character name and a very long address, exempt from the size goal.
const LONG_RECORD: &str = "SF6660006660006";

fn fixtures() -> Vec<Waybill> {
    parse_batch(FIXTURES)
        .into_iter()
        .map(|r| r.expect("every fixture is valid"))
        .collect()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
}

#[test]
fn every_fixture_round_trips_and_fits_qr_12_m() {
    let ring = KeyRing::generate();
    for w in fixtures() {
        let token = ring.seal(&w, now() + Duration::days(30), now()).unwrap();
        let text = token.as_str();
        println!("{:<22} {:>4} chars", w.tracking_number(), text.len());
        assert!(text.starts_with("WB1:"));
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
        }
        let parsed = Token::parse(text).unwrap();
        let header = parsed.header();
        assert_eq!(header.tracking_number(), w.tracking_number());
        assert_eq!(header.zone(), w.zone());
        assert_eq!(header.kid(), ring.current_kid());
        assert_eq!(header.expires_at(), now() + Duration::days(30));
        let p = ring.open(&parsed).unwrap();
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
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let ring = KeyRing::generate();
    let w = &fixtures()[0];
    let token = ring.seal(w, now() + Duration::days(1), now()).unwrap();
    let bytes = token.as_bytes().to_vec();
    let header_len = 16 + w.tracking_number().as_str().len();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            let mut text = String::from("WB1:");
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
    let token = ring.seal(w, now() + Duration::days(1), now()).unwrap();
    // Re-label the token for another zone: the header is authenticated.
    let mut b = token.as_bytes().to_vec();
    b[6] ^= 1;
    let moved = Token::parse(&format!("WB1:{}", base45(&b))).unwrap();
    assert_eq!(moved.header().zone(), w.zone() ^ 1);
    assert_eq!(ring.open(&moved).unwrap_err(), TokenError::Open);
    let other = KeyRing::generate();
    assert_eq!(other.open(&token).unwrap_err(), TokenError::Open);
}

#[test]
fn rotation_keeps_old_tokens_until_retired() {
    let mut ring = KeyRing::generate();
    let w = &fixtures()[1];
    let old = ring.seal(w, now() + Duration::days(1), now()).unwrap();
    assert_eq!(ring.rotate().unwrap(), 2);
    let new = ring.seal(w, now() + Duration::days(1), now()).unwrap();
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
    let a = ring.seal(w, now() + Duration::days(1), now()).unwrap();
    let b = ring.seal(w, now() + Duration::days(1), now()).unwrap();
    let header_len = 16 + w.tracking_number().as_str().len();
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
    assert!(matches!(
        ring.seal(w, now(), now()),
        Err(TokenError::Seal { .. })
    ));
}

#[test]
fn malformed_text_gets_a_precise_error() {
    assert!(matches!(
        Token::parse("hello"),
        Err(TokenError::Malformed { .. })
    ));
    assert!(matches!(
        Token::parse("WB1:"),
        Err(TokenError::Malformed { .. })
    ));
    let ring = KeyRing::generate();
    let t = ring
        .seal(&fixtures()[0], now() + Duration::days(1), now())
        .unwrap();
    let mut b = t.as_bytes().to_vec();
    b.push(0);
    // An extra byte is read as part of the ciphertext, so it parses but never opens.
    let longer = Token::parse(&format!("WB1:{}", base45(&b))).unwrap();
    assert_eq!(ring.open(&longer).unwrap_err(), TokenError::Open);
    b[0] = 9;
    assert_eq!(
        Token::parse(&format!("WB1:{}", base45(&b))).unwrap_err(),
        TokenError::UnsupportedSuite { suite: 9 }
    );
}

proptest! {
    #[test]
    fn opening_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let ring = KeyRing::from_key(1, [1; 32]);
        let text = format!("WB1:{}", base45(&bytes));
        if let Ok(t) = Token::parse(&text) {
            prop_assert_eq!(ring.open(&t).unwrap_err(), TokenError::Open);
        }
    }

    #[test]
    fn opening_arbitrary_text_never_panics(text in "(WB1:)?[0-9A-Z $%*+./:-]{0,300}|\\PC{0,100}") {
        let ring = KeyRing::from_key(1, [1; 32]);
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
