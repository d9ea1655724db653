//! The token commands end to end, as a carrier's scripts use them.

use std::path::Path;
use std::process::Output;
use std::sync::LazyLock;

use assert_cmd::Command;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// `seal` stamps tokens with the real clock, and the resolver refuses tokens
/// issued in its future: the times given with `--now` follow the real clock.
fn when(offset: Duration) -> String {
    (OffsetDateTime::now_utc() + offset)
        .format(&Rfc3339)
        .unwrap()
}
/// Grants start two hours ago.
static NOT_BEFORE: LazyLock<String> = LazyLock::new(|| when(Duration::hours(-2)));
/// The resolver's time: in one minute.
static NOW: LazyLock<String> = LazyLock::new(|| when(Duration::minutes(1)));
/// A day later: 12-hour grants have expired.
static NEXT_DAY: LazyLock<String> = LazyLock::new(|| when(Duration::hours(24)));

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json");

fn cmd() -> Command {
    Command::cargo_bin("waybill-redact").unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = cmd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Env {
    _dir: tempfile::TempDir,
    ring: std::path::PathBuf,
    issuer: std::path::PathBuf,
    /// The issuer's public key, as a resolver is given it.
    trust: String,
    audit: std::path::PathBuf,
    /// The courier's device key file, and its public key for `grant --device-key`.
    device: std::path::PathBuf,
    device_public: String,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    let issuer = dir.path().join("issuer.json");
    let audit = dir.path().join("audit.jsonl");
    assert_eq!(stdout(&["keys", "new", "--out", p(&ring)]).trim(), "1");
    let public = stdout(&["issuer", "new", "--out", p(&issuer)]);
    assert!(public.starts_with("WI1:") && public.trim().len() == 68);
    let device = dir.path().join("device.json");
    let device_public = stdout(&["courier", "keygen", "--out", p(&device)]);
    assert!(device_public.starts_with("WD1:") && device_public.trim().len() == 68);
    Env {
        _dir: dir,
        ring,
        issuer,
        trust: public.trim().to_owned(),
        audit,
        device,
        device_public: device_public.trim().to_owned(),
    }
}

impl Env {
    /// `resolve` with this ring, issuer and audit log, at `now`.
    fn resolve(&self, grant: &str, purpose: &str, now: &str, token: &str) -> std::process::Output {
        cmd()
            .args([
                "resolve",
                "--ring",
                p(&self.ring),
                "--trust",
                &self.trust,
                "--grant",
                grant,
                "--device",
                p(&self.device),
                "--purpose",
                purpose,
                "--audit",
                p(&self.audit),
                "--now",
                now,
                token,
            ])
            .output()
            .unwrap()
    }
}

/// Issues a grant bound to the courier's device (unless `extra` binds it),
/// writes it to a file as a courier would keep it, and returns the file's path.
fn grant(e: &Env, zones: &str, extra: &[&str]) -> String {
    let text = grant_text(e, zones, extra);
    static ISSUED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = e.ring.with_file_name(format!("grant-{n}.txt"));
    std::fs::write(&file, text).unwrap();
    p(&file).to_owned()
}

fn grant_text(e: &Env, zones: &str, extra: &[&str]) -> String {
    // `--bearer`, or a `--device-key` of the test's own, replaces the default key.
    let own_binding = extra.contains(&"--bearer") || extra.contains(&"--device-key");
    let mut args = vec![
        "grant",
        "--issuer",
        p(&e.issuer),
        "--courier",
        "C-10023",
        "--zones",
        zones,
        "--hours",
        "12",
        "--not-before",
        &NOT_BEFORE,
    ];
    if !own_binding {
        args.extend(["--device-key", &e.device_public]);
    }
    args.extend_from_slice(extra);
    stdout(&args).trim().to_owned()
}

fn seal_all(e: &Env) -> Vec<String> {
    stdout(&["seal", "--ring", p(&e.ring), "--input", FIXTURES])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn seal_grant_resolve_and_verify_the_audit_log() {
    let e = env();
    let tokens = seal_all(&e);
    assert_eq!(tokens.len(), 20);
    let g = grant(&e, "755021,755022", &[]);
    assert!(std::fs::read_to_string(&g).unwrap().starts_with("WG2:"));
    let out = stdout(&[
        "resolve",
        "--ring",
        p(&e.ring),
        "--trust",
        &e.trust,
        "--grant",
        &g,
        "--device",
        p(&e.device),
        "--purpose",
        "delivery",
        "--audit",
        p(&e.audit),
        "--now",
        &NOW,
        &tokens[0],
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["tracking_number"], "SF1234567890123");
    assert_eq!(json["name"], "张三");
    assert_eq!(json["phone"], "13812345678");
    assert!(json["address"]
        .as_str()
        .unwrap()
        .starts_with("广东省深圳市南山区"));
    assert!(json.get("items").is_none());

    // Wrong zone: denied, exit 3, reason on stderr, still audited.
    let denied = e.resolve(&g, "call", &NOW, &tokens[1]);
    assert_eq!(denied.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("zone_not_granted"));
    assert!(denied.stdout.is_empty());

    // Expired grant (checked with --now).
    let late = e.resolve(&g, "delivery", &NEXT_DAY, &tokens[0]);
    assert_eq!(late.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&late.stderr).contains("grant_expired"));

    let ok = stdout(&["audit", "verify", p(&e.audit)]);
    assert!(ok.contains("3 records"), "{ok}");
    let log = std::fs::read_to_string(&e.audit).unwrap();
    assert!(!log.contains("张三") && !log.contains("13812345678"));

    // Delete the middle record: verification fails, naming line 2.
    let lines: Vec<&str> = log.lines().collect();
    std::fs::write(&e.audit, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let broken = cmd()
        .args(["audit", "verify", p(&e.audit)])
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("line 2"));
}

#[test]
fn scope_limits_the_printed_disclosure_and_grants_read_from_standard_input() {
    let e = env();
    let tokens = seal_all(&e);
    let g = grant_text(&e, "755021", &["--scope", "address", "--quota", "1"]);
    let args = [
        "resolve",
        "--ring",
        p(&e.ring),
        "--trust",
        &e.trust,
        "--grant",
        "-",
        "--device",
        p(&e.device),
        "--purpose",
        "delivery",
        "--audit",
        p(&e.audit),
        "--now",
        &NOW,
        &tokens[0],
    ];
    let out = cmd().args(args).write_stdin(g.clone()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("address").is_some());
    assert!(json.get("name").is_none() && json.get("phone").is_none());
    // Quota 1: the audit log carries the use over to the next run.
    let again = cmd().args(args).write_stdin(g).output().unwrap();
    assert_eq!(again.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&again.stderr).contains("quota_exceeded"));
}

/// `resolve` with the grant in `file`, signed by `device` (if any), at `NOW`.
fn resolve_with(e: &Env, file: &str, device: Option<&Path>, extra: &[&str]) -> Output {
    let tokens = seal_all(e);
    let mut c = cmd();
    c.args(["resolve", "--ring", p(&e.ring), "--trust", &e.trust])
        .args(["--grant", file, "--purpose", "delivery", "--now", &NOW])
        .args(extra);
    if let Some(device) = device {
        c.args(["--device", p(device)]);
    }
    c.arg(&tokens[0]).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `grant` for one zone, without its binding or times: the defaults apply.
fn grant_base(e: &Env) -> [&str; 7] {
    let issuer = p(&e.issuer);
    [
        "grant",
        "--issuer",
        issuer,
        "--courier",
        "C-1",
        "--zones",
        "755021",
    ]
}

#[test]
fn a_grant_bound_to_a_device_resolves_only_with_that_device() {
    let e = env();
    let file = grant(&e, "755021", &[]);
    // The defaults fit one shift, and the grant carries the device's key.
    let mut args = grant_base(&e).to_vec();
    args.extend(["--device-key", &e.device_public]);
    let text = stdout(&args);
    let parsed = waybill_redact::Grant::parse(text.trim()).unwrap();
    assert_eq!(parsed.expires_at() - parsed.not_before(), 10 * 3600);
    assert_eq!(parsed.quota(), 300);
    assert_eq!(parsed.device().unwrap().to_string(), e.device_public);

    assert!(resolve_with(&e, &file, Some(&e.device), &[])
        .status
        .success());
    // The grant's text alone (no device signature) resolves nothing.
    let bare = resolve_with(&e, &file, None, &[]);
    assert_eq!(bare.status.code(), Some(3));
    assert!(
        stderr(&bare).contains("device_signature_missing"),
        "{}",
        stderr(&bare)
    );
    // Nor does it with another device's key.
    let thief = e.ring.with_file_name("thief.json");
    stdout(&["courier", "keygen", "--out", p(&thief)]);
    let stolen = resolve_with(&e, &file, Some(&thief), &[]);
    assert_eq!(stolen.status.code(), Some(3));
    assert!(stderr(&stolen).contains("device_signature_invalid"));
    // The device key file serves as --device-key too (its public half is read).
    let from_file = grant_text(&e, "755021", &["--device-key", p(&e.device)]);
    let reparsed = waybill_redact::Grant::parse(&from_file).unwrap();
    assert_eq!(reparsed.device().unwrap().to_string(), e.device_public);
}

#[test]
fn bearer_grants_need_the_resolver_to_allow_them() {
    let e = env();
    let file = grant(&e, "755021", &["--bearer"]);
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("WG1:"));
    let refused = resolve_with(&e, &file, None, &[]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(stderr(&refused).contains("bearer_grant_refused"));
    let allowed = resolve_with(&e, &file, None, &["--allow-bearer-grants"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
}

#[test]
fn grant_text_is_never_taken_from_arguments_nor_echoed() {
    let e = env();
    let text = grant_text(&e, "755021", &[]);
    let out = resolve_with(&e, &text, Some(&e.device), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("/proc/PID/cmdline"), "{err}");
    assert!(!err.contains(&text[4..]), "the grant is echoed: {err}");
    // A grant with a typo is reported without repeating it.
    let typo = format!("{}~{}", &text[..40], &text[41..]);
    let file = e.ring.with_file_name("typo.txt");
    std::fs::write(&file, &typo).unwrap();
    for device in [Some(e.device.as_path()), None] {
        let out = resolve_with(&e, p(&file), device, &[]);
        assert_ne!(out.status.code(), Some(0));
        let err = stderr(&out);
        assert!(err.contains("malformed grant"), "{err}");
        assert!(!err.contains(&typo[4..30]), "the grant is echoed: {err}");
    }
}

#[test]
fn grant_refuses_missing_binding_and_overlong_shifts() {
    let e = env();
    let run = |extra: &[&str]| cmd().args(grant_base(&e)).args(extra).output().unwrap();
    let neither = run(&[]);
    assert_eq!(neither.status.code(), Some(2));
    assert!(stderr(&neither).contains("--device-key") && stderr(&neither).contains("--bearer"));
    let both = run(&["--bearer", "--device-key", &e.device_public]);
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr(&both).contains("exclude each other"));
    let long = run(&["--device-key", &e.device_public, "--hours", "25"]);
    assert_eq!(long.status.code(), Some(2));
    assert!(stderr(&long).contains("--max-hours 24"));
    let configured = run(&[
        "--device-key",
        &e.device_public,
        "--hours",
        "30",
        "--max-hours",
        "48",
    ]);
    assert!(configured.status.success(), "{}", stderr(&configured));
    let bad_key = run(&["--device-key", "WD1:00"]);
    assert_eq!(bad_key.status.code(), Some(2));
    assert!(stdout_of(&bad_key).is_empty());
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rotation_keeps_old_tokens_and_untrusted_issuers_are_denied() {
    let e = env();
    let before = seal_all(&e);
    assert_eq!(
        stdout(&["keys", "rotate", "--ring", p(&e.ring)]).trim(),
        "2"
    );
    let after = seal_all(&e);
    let g = grant(&e, "755021", &[]);
    for token in [&before[0], &after[0]] {
        let out = cmd()
            .args([
                "resolve",
                "--ring",
                p(&e.ring),
                "--trust",
                &e.trust,
                "--grant",
                &g,
                "--device",
                p(&e.device),
                "--purpose",
                "return",
                "--now",
                &NOW,
                token,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let other = e.ring.with_file_name("other.json");
    let other_public = e.ring.with_file_name("other.pub");
    std::fs::write(
        &other_public,
        stdout(&["issuer", "new", "--out", p(&other)]),
    )
    .unwrap();
    // The resolver takes public keys only: the issuer's secret file is refused.
    let out = cmd()
        .args(["resolve", "--ring", p(&e.ring), "--trust", p(&other)])
        .args(["--grant", &g, "--purpose", "delivery", &after[0]])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds the issuer's secret"));
    let out = cmd()
        .args([
            "resolve",
            "--ring",
            p(&e.ring),
            "--trust",
            p(&other_public),
            "--grant",
            &g,
            "--device",
            p(&e.device),
            "--purpose",
            "delivery",
            "--now",
            &NOW,
            &after[0],
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("untrusted_issuer"));
}

#[test]
fn seal_reports_bad_records_and_still_seals_the_others() {
    let e = env();
    let input = e.ring.with_file_name("batch.jsonl");
    let good = r#"{"tracking_number":"SF1234567890123","zone":755021,"recipient":{"name":"张三","phone":"13812345678","address":"广东省深圳市南山区深南大道1号"}}"#;
    let bad = r#"{"tracking_number":"EE471108152CN","zone":1,"recipient":{"name":"李四","phone":"13812345678","address":"北京市朝阳区建国路1号"}}"#;
    std::fs::write(&input, format!("{good}\n{bad}\n{good}\n")).unwrap();
    let out = cmd()
        .args([
            "seal",
            "--ring",
            p(&e.ring),
            "--input",
            p(&input),
            "--ttl-days",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("record 2") && err.contains("EE471108152CN"),
        "{err}"
    );
    assert!(!err.contains("李四"));
}

#[test]
fn usage_errors_exit_2_and_files_are_not_overwritten() {
    let e = env();
    let out = cmd()
        .args(["resolve", "--ring", p(&e.ring)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cmd()
        .args([
            "grant",
            "--issuer",
            p(&e.issuer),
            "--courier",
            "C",
            "--zones",
            "1",
            "--hours",
            "1",
            "--scope",
            "email",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let before = std::fs::read_to_string(&e.ring).unwrap();
    let out = cmd()
        .args(["keys", "new", "--out", p(&e.ring)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&e.ring).unwrap(), before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&e.ring).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "key ring must be owner-only");
    }
}

#[test]
fn revocation_lists_deny_grants_and_parcels() {
    let e = env();
    let tokens = seal_all(&e);
    let g = grant(&e, "755021,571003", &[]);
    let list = e.ring.with_file_name("revoked.txt");
    std::fs::write(&list, "# revoked today\nparcel SF1234567890123\n").unwrap();
    let run = |token: &str| {
        cmd()
            .args([
                "resolve",
                "--ring",
                p(&e.ring),
                "--trust",
                &e.trust,
                "--grant",
                &g,
                "--device",
                p(&e.device),
                "--purpose",
                "delivery",
                "--revoked",
                p(&list),
                "--now",
                &NOW,
                token,
            ])
            .output()
            .unwrap()
    };
    let out = run(&tokens[0]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("parcel_revoked"));
    assert!(run(&tokens[1]).status.success());
    std::fs::write(
        &list,
        "grant 00000000000000000000000000000000\nbogus line\n",
    )
    .unwrap();
    assert_eq!(run(&tokens[1]).status.code(), Some(1));
}

#[test]
fn quota_holds_across_runs_through_the_state_file_beside_the_log() {
    let e = env();
    let tokens = seal_all(&e);
    let g = grant(&e, "755021", &["--quota", "2"]);
    let head = e.audit.with_file_name("audit.jsonl.head");
    let resolve = || e.resolve(&g, "delivery", &NOW, &tokens[0]);
    let quota_exceeded = |out: std::process::Output| {
        out.status.code() == Some(3)
            && String::from_utf8_lossy(&out.stderr).contains("quota_exceeded")
    };
    assert!(resolve().status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&head).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let stale = std::fs::read(&head).unwrap();
    assert!(resolve().status.success());
    assert!(quota_exceeded(resolve()));
    // A stale state file (from before the second use) is ignored: the log is
    // replayed and the quota still holds; so with a damaged one.
    std::fs::write(&head, &stale).unwrap();
    assert!(quota_exceeded(resolve()));
    assert_ne!(std::fs::read(&head).unwrap(), stale);
    std::fs::write(&head, "{\"version\":1}").unwrap();
    assert!(quota_exceeded(resolve()));
    // With a matching state file a run reads only the log's tail: an edit of the
    // first record (same length) goes unseen by resolve, but not by audit verify,
    // nor by a run that must replay the log.
    let log = std::fs::read_to_string(&e.audit).unwrap();
    let first = log.lines().next().unwrap();
    let edited = first.replacen("\"delivery\"", "\"return__\"", 1);
    assert_ne!(edited, first);
    std::fs::write(&e.audit, log.replacen(first, &edited, 1)).unwrap();
    assert!(quota_exceeded(resolve()));
    let verify = cmd()
        .args(["audit", "verify", p(&e.audit)])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(1));
    std::fs::remove_file(&head).unwrap();
    let replayed = resolve();
    assert_eq!(replayed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&replayed.stderr).contains("line 1"));
}

// The log is written with checkpoints, which `audit verify --key` reads only
// with the `audit-log` feature.
#[cfg(feature = "audit-log")]
#[test]
fn audit_verify_reads_every_record_kind() {
    use waybill_redact::{AuditChain, AuditEvent, AuditKey, AuditTree, GrantId, Outcome, Purpose};
    let dir = tempfile::tempdir().unwrap();
    let t = |s: i64| OffsetDateTime::from_unix_timestamp(1_795_831_200 + s).unwrap();
    let grant = GrantId::from_bytes([7; 16]);
    let mut chain = AuditChain::for_instance("i-1");
    let records: Vec<_> = [
        AuditEvent::new(t(0), Purpose::Delivery, Outcome::Allowed)
            .with_grant("C-1", grant)
            .with_sealer("e43f2dc1".parse().unwrap()),
        AuditEvent::revocation(t(1), &waybill_redact::Revocation::Grant(grant), false),
        AuditEvent::revocation(t(2), &waybill_redact::Revocation::Grant(grant), true),
        AuditEvent::suppressed(t(3), "2001:db8:1:2::/64", 12),
        AuditEvent::undelivered(t(4), 1).with_grant("C-1", grant),
    ]
    .iter()
    .map(|e| chain.append(e))
    .collect();
    let key = AuditKey::generate();
    let mut tree = AuditTree::new();
    let mut log: String = records.iter().map(|r| r.to_json_line() + "\n").collect();
    for r in &records {
        tree.push(r);
    }
    let cp = key
        .sign_checkpoint(
            &waybill_redact::audit_origin("i-1"),
            tree.size(),
            tree.root(),
        )
        .unwrap();
    log.push_str(&(cp.to_json_line() + "\n"));
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, &log).unwrap();
    let public = key.public_key().to_string();
    let ok = stdout(&["audit", "verify", "--key", &public, p(&path)]);
    assert!(ok.contains("5 records"), "{ok}");

    // A second "not delivered" for the same answer: refused at its line.
    let again = chain.append(&AuditEvent::undelivered(t(5), 1));
    std::fs::write(&path, format!("{log}{}\n", again.to_json_line())).unwrap();
    let out = cmd().args(["audit", "verify", p(&path)]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 7") && err.contains("undelivered"),
        "{err}"
    );
}

#[test]
fn a_malformed_grant_is_denied_and_audited_as_malformed_grant() {
    let e = env();
    let tokens = seal_all(&e);
    let file = e.ring.with_file_name("garbage-grant.txt");
    std::fs::write(&file, "WG2:NOT A GRANT").unwrap();
    // With a device key too: the proof cannot be made, the attempt is still audited.
    let out = e.resolve(p(&file), "delivery", &NOW, &tokens[0]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("malformed_grant"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("NOT A GRANT"));
    let log = std::fs::read_to_string(&e.audit).unwrap();
    let record: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(record["outcome"], "denied");
    assert_eq!(record["reason"], "malformed_grant");
    assert_eq!(record["grant"], serde_json::Value::Null);
}
