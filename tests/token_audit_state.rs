//! The state file beside a JSON-lines audit log: reopening a long log reads only
//! its tail, and a state file that does not match the log is never trusted.

use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    verify_audit_log, AuditChain, AuditError, AuditEvent, AuditSink, DenialReason, Grant, GrantId,
    GrantSpec, IssuerKey, JsonLinesFileSink, Limit, Outcome, Purpose, RateLimiter, RestoredFrom,
    Scope, TokenBucket,
};

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
}

/// A grant allowing 4 uses.
fn grant() -> Grant {
    IssuerKey::generate()
        .issue(&GrantSpec::new(
            "C-7",
            vec![755021],
            t0(),
            t0() + Duration::days(30),
            4,
        ))
        .unwrap()
}

/// Attempt `i`: allowed for `g` when `used` says so, else denied garbage from
/// one of many couriers.
fn event(i: u32, g: &Grant, used: bool) -> AuditEvent {
    let (courier, grant_id, outcome, scope) = if used {
        (
            g.courier_id().to_owned(),
            g.id(),
            Outcome::Allowed,
            Some(Scope::DELIVERY),
        )
    } else {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&i.to_be_bytes());
        (
            format!("C-{}", 100 + i % 500),
            GrantId::from_bytes(id),
            Outcome::Denied(DenialReason::BadSignature),
            None,
        )
    };
    let event = AuditEvent::new(
        t0() + Duration::seconds(i64::from(i / 16)),
        Purpose::Delivery,
        outcome,
    )
    .with_tracking_number(format!("SF{i:013}"))
    .with_grant(courier, grant_id);
    match scope {
        Some(scope) => event.with_scope(scope),
        None => event,
    }
}

/// Writes a log of `n` records, three of them uses of `g`.
fn write_log(path: &Path, n: u32, g: &Grant) {
    let mut chain = AuditChain::new();
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&chain.next_line(&event(i, g, i % (n / 3) == 1)));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn state_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    name.into()
}

/// Opens the log with a fresh limiter and returns where its counters came
/// from and how many more uses of `g` it allows (at most 4).
fn open(log: &Path, g: &Grant) -> Result<(RestoredFrom, u32), AuditError> {
    let limiter = TokenBucket::new(10, 60);
    let (sink, from) = JsonLinesFileSink::open_with_limiter(log, &limiter)?;
    drop(sink);
    let now = g.not_before() + 3600;
    let left = (0..4)
        .take_while(|k| match limiter.acquire(g, now + k * 60) {
            Ok(()) => true,
            Err(Limit::Quota) => false,
            Err(other) => panic!("{other:?}"),
        })
        .count();
    Ok((from, left as u32))
}

/// Flips one digit inside the first record's tracking number: same length, so
/// only a reader of the whole log can tell.
fn edit_first_record(log: &Path) {
    let mut bytes = std::fs::read(log).unwrap();
    let at = bytes.windows(4).position(|w| w == b"SF00").unwrap() + 4;
    bytes[at] = b'9';
    std::fs::write(log, bytes).unwrap();
}

#[test]
fn a_300k_record_log_reopens_from_its_state_file_without_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let g = grant();
    write_log(&log, 300_000, &g);
    // No state file yet: the log is verified and replayed, and the file written.
    assert_eq!(open(&log, &g).unwrap(), (RestoredFrom::FullReplay, 1));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state_path(&log))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(open(&log, &g).unwrap(), (RestoredFrom::StateFile, 1));
    // An edit far from the tail goes unseen on open: the log was not read whole.
    edit_first_record(&log);
    assert_eq!(open(&log, &g).unwrap(), (RestoredFrom::StateFile, 1));
    assert!(verify_audit_log(
        std::fs::File::open(&log)
            .map(std::io::BufReader::new)
            .unwrap()
    )
    .is_err());
    // Without the state file the whole log is checked again, and refused.
    std::fs::remove_file(state_path(&log)).unwrap();
    assert!(matches!(
        open(&log, &g),
        Err(AuditError::Broken { line: 1, .. })
    ));
}

#[test]
fn a_stale_or_forged_state_file_is_ignored_and_the_log_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let g = grant();
    write_log(&log, 30, &g);
    assert_eq!(open(&log, &g).unwrap(), (RestoredFrom::FullReplay, 1));
    let stale = std::fs::read(state_path(&log)).unwrap();
    // One more use of the grant, counted in the state file as it is appended.
    {
        let limiter = TokenBucket::new(10, 60);
        let (sink, from) = JsonLinesFileSink::open_with_limiter(&log, &limiter).unwrap();
        assert_eq!(from, RestoredFrom::StateFile);
        sink.record(&event(40, &g, true)).unwrap();
        sink.save_state().unwrap();
    }
    assert_eq!(open(&log, &g).unwrap(), (RestoredFrom::StateFile, 0));
    let fresh = std::fs::read_to_string(state_path(&log)).unwrap();
    // Stale (from before the last record): replayed, and the count is right.
    std::fs::write(state_path(&log), &stale).unwrap();
    assert_eq!(open(&log, &g).unwrap(), (RestoredFrom::FullReplay, 0));
    assert_eq!(std::fs::read_to_string(state_path(&log)).unwrap(), fresh);
    // Forged: the grant's count zeroed, with a head that is not the log's; a
    // wrong length; another limiter's rate; not JSON at all.
    let head = fresh.split("\"hash\":\"").nth(1).unwrap()[..64].to_owned();
    let forged = [
        fresh.replace(&head, &"0".repeat(64)).replace(",4,", ",0,"),
        fresh.replace("\"log_len\":", "\"log_len\":1"),
        fresh.replace("\"burst\":10", "\"burst\":11"),
        "{".into(),
    ];
    for text in forged {
        assert_ne!(text, fresh);
        std::fs::write(state_path(&log), text).unwrap();
        assert_eq!(open(&log, &g).unwrap(), (RestoredFrom::FullReplay, 0));
    }
    // An empty log has nothing to restore.
    let empty = dir.path().join("empty.jsonl");
    assert_eq!(open(&empty, &g).unwrap(), (RestoredFrom::Nothing, 4));
    assert!(!state_path(&empty).exists());
}
