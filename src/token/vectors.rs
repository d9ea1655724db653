//! Checks the test vectors in `docs/TOKEN.md` against this implementation:
//! every value in the document is recomputed here from the fixed inputs, and
//! every negative vector is rebuilt and must be refused.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hpke::Serializable;
use minicbor::Encoder;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::envelope::{TokenHeader, AAD_DOMAIN_2, AAD_DOMAIN_3, GENERATION, GENERATION_2, SUITE_1};
use super::keyring::ZONE_KEY_INFO;
use super::payload::{Payload, PAD_BUCKETS};
use super::public_sealer::seal_suite2_with_seed;
use super::suite2::{self, ZONE_KEM_INFO};
use super::suite3;
use crate::resolve::device::request_message;
use crate::{
    DeviceKey, Grant, GrantSpec, IssuerKey, KeyRing, PublicSealer, Purpose, Scope, SealerKey,
    Token, Validity, Waybill, ZoneDirectory,
};

const DOC: &str = include_str!("../../docs/TOKEN.md");

const WAYBILL_1: &str = r#"{"tracking_number":"SF1234567890123","zone":755021,"recipient":{"name":"张三","phone":"13812345678","address":"广东省深圳市南山区深南大道10000号腾讯大厦1栋1单元1001室"},"items":[{"description":"婴儿奶粉 900g","category":"母婴","quantity":2}]}"#;
const WAYBILL_2: &str = r#"{"tracking_number":"RR473124829CN","zone":0,"recipient":{"name":"John Smith","phone":"+44 20 7946 0958","address":{"country":"GB","city":"London","street":"221B Baker Street","postal_code":"NW1 6XE"}}}"#;

/// SHA-256 of a label: how every fixed secret of the vectors is made.
fn fixed(label: &str) -> [u8; 32] {
    Sha256::digest(label.as_bytes()).into()
}

/// The issue time of every vector: 2026-11-28T02:00:00Z; the lifetime is 30 days.
fn validity() -> Validity {
    let t = OffsetDateTime::from_unix_timestamp(1_795_831_200).expect("time");
    Validity::days(t, 30).expect("validity")
}

fn waybill(n: usize) -> Waybill {
    Waybill::from_json(if n == 2 { WAYBILL_2 } else { WAYBILL_1 }).expect("vector waybill")
}

/// Suite 1 inputs: (kid, master key, nonce).
fn suite1_inputs(n: usize) -> (u16, [u8; 32], [u8; 24]) {
    match n {
        1 => (
            1,
            fixed("waybill-redact vector 1"),
            core::array::from_fn(|i| 0x40 + i as u8),
        ),
        _ => (258, fixed("waybill-redact vector 2"), [0x24; 24]),
    }
}

fn ring(kid: u16, master: &[u8; 32]) -> KeyRing {
    KeyRing::from_key(kid, master).expect("strong vector key")
}

/// Every labelled value of suite-1 vector `n`, computed.
/// Vectors 1 and 2 are generation 2 (`WB2:`); vector 5 is vector 1's inputs in
/// generation 3.
fn compute_suite1(n: usize) -> Vec<(&'static str, String)> {
    let (generation, domain, n) = if n == 5 {
        (GENERATION, AAD_DOMAIN_3, 1)
    } else {
        (GENERATION_2, AAD_DOMAIN_2, n)
    };
    let (kid, master, nonce) = suite1_inputs(n);
    let waybill = waybill(n);
    let ring = ring(kid, &master);
    let token = ring
        .seal_with_nonce(generation, &waybill, &validity(), nonce)
        .expect("seal");
    let zone_key = ring.zone_key(kid, waybill.zone()).expect("key").0;
    let (header, _, ciphertext, tag) = token.parts();
    let mut info = ZONE_KEY_INFO.to_vec();
    info.extend_from_slice(&waybill.zone().to_be_bytes());
    let mut aad = domain.to_vec();
    aad.extend_from_slice(header);
    let mut plain = Vec::new();
    Payload::from_waybill(&waybill, &validity())
        .encode_padded(&mut plain)
        .expect("cbor");
    vec![
        ("master key", hex::encode(master)),
        ("key check value", super::masterkey::check_value(&master)),
        ("key id", kid.to_string()),
        ("zone", waybill.zone().to_string()),
        ("hkdf info", hex::encode(info)),
        ("zone key", hex::encode(zone_key)),
        ("header", hex::encode(header)),
        ("aad", hex::encode(aad)),
        ("nonce", hex::encode(nonce)),
        ("padded plaintext", hex::encode(plain)),
        ("ciphertext", hex::encode(ciphertext)),
        ("tag", hex::encode(tag)),
        ("envelope", hex::encode(token.as_bytes())),
        ("token", token.as_str().to_owned()),
    ]
}

/// Suite 2's vector: vector 1's waybill and master key, sealed by a seller.
fn suite2_parts() -> (KeyRing, IssuerKey, ZoneDirectory, SealerKey, Token) {
    let (kid, master, _) = suite1_inputs(1);
    let ring = ring(kid, &master);
    let issuer = IssuerKey::from_secret(fixed("waybill-redact vector issuer"));
    let issued = OffsetDateTime::from_unix_timestamp(1_795_831_200).expect("time");
    let directory =
        ZoneDirectory::publish(&ring, &issuer, &[755021], issued, time::Duration::days(90))
            .expect("directory");
    let sealer = SealerKey::from_seed(&fixed("waybill-redact vector sealer"));
    let token = seal_suite2_with_seed(
        &PublicSealer::new(directory.clone(), sealer.clone()),
        &waybill(1),
        &validity(),
        Zeroizing::new(fixed("waybill-redact vector ephemeral")),
    )
    .expect("seal");
    (ring, issuer, directory, sealer, token)
}

/// Vector 6: suite 3 (generation 3) with vector 3's ring, directory, sealer
/// key and ephemeral seed.
fn suite3_parts() -> (KeyRing, SealerKey, Token) {
    let (ring, _, directory, sealer, _) = suite2_parts();
    let token = PublicSealer::new(directory, sealer.clone())
        .seal_with_seed(
            &waybill(1),
            &validity(),
            Zeroizing::new(fixed("waybill-redact vector ephemeral")),
        )
        .expect("seal");
    (ring, sealer, token)
}

fn compute_suite3() -> Vec<(&'static str, String)> {
    use hpke::{Deserializable, OpModeR};
    let (_, sealer, token) = suite3_parts();
    let (master, zone) = (fixed("waybill-redact vector 1"), 755021u32);
    let (zone_sk, zone_pk) = suite2::zone_keypair(&master, zone);
    let (header, kex, ciphertext, tag) = token.parts();
    let (enc, encrypted_id) = kex.split_at(32);
    let encapped = <suite2::Kem as hpke::Kem>::EncappedKey::from_bytes(enc).expect("enc");
    let ctx = hpke::setup_receiver::<
        hpke::aead::ChaCha20Poly1305,
        hpke::kdf::HkdfSha256,
        suite2::Kem,
    >(&OpModeR::Base, &zone_sk, &encapped, suite3::INFO)
    .expect("setup");
    let mut mask = [0u8; 4];
    let mut salt = [0u8; 32];
    ctx.export(suite3::EXPORT_ID, &mut mask).expect("export");
    ctx.export(suite3::EXPORT_SALT, &mut salt).expect("export");
    let k_ss = suite3::static_secret(&zone_sk, sealer.public_key().kem()).expect("dh");
    let sealer_pk = sealer.public_key().to_bytes();
    let zone_pk = suite3::bytes32(&zone_pk);
    let enc32: [u8; 32] = enc.try_into().expect("32");
    let key = suite3::payload_key(&salt, &k_ss, &sealer_pk, &zone_pk, &enc32);
    let mut key_info = suite3::KEY_INFO.to_vec();
    for part in [&sealer_pk, &zone_pk, &enc32] {
        key_info.extend_from_slice(part);
    }
    let mut plain = Vec::new();
    Payload::from_waybill(&waybill(1), &validity())
        .encode_padded(&mut plain)
        .expect("cbor");
    vec![
        ("zone public key", hex::encode(zone_pk)),
        ("sealer public key", sealer.public_key().to_string()),
        ("sealer id", sealer.public_key().id().to_string()),
        (
            "ephemeral seed",
            hex::encode(fixed("waybill-redact vector ephemeral")),
        ),
        ("hpke info", hex::encode(suite3::INFO)),
        ("header", hex::encode(header)),
        ("enc", hex::encode(enc)),
        ("id mask", hex::encode(mask)),
        ("encrypted id", hex::encode(encrypted_id)),
        ("payload salt", hex::encode(salt)),
        ("static secret", hex::encode(*k_ss)),
        ("payload key info", hex::encode(key_info)),
        ("payload key", hex::encode(*key)),
        (
            "aad",
            hex::encode(suite3::associated_data(header, enc, encrypted_id)),
        ),
        ("padded plaintext", hex::encode(plain)),
        ("ciphertext", hex::encode(ciphertext)),
        ("tag", hex::encode(tag)),
        ("token", token.as_str().to_owned()),
    ]
}

/// The second seller of the generation-3 negative vectors.
fn sealer_b() -> SealerKey {
    SealerKey::from_seed(&fixed("waybill-redact vector sealer B"))
}

/// (label, token text) of every generation-3 negative vector: each must be
/// refused by a resolver whose registry holds vector 6's sealer and sealer B.
fn negatives_gen3() -> Vec<(&'static str, String)> {
    let (_, sealer, token) = suite3_parts();
    let (_, _, directory, _, _) = suite2_parts();
    let bytes = token.as_bytes().to_vec();
    let b45 = |prefix: &str, b: &[u8]| {
        let mut t = String::from(prefix);
        super::base45::encode_into(b, &mut t);
        t
    };
    let mut suite2_in_v3 = bytes.clone();
    suite2_in_v3[0] = 2;
    // The encrypted id sits after the 25-byte header and the 32-byte enc: XOR
    // in (id A ⊕ id B), and it unmasks to seller B's id.
    let mut relabelled = bytes.clone();
    let (a, b) = (sealer.public_key().id(), sealer_b().public_key().id());
    for i in 0..4 {
        relabelled[25 + 32 + i] ^= a.as_bytes()[i] ^ b.as_bytes()[i];
    }
    let seed = || Zeroizing::new(fixed("waybill-redact vector ephemeral"));
    let forged = PublicSealer::new(directory.clone(), sealer_b())
        .seal_claiming(a, &waybill(1), &validity(), seed())
        .expect("seal");
    let issued = OffsetDateTime::from_unix_timestamp(1_795_831_200).expect("time");
    let too_long = PublicSealer::new(directory, sealer.clone())
        .seal_with_seed(
            &waybill(1),
            &Validity::days(issued, 91).expect("validity"),
            seed(),
        )
        .expect("seal");
    vec![
        ("suite 2 in generation 3", b45("WB3:", &suite2_in_v3)),
        ("suite 3 in generation 2", b45("WB2:", &bytes)),
        ("sealer id relabelled", b45("WB3:", &relabelled)),
        (
            "sealed by sealer B claiming vector 6's sealer",
            forged.as_str().to_owned(),
        ),
        ("lifetime of 91 days", too_long.as_str().to_owned()),
    ]
}

fn compute_suite2() -> Vec<(&'static str, String)> {
    let (_, issuer, directory, sealer, token) = suite2_parts();
    let (master, zone) = (fixed("waybill-redact vector 1"), 755021u32);
    let mut info = ZONE_KEM_INFO.to_vec();
    info.extend_from_slice(&zone.to_be_bytes());
    let (zone_sk, zone_pk) = suite2::zone_keypair(&master, zone);
    let (header, enc, ciphertext, tag) = token.parts();
    let mut plain = Vec::new();
    Payload::from_waybill(&waybill(1), &validity())
        .encode_padded(&mut plain)
        .expect("cbor");
    let dir: serde_json::Value = serde_json::from_str(&directory.to_json()).expect("json");
    vec![
        ("zone kem info", hex::encode(info)),
        ("zone seed", hex::encode(*suite2::zone_seed(&master, zone))),
        ("zone secret key", hex::encode(zone_sk.to_bytes())),
        ("zone public key", hex::encode(zone_pk.to_bytes())),
        (
            "issuer secret",
            hex::encode(fixed("waybill-redact vector issuer")),
        ),
        ("issuer public key", issuer.public_key().to_string()),
        (
            "directory signature",
            dir["signature"].as_str().unwrap_or("").to_owned(),
        ),
        (
            "sealer seed",
            hex::encode(fixed("waybill-redact vector sealer")),
        ),
        ("sealer public key", sealer.public_key().to_string()),
        ("sealer id", sealer.public_key().id().to_string()),
        (
            "ephemeral seed",
            hex::encode(fixed("waybill-redact vector ephemeral")),
        ),
        ("header", hex::encode(header)),
        ("padded plaintext", hex::encode(plain)),
        ("enc", hex::encode(enc)),
        ("ciphertext", hex::encode(ciphertext)),
        ("tag", hex::encode(tag)),
        ("token", token.as_str().to_owned()),
    ]
}

/// Vector 4: a grant bound to a device, and one request signed by that device
/// for vector 1's token.
fn device_parts() -> (IssuerKey, DeviceKey, Grant, String) {
    let issuer = IssuerKey::from_secret(fixed("waybill-redact vector issuer"));
    let device = DeviceKey::from_secret(fixed("waybill-redact vector device"));
    let t = OffsetDateTime::from_unix_timestamp(1_795_831_200).expect("time");
    let spec = GrantSpec {
        courier_id: "C-10023".into(),
        zones: vec![755021],
        not_before: t,
        expires_at: t + time::Duration::hours(10),
        scope: Scope::DELIVERY,
        quota: 300,
        device: Some(device.public_key()),
    };
    let id: [u8; 16] = core::array::from_fn(|i| 0xa0 + i as u8);
    let grant = issuer.issue_with_id(&spec, id).expect("grant");
    let token = compute_suite1(1).pop().map(|(_, t)| t).unwrap_or_default();
    (issuer, device, grant, token)
}

/// The request's time and nonce in vector 4.
const REQUEST_TIME: u64 = 1_795_834_800;
const REQUEST_NONCE: [u8; 16] = [0x5a; 16];

fn compute_device() -> Vec<(&'static str, String)> {
    let (_, device, grant, token) = device_parts();
    let proof = device
        .prove_with_nonce(
            grant.id(),
            Purpose::Delivery,
            &[token.as_str()],
            REQUEST_TIME,
            REQUEST_NONCE,
        )
        .expect("proof");
    let message = request_message(
        grant.id(),
        Purpose::Delivery,
        &[token.as_str()],
        REQUEST_TIME,
        &REQUEST_NONCE,
    )
    .expect("message");
    let bytes = grant.as_bytes();
    let (body, signature) = bytes.split_at(bytes.len() - 64);
    vec![
        (
            "device secret",
            hex::encode(fixed("waybill-redact vector device")),
        ),
        ("device public key", device.public_key().to_string()),
        ("grant bytes", hex::encode(body)),
        ("grant signature", hex::encode(signature)),
        ("grant", grant.as_str().to_owned()),
        (
            "token sha-256",
            hex::encode(Sha256::digest(token.as_bytes())),
        ),
        ("request message", hex::encode(message)),
        ("request signature", hex::encode(proof.signature)),
        ("device_signature", proof.to_string()),
    ]
}

/// Seals any plaintext as suite 1 under vector 1's key, header and nonce: the
/// negative vectors that authenticate but must still be refused.
fn seal_raw(plain: &[u8]) -> String {
    let (kid, master, nonce) = suite1_inputs(1);
    let ring = ring(kid, &master);
    let w = waybill(1);
    let header = TokenHeader {
        generation: GENERATION_2,
        suite: SUITE_1,
        kid,
        zone: w.zone(),
        expiry_period: validity().expiry_period().expect("period"),
        tracking_number: w.tracking_number().clone(),
        sealer: None,
    };
    let mut out = Vec::new();
    header.write(&mut out);
    let mut aad = AAD_DOMAIN_2.to_vec();
    aad.extend_from_slice(&out);
    let key = ring.zone_key(kid, header.zone).expect("key").0;
    let mut body = plain.to_vec();
    let tag = XChaCha20Poly1305::new(&key.into())
        .encrypt_inout_detached(&XNonce::from(nonce), &aad, body.as_mut_slice().into())
        .expect("encrypt");
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    let mut text = String::from("WB2:");
    super::base45::encode_into(&out, &mut text);
    text
}

fn padded(mut cbor: Vec<u8>) -> Vec<u8> {
    let bucket = PAD_BUCKETS.iter().copied().find(|&b| b >= cbor.len());
    cbor.resize(bucket.unwrap_or(cbor.len()), 0);
    cbor
}

/// A payload map with the given entries after name, phone and address.
fn cbor(f: impl FnOnce(&mut Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut Encoder::new(&mut out));
    out
}

fn valid_cbor() -> Vec<u8> {
    let mut out = Vec::new();
    Payload::from_waybill(&waybill(1), &validity()).encode_into(&mut out);
    out
}

/// (label, token text) of every negative vector.
fn negatives() -> Vec<(&'static str, String)> {
    let v = validity();
    let (iat, exp) = (v.issued_at_unix(), v.expires_at_unix());
    let good = seal_raw(&padded(valid_cbor()));
    let mut bytes = super::base45::decode(good.strip_prefix("WB2:").unwrap_or("").as_bytes())
        .unwrap_or_default();
    let b45 = |b: &[u8]| {
        let mut t = String::from("WB2:");
        super::base45::encode_into(b, &mut t);
        t
    };
    let wrong_prefix = format!("WB1:{}", good.strip_prefix("WB2:").unwrap_or(""));
    let mut zero_expiry = bytes.clone();
    zero_expiry[7..9].copy_from_slice(&[0, 0]);
    let zero_expiry = b45(&zero_expiry);
    let mut short = bytes.clone();
    short.remove(60);
    let short = b45(&short);
    let mut moved = bytes.clone();
    moved[6] ^= 1;
    let moved = b45(&moved);
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let bad_tag = b45(&bytes);
    let mut indefinite = valid_cbor();
    indefinite[0] = 0xBF;
    indefinite.push(0xFF);
    let mut long_int = valid_cbor();
    let iat_pos = long_int.len() - 12; // 05 1a iiii 06 1a eeee
    long_int.splice(iat_pos + 1..iat_pos + 2, [0x1B, 0, 0, 0, 0]);
    let mut nonzero_pad = padded(valid_cbor());
    if let Some(b) = nonzero_pad.last_mut() {
        *b = 1;
    }
    let base = |e: &mut Encoder<&mut Vec<u8>>, n: u64| {
        let _ = e
            .map(n)
            .and_then(|e| e.u64(1)?.str("a")?.u64(2)?.str("1")?.u64(3)?.str("x"));
    };
    vec![
        ("wrong prefix", wrong_prefix),
        ("expiry period 0", zero_expiry),
        ("ciphertext not a bucket", short),
        ("tag changed", bad_tag),
        ("header changed (zone)", moved),
        ("indefinite-length map", seal_raw(&padded(indefinite))),
        ("non-shortest integer", seal_raw(&padded(long_int))),
        ("non-zero padding", seal_raw(&nonzero_pad)),
        (
            "keys out of order",
            seal_raw(&padded(cbor(|e| {
                let _ = e.map(5).and_then(|e| {
                    e.u64(2)?.str("1")?.u64(1)?.str("a")?.u64(3)?.str("x")?;
                    e.u64(5)?.u64(iat)?.u64(6)?.u64(exp)
                });
            }))),
        ),
        (
            "empty items array",
            seal_raw(&padded(cbor(|e| {
                base(e, 6);
                let _ = e
                    .u64(4)
                    .and_then(|e| e.array(0)?.u64(5)?.u64(iat)?.u64(6)?.u64(exp));
            }))),
        ),
        (
            "quantity 0",
            seal_raw(&padded(cbor(|e| {
                base(e, 6);
                let _ = e.u64(4).and_then(|e| {
                    e.array(1)?.map(1)?.u64(3)?.u64(0)?;
                    e.u64(5)?.u64(iat)?.u64(6)?.u64(exp)
                });
            }))),
        ),
        (
            "unknown key with a float",
            seal_raw(&padded(cbor(|e| {
                base(e, 6);
                let _ = e
                    .u64(5)
                    .and_then(|e| e.u64(iat)?.u64(6)?.u64(exp)?.u64(9)?.f32(1.0));
            }))),
        ),
        (
            "exact expiry after the header's period",
            seal_raw(&padded(cbor(|e| {
                base(e, 5);
                let bound = u64::from(v.expiry_period().unwrap_or(0)) * 28 * 86_400;
                let _ = e.u64(5).and_then(|e| e.u64(iat)?.u64(6)?.u64(bound + 1));
            }))),
        ),
        (
            "expiry not after issue",
            seal_raw(&padded(cbor(|e| {
                base(e, 5);
                let _ = e.u64(5).and_then(|e| e.u64(exp)?.u64(6)?.u64(exp));
            }))),
        ),
    ]
}

/// The `label: value` lines of the doc's section that starts with `heading`.
fn documented(heading: &str) -> Vec<(String, String)> {
    DOC.split("\n### ")
        .find(|s| s.starts_with(heading))
        .map(|section| {
            section
                .lines()
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_documented(heading: &str, computed: Vec<(&'static str, String)>) {
    let doc = documented(heading);
    assert!(!doc.is_empty(), "no section {heading}");
    for (label, value) in computed {
        let found = doc
            .iter()
            .find(|(k, _)| k == label)
            .map(|(_, v)| v.as_str());
        assert_eq!(found, Some(value.as_str()), "{heading}, {label}");
    }
}

#[test]
fn documented_vectors_match() {
    assert_documented("Vector 1", compute_suite1(1));
    assert_documented("Vector 2", compute_suite1(2));
    assert_documented("Vector 3", compute_suite2());
    assert_documented("Vector 4", compute_device());
    assert_documented("Negative vectors", negatives());
    assert_documented("Vector 5", compute_suite1(5));
    assert_documented("Vector 6", compute_suite3());
    assert_documented("Generation 3 negative vectors", negatives_gen3());
}

#[test]
fn documented_tokens_open() {
    for n in [1, 2] {
        let (kid, master, _) = suite1_inputs(n);
        let text = compute_suite1(n).pop().map(|(_, t)| t).unwrap_or_default();
        let token = Token::parse(&text).expect("parse");
        let payload = ring(kid, &master).open(&token).expect("open");
        assert_eq!(payload.issued_at(), 1_795_831_200);
        assert_eq!(payload.expires_at(), 1_795_831_200 + 30 * 86_400);
    }
    let (ring, _, _, sealer, token) = suite2_parts();
    let token = Token::parse(token.as_str()).expect("parse");
    let payload = ring.open_sealed(&token, sealer.public_key()).expect("open");
    assert_eq!(payload.name(), "张三");
    let text = compute_suite1(5).pop().map(|(_, t)| t).unwrap_or_default();
    assert!(text.starts_with("WB3:"));
    let (kid, master, _) = suite1_inputs(1);
    assert_eq!(
        ring_of(kid, &master, &text).map(|p| p.expires_at()),
        Ok(1_795_831_200 + 30 * 86_400)
    );
    let (ring, sealer, token) = suite3_parts();
    let token = Token::parse(token.as_str()).expect("parse");
    assert_eq!(ring.sealer_of(&token), Ok(sealer.public_key().id()));
    let payload = ring.open_sealed(&token, sealer.public_key()).expect("open");
    assert_eq!(payload.name(), "张三");
}

fn ring_of(kid: u16, master: &[u8; 32], text: &str) -> Result<Payload, crate::TokenError> {
    ring(kid, master).open(&Token::parse(text)?)
}

/// Every generation-3 negative vector is refused by a resolver that knows both
/// sellers, with the documented reason.
#[test]
fn generation_3_negative_vectors_are_refused_with_their_reason() {
    use crate::{Denied, FixedClock, MemorySink, ResolveRequest, Resolver, SealerRegistry};
    use std::sync::Arc;
    let (ring, sealer, _) = suite3_parts();
    let mut registry = SealerRegistry::new();
    registry
        .register(sealer.public_key().clone())
        .expect("register");
    registry
        .register(sealer_b().public_key().clone())
        .expect("register");
    let issuer = IssuerKey::from_secret(fixed("waybill-redact vector issuer"));
    let issued = OffsetDateTime::from_unix_timestamp(1_795_831_200).expect("time");
    let grant = issuer
        .issue(&GrantSpec {
            courier_id: "C-1".into(),
            zones: vec![755021],
            not_before: issued,
            expires_at: issued + time::Duration::hours(10),
            scope: Scope::DELIVERY,
            quota: 100,
            device: None,
        })
        .expect("grant");
    let resolver = Resolver::new(ring, vec![issuer.public_key()], Arc::new(MemorySink::new()))
        .with_bearer_grants(true)
        .with_sealers(registry)
        .with_clock(Arc::new(FixedClock::new(issued + time::Duration::hours(1))));
    let request = ResolveRequest::new(Purpose::Delivery);
    let expected = [
        "malformed_token",
        "malformed_token",
        "unopenable",
        "unopenable",
        "token_lifetime_too_long",
    ];
    let cases = negatives_gen3();
    assert_eq!(cases.len(), expected.len());
    for ((label, text), code) in cases.into_iter().zip(expected) {
        let denied = resolver
            .resolve(&text, grant.as_str(), &request)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(denied.code(), code, "{label}");
    }
    let (_, _, token) = suite3_parts();
    let ok: Result<_, Denied> = resolver.resolve(token.as_str(), grant.as_str(), &request);
    assert!(ok.is_ok());
}

#[test]
fn documented_device_request_verifies() {
    let (issuer, device, grant, token) = device_parts();
    let doc = documented("Vector 4");
    let text = |label: &str| {
        doc.iter()
            .find(|(k, _)| k == label)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let parsed = Grant::parse(&text("grant")).expect("grant");
    assert!(parsed.verify(&[issuer.public_key()]).is_ok());
    assert_eq!(parsed.device(), Some(&device.public_key()));
    let proof: crate::RequestProof = text("device_signature").parse().expect("proof");
    assert!(proof.verifies(
        &device.public_key(),
        grant.id(),
        Purpose::Delivery,
        &[&token]
    ));
    assert_eq!((proof.time, proof.nonce), (REQUEST_TIME, REQUEST_NONCE));
}

#[test]
fn negative_vectors_are_refused() {
    let (kid, master, _) = suite1_inputs(1);
    let ring = ring(kid, &master);
    for (label, text) in negatives() {
        let opened = Token::parse(&text).and_then(|t| ring.open(&t));
        assert!(opened.is_err(), "{label} was accepted");
    }
}

/// Prints the vectors, for writing the document: `cargo test print_vectors -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_vectors() {
    for (n, v) in [
        (1, compute_suite1(1)),
        (2, compute_suite1(2)),
        (3, compute_suite2()),
        (4, compute_device()),
        (5, compute_suite1(5)),
        (6, compute_suite3()),
    ] {
        println!("### Vector {n}");
        for (label, value) in v {
            println!("{label}: {value}");
        }
    }
    println!("### Negative vectors");
    for (label, value) in negatives() {
        println!("{label}: {value}");
    }
    println!("### Generation 3 negative vectors");
    for (label, value) in negatives_gen3() {
        println!("{label}: {value}");
    }
}
