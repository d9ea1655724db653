//! Audit logs: verifying arbitrary bytes never panics, a log that verifies has at
//! most one record per line (checkpoint lines are not records), and the quota
//! replay accepts exactly the logs that verify (one parser), replaying no more
//! attempts than there are records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_redact::{verify_audit_log, TokenBucket};

fuzz_target!(|data: &[u8]| {
    let verified = verify_audit_log(data);
    if let Ok(records) = verified {
        let lines = data.split(|&b| b == b'\n').count() - usize::from(data.ends_with(b"\n"));
        let lines = if data.is_empty() { 0 } else { lines };
        assert!(records <= lines as u64);
    }
    let replayed = TokenBucket::default().restore_from_audit(data);
    assert_eq!(replayed.is_ok(), verified.is_ok());
    if let (Ok(replayed), Ok(records)) = (replayed, verified) {
        assert!(replayed <= records);
    }
});
