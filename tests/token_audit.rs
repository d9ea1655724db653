//! The hash-chained audit log: sinks, reopening, and tamper detection.

use time::OffsetDateTime;
use waybill_redact::{
    verify_audit_log, AuditBreak, AuditError, AuditEvent, AuditSink, DenialReason, GrantId,
    JsonLinesFileSink, MemorySink, Outcome, Purpose, Scope, TokenBucket,
};

fn event(i: u8) -> AuditEvent {
    let time = OffsetDateTime::from_unix_timestamp(1_795_000_000 + i64::from(i)).unwrap();
    let event = |outcome| {
        AuditEvent::new(time, Purpose::Call, outcome)
            .with_tracking_number(format!("SF{:013}", i))
            .with_grant("C-1", GrantId::from_bytes([i; 16]))
    };
    if i.is_multiple_of(2) {
        event(Outcome::Allowed).with_scope(Scope::DELIVERY)
    } else {
        event(Outcome::Denied(DenialReason::ZoneNotGranted))
    }
}

fn log(n: u8) -> Vec<String> {
    let sink = MemorySink::new();
    for i in 0..n {
        sink.record(&event(i)).unwrap();
    }
    sink.lines()
}

fn check(lines: &[String]) -> Result<u64, AuditError> {
    verify_audit_log(lines.join("\n").as_bytes())
}

fn broken_at(lines: &[String]) -> (usize, AuditBreak) {
    match check(lines) {
        Err(AuditError::Broken { line, kind }) => (line, kind),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn an_intact_log_verifies() {
    let lines = log(6);
    assert_eq!(check(&lines).unwrap(), 6);
    assert_eq!(check(&[]).unwrap(), 0);
    assert!(lines[0].starts_with("{\"seq\":1,\"instance\":\"local\",\"time\":\"2026-"));
    assert!(lines[0].contains("\"scope\":\"name,phone,address\""));
    assert!(lines[0].contains(&format!("\"prev\":\"{}\"", "0".repeat(64))));
    assert!(lines[1].contains("\"outcome\":\"denied\",\"reason\":\"zone_not_granted\""));
    assert!(lines[1].contains("\"purpose\":\"call\""));
}

#[test]
fn an_edited_record_is_pinpointed() {
    let mut lines = log(6);
    lines[2] = lines[2]
        .replace("zone_not_granted", "grant_expired")
        .replace("C-1", "C-2");
    assert_eq!(broken_at(&lines), (3, AuditBreak::Edited));
}

#[test]
fn an_outcome_that_cannot_be_is_malformed() {
    // Denied reasons are typed: an allowed record with a reason, a denied one
    // without, or a reason no resolver writes is not an audit record.
    for (from, to) in [
        ("\"denied\"", "\"allowed\""),
        (",\"reason\":\"zone_not_granted\"", ",\"reason\":null"),
        ("zone_not_granted", "zone_not_grant"),
    ] {
        let mut lines = log(4);
        assert!(lines[1].contains(from));
        lines[1] = lines[1].replace(from, to);
        assert_eq!(broken_at(&lines), (2, AuditBreak::Malformed), "{to}");
    }
}

#[test]
fn a_denial_reads_back_as_its_typed_reason() {
    let lines = log(2);
    let record: waybill_redact::AuditRecord = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        record.outcome,
        Some(Outcome::Denied(DenialReason::ZoneNotGranted))
    );
    assert_eq!(record.to_json_line(), lines[1]);
}

#[test]
fn an_edited_and_rehashed_record_breaks_the_next_link() {
    let lines = log(4);
    // Rebuild record 2 with different content and a correct own hash, by
    // recording a different event into a chain that is identical up to record 1.
    let sink = MemorySink::new();
    sink.record(&event(0)).unwrap();
    sink.record(&event(7)).unwrap();
    let mut forged = lines.clone();
    forged[1] = sink.lines()[1].clone();
    assert_eq!(broken_at(&forged), (3, AuditBreak::Unchained));
}

#[test]
fn a_deleted_record_is_caught() {
    let mut lines = log(6);
    lines.remove(3);
    assert_eq!(broken_at(&lines), (4, AuditBreak::Dropped));
}

#[test]
fn swapped_records_are_caught() {
    let mut lines = log(6);
    lines.swap(1, 2);
    assert_eq!(broken_at(&lines), (2, AuditBreak::Reordered));
}

#[test]
fn an_inserted_record_is_caught() {
    let mut lines = log(4);
    let dup = lines[1].clone();
    lines.insert(2, dup);
    assert_eq!(broken_at(&lines), (3, AuditBreak::Inserted));
    let mut lines = log(2);
    lines.insert(1, "not json".into());
    assert_eq!(broken_at(&lines), (2, AuditBreak::Malformed));
}

#[test]
fn the_file_sink_appends_and_continues_the_chain_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    {
        let sink = JsonLinesFileSink::open(&path).unwrap();
        sink.record(&event(0)).unwrap();
        sink.record(&event(1)).unwrap();
    }
    {
        let sink = JsonLinesFileSink::open(&path).unwrap();
        sink.record(&event(2)).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.lines().nth(2).unwrap().starts_with("{\"seq\":3,"));
    assert_eq!(verify_audit_log(text.as_bytes()).unwrap(), 3);
    // A partial last line (a crash mid-write) must be repaired before reuse.
    std::fs::write(&path, format!("{text}{{\"seq\":4")).unwrap();
    assert!(matches!(
        JsonLinesFileSink::open(&path),
        Err(AuditError::Broken {
            kind: AuditBreak::Malformed,
            ..
        })
    ));
}

#[test]
fn the_quota_replay_and_audit_verify_accept_the_same_logs() {
    let lines = log(4);
    let text = lines.join("\n");
    let cases = [
        String::new(),
        "\n".into(),
        "\n\n".into(),
        format!("{text}\n"),
        format!("{text}\n\n"),
        format!("\n{text}"),
        text.clone(),
    ];
    for log in &cases {
        let verified = verify_audit_log(log.as_bytes());
        let replayed = TokenBucket::default().restore_from_audit(log.as_bytes());
        assert_eq!(verified.is_ok(), replayed.is_ok(), "{log:?}");
    }
    // A blank line is not a record: both refuse it, the replay included.
    assert!(TokenBucket::default()
        .restore_from_audit(&b"\n"[..])
        .is_err());
    // The allowed records (even ones) are the attempts replayed.
    assert_eq!(
        TokenBucket::default()
            .restore_from_audit(text.as_bytes())
            .unwrap(),
        2
    );
}
