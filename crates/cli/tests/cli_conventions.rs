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
