//! Audit hardening: canonical hashes, time order, signed checkpoints, file mode.

use time::OffsetDateTime;
use waybill_redact::{
    verify_audit_log, verify_audit_log_with_key, AuditBreak, AuditChain, AuditError, AuditEvent,
    AuditKey, AuditRecord, AuditSink, GrantId, JsonLinesFileSink, Outcome, Purpose, Scope,
};

fn event(second: i64) -> AuditEvent {
    AuditEvent::new(
        OffsetDateTime::from_unix_timestamp(1_795_000_000 + second).unwrap(),
        Purpose::Delivery,
        Outcome::Allowed,
    )
    .with_tracking_number("SF1234567890123")
    .with_grant("C-1", GrantId::from_bytes([7; 16]))
    .with_scope(Scope::DELIVERY)
}

/// A chain of `n` records with a signed checkpoint after every `every`.
fn signed_log(key: &AuditKey, n: i64, every: u64) -> Vec<String> {
    let mut chain = AuditChain::for_instance("i-1");
    let mut lines = Vec::new();
    for i in 0..n {
        let r = chain.append(&event(i));
        lines.push(r.to_json_line());
        if r.seq.is_multiple_of(every) {
            let cp = key.checkpoint("i-1", r.seq, chain.head(), &r.time);
            lines.push(cp.to_json_line());
        }
    }
    lines
}

fn text(lines: &[String]) -> String {
    lines.join("\n") + "\n"
}

fn broken(result: Result<impl std::fmt::Debug, AuditError>) -> (usize, AuditBreak) {
    match result {
        Err(AuditError::Broken { line, kind }) => (line, kind),
        other => panic!("expected a broken log, got {other:?}"),
    }
}

#[test]
fn the_hash_covers_documented_bytes_not_json_layout() {
    let mut chain = AuditChain::for_instance("i-1");
    let record = chain.append(&event(0));
    // The documented layout, rebuilt here by hand.
    let mut expected = b"waybill-redact audit v2\0".to_vec();
    expected.extend_from_slice(&[0; 32]);
    expected.extend_from_slice(&1u64.to_be_bytes());
    for f in [
        "i-1",
        "2026-11-18T11:06:40Z",
        "SF1234567890123",
        "C-1",
        &hex::encode([7u8; 16]),
        "delivery",
        "allowed",
    ] {
        expected.push(1);
        expected.extend_from_slice(&u16::try_from(f.len()).unwrap().to_be_bytes());
        expected.extend_from_slice(f.as_bytes());
    }
    expected.push(0); // no reason
    expected.extend_from_slice(&[1, 0, 18]);
    expected.extend_from_slice(b"name,phone,address");
    assert_eq!(record.hashed_bytes(), expected);
    // Reordering JSON keys or adding spaces does not change what is hashed.
    let json = record.to_json_line();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let pretty = serde_json::to_string_pretty(&value)
        .unwrap()
        .replace('\n', " ");
    let back: AuditRecord = serde_json::from_str(&pretty).unwrap();
    assert!(back.hash_matches());
}

#[test]
fn time_never_goes_backwards() {
    let mut chain = AuditChain::new();
    let a = chain.append(&event(100));
    let b = chain.append(&event(50));
    assert_eq!(a.time, b.time, "a clock step back keeps the previous time");
    // A log whose times were rewritten to run backwards fails.
    let mut chain = AuditChain::new();
    let mut lines = vec![chain.append(&event(100))];
    let mut second = chain.append(&event(200));
    second.time = "2026-11-18T11:06:00Z".into();
    second.hash = hex::encode(second.digest());
    lines.push(second);
    let text = text(
        &lines
            .iter()
            .map(AuditRecord::to_json_line)
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        broken(verify_audit_log(text.as_bytes())),
        (2, AuditBreak::TimeWentBack)
    );
}

#[test]
fn checkpoints_verify_under_the_audit_key() {
    let key = AuditKey::generate();
    let lines = signed_log(&key, 10, 4);
    let report = verify_audit_log_with_key(text(&lines).as_bytes(), &key.public_key()).unwrap();
    assert_eq!(
        (
            report.records,
            report.chains,
            report.checkpoints,
            report.unsigned
        ),
        (10, 1, 2, 2)
    );
    // Another key's checkpoints are refused.
    let other = AuditKey::generate().public_key();
    assert_eq!(
        broken(verify_audit_log_with_key(text(&lines).as_bytes(), &other)),
        (5, AuditBreak::BadCheckpoint)
    );
}

#[test]
fn a_rewritten_chain_is_caught_at_the_next_checkpoint() {
    let key = AuditKey::generate();
    let lines = signed_log(&key, 8, 4);
    // Drop record 2 and recompute every later hash, as an insider with write
    // access would: the chain alone verifies, the signed checkpoint does not.
    let mut chain = AuditChain::for_instance("i-1");
    let mut forged = Vec::new();
    for i in [0, 2, 3, 4] {
        forged.push(chain.append(&event(i)).to_json_line());
    }
    forged.push(lines[4].clone()); // the original checkpoint at seq 4
    assert_eq!(
        broken(verify_audit_log_with_key(
            text(&forged).as_bytes(),
            &key.public_key()
        )),
        (5, AuditBreak::BadCheckpoint)
    );
    assert_eq!(verify_audit_log(text(&forged[..4]).as_bytes()).unwrap(), 4);
}

#[test]
fn a_cut_before_a_checkpoint_is_caught() {
    let key = AuditKey::generate();
    let lines = signed_log(&key, 8, 4);
    // Lines: r1 r2 r3 r4 cp4 r5 r6 r7 r8 cp8. Cut r7 and r8, keep cp8.
    let cut: Vec<String> = lines[..7].iter().chain(&lines[9..]).cloned().collect();
    assert_eq!(
        broken(verify_audit_log_with_key(
            text(&cut).as_bytes(),
            &key.public_key()
        )),
        (8, AuditBreak::Truncated)
    );
}

#[cfg(unix)]
#[test]
fn the_file_log_is_owner_only_and_reopens_from_its_tail() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sink = JsonLinesFileSink::open(&path).unwrap();
    for i in 0..3 {
        sink.record(&event(i)).unwrap();
    }
    drop(sink);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Reopening continues from the last line even when earlier lines are
    // unreadable: it does not reread the whole log.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let junk = "x".repeat(70 * 1024);
    lines[0] = &junk;
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    JsonLinesFileSink::open(&path)
        .unwrap()
        .record(&event(9))
        .unwrap();
    let last = std::fs::read_to_string(&path).unwrap();
    assert!(last.lines().last().unwrap().starts_with("{\"seq\":4,"));
}
