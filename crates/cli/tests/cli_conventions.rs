//! The command's conventions: exit codes (0 success, 1 some records failed, 2
//! usage, 3 denied), `--input -`, `--quiet`, shell completions and the man
//! page, and that no bad input makes any command panic (exit 101).

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json");

fn cmd() -> Command {
    Command::cargo_bin("waybill-redact").unwrap()
}

fn run(args: &[&str]) -> Output {
    cmd().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A key ring, an issuer key (and its public key) and a device key in `dir`.
fn keys(dir: &Path) -> (String, String, String) {
    let ring = dir.join("ring.json");
    let issuer = dir.join("issuer.json");
    let device = dir.join("device.json");
    assert!(run(&["keys", "new", "--out", p(&ring)]).status.success());
    let issuer_pub = run(&["issuer", "new", "--out", p(&issuer)]);
    assert!(issuer_pub.status.success());
    let device_pub = run(&["courier", "keygen", "--out", p(&device)]);
    assert!(device_pub.status.success());
    (
        p(&ring).to_owned(),
        String::from_utf8(issuer_pub.stdout)
            .unwrap()
            .trim()
            .to_owned(),
        String::from_utf8(device_pub.stdout)
            .unwrap()
            .trim()
            .to_owned(),
    )
}

#[test]
fn usage_errors_found_after_parsing_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, _, _) = keys(dir.path());
    let existing = dir.path().join("existing.pdf");
    std::fs::write(&existing, b"not ours").unwrap();
    let render = |extra: &[&str]| {
        let mut args = vec!["render", "--input", FIXTURES, "--ring", &ring];
        args.extend_from_slice(extra);
        run(&args)
    };
    for (extra, says) in [
        (
            &["--single-file", "--out", "-"][..],
            "needs --format zpl or pdf",
        ),
        (&["--out", "-"][..], "add --single-file"),
        (&["--out", p(&existing)][..], "is a file"),
    ] {
        let o = render(extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{extra:?}: {}", stderr(&o));
    }
    // Found by clap: 2 as well.
    assert_eq!(run(&["render", "--dpi", "1000"]).status.code(), Some(2));
    assert_eq!(std::fs::read(&existing).unwrap(), b"not ours");
}

#[test]
fn a_missing_input_file_is_a_usage_error_and_failed_records_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, _, _) = keys(dir.path());
    let missing = dir.path().join("missing.json");
    for args in [
        vec!["mask", "--input", p(&missing)],
        vec!["seal", "--ring", &ring, "--input", p(&missing)],
        vec![
            "render",
            "--ring",
            &ring,
            "--input",
            p(&missing),
            "--out",
            "out",
        ],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("missing.json"), "{}", stderr(&o));
    }
    // One good record, one bad: 1.
    let o = cmd()
        .args(["mask", "--input", "-"])
        .write_stdin(
            "{\"tracking_number\":\"SF1234567890123\",\"zone\":1,\"recipient\":{\"name\":\"张三\",\"phone\":\"13812345678\",\"address\":\"北京市朝阳区建国路88号\"}}\n{\"zone\":1}\n",
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn input_dash_is_standard_input() {
    let text = std::fs::read_to_string(FIXTURES).unwrap();
    let from_file = run(&["mask", "--input", FIXTURES]);
    let from_stdin = cmd()
        .args(["mask", "--input", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(from_stdin.status.success(), "{}", stderr(&from_stdin));
    assert!(!from_stdin.stdout.is_empty());
    assert_eq!(from_stdin.stdout, from_file.stdout);
}

#[test]
fn quiet_drops_the_warnings() {
    let loud = run(&["mask", "--input", FIXTURES]);
    let quiet = run(&["--quiet", "mask", "--input", FIXTURES]);
    assert!(loud.status.success() && quiet.status.success());
    assert!(stderr(&loud).contains("warning"), "{}", stderr(&loud));
    assert!(!stderr(&quiet).contains("warning"), "{}", stderr(&quiet));
    assert_eq!(loud.stdout, quiet.stdout);
}

#[test]
fn help_documents_exit_codes_and_examples() {
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    for code in [
        "0  success",
        "1  some records failed",
        "2  usage error",
        "3  resolve denied",
    ] {
        assert!(help.contains(code), "{help}");
    }
    for command in ["render", "seal", "grant"] {
        let help = String::from_utf8(run(&[command, "--help"]).stdout).unwrap();
        assert!(help.contains("Examples:"), "{command}: {help}");
        assert!(
            help.contains(&format!("waybill-redact {command} ")),
            "{help}"
        );
    }
    let render = String::from_utf8(run(&["render", "--help"]).stdout).unwrap();
    assert!(render.contains("150 to 600"), "{render}");
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(script.contains("waybill-redact"), "{shell}");
        assert!(script.contains("render"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
    let man = run(&["man"]);
    assert!(man.status.success());
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(man.starts_with(".ie") || man.contains(".TH"), "{man}");
    assert!(man.contains("waybill\\-redact"), "{man}");
}

#[test]
fn keys_of_the_wrong_kind_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, issuer_pub, device_pub) = keys(dir.path());
    let issuer = dir.path().join("issuer.json");
    let o = run(&[
        "grant",
        "--issuer",
        p(&issuer),
        "--courier",
        "C-1",
        "--zones",
        "755021",
        "--device-key",
        &issuer_pub,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("expected a device key (WD1:…), got an issuer key (WI1:…)"),
        "{}",
        stderr(&o)
    );
    // The same mistake through a file.
    let file = dir.path().join("device.pub");
    std::fs::write(&file, &issuer_pub).unwrap();
    let o = run(&[
        "grant",
        "--issuer",
        p(&issuer),
        "--courier",
        "C-1",
        "--zones",
        "755021",
        "--device-key",
        p(&file),
    ]);
    assert!(
        stderr(&o).contains("got an issuer key (WI1:…) in"),
        "{}",
        stderr(&o)
    );
    // A device key where the audit key goes.
    let log = dir.path().join("audit.jsonl");
    std::fs::write(&log, "").unwrap();
    let o = run(&["audit", "verify", "--key", &device_pub, p(&log)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("expected an audit key (WA1:…), got a device key"),
        "{}",
        stderr(&o)
    );
    // An issuer key file where an audit key is read: says audit key, not issuer.
    let o = run(&["audit", "verify", "--key", p(&issuer), p(&log)]);
    assert_ne!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("issuer key:"), "{}", stderr(&o));
}

#[test]
fn keys_new_says_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    let o = run(&["keys", "new", "--out", p(&ring)]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "1");
    assert!(stderr(&o).contains("wrote the key ring"), "{}", stderr(&o));
    assert!(stderr(&o).contains("ring.json"), "{}", stderr(&o));
}

/// The bad inputs, and a few more: each exits with a code of ours.
#[test]
fn no_bad_input_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, issuer_pub, device_pub) = keys(dir.path());
    let issuer = dir.path().join("issuer.json");
    let issuer = p(&issuer);
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, [0xff, 0xfe, 0, 1, 2, b'{', b'[']).unwrap();
    let garbage = p(&garbage);
    // Paths and keys hold no spaces: each case is split on white space.
    let grant = format!("grant --issuer {issuer} --courier C-1 --zones 755021");
    let render = format!("render --ring {ring}");
    let cases = [
        format!("{grant} --device-key {device_pub} --not-before 9999-12-31T23:30:00Z"),
        format!("{grant} --device-key {device_pub} --not-before 0000-01-01T00:00:00Z"),
        format!("{grant} --device-key {issuer_pub}"),
        format!("grant --issuer {garbage} --courier C-1 --zones 755021 --bearer"),
        format!("seal --ring {garbage} --input {FIXTURES}"),
        format!("{render} --input {garbage} --out - --single-file --format zpl"),
        format!("{render} --input {FIXTURES} --size 0x0"),
        format!("{render} --input {FIXTURES} --logo {garbage} --out -"),
        format!("mask --input {garbage}"),
        format!(
            "resolve --ring {ring} --trust {device_pub} --grant {garbage} --device {garbage} \
             --purpose call WB2:"
        ),
        format!("audit verify {garbage}"),
        format!("audit verify --key WA1:zz {garbage}"),
        format!("sealer register --registry {garbage} --key {issuer_pub}"),
        format!("keys retire --ring {garbage} --kid 1"),
        "courier keygen --out /nonexistent/dir/device.json".to_owned(),
    ];
    for case in &cases {
        let args: Vec<&str> = case.split_whitespace().collect();
        let o = run(&args);
        let code = o.status.code();
        assert!(
            matches!(code, Some(1..=3)),
            "{case} exited {code:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{case}: {}", stderr(&o));
    }
}

/// The long hex strings of a key file: its secrets (and public halves).
fn hex_runs(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|run| run.len() >= 32)
        .map(str::to_owned)
        .collect()
}

#[test]
fn verbose_says_what_every_command_read_and_wrote_and_never_a_value_or_secret() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let (ring, issuer, device, audit) = (
        at("ring.json"),
        at("issuer.json"),
        at("device.json"),
        at("audit.jsonl"),
    );
    let mut secrets = Vec::new();
    // Runs `--verbose ARGS` (the command `name`): it must succeed, and its
    // standard error must say how long it took and each of `says`, and hold
    // no key file's hex. Returns standard output.
    let mut verbose = |name: &str, args: &[&str], says: &[&str]| -> String {
        let mut all = vec!["--verbose"];
        all.extend_from_slice(args);
        let o = run(&all);
        let err = stderr(&o);
        assert!(o.status.success(), "{args:?}: {err}");
        let timed = format!("waybill-redact: {name} finished in ");
        for said in says.iter().copied().chain([timed.as_str()]) {
            assert!(err.contains(said), "{args:?}: no {said:?} in {err}");
        }
        for path in [&ring, &issuer, &device] {
            if path.exists() {
                secrets.extend(hex_runs(path));
            }
        }
        for secret in &secrets {
            assert!(
                !err.contains(secret.as_str()),
                "{args:?}: a key's hex in {err}"
            );
        }
        assert!(!["张三", "13812345678", "深南大道"]
            .iter()
            .any(|v| err.contains(v)));
        String::from_utf8(o.stdout).unwrap()
    };
    verbose(
        "keys new",
        &["keys", "new", "--out", p(&ring)],
        &[&format!("wrote {} (owner-only)", p(&ring))],
    );
    let issuer_pub = verbose(
        "issuer new",
        &["issuer", "new", "--out", p(&issuer)],
        &["wrote "],
    );
    let issuer_pub = issuer_pub.lines().next().unwrap().to_owned();
    let device_pub = verbose(
        "courier keygen",
        &["courier", "keygen", "--out", p(&device)],
        &["wrote "],
    );
    let device_pub = device_pub.lines().next().unwrap().to_owned();
    // Personal data of the first fixture: never on standard error.
    let personal = [
        "张三",
        "13812345678",
        "深南大道",
        "李四",
        "15900001111",
        "奶粉",
    ];
    let no_personal = |text: &str| {
        for value in personal {
            assert!(!text.contains(value), "{value} in {text}");
        }
    };
    let o = run(&["-v", "mask", "--input", FIXTURES]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(&format!("reading waybills from {FIXTURES}")),
        "{err}"
    );
    assert!(err.contains("20 record(s) read, 0 failed"), "{err}");
    no_personal(&err);
    let o = run(&["-v", "seal", "--ring", p(&ring), "--input", FIXTURES]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("key ring ") && err.contains("current 1"),
        "{err}"
    );
    assert!(err.contains("tokens valid for 30 day(s)"), "{err}");
    no_personal(&err);
    let token = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let an_hour_ago = (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let grant = run(&[
        "-v",
        "grant",
        "--issuer",
        p(&issuer),
        "--courier",
        "C-7",
        "--zones",
        "755021",
        "--device-key",
        &device_pub,
        "--not-before",
        &an_hour_ago,
    ]);
    let err = stderr(&grant);
    assert!(grant.status.success(), "{err}");
    let grant_text = String::from_utf8(grant.stdout).unwrap().trim().to_owned();
    assert!(err.contains(&format!("public key {issuer_pub}")), "{err}");
    assert!(err.contains("for courier C-7: zones [755021]"), "{err}");
    assert!(
        err.contains(&format!("bound to device {device_pub}")),
        "{err}"
    );
    assert!(!err.contains(&grant_text), "{err}");
    let grant_file = at("grant.txt");
    std::fs::write(&grant_file, &grant_text).unwrap();
    let o = run(&[
        "-v",
        "resolve",
        "--ring",
        p(&ring),
        "--trust",
        &issuer_pub,
        "--grant",
        p(&grant_file),
        "--device",
        p(&device),
        "--purpose",
        "delivery",
        "--audit",
        p(&audit),
        &token,
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("13812345678"));
    for said in [
        &format!("--trust: issuer public key {issuer_pub}"),
        &format!("public key {device_pub}"),
        "quota and rate counters start empty",
        "resolve for delivery: allowed, disclosing name,phone,address",
        "resolve finished in ",
    ] {
        assert!(err.contains(said), "no {said:?} in {err}");
    }
    assert!(!err.contains(&grant_text) && !err.contains(&token), "{err}");
    no_personal(&err);
    verbose(
        "audit verify",
        &["audit", "verify", p(&audit)],
        &[&format!("audit log {}: ", p(&audit))],
    );
    verbose(
        "audit key-new",
        &["audit", "key-new", "--out", p(&at("audit-key.json"))],
        &["wrote "],
    );
    verbose(
        "sealer new",
        &["sealer", "new", "--out", p(&at("seller.json"))],
        &["wrote "],
    );
    let labels = at("labels");
    verbose(
        "render",
        &[
            "render",
            "--input",
            FIXTURES,
            "--ring",
            p(&ring),
            "--out",
            p(&labels),
        ],
        &[
            "reading waybills from",
            "png labels to the folder",
            "key ring ",
        ],
    );
    verbose("completions", &["completions", "bash"], &[]);
}

/// The light build checks an audit log's chains; checkpoints and witnesses
/// need the `audit-log` feature, and `--key` says so (exit 2).
#[cfg(not(feature = "audit-log"))]
#[test]
fn audit_verify_with_a_key_names_the_feature_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let key = run(&[
        "audit",
        "key-new",
        "--out",
        p(&dir.path().join("audit.json")),
    ]);
    assert!(key.status.success());
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let log = dir.path().join("audit.jsonl");
    std::fs::write(&log, "").unwrap();
    let o = run(&["audit", "verify", "--key", &key, p(&log)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--features audit-log"),
        "{}",
        stderr(&o)
    );
    assert!(run(&["audit", "verify", p(&log)]).status.success());
}
