//! Checks the test vectors in `docs/TOKEN.md` against this implementation:
//! every value in the document is recomputed here from the fixed inputs.

use time::{Duration, OffsetDateTime};

use super::envelope::AAD_DOMAIN;
use super::keyring::ZONE_KEY_INFO;
use super::payload::Payload;
use crate::{KeyRing, Token, Waybill};

const DOC: &str = include_str!("../../docs/TOKEN.md");

/// The fixed inputs of each vector: (waybill JSON, kid, master key, nonce).
fn inputs(n: usize) -> (&'static str, u16, [u8; 32], [u8; 24]) {
    fn counting<const N: usize>(start: u8) -> [u8; N] {
        core::array::from_fn(|i| start.wrapping_add(i as u8))
    }
    match n {
        1 => (
            r#"{"tracking_number":"SF1234567890123","zone":755021,"recipient":{"name":"张三","phone":"13812345678","address":"广东省深圳市南山区深南大道10000号腾讯大厦1栋1单元1001室"},"items":[{"description":"婴儿奶粉 900g","category":"母婴","quantity":2}]}"#,
            1,
            counting(0x00),
            counting(0x40),
        ),
        _ => (
            r#"{"tracking_number":"RR473124829CN","zone":0,"recipient":{"name":"John Smith","phone":"+44 20 7946 0958","address":{"country":"GB","city":"London","street":"221B Baker Street","postal_code":"NW1 6XE"}}}"#,
            258,
            [0xA5; 32],
            [0x24; 24],
        ),
    }
}

/// The issue time of every vector: 2026-11-28T02:00:00Z; expiry is 30 days later.
fn issued() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_831_200).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Every labelled value of one vector, computed.
fn compute(n: usize) -> Vec<(&'static str, String)> {
    let (json, kid, master, nonce) = inputs(n);
    let waybill = Waybill::from_json(json).expect("vector waybill is valid");
    let ring = KeyRing::from_key(kid, master);
    let expires = issued() + Duration::days(30);
    let token = ring
        .seal_with_nonce(&waybill, expires, issued(), nonce)
        .expect("seal");
    let zone_key = ring.zone_key(kid, waybill.zone()).expect("key").0;
    let (header, _, sealed) = token.parts();
    let mut info = ZONE_KEY_INFO.to_vec();
    info.extend_from_slice(&waybill.zone().to_be_bytes());
    let mut aad = AAD_DOMAIN.to_vec();
    aad.extend_from_slice(header);
    let mut cbor = Vec::new();
    Payload::from_waybill(&waybill, issued())
        .encode_into(&mut cbor)
        .expect("cbor");
    vec![
        ("master key", hex::encode(master)),
        ("key id", kid.to_string()),
        ("zone", waybill.zone().to_string()),
        ("hkdf info", hex::encode(info)),
        ("zone key", hex::encode(zone_key)),
        ("header", hex::encode(header)),
        ("aad", hex::encode(aad)),
        ("nonce", hex::encode(nonce)),
        ("plaintext", hex::encode(cbor)),
        ("ciphertext and tag", hex::encode(sealed)),
        ("envelope", hex::encode(token.as_bytes())),
        ("token", token.as_str().to_owned()),
    ]
}

/// The `label: value` lines of the doc's `### Vector n` section.
fn documented(n: usize) -> Vec<(String, String)> {
    let heading = format!("### Vector {n}");
    DOC.split("\n### ")
        .find(|s| s.starts_with(heading.trim_start_matches("### ")))
        .map(|section| {
            section
                .lines()
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn documented_vectors_match() {
    for n in [1, 2] {
        let doc = documented(n);
        for (label, value) in compute(n) {
            let found = doc
                .iter()
                .find(|(k, _)| k == label)
                .map(|(_, v)| v.as_str());
            assert_eq!(found, Some(value.as_str()), "vector {n}, {label}");
        }
    }
}

#[test]
fn documented_tokens_open() {
    for n in [1, 2] {
        let (_, kid, master, _) = inputs(n);
        let text = compute(n).pop().map(|(_, t)| t).unwrap_or_default();
        let token = Token::parse(&text).expect("parse");
        let payload = KeyRing::from_key(kid, master).open(&token).expect("open");
        assert_eq!(payload.issued_at(), 1_795_831_200);
    }
}

/// Prints the vectors, for writing the document: `cargo test print_vectors -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_vectors() {
    for n in [1, 2] {
        println!("### Vector {n}");
        for (label, value) in compute(n) {
            println!("{label}: {value}");
        }
    }
}
