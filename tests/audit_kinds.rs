//! Audit record kinds: revocations and their lifting, suppressed refusals,
//! undelivered answers and the sealer of a resolve. The vectors of
//! `docs/AUDIT.md`, "Record kinds"; records without the new fields hash, parse
//! and print exactly as before.

use time::OffsetDateTime;
use waybill_redact::{
    leaf_hash, verify_audit_log, AuditBreak, AuditChain, AuditError, AuditEvent, AuditKind,
    AuditRecord, AuditTree, GrantId, Outcome, Purpose, Revocation, Scope, SealerId,
};

fn at(second: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_831_200 + second).unwrap()
}

fn grant() -> GrantId {
    GrantId::from_bytes([7; 16])
}

fn sealer() -> SealerId {
    "e43f2dc1".parse().unwrap()
}

/// The seven records of the tree vectors (`docs/AUDIT.md`, "Vectors").
fn resolve(second: i64) -> AuditEvent {
    AuditEvent::new(at(second), Purpose::Delivery, Outcome::Allowed)
        .with_tracking_number("SF1234567890123")
        .with_grant("C-1", grant())
        .with_scope(Scope::DELIVERY)
}

/// The vectors' chain: the seven records, then one record of each new kind.
fn chain() -> Vec<AuditRecord> {
    let mut chain = AuditChain::for_instance("i-1");
    let mut records: Vec<AuditRecord> = (0..7).map(|i| chain.append(&resolve(i))).collect();
    let sealer_revoked = Revocation::from_parts("sealer", "e43f2dc1").unwrap();
    for event in [
        AuditEvent::revocation(at(7), &Revocation::Grant(grant()), false),
        AuditEvent::revocation(at(8), &sealer_revoked, false),
        AuditEvent::revocation(at(9), &Revocation::Grant(grant()), true),
        AuditEvent::suppressed(at(60), "203.0.113.9", 69),
        AuditEvent::undelivered(at(61), 7)
            .with_tracking_number("SF1234567890123")
            .with_grant("C-1", grant()),
        resolve(62).with_sealer(sealer()),
    ] {
        records.push(chain.append(&event));
    }
    records
}

/// Each new record's hash (seq 8 to 13), as in `docs/AUDIT.md`.
const HASHES: [&str; 6] = [
    "f7b92f8c586670a8f09d72b75b897bce82e74849054f63ef237b1002ed9f4092",
    "28144afcf28d4223f802cc51f0b718b5a82e562027ef232063c6e747d5605035",
    "e738fa803112bfd3accbd24cc0e2d43af530d7715755dad3661d623187c3ef17",
    "f2899945a1c3888f2dc7c94da57b6c58b883ad30c57ca938bd793249c13aa0da",
    "d5b10331eed5352e6738ebf0059e039e2da4e4512fd1728508e69bca3f1a4afc",
    "1c4b70a4611b94b6b57b087451cbd20c5f86410270fbf34878aad698d1251c10",
];

/// The hashed bytes' extension fields of records 8 to 13 (everything after
/// the nine fields), as in `docs/AUDIT.md`.
const EXTENSIONS: [&str; 6] = [
    "010100077265766f6b6564",
    "010100077265766f6b6564020100086534336632646331",
    "01010009756e7265766f6b6564",
    "0101000a737570707265737365640301000b3230332e302e3131332e39040000000000000045",
    "0101000b756e64656c697665726564050000000000000007",
    "020100086534336632646331",
];

/// The JSON lines of records 11 and 13, as in `docs/AUDIT.md`.
const LINE_11: &str = r#"{"seq":11,"instance":"i-1","time":"2026-11-28T02:01:00Z","kind":"suppressed","tracking_number":null,"courier":null,"grant":null,"purpose":null,"outcome":null,"reason":null,"scope":null,"client":"203.0.113.9","count":69,"prev":"e738fa803112bfd3accbd24cc0e2d43af530d7715755dad3661d623187c3ef17","hash":"f2899945a1c3888f2dc7c94da57b6c58b883ad30c57ca938bd793249c13aa0da"}"#;
const LINE_13: &str = r#"{"seq":13,"instance":"i-1","time":"2026-11-28T02:01:02Z","tracking_number":"SF1234567890123","courier":"C-1","grant":"07070707070707070707070707070707","sealer":"e43f2dc1","purpose":"delivery","outcome":"allowed","reason":null,"scope":"name,phone,address","prev":"d5b10331eed5352e6738ebf0059e039e2da4e4512fd1728508e69bca3f1a4afc","hash":"1c4b70a4611b94b6b57b087451cbd20c5f86410270fbf34878aad698d1251c10"}"#;

#[test]
fn the_documented_record_kind_vectors_hold() {
    let records = chain();
    let mut tree = AuditTree::new();
    for r in &records {
        tree.push(r);
    }
    for ((r, hash), extension) in records[7..].iter().zip(HASHES).zip(EXTENSIONS) {
        assert_eq!(r.hash, hash, "record {}", r.seq);
        // The same record without its new fields: its bytes are a prefix.
        let plain = AuditRecord {
            kind: AuditKind::Resolve,
            sealer: None,
            client: None,
            count: None,
            refers_to: None,
            ..r.clone()
        };
        let bytes = r.hashed_bytes();
        let prefix = plain.hashed_bytes();
        assert_eq!(
            &bytes[..prefix.len()],
            prefix.as_slice(),
            "record {}",
            r.seq
        );
        assert_eq!(
            hex::encode(&bytes[prefix.len()..]),
            extension,
            "record {}",
            r.seq
        );
    }
    assert_eq!(records[10].to_json_line(), LINE_11);
    assert_eq!(records[12].to_json_line(), LINE_13);
    assert_eq!(
        hex::encode(tree.root()),
        "99967515581f995a149294ee832d7258bef9502939d67d542747875a340ce86c",
        "the root of all 13"
    );
    assert_eq!(
        hex::encode(leaf_hash(&records[12])),
        "482259fcc674c7dcbd73a3e06f42762c184c2196ab22e1e630e293e7e1481a61"
    );
}

#[test]
fn a_record_without_kind_fields_hashes_prints_and_parses_as_before() {
    let records = chain();
    let first = &records[0];
    assert_eq!(first.kind, AuditKind::Resolve);
    assert_eq!(
        hex::encode(leaf_hash(first)),
        "4ce2fd961638b24c627e1be71fc39fbb79a98a48f33dc8541feb58fc79aae531",
        "leaf 0 of the tree vectors"
    );
    let line = first.to_json_line();
    assert_eq!(
        line,
        format!(
            "{{\"seq\":1,\"instance\":\"i-1\",\"time\":\"2026-11-28T02:00:00Z\",\
             \"tracking_number\":\"SF1234567890123\",\"courier\":\"C-1\",\
             \"grant\":\"{}\",\"purpose\":\"delivery\",\"outcome\":\"allowed\",\
             \"reason\":null,\"scope\":\"name,phone,address\",\"prev\":\"{}\",\"hash\":\"{}\"}}",
            "07".repeat(16),
            "0".repeat(64),
            first.hash
        ),
        "the line as records were always written"
    );
    let back: AuditRecord = serde_json::from_str(&line).unwrap();
    assert_eq!(&back, first);
    assert!(back.hash_matches());
}

#[test]
fn the_chain_of_every_kind_verifies_and_each_kind_round_trips() {
    let records = chain();
    let log: String = records.iter().map(|r| r.to_json_line() + "\n").collect();
    assert_eq!(verify_audit_log(log.as_bytes()).unwrap(), 13);
    for r in &records {
        let back: AuditRecord = serde_json::from_str(&r.to_json_line()).unwrap();
        assert_eq!(&back, r);
        assert!(back.fits_kind());
    }
    let kinds: Vec<AuditKind> = records[7..].iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::Revoked,
            AuditKind::Revoked,
            AuditKind::Unrevoked,
            AuditKind::Suppressed,
            AuditKind::Undelivered,
            AuditKind::Resolve
        ]
    );
    assert_eq!(records[7].revocation(), Some(Revocation::Grant(grant())));
    assert_eq!(
        records[8].revocation(),
        Some(Revocation::Sealer("e43f2dc1".into()))
    );
    assert_eq!(records[12].sealer.as_deref(), Some("e43f2dc1"));
    assert_eq!(records[12].revocation(), None);
}

/// Replaces `from` by `to` in line `i` of the log (1-based), keeping the hash.
fn edited(records: &[AuditRecord], i: usize, from: &str, to: &str) -> String {
    records
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let line = r.to_json_line();
            let line = if n + 1 == i {
                assert!(line.contains(from), "{line} holds {from}");
                line.replacen(from, to, 1)
            } else {
                line
            };
            line + "\n"
        })
        .collect()
}

fn broken_at(log: &str) -> (usize, AuditBreak) {
    match verify_audit_log(log.as_bytes()) {
        Err(AuditError::Broken { line, kind }) => (line, kind),
        other => panic!("expected a broken log, got {other:?}"),
    }
}

#[test]
fn every_new_field_is_covered_by_the_hash() {
    let records = chain();
    for (i, from, to) in [
        (8, "\"kind\":\"revoked\"", "\"kind\":\"unrevoked\""),
        (9, "\"sealer\":\"e43f2dc1\"", "\"sealer\":\"e43f2dc2\""),
        (
            11,
            "\"client\":\"203.0.113.9\"",
            "\"client\":\"203.0.113.8\"",
        ),
        (11, "\"count\":69", "\"count\":68"),
        (12, "\"refers_to\":7", "\"refers_to\":6"),
        (13, "\"sealer\":\"e43f2dc1\",", ""),
    ] {
        assert_eq!(
            broken_at(&edited(&records, i, from, to)),
            (i, AuditBreak::Edited),
            "{from} → {to}"
        );
    }
}

#[test]
fn records_whose_fields_do_not_fit_their_kind_are_malformed() {
    let records = chain();
    for (i, from, to) in [
        // `resolve` is implied, never written.
        (
            1,
            "\"time\":\"2026-11-28T02:00:00Z\",",
            "\"time\":\"2026-11-28T02:00:00Z\",\"kind\":\"resolve\",",
        ),
        (8, "\"kind\":\"revoked\"", "\"kind\":\"deleted\""),
        // A revocation names one subject, and carries no outcome.
        (
            8,
            "\"tracking_number\":null",
            "\"tracking_number\":\"SF1234567890123\"",
        ),
        (8, "\"outcome\":null", "\"outcome\":\"allowed\""),
        (9, "\"sealer\":\"e43f2dc1\"", "\"sealer\":\"E43F2DC1\""),
        // A summary needs a client group and a count of at least one.
        (11, "\"count\":69", "\"count\":0"),
        (
            11,
            "\"client\":\"203.0.113.9\"",
            "\"client\":\"2001:db8::1\"",
        ),
        // An undelivered answer names an earlier record.
        (12, "\"refers_to\":7", "\"refers_to\":12"),
        // A resolve attempt has a purpose and an outcome.
        (13, "\"purpose\":\"delivery\"", "\"purpose\":null"),
        (
            13,
            "\"scope\":\"name,phone,address\",",
            "\"scope\":\"name,phone,address\",\"count\":1,",
        ),
    ] {
        assert_eq!(
            broken_at(&edited(&records, i, from, to)),
            (i, AuditBreak::Malformed),
            "{from} → {to}"
        );
    }
}

#[test]
fn an_undelivered_answer_must_name_an_earlier_allowed_record_once() {
    // Record 2 is denied; record 3 names it; record 4 names record 1 twice.
    let mut chain = AuditChain::for_instance("i-2");
    let denied = AuditEvent::new(
        at(1),
        Purpose::Delivery,
        Outcome::Denied(waybill_redact::DenialReason::QuotaExceeded),
    );
    let records = [
        chain.append(&resolve(0)),
        chain.append(&denied),
        chain.append(&AuditEvent::undelivered(at(2), 1)),
        chain.append(&AuditEvent::undelivered(at(3), 1)),
    ];
    let log =
        |rs: &[&AuditRecord]| -> String { rs.iter().map(|r| r.to_json_line() + "\n").collect() };
    assert_eq!(
        verify_audit_log(log(&[&records[0], &records[1], &records[2]]).as_bytes()).unwrap(),
        3
    );
    assert_eq!(
        broken_at(&log(&records.iter().collect::<Vec<_>>())),
        (4, AuditBreak::BadReference),
        "one answer is undelivered once"
    );
    let mut chain = AuditChain::for_instance("i-3");
    let records = [
        chain.append(&resolve(0)),
        chain.append(&denied),
        chain.append(&AuditEvent::undelivered(at(2), 2)),
    ];
    assert_eq!(
        broken_at(&log(&records.iter().collect::<Vec<_>>())),
        (3, AuditBreak::BadReference),
        "a denied attempt had no answer to lose"
    );
}
